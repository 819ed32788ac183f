"""Delivery benchmark: alert fan-out through a rate-limited notifier, and daily-digest build time.

1. One hourly alert run fans two important stories out to 10,000 destinations (20,000 outbox
   rows). A no-op notifier gives ainews's own cost per delivery (claim + send call + mark), the
   baseline; then a notifier that enforces the platform's limits — 1 message/s per destination and
   a global rate that it paces itself to, as the SDK clients do — gives the achieved rate as a
   fraction of the allowed one. Rows are reset to pending between the two runs.
2. Daily digest build (`bot.digests.digest_for`) on a store holding N articles over a year
   (100,000 by default, 1,000,000 with --full), on SQLite and PostgreSQL, against the same day's
   articles alone in an otherwise empty store (the baseline): the ratio shows whether indexes keep
   the window query independent of the store's size.

    .venv/bin/python bench/delivery.py [--full] [--destinations N] [--rate R] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import update  # noqa: E402

from bot.alerts import enqueue_alerts  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.delivery import Outbox  # noqa: E402
from bot.digests import digest_for, enqueue_due_digests  # noqa: E402
from bot.errors import DeliveryError  # noqa: E402
from bot.ports import SentMessage  # noqa: E402
from bot.runtime import StoreOnlyContext  # noqa: E402
from bot.store.db import Database, upgrade_sync  # noqa: E402
from bot.store.schema import Delivery  # noqa: E402

RESULTS = REPO / "bench" / "RESULTS.md"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TAGS = ("llm", "agents", "open-source", "research", "safety", "multimodal", "coding", "robotics")
DAYS = 365
SOURCES = 50


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


# --------------------------------------------------------------------------- notifiers


class NoopNotifier:
    platform = "console"

    async def send(
        self, workspace: str, channel: str, payload: dict[str, Any], nonce: str
    ) -> SentMessage:
        return SentMessage(platform_message_id=nonce)


@dataclass
class RateLimitedNotifier:
    """A platform with a per-destination limit (rejects with Retry-After, like a 429) and a
    global rate the client paces itself to (a token bucket, like slack_sdk/discord.py do)."""

    rate: float
    per_destination_interval: float = 1.0
    platform: str = "console"
    burst: float = 20.0
    sent: int = 0
    violations: int = 0
    last_sent: dict[str, float] = field(default_factory=dict)
    _tokens: float = 0.0
    _updated: float = field(default_factory=time.perf_counter)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(
        self, workspace: str, channel: str, payload: dict[str, Any], nonce: str
    ) -> SentMessage:
        async with self._lock:
            while True:
                now = time.perf_counter()
                self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    break
                await asyncio.sleep((1 - self._tokens) / self.rate)
        now = time.perf_counter()
        previous = self.last_sent.get(channel)
        if previous is not None and now - previous < self.per_destination_interval:
            self.violations += 1
            raise DeliveryError("per-destination limit", retry_after=self.per_destination_interval)
        self.last_sent[channel] = now
        self.sent += 1
        return SentMessage(platform_message_id=nonce)


# --------------------------------------------------------------------------- fan-out


@dataclass
class FixedClock:
    moment: datetime

    def now(self) -> datetime:
        return self.moment


def seed_fanout(url: str, destinations: int, stories: int) -> None:
    """Destinations plus `stories` important, non-backlog stories published an hour ago."""
    upgrade_sync(url)
    published = NOW - timedelta(hours=1)
    channels = [
        {"platform": "console", "workspace": "bench", "channel": f"C{i:06d}"}
        for i in range(destinations)
    ]
    from sqlalchemy import create_engine, insert

    from bot.store.db import sync_url
    from bot.store.schema import ArticleRow, Channel, EnrichmentRow, Source, Story

    engine = create_engine(sync_url(url))
    with engine.begin() as conn:
        conn.execute(insert(Source), [{"name": "Wire", "url": "https://bench.invalid/feed"}])
        for n in range(1, stories + 1):
            conn.execute(
                insert(Story),
                [{"id": n, "title": f"Big story {n}", "fingerprint": str(n),
                  "first_seen_at": published}],
            )  # fmt: skip
            conn.execute(
                insert(ArticleRow),
                [{"id": n, "source_id": 1, "story_id": n, "identity": str(n),
                  "title": f"Big story {n}", "url": f"https://bench.invalid/{n}",
                  "published_at": published, "fetched_at": published}],
            )  # fmt: skip
            conn.execute(
                insert(EnrichmentRow),
                [{"article_id": n, "tldr": "Why it matters.", "tags": ["llm"], "depth": 5,
                  "relevance": 5, "practicality": 5, "innovation": 5, "importance": 5,
                  "engine": "offline"}],
            )  # fmt: skip
        conn.execute(insert(Channel), channels)
    engine.dispose()


async def fanout(url: str, destinations: int, stories: int, rate: float) -> dict[str, Any]:
    seed_fanout(url, destinations, stories)
    settings = Settings.model_validate(
        {"database": {"url": url}, "delivery": {"batch_size": 200, "lease_seconds": 300}}
    )

    class Clock:
        def now(self) -> datetime:
            return NOW + timedelta(seconds=time.perf_counter() - started)

    started = time.perf_counter()
    ctx = StoreOnlyContext(settings=settings, db=Database(url), clock=Clock())
    try:
        t0 = time.perf_counter()
        queued = await enqueue_alerts(ctx)
        enqueue_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        baseline = await Outbox(ctx, {"console": NoopNotifier()}).deliver_due()
        noop_s = time.perf_counter() - t0

        async with ctx.db.session() as session:
            await session.execute(
                update(Delivery).values(
                    status="pending", attempts=0, sent_at=None, platform_message_id=None,
                    next_attempt_at=ctx.clock.now(),
                )
            )  # fmt: skip
        notifier = RateLimitedNotifier(rate=rate)
        t0 = time.perf_counter()
        report = await Outbox(ctx, {"console": notifier}).deliver_due()
        # rows the limit pushed back are due later: keep working until all are out
        while report.sent < queued and time.perf_counter() - t0 < 600:
            await asyncio.sleep(0.05)
            more = await Outbox(ctx, {"console": notifier}).deliver_due()
            report.add(more)
        limited_s = time.perf_counter() - t0

        # the next evening in Tokyo, every channel is owed yesterday's daily digest
        ctx.clock = FixedClock(NOW + timedelta(days=1))
        t0 = time.perf_counter()
        digests_queued = await enqueue_due_digests(ctx)
        digests_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        await enqueue_due_digests(ctx)
        digest_check_s = time.perf_counter() - t0
    finally:
        await ctx.db.dispose()
    allowed = min(rate, destinations / notifier.per_destination_interval)
    achieved = report.sent / limited_s
    return {
        "destinations": destinations,
        "deliveries": queued,
        "enqueue_s": enqueue_s,
        "noop_s": noop_s,
        "noop_sent": baseline.sent,
        "overhead_ms": noop_s / max(1, baseline.sent) * 1000,
        "limited_s": limited_s,
        "limited_sent": report.sent,
        "allowed_rate": allowed,
        "achieved_rate": achieved,
        "fraction": achieved / allowed,
        "violations": notifier.violations,
        "digests_queued": digests_queued,
        "digests_s": digests_s,
        "digest_check_s": digest_check_s,
    }


# --------------------------------------------------------------------------- digest build


def _article_rows(articles: int, only_day: date | None) -> Any:
    """(story, article, enrichment) tuples spread over a year before NOW, deterministic."""
    step = timedelta(days=DAYS) / max(1, articles)
    for n in range(1, articles + 1):
        published = NOW - step * n
        if only_day is not None and published.date() != only_day:
            continue
        title = f"Model release {n}: a new open LLM for agents and coding"
        tags = [TAGS[n % len(TAGS)], TAGS[(n // 7) % len(TAGS)]]
        yield n, published, title, tags, 1 + (n * 7919) % 5


def seed_sqlite(path: Path, articles: int, only_day: date | None) -> None:
    upgrade_sync(f"sqlite:///{path}")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    now = _stamp(NOW)
    conn.executemany(
        "INSERT INTO sources (id, name, url, kind, lang, weight, next_check_at, error_count,"
        " disabled, polled_once, created_at) VALUES (?, ?, ?, 'feed', 'en', 1.0, ?, 0, 0, 1, ?)",
        [(i, f"Source {i}", f"https://bench.invalid/{i}", now, now) for i in range(1, SOURCES + 1)],
    )
    batch: dict[str, list[tuple[Any, ...]]] = defaultdict(list)

    def flush() -> None:
        conn.executemany(
            "INSERT INTO stories (id, title, fingerprint, source_count, first_seen_at,"
            " updated_at) VALUES (?, ?, ?, 1, ?, ?)",
            batch["stories"],
        )
        conn.executemany(
            "INSERT INTO articles (id, source_id, story_id, identity, guid, url, canonical_url,"
            " title, content, author, lang, published_at, dated, fetched_at, content_hash,"
            " reading_minutes, full_text, is_backlog, enrich_status, enrich_attempts)"
            " VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, '', 'en', ?, 1, ?, '', 2, 0, 0, 'done', 1)",
            batch["articles"],
        )
        conn.executemany(
            "INSERT INTO enrichments (article_id, tldr, key_points, tags, depth, relevance,"
            " practicality, innovation, reasons, importance, lang, title_translated, impact,"
            " editorial, engine, model, prompt_version, content_hash, tokens_in, tokens_out,"
            " cost_usd, note, created_at) VALUES (?, ?, '[]', ?, ?, ?, ?, ?, '{}', ?, 'en',"
            " '', '', '', 'offline', '', 'v1', '', 0, 0, 0.0, '', ?)",
            batch["enrichments"],
        )
        conn.commit()
        batch.clear()

    for n, published, title, tags, importance in _article_rows(articles, only_day):
        stamp = _stamp(published)
        url = f"https://news.invalid/{n}"
        batch["stories"].append((n, title, hashlib.md5(title.encode()).hexdigest(), stamp, stamp))
        batch["articles"].append(
            (n, 1 + n % SOURCES, n, f"{n:064x}", url, url, title, f"{title}. Body.", stamp, stamp)
        )
        batch["enrichments"].append(
            (n, f"TL;DR {n}", json.dumps(tags), importance, importance, importance, importance,
             importance, stamp)
        )  # fmt: skip
        if len(batch["articles"]) >= 50_000:
            flush()
    flush()
    conn.execute("ANALYZE")
    conn.close()


def seed_postgres(url: str, articles: int, only_day: date | None) -> None:
    """COPY in bulk: the fastest way PostgreSQL offers to load a million rows."""
    import psycopg
    from sqlalchemy.engine import make_url

    upgrade_sync(url)
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        now = NOW.isoformat()
        with cur.copy(
            "COPY sources (id, name, url, kind, lang, weight, next_check_at, error_count,"
            " disabled, polled_once, created_at) FROM STDIN"
        ) as copy:
            for i in range(1, SOURCES + 1):
                copy.write_row(
                    (i, f"Source {i}", f"https://bench.invalid/{i}", "feed", "en", 1.0, now, 0,
                     False, True, now)
                )  # fmt: skip
        rows = list(_article_rows(articles, only_day))
        with cur.copy(
            "COPY stories (id, title, fingerprint, source_count, first_seen_at, updated_at)"
            " FROM STDIN"
        ) as copy:
            for n, published, title, _, _ in rows:
                fingerprint = hashlib.md5(title.encode()).hexdigest()
                copy.write_row((n, title, fingerprint, 1, published, published))
        with cur.copy(
            "COPY articles (id, source_id, story_id, identity, guid, url, canonical_url, title,"
            " content, author, lang, published_at, dated, fetched_at, content_hash,"
            " reading_minutes, full_text, is_backlog, enrich_status, enrich_attempts) FROM STDIN"
        ) as copy:
            for n, published, title, _, _ in rows:
                url_n = f"https://news.invalid/{n}"
                copy.write_row(
                    (n, 1 + n % SOURCES, n, f"{n:064x}", "", url_n, url_n, title,
                     f"{title}. Body.", "", "en", published, True, published, "", 2, False,
                     False, "done", 1)
                )  # fmt: skip
        with cur.copy(
            "COPY enrichments (article_id, tldr, key_points, tags, depth, relevance,"
            " practicality, innovation, reasons, importance, lang, title_translated, impact,"
            " editorial, engine, model, prompt_version, content_hash, tokens_in, tokens_out,"
            " cost_usd, note, created_at) FROM STDIN"
        ) as copy:
            for n, published, _, tags, imp in rows:
                copy.write_row(
                    (n, f"TL;DR {n}", "[]", json.dumps(tags), imp, imp, imp, imp, "{}", imp,
                     "en", "", "", "", "offline", "", "v1", "", 0, 0, 0.0, "", published)
                )  # fmt: skip
        conn.commit()
        for table in ("sources", "stories", "articles", "enrichments"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        cur.execute("ANALYZE")


async def time_digest(url: str, day: date, repeats: int = 5) -> tuple[float, int]:
    settings = Settings.model_validate({"database": {"url": url}, "digest": {"timezone": "UTC"}})
    ctx = StoreOnlyContext(settings=settings, db=Database(url))
    samples = []
    try:
        digest = await digest_for(ctx, "daily", day=day)  # warm-up
        for _ in range(repeats):
            t0 = time.perf_counter()
            digest = await digest_for(ctx, "daily", day=day)
            samples.append(time.perf_counter() - t0)
    finally:
        await ctx.db.dispose()
    assert digest.items
    return statistics.median(samples), len(digest.items)


def day_articles(articles: int, day: date) -> int:
    return sum(1 for _ in _article_rows(articles, day))


def sqlite_plan(path: Path, day: date) -> str:
    conn = sqlite3.connect(path)
    start, end = (
        _stamp(datetime.combine(day, datetime.min.time(), UTC)),
        _stamp(datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)),
    )
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM articles WHERE published_at >= ? AND published_at < ?",
        (start, end),
    ).fetchall()
    conn.close()
    return "; ".join(str(row[-1]) for row in plan)


class PostgresScratch:
    """A throw-away database on the server named by the admin URL."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy.engine import make_url

        self.admin = make_url(admin_url)
        self.name = f"ainews_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.url = self.admin.set(database=self.name).render_as_string(hide_password=False)

    def _conninfo(self) -> str:
        return self.admin.set(drivername="postgresql").render_as_string(hide_password=False)

    def __enter__(self) -> str:
        import psycopg

        with psycopg.connect(self._conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def __exit__(self, *exc: object) -> None:
        import psycopg

        with psycopg.connect(self._conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


async def digest_bench(
    backend: str, articles: int, scratch: Path, admin: str | None
) -> dict[str, Any]:
    day = (NOW - timedelta(days=30)).date()
    out: dict[str, Any] = {"backend": backend, "articles": articles, "day": day}
    if backend == "sqlite":
        big, small = scratch / "big.db", scratch / "small.db"
        t0 = time.perf_counter()
        seed_sqlite(big, articles, None)
        out["seed_s"] = time.perf_counter() - t0
        seed_sqlite(small, articles, day)
        out["plan"] = sqlite_plan(big, day)
        out["big_s"], out["items"] = await time_digest(f"sqlite:///{big}", day)
        out["small_s"], _ = await time_digest(f"sqlite:///{small}", day)
    else:
        assert admin is not None
        with PostgresScratch(admin) as big_url, PostgresScratch(admin) as small_url:
            t0 = time.perf_counter()
            seed_postgres(big_url, articles, None)
            out["seed_s"] = time.perf_counter() - t0
            seed_postgres(small_url, articles, day)
            out["big_s"], out["items"] = await time_digest(big_url, day)
            out["small_s"], _ = await time_digest(small_url, day)
    out["day_articles"] = day_articles(articles, day)
    return out


# --------------------------------------------------------------------------- report


def postgres_admin(explicit: str | None) -> str | None:
    url = (
        explicit
        or os.environ.get("AINEWS_TEST_POSTGRES_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    try:
        import psycopg
        from sqlalchemy.engine import make_url

        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, connect_timeout=3):
            return url
    except Exception as error:
        print(f"PostgreSQL unavailable ({error}); skipping it", file=sys.stderr)
        return None


def report(fan: dict[str, Any], digests: list[dict[str, Any]], command: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## delivery — alert fan-out and daily-digest build ({stamp})",
        "",
        f"`{command}` on {platform.machine()} / {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}.",
        "",
        f"**Fan-out** (SQLite file): one alert run, {fan['deliveries']:,} rows "
        f"({fan['deliveries'] // fan['destinations']} stories × {fan['destinations']:,} "
        "destinations), 4 worker lanes × batches of 200.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| enqueue (alert run: select + ON CONFLICT insert) | {fan['enqueue_s']:.2f} s |",
        f"| baseline: no-op notifier, {fan['noop_sent']:,} sent | {fan['noop_s']:.2f} s → "
        f"**{fan['overhead_ms']:.3f} ms ainews overhead per delivery** (target < 1 ms) |",
        f"| rate-limited notifier: allowed {fan['allowed_rate']:,.0f} msg/s "
        f"(global pacing; 1 msg/s per destination) | {fan['limited_sent']:,} sent in "
        f"{fan['limited_s']:.2f} s = {fan['achieved_rate']:,.0f} msg/s |",
        f"| achieved / allowed rate | **{fan['fraction']:.2f}** (target ≥ 0.9) |",
        f"| per-destination limit violations (429s) | {fan['violations']} |",
        f"| queue the daily digest for every destination ({fan['digests_queued']:,} rows) | "
        f"{fan['digests_s']:.2f} s |",
        f"| the every-minute due check once they are queued | {fan['digest_check_s']:.2f} s |",
        "",
        "**Daily digest build** (`digest_for(ctx, 'daily')`, median of 5 after a warm-up), one "
        "year of enriched articles, one story each; baseline = the same day's articles alone "
        "in an empty store.",
        "",
        "| store | articles | seeded in | that day's articles | build (full store) | "
        "build (baseline) | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in digests:
        lines.append(
            f"| {d['backend']} | {d['articles']:,} | {d['seed_s']:.0f} s | {d['day_articles']:,} "
            f"| {d['big_s'] * 1000:.0f} ms | {d['small_s'] * 1000:.0f} ms | "
            f"{d['big_s'] / d['small_s']:.2f}× |"
        )
    plans = [d["plan"] for d in digests if d.get("plan")]
    if plans:
        lines += ["", f"SQLite plan for the window: `{plans[0]}`."]
    lines.append("")
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="1,000,000 articles (else 100,000)")
    parser.add_argument("--articles", type=int, default=None)
    parser.add_argument("--destinations", type=int, default=10_000)
    parser.add_argument("--stories", type=int, default=2)
    parser.add_argument("--rate", type=float, default=2_000.0, help="allowed msg/s overall")
    parser.add_argument("--postgres", default=None, help="admin URL (default: test URL/local)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    articles = args.articles or (1_000_000 if args.full else 100_000)
    admin = None if args.no_postgres else postgres_admin(args.postgres)
    with tempfile.TemporaryDirectory(prefix="ainews-bench-") as tmp:
        scratch = Path(tmp)
        fan = await fanout(
            f"sqlite:///{scratch / 'fanout.db'}", args.destinations, args.stories, args.rate
        )
        print(json.dumps(fan, indent=1, default=str))
        digests = [await digest_bench("sqlite", articles, scratch, None)]
        print(json.dumps(digests[-1], indent=1, default=str))
        if admin:
            digests.append(await digest_bench("postgresql", articles, scratch, admin))
            print(json.dumps(digests[-1], indent=1, default=str))
    command = "python bench/delivery.py" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    text = report(fan, digests, command)
    print(text)
    if not args.no_write:
        existing = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
        RESULTS.write_text(existing.rstrip("\n") + "\n\n" + text, encoding="utf-8")


if __name__ == "__main__":
    asyncio.run(main())

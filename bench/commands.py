"""Benchmark: `/ainews today` from a signed HTTP request to Slack's ack and to the posted answer.

The real path runs: uvicorn + Starlette + slack-bolt (signature check) → command table → SQLite
store with N articles → Block Kit → response_url POST to a fake Slack on loopback. The baseline is
the same request against an empty store, measured in the same run.

    .venv/bin/python bench/commands.py [--articles 1000000] [--requests 100]
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from starlette.applications import Starlette  # noqa: E402

from adapters.slack_app import create_slack_routes  # noqa: E402
from bot.config import Secrets, Settings  # noqa: E402
from bot.context import build_context  # noqa: E402
from bot.store.db import upgrade_sync  # noqa: E402
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack, FakeSlackServer, sign  # noqa: E402

SECRET = "bench-signing-secret"
CHANNEL = "C0BENCH"
DAYS = 365
SOURCES = 50
TAGS = ("llm", "agents", "open-source", "research", "safety", "multimodal", "coding", "robotics")
ACK_TARGET_P99_MS = 300.0


def _stamp(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite (naive ISO with microseconds)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def seed(path: Path, articles: int, now: datetime) -> float:
    """Bulk-insert sources, stories, articles and enrichments spread over the last year."""
    started = time.perf_counter()
    upgrade_sync(f"sqlite:///{path}")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    conn.executemany(
        "INSERT INTO sources (id, name, url, kind, lang, weight, next_check_at, error_count,"
        " disabled, polled_once, created_at) VALUES (?, ?, ?, 'feed', 'en', 1.0, ?, 0, 0, 1, ?)",
        [
            (i, f"Source {i}", f"https://feeds.example.com/{i}.xml", _stamp(now), _stamp(now))
            for i in range(1, SOURCES + 1)
        ],
    )
    step = timedelta(days=DAYS) / max(1, articles)
    batch = 50_000
    for start in range(1, articles + 1, batch):
        ids = range(start, min(articles, start + batch - 1) + 1)
        stories, rows, enrichments = [], [], []
        for n in ids:
            published = _stamp(now - step * n)
            title = f"Model release {n}: a new open LLM for agents and coding"
            url = f"https://news.example.com/{n}"
            tags = json.dumps([TAGS[n % len(TAGS)], TAGS[(n // 7) % len(TAGS)]])
            importance = 1 + (n * 7919) % 5
            stories.append((n, title, hashlib.md5(title.encode()).hexdigest(), published))
            rows.append(
                (n, 1 + n % SOURCES, n, f"{n:064x}", url, url, url, title,
                 f"{title}. The article body explains the method and its results.", published,
                 published)
            )  # fmt: skip
            enrichments.append(
                (n, n, f"TL;DR of article {n}: what changed and why it matters.", tags,
                 importance, importance, importance, importance, importance, published)
            )  # fmt: skip
        conn.executemany(
            "INSERT INTO stories (id, title, fingerprint, source_count, first_seen_at, updated_at)"
            " VALUES (?, ?, ?, 1, ?, ?)",
            [(*s, s[3]) for s in stories],
        )
        conn.executemany(
            "INSERT INTO articles (id, source_id, story_id, identity, guid, url, canonical_url,"
            " title, content, author, lang, published_at, dated, fetched_at, content_hash,"
            " reading_minutes, full_text, is_backlog, enrich_status, enrich_attempts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', 'en', ?, 1, ?, '', 2, 0, 0, 'done', 1)",
            rows,
        )
        conn.executemany(
            "INSERT INTO enrichments (id, article_id, tldr, key_points, tags, depth, relevance,"
            " practicality, innovation, reasons, importance, lang, title_translated, impact,"
            " editorial, engine, model, prompt_version, content_hash, tokens_in, tokens_out,"
            " cost_usd, note, created_at) VALUES (?, ?, ?, '[]', ?, ?, ?, ?, ?, '{}', ?, 'en',"
            " '', '', '', 'offline', '', 'v1', '', 0, 0, 0.0, '', ?)",
            enrichments,
        )
        conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - started


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def measure(db_path: Path, requests: int, warmup: int = 5) -> dict[str, list[float]]:
    """Sequential signed `/ainews today` requests; ack and answer latencies in milliseconds."""
    server = FakeSlackServer(FakeSlack(channels={CHANNEL: {"name": "bench"}}))
    fake = await server.start()
    settings = Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{db_path}"},
            "slack": {"api_base_url": fake.api_url},
            "web": {"base_url": "https://ainews.example.org"},
        }
    ).model_copy(
        update={
            "secrets": Secrets(
                slack_bot_token=SecretStr(BOT_TOKEN), slack_signing_secret=SecretStr(SECRET)
            )
        }
    )
    ctx = await build_context(settings, upgrade=False)
    config = uvicorn.Config(
        Starlette(routes=create_slack_routes(ctx)),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
    )
    web = uvicorn.Server(config)
    serving = asyncio.create_task(web.serve())
    while not web.started:
        await asyncio.sleep(0.01)
    port = web.servers[0].sockets[0].getsockname()[1]
    acks: list[float] = []
    answers: list[float] = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        for n in range(warmup + requests):
            form = {
                "team_id": "T0BENCH",
                "channel_id": CHANNEL,
                "channel_name": "bench",
                "user_id": "U0BENCH",
                "command": "/ainews",
                "text": "today",
                "response_url": fake.response_url(f"bench{n}"),
                "trigger_id": f"{n}.1",
            }
            body = urlencode(form).encode()
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": sign(SECRET, timestamp, body),
            }
            before = len(fake.posts())
            started = time.perf_counter()
            response = await http.post("/slack/events", content=body, headers=headers)
            acked = time.perf_counter()
            assert response.status_code == 200, response.text
            while len(fake.posts()) == before:
                await asyncio.sleep(0.0005)
            answered = time.perf_counter()
            if n >= warmup:
                acks.append((acked - started) * 1000)
                answers.append((answered - started) * 1000)
    assert not fake.rejected(), fake.rejected()[:3]
    web.should_exit = True
    await serving
    await ctx.aclose()
    await server.stop()
    return {"ack": acks, "answer": answers}


def summarise(label: str, samples: dict[str, list[float]]) -> dict[str, float]:
    out = {}
    for kind, values in samples.items():
        for pct in (50, 95, 99):
            out[f"{kind}_p{pct}"] = _percentile(values, pct)
        out[f"{kind}_mean"] = statistics.fmean(values)
    print(
        f"{label:>16}: ack p50 {out['ack_p50']:.1f} p95 {out['ack_p95']:.1f} "
        f"p99 {out['ack_p99']:.1f} ms | answer p50 {out['answer_p50']:.1f} "
        f"p95 {out['answer_p95']:.1f} p99 {out['answer_p99']:.1f} ms"
    )
    return out


def append_results(text: str) -> None:
    results = REPO / "bench" / "RESULTS.md"
    existing = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    results.write_text(existing.rstrip("\n") + "\n\n" + text.strip("\n") + "\n", encoding="utf-8")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--no-write", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="ainews-bench-") as tmp:
        full, empty = Path(tmp) / "full.db", Path(tmp) / "empty.db"
        seconds = seed(full, args.articles, now)
        upgrade_sync(f"sqlite:///{empty}")
        size_mb = full.stat().st_size / 1e6
        print(f"seeded {args.articles:,} articles in {seconds:.1f} s ({size_mb:.0f} MB)")
        baseline = summarise("empty store", await measure(empty, args.requests))
        loaded = summarise(f"{args.articles:,} articles", await measure(full, args.requests))
    ack_ratio = loaded["ack_p99"] / baseline["ack_p99"]
    answer_ratio = loaded["answer_p50"] / baseline["answer_p50"]
    verdict = "met" if loaded["ack_p99"] < ACK_TARGET_P99_MS else "MISSED"
    print(f"ack p99 {loaded['ack_p99']:.1f} ms vs target <{ACK_TARGET_P99_MS:.0f} ms: {verdict}")
    print(f"ratios vs empty store: ack p99 {ack_ratio:.2f}x, answer p50 {answer_ratio:.2f}x")
    if args.no_write:
        return
    rows = "\n".join(
        f"| {name} | {r['ack_p50']:.1f} | {r['ack_p95']:.1f} | {r['ack_p99']:.1f} | "
        f"{r['answer_p50']:.1f} | {r['answer_p95']:.1f} | {r['answer_p99']:.1f} |"
        for name, r in (
            ("empty store (baseline)", baseline),
            (f"{args.articles:,} articles", loaded),
        )
    )
    append_results(
        f"""
## commands — `/ainews today` over Slack ({now:%Y-%m-%d %H:%M} UTC)

`.venv/bin/python bench/commands.py --articles {args.articles} --requests {args.requests}` on
{platform.machine()} / {os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite
{sqlite3.sqlite_version}. Signed request over loopback HTTP (uvicorn) → slack-bolt verification →
ack; answer = the Block Kit digest reaching the fake Slack's response_url. Sequential requests,
{args.requests} measured after 5 warm-up. Store seeded in {seconds:.0f} s ({size_mb:.0f} MB, one
year of articles, ~{args.articles // DAYS:,}/day, all enriched).

| store | ack p50 ms | ack p95 | ack p99 | answer p50 ms | answer p95 | answer p99 |
|---|---|---|---|---|---|---|
{rows}

Ack p99 target < {ACK_TARGET_P99_MS:.0f} ms: **{verdict}**. Ratio vs the empty store in the same
run: ack p99 {ack_ratio:.2f}×, answer p50 {answer_ratio:.2f}× (the answer reads today's
~{args.articles // DAYS:,} articles; the ack does not touch the store).
"""
    )


if __name__ == "__main__":
    asyncio.run(main())

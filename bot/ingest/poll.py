"""Polling use cases: sync sources, poll due ones, ingest bytes, and fetch one page on demand.

One broken feed never stops its siblings: every failure ends on the source row (error count,
last error, backoff) and the cycle goes on. Fetch state (ETag, body hash) is written in the same
transaction as the articles, so a crash between fetch and commit re-reads the feed next cycle.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, cast

from sqlalchemy import Table, bindparam, case, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.errors import BlockedAddressError, FetchError
from bot.ingest.clean import clean_text, clean_title, learn_title_affixes
from bot.ingest.extract import (
    detect_lang,
    extract_page,
    is_teaser,
    reading_minutes,
    script_lang,
)
from bot.ingest.fetch import HTML_ACCEPT, Fetcher, FetchResponse
from bot.ingest.hackernews import fetch_front_page
from bot.ingest.parse import ParsedEntry, parse_date, parse_feed
from bot.ingest.sanitize import plain_paragraphs, plain_text
from bot.observe import PARSE_SECONDS
from bot.ports import Clock
from bot.runtime import StoreContext
from bot.store.articles import (
    Matched,
    NewArticle,
    article_id_by_canonical,
    insert_articles,
    load_story_index,
    match_existing,
)
from bot.store.db import Database
from bot.store.schema import ArticleRow, Source
from bot.store.sources import claim_sources, on_demand_source, upsert_sources
from digest.dedup import StoryIndex, canonical_url, content_hash
from digest.editorial import story_keys
from digest.models import Article
from digest.text import base_lang


class IngestContext(StoreContext, Protocol):
    """The part of `bot.context.AppContext` ingestion needs (AppContext satisfies it)."""

    fetcher: Fetcher


@dataclass
class IngestServices:
    """A minimal IngestContext for callers that need no enricher (CLI fetch, benchmarks)."""

    settings: Settings
    db: Database
    clock: Clock
    fetcher: Fetcher

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        await self.db.dispose()


__all__ = [
    "IngestContext",
    "IngestServices",
    "PollReport",
    "SourceResult",
    "fetch_article",
    "ingest_feed_bytes",
    "poll_sources",
    "sync_sources",
]

log = logging.getLogger(__name__)

Status = Literal["ok", "not_modified", "error", "skipped"]
MAX_BACKOFF = timedelta(hours=24)
MAX_RETRY_AFTER = timedelta(days=7)
FULL_TEXT_PER_SOURCE = 20
FULL_TEXT_CONCURRENCY = 4
_FUTURE_SLACK = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What one source's poll came to; `error` is the message stored on the row."""

    name: str
    url: str
    status: Status
    new: int = 0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "status": self.status,
            "new": self.new,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class PollReport:
    """One cycle's results, in source order."""

    sources: list[SourceResult] = field(default_factory=list)

    @property
    def new_articles(self) -> int:
        return sum(result.new for result in self.sources)

    def count(self, status: Status) -> int:
        return sum(1 for result in self.sources if result.status == status)

    def to_json(self) -> dict[str, Any]:
        return {
            "sources": [result.to_json() for result in self.sources],
            "new_articles": self.new_articles,
        }


@dataclass
class _Cycle:
    """State shared by the sources of one cycle: one writer at a time, one story index."""

    ctx: IngestContext
    now: datetime
    owner: str
    full_text: bool
    index: StoryIndex | None = None
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    index_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    unchanged: list[dict[str, Any]] = field(default_factory=list)
    pages: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(FULL_TEXT_CONCURRENCY)
    )

    async def story_index(self) -> StoryIndex:
        """The cycle's one index, loaded once (concurrent callers wait for the same load)."""
        async with self.index_lock:
            if self.index is None:
                async with self.ctx.db.session() as session:
                    self.index = await load_story_index(session, self.now)
            return self.index


async def sync_sources(db: Database, settings: Settings) -> None:
    """Upsert config `[[sources]]` by URL, keeping each row's fetch state."""
    async with db.session() as session:
        await upsert_sources(session, settings.sources)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def poll_sources(
    ctx: IngestContext,
    *,
    all_sources: bool = False,
    progress: Callable[[SourceResult], None] | None = None,
) -> PollReport:
    """Poll due sources (or all) concurrently under the fetch policy; never raises for a feed."""
    cycle = _Cycle(
        ctx=ctx, now=ctx.clock.now(), owner=_owner(), full_text=ctx.settings.fetch.full_text
    )
    lease = timedelta(seconds=ctx.settings.fetch.total_timeout * 4 + 120)
    claimed, skipped = await claim_sources(
        ctx.db, owner=cycle.owner, now=cycle.now, lease=lease, all_sources=all_sources
    )
    results: dict[int, SourceResult] = {}
    for row in skipped:
        reason = (
            f"disabled after {row.error_count} failures: {row.last_error}"
            if row.disabled
            else "being polled by another replica"
        )
        results[row.id] = SourceResult(row.name, row.url, "skipped", 0, reason)
        if progress:
            progress(results[row.id])

    # Bounds the feeds held in memory between fetch and commit, not only the open requests.
    in_flight = asyncio.Semaphore(ctx.settings.fetch.concurrency)

    async def run(source: Source) -> None:
        async with in_flight:
            result = await _poll_guarded(cycle, source)
        results[source.id] = result
        if progress:
            progress(result)

    try:
        await asyncio.gather(*(run(source) for source in claimed))
    finally:
        await _flush_unchanged(cycle)
    return PollReport([results[key] for key in sorted(results)])


async def _poll_guarded(cycle: _Cycle, source: Source) -> SourceResult:
    try:
        return await _poll_one(cycle, source)
    except Exception as exc:  # one broken source must not stop the cycle
        if isinstance(exc, FetchError):
            message = str(exc)
        else:
            log.exception("source poll crashed", extra={"source": source.url})
            message = f"internal error: {type(exc).__name__}: {exc}"
        await _record_failure(cycle, source, message[:1000])
        return SourceResult(source.name, source.url, "error", 0, message[:1000])


async def _poll_one(cycle: _Cycle, source: Source) -> SourceResult:
    ctx = cycle.ctx
    if source.kind == "hackernews":
        articles = await fetch_front_page(ctx.fetcher, source.url, fetched_at=cycle.now)
        new = await _store(cycle, source, articles, state={})
        return SourceResult(source.name, source.url, "ok", new)
    response = await ctx.fetcher.get(
        source.url, etag=source.etag, last_modified=source.last_modified
    )
    if response.not_modified:
        _record_unchanged(cycle, source, response)
        return SourceResult(source.name, source.url, "not_modified")
    if not response.ok:
        message = f"HTTP {response.status} from {response.final_url}"
        await _record_failure(cycle, source, message, response)
        return SourceResult(source.name, source.url, "error", 0, message)
    body_hash = hashlib.sha256(response.body).hexdigest() if response.body else ""
    if body_hash and body_hash == source.body_hash:
        _record_unchanged(cycle, source, response)
        return SourceResult(source.name, source.url, "not_modified")
    with PARSE_SECONDS.time():
        parsed = parse_feed(
            response.body, response.final_url, cap=ctx.settings.fetch.max_body_bytes
        )
    if not parsed.entries and parsed.error:
        await _record_failure(cycle, source, parsed.error, response)
        return SourceResult(source.name, source.url, "error", 0, parsed.error)
    articles = normalise_entries(
        parsed.entries, source_lang=source.lang, feed_lang=parsed.lang, fetched_at=cycle.now
    )
    state = {
        "etag": response.etag,
        "last_modified": response.last_modified,
        "body_hash": body_hash,
    }
    new = await _store(cycle, source, articles, state=state)
    return SourceResult(source.name, source.url, "ok", new)


def normalise_entries(
    entries: Sequence[ParsedEntry], *, source_lang: str, feed_lang: str, fetched_at: datetime
) -> list[Article]:
    """Parsed entries → articles: UTC dates (fetch time when undated), canonical URL, language."""
    feed_hint = base_lang(feed_lang)[:8]
    if not source_lang and not feed_hint:
        # A short sample: the hint is per feed, and langdetect's cost grows with the text.
        sample = " ".join(f"{e.title} {e.content[:200]}" for e in entries[:4])[:600]
        feed_hint = detect_lang(sample)
    affixes = learn_title_affixes([entry.title for entry in entries])
    out: list[Article] = []
    for entry in entries:
        dated = entry.published is not None
        published = entry.published or fetched_at
        if published > fetched_at + _FUTURE_SLACK:
            published = fetched_at
        lang = source_lang or script_lang(f"{entry.title} {entry.content[:300]}") or feed_hint
        out.append(
            Article(
                guid=entry.guid,
                url=entry.link,
                canonical_url=canonical_url(entry.link) if entry.link else "",
                title=clean_title(entry.title, affixes),
                content=entry.content,
                published_at=published,
                author=entry.author,
                lang=lang,
                dated=dated,
            )
        )
    return out


async def _full_text(cycle: _Cycle, article: Article) -> tuple[Article, bool]:
    """Fetch and extract the article page when the feed carried only a teaser."""
    async with cycle.pages:
        try:
            response = await cycle.ctx.fetcher.get(article.url, accept=HTML_ACCEPT)
            if not response.ok or not response.body:
                return article, False
            page = await extract_page(response.body, response.final_url)
        except FetchError as exc:
            log.info("full text failed", extra={"url": article.url, "error": str(exc)})
            return article, False
    text = clean_text(plain_paragraphs(page.text))
    if len(text) <= len(article.content):
        return article, False
    return replace(article, content=text), True


def _split(
    articles: Sequence[Article], matched: Sequence[Matched | None]
) -> tuple[list[tuple[Article, str]], list[tuple[int, Article]]]:
    """New items with their identities, and known items with their row ids (for HN counts)."""
    new_items: list[tuple[Article, str]] = []
    known: list[tuple[int, Article]] = []
    for article, match in zip(articles, matched, strict=True):
        if match is None:
            continue
        if match.existing_id is None:
            new_items.append((article, match.identity))
        else:
            known.append((match.existing_id, article))
    return new_items, known


def _teasers(cycle: _Cycle, new_items: list[tuple[Article, str]], backlog: bool) -> list[int]:
    """Positions of new items whose page should be fetched for full text."""
    if not cycle.full_text or backlog:
        return []
    return [
        i for i, (article, _) in enumerate(new_items) if article.url and is_teaser(article.content)
    ][:FULL_TEXT_PER_SOURCE]


def _finish(
    new_items: list[tuple[Article, str]], full: dict[int, tuple[Article, bool]]
) -> list[NewArticle]:
    prepared: list[NewArticle] = []
    for i, (article, identity) in enumerate(new_items):
        article, extracted = full.get(i, (article, False))
        if extracted and not article.lang:
            article = replace(article, lang=detect_lang(article.content))
        article = replace(article, entities=story_keys(article.title, article.content))
        prepared.append(
            NewArticle(
                article=article,
                identity=identity,
                content_hash=content_hash(article.title, article.content),
                reading_minutes=reading_minutes(article.content),
                full_text=extracted,
            )
        )
    return prepared


async def _store(
    cycle: _Cycle, source: Source, articles: Sequence[Article], *, state: dict[str, str | None]
) -> int:
    """Match, (fetch full text,) insert and update the source: one transaction unless pages
    must be fetched first, which happens outside the write lock."""
    backlog = not source.polled_once
    index = await cycle.story_index()
    async with cycle.write_lock:
        try:
            async with cycle.ctx.db.session() as session:
                matched = await match_existing(session, source.id, articles)
                new_items, known = _split(articles, matched)
                wanted = _teasers(cycle, new_items, backlog)
                if not wanted:
                    prepared = _finish(new_items, {})
                    await _commit(session, cycle, source, prepared, known, state, backlog, index)
                    return len(prepared)
        except BaseException:
            cycle.index = None  # it may name stories of the rolled-back transaction
            raise
    done = await asyncio.gather(*(_full_text(cycle, new_items[i][0]) for i in wanted))
    prepared = _finish(new_items, dict(zip(wanted, done, strict=True)))
    async with cycle.write_lock:
        try:
            async with cycle.ctx.db.session() as session:
                await _commit(session, cycle, source, prepared, known, state, backlog, index)
        except BaseException:
            cycle.index = None
            raise
    return len(prepared)


async def _commit(
    session: AsyncSession,
    cycle: _Cycle,
    source: Source,
    prepared: list[NewArticle],
    known: list[tuple[int, Article]],
    state: dict[str, str | None],
    backlog: bool,
    index: StoryIndex,
) -> None:
    """Articles and the source's new fetch state in one transaction (see the module note)."""
    interval = timedelta(minutes=cycle.ctx.settings.fetch.interval_minutes)
    await insert_articles(
        session, source, prepared, fetched_at=cycle.now, is_backlog=backlog, index=index
    )
    counts = [
        {"article_id": article_id, "points": article.points, "comments": article.comments}
        for article_id, article in known
        if article.points is not None
    ]
    if counts:
        table = cast(Table, ArticleRow.__table__)
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("article_id"))
            .values(points=bindparam("points"), comments=bindparam("comments")),
            counts,
        )
    await session.execute(
        update(Source)
        .where(Source.id == source.id)
        .values(
            **state,
            polled_once=True,
            error_count=0,
            last_error=None,
            disabled=False,
            last_checked_at=cycle.now,
            last_success_at=cycle.now,
            next_check_at=cycle.now + interval,
            **_release_lease(cycle.owner),
        )
        .execution_options(synchronize_session=False)
    )


def _release_lease(owner: str) -> dict[str, Any]:
    """Values that clear a source's lease only while `owner` still holds it: a cycle that ran
    past its lease must not clear the lease of the replica that took the source over."""
    mine = Source.lease_owner == owner
    return {
        "lease_owner": case((mine, None), else_=Source.lease_owner),
        "lease_until": case((mine, None), else_=Source.lease_until),
    }


def _record_unchanged(cycle: _Cycle, source: Source, response: FetchResponse) -> None:
    """Queue the row update of an unchanged feed; `_flush_unchanged` writes them all at once."""
    cycle.unchanged.append(
        {
            "source_id": source.id,
            "etag": response.etag or source.etag,
            "last_modified": response.last_modified or source.last_modified,
        }
    )


async def _flush_unchanged(cycle: _Cycle) -> None:
    """One statement for every 304 of the cycle (a lost batch only means an early re-poll)."""
    if not cycle.unchanged:
        return
    interval = timedelta(minutes=cycle.ctx.settings.fetch.interval_minutes)
    table = cast(Table, Source.__table__)
    async with cycle.write_lock, cycle.ctx.db.session() as session:
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("source_id"))
            .values(
                etag=bindparam("etag"),
                last_modified=bindparam("last_modified"),
                error_count=0,
                last_error=None,
                last_checked_at=cycle.now,
                last_success_at=cycle.now,
                next_check_at=cycle.now + interval,
                **_release_lease(cycle.owner),
            ),
            cycle.unchanged,
        )
    cycle.unchanged = []


async def _record_failure(
    cycle: _Cycle, source: Source, message: str, response: FetchResponse | None = None
) -> None:
    """Error on the row; 429/Retry-After moves the next check, other failures back off."""
    settings = cycle.ctx.settings.fetch
    interval = timedelta(minutes=settings.interval_minutes)
    retry_after = None
    if response is not None and response.retry_after is not None:
        retry_after = min(timedelta(seconds=response.retry_after), MAX_RETRY_AFTER)
    rate_limited = response is not None and response.status == 429
    async with cycle.write_lock, cycle.ctx.db.session() as session:
        row = await session.get(Source, source.id)
        if row is None:
            return
        if not rate_limited:
            row.error_count += 1
        backoff = min(interval * (2 ** max(0, row.error_count - 1)), MAX_BACKOFF)
        wait = max(backoff, retry_after) if retry_after is not None else backoff
        row.last_error = message
        row.last_checked_at = cycle.now
        row.next_check_at = cycle.now + wait
        row.disabled = row.error_count >= settings.max_failures
        if row.lease_owner == cycle.owner:
            row.lease_owner, row.lease_until = None, None
    log.warning(
        "source failed",
        extra={"source": source.url, "error": message, "blocked": "refused" in message},
    )


async def ingest_feed_bytes(
    ctx: IngestContext,
    source: Source,
    body: bytes,
    *,
    fetched_at: datetime,
    full_text: bool = True,
) -> int:
    """Parse and store bytes already in hand (no fetch of the feed); returns new articles."""
    cycle = _Cycle(
        ctx=ctx,
        now=fetched_at,
        owner=_owner(),
        full_text=full_text and ctx.settings.fetch.full_text,
    )
    with PARSE_SECONDS.time():
        parsed = parse_feed(body, source.url, cap=ctx.settings.fetch.max_body_bytes)
    if not parsed.entries and parsed.error:
        raise FetchError(f"{source.name}: {parsed.error}")
    articles = normalise_entries(
        parsed.entries, source_lang=source.lang, feed_lang=parsed.lang, fetched_at=fetched_at
    )
    return await _store(cycle, source, articles, state={})


async def fetch_article(ctx: IngestContext, url: str) -> int:
    """Fetch one page on demand, store it under "On demand", cluster it; returns the article id."""
    canonical = canonical_url(url)
    if not canonical.startswith(("http://", "https://")):
        raise BlockedAddressError(f"only http(s) URLs can be fetched, not {url!r}")
    async with ctx.db.session() as session:
        existing = await article_id_by_canonical(session, canonical)
        if existing is not None:
            return existing
    response = await ctx.fetcher.get(url, accept=HTML_ACCEPT)
    if not response.ok:
        raise FetchError(f"could not fetch {url}: HTTP {response.status}")
    page = await extract_page(response.body, response.final_url)
    text = clean_text(plain_paragraphs(page.text))
    if not text:
        raise FetchError(f"no readable article text at {url}")
    now = ctx.clock.now()
    title = plain_text(page.title, single_line=True) or text[:120]
    published = parse_date(page.date)
    final = canonical_url(response.final_url)
    async with ctx.db.session() as session:
        if final != canonical:
            existing = await article_id_by_canonical(session, final)
            if existing is not None:
                return existing
        source = await on_demand_source(session)
    article = Article(
        guid="",
        url=response.final_url,
        canonical_url=final,
        title=title,
        content=text,
        published_at=min(published, now) if published else now,
        lang=detect_lang(f"{title} {text[:1000]}"),
        dated=published is not None,
    )
    cycle = _Cycle(ctx=ctx, now=now, owner=_owner(), full_text=False)
    await _store_page(cycle, source, article)
    async with ctx.db.session() as session:
        stored = await article_id_by_canonical(session, final)
    if stored is None:
        raise FetchError(f"could not store {url}")
    return stored


async def _store_page(cycle: _Cycle, source: Source, article: Article) -> None:
    index = await cycle.story_index()
    async with cycle.ctx.db.session() as session:
        matched = await match_existing(session, source.id, [article])
        match = matched[0]
        if match is None or match.existing_id is not None:
            return
        item = NewArticle(
            article=article,
            identity=match.identity,
            content_hash=content_hash(article.title, article.content),
            reading_minutes=reading_minutes(article.content),
            full_text=True,
        )
        await insert_articles(
            session, source, [item], fetched_at=cycle.now, is_backlog=False, index=index
        )

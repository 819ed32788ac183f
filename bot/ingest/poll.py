"""The refresh flow: claim due sources, fetch each, prepare its entries, store them.

Read top to bottom, one cycle: `poll_sources` leases the due sources, `_poll_one` fetches a
feed (304 or an unchanged body ends there), prepares it in a worker process
(`bot.ingest.workers`, `bot.ingest.prepare`) and `_store` commits it in one transaction on the
store writer's thread (`bot.ingest.write`, `bot.store.writer`), fetching teasers' pages first
(`bot.ingest.full_text`). One broken feed never stops its siblings: every failure ends on the
source row (error count, last error, next check) and the cycle goes on. When a source is next
due is `bot.ingest.schedule`'s policy; a page fetched on demand is `bot.ingest.on_demand`.
Fetch state (ETag, body hash) is written in the same transaction as the articles, so a crash
between fetch and commit re-reads the feed next cycle.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal

from bot.config import Settings
from bot.errors import FetchError
from bot.ingest import write
from bot.ingest.context import IngestContext
from bot.ingest.fetch import FetchResponse
from bot.ingest.full_text import (
    FULL_TEXT_CONCURRENCY,
    FULL_TEXT_PER_SOURCE,
    fetch_full_texts,
    teasers,
)
from bot.ingest.hackernews import fetch_front_page
from bot.ingest.prepare import Draft, draft, prepare_feed
from bot.ingest.workers import run_cpu, warm_pool
from bot.observe import PARSE_SECONDS
from bot.store.db import Database
from bot.store.schema import Source
from bot.store.sources import claim_sources, upsert_sources
from bot.store.writer import StoreWriter

__all__ = [
    "PollReport",
    "SourceResult",
    "ingest_feed_bytes",
    "poll_sources",
    "sync_sources",
]

log = logging.getLogger(__name__)

Status = Literal["ok", "not_modified", "error", "skipped"]


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
    """State shared by the sources of one cycle: the writer, its story index, queued 304s."""

    ctx: IngestContext
    now: datetime
    owner: str
    full_text: bool
    writer: StoreWriter
    index: write.CycleIndex
    unchanged: list[dict[str, Any]] = field(default_factory=list)
    pages: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(FULL_TEXT_CONCURRENCY)
    )

    @property
    def interval(self) -> timedelta:
        return timedelta(minutes=self.ctx.settings.fetch.interval_minutes)

    def feed_write(self, source: Source, state: dict[str, str | None]) -> write.FeedWrite:
        return write.FeedWrite(
            source_id=source.id,
            owner=self.owner,
            now=self.now,
            interval=self.interval,
            backlog=not source.polled_once,
            state=state,
        )


def _new_cycle(ctx: IngestContext, now: datetime, *, full_text: bool) -> _Cycle:
    return _Cycle(
        ctx=ctx,
        now=now,
        owner=_owner(),
        full_text=full_text,
        writer=StoreWriter(ctx.db),
        index=write.CycleIndex(now),
    )


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
    warm_pool()
    cycle = _new_cycle(ctx, ctx.clock.now(), full_text=ctx.settings.fetch.full_text)
    try:
        return await _poll_cycle(cycle, all_sources, progress)
    finally:
        await cycle.writer.aclose()


async def _poll_cycle(
    cycle: _Cycle, all_sources: bool, progress: Callable[[SourceResult], None] | None
) -> PollReport:
    ctx = cycle.ctx
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
    in_flight = asyncio.Semaphore(ctx.settings.fetch.concurrency * 2)

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
        new = await _store(cycle, source, [draft(a) for a in articles], state={})
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
    started = time.perf_counter()
    prepared = await run_cpu(
        prepare_feed,
        response.body,
        response.final_url,
        ctx.settings.fetch.max_body_bytes,
        source.lang,
        cycle.now,
    )
    # parse + clean + normalise of one body, wherever it ran (a worker or inline)
    PARSE_SECONDS.observe(time.perf_counter() - started)
    if not prepared.drafts and prepared.error:
        await _record_failure(cycle, source, prepared.error, response)
        return SourceResult(source.name, source.url, "error", 0, prepared.error)
    state = {
        "etag": response.etag,
        "last_modified": response.last_modified,
        "body_hash": body_hash,
    }
    new = await _store(cycle, source, prepared.drafts, state=state)
    return SourceResult(source.name, source.url, "ok", new)


async def _store(
    cycle: _Cycle, source: Source, drafts: Sequence[Draft], *, state: dict[str, str | None]
) -> int:
    """Match, cluster, insert and update the source in one writer transaction; when teasers'
    pages must be fetched first, the match comes back, pages are fetched on the loop (outside
    any transaction), then a second transaction commits."""
    feed = cycle.feed_write(source, state)
    pages = None
    if cycle.full_text and not feed.backlog:
        pages = partial(teasers, FULL_TEXT_PER_SOURCE)
    outcome = await cycle.writer.run(write.store_drafts, cycle.index, feed, drafts, pages)
    if isinstance(outcome, int):
        return outcome
    new_items = await fetch_full_texts(
        cycle.ctx.fetcher, cycle.pages, outcome.new_items, outcome.wanted
    )
    return await cycle.writer.run(write.store_matched, cycle.index, feed, new_items, outcome.known)


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
    unchanged, cycle.unchanged = cycle.unchanged, []
    await cycle.writer.run(
        write.record_unchanged, unchanged, cycle.owner, cycle.now, cycle.interval
    )


async def _record_failure(
    cycle: _Cycle, source: Source, message: str, response: FetchResponse | None = None
) -> None:
    """Error on the row; 429/Retry-After moves the next check, other failures back off."""
    failure = write.Failure(
        source_id=source.id,
        owner=cycle.owner,
        now=cycle.now,
        interval=cycle.interval,
        max_failures=cycle.ctx.settings.fetch.max_failures,
        message=message,
        retry_after=response.retry_after if response is not None else None,
        rate_limited=response is not None and response.status == 429,
    )
    await cycle.writer.run(write.record_failure, failure)
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
    prepared = await run_cpu(
        prepare_feed, body, source.url, ctx.settings.fetch.max_body_bytes, source.lang, fetched_at
    )
    if not prepared.drafts and prepared.error:
        raise FetchError(f"{source.name}: {prepared.error}")
    cycle = _new_cycle(ctx, fetched_at, full_text=full_text and ctx.settings.fetch.full_text)
    try:
        return await _store(cycle, source, prepared.drafts, state={})
    finally:
        await cycle.writer.aclose()

"""Enrichment use cases: pick what is stale, claim it, enrich with bounded concurrency, store.

An enrichment is current when its content hash, model and prompt version match the article and
the engine; only stale, due articles are picked, so a second run calls no LLM. Articles are
claimed with a conditional UPDATE whose `enrich_retry_at` doubles as a lease, so replicas sharing
one PostgreSQL database do not enrich the same article twice, and a crashed worker's claim expires.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.config import Settings
from bot.cpu import run_cpu
from bot.enrich.budget import UsageLedger, next_utc_day
from bot.enrich.llm import LLMEnricher
from bot.enrich.llm_client import LLMClient
from bot.enrich.offline import OfflineEnricher
from bot.errors import CommandError, LLMError
from bot.ingest.extract import is_teaser
from bot.observe import ENRICH_SECONDS
from bot.ports import Clock, Enricher, EnrichmentInput, EnrichmentResult
from bot.store.db import Database
from bot.store.schema import ArticleRow, EnrichmentRow, Source, Story

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = timedelta(hours=24)
ERROR_MAX_CHARS = 1000


@dataclass(slots=True)
class EnrichReport:
    """What one `enrich_pending` run did; `to_json` is the `ainews enrich --json` shape."""

    enriched: int = 0
    failed: int = 0
    engine: str = ""
    fallbacks: int = 0

    def to_json(self) -> dict[str, int | str]:
        return {"enriched": self.enriched, "failed": self.failed, "engine": self.engine}


def make_llm_client(settings: Settings, db: Database, clock: Clock) -> LLMClient | None:
    """The process's one LLM client (one semaphore, one budget ledger), or None without `[llm]`."""
    if settings.llm is None:
        return None
    return LLMClient(settings.llm, ledger=UsageLedger(db, settings.llm), clock=clock)


def make_enricher(settings: Settings, client: LLMClient | None, clock: Clock) -> Enricher:
    """The LLM enricher when `[llm]` is configured (offline per article once the daily budget
    is spent), else the offline one."""
    if settings.llm is None or client is None:
        return OfflineEnricher(settings)
    return LLMEnricher(settings, client=client, clock=clock)


def lease_for(settings: Settings) -> timedelta:
    """Long enough for the worst case of one article (every retry timing out), plus margin."""
    if settings.llm is None:
        return timedelta(minutes=5)
    attempts = settings.llm.max_retries + 1
    return timedelta(seconds=attempts * attempts * (settings.llm.timeout + 30) + 60)


def _stale(enricher: Enricher) -> ColumnElement[bool]:
    return or_(
        EnrichmentRow.id.is_(None),
        EnrichmentRow.content_hash != ArticleRow.content_hash,
        EnrichmentRow.model != enricher.model,
        EnrichmentRow.prompt_version != enricher.prompt_version,
    )


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(ArticleRow.enrich_retry_at.is_(None), ArticleRow.enrich_retry_at <= now)


async def _candidates(ctx: AppContext, now: datetime, size: int) -> list[int]:
    async with ctx.db.session() as session:
        ids = await session.scalars(
            select(ArticleRow.id)
            .outerjoin(EnrichmentRow, EnrichmentRow.article_id == ArticleRow.id)
            .where(_stale(ctx.enricher), _due(now))
            .order_by(ArticleRow.published_at.desc(), ArticleRow.id)
            .limit(size)
        )
        return list(ids)


async def _claim(
    ctx: AppContext, ids: Sequence[int], now: datetime, condition: ColumnElement[bool]
) -> list[int]:
    """Mark articles `running` with a lease; only rows still matching `condition` are taken."""
    if not ids:
        return []
    async with ctx.db.session() as session:
        claimed = await session.scalars(
            update(ArticleRow)
            .where(ArticleRow.id.in_(list(ids)), condition)
            .values(
                enrich_status="running",
                enrich_retry_at=now + lease_for(ctx.settings),
                enrich_attempts=ArticleRow.enrich_attempts + 1,
            )
            .returning(ArticleRow.id)
            .execution_options(synchronize_session=False)
        )
        return list(claimed)


@dataclass(frozen=True, slots=True)
class _Work:
    item: EnrichmentInput
    content_hash: str
    attempts: int


async def _load(ctx: AppContext, ids: Sequence[int]) -> list[_Work]:
    async with ctx.db.session() as session:
        rows = await session.execute(
            select(ArticleRow, Source.name, Source.weight, Story.source_count)
            .join(Source, Source.id == ArticleRow.source_id)
            .outerjoin(Story, Story.id == ArticleRow.story_id)
            .where(ArticleRow.id.in_(list(ids)))
            .order_by(ArticleRow.id)
        )
        return [
            _Work(
                item=EnrichmentInput(
                    article_id=article.id,
                    title=article.title,
                    content=article.content,
                    url=article.url or article.canonical_url,
                    source=source_name,
                    lang=article.lang,
                    source_count=source_count or 1,
                    points=article.points,
                    comments=article.comments,
                    source_weight=source_weight,
                    teaser=not article.full_text and is_teaser(article.content),
                ),
                content_hash=article.content_hash,
                attempts=article.enrich_attempts,
            )
            for article, source_name, source_weight, source_count in rows
        ]


def _row_values(ctx: AppContext, work: _Work, result: EnrichmentResult) -> dict[str, Any]:
    enrichment = result.enrichment
    return {
        "tldr": enrichment.tldr,
        "key_points": list(enrichment.key_points),
        "tags": list(enrichment.tags),
        "depth": enrichment.scores.depth.score,
        "relevance": enrichment.scores.relevance.score,
        "practicality": enrichment.scores.practicality.score,
        "innovation": enrichment.scores.innovation.score,
        "reasons": {name: dim["reason"] for name, dim in enrichment.scores.as_dict().items()},
        "importance": enrichment.importance,
        "lang": enrichment.lang,
        "title_translated": enrichment.title_translated,
        "impact": enrichment.impact,
        "editorial": enrichment.editorial,
        "is_ai": enrichment.is_ai,
        "kind": enrichment.kind,
        "entities": list(enrichment.entities),
        "engine": result.engine,
        "model": result.model,
        "prompt_version": result.prompt_version,
        "content_hash": work.content_hash,
        "tokens_in": result.tokens_in,
        "tokens_out": result.tokens_out,
        "cost_usd": result.cost_usd,
        "note": result.note,
        "created_at": ctx.clock.now(),
    }


async def _write_results(ctx: AppContext, done: Sequence[_Outcome]) -> None:
    """Upsert the one enrichment row per article and mark the articles done, in one transaction.

    A budget fallback gets `enrich_retry_at` = the next UTC midnight, so the LLM takes it over
    once the budget resets instead of it being re-enriched offline on every run.
    """
    ids = [outcome.work.item.article_id for outcome in done]
    next_day = next_utc_day(ctx.clock.now())
    async with ctx.db.session() as session:
        rows = await session.scalars(select(EnrichmentRow).where(EnrichmentRow.article_id.in_(ids)))
        existing = {row.article_id: row for row in rows}
        for outcome in done:
            assert outcome.result is not None
            article_id = outcome.work.item.article_id
            row = existing.get(article_id)
            if row is None:
                row = EnrichmentRow(article_id=article_id)
                session.add(row)
            for key, value in _row_values(ctx, outcome.work, outcome.result).items():
                setattr(row, key, value)
            await session.execute(
                update(ArticleRow)
                .where(ArticleRow.id == article_id)
                .values(
                    enrich_status="done",
                    enrich_error=None,
                    enrich_retry_at=next_day if outcome.fallback else None,
                    enrich_attempts=0,
                )
            )


async def _store_results(ctx: AppContext, done: Sequence[_Outcome]) -> None:
    if not done:
        return
    try:
        await _write_results(ctx, done)
    except IntegrityError:
        # Another writer (an on-demand `summary`) inserted one of the rows first; going one by
        # one turns that row's insert into an update and keeps the others.
        for outcome in done:
            try:
                await _write_results(ctx, [outcome])
            except IntegrityError:
                await _write_results(ctx, [outcome])


def _retry_delay(ctx: AppContext, work: _Work, error: BaseException) -> timedelta:
    """Exponential from `retry_minutes`, capped at a day; a longer `Retry-After` wins."""
    base = timedelta(minutes=ctx.settings.enrich.retry_minutes)
    delay = min(MAX_RETRY_DELAY, base * (1 << min(max(0, work.attempts - 1), 16)))
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int | float) and retry_after > delay.total_seconds():
        delay = timedelta(seconds=retry_after)
    return delay


async def _store_failures(ctx: AppContext, failed: Sequence[_Outcome]) -> None:
    if not failed:
        return
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        for outcome in failed:
            assert outcome.error is not None
            message = str(outcome.error) or type(outcome.error).__name__
            await session.execute(
                update(ArticleRow)
                .where(ArticleRow.id == outcome.work.item.article_id)
                .values(
                    enrich_status="failed",
                    enrich_error=message[:ERROR_MAX_CHARS],
                    enrich_retry_at=now + _retry_delay(ctx, outcome.work, outcome.error),
                )
            )


@dataclass(frozen=True, slots=True)
class _Outcome:
    work: _Work
    result: EnrichmentResult | None = None
    error: BaseException | None = None
    fallback: bool = False


async def _run(ctx: AppContext, work: _Work) -> _Outcome:
    """Enrich one article; a failure becomes an outcome for its row and never stops the others."""
    article_id = work.item.article_id
    try:
        with ENRICH_SECONDS.labels(engine=type(ctx.enricher).__name__).time():
            if isinstance(ctx.enricher, OfflineEnricher):  # pure CPU: off the event loop
                result = await run_cpu(ctx.enricher.enrich_now, work.item)
            else:
                result = await ctx.enricher.enrich(work.item)
    except LLMError as error:
        log.warning("enrich: article_id=%s failed: %s", article_id, error)
        return _Outcome(work, error=error)
    except Exception as error:
        log.exception("enrich: article_id=%s failed unexpectedly", article_id)
        return _Outcome(work, error=error)
    return _Outcome(work, result=result, fallback=result.engine != ctx.enricher.name)


async def _run_batch(ctx: AppContext, claimed: Sequence[int], report: EnrichReport) -> None:
    """Enrich claimed articles with bounded concurrency, then store the batch in two writes."""
    slots = asyncio.Semaphore(ctx.settings.enrich.concurrency)

    async def bounded(work: _Work) -> _Outcome:
        async with slots:
            return await _run(ctx, work)

    outcomes = await asyncio.gather(*(bounded(work) for work in await _load(ctx, claimed)))
    done = [o for o in outcomes if o.result is not None]
    failed = [o for o in outcomes if o.result is None]
    await _store_results(ctx, done)
    await _store_failures(ctx, failed)
    report.enriched += len(done)
    report.failed += len(failed)
    report.fallbacks += sum(1 for o in done if o.fallback)


def _batch_size(ctx: AppContext) -> int:
    # Offline results are cheap to recompute, so big batches (few transactions) win; LLM results
    # cost money, so they are written after a few rounds of calls rather than at the very end.
    if ctx.settings.llm is None:
        return 200
    return max(16, ctx.settings.enrich.concurrency * 4)


async def enrich_pending(ctx: AppContext, *, limit: int | None = None) -> EnrichReport:
    """Enrich every stale, due article (newest first), at most `limit`, batch by batch."""
    report = EnrichReport(engine=ctx.enricher.name)
    batch_size = _batch_size(ctx)
    seen: set[int] = set()
    while limit is None or len(seen) < limit:
        now = ctx.clock.now()
        want = batch_size if limit is None else min(batch_size, limit - len(seen))
        candidates = [i for i in await _candidates(ctx, now, want) if i not in seen]
        if not candidates:
            break
        claimed = await _claim(ctx, candidates[:want], now, _due(now))
        seen.update(candidates[:want])
        if claimed:
            await _run_batch(ctx, claimed, report)
    if report.fallbacks:
        report.engine = f"{ctx.enricher.name}+offline"
        log.warning(
            "enrich: %s article(s) enriched offline: the daily LLM token budget is spent",
            report.fallbacks,
        )
    log.info(
        "enrich: enriched=%s failed=%s engine=%s", report.enriched, report.failed, report.engine
    )
    return report


async def enrich_article(ctx: AppContext, article_id: int) -> None:
    """Enrich one article now (the on-demand `summary`); a no-op when its enrichment is current.

    Failures are recorded on the article row like in `enrich_pending`; an article another worker
    is enriching right now is left to that worker.
    """
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        found = (
            await session.execute(
                select(ArticleRow.id, EnrichmentRow.id.is_not(None) & ~_stale(ctx.enricher))
                .outerjoin(EnrichmentRow, EnrichmentRow.article_id == ArticleRow.id)
                .where(ArticleRow.id == article_id)
            )
        ).first()
    if found is None:
        raise CommandError(f"No article with id {article_id}.")
    if found[1]:
        return
    not_running = or_(ArticleRow.enrich_status != "running", _due(now))
    claimed = await _claim(ctx, [article_id], now, not_running)
    if not claimed:
        log.info("enrich: article_id=%s is being enriched by another worker", article_id)
        return
    await _run_batch(ctx, claimed, EnrichReport(engine=ctx.enricher.name))

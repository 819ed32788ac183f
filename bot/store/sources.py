"""Repository queries for `sources`: config sync, due-source leases, fetch state and listing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import SourceSettings
from bot.store.db import Database
from bot.store.schema import ArticleRow, Source

__all__ = [
    "ON_DEMAND_NAME",
    "ON_DEMAND_URL",
    "SourceListing",
    "add_source",
    "claim_sources",
    "find_source",
    "list_sources",
    "on_demand_source",
    "remove_source",
    "upsert_sources",
]

ON_DEMAND_NAME = "On demand"
ON_DEMAND_URL = "ainews:on-demand"
POLLED_KINDS = ("feed", "hackernews")
# New and re-enabled sources are due at once, whatever clock the poller runs on.
DUE_NOW = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SourceListing:
    """One row of `ainews sources list`: a source, its article count and its fetch state."""

    id: int
    name: str
    url: str
    kind: str
    lang: str
    weight: float
    articles: int
    error_count: int
    last_error: str | None
    next_check_at: datetime
    disabled: bool
    last_checked_at: datetime | None = None
    last_success_at: datetime | None = None
    tags: tuple[str, ...] = ()


async def upsert_sources(session: AsyncSession, configured: Iterable[SourceSettings]) -> int:
    """Insert or update sources by URL; fetch state (ETag, errors, schedule) is kept."""
    wanted = {source.url: source for source in configured}
    if not wanted:
        return 0
    existing = {
        row.url: row
        for row in (await session.scalars(select(Source).where(Source.url.in_(wanted)))).all()
    }
    for url, config in wanted.items():
        row = existing.get(url)
        if row is None:
            session.add(
                Source(
                    name=config.name,
                    url=url,
                    kind=config.kind,
                    lang=config.lang,
                    weight=config.weight,
                    next_check_at=DUE_NOW,
                )
            )
        else:
            row.name, row.kind, row.lang, row.weight = (
                config.name,
                config.kind,
                config.lang,
                config.weight,
            )
    await session.flush()
    return len(wanted)


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an OPML import did: sources added, and URLs already present (left as they were)."""

    added: list[tuple[str, str]]
    present: list[tuple[str, str]]


async def import_sources(
    session: AsyncSession, found: Iterable[tuple[SourceSettings, Sequence[str]]]
) -> ImportResult:
    """Add sources by URL with their folder tags; an existing URL keeps its name and state, and
    within one file the first outline of a URL wins."""
    wanted: dict[str, tuple[SourceSettings, Sequence[str]]] = {}
    for config, tags in found:
        wanted.setdefault(config.url, (config, tags))
    if not wanted:
        return ImportResult([], [])
    existing = {
        row.url: row
        for row in (await session.scalars(select(Source).where(Source.url.in_(wanted)))).all()
    }
    result = ImportResult([], [])
    for url, (config, tags) in wanted.items():
        row = existing.get(url)
        if row is not None:
            result.present.append((row.name, url))
            continue
        session.add(
            Source(
                name=config.name,
                url=url,
                kind=config.kind,
                lang=config.lang,
                weight=config.weight,
                tags=list(tags),
                next_check_at=DUE_NOW,
            )
        )
        result.added.append((config.name, url))
    await session.flush()
    return result


async def add_source(
    session: AsyncSession, *, name: str, url: str, kind: str, lang: str, weight: float
) -> Source:
    """Add one source (or update the one with the same URL)."""
    row = await session.scalar(select(Source).where(Source.url == url))
    if row is None:
        row = Source(name=name, url=url, kind=kind, lang=lang, weight=weight, next_check_at=DUE_NOW)
        session.add(row)
    else:
        row.name, row.kind, row.lang, row.weight = name, kind, lang, weight
        row.disabled, row.error_count, row.last_error = False, 0, None
        row.next_check_at = DUE_NOW
    await session.flush()
    return row


async def find_source(session: AsyncSession, url_or_id: str) -> Source | None:
    if url_or_id.isdigit():
        found = await session.get(Source, int(url_or_id))
        if found is not None:
            return found
    return await session.scalar(select(Source).where(Source.url == url_or_id))


async def remove_source(session: AsyncSession, url_or_id: str) -> Source | None:
    """Delete a source and its articles (enrichments and translations cascade with them)."""
    row = await find_source(session, url_or_id)
    if row is None:
        return None
    await session.execute(delete(ArticleRow).where(ArticleRow.source_id == row.id))
    await session.delete(row)
    await session.flush()
    return row


async def on_demand_source(session: AsyncSession) -> Source:
    """The pseudo-source that holds pages fetched with `summary <url>`."""
    row = await session.scalar(select(Source).where(Source.url == ON_DEMAND_URL))
    if row is None:
        row = Source(
            name=ON_DEMAND_NAME,
            url=ON_DEMAND_URL,
            kind="page",
            disabled=True,
            polled_once=True,
        )
        session.add(row)
        await session.flush()
    return row


async def list_sources(
    session: AsyncSession, *, include_pages: bool = False
) -> list[SourceListing]:
    counts = (
        select(ArticleRow.source_id, func.count(ArticleRow.id).label("n"))
        .group_by(ArticleRow.source_id)
        .subquery()
    )
    query = (
        select(Source, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.source_id == Source.id)
        .order_by(Source.id)
    )
    if not include_pages:
        query = query.where(Source.kind.in_(POLLED_KINDS))
    rows = (await session.execute(query)).all()
    return [
        SourceListing(
            id=row.id,
            name=row.name,
            url=row.url,
            kind=row.kind,
            lang=row.lang,
            weight=row.weight,
            articles=int(count),
            error_count=row.error_count,
            last_error=row.last_error,
            next_check_at=row.next_check_at,
            disabled=row.disabled,
            last_checked_at=row.last_checked_at,
            last_success_at=row.last_success_at,
            tags=tuple(row.tags or ()),
        )
        for row, count in rows
    ]


async def claim_sources(
    db: Database,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    all_sources: bool,
) -> tuple[list[Source], list[Source]]:
    """Lease the sources to poll now; returns (claimed, skipped).

    A lease (`lease_owner`, `lease_until`) makes each due source one replica's job: PostgreSQL
    claims with `FOR UPDATE SKIP LOCKED`, SQLite (one writer) with a conditional UPDATE.
    Skipped are disabled sources and, with `all_sources`, those another replica holds.
    """
    free = or_(Source.lease_until.is_(None), Source.lease_until < now)
    wanted = select(Source).where(Source.kind.in_(POLLED_KINDS)).order_by(Source.id)
    if not all_sources:
        wanted = wanted.where(Source.next_check_at <= now, Source.disabled.is_(False))
    claimed: list[Source] = []
    skipped: list[Source] = []
    async with db.session() as session:
        if db.is_sqlite:
            candidates = (await session.scalars(wanted)).all()
            skipped = [row for row in candidates if row.disabled]
            ids = [row.id for row in candidates if not row.disabled]
            mine: set[int] = set()
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                await session.execute(
                    update(Source)
                    .where(Source.id.in_(chunk), free)
                    .values(lease_owner=owner, lease_until=now + lease)
                    .execution_options(synchronize_session=False)
                )
                taken = select(Source.id).where(Source.id.in_(chunk), Source.lease_owner == owner)
                mine.update((await session.scalars(taken)).all())
            claimed = [row for row in candidates if row.id in mine]
            if all_sources:
                skipped += [r for r in candidates if not r.disabled and r.id not in mine]
        else:
            candidates = (
                await session.scalars(wanted.where(free).with_for_update(skip_locked=True))
            ).all()
            for row in candidates:
                if row.disabled:
                    skipped.append(row)
                    continue
                row.lease_owner, row.lease_until = owner, now + lease
                claimed.append(row)
            if all_sources:
                seen = {row.id for row in candidates}
                for row in (await session.scalars(wanted)).all():
                    if row.id not in seen:
                        skipped.append(row)
    return claimed, skipped

"""Repository queries for `articles` and `stories`: identity within a source, story clusters.

The write path is synchronous Core on one `Connection`: ingestion runs a whole feed's match,
cluster, insert and recount as one call on the store writer's thread (`bot.store.writer`), so a
feed is one transaction and one hop from the event loop, not a dozen awaited statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, bindparam, func, insert, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.schema import ArticleRow, Story
from digest.dedup import (
    STORY_WINDOW,
    StoryIndex,
    StoryKey,
    content_hash,
    identity_key,
    title_fingerprint,
)
from digest.models import Article

__all__ = [
    "Matched",
    "NewArticle",
    "article_id_by_canonical",
    "insert_articles",
    "load_story_index",
    "match_existing",
    "story_index_query",
]

_CHUNK = 400
# Core tables for bulk INSERTs: the ORM bulk path adds per-row work that ingest does not need.
_ARTICLES = cast(Table, ArticleRow.__table__)
_STORIES = cast(Table, Story.__table__)


@dataclass(frozen=True, slots=True)
class NewArticle:
    """A normalised item ready to store, with what ingestion worked out about it."""

    article: Article
    identity: str
    content_hash: str
    reading_minutes: int
    full_text: bool = False


@dataclass(frozen=True, slots=True)
class Matched:
    """Per incoming item: the id of the stored row it is, or the identity it gets as a new row."""

    existing_id: int | None
    identity: str


def _alternate_key(key: str, canonical: str, title: str) -> str:
    """Identity for a distinct item whose base key is already taken (shared GUID or link)."""
    return content_hash(key, canonical, title)


@dataclass(slots=True)
class _Known:
    canonical: str
    title: str
    identity: str
    row_id: int | None


def _same_item(known: _Known, item: Article) -> bool:
    return bool(
        (item.canonical_url and known.canonical == item.canonical_url) or known.title == item.title
    )


# Built once with an expanding parameter: a literal `in_(list)` would coerce every value into
# its own bind parameter on every call (~40k coercions in a 500-feed cycle).
_MATCH_COLUMNS = (ArticleRow.id, ArticleRow.identity, ArticleRow.canonical_url, ArticleRow.title)
_BY_IDENTITY = select(*_MATCH_COLUMNS).where(
    ArticleRow.source_id == bindparam("source_id"),
    ArticleRow.identity.in_(bindparam("values", expanding=True)),
)
_BY_CANONICAL = select(*_MATCH_COLUMNS).where(
    ArticleRow.source_id == bindparam("source_id"),
    ArticleRow.canonical_url.in_(bindparam("values", expanding=True)),
)
_STORIES_BY_URL = select(ArticleRow.canonical_url, ArticleRow.story_id).where(
    ArticleRow.canonical_url.in_(bindparam("values", expanding=True)),
    ArticleRow.story_id.is_not(None),
)


def match_existing(
    conn: Connection, source_id: int, items: Sequence[Article]
) -> list[Matched | None]:
    """Decide per item whether it is already stored for this source (None = repeat in batch).

    GUID, else canonical link, else text hash is the key; an item with a new key but the link and
    title of a stored one is that one (churning GUIDs); an item whose key is taken by a different
    link and title is a distinct item and gets an alternate key.
    """
    keys = [identity_key(i.guid, i.canonical_url, i.title, i.content) for i in items]
    alternates = [
        _alternate_key(k, i.canonical_url, i.title) for k, i in zip(keys, items, strict=True)
    ]
    identities = list({*keys, *alternates})
    canonicals = list({i.canonical_url for i in items if i.canonical_url})
    known: dict[str, _Known] = {}
    by_link_title: dict[tuple[str, str], _Known] = {}
    # Two indexed lookups ((source_id, identity) and (source_id, canonical_url)) rather than
    # one OR, which SQLite would answer by scanning the source's rows.
    for statement, values in (
        (_BY_IDENTITY, identities),
        (_BY_CANONICAL, canonicals),
    ):
        for start in range(0, len(values), _CHUNK):
            rows = conn.execute(
                statement, {"source_id": source_id, "values": values[start : start + _CHUNK]}
            )
            for row_id, identity, canonical, title in rows:
                stored = _Known(canonical, title, identity, row_id)
                known[identity] = stored
                if canonical and title:
                    by_link_title.setdefault((canonical, title), stored)
    out: list[Matched | None] = []
    for item, key, alternate in zip(items, keys, alternates, strict=True):
        entry: _Known | None = known.get(key)
        if entry is not None and not _same_item(entry, item):
            key, entry = alternate, known.get(alternate)
        if entry is None and item.canonical_url and item.title:
            entry = by_link_title.get((item.canonical_url, item.title))
        if entry is not None:
            out.append(Matched(entry.row_id, entry.identity) if entry.row_id is not None else None)
            continue
        fresh = _Known(item.canonical_url, item.title, key, None)
        known[key] = fresh
        if item.canonical_url and item.title:
            by_link_title.setdefault((item.canonical_url, item.title), fresh)
        out.append(Matched(existing_id=None, identity=key))
    return out


_INDEX_LIMIT = 20000


def story_index_query(now: datetime) -> Select[tuple[Any, ...]]:
    """Articles published or fetched within the matching window.

    Two range scans on indexed columns (published_at, fetched_at) joined by UNION ALL rather
    than one OR, which SQLite answers by scanning the table; titles and entities only, never
    content, so a cycle's cost does not grow with the store. (UNION ALL because PostgreSQL
    cannot compare JSON for UNION's de-duplication: an article in both arms comes twice, and
    `load_story_index` keeps each id once, newest first.)
    """
    since = now - STORY_WINDOW * 2
    columns = (
        ArticleRow.id,
        ArticleRow.story_id,
        ArticleRow.canonical_url,
        ArticleRow.title,
        ArticleRow.published_at,
        ArticleRow.entities,
    )
    recent = union_all(
        select(*columns).where(ArticleRow.published_at >= since, ArticleRow.story_id.is_not(None)),
        select(*columns).where(ArticleRow.fetched_at >= since, ArticleRow.story_id.is_not(None)),
    ).subquery()
    # No ORDER BY here: SQLite would then walk both arms in id order by scanning the table.
    return select(recent)


def load_story_index(conn: Connection, now: datetime) -> StoryIndex:
    """The story index of the newest 20,000 articles of the matching window, for clustering."""
    index = StoryIndex()
    seen: set[int] = set()
    rows = sorted(conn.execute(story_index_query(now)), key=lambda row: int(row[0]), reverse=True)
    for row_id, story_id, canonical, title, published_at, entities in rows:
        if row_id in seen or story_id is None:
            continue
        seen.add(row_id)
        if len(seen) > _INDEX_LIMIT:
            break
        index.add(StoryKey(story_id, canonical, title, "", published_at, tuple(entities or ())))
    return index


async def article_id_by_canonical(session: AsyncSession, canonical: str) -> int | None:
    """The oldest article with this canonical URL (from any source), by id; indexed lookup."""
    return await session.scalar(
        select(ArticleRow.id)
        .where(ArticleRow.canonical_url == canonical)
        .order_by(ArticleRow.id)
        .limit(1)
    )


def _stories_for_urls(conn: Connection, canonicals: Sequence[str]) -> dict[str, int]:
    """Stories already holding these canonical URLs (from any source)."""
    wanted = sorted({c for c in canonicals if c})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = conn.execute(_STORIES_BY_URL, {"values": wanted[start : start + _CHUNK]})
        for canonical, story_id in rows:
            if story_id is not None:
                found.setdefault(canonical, story_id)
    return found


def insert_articles(
    conn: Connection,
    source_id: int,
    items: Sequence[NewArticle],
    *,
    fetched_at: datetime,
    is_backlog: bool,
    index: StoryIndex,
) -> int:
    """Insert new articles and put each into a story (joined or new); keeps source counts.

    New stories get temporary negative ids while the batch is clustered, so that stories and
    articles are each written with one bulk INSERT.
    """
    if not items:
        return 0
    by_url = _stories_for_urls(conn, [new.article.canonical_url for new in items])
    pending: dict[int, dict[str, Any]] = {}
    joined: set[int] = set()
    assigned: list[int] = []
    for new in items:
        item = new.article
        story_id = by_url.get(item.canonical_url) if item.canonical_url else None
        if story_id is None:
            story_id = index.find(
                canonical=item.canonical_url,
                title=item.title,
                content=item.content,
                published_at=item.published_at,
                entities=item.entities,
            )
        if story_id is None:
            story_id = index.new_story_id()
            pending[story_id] = {
                "title": item.title or item.content[:200],
                "fingerprint": title_fingerprint(item.title),
                "source_count": 1,
                "first_seen_at": fetched_at,
                "updated_at": fetched_at,
            }
        elif story_id > 0:
            joined.add(story_id)
        if item.canonical_url:
            by_url.setdefault(item.canonical_url, story_id)
        index.add(
            StoryKey(story_id, item.canonical_url, item.title, "", item.published_at, item.entities)
        )
        assigned.append(story_id)
    real: dict[int, int] = {}
    if pending:
        created = _insert_stories(conn, list(pending.values()))
        real = dict(zip(pending, created, strict=True))
        index.rename(real)
    conn.execute(
        insert(_ARTICLES),
        [
            _article_values(source_id, new, real.get(story_id, story_id), fetched_at, is_backlog)
            for new, story_id in zip(items, assigned, strict=True)
        ],
    )
    _recount_sources(conn, sorted(joined), fetched_at)
    return len(items)


def _insert_stories(conn: Connection, values: list[dict[str, Any]]) -> list[int]:
    """Insert stories in one statement and return their ids in the order given.

    SQLite cannot order a bulk RETURNING, so SQLAlchemy would send one INSERT per row; instead
    the ids are read back: after its INSERT this transaction holds SQLite's only write lock, so
    the newest ids are exactly these rows, ascending in insertion order.
    """
    if conn.dialect.name == "sqlite":
        conn.execute(insert(_STORIES), values)
        newest = conn.scalars(
            select(_STORIES.c.id).order_by(_STORIES.c.id.desc()).limit(len(values))
        )
        return sorted(newest.all())
    created = conn.scalars(
        insert(_STORIES).returning(_STORIES.c.id, sort_by_parameter_order=True), values
    )
    return list(created.all())


def _article_values(
    source_id: int, new: NewArticle, story_id: int, fetched_at: datetime, is_backlog: bool
) -> dict[str, Any]:
    item = new.article
    return {
        "source_id": source_id,
        "story_id": story_id,
        "identity": new.identity,
        "guid": item.guid[:2000],
        "url": item.url[:2000],
        "canonical_url": item.canonical_url[:2000],
        "title": item.title,
        "content": item.content,
        "author": item.author[:500],
        "lang": item.lang[:16],
        "published_at": item.published_at,
        "dated": item.dated,
        "fetched_at": fetched_at,
        "content_hash": new.content_hash,
        "reading_minutes": new.reading_minutes,
        "full_text": new.full_text,
        "is_backlog": is_backlog,
        "points": item.points,
        "comments": item.comments,
        "entities": list(item.entities),
        "enrich_status": "pending",
    }


def _recount_sources(conn: Connection, story_ids: list[int], now: datetime) -> None:
    """Set `stories.source_count` to the number of distinct sources among their articles."""
    for start in range(0, len(story_ids), _CHUNK):
        chunk = story_ids[start : start + _CHUNK]
        counts = conn.execute(
            select(ArticleRow.story_id, func.count(func.distinct(ArticleRow.source_id)))
            .where(ArticleRow.story_id.in_(chunk))
            .group_by(ArticleRow.story_id)
        )
        values = [
            {"story_id": story_id, "count": max(1, int(count)), "now": now}
            for story_id, count in counts
        ]
        if values:
            conn.execute(
                update(_STORIES)
                .where(_STORIES.c.id == bindparam("story_id"))
                .values(source_count=bindparam("count"), updated_at=bindparam("now")),
                values,
            )

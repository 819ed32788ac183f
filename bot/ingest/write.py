"""A poll's writes as whole transactions, each run by the store writer in one call.

Fetch state (ETag, body hash) is written in the same transaction as the articles, so a crash
between fetch and commit re-reads the feed next cycle. Every function here takes the writer's
connection first and runs inside its transaction (see `bot.store.writer`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, case, select, update
from sqlalchemy.orm import Session

from bot.ingest import schedule
from bot.ingest.prepare import Draft
from bot.store import articles as repo
from bot.store.articles import Matched, NewArticle
from bot.store.media import record_media
from bot.store.schema import ArticleRow, Source
from digest.dedup import StoryIndex

__all__ = [
    "CycleIndex",
    "Failure",
    "FeedWrite",
    "Pending",
    "commit_feed",
    "match_feed",
    "record_failure",
    "record_unchanged",
    "store_drafts",
    "store_matched",
]

_SOURCES = cast(Table, Source.__table__)
_ARTICLES = cast(Table, ArticleRow.__table__)


@dataclass(frozen=True, slots=True)
class FeedWrite:
    """Everything one feed's commit needs; built on the loop, applied on the writer thread."""

    source_id: int
    owner: str
    now: datetime
    interval: timedelta
    backlog: bool
    state: dict[str, str | None]


def release_lease(owner: str) -> dict[str, Any]:
    """Values that clear a source's lease only while `owner` still holds it: a cycle that ran
    past its lease must not clear the lease of the replica that took the source over."""
    mine = _SOURCES.c.lease_owner == owner
    return {
        "lease_owner": case((mine, None), else_=_SOURCES.c.lease_owner),
        "lease_until": case((mine, None), else_=_SOURCES.c.lease_until),
    }


def split(
    drafts: Sequence[Draft], matched: Sequence[Matched | None]
) -> tuple[list[tuple[Draft, str]], list[tuple[int, Draft]]]:
    """New items with their identities, and known items with their row ids (for HN counts)."""
    new_items: list[tuple[Draft, str]] = []
    known: list[tuple[int, Draft]] = []
    for item, match in zip(drafts, matched, strict=True):
        if match is None:
            continue
        if match.existing_id is None:
            new_items.append((item, match.identity))
        else:
            known.append((match.existing_id, item))
    return new_items, known


def match_feed(
    conn: Connection, source_id: int, drafts: Sequence[Draft]
) -> tuple[list[tuple[Draft, str]], list[tuple[int, Draft]]]:
    """Which drafts are new (read-only; used when pages must be fetched before the commit)."""
    matched = repo.match_existing(conn, source_id, [d.article for d in drafts])
    return split(drafts, matched)


def new_articles(new_items: Sequence[tuple[Draft, str]]) -> list[NewArticle]:
    """Drafts with the identities matching gave them, as the store inserts them."""
    return [
        NewArticle(
            article=item.article,
            identity=identity,
            content_hash=item.content_hash,
            reading_minutes=item.reading_minutes,
            full_text=item.full_text,
        )
        for item, identity in new_items
    ]


def commit_feed(
    conn: Connection,
    write: FeedWrite,
    new_items: Sequence[tuple[Draft, str]],
    known: Sequence[tuple[int, Draft]],
    index: StoryIndex,
) -> int:
    """Insert, cluster, recount, update counts and the source's fetch state; returns new rows."""
    prepared = new_articles(new_items)
    repo.insert_articles(
        conn,
        write.source_id,
        prepared,
        fetched_at=write.now,
        is_backlog=write.backlog,
        index=index,
    )
    if any(new.article.media is not None for new in prepared) or any(
        item.article.media is not None for _, item in known
    ):
        # videos and tools: an ORM session joined to this transaction (flushed, not committed)
        with Session(bind=conn) as session:
            record_media(
                session,
                write.source_id,
                prepared,
                [(row_id, item.article) for row_id, item in known],
                write.now,
            )
            session.flush()
    counts = [
        {"article_id": row_id, "points": item.article.points, "comments": item.article.comments}
        for row_id, item in known
        if item.article.points is not None
    ]
    if counts:
        conn.execute(
            update(_ARTICLES)
            .where(_ARTICLES.c.id == bindparam("article_id"))
            .values(points=bindparam("points"), comments=bindparam("comments")),
            counts,
        )
    conn.execute(
        update(_SOURCES)
        .where(_SOURCES.c.id == write.source_id)
        .values(
            **write.state,
            polled_once=True,
            error_count=0,
            last_error=None,
            disabled=False,
            last_checked_at=write.now,
            last_success_at=write.now,
            next_check_at=schedule.after_success(write.now, write.interval),
            **release_lease(write.owner),
        )
    )
    return len(prepared)


def record_unchanged(
    conn: Connection,
    unchanged: list[dict[str, Any]],
    owner: str,
    now: datetime,
    interval: timedelta,
) -> None:
    """One statement for every 304 of the cycle (a lost batch only means an early re-poll)."""
    conn.execute(
        update(_SOURCES)
        .where(_SOURCES.c.id == bindparam("source_id"))
        .values(
            etag=bindparam("etag"),
            last_modified=bindparam("last_modified"),
            error_count=0,
            last_error=None,
            last_checked_at=now,
            last_success_at=now,
            next_check_at=schedule.after_unchanged(now, interval),
            **release_lease(owner),
        ),
        unchanged,
    )


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed poll: the message, and the server's Retry-After when it sent one."""

    source_id: int
    owner: str
    now: datetime
    interval: timedelta
    max_failures: int
    message: str
    retry_after: float | None
    rate_limited: bool


def record_failure(conn: Connection, failure: Failure) -> None:
    """Error on the row and the next check `bot.ingest.schedule` gives for it."""
    row = conn.execute(
        select(_SOURCES.c.error_count, _SOURCES.c.lease_owner).where(
            _SOURCES.c.id == failure.source_id
        )
    ).first()
    if row is None:
        return
    error_count = schedule.failures_after(row.error_count, rate_limited=failure.rate_limited)
    values: dict[str, Any] = {
        "error_count": error_count,
        "last_error": failure.message,
        "last_checked_at": failure.now,
        "next_check_at": schedule.after_failure(
            failure.now, failure.interval, error_count, failure.retry_after
        ),
        "disabled": schedule.is_disabled(error_count, failure.max_failures),
    }
    if row.lease_owner == failure.owner:
        values.update(lease_owner=None, lease_until=None)
    conn.execute(update(_SOURCES).where(_SOURCES.c.id == failure.source_id).values(**values))


class CycleIndex:
    """The cycle's one story index, loaded on the writer thread when first needed.

    Only the writer thread touches it, in transaction order, so it needs no lock. A failed
    transaction drops it (it may name stories that were rolled back); the next one reloads it.
    """

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.index: StoryIndex | None = None

    def get(self, conn: Connection) -> StoryIndex:
        if self.index is None:
            self.index = repo.load_story_index(conn, self.now)
        return self.index


@dataclass(frozen=True, slots=True)
class Pending:
    """A matched feed whose teasers' pages are fetched before its commit."""

    new_items: list[tuple[Draft, str]]
    known: list[tuple[int, Draft]]
    wanted: list[int]


def store_drafts(
    conn: Connection,
    holder: CycleIndex,
    write: FeedWrite,
    drafts: Sequence[Draft],
    pages: Callable[[list[tuple[Draft, str]]], list[int]] | None = None,
) -> int | Pending:
    """Match and commit a feed in one transaction — unless `pages` picks new items whose pages
    must be fetched first: then nothing is written and the match comes back as `Pending`."""
    index = holder.get(conn)
    try:
        new_items, known = match_feed(conn, write.source_id, drafts)
        wanted = pages(new_items) if pages is not None else []
        if wanted:
            return Pending(new_items, known, wanted)
        return commit_feed(conn, write, new_items, known, index)
    except BaseException:
        holder.index = None
        raise


def store_matched(
    conn: Connection,
    holder: CycleIndex,
    write: FeedWrite,
    new_items: Sequence[tuple[Draft, str]],
    known: Sequence[tuple[int, Draft]],
) -> int:
    """Commit a feed matched earlier (its pages were fetched in between)."""
    index = holder.get(conn)
    try:
        return commit_feed(conn, write, new_items, known, index)
    except BaseException:
        holder.index = None
        raise

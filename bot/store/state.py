"""Two small shared memories in the store: key/value facts, and requests already handled.

Both live in the database rather than in a process so that every replica sees them: a command
table synced by one replica is not re-synced by the next, and an interaction answered by one
replica is a replay to all the others.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.store.db import Database
from bot.store.schema import AppState, SeenRequest

__all__ = ["first_sighting", "read_state", "write_state"]

# How long a handled request is remembered: far longer than any replay window we accept.
SEEN_RETENTION = timedelta(hours=24)


async def read_state(db: Database, key: str) -> str | None:
    async with db.session() as session:
        return await session.scalar(select(AppState.value).where(AppState.key == key))


async def write_state(db: Database, key: str, value: str, now: datetime) -> None:
    async with db.session() as session:
        row = await session.get(AppState, key)
        if row is None:
            session.add(AppState(key=key, value=value, updated_at=now))
        else:
            row.value, row.updated_at = value, now


async def first_sighting(db: Database, key: str, now: datetime) -> bool:
    """Record `key` as handled; True only for the first caller across every replica.

    The primary key decides, in one statement, so two replicas racing on one request cannot both
    win. Rows older than `SEEN_RETENTION` are pruned on the way.
    """
    insert = postgresql_insert if db.dialect == "postgresql" else sqlite_insert
    statement = (
        insert(SeenRequest)
        .values(key=key, seen_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(SeenRequest.key)
    )
    async with db.session() as session:
        inserted = (await session.execute(statement)).first() is not None
        if inserted:
            await session.execute(
                delete(SeenRequest).where(SeenRequest.seen_at < now - SEEN_RETENTION)
            )
    return inserted

"""The migrated schema on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.store.db import Database
from bot.store.schema import ArticleRow, Channel, Delivery, Source


async def test_timestamps_round_trip_as_aware_utc(db: Database) -> None:
    tokyo = timezone(timedelta(hours=9))
    async with db.session() as session:
        session.add(
            Source(
                name="s",
                url="https://example.com/feed",
                next_check_at=datetime(2026, 11, 28, 9, 0, tzinfo=tokyo),
            )
        )
    async with db.session() as session:
        source = (await session.scalars(select(Source))).one()
    assert source.next_check_at == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    assert source.next_check_at.tzinfo is not None


async def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive"):
        async with db.session() as session:
            session.add(Source(name="s", url="https://e.com/f", next_check_at=datetime(2026, 1, 1)))


async def test_article_identity_is_unique_per_source(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.session() as session:
        source = Source(name="s", url="https://example.com/feed")
        session.add(source)
        await session.flush()
        session.add(ArticleRow(source_id=source.id, identity="a", published_at=now))
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(ArticleRow(source_id=source.id, identity="a", published_at=now))


async def test_delivery_key_is_unique_per_channel(db: Database) -> None:
    async with db.session() as session:
        channel = Channel(platform="slack", workspace="T1", channel="C1")
        session.add(channel)
        await session.flush()
        session.add(Delivery(channel_id=channel.id, key="daily:2026-11-28", kind="daily"))
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(Delivery(channel_id=channel.id, key="daily:2026-11-28", kind="daily"))


def test_migrations_match_the_orm_schema(database_url: str) -> None:
    """The migrated database has exactly the tables, columns and indexes schema.py declares,
    so a model change without a migration fails here (on SQLite and PostgreSQL)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from bot.store.db import sync_url, upgrade_sync
    from bot.store.schema import Base

    upgrade_sync(database_url)  # a second upgrade is a no-op
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/a.db", "sqlite+aiosqlite:///data/a.db"),
        ("postgresql://u:secret@h/db", "postgresql+psycopg://u:secret@h/db"),
    ],
)
def test_plain_urls_get_the_async_driver(url: str, expected: str) -> None:
    from bot.store.db import async_url

    assert async_url(url) == expected
    with pytest.raises(ValueError, match="unsupported"):
        async_url("mysql://h/db")

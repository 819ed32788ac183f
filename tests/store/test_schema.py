"""The migrated schema on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

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


def test_script_heads_read_from_the_files_are_alembics() -> None:
    from alembic.script import ScriptDirectory

    from bot.store.db import alembic_config, script_heads

    scripts = ScriptDirectory.from_config(alembic_config("sqlite:///unused.db"))
    assert script_heads() == frozenset(scripts.get_heads())


def test_a_store_at_the_heads_is_not_migrated_again(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command opens the store with an upgrade; a current one costs no Alembic run."""
    from alembic import command

    from bot.store.db import upgrade_sync

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Alembic ran on a store already at the heads")

    monkeypatch.setattr(command, "upgrade", refuse)
    upgrade_sync(database_url)


def test_an_older_store_is_still_migrated(tmp_path: Path) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    from bot.store.db import _stored_revisions, alembic_config, script_heads, upgrade_sync

    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = alembic_config(url)
    base = ScriptDirectory.from_config(config).get_base()
    assert base is not None
    command.upgrade(config, base)
    assert _stored_revisions(url) == {base} != script_heads()
    upgrade_sync(url)
    assert _stored_revisions(url) == script_heads()


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

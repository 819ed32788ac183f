"""Engine, sessions and migrations for SQLite (default) and PostgreSQL (several replicas).

Async drivers (aiosqlite, psycopg) serve the application; Alembic runs on the same URL with the
matching sync driver, because migrations happen once at start-up, outside the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.errors import StoreError, UnsupportedDatabaseError
from bot.messages import msg
from bot.store.problems import describe_store_error, url_hint

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _with_driver(url: str, drivers: dict[str, str]) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise UnsupportedDatabaseError(
            explained=msg("store.unparseable", url=url[:80], hint=url_hint())
        ) from error
    backend = parsed.get_backend_name()
    if backend not in drivers:
        raise UnsupportedDatabaseError(
            explained=msg("store.unsupported_scheme", scheme=parsed.drivername, hint=url_hint())
        )
    return parsed.set(drivername=drivers[backend]).render_as_string(hide_password=False)


def async_url(url: str) -> str:
    """Pick the async driver for a plain `sqlite:///` or `postgresql://` URL."""
    return _with_driver(url, {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"})


def sync_url(url: str) -> str:
    """Pick the sync driver for migrations (psycopg 3 serves both modes)."""
    return _with_driver(url, {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"})


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


def upgrade_sync(url: str) -> None:
    """Bring the schema to the newest revision (all heads)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if (
        parsed.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not (
            database.startswith("file:")  # a SQLite URI (`?uri=true`): the driver opens it as given
        )
    ):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "heads")


class Database:
    """Owns the async engine; `session()` is the unit of work every use case runs in."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        target = async_url(url)  # first: an unsupported or unparseable URL fails in one line
        self.dialect = make_url(url).get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "postgresql":
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(target, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    async def upgrade(self) -> None:
        """Migrate; a database the operator must fix becomes a one-line `StoreError`."""
        try:
            await asyncio.to_thread(upgrade_sync, self.url)
        except Exception as error:
            described = describe_store_error(error, self.url)
            if described is None:
                raise
            raise StoreError(explained=described) from error

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that commits on success and rolls back on error."""
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()

"""Engine, sessions and migrations for SQLite (default) and PostgreSQL (several replicas).

Async drivers (aiosqlite, psycopg) serve the application; Alembic runs on the same URL with the
matching sync driver, because migrations happen once at start-up, outside the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from bot.errors import StoreError, UnsupportedDatabaseError
from bot.messages import msg
from bot.store.problems import describe_store_error, safe_url, url_hint

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"""^revision(?:\s*:[^=]*)?\s*=\s*["']([^"']+)["']\s*$""", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=]*)?\s*=\s*(.+)$", re.MULTILINE)
_NO_DEPENDENCY = re.compile(r"^depends_on(?:\s*:[^=]*)?\s*=\s*None\s*$", re.MULTILINE)
_QUOTED = re.compile(r"""["']([^"']+)["']""")


def _with_driver(url: str, drivers: dict[str, str]) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise UnsupportedDatabaseError(
            explained=msg("store.unparseable", url=safe_url(url), hint=url_hint())
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
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


@functools.cache
def script_heads() -> frozenset[str] | None:
    """The head revisions of the migration scripts, read from their text without importing
    Alembic; None when any script does not read as expected (Alembic then decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        if path.name == "__init__.py":
            continue
        source = path.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if revision is None or down is None or not _NO_DEPENDENCY.search(source):
            return None
        revisions.add(revision.group(1))
        parents.update(_QUOTED.findall(down.group(1)))
    if not revisions or not parents <= revisions:
        return None
    return frozenset(revisions - parents)


def _stored_revisions(url: str) -> frozenset[str] | None:
    """The revisions the database is stamped with; None when they cannot be read (no store
    yet, no version table, an unreachable server: Alembic then runs and says what is wrong)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        return None
    try:
        engine = create_engine(sync_url(url), poolclass=NullPool)
        try:
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT version_num FROM alembic_version"))
                return frozenset(str(row[0]) for row in rows)
        finally:
            engine.dispose()
    except Exception:
        return None


def upgrade_sync(url: str) -> None:
    """Bring the schema to the newest revision (all heads).

    A store already at the heads is left as it is without importing Alembic (about a fifth
    of a second of every CLI command's start-up).
    """
    heads = script_heads()
    if heads is not None and _stored_revisions(url) == heads:
        return
    from alembic import command

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

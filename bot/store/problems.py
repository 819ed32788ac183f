"""Database failures a person can fix, described in one line that names the database and the fix.

Drivers word the same problem differently (psycopg, sqlite3, Alembic); the operator needs to know
which of a handful of things is wrong: the server is not reachable, the database does not exist,
the credentials are refused, the store is read-only, or the schema is newer than this program.
"""

from __future__ import annotations

import sqlite3
import sys

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from bot.errors import StoreError

SUPPORTED = "use sqlite:///path/to/ainews.db or postgresql://user@host:5432/dbname"
WHERE = "(--database-url, AINEWS_DATABASE_URL or [database] url)"


def safe_url(url: str) -> str:
    """The URL with its password hidden, fit for an error line or a log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _where(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return safe_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database or ':memory:'}"
    host = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    return f"PostgreSQL database {parsed.database or '(none)'!r} on {host}"


def _driver_text(error: BaseException) -> str:
    original = getattr(error, "orig", None)
    return str(original if original is not None else error).strip()


def describe_store_error(error: BaseException, url: str) -> str | None:
    """One line for a database problem the operator can fix; None when it looks like a bug."""
    where = _where(url)
    if isinstance(error, StoreError):
        return str(error)
    if isinstance(error, ArgumentError):
        return f"database URL {safe_url(url)!r} cannot be parsed: {SUPPORTED} {WHERE}"
    # Alembic is imported only when a migration runs (`bot.store.db`); unloaded, it raised nothing
    alembic_errors = sys.modules.get("alembic.util.exc")
    if alembic_errors is not None and isinstance(error, alembic_errors.CommandError):
        text = str(error)
        if "Can't locate revision" in text:
            return (
                f"{where} has a schema newer than this ainews ({text.split(chr(39))[1:2]}); "
                "upgrade ainews, or restore a backup made with this version"
            )
        return f"{where}: migration failed: {text.splitlines()[0]}"
    if isinstance(error, OSError) and not isinstance(error, DBAPIError):
        return f"cannot create {where}: {error.strerror or error}; fix the path or its permissions"
    if not isinstance(error, DBAPIError | sqlite3.Error):
        return None
    text = _driver_text(error)
    lowered = text.lower()
    if "does not exist" in lowered and "database" in lowered:
        return f"{where} does not exist: create it (createdb) or fix the database name {WHERE}"
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return f"{where} refused the credentials: check the user and password {WHERE}"
    if "role" in lowered and "does not exist" in lowered:
        return f"{where} has no such user: check the user name {WHERE}"
    if "read-only" in lowered or "readonly" in lowered or "read only" in lowered:
        return (
            f"{where} is read-only: point ainews at a writable database "
            "(the primary, not a standby; a file and directory it may write)"
        )
    if "unable to open database file" in lowered:
        return f"cannot open {where}: the directory is missing or not writable"
    if "file is not a database" in lowered:
        return f"{where} is not a SQLite database: fix the path {WHERE}"
    if "permission denied" in lowered:
        return f"{where} refused access: grant the user rights on the database and schema"
    if (
        "connection refused" in lowered
        or "could not connect" in lowered
        or "connection failed" in lowered
        or "timeout" in lowered
        or "name or service not known" in lowered
        or "could not translate host name" in lowered
    ):
        return f"cannot reach {where}: is the server running and the host and port right? {WHERE}"
    return None

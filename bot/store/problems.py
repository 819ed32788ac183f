"""Database failures a person can fix, described in one line that names the database and the fix.

Drivers word the same problem differently (psycopg, sqlite3, Alembic); the operator needs to know
which of a handful of things is wrong: the server is not reachable, the database does not exist,
the credentials are refused, the store is read-only, or the schema is newer than this program.
"""

from __future__ import annotations

import re
import sqlite3
import sys

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from bot.errors import StoreError
from bot.messages import N_, Msg, msg

# the two hints every URL problem ends with, as catalogue ids
SUPPORTED = N_("store.supported")
WHERE = N_("store.where_hint")


def url_hint() -> Msg:
    """What a database URL must look like and where it is set, as one hint."""
    return msg("store.url_hint", supported=msg(SUPPORTED), where=msg(WHERE))


_CREDENTIALS = re.compile(r"(//[^/:@\s]*:)[^@/\s]*@")


def safe_url(url: str) -> str:
    """The URL with its password hidden, fit for an error line or a log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        # not a URL SQLAlchemy reads, but it may still hold "user:password@"
        return _CREDENTIALS.sub(r"\1***@", url[:80])


def _where(url: str) -> Msg:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return msg("store.where.url", url=safe_url(url))
    if parsed.get_backend_name() == "sqlite":
        return msg("store.where.sqlite", path=parsed.database or ":memory:")
    return msg(
        "store.where.postgres",
        name=parsed.database or "(none)",
        host=f"{parsed.host or 'localhost'}:{parsed.port or 5432}",
    )


def _driver_text(error: BaseException) -> str:
    original = getattr(error, "orig", None)
    return str(original if original is not None else error).strip()


_CANNOT_REACH = (
    "connection refused",
    "could not connect",
    "connection failed",
    "timeout",
    "name or service not known",
    "could not translate host name",
)


def describe_store_error(error: BaseException, url: str) -> Msg | None:
    """One line for a database problem the operator can fix; None when it looks like a bug."""
    where = _where(url)
    if isinstance(error, StoreError):
        return error.explained or msg("store.as_is", text=str(error))
    if isinstance(error, ArgumentError):
        return msg("store.unparseable", url=safe_url(url), hint=url_hint())
    # Alembic is imported only when a migration runs (`bot.store.db`); unloaded, it raised nothing
    alembic_errors = sys.modules.get("alembic.util.exc")
    if alembic_errors is not None and isinstance(error, alembic_errors.CommandError):
        text = str(error)
        if "Can't locate revision" in text:
            revision = "".join(text.split(chr(39))[1:2])
            return msg("store.newer_schema", where=where, revision=revision)
        return msg("store.migration_failed", where=where, text=text.splitlines()[0])
    if isinstance(error, OSError) and not isinstance(error, DBAPIError):
        return msg("store.cannot_create", where=where, reason=str(error.strerror or error))
    if not isinstance(error, DBAPIError | sqlite3.Error):
        return None
    lowered = _driver_text(error).lower()
    hint = msg(WHERE)
    if "does not exist" in lowered and "database" in lowered:
        return msg("store.missing_database", where=where, hint=hint)
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return msg("store.bad_credentials", where=where, hint=hint)
    if "role" in lowered and "does not exist" in lowered:
        return msg("store.no_such_user", where=where, hint=hint)
    if "read-only" in lowered or "readonly" in lowered or "read only" in lowered:
        return msg("store.read_only", where=where)
    if "unable to open database file" in lowered:
        return msg("store.cannot_open", where=where)
    if "file is not a database" in lowered:
        return msg("store.not_sqlite", where=where, hint=hint)
    if "permission denied" in lowered:
        return msg("store.permission_denied", where=where)
    if any(needle in lowered for needle in _CANNOT_REACH):
        return msg("store.unreachable", where=where, hint=hint)
    return None

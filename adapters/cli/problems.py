"""Turn user errors into one line on stderr and exit 2; let bugs keep their traceback.

A user error is anything the person at the terminal can fix: a mistyped option, a bad value, a
config key, a database that is unreachable, missing, read-only or unsupported. Click would print
usage blocks and SQLAlchemy a page of traceback; an operator needs the one thing to change.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from typer import TyperException

USER_ERROR = 2

# The database URL of the command being run, so a failure deep in a session can name it.
_database_url: list[str] = []


def remember_database_url(url: str) -> None:
    _database_url[:] = [url]


def one_line(text: str) -> str:
    return " ".join(text.split())


def fail(message: str) -> typer.Exit:
    """Print `error: message` on one line; raise the returned Exit (code 2)."""
    typer.echo(f"error: {one_line(message)}", err=True)
    return typer.Exit(USER_ERROR)


def _click_message(error: TyperException) -> str:
    message = error.format_message()
    command = getattr(getattr(error, "ctx", None), "command_path", "") or "ainews"
    return f"{message} (see `{command} --help`)"


@contextmanager
def exit_on_user_error(standalone: bool = True) -> Iterator[None]:
    """Around the whole CLI: user errors become one line and exit code 2."""
    try:
        yield
    except typer.Exit:
        raise
    except TyperException as error:
        if not standalone:
            raise
        if type(error).__name__ == "NoArgsIsHelpError":
            typer.echo(error.format_message(), err=True)
            sys.exit(USER_ERROR)
        typer.echo(f"error: {one_line(_click_message(error))}", err=True)
        sys.exit(USER_ERROR)
    except Exception as error:
        from bot.errors import AinewsError

        if isinstance(error, AinewsError):
            if not standalone:
                raise
            typer.echo(f"error: {one_line(str(error))}", err=True)
            sys.exit(USER_ERROR)
        from bot.store.problems import describe_store_error

        described = describe_store_error(error, _database_url[0] if _database_url else "")
        if described is None or not standalone:
            raise
        typer.echo(f"error: {one_line(described)}", err=True)
        sys.exit(USER_ERROR)


def quiet_source_warnings() -> None:
    """The command reports each failing source itself, so the per-source log warning would
    print the same failure twice; it stays visible with `--log-level INFO` or lower."""
    if logging.getLogger().level >= logging.WARNING:
        logging.getLogger("bot.ingest.poll").setLevel(logging.ERROR)

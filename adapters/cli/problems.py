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

from adapters.cli.lang import cli_translator
from adapters.i18n import N_
from bot.errors import AinewsError

USER_ERROR = 2

# The database URL of the command being run, so a failure deep in a session can name it.
_database_url: list[str] = []


def remember_database_url(url: str) -> None:
    _database_url[:] = [url]


def one_line(text: str) -> str:
    return " ".join(text.split())


def error_line(message: str) -> str:
    """`error: message` (in the CLI language) on one line."""
    return cli_translator()(N_("cli.error"), message=one_line(message))


def reason(error: AinewsError) -> str:
    """Why an operator-facing error happened, in the CLI's language when it is explained."""
    if error.explained is not None:
        return cli_translator().render(error.explained)
    return str(error)


def say_error(message: str) -> None:
    typer.echo(error_line(message), err=True)


def fail(message: str, code: int = USER_ERROR) -> typer.Exit:
    """Print `error: message` on one line; raise the returned Exit (code 2 unless told)."""
    say_error(message)
    return typer.Exit(code)


def _click_message(error: TyperException) -> str:
    """click's own wording of a usage error, with our pointer to the command's help."""
    command = getattr(getattr(error, "ctx", None), "command_path", "") or "ainews"
    return cli_translator()(N_("cli.see_help"), message=error.format_message(), command=command)


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
        say_error(_click_message(error))
        sys.exit(USER_ERROR)
    except AinewsError as error:
        if not standalone:
            raise
        say_error(reason(error))
        sys.exit(USER_ERROR)
    except Exception as error:
        from bot.store.problems import describe_store_error  # SQLAlchemy: only when it is needed

        described = describe_store_error(error, _database_url[0] if _database_url else "")
        if described is None or not standalone:
            raise
        say_error(cli_translator().render(described))
        sys.exit(USER_ERROR)


def quiet_source_warnings() -> None:
    """The command reports each failing source itself, so the per-source log warning would
    print the same failure twice; it stays visible with `--log-level INFO` or lower."""
    if logging.getLogger().level >= logging.WARNING:
        logging.getLogger("bot.ingest.poll").setLevel(logging.ERROR)

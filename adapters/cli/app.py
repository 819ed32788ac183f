"""The Typer application, global options, and helpers every command module shares."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from collections.abc import Awaitable
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, TypeVar

import typer

from adapters.cli.help import CliTyper, LocalizedGroup
from adapters.cli.lang import cli_translator, remember_config_arg
from adapters.cli.problems import exit_on_user_error, fail, reason, remember_database_url
from adapters.i18n import N_
from bot.config import Settings, closest, load_settings
from bot.errors import ConfigError
from bot.logs import configure_logging

T = TypeVar("T")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

# Options of the root command that take a value; users put them after the subcommand too
# (`ainews fetch --config x`), so they are moved in front before click parses anything.
GLOBAL_VALUE_OPTIONS = frozenset({"--config", "--database-url", "--log-level"})
GLOBAL_FLAGS = frozenset({"--version"})


def global_options_first(args: list[str]) -> list[str]:
    """Reorder argv so that global options precede the subcommand; `--` ends the search."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_VALUE_OPTIONS and "=" not in arg and index + 1 < len(args):
            front.extend(args[index : index + 2])
            index += 2
            continue
        if name in GLOBAL_VALUE_OPTIONS or arg in GLOBAL_FLAGS:
            front.append(arg)
        else:
            rest.append(arg)
        index += 1
    return front + rest


class AinewsGroup(LocalizedGroup):
    """The root command: global options anywhere, help in the CLI language, and every user
    error as one line, exit 2."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        remember_config_arg(list(args))  # help and early errors read the language from it
        return super().parse_args(ctx, global_options_first(list(args)))

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.pop("standalone_mode", True)
        kwargs["standalone_mode"] = False
        with exit_on_user_error(standalone):
            result = super().main(*args, **kwargs)
            if not standalone:
                return result
            sys.exit(result if isinstance(result, int) else 0)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ainews {package_version('ainews')}")
        raise typer.Exit(0)


app = CliTyper(
    name="ainews",
    cls=AinewsGroup,
    help=N_("cli.help.app"),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None, "--config", envvar="AINEWS_CONFIG", help=N_("cli.help.opt.config")
    ),
    database_url: str | None = typer.Option(
        None, "--database-url", envvar="AINEWS_DATABASE_URL", help=N_("cli.help.opt.database_url")
    ),
    log_level: str = typer.Option("WARNING", "--log-level", help=N_("cli.help.opt.log_level")),
    _show_version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help=N_("cli.help.opt.version")
    ),
) -> None:
    """Global options shared by every command."""
    level = log_level.upper()
    if level not in LOG_LEVELS:
        t = cli_translator()
        close = closest(level, LOG_LEVELS)
        hint = t(N_("cli.did_you_mean"), word=close) if close else ""
        raise typer.BadParameter(
            t(N_("cli.must_be_one_of"), choices=t.join(LOG_LEVELS)) + hint,
            param_hint="--log-level",
        )
    configure_logging(level)
    ctx.obj = {"config": config, "database_url": database_url}


def settings_from(ctx: typer.Context) -> Settings:
    """Load settings or exit 2 with the file, key and expectation (a usage/config error)."""
    options = ctx.find_root().obj or {}
    try:
        settings = load_settings(options.get("config"), database_url=options.get("database_url"))
    except ConfigError as error:
        raise fail(reason(error)) from error
    remember_database_url(settings.database.url)
    return settings


def run_async(awaitable: Awaitable[T]) -> T:
    if not gc.isenabled():
        # `main` paused the cyclic GC for start-up: everything imported and built so far lives
        # as long as the command, so it is frozen out of every later collection instead of
        # being walked again by each one (0.3-0.5 s of a short `fetch` otherwise)
        gc.freeze()
        gc.enable()

    async def runner() -> T:
        return await awaitable

    return asyncio.run(runner())


def print_json(value: Any) -> None:
    """Stable machine output: one JSON document on stdout."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")

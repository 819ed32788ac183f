"""The Typer application, global options, and helpers every command module shares."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import typer

from bot.config import Settings, load_settings
from bot.errors import ConfigError
from bot.logs import configure_logging

T = TypeVar("T")

app = typer.Typer(
    name="ainews",
    help="ainews reads AI news for your team: ingest, score, summarise, translate, deliver.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None, "--config", envvar="AINEWS_CONFIG", help="Path to config.toml."
    ),
    database_url: str | None = typer.Option(
        None, "--database-url", envvar="AINEWS_DATABASE_URL", help="SQLAlchemy database URL."
    ),
    log_level: str = typer.Option("WARNING", "--log-level", help="DEBUG, INFO, WARNING, ERROR."),
) -> None:
    """Global options shared by every command."""
    configure_logging(log_level.upper())
    ctx.obj = {"config": config, "database_url": database_url}


def settings_from(ctx: typer.Context) -> Settings:
    """Load settings or exit 2 with the file, key and expectation (a usage/config error)."""
    options = ctx.find_root().obj or {}
    try:
        return load_settings(options.get("config"), database_url=options.get("database_url"))
    except ConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error


def run_async(awaitable: Awaitable[T]) -> T:
    async def runner() -> T:
        return await awaitable

    return asyncio.run(runner())


def print_json(value: Any) -> None:
    """Stable machine output: one JSON document on stdout."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")

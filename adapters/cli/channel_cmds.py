"""`ainews channels list|enable` and `ainews platforms list|resume`: see and undo what delivery
errors switched off — a disabled channel (its rows wait) or a paused platform (token refused)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import typer

from adapters.cli.app import app, print_json, run_async, settings_from

if TYPE_CHECKING:
    from bot.channels import ChannelStatus
    from bot.config import Settings
    from bot.store.db import Database

channels_app = typer.Typer(help="Delivery destinations and their state.", no_args_is_help=True)
platforms_app = typer.Typer(
    help="Slack/Discord paused after a refused token.", no_args_is_help=True
)
app.add_typer(channels_app, name="channels")
app.add_typer(platforms_app, name="platforms")


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Database]:
    from bot.store.db import Database

    db = Database(settings.database.url)
    await db.upgrade()
    try:
        yield db
    finally:
        await db.dispose()


async def _statuses(settings: Settings) -> list[ChannelStatus]:
    from bot.channels import channel_statuses

    async with _database(settings) as db, db.session() as session:
        return await channel_statuses(session)


@channels_app.command("list")
def channels_list(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """Every destination: disabled or not, why, and how many messages wait for it."""
    rows = run_async(_statuses(settings_from(ctx)))
    if as_json:
        print_json([asdict(row) for row in rows])
        return
    for row in rows:
        state = f"disabled: {row.reason}" if row.disabled else "active"
        typer.echo(f"{row.id:>4}  {row.platform}  {row.channel}  {state}  {row.pending} pending")


async def _enable(settings: Settings, channel_id: int) -> tuple[bool, bool]:
    from bot.channels import enable_channel
    from bot.store.schema import Channel

    async with _database(settings) as db, db.session() as session:
        channel = await session.get(Channel, channel_id)
        if channel is None:
            return False, False
        return True, await enable_channel(session, channel)


@channels_app.command("enable")
def channels_enable(
    ctx: typer.Context, channel_id: int = typer.Argument(..., metavar="ID", help="Channel id.")
) -> None:
    """Re-enable a disabled channel; its waiting messages go out with the next delivery run."""
    found, changed = run_async(_enable(settings_from(ctx), channel_id))
    if not found:
        typer.echo(f"error: no channel with id {channel_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"channel {channel_id} " + ("enabled" if changed else "was already active"))


async def _platforms(settings: Settings) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from bot.platforms import paused_platforms
    from bot.store.schema import Channel

    async with _database(settings) as db, db.session() as session:
        paused = await paused_platforms(session, settings)
        channels = list(await session.scalars(select(Channel.platform).distinct()))
    names = sorted(set(channels) | set(paused))
    return [
        {"platform": name, "paused": name in paused, "reason": paused.get(name)} for name in names
    ]


@platforms_app.command("list")
def platforms_list(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """Each platform with destinations, and whether it is paused and why."""
    rows = run_async(_platforms(settings_from(ctx)))
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['platform']}  " + (f"paused: {row['reason']}" if row["paused"] else "ok"))


async def _resume(settings: Settings, platform: str) -> bool:
    from bot.platforms import resume_platform

    async with _database(settings) as db, db.session() as session:
        return await resume_platform(session, platform)


@platforms_app.command("resume")
def platforms_resume(
    ctx: typer.Context, platform: str = typer.Argument(..., help="slack or discord.")
) -> None:
    """Lift a pause by hand (a new token lifts it on its own)."""
    resumed = run_async(_resume(settings_from(ctx), platform.lower()))
    typer.echo(f"{platform} " + ("resumed" if resumed else "was not paused"))

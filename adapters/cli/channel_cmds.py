"""`ainews channels list|enable` and `ainews platforms list|resume`: see and undo what delivery
errors switched off — a disabled channel (its rows wait) or a paused platform (token refused)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import typer

from adapters.cli.app import app, print_json, run_async, settings_from
from adapters.cli.help import CliTyper
from adapters.cli.lang import cli_translator
from adapters.cli.problems import fail
from adapters.i18n import N_

if TYPE_CHECKING:
    from bot.channels import ChannelStatus
    from bot.config import Settings
    from bot.store.db import Database

channels_app = CliTyper(help=N_("cli.help.channels"), no_args_is_help=True)
platforms_app = CliTyper(help=N_("cli.help.platforms"), no_args_is_help=True)
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


@channels_app.command("list", help=N_("cli.help.channels.list"))
def channels_list(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help=N_("cli.help.opt.json_array")),
) -> None:
    settings = settings_from(ctx)
    rows = run_async(_statuses(settings))
    if as_json:
        print_json([asdict(row) for row in rows])
        return
    t = cli_translator(settings)
    for row in rows:
        state = (
            t(N_("cli.channel.disabled"), reason=row.reason)
            if row.disabled
            else t(N_("cli.channel.active"))
        )
        pending = t.plural("cli.channel.pending", row.pending)
        typer.echo(f"{row.id:>4}  {row.platform}  {row.channel}  {state}  {pending}")


async def _enable(settings: Settings, channel_id: int) -> tuple[bool, bool]:
    from bot.channels import enable_channel
    from bot.store.schema import Channel

    async with _database(settings) as db, db.session() as session:
        channel = await session.get(Channel, channel_id)
        if channel is None:
            return False, False
        return True, await enable_channel(session, channel)


@channels_app.command("enable", help=N_("cli.help.channels.enable"))
def channels_enable(
    ctx: typer.Context,
    channel_id: int = typer.Argument(..., metavar="ID", help=N_("cli.help.opt.channel_id")),
) -> None:
    settings = settings_from(ctx)
    t = cli_translator(settings)
    found, changed = run_async(_enable(settings, channel_id))
    if not found:
        raise fail(t(N_("cli.channel.missing"), id=channel_id), code=1)
    done = N_("cli.channel.enabled") if changed else N_("cli.channel.was_active")
    typer.echo(t(done, id=channel_id))


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


@platforms_app.command("list", help=N_("cli.help.platforms.list"))
def platforms_list(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help=N_("cli.help.opt.json_array")),
) -> None:
    settings = settings_from(ctx)
    rows = run_async(_platforms(settings))
    if as_json:
        print_json(rows)
        return
    t = cli_translator(settings)
    for row in rows:
        state = (
            t(N_("cli.platform.paused"), reason=row["reason"])
            if row["paused"]
            else t(N_("cli.platform.ok"))
        )
        typer.echo(f"{row['platform']}  {state}")


async def _resume(settings: Settings, platform: str) -> bool:
    from bot.platforms import resume_platform

    async with _database(settings) as db, db.session() as session:
        return await resume_platform(session, platform)


@platforms_app.command("resume", help=N_("cli.help.platforms.resume"))
def platforms_resume(
    ctx: typer.Context,
    platform: str = typer.Argument(..., help=N_("cli.help.opt.platform")),
) -> None:
    settings = settings_from(ctx)
    resumed = run_async(_resume(settings, platform.lower()))
    done = N_("cli.platform.resumed") if resumed else N_("cli.platform.was_not_paused")
    typer.echo(cli_translator(settings)(done, platform=platform))

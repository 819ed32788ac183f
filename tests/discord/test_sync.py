"""Command sync hygiene: Discord rate-limits syncs, so ainews syncs only a changed table and
never from a one-shot cycle."""

from __future__ import annotations

import asyncio

from adapters.discord_client import start_discord
from adapters.main import run_once
from bot.context import AppContext
from bot.store.state import read_state, write_state
from tests.discord.conftest import NOW
from tests.fakes.discord_api import (
    APP_ID,
    MAX_COMMAND_TOTAL,
    FakeDiscordAPI,
    command_chars,
    command_errors,
)
from tests.fakes.store_seed import FakeClock

GLOBAL_KEY = f"discord:commands:{APP_ID}:global"


def _syncs(api: FakeDiscordAPI) -> int:
    return len(api.calls_to(r"/applications/\d+(/guilds/\d+)?/commands$", "PUT"))


async def test_an_unchanged_table_is_not_synced_again(
    discord_api: FakeDiscordAPI, ctx: AppContext
) -> None:
    first = await start_discord(ctx, connect_gateway=False)
    await first.close()
    stored = await read_state(ctx.db, GLOBAL_KEY)
    assert _syncs(discord_api) == 1 and stored is not None and len(stored) == 64
    second = await start_discord(ctx, connect_gateway=False)
    await second.close()
    assert _syncs(discord_api) == 1  # the restart made no sync call


async def test_a_changed_table_is_synced_and_its_hash_stored(
    discord_api: FakeDiscordAPI, ctx: AppContext
) -> None:
    await write_state(ctx.db, GLOBAL_KEY, "hash-of-an-older-command-table", NOW)
    service = await start_discord(ctx, connect_gateway=False)
    await service.close()
    assert _syncs(discord_api) == 1
    assert discord_api.commands[None][0]["name"] == "ainews"
    assert await read_state(ctx.db, GLOBAL_KEY) != "hash-of-an-older-command-table"
    # another scope (a development guild) is its own table with its own hash
    ctx.settings = ctx.settings.model_copy(
        update={"discord": ctx.settings.discord.model_copy(update={"dev_guild_id": 42})}
    )
    service = await start_discord(ctx, connect_gateway=False)
    await service.close()
    assert len(discord_api.calls_to(r"/guilds/42/commands$", "PUT")) == 1


async def test_run_once_never_syncs(discord_api: FakeDiscordAPI, ctx: AppContext) -> None:
    report = await run_once(ctx.settings, clock=FakeClock(NOW))
    assert report.errors == []
    assert _syncs(discord_api) == 0
    assert discord_api.calls_to(r"/users/@me$", "GET")  # it did log in, for delivery


async def test_the_command_group_fits_discords_8000_characters(
    discord_api: FakeDiscordAPI, ctx: AppContext
) -> None:
    service = await start_discord(ctx, connect_gateway=False)
    await service.close()
    [put] = discord_api.calls_to(r"/applications/\d+/commands$", "PUT")
    assert put.status == 200
    assert command_chars(put.body[0]) <= MAX_COMMAND_TOTAL
    # and the fake refuses what Discord refuses
    oversized = {**put.body[0], "description": "x" * 100}
    oversized["options"] = [*oversized["options"]] * 20
    assert command_chars(oversized) > MAX_COMMAND_TOTAL
    assert "0" in command_errors([oversized])


async def test_the_fake_enforces_the_global_limit_and_discord_py_waits_it_out(
    discord_api: FakeDiscordAPI, ctx: AppContext
) -> None:
    from discord.http import Route

    service = await start_discord(ctx, connect_gateway=False, sync=False)
    try:
        burst = [service.client.http.request(Route("GET", "/users/@me")) for _ in range(60)]
        users = await asyncio.gather(*burst)
    finally:
        await service.close()
    assert discord_api.global_429s >= 1  # more than 50 in a second met the global limit
    assert all(user["id"] for user in users)  # and every request still succeeded after waiting

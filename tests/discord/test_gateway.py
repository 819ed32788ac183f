"""Gateway mode over a loopback fake gateway: discord.py's real gateway client connects to
`[discord] gateway_url`, identifies with non-privileged intents only, and answers slash commands
that arrive as INTERACTION_CREATE through the fake REST API — across drops, RECONNECT and
INVALID_SESSION, without losing or repeating a command."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from discord.gateway import DiscordWebSocket

from adapters.discord_client import DiscordService, start_discord
from bot.context import AppContext
from tests.discord.conftest import Interactions
from tests.fakes.discord_api import FakeDiscordAPI
from tests.fakes.discord_gateway import (
    HEARTBEAT,
    IDENTIFY,
    PRIVILEGED_INTENTS,
    RESUME,
    FakeDiscordGateway,
    running_fake_gateway,
)

SLASH_FIXTURE = "platform/discord/application-commands_slash-command-interaction.json"
GUILDS_INTENT = 1 << 0
# 👍/👎 on alerts are feedback (adapters/discord_feedback); not a privileged intent
GUILD_MESSAGE_REACTIONS_INTENT = 1 << 10
WANTED_INTENTS = GUILDS_INTENT | GUILD_MESSAGE_REACTIONS_INTENT


@pytest.fixture
async def gateway() -> AsyncIterator[FakeDiscordGateway]:
    # heartbeats every 200 ms so a test sees several without waiting long
    async with running_fake_gateway(heartbeat_interval_ms=200) as fake:
        yield fake


@pytest.fixture
async def connected(
    ctx: AppContext, gateway: FakeDiscordGateway, discord_api: FakeDiscordAPI
) -> AsyncIterator[DiscordService]:
    ctx.settings = ctx.settings.model_copy(
        update={"discord": ctx.settings.discord.model_copy(update={"gateway_url": gateway.url})}
    )
    default = DiscordWebSocket.DEFAULT_GATEWAY
    service = await start_discord(ctx, connect_gateway=True)
    try:
        await gateway.wait_for(lambda: gateway.session is not None and gateway.connected)
        yield service
    finally:
        await service.close()
        DiscordWebSocket.DEFAULT_GATEWAY = default


@pytest.fixture
def commands(
    discord_api: FakeDiscordAPI, connected: DiscordService, fixtures_dir: Path
) -> Interactions:
    template = json.loads((fixtures_dir / SLASH_FIXTURE).read_text(encoding="utf-8"))
    return Interactions(discord_api, connected, template)


async def _over_gateway(
    gateway: FakeDiscordGateway, api: FakeDiscordAPI, payload: dict[str, Any]
) -> None:
    """Discord creates the interaction (its 3 s starts) and dispatches it on the gateway."""
    api.issue_interaction(payload["token"])
    await gateway.dispatch("INTERACTION_CREATE", payload)


async def _answered(api: FakeDiscordAPI, token: str) -> None:
    await api.wait_for(
        lambda: token in api.interactions and api.interactions[token].original is not None,
        timeout=15,
    )


async def test_a_slash_command_over_the_gateway_is_answered_through_rest(
    gateway: FakeDiscordGateway, discord_api: FakeDiscordAPI, commands: Interactions
) -> None:
    payload = commands.payload("help")
    await _over_gateway(gateway, discord_api, payload)
    await _answered(discord_api, payload["token"])
    log = discord_api.interactions[payload["token"]]
    assert log.callbacks == 1 and not log.failed
    assert "/ainews today" in json.dumps(log.messages())
    # the same connection kept beating, and every beat was acknowledged
    await gateway.wait_for(lambda: len(gateway.sent(HEARTBEAT)) >= 3)
    assert gateway.heartbeats_acked == len(gateway.sent(HEARTBEAT))
    assert gateway.connections == 1


async def test_the_bot_identifies_with_non_privileged_intents_only(
    gateway: FakeDiscordGateway, connected: DiscordService
) -> None:
    [identify] = gateway.sent(IDENTIFY)
    assert identify["intents"] & PRIVILEGED_INTENTS == 0
    assert identify["intents"] == WANTED_INTENTS


async def test_a_dropped_connection_resumes_without_losing_or_repeating_a_command(
    gateway: FakeDiscordGateway, discord_api: FakeDiscordAPI, commands: Interactions
) -> None:
    before = commands.payload("help")
    await _over_gateway(gateway, discord_api, before)
    await _answered(discord_api, before["token"])
    session = gateway.session
    assert session is not None

    await gateway.drop()
    # dispatched while the bot is away: Discord keeps it for the RESUME
    during = commands.payload("tags")
    await _over_gateway(gateway, discord_api, during)
    await gateway.wait_for(lambda: gateway.connected and len(gateway.sent(RESUME)) == 1)
    await _answered(discord_api, during["token"])
    after = commands.payload("help")
    await _over_gateway(gateway, discord_api, after)
    await _answered(discord_api, after["token"])

    [resume] = gateway.sent(RESUME)
    assert resume["session_id"] == session.id
    assert len(gateway.sent(IDENTIFY)) == 1  # resumed, not a new session
    for payload in (before, during, after):
        log = discord_api.interactions[payload["token"]]
        assert log.callbacks == 1, payload["data"]  # each command answered exactly once
        assert not log.failed


async def test_reconnect_is_obeyed_with_a_resume(
    gateway: FakeDiscordGateway, discord_api: FakeDiscordAPI, commands: Interactions
) -> None:
    await gateway.request_reconnect()
    await gateway.wait_for(lambda: gateway.connections == 2 and gateway.connected)
    await gateway.wait_for(lambda: len(gateway.sent(RESUME)) == 1)
    payload = commands.payload("help")
    await _over_gateway(gateway, discord_api, payload)
    await _answered(discord_api, payload["token"])
    assert len(gateway.sent(IDENTIFY)) == 1
    assert discord_api.interactions[payload["token"]].callbacks == 1


async def test_an_invalid_session_makes_the_bot_identify_again(
    gateway: FakeDiscordGateway, discord_api: FakeDiscordAPI, commands: Interactions
) -> None:
    gateway.invalidate_next_resume = True
    await gateway.drop()
    # RESUME refused with INVALID_SESSION: discord.py waits (its identify pacing), identifies anew
    await gateway.wait_for(lambda: len(gateway.sent(IDENTIFY)) == 2, timeout=30)
    await gateway.wait_for(lambda: gateway.session is not None and gateway.connected)
    payload = commands.payload("help")
    await _over_gateway(gateway, discord_api, payload)
    await _answered(discord_api, payload["token"])
    assert discord_api.interactions[payload["token"]].callbacks == 1
    assert gateway.sent(IDENTIFY)[-1]["intents"] == WANTED_INTENTS

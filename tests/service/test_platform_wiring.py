"""The composition root wires Slack and Discord in when their tokens are set, over the real wire:
alerts reach the fake Slack Web API and the fake Discord REST API, and `serve()` answers signed
Slack requests on the web port next to the web view."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import SecretStr

from adapters.main import build_service, run_once, serve
from bot.config import Secrets, Settings
from bot.store.db import Database
from tests.fakes.discord_api import BOT_TOKEN as DISCORD_TOKEN
from tests.fakes.discord_api import FakeDiscordAPI, running_fake_discord
from tests.fakes.slack_api import BOT_TOKEN as SLACK_TOKEN
from tests.fakes.slack_api import TEAM_ID, FakeSlack, FakeSlackServer
from tests.fakes.store_seed import FakeClock, add_channel, add_source, add_story
from tests.slack.conftest import sign

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
SIGNING_SECRET = "wiring-test-signing-secret"
SLACK_CHANNEL = "C0WIRED"
DISCORD_CHANNEL = "645027906669510667"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(channels={SLACK_CHANNEL: {"name": "ai-news", "is_member": True}})
    server = FakeSlackServer(fake)
    await server.start()
    yield fake
    await server.stop()


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscordAPI]:
    async with running_fake_discord() as api:
        yield api


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def wired_settings(
    make_settings: Callable[..., Settings], fake_slack: FakeSlack, fake_discord: FakeDiscordAPI
) -> Settings:
    port = free_port()
    settings = make_settings(
        slack={"api_base_url": fake_slack.api_url},
        discord={"api_base_url": fake_discord.base_url},
        web={"port": port, "base_url": f"http://127.0.0.1:{port}"},
    )
    secrets = Secrets(
        slack_bot_token=SecretStr(SLACK_TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        discord_bot_token=SecretStr(DISCORD_TOKEN),
    )
    return settings.model_copy(update={"secrets": secrets})


async def test_tokens_bring_in_both_platforms_and_retire_the_console(
    wired_settings: Settings,
) -> None:
    service = await build_service(wired_settings, clock=FakeClock(NOW))
    try:
        assert set(service.notifiers) == {"slack", "discord"}
    finally:
        await service.aclose()


async def test_run_once_delivers_an_alert_to_slack_and_discord(
    wired_settings: Settings,
    db: Database,
    fake_slack: FakeSlack,
    fake_discord: FakeDiscordAPI,
) -> None:
    source = await add_source(db, "Wire")
    title = "Open model tops the reasoning benchmark @everyone <!channel>"
    await add_story(db, source, title, NOW - timedelta(hours=1), importance=5)
    # the cycle re-scores the seeded article offline, so the threshold admits any importance
    await add_channel(db, SLACK_CHANNEL, platform="slack", workspace=TEAM_ID, alert_threshold=1)
    await add_channel(
        db, DISCORD_CHANNEL, platform="discord", workspace="290926798626357999", alert_threshold=1
    )

    report = await run_once(wired_settings, clock=FakeClock(NOW))

    assert report.errors == []
    assert report.alerts_queued == 2
    slack_posts = [c for c in fake_slack.posts() if c.method == "chat.postMessage"]
    assert [c.params["channel"] for c in slack_posts] == [SLACK_CHANNEL]
    assert "Open model tops the reasoning benchmark" in str(slack_posts[0].params)
    params = slack_posts[0].params
    assert isinstance(params["blocks"], list)
    mrkdwn = [params["text"]] + [str(block) for block in params["blocks"] if "mrkdwn" in str(block)]
    assert all("<!channel>" not in text for text in mrkdwn)  # plain_text headers cannot ping
    discord_posts = [
        c
        for c in fake_discord.calls_to(f"/channels/{DISCORD_CHANNEL}/messages", "POST")
        if c.status == 200
    ]
    assert len(discord_posts) == 1
    body = discord_posts[0].body
    assert body["allowed_mentions"] == {"parse": []}
    assert body["enforce_nonce"] is True


async def test_serve_answers_signed_slack_requests_beside_the_web_view(
    wired_settings: Settings, db: Database, fake_slack: FakeSlack
) -> None:
    stop = asyncio.Event()
    lines: list[str] = []
    running = asyncio.create_task(serve(wired_settings, stop=stop, announce=lines.append))
    base = wired_settings.web.base_url
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            for _ in range(100):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            body = urlencode(
                {
                    "command": "/ainews",
                    "text": "help",
                    "team_id": TEAM_ID,
                    "channel_id": SLACK_CHANNEL,
                    "user_id": "U0ADMIN",
                    "user_name": "admin",
                    "response_url": fake_slack.response_url("wiring"),
                    "trigger_id": "1.2.3",
                    "api_app_id": "A0AINEWS",
                }
            ).encode()
            timestamp = str(int(time.time()))
            headers = {
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": sign(SIGNING_SECRET, timestamp, body),
                "Content-Type": "application/x-www-form-urlencoded",
            }
            answered = await client.post("/slack/events", content=body, headers=headers)
            forged = await client.post(
                "/slack/events",
                content=body,
                headers={**headers, "X-Slack-Signature": "v0=" + "0" * 64},
            )
        assert answered.status_code == 200
        assert forged.status_code == 401
        assert any("web view" in line for line in lines)
        assert any("slack" in line for line in lines if "delivering" in line)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=15)

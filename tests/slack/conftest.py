"""Slack end-to-end fixtures: the fake Web API on loopback, the bolt app, signed requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from adapters.slack_app import build_slack_app, slack_events_route
from adapters.slack_notifier import ChannelPacer
from bot.config import Secrets, Settings
from tests.fakes.slack_api import (
    BOT_TOKEN,
    TEAM_ID,
    Call,
    FakeSlack,
    FakeSlackServer,
    sign,
    text_objects,
)
from tests.fakes.store_seed import FakeClock

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNEL = "C0NEWS"
ADMIN = "U0ADMIN"
MEMBER = "U0MEMBER"
NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 12:00 in Asia/Tokyo, the default zone


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Slack tests exercise the wire, not the store: one SQLite file is enough here."""
    return sqlite_url


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(
        channels={CHANNEL: {"name": "ai-news", "is_member": True}, "C0OTHER": {"name": "other"}},
        users={ADMIN: {"is_admin": True}, MEMBER: {"is_admin": False}},
        min_interval=0.25,
    )
    server = FakeSlackServer(fake)
    await server.start()
    yield fake
    await server.stop()


@pytest.fixture
def slack_settings(
    make_settings: Callable[..., Settings], fake_slack: FakeSlack
) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        overrides.setdefault("slack", {})
        overrides["slack"] = {"api_base_url": fake_slack.api_url, **overrides["slack"]}
        overrides.setdefault("web", {"base_url": "https://ainews.example.org"})
        settings = make_settings(**overrides)
        secrets = Secrets(
            slack_bot_token=SecretStr(BOT_TOKEN), slack_signing_secret=SecretStr(SIGNING_SECRET)
        )
        return settings.model_copy(update={"secrets": secrets})

    return factory


async def open_context(settings: Settings, clock: FakeClock | None = None) -> Any:
    from bot.context import build_context

    return await build_context(settings, clock=clock or FakeClock(NOW), upgrade=False)


class SlashDriver:
    """Sends signed `/ainews` requests to the ASGI app and waits for what reaches Slack."""

    def __init__(self, http: httpx.AsyncClient, fake: FakeSlack, ctx: Any) -> None:
        self.http = http
        self.fake = fake
        self.ctx = ctx
        self.last_ack_seconds = 0.0
        self._serial = 0

    def body(self, text: str, *, user: str = MEMBER, channel: str = CHANNEL) -> bytes:
        self._serial += 1
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM_ID,
                "team_domain": "ainews-test",
                "channel_id": channel,
                "channel_name": "ai-news",
                "user_id": user,
                "user_name": "reader",
                "command": "/ainews",
                "text": text,
                "api_app_id": "A0AINEWS",
                "response_url": self.fake.response_url(f"r{self._serial}"),
                "trigger_id": f"{self._serial}.1.abc",
            }
        ).encode()

    async def post(
        self,
        body: bytes,
        *,
        timestamp: str | None = None,
        signature: str | None = None,
        omit: tuple[str, ...] = (),
    ) -> httpx.Response:
        ts = timestamp or str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or sign(SIGNING_SECRET, ts, body),
        }
        for name in omit:
            headers.pop(name)
        started = time.perf_counter()
        response = await self.http.post("/slack/events", content=body, headers=headers)
        self.last_ack_seconds = time.perf_counter() - started
        return response

    async def command(self, text: str, *, user: str = MEMBER, channel: str = CHANNEL) -> Any:
        """Send one command, return the ack (status 200 checked) and wait for the answer."""
        before = len(self.fake.posts())
        response = await self.post(self.body(text, user=user, channel=channel))
        assert response.status_code == 200, response.text
        await self.wait_for(lambda: len(self.fake.posts()) > before)
        await asyncio.sleep(0.05)  # let multi-part answers finish
        return response

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 8.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls: {[c.method for c in self.fake.calls]}")
            await asyncio.sleep(0.01)

    async def wait_for_async(
        self, read: Callable[[], Any], expected: Any, timeout: float = 8.0
    ) -> None:
        """Poll an async reading (e.g. the store) until it equals `expected`."""
        deadline = time.monotonic() + timeout
        while (value := await read()) != expected:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {expected!r}; last {value!r}")
            await asyncio.sleep(0.01)

    async def settle(self, quiet: float = 0.3) -> None:
        """Wait until no new call has reached the fake for `quiet` seconds."""
        count = -1
        while count != len(self.fake.calls):
            count = len(self.fake.calls)
            await asyncio.sleep(quiet)

    def answers(self) -> list[Call]:
        return self.fake.posts()

    def last_text(self) -> str:
        """All text of the latest answer's blocks and fallback, joined."""
        call = self.fake.posts()[-1]
        return "\n".join(
            [str(call.params.get("text", "")), *text_objects(call.params.get("blocks"))]
        )


@pytest.fixture
async def slack_app_factory(
    fake_slack: FakeSlack, slack_settings: Callable[..., Settings]
) -> AsyncIterator[Callable[..., Any]]:
    opened: list[tuple[Any, httpx.AsyncClient]] = []

    async def factory(clock: FakeClock | None = None, **overrides: Any) -> SlashDriver:
        ctx = await open_context(slack_settings(**overrides), clock)
        app = build_slack_app(ctx, pacer=ChannelPacer(interval=0.45))
        web = Starlette(routes=[slack_events_route(app)])
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://ainews.test"
        )
        opened.append((ctx, http))
        return SlashDriver(http, fake_slack, ctx)

    yield factory
    for ctx, http in opened:
        await http.aclose()
        await ctx.aclose()


@pytest.fixture
async def slack(slack_app_factory: Callable[..., Any]) -> SlashDriver:
    driver: SlashDriver = await slack_app_factory()
    return driver

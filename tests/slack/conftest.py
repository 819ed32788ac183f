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
from tests.waiting import until

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
        # These suites read replies in English; tests/slack/test_languages_e2e.py covers ja,
        # the product's default, and switching between the two.
        overrides["translate"] = {"default_lang": "en", **overrides.get("translate", {})}
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
        # answers (bolt's listener tasks) still running for requests sent so far
        self._answering: set[asyncio.Task[Any]] = set()
        # how many answers had reached Slack when the latest ack came back
        self.posts_at_ack = 0
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
        before = _listener_tasks()
        response = await self.http.post("/slack/events", content=body, headers=headers)
        self.posts_at_ack = len(self.fake.posts())
        self._answering |= _listener_tasks() - before
        return response

    async def answered(self, timeout: float = 30.0) -> None:
        """Wait until every answer started so far has finished (all its parts posted)."""
        running = {task for task in self._answering if not task.done()}
        if running:
            await asyncio.wait_for(asyncio.gather(*running, return_exceptions=True), timeout)
        self._answering.clear()

    async def command(self, text: str, *, user: str = MEMBER, channel: str = CHANNEL) -> Any:
        """Send one command, return the ack (status 200 checked) and wait for the answer."""
        before = len(self.fake.posts())
        response = await self.post(self.body(text, user=user, channel=channel))
        assert response.status_code == 200, response.text
        await self.answered()
        assert len(self.fake.posts()) > before, [c.method for c in self.fake.calls]
        return response

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        await until(condition, what="a condition on the fake Slack's calls", timeout=timeout)

    async def wait_for_async(
        self, read: Callable[[], Any], expected: Any, timeout: float = 30.0
    ) -> None:
        """Poll an async reading (e.g. the store) until it equals `expected`."""

        seen: list[Any] = []

        async def reached() -> bool:
            seen[:] = [await read()]
            return bool(seen[0] == expected)

        try:
            await until(reached, what=f"the reading to become {expected!r}", timeout=timeout)
        except AssertionError as error:
            raise AssertionError(f"{error}; last reading {seen[0]!r}") from None

    async def settle(self) -> None:
        """Wait for the answers in progress to finish: nothing else can still reach the fake."""
        await self.answered()

    def answers(self) -> list[Call]:
        return self.fake.posts()

    def last_text(self) -> str:
        """All text of the latest answer's blocks and fallback, joined."""
        call = self.fake.posts()[-1]
        return "\n".join(
            [str(call.params.get("text", "")), *text_objects(call.params.get("blocks"))]
        )


def _listener_tasks() -> set[asyncio.Task[Any]]:
    """bolt's tasks running `/ainews` listeners after the ack (process_before_response off)."""
    return {
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "").endswith("run_ack_function_asynchronously")
    }


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

"""The composition root wires Slack and Discord in when their tokens are set, over the real wire:
alerts reach the fake Slack Web API and the fake Discord REST API, and `serve()` answers signed
Slack requests on the web port next to the web view."""

from __future__ import annotations

import asyncio
import re
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
from bot.errors import StartupError
from bot.store.db import Database
from tests.fakes.discord_api import BOT_TOKEN as DISCORD_TOKEN
from tests.fakes.discord_api import FakeDiscordAPI, running_fake_discord
from tests.fakes.discord_gateway import FakeDiscordGateway, running_fake_gateway
from tests.fakes.slack_api import BOT_TOKEN as SLACK_TOKEN
from tests.fakes.slack_api import TEAM_ID, FakeSlack, FakeSlackServer
from tests.fakes.store_seed import FakeClock, add_channel, add_source, add_story
from tests.slack.conftest import sign
from tests.waiting import until

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
async def fake_gateway() -> AsyncIterator[FakeDiscordGateway]:
    async with running_fake_gateway() as gateway:
        yield gateway


@pytest.fixture
def wired_settings(
    make_settings: Callable[..., Settings],
    fake_slack: FakeSlack,
    fake_discord: FakeDiscordAPI,
    fake_gateway: FakeDiscordGateway,
) -> Settings:
    port = free_port()
    settings = make_settings(
        discord={"api_base_url": fake_discord.base_url, "gateway_url": fake_gateway.url},
        web={"port": port, "base_url": f"http://127.0.0.1:{port}"},
        slack={"api_base_url": fake_slack.api_url, "host": "127.0.0.1", "port": free_port()},
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


def _signed_slash(fake_slack: FakeSlack, text: str = "help") -> tuple[bytes, dict[str, str]]:
    body = urlencode(
        {
            "command": "/ainews",
            "text": text,
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
    return body, headers


async def wait_healthy(client: httpx.AsyncClient) -> None:
    """Wait until the listener answers its health check (it starts in a task)."""

    async def healthy() -> bool:
        try:
            return (await client.get("/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    await until(healthy, what=f"{client.base_url} to answer /healthz")


async def test_slack_has_its_own_listener_that_serves_nothing_of_the_web_view(
    wired_settings: Settings, db: Database, fake_slack: FakeSlack, english_cli: None
) -> None:
    stop = asyncio.Event()
    lines: list[str] = []
    running = asyncio.create_task(serve(wired_settings, stop=stop, announce=lines.append))
    public = f"http://127.0.0.1:{wired_settings.slack.port}"
    try:
        async with httpx.AsyncClient(base_url=public, timeout=5) as client:
            await wait_healthy(client)
            body, headers = _signed_slash(fake_slack)
            answered = await client.post("/slack/events", content=body, headers=headers)
            forged = await client.post(
                "/slack/events",
                content=body,
                headers={**headers, "X-Slack-Signature": "v0=" + "0" * 64},
            )
            # the web view, its metrics and its token-spending form are not on this listener
            hidden = [
                await client.get("/"),
                await client.get("/metrics"),
                await client.get("/feed.xml"),
                await client.post("/a/1/translate", data={"lang": "ja"}),
            ]
        async with httpx.AsyncClient(base_url=wired_settings.web.base_url, timeout=5) as web:
            await wait_healthy(web)
            page = await web.get("/")
            slack_on_web = await web.post("/slack/events", content=body, headers=headers)
        assert answered.status_code == 200
        assert forged.status_code == 401
        assert [r.status_code for r in hidden] == [404, 404, 404, 404]
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert slack_on_web.status_code in (404, 405)  # and Slack's route is not on the web view
        assert any(f"platform endpoint: {public}/" in line for line in lines), lines
        assert any("web view" in line for line in lines)
        assert any("slack" in line for line in lines if "delivering" in line)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=15)


async def test_slack_routes_work_with_the_web_view_off(
    wired_settings: Settings, db: Database, fake_slack: FakeSlack
) -> None:
    settings = wired_settings.model_copy(
        update={"web": wired_settings.web.model_copy(update={"enabled": False})}
    )
    stop = asyncio.Event()
    lines: list[str] = []
    running = asyncio.create_task(serve(settings, stop=stop, announce=lines.append))
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{settings.slack.port}", timeout=5
        ) as client:
            await wait_healthy(client)
            body, headers = _signed_slash(fake_slack, "help")
            answered = await client.post("/slack/events", content=body, headers=headers)
            health = await client.get("/healthz")
            await until(
                lambda: any(c.method == "response_url" for c in fake_slack.posts()),
                what="the answer on the response_url",
            )
        assert answered.status_code == 200
        assert health.json() == {"status": "ok"}
        [answer] = [c for c in fake_slack.posts() if c.method == "response_url"]
        assert "today" in str(answer.params)
        assert not any("web view" in line for line in lines)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=15)


async def test_a_taken_port_stops_start_up_naming_it(
    wired_settings: Settings, db: Database
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = wired_settings.model_copy(
            update={"slack": wired_settings.slack.model_copy(update={"port": port})}
        )
        with pytest.raises(StartupError, match=rf"port {port} on 127\.0\.0\.1 .*\[slack\]"):
            await serve(settings, stop=asyncio.Event(), announce=lambda _line: None)
    # the lock on the database file was released: the next start-up is not refused
    settings = wired_settings.model_copy(
        update={"web": wired_settings.web.model_copy(update={"enabled": False})}
    )
    stop = asyncio.Event()
    stop.set()
    await serve(settings, stop=stop, announce=lambda _line: None)


async def test_a_second_service_on_one_sqlite_file_is_refused(
    wired_settings: Settings, db: Database, database_url: str
) -> None:
    stop = asyncio.Event()
    lines: list[str] = []
    running = asyncio.create_task(serve(wired_settings, stop=stop, announce=lines.append))
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{wired_settings.slack.port}", timeout=5
        ) as client:
            await wait_healthy(client)
        path = database_url.removeprefix("sqlite:///")
        with pytest.raises(StartupError, match=re.escape(path)):
            await run_once(wired_settings, clock=FakeClock(NOW))
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=15)


async def _seed_alert(db: Database) -> None:
    """A story worth an alert on both platforms, due in the first cycle of a worker."""
    source = await add_source(db, "Wire")
    published = datetime.now(UTC) - timedelta(hours=1)
    await add_story(db, source, "Open model tops the reasoning benchmark", published, importance=5)
    await add_channel(db, SLACK_CHANNEL, platform="slack", workspace=TEAM_ID, alert_threshold=1)
    await add_channel(
        db, DISCORD_CHANNEL, platform="discord", workspace="290926798626357999", alert_threshold=1
    )


async def _deliveries(db: Database) -> int:
    from sqlalchemy import func, select

    from bot.store.schema import Delivery

    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Delivery)) or 0)


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


async def test_worker_role_delivers_and_serves_nothing(
    english_cli: None,
    wired_settings: Settings,
    db: Database,
    fake_slack: FakeSlack,
    fake_discord: FakeDiscordAPI,
    fake_gateway: FakeDiscordGateway,
) -> None:
    await _seed_alert(db)
    stop = asyncio.Event()
    lines: list[str] = []
    running = asyncio.create_task(
        serve(wired_settings, stop=stop, announce=lines.append, role="worker")
    )
    try:
        await until(lambda: bool(fake_slack.accepted("chat.postMessage")), what="a Slack post")
        await fake_discord.wait_for(
            lambda: bool(fake_discord.calls_to(f"/channels/{DISCORD_CHANNEL}/messages", "POST")),
            timeout=30,
        )
        # no listener of either kind, no command registration: those are the front's
        assert _refused(wired_settings.slack.port) and _refused(wired_settings.web.port)
        assert not fake_discord.calls_to(r"/commands$", "PUT")
        assert fake_gateway.connections == 0  # commands arrive at the front, not here
        assert any("running (worker): delivering to discord, slack" in line for line in lines)
        # the worker owns the SQLite file: a second scheduler is refused
        with pytest.raises(StartupError, match="already using the SQLite database"):
            await serve(wired_settings, stop=asyncio.Event(), role="worker")
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)


async def test_front_role_answers_beside_a_worker_and_delivers_nothing(
    english_cli: None,
    wired_settings: Settings,
    db: Database,
    fake_slack: FakeSlack,
    fake_discord: FakeDiscordAPI,
    fake_gateway: FakeDiscordGateway,
) -> None:
    await _seed_alert(db)
    stop = asyncio.Event()
    lines: list[str] = []
    front = asyncio.create_task(
        serve(wired_settings, stop=stop, announce=lines.append, role="front")
    )
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{wired_settings.slack.port}", timeout=5
        ) as client:
            await wait_healthy(client)
            body, headers = _signed_slash(fake_slack)
            assert (await client.post("/slack/events", content=body, headers=headers)).is_success
        async with httpx.AsyncClient(base_url=wired_settings.web.base_url, timeout=5) as web:
            await wait_healthy(web)
        await until(
            lambda: any(c.method == "response_url" for c in fake_slack.posts()),
            what="the answer on the response_url",
        )
        assert fake_discord.calls_to(r"/commands$", "PUT")  # the front registers commands
        await fake_gateway.wait_for(lambda: fake_gateway.session is not None)  # and listens
        # nothing was queued or posted: no scheduler runs in the front
        assert await _deliveries(db) == 0
        assert not fake_slack.accepted("chat.postMessage")
        assert any("running (front): answering commands" in line for line in lines)
        # a worker on the same SQLite file starts beside it and does the delivering
        worker_stop = asyncio.Event()
        worker = asyncio.create_task(serve(wired_settings, stop=worker_stop, role="worker"))
        try:
            await until(lambda: bool(fake_slack.accepted("chat.postMessage")), what="a Slack post")
        finally:
            worker_stop.set()
            await asyncio.wait_for(worker, timeout=30)
    finally:
        stop.set()
        await asyncio.wait_for(front, timeout=30)

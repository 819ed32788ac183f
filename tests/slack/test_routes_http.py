"""`create_slack_routes` as `ainews run` mounts it, served by uvicorn on a real loopback port."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from adapters.slack_app import EVENTS_PATH, create_slack_routes
from bot.config import Secrets, Settings
from bot.errors import ConfigError
from tests.fakes.slack_api import FakeSlack, sign
from tests.slack.conftest import SIGNING_SECRET, SlashDriver, open_context
from tests.waiting import started


async def test_routes_over_real_http(
    slack_settings: Callable[..., Settings], fake_slack: FakeSlack
) -> None:
    ctx = await open_context(slack_settings())
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=create_slack_routes(ctx)),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
        )
    )
    serving = asyncio.create_task(server.serve())
    try:
        await started(server, serving)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            driver = SlashDriver(http, fake_slack, ctx)
            body = driver.body("tags")
            stale = str(int(time.time()) - 400)
            refused = await driver.post(
                body, timestamp=stale, signature=sign(SIGNING_SECRET, stale, body)
            )
            assert refused.status_code == 401
            assert fake_slack.calls == []
            await driver.command("tags")
            assert "No tags in the last 7 days" in driver.last_text()
            assert (await http.get(EVENTS_PATH)).status_code == 405
    finally:
        server.should_exit = True
        await serving
        await ctx.aclose()


async def test_routes_need_the_signing_secret(slack_settings: Callable[..., Settings]) -> None:
    settings = slack_settings().model_copy(update={"secrets": Secrets()})
    ctx = await open_context(settings)
    try:
        with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
            create_slack_routes(ctx)
    finally:
        await ctx.aclose()

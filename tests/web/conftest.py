"""Web test fixtures: a seeded store, the real application context on a fixed clock (with a fake
LLM on loopback when translation is needed), and the web app served by a real uvicorn on
127.0.0.1 (port 0) with an httpx client pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from adapters.web import create_web_app
from bot.config import Settings
from bot.context import AppContext, build_context
from bot.store.db import Database
from tests.fakes.llm_server import FakeLLM, running_fake_llm
from tests.waiting import started
from tests.web.seed import NOW, Seeded, seed_store


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


@pytest.fixture
async def seeded(db: Database) -> Seeded:
    return await seed_store(db)


async def web_context(settings: Settings) -> AppContext:
    """The real application context (offline enricher; translator when `[llm]` is set)."""
    return await build_context(settings, clock=FixedClock(NOW), upgrade=False)


@pytest.fixture
async def web_ctx(
    db: Database, make_settings: Callable[..., Settings], seeded: Seeded
) -> AsyncIterator[AppContext]:
    ctx = await web_context(make_settings(web={"base_url": "https://news.example.org/"}))
    yield ctx
    await ctx.aclose()


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeLLM]:
    async with running_fake_llm() as fake:
        yield fake


@pytest.fixture
async def llm_ctx(
    db: Database, make_settings: Callable[..., Settings], seeded: Seeded, fake_llm: FakeLLM
) -> AsyncIterator[AppContext]:
    """A context whose translator talks to the fake OpenAI-compatible server on loopback."""
    settings = make_settings(
        llm={"base_url": fake_llm.base_url, "model": "fake-model", "timeout": 5.0, "max_retries": 0}
    )
    ctx = await web_context(settings)
    yield ctx
    await ctx.aclose()


async def serve(app: Starlette, port: int = 0) -> AsyncIterator[str]:
    """Run `app` on a real uvicorn bound to 127.0.0.1 (port 0: any) in this event loop; yield
    its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await started(server, task)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def web_app(web_ctx: AppContext) -> Starlette:
    return create_web_app(web_ctx)


@pytest.fixture
async def base_url(web_app: Starlette) -> AsyncIterator[str]:
    async for url in serve(web_app):
        yield url


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as http:
        yield http

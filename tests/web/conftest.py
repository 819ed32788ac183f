"""Web test fixtures: a seeded store, an application context on a fixed clock, and the web app
served by a real uvicorn on 127.0.0.1 (port 0) with an httpx client pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from adapters.web import create_web_app
from bot.config import Settings
from bot.store.db import Database
from bot.store.schema import TranslationRow, utcnow
from tests.web.seed import NOW, Seeded, seed_store


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


class StoreTranslator:
    """Stands in for the LLM translator at its port: writes a complete translation row."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []
        self.release = asyncio.Event()
        self.release.set()

    async def translate_article(self, ctx: Any, article_id: int, lang: str) -> None:
        self.calls.append((article_id, lang))
        await self.release.wait()
        async with ctx.db.session() as session:
            session.add(
                TranslationRow(
                    article_id=article_id,
                    lang=lang,
                    title="訳題",
                    body="訳文の本文。",
                    chunks_total=1,
                    chunks_done=1,
                    status="complete",
                    model="fake",
                    updated_at=utcnow(),
                )
            )

    async def aclose(self) -> None:
        return None


@dataclass
class WebContext:
    """The parts of AppContext the web view reads (settings, db, clock, translator)."""

    settings: Settings
    db: Database
    clock: FixedClock
    translator: Any = None


@pytest.fixture
async def seeded(db: Database) -> Seeded:
    return await seed_store(db)


@pytest.fixture
def web_ctx(db: Database, make_settings: Callable[..., Settings], seeded: Seeded) -> WebContext:
    settings = make_settings(web={"base_url": "https://news.example.org/"})
    return WebContext(settings=settings, db=db, clock=FixedClock(NOW))


async def serve(app: Starlette) -> AsyncIterator[str]:
    """Run `app` on a real uvicorn bound to 127.0.0.1:0 in this event loop; yield its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def web_app(web_ctx: WebContext) -> Starlette:
    return create_web_app(web_ctx)  # type: ignore[arg-type]


@pytest.fixture
async def base_url(web_app: Starlette) -> AsyncIterator[str]:
    async for url in serve(web_app):
        yield url


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as http:
        yield http

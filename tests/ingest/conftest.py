"""Fixtures for ingestion tests: the loopback feed server and an ingestion context."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.ingest.context import IngestServices
from bot.ingest.fetch import Fetcher
from bot.ingest.poll import sync_sources
from bot.store.db import Database
from tests.fakes.feed_server import FeedServer
from tests.fakes.store_seed import FakeClock


@pytest.fixture
async def feed_server(fixtures_dir: Path) -> AsyncIterator[FeedServer]:
    async with FeedServer(root=fixtures_dir / "feeds") as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))


@pytest.fixture
async def make_ingest(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> AsyncIterator[Callable[..., Any]]:
    """Build an IngestServices on the test database; sources given as (name, url[, kind])."""
    made: list[IngestServices] = []

    async def factory(
        sources: list[dict[str, Any]] | None = None, **overrides: Any
    ) -> IngestServices:
        fetch = {"full_text": False, **overrides.pop("fetch", {})}
        settings = make_settings(sources=sources or [], fetch=fetch, **overrides)
        services = IngestServices(
            settings=settings,
            db=Database(settings.database.url),
            clock=clock,
            fetcher=Fetcher(settings.fetch),
        )
        made.append(services)
        await sync_sources(services.db, settings)
        return services

    yield factory
    for services in made:
        await services.aclose()

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest

from bot.config import Settings
from bot.runtime import StoreOnlyContext
from bot.store.db import Database
from tests.fakes.recorder import Recorder
from tests.fakes.store_seed import FakeClock

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def ctx(db: Database, make_settings: Callable[..., Settings], clock: FakeClock) -> StoreOnlyContext:
    settings = make_settings(delivery={"max_attempts": 3, "backoff_seconds": 10, "batch_size": 20})
    return StoreOnlyContext(settings=settings, db=db, clock=clock)


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    server = await Recorder().start()
    yield server
    await server.stop()

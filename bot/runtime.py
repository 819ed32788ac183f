"""The slice of the application context that store-only work needs: settings, database, clock.

Digests, alerts and the outbox use only these three, so the `digest` CLI, tests and benchmarks can
run them without building a fetcher or an enricher; `AppContext` satisfies the protocol as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.config import Settings
from bot.ports import Clock, SystemClock
from bot.store.db import Database


class StoreContext(Protocol):
    settings: Settings
    db: Database
    clock: Clock


@dataclass
class StoreOnlyContext:
    """A `StoreContext` that owns its database; close it with `aclose()`."""

    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)

    async def aclose(self) -> None:
        await self.db.dispose()


async def open_store(settings: Settings, *, clock: Clock | None = None) -> StoreOnlyContext:
    """Open (and migrate) the configured store without the ingest and enrichment services."""
    db = Database(settings.database.url)
    await db.upgrade()
    return StoreOnlyContext(settings=settings, db=db, clock=clock or SystemClock())

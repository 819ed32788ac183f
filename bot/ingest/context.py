"""What ingestion needs from the application: the store context and a fetcher."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.config import Settings
from bot.ingest.fetch import Fetcher
from bot.ports import Clock
from bot.runtime import StoreContext
from bot.store.db import Database

__all__ = ["IngestContext", "IngestServices"]


class IngestContext(StoreContext, Protocol):
    """The part of `bot.context.AppContext` ingestion needs (AppContext satisfies it)."""

    fetcher: Fetcher


@dataclass
class IngestServices:
    """A minimal IngestContext for callers that need no enricher (CLI fetch, benchmarks)."""

    settings: Settings
    db: Database
    clock: Clock
    fetcher: Fetcher

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        await self.db.dispose()

"""The application's services, built once by the composition root and passed to use cases."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.enrich.llm_client import LLMClient
from bot.enrich.pipeline import make_enricher, make_llm_client
from bot.enrich.translate import Translator, make_translator
from bot.ingest.fetch import Fetcher
from bot.ports import Clock, Enricher, SystemClock
from bot.store.db import Database


@dataclass
class AppContext:
    """Everything a job, command or page needs; owned and closed by `adapters/main.py`."""

    settings: Settings
    db: Database
    clock: Clock
    fetcher: Fetcher
    enricher: Enricher
    translator: Translator | None
    # The one LLM client of the process: enrichment and translation share its semaphore,
    # remembered response formats and budget ledger.
    llm: LLMClient | None = None

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        if self.llm is not None:
            await self.llm.aclose()
        await self.db.dispose()


async def build_context(
    settings: Settings, *, clock: Clock | None = None, upgrade: bool = True
) -> AppContext:
    """Open the store (migrated to the newest schema); build fetcher, enricher, translator."""
    db = Database(settings.database.url)
    if upgrade:
        await db.upgrade()
    fetcher = Fetcher(settings.fetch)
    the_clock = clock or SystemClock()
    llm = make_llm_client(settings, db, the_clock)
    return AppContext(
        settings=settings,
        db=db,
        clock=the_clock,
        fetcher=fetcher,
        enricher=make_enricher(settings, llm, the_clock),
        translator=make_translator(settings, llm),
        llm=llm,
    )

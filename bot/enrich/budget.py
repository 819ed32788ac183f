"""Token accounting in `llm_usage`: every call is recorded, and the daily budget is read from it.

The table, not process memory, holds the count, so several replicas share one budget and a
restart does not reset it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from bot.config import LLMSettings
from bot.store.db import Database
from bot.store.schema import LLMUsage


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens of one LLM call, as the endpoint's `usage` reported them."""

    tokens_in: int = 0
    tokens_out: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.tokens_in + other.tokens_in, self.tokens_out + other.tokens_out)

    @property
    def total(self) -> int:
        return self.tokens_in + self.tokens_out


def cost_usd(settings: LLMSettings, usage: Usage) -> float:
    return (
        usage.tokens_in * settings.price_in_per_million
        + usage.tokens_out * settings.price_out_per_million
    ) / 1_000_000


def utc_day_start(now: datetime) -> datetime:
    return datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)


def next_utc_day(now: datetime) -> datetime:
    """When the daily budget resets."""
    return utc_day_start(now) + timedelta(days=1)


class UsageLedger:
    """Reads and writes `llm_usage` for one model; `spent_today` sums the current UTC day."""

    def __init__(self, db: Database, settings: LLMSettings) -> None:
        self._db = db
        self._settings = settings

    async def spent_today(self, now: datetime) -> int:
        async with self._db.session() as session:
            total = await session.scalar(
                select(func.coalesce(func.sum(LLMUsage.tokens_in + LLMUsage.tokens_out), 0)).where(
                    LLMUsage.at >= utc_day_start(now)
                )
            )
        return int(total or 0)

    async def budget_left(self, now: datetime) -> int:
        return self._settings.daily_token_budget - await self.spent_today(now)

    async def record(
        self, *, purpose: str, usage: Usage, at: datetime, article_id: int | None
    ) -> float:
        """Store one call's usage; returns its cost in USD."""
        cost = cost_usd(self._settings, usage)
        async with self._db.session() as session:
            session.add(
                LLMUsage(
                    at=at,
                    purpose=purpose,
                    model=self._settings.model,
                    tokens_in=usage.tokens_in,
                    tokens_out=usage.tokens_out,
                    cost_usd=cost,
                    article_id=article_id,
                )
            )
        return cost

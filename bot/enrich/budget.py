"""Token accounting: every call reserves its tokens before it is made, and is recorded after.

The daily budget lives in the store (`llm_budget_days`, one row per UTC day), not in process
memory: a reservation is one conditional UPDATE ("add my estimate if the sum stays within the
budget"), atomic on SQLite and PostgreSQL, so neither parallel calls, retries nor replicas can
spend past it. After the call the estimate is replaced by what `usage` reported, and the call
is written to `llm_usage` for `ainews llm usage`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.config import LLMSettings
from bot.store.db import Database
from bot.store.schema import LLMBudgetDay, LLMUsage

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]")
MESSAGE_OVERHEAD_TOKENS = 8


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


@dataclass(frozen=True, slots=True)
class Reservation:
    """Tokens set aside for one call on one UTC day; settled with the real usage afterwards."""

    day: str
    tokens: int


def estimate_prompt_tokens(messages: Sequence[dict[str, Any]]) -> int:
    """An upper-leaning estimate: CJK about one token a character, other text one per three
    characters (tokenizers average nearer four), plus a little per message."""
    total = 0
    for message in messages:
        text = str(message.get("content") or "")
        cjk = len(_CJK.findall(text))
        total += cjk + math.ceil((len(text) - cjk) / 3) + MESSAGE_OVERHEAD_TOKENS
    return total


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
    """Reserves, settles and records tokens in the store; `spent_today` includes reservations."""

    def __init__(self, db: Database, settings: LLMSettings) -> None:
        self._db = db
        self._settings = settings

    @property
    def daily_budget(self) -> int:
        return self._settings.daily_token_budget

    async def _ensure_day(self, day: date) -> None:
        """Create the day's row, seeded from `llm_usage` (usage recorded before this table)."""
        key = day.isoformat()
        start = datetime.combine(day, time.min, tzinfo=UTC)
        async with self._db.session() as session:
            exists = await session.get(LLMBudgetDay, key)
            if exists is not None:
                return
            recorded = await session.scalar(
                select(func.coalesce(func.sum(LLMUsage.tokens_in + LLMUsage.tokens_out), 0)).where(
                    LLMUsage.at >= start, LLMUsage.at < start + timedelta(days=1)
                )
            )
            dialect = session.get_bind().dialect.name
            maker = pg_insert if dialect == "postgresql" else sqlite_insert
            await session.execute(
                maker(LLMBudgetDay)
                .values(day=key, tokens=int(recorded or 0))
                .on_conflict_do_nothing(index_elements=["day"])
            )

    async def reserve(self, tokens: int, now: datetime) -> Reservation | None:
        """Set `tokens` aside for a call today, or None when that would pass the budget."""
        day = now.date()
        await self._ensure_day(day)
        async with self._db.session() as session:
            taken = await session.scalar(
                update(LLMBudgetDay)
                .where(
                    LLMBudgetDay.day == day.isoformat(),
                    LLMBudgetDay.tokens + tokens <= self.daily_budget,
                )
                .values(tokens=LLMBudgetDay.tokens + tokens)
                .returning(LLMBudgetDay.tokens)
            )
        return Reservation(day.isoformat(), tokens) if taken is not None else None

    async def settle(
        self,
        reservation: Reservation,
        *,
        purpose: str,
        usage: Usage,
        at: datetime,
        article_id: int | None,
    ) -> float:
        """Replace the estimate by the real usage and record the call; returns its cost in USD."""
        cost = cost_usd(self._settings, usage)
        async with self._db.session() as session:
            await session.execute(
                update(LLMBudgetDay)
                .where(LLMBudgetDay.day == reservation.day)
                .values(tokens=LLMBudgetDay.tokens + (usage.total - reservation.tokens))
            )
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

    async def release(self, reservation: Reservation) -> None:
        """Give back a reservation whose call never reached the model (refused, unreachable)."""
        async with self._db.session() as session:
            await session.execute(
                update(LLMBudgetDay)
                .where(LLMBudgetDay.day == reservation.day)
                .values(tokens=LLMBudgetDay.tokens - reservation.tokens)
            )

    async def spent_today(self, now: datetime) -> int:
        """Tokens spent or reserved today (UTC)."""
        await self._ensure_day(now.date())
        async with self._db.session() as session:
            row = await session.get(LLMBudgetDay, now.date().isoformat())
        return int(row.tokens) if row is not None else 0

    async def budget_left(self, now: datetime) -> int:
        return self.daily_budget - await self.spent_today(now)

"""`ainews llm usage`: tokens and cost by UTC day and purpose, read from `llm_usage`.

Rows are summed in Python rather than with SQL date functions, whose time zone handling differs
between SQLite and PostgreSQL; a window of days is small.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.enrich.budget import UsageLedger, utc_day_start
from bot.store.db import Database
from bot.store.schema import LLMUsage


@dataclass(slots=True)
class UsageLine:
    day: str
    purpose: str
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "purpose": self.purpose,
            "calls": self.calls,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "tokens": self.tokens_in + self.tokens_out,
            "cost_usd": round(self.cost_usd, 6),
        }


@dataclass(frozen=True, slots=True)
class UsageReport:
    lines: tuple[UsageLine, ...]
    today: str
    daily_token_budget: int | None
    spent_today: int | None

    def total(self) -> UsageLine:
        total = UsageLine(day="", purpose="")
        for line in self.lines:
            total.calls += line.calls
            total.tokens_in += line.tokens_in
            total.tokens_out += line.tokens_out
            total.cost_usd += line.cost_usd
        return total

    def to_json(self) -> dict[str, Any]:
        """The documented `ainews llm usage --json` shape."""
        total = self.total().to_json()
        del total["day"], total["purpose"]
        budget = None
        if self.daily_token_budget is not None and self.spent_today is not None:
            budget = {
                "daily_token_budget": self.daily_token_budget,
                "day": self.today,
                "spent_or_reserved": self.spent_today,
                "left": max(0, self.daily_token_budget - self.spent_today),
            }
        return {"days": [line.to_json() for line in self.lines], "total": total, "budget": budget}


async def usage_report(
    db: Database, now: datetime, *, days: int, ledger: UsageLedger | None
) -> UsageReport:
    """The last `days` UTC days (today included), newest first, one line per purpose."""
    since = utc_day_start(now) - timedelta(days=days - 1)
    lines: dict[tuple[str, str], UsageLine] = defaultdict(lambda: UsageLine("", ""))
    async with db.session() as session:
        rows = await session.execute(
            select(
                LLMUsage.at,
                LLMUsage.purpose,
                LLMUsage.tokens_in,
                LLMUsage.tokens_out,
                LLMUsage.cost_usd,
            ).where(LLMUsage.at >= since)
        )
        for at, purpose, tokens_in, tokens_out, cost in rows:
            key = (at.date().isoformat(), purpose)
            line = lines[key]
            line.day, line.purpose = key
            line.calls += 1
            line.tokens_in += tokens_in
            line.tokens_out += tokens_out
            line.cost_usd += cost
    # Newest day first; purposes alphabetical within a day.
    ordered = sorted(lines.values(), key=lambda line: (-_ordinal(line.day), line.purpose))
    spent = await ledger.spent_today(now) if ledger is not None else None
    return UsageReport(
        lines=tuple(ordered),
        today=now.date().isoformat(),
        daily_token_budget=ledger.daily_budget if ledger is not None else None,
        spent_today=spent,
    )


def _ordinal(day: str) -> int:
    return datetime.fromisoformat(day).toordinal()

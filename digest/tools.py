"""Tool momentum: growth, not size, decides which repositories and models lead the section.

A 200k-star repository gaining 50 stars a day is not news; a 900-star one gaining 600 is. Growth
is a fraction of the size per day, from the snapshot history when there is one, else from the
feed's own "stars today"; momentum mixes that growth with the absolute daily gain (log-scaled,
so size still counts a little) and the item's AI relevance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

__all__ = ["Sighting", "daily_gain", "growth", "momentum"]

# Growth above this a day (doubling every two days) is capped: new repos divide by tiny sizes.
MAX_GROWTH = 0.5
NOT_AI_FACTOR = 0.3


@dataclass(frozen=True, slots=True)
class Sighting:
    """One day's size of a tool: stars for a repository, downloads for a model or dataset."""

    day: date
    size: int


def daily_gain(history: Sequence[Sighting], stars_today: int | None) -> float | None:
    """Absolute gain a day: across the history's first and last days, else the feed's figure."""
    ordered = sorted(history, key=lambda s: s.day)
    if len(ordered) >= 2:
        days = (ordered[-1].day - ordered[0].day).days
        if days > 0:
            return max(0.0, (ordered[-1].size - ordered[0].size) / days)
    if stars_today is not None:
        return float(max(0, stars_today))
    return None


def growth(history: Sequence[Sighting], stars_today: int | None) -> float | None:
    """Fractional growth a day (0.05 = 5 % a day), or None when nothing says how it moves."""
    gain = daily_gain(history, stars_today)
    if gain is None or not history:
        return None
    ordered = sorted(history, key=lambda s: s.day)
    if len(ordered) >= 2 and (ordered[-1].day - ordered[0].day).days > 0:
        base = ordered[0].size
    else:
        base = ordered[-1].size - (stars_today or 0)
    if base <= 0:
        return MAX_GROWTH if gain > 0 else 0.0
    return round(min(MAX_GROWTH, gain / base), 6)


def momentum(
    history: Sequence[Sighting], stars_today: int | None, *, is_ai: bool, importance: int
) -> float:
    """The ranking score: growth first, then the log of the daily gain, scaled by relevance."""
    rate = growth(history, stars_today) or 0.0
    gain = daily_gain(history, stars_today) or 0.0
    score = 10.0 * rate + math.log10(1.0 + gain)
    relevance = (1.0 if is_ai else NOT_AI_FACTOR) * (0.8 + 0.1 * max(1, min(5, importance)))
    return round(score * relevance, 6)

"""Rising tags and entities: this window's mentions against the four windows before.

One noisy day is not a trend: a name must reach `min_count` mentions in the current window,
and its score compares it with its own average over the previous four windows, smoothed so a
name never seen before does not score infinity.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

__all__ = ["MAX_DAYS", "Mention", "Riser", "daily_counts", "rising", "series"]

NameKind = Literal["tag", "entity"]
MAX_DAYS = 30  # the longest window a report covers (the CLI's and commands' `--days` bound)
PREVIOUS_WINDOWS = 4
SMOOTHING = 1.0


@dataclass(frozen=True, slots=True)
class Mention:
    """One story naming a tag or entity on one (UTC) day."""

    day: date
    name: str
    kind: NameKind


@dataclass(frozen=True, slots=True)
class Riser:
    """A name rising now: its count this window, its average per window before, and the score."""

    name: str
    kind: NameKind
    count: int
    previous: float
    score: float


def daily_counts(mentions: Iterable[Mention]) -> dict[tuple[str, NameKind], Counter[date]]:
    """Mentions per (name, kind) per day."""
    counts: dict[tuple[str, NameKind], Counter[date]] = defaultdict(Counter)
    for mention in mentions:
        counts[(mention.name, mention.kind)][mention.day] += 1
    return counts


def rising(
    mentions: Iterable[Mention],
    today: date,
    *,
    days: int = 7,
    min_count: int = 3,
    limit: int = 20,
) -> list[Riser]:
    """Names whose count in the `days` ending `today` beats their average of the four windows
    before; ranked by score = (count + 1) / (previous + 1) weighted by log-size, then count."""
    start = today - timedelta(days=days - 1)
    before = start - timedelta(days=days * PREVIOUS_WINDOWS)
    out: list[Riser] = []
    for (name, kind), per_day in daily_counts(mentions).items():
        count = sum(n for day, n in per_day.items() if start <= day <= today)
        if count < min_count:
            continue
        earlier = sum(n for day, n in per_day.items() if before <= day < start)
        previous = earlier / PREVIOUS_WINDOWS
        if count <= previous:
            continue
        ratio = (count + SMOOTHING) / (previous + SMOOTHING)
        score = round(ratio * (1.0 + (count - previous) / (count + previous + SMOOTHING)), 4)
        out.append(Riser(name, kind, count, round(previous, 2), score))
    out.sort(key=lambda r: (-r.score, -r.count, r.kind, r.name))
    return out[:limit]


def series(
    mentions: Iterable[Mention], names: Sequence[tuple[str, NameKind]], start: date, end: date
) -> dict[tuple[str, NameKind], list[int]]:
    """Per name, its daily counts from `start` to `end` inclusive (zeros where none)."""
    counts = daily_counts(mentions)
    length = (end - start).days + 1
    return {
        key: [counts.get(key, Counter())[start + timedelta(days=i)] for i in range(length)]
        for key in names
    }


@dataclass(frozen=True, slots=True)
class TrendReport:
    """Risers of a window and the daily series of the top ones, ready to chart."""

    today: date
    days: int
    start: date
    risers: tuple[Riser, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]
    labels: tuple[tuple[str, str], ...] = ()

    def label(self, riser: Riser) -> str:
        """The display name: an entity's gazetteer name, a tag with its hash."""
        return (
            dict(self.labels).get(riser.name, riser.name)
            if riser.kind == "entity"
            else (f"#{riser.name}")
        )


def report(
    mentions: Sequence[Mention],
    today: date,
    *,
    days: int = 7,
    min_count: int = 3,
    limit: int = 10,
    chart_lines: int = 5,
    names: dict[str, str] | None = None,
) -> TrendReport:
    """Risers plus the daily series (over all five windows) of the `chart_lines` strongest."""
    risers = rising(mentions, today, days=days, min_count=min_count, limit=limit)
    start = today - timedelta(days=days * (PREVIOUS_WINDOWS + 1) - 1)
    top = [(r.name, r.kind) for r in risers[:chart_lines]]
    found = series(mentions, top, start, today)
    labels = names or {}
    charted = tuple(
        (labels.get(name, name) if kind == "entity" else f"#{name}", tuple(found[(name, kind)]))
        for name, kind in top
    )
    used = tuple(
        (r.name, labels[r.name]) for r in risers if r.kind == "entity" and r.name in labels
    )
    return TrendReport(today, days, start, tuple(risers), charted, used)

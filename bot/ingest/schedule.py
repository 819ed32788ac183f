"""When a source is next due: the schedule policy of a poll, apart from the refresh flow.

As miniflux keeps `ScheduleNextCheck` on its model, away from the handler that refreshes a
feed, these are pure functions of the outcome (no I/O, no clock): a success or an unchanged
feed is due one interval later; a failure backs off, doubling the interval per consecutive
failure up to `MAX_BACKOFF`; a server's Retry-After is honoured when it asks for longer, up to
`MAX_RETRY_AFTER`; a 429 does not count as a failure (the server is up, only busy); and a
source is disabled once its failures reach `max_failures`. `bot.ingest.write` applies them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = [
    "MAX_BACKOFF",
    "MAX_RETRY_AFTER",
    "after_failure",
    "after_success",
    "after_unchanged",
    "backoff",
    "failures_after",
    "is_disabled",
]

MAX_BACKOFF = timedelta(hours=24)
MAX_RETRY_AFTER = timedelta(days=7)


def after_success(now: datetime, interval: timedelta) -> datetime:
    """Next check of a source whose feed was fetched and stored."""
    return now + interval


def after_unchanged(now: datetime, interval: timedelta) -> datetime:
    """Next check of a source that answered 304 or sent the body it sent last time."""
    return now + interval


def failures_after(error_count: int, *, rate_limited: bool) -> int:
    """The row's consecutive failures once this one is counted (a 429 is not counted)."""
    return error_count + (0 if rate_limited else 1)


def backoff(interval: timedelta, failures: int) -> timedelta:
    """The interval doubled per consecutive failure after the first, capped at MAX_BACKOFF.

    Doubles step by step and stops at the cap, so a long failure streak cannot overflow
    `timedelta` (`interval * 2**60` would)."""
    wait = interval
    for _ in range(max(0, failures - 1)):
        if wait >= MAX_BACKOFF:
            break
        wait *= 2
    return min(wait, MAX_BACKOFF)


def after_failure(
    now: datetime, interval: timedelta, failures: int, retry_after: float | None
) -> datetime:
    """Next check after a failed poll: the backoff, or the server's Retry-After (seconds,
    capped at MAX_RETRY_AFTER) when that is longer."""
    wait = backoff(interval, failures)
    if retry_after is not None:
        wait = max(wait, min(timedelta(seconds=retry_after), MAX_RETRY_AFTER))
    return now + wait


def is_disabled(failures: int, max_failures: int) -> bool:
    """Whether a source stops being polled (until it is added again)."""
    return failures >= max_failures

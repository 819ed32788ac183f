"""The schedule policy: when a source is next due after each poll outcome (pure, no store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.ingest.schedule import (
    MAX_BACKOFF,
    MAX_RETRY_AFTER,
    after_failure,
    after_success,
    after_unchanged,
    backoff,
    failures_after,
    is_disabled,
)

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=30)


def test_success_and_unchanged_are_due_one_interval_later() -> None:
    assert after_success(NOW, INTERVAL) == NOW + INTERVAL
    assert after_unchanged(NOW, INTERVAL) == NOW + INTERVAL


def test_backoff_doubles_per_failure_from_the_interval() -> None:
    waits = [backoff(INTERVAL, failures) for failures in range(1, 6)]
    assert waits == [INTERVAL * 2**n for n in range(5)]
    assert backoff(INTERVAL, 0) == INTERVAL  # a 429 on a healthy source: no doubling


def test_backoff_caps_and_never_overflows() -> None:
    assert backoff(INTERVAL, 7) == MAX_BACKOFF  # 30 min * 64 = 32 h, over the cap
    assert backoff(INTERVAL, 1_000) == MAX_BACKOFF  # interval * 2**999 would overflow
    assert backoff(MAX_BACKOFF * 3, 1) == MAX_BACKOFF  # the cap holds for a long interval
    waits = [backoff(INTERVAL, failures) for failures in range(1, 20)]
    assert waits == sorted(waits) and waits[-1] == MAX_BACKOFF


def test_failure_without_retry_after_backs_off() -> None:
    assert after_failure(NOW, INTERVAL, 3, None) == NOW + INTERVAL * 4


def test_retry_after_is_honoured_when_longer_than_the_backoff() -> None:
    assert after_failure(NOW, INTERVAL, 0, 3600.0) == NOW + timedelta(hours=1)
    assert after_failure(NOW, INTERVAL, 1, 90.5) == NOW + INTERVAL  # backoff is longer


def test_retry_after_is_capped() -> None:
    a_year = 365 * 24 * 3600.0
    assert after_failure(NOW, INTERVAL, 1, a_year) == NOW + MAX_RETRY_AFTER
    assert after_failure(NOW, INTERVAL, 1_000, a_year) == NOW + MAX_RETRY_AFTER


def test_rate_limit_does_not_count_as_a_failure() -> None:
    assert failures_after(2, rate_limited=False) == 3
    assert failures_after(2, rate_limited=True) == 2


def test_disabled_once_failures_reach_the_limit() -> None:
    assert not is_disabled(7, 8)
    assert is_disabled(8, 8)


def test_success_after_failures_resets_to_the_interval() -> None:
    failures = 0
    for _ in range(5):
        failures = failures_after(failures, rate_limited=False)
    assert after_failure(NOW, INTERVAL, failures, None) == NOW + INTERVAL * 16
    # a success clears the count (bot.ingest.write sets error_count = 0) and the next check
    # is one interval away, not the backoff; the next failure starts doubling from scratch
    assert after_success(NOW, INTERVAL) == NOW + INTERVAL
    assert after_failure(NOW, INTERVAL, failures_after(0, rate_limited=False), None) == (
        NOW + INTERVAL
    )

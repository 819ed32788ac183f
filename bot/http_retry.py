"""The one `Retry-After` parser every client uses: feeds, the LLM, Slack and Discord.

Servers send delta-seconds (`120`, Discord also `1.5`) or an HTTP date; anything else — empty,
negative, NaN, a typo — means "no usable hint", never an exception.
"""

from __future__ import annotations

import email.utils
import math
import time
from datetime import UTC, datetime

__all__ = ["parse_retry_after"]


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value; `now` (epoch seconds) is for HTTP dates."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return max(0.0, (when - current).total_seconds())

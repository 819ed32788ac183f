"""Protocols at the application's edges; adapters and engines implement them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from digest.models import Enrichment


class Clock(Protocol):
    """The only source of 'now', so tests can drive days and time zones."""

    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SentMessage:
    """What a notifier reports back: the platform's id of the (first) message posted."""

    platform_message_id: str


# Called with a part's platform id the moment that part is posted, so the outbox can store it
# before the next part goes out.
PartPosted = Callable[[str], Awaitable[None]]


async def ignore_part(message_id: str) -> None:
    return None


class Notifier(Protocol):
    """Sends one outbox payload to one channel of one platform.

    Raises `DeliveryError` on failure; `nonce` is a stable idempotency key per delivery row that
    platforms able to dedupe (Discord) must pass on. A payload may render to several messages:
    `done` holds the ids of the parts already posted by an earlier attempt, which must be skipped,
    and `on_part` must be awaited after each part posted now.
    """

    platform: str

    async def send(
        self,
        workspace: str,
        channel: str,
        payload: dict[str, Any],
        nonce: str,
        *,
        done: Sequence[str] = (),
        on_part: PartPosted = ignore_part,
    ) -> SentMessage: ...


@dataclass(frozen=True, slots=True)
class EnrichmentInput:
    """The article text an enricher may read; everything in it is untrusted data."""

    article_id: int
    title: str
    content: str
    url: str
    source: str
    lang: str
    source_count: int = 1
    points: int | None = None
    comments: int | None = None
    source_weight: float = 1.0
    # The feed gave only a teaser and full text could not be fetched: depth is unknown.
    teaser: bool = False


@dataclass(frozen=True, slots=True)
class EnrichmentResult:
    """An enrichment plus what it cost; `engine` is 'offline' or 'llm'."""

    enrichment: Enrichment
    engine: str
    model: str
    prompt_version: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    note: str = ""


class Enricher(Protocol):
    """Turns one article into an enrichment; raises `LLMError` when it cannot."""

    name: str
    model: str
    prompt_version: str

    async def enrich(self, item: EnrichmentInput) -> EnrichmentResult: ...

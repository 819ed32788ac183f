"""An in-process notifier at our own port: records what it was asked to send, can fail on cue."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.errors import DeliveryError
from bot.ports import PartPosted, SentMessage, ignore_part


@dataclass
class RecordingNotifier:
    platform: str = "console"
    sent: list[tuple[str, str, dict[str, Any], str]] = field(default_factory=list)
    failures: list[DeliveryError] = field(default_factory=list)
    calls: int = 0
    _sent_one: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    async def send(
        self,
        workspace: str,
        channel: str,
        payload: dict[str, Any],
        nonce: str,
        *,
        done: Sequence[str] = (),
        on_part: PartPosted = ignore_part,
    ) -> SentMessage:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((workspace, channel, payload, nonce))
        self._sent_one.set()
        return SentMessage(platform_message_id=f"msg-{len(self.sent)}")

    async def wait_sent(self, count: int, timeout: float = 30.0) -> None:
        """Return once `count` messages were sent; an AssertionError after `timeout`."""
        try:
            async with asyncio.timeout(timeout):
                while len(self.sent) < count:
                    self._sent_one.clear()
                    await self._sent_one.wait()
        except TimeoutError:
            raise AssertionError(
                f"{count} sends awaited, {len(self.sent)} made in {timeout:g}s"
            ) from None

    def delivered_keys(self) -> list[tuple[str, str]]:
        out = []
        for _, channel, payload, _ in self.sent:
            if payload["type"] == "alert":
                out.append((channel, f"alert:story:{payload['item']['story_id']}"))
            else:
                out.append((channel, f"{payload['digest']['kind']}:{payload['digest']['date']}"))
        return out

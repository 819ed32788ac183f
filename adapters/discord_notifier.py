"""The outbox's Discord notifier: rendered payloads to channels through discord.py's HTTP client.

Each message carries a nonce derived from the outbox row with `enforce_nonce`, so a resend after a
crash returns the message Discord already has instead of posting it twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import discord
from discord.http import HTTPClient, Route

from adapters.discord_render import render_outbox_payload
from bot.config import Settings
from bot.errors import DeliveryError
from bot.ports import SentMessage

log = logging.getLogger(__name__)

# Above this, waiting inside one send would hold a worker too long: hand the wait to the outbox.
# discord.py's own floor for `max_ratelimit_timeout` is 30 s; the client is built with it.
SEND_TIMEOUT_SECONDS = 90.0
# the destination is gone or closed to us: disable the channel
PERMANENT_STATUSES = frozenset({401, 403, 404})
# Discord refused this message's body: fail this delivery only
REJECTED_STATUSES = frozenset({400, 413})


def _retry_after(error: discord.HTTPException) -> float | None:
    """The `Retry-After` header of a 429 (discord.py keeps only the body's message text)."""
    header = error.response.headers.get("Retry-After")
    try:
        return float(header) if header else None
    except ValueError:
        return None


def classify(error: BaseException) -> DeliveryError:
    """Map a discord.py failure to the outbox's two kinds: retry later, or never for this row.

    403/404 mean the channel is gone or closed to us (the channel is disabled); 400/413 mean
    Discord rejected this message's body, which no retry can change (only this delivery fails).
    """
    if isinstance(error, discord.RateLimited):
        return DeliveryError(
            f"rate limited for {error.retry_after:.1f}s", retry_after=error.retry_after
        )
    if isinstance(error, discord.HTTPException):
        detail = f"discord {error.status} (code {error.code}): {error.text[:200]}"
        if error.status == 429:
            return DeliveryError(detail, retry_after=_retry_after(error) or 5.0)
        if error.status in PERMANENT_STATUSES:
            return DeliveryError(detail, permanent=True)
        if error.status in REJECTED_STATUSES:
            return DeliveryError(detail, rejected=True)
        return DeliveryError(detail)
    if isinstance(error, TimeoutError):
        return DeliveryError("discord send timed out")
    return DeliveryError(f"discord send failed: {type(error).__name__}: {error}")


class DiscordNotifier:
    """`bot.ports.Notifier` for Discord channels; `workspace` (the guild id) is not needed."""

    platform = "discord"

    def __init__(self, http: HTTPClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    async def send(
        self, workspace: str, channel: str, payload: dict[str, Any], nonce: str
    ) -> SentMessage:
        try:
            messages = render_outbox_payload(payload, self.settings, nonce)
        except (KeyError, ValueError, TypeError) as error:
            raise DeliveryError(f"unrenderable payload: {error}", rejected=True) from error
        if not channel.isdigit():
            raise DeliveryError(f"not a Discord channel id: {channel[:40]!r}", permanent=True)
        first_id = ""
        for message in messages:
            try:
                async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
                    sent = await self.http.request(
                        Route("POST", "/channels/{channel_id}/messages", channel_id=int(channel)),
                        json=message,
                    )
            except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as error:
                failure = classify(error)
                log.warning(
                    "discord delivery failed",
                    extra={
                        "channel": channel,
                        "permanent": failure.permanent,
                        "error": str(failure),
                    },
                )
                raise failure from error
            first_id = first_id or str(sent["id"])
        return SentMessage(platform_message_id=first_id)

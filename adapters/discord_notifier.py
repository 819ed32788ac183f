"""The outbox's Discord notifier: rendered payloads to channels through discord.py's public API.

Each message goes out with `PartialMessageable.send(nonce=…)`, which discord.py (2.4+) sends with
`enforce_nonce`: a resend after a crash returns the message Discord already has instead of posting
it twice. Every part of a long digest has its own stable nonce, is reported to the outbox as soon
as it is posted, and is skipped on a retry, so a retry long after Discord's nonce window still
posts only the missing parts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
import discord

from adapters.discord_render import render_outbox_payload
from bot.config import Settings
from bot.errors import DeliveryError
from bot.http_retry import parse_retry_after
from bot.ports import PartPosted, SentMessage, ignore_part

log = logging.getLogger(__name__)

# Above this, waiting inside one send would hold a worker too long: hand the wait to the outbox.
# discord.py's own floor for `max_ratelimit_timeout` is 30 s; the client is built with it.
SEND_TIMEOUT_SECONDS = 90.0
# The token is invalid: pause Discord; every further call counts toward Discord's ban on
# invalid requests (10,000 per 10 minutes).
TOKEN_STATUSES = frozenset({401})
# the destination is gone or closed to us: disable the channel
PERMANENT_STATUSES = frozenset({403, 404})
# Discord refused this message's body: fail this delivery only
REJECTED_STATUSES = frozenset({400, 413})


def _retry_after(error: discord.HTTPException) -> float | None:
    """The `Retry-After` header of a 429 (discord.py keeps only the body's message text)."""
    return parse_retry_after(error.response.headers.get("Retry-After"))


def classify(error: BaseException) -> DeliveryError:
    """Map a discord.py failure to the outbox's kinds: token, channel, this message, or later.

    401 means the token is bad (pause Discord); 403/404 mean the channel is gone or closed to us
    (the channel is disabled); 400/413 mean Discord rejected this message's body, which no retry
    can change (only this delivery fails).
    """
    if isinstance(error, discord.RateLimited):
        return DeliveryError(
            f"rate limited for {error.retry_after:.1f}s", retry_after=error.retry_after
        )
    if isinstance(error, discord.HTTPException):
        detail = f"discord {error.status} (code {error.code}): {error.text[:200]}"
        if error.status == 429:
            return DeliveryError(detail, retry_after=_retry_after(error) or 5.0)
        if error.status in TOKEN_STATUSES:
            return DeliveryError(f"discord refused the token: {detail}", token=True)
        if error.status in PERMANENT_STATUSES:
            return DeliveryError(detail, permanent=True)
        if error.status in REJECTED_STATUSES:
            return DeliveryError(detail, rejected=True)
        return DeliveryError(detail)
    if isinstance(error, TimeoutError):
        return DeliveryError("discord send timed out")
    return DeliveryError(f"discord send failed: {type(error).__name__}: {error}")


def _send_kwargs(message: dict[str, Any]) -> dict[str, Any]:
    """A rendered payload as `Messageable.send` arguments (mentions off, whatever it says)."""
    kwargs: dict[str, Any] = {
        "content": message.get("content") or None,
        "nonce": message["nonce"],
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    embeds = message.get("embeds") or []
    if embeds:
        kwargs["embeds"] = [discord.Embed.from_dict(embed) for embed in embeds]
    return kwargs


class DiscordNotifier:
    """`bot.ports.Notifier` for Discord channels; `workspace` (the guild id) is not needed."""

    platform = "discord"

    def __init__(self, client: discord.Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings

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
        try:
            messages = render_outbox_payload(payload, self.settings, nonce)
        except (KeyError, ValueError, TypeError) as error:
            raise DeliveryError(f"unrenderable payload: {error}", rejected=True) from error
        if not channel.isdigit():
            raise DeliveryError(f"not a Discord channel id: {channel[:40]!r}", permanent=True)
        target = self.client.get_partial_messageable(int(channel))
        first_id = done[0] if done else ""
        for message in messages[len(done) :]:
            try:
                async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
                    sent = await target.send(**_send_kwargs(message))
            except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as error:
                failure = classify(error)
                log.warning(
                    "discord delivery failed",
                    extra={
                        "channel": channel,
                        "permanent": failure.permanent,
                        "token": failure.token,
                        "error": str(failure),
                    },
                )
                raise failure from error
            await on_part(str(sent.id))
            first_id = first_id or str(sent.id)
        return SentMessage(platform_message_id=first_id)

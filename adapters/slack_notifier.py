"""Outbox deliveries to Slack: chat.postMessage through slack_sdk's AsyncWebClient.

Rate limits are met by pacing posts per channel and, should Slack still answer 429, by the SDK's
retry handler honouring `Retry-After`; errors that will never go away mark the destination.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_render import render_alert_payloads, render_digest_payloads
from bot.config import Settings
from bot.errors import ConfigError, DeliveryError
from bot.ports import SentMessage
from digest.serialize import digest_from_dict, item_from_dict

__all__ = ["PERMANENT_ERRORS", "ChannelPacer", "SlackNotifier", "make_web_client", "post_messages"]

log = logging.getLogger(__name__)

# The destination (or the token) will never accept a message again without a human fixing it.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "account_inactive",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "restricted_action",
        "team_access_not_granted",
        "ekm_access_denied",
    }
)
# The payload itself is refused; sending it again cannot succeed.
REJECTED_PAYLOAD_ERRORS = frozenset(
    {"invalid_blocks", "msg_too_long", "msg_blocks_too_long", "invalid_arguments", "no_text"}
)
POST_INTERVAL_SECONDS = 1.1  # Slack allows about one message per second per channel


def make_web_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    """A Web API client on `[slack] api_base_url` that retries 429s after `Retry-After`."""
    if token is None:
        secret = settings.secrets.slack_bot_token
        if secret is None:
            raise ConfigError("SLACK_BOT_TOKEN is not set")
        token = secret.get_secret_value()
    return AsyncWebClient(
        token=token,
        base_url=settings.slack.api_base_url,
        timeout=30,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


class ChannelPacer:
    """Spaces posts to one channel so a burst never turns into a storm of 429s."""

    def __init__(self, interval: float = POST_INTERVAL_SECONDS) -> None:
        self.interval = interval
        self._next_slot: dict[str, float] = {}

    async def wait(self, channel: str) -> None:
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next_slot.get(channel, 0.0))
        self._next_slot[channel] = slot + self.interval
        if len(self._next_slot) > 10_000:
            self._next_slot = {c: t for c, t in self._next_slot.items() if t > now}
        if slot > now:
            await asyncio.sleep(slot - now)

    def posted(self, channel: str) -> None:
        """Count the interval from the answer too: a request slowed on its way must not let
        the next one reach Slack sooner than `interval` after it."""
        done = asyncio.get_running_loop().time() + self.interval
        self._next_slot[channel] = max(self._next_slot.get(channel, 0.0), done)


def delivery_error(error: SlackApiError) -> DeliveryError:
    """Slack's answer as a DeliveryError: permanent, retry-after, or plain transient."""
    response = error.response
    code = str(response.get("error", "")) if response is not None else ""
    if response is not None and response.status_code == 429:
        raw = response.headers.get("Retry-After") or response.headers.get("retry-after")
        retry_after = float(raw[0] if isinstance(raw, list) else raw) if raw else 1.0
        return DeliveryError("slack rate limited", retry_after=retry_after)
    if code in PERMANENT_ERRORS:
        return DeliveryError(f"slack refused: {code}", permanent=True)
    if code in REJECTED_PAYLOAD_ERRORS:
        return DeliveryError(f"slack rejected the message: {code}", rejected=True)
    return DeliveryError(f"slack error: {code or 'unknown'}")


async def post_messages(
    client: AsyncWebClient,
    channel: str,
    payloads: Sequence[dict[str, Any]],
    pacer: ChannelPacer,
    *,
    thread: bool,
) -> list[str]:
    """Post payloads in order (the rest as replies to the first when `thread`); returns ts's.

    Fails only if the first message fails: later parts are logged, not retried, so that an
    outbox retry never posts the first part twice.
    """
    sent: list[str] = []
    for index, payload in enumerate(payloads):
        message = dict(payload)
        if thread and sent:
            message["thread_ts"] = sent[0]
        await pacer.wait(channel)
        try:
            response = await client.chat_postMessage(channel=channel, **message)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            if not sent:
                raise
            log.error(
                "slack message part not posted",
                extra={"channel": channel, "part": index + 1, "parts": len(payloads)},
                exc_info=error,
            )
            break
        finally:
            pacer.posted(channel)
        sent.append(str(response["ts"]))
    return sent


class SlackNotifier:
    """`bot.ports.Notifier` for Slack: renders an outbox payload and posts it to a channel."""

    platform = "slack"

    def __init__(
        self,
        settings: Settings,
        *,
        client: AsyncWebClient | None = None,
        pacer: ChannelPacer | None = None,
    ) -> None:
        self.settings = settings
        self.client = client or make_web_client(settings)
        self.pacer = pacer or ChannelPacer()

    def render(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        kind = payload.get("type")
        try:
            if kind == "digest":
                return render_digest_payloads(digest_from_dict(payload["digest"]), self.settings)
            if kind == "alert":
                item = item_from_dict(payload["item"])
                return render_alert_payloads(item, self.settings, str(payload.get("lang", "")))
        except (KeyError, TypeError, ValueError) as error:
            raise DeliveryError(f"malformed {kind} payload: {error}", rejected=True) from error
        raise DeliveryError(f"unknown payload type {kind!r}", rejected=True)

    async def send(
        self, workspace: str, channel: str, payload: dict[str, Any], nonce: str
    ) -> SentMessage:
        messages = self.render(payload)
        try:
            sent = await post_messages(self.client, channel, messages, self.pacer, thread=False)
        except SlackApiError as error:
            raise delivery_error(error) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryError(f"slack unreachable: {type(error).__name__}") from error
        return SentMessage(platform_message_id=sent[0])

    async def aclose(self) -> None:
        """Nothing to release: the SDK opens a session per call unless given one."""

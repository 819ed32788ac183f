"""Outbox deliveries to Slack: chat.postMessage through slack_sdk's AsyncWebClient.

Rate limits are met by pacing posts per channel and, should Slack still answer 429, by a retry
handler honouring `Retry-After`; errors that will never go away mark the destination.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_render import render_alert_payloads, render_digest_payloads
from bot.config import Settings
from bot.errors import ConfigError, DeliveryError
from bot.http_retry import parse_retry_after
from bot.ports import PartPosted, SentMessage, ignore_part
from digest.serialize import digest_from_dict, item_from_dict

__all__ = [
    "PERMANENT_ERRORS",
    "TOKEN_ERRORS",
    "ChannelPacer",
    "RetryAfterHandler",
    "SlackNotifier",
    "close_web_client",
    "delivery_error",
    "make_web_client",
    "post_messages",
]

log = logging.getLogger(__name__)

# The token itself is refused: every channel would fail alike, so the platform is paused.
TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "missing_scope",
        "no_permission",
        "team_access_not_granted",
        "ekm_access_denied",
        "org_login_required",
    }
)
# This channel will not accept a message until someone fixes it: the channel is disabled.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "cannot_reply_to_message",
    }
)
# The payload itself is refused; sending it again cannot succeed.
REJECTED_PAYLOAD_ERRORS = frozenset(
    {"invalid_blocks", "msg_too_long", "msg_blocks_too_long", "invalid_arguments", "no_text"}
)
POST_INTERVAL_SECONDS = 1.1  # Slack allows about one message per second per channel


Sleep = Callable[[float], Awaitable[None]]


class RetryAfterHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 retry, reading `Retry-After` with the one parser (`bot.http_retry`;
    the SDK's own `int()` raises on "1.5" or an HTTP date) and waiting through `sleep`, so a
    test can record the wait asked for instead of spending it. Like the SDK, it adds up to a
    second of jitter and waits 1 s (plus jitter) when the header is missing."""

    def __init__(self, max_retry_count: int = 1, *, sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.sleep = sleep

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:  # never: only a 429 response is retried here
            raise error or RuntimeError("rate-limit retry without a response")
        state.next_attempt_requested = True
        hint = next(
            (value for key, value in response.headers.items() if key.lower() == "retry-after"),
            None,
        )
        if isinstance(hint, list):
            hint = hint[0] if hint else None
        retry_after = parse_retry_after(hint)
        await self.sleep((1.0 if retry_after is None else retry_after) + random.random())
        state.increment_current_attempt()


def make_web_client(
    settings: Settings,
    token: str | None = None,
    *,
    pooled: bool = False,
    sleep: Sleep = asyncio.sleep,
) -> AsyncWebClient:
    """A Web API client on `[slack] api_base_url` that retries 429s after `Retry-After`.

    `pooled`: the client keeps one aiohttp session (and its TLS connections) for its lifetime —
    without one slack_sdk opens a session per call; the owner closes it with `close_web_client`.
    Must then be called inside the running event loop. `sleep` spends the 429 waits.
    """
    if token is None:
        secret = settings.secrets.slack_bot_token
        if secret is None:
            raise ConfigError("SLACK_BOT_TOKEN is not set")
        token = secret.get_secret_value()
    session = _new_session() if pooled else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack.api_base_url,
        timeout=30,
        session=session,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            RetryAfterHandler(max_retry_count=2, sleep=sleep),
        ],
    )


def _new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def close_web_client(client: AsyncWebClient) -> None:
    session = client.session
    if session is not None and not session.closed:
        await session.close()


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


def _status(response: Any) -> int:
    """The HTTP status of a SlackResponse, or of the raw aiohttp response slack_sdk attaches
    when the body was not JSON (a proxy's 502 page)."""
    for name in ("status_code", "status"):
        value = getattr(response, name, None)
        if isinstance(value, int):
            return value
    return 0


def _error_code(response: Any) -> str:
    data = getattr(response, "data", None)
    if isinstance(data, dict):
        return str(data.get("error", ""))[:100]
    return ""


def _header(response: Any, name: str) -> str | None:
    headers = getattr(response, "headers", None) or {}
    raw = headers.get(name) or headers.get(name.lower())
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    return str(raw) if raw is not None else None


def delivery_error(error: SlackApiError) -> DeliveryError:
    """Slack's answer as a DeliveryError: token, channel, rejected, retry-after, or transient.

    Never raises itself, whatever the response looks like (5xx with an HTML body included).
    """
    response = error.response
    status = _status(response)
    code = _error_code(response)
    if status == 429 or code == "ratelimited":
        retry_after = parse_retry_after(_header(response, "Retry-After"))
        return DeliveryError("slack rate limited", retry_after=retry_after or 1.0)
    if code in TOKEN_ERRORS:
        return DeliveryError(f"slack refused the token: {code}", token=True)
    if code in PERMANENT_ERRORS:
        return DeliveryError(f"slack refused: {code}", permanent=True)
    if code in REJECTED_PAYLOAD_ERRORS:
        return DeliveryError(f"slack rejected the message: {code}", rejected=True)
    if status >= 500 or not code:
        return DeliveryError(f"slack unavailable (HTTP {status or 'error'})")
    return DeliveryError(f"slack error: {code}")


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
    """`bot.ports.Notifier` for Slack: renders an outbox payload and posts it to a channel.

    The parts of a long message are independent top-level messages; each is reported through
    `on_part` as soon as Slack accepts it, and a retry skips the parts listed in `done`.
    """

    platform = "slack"

    def __init__(
        self,
        settings: Settings,
        *,
        client: AsyncWebClient | None = None,
        pacer: ChannelPacer | None = None,
    ) -> None:
        self.settings = settings
        self._own_client = client is None
        # built outside a loop (a test fixture), the session is opened with the first send
        self.client = client or make_web_client(settings, pooled=_in_event_loop())
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
        self,
        workspace: str,
        channel: str,
        payload: dict[str, Any],
        nonce: str,
        *,
        done: Sequence[str] = (),
        on_part: PartPosted = ignore_part,
    ) -> SentMessage:
        messages = self.render(payload)
        if self._own_client and self.client.session is None:
            self.client.session = _new_session()
        first = done[0] if done else ""
        for message in messages[len(done) :]:
            await self.pacer.wait(channel)
            try:
                response = await self.client.chat_postMessage(channel=channel, **message)
            except SlackApiError as error:
                raise delivery_error(error) from error
            except (aiohttp.ClientError, TimeoutError) as error:
                raise DeliveryError(f"slack unreachable: {type(error).__name__}") from error
            finally:
                self.pacer.posted(channel)
            ts = str(response.get("ts") or "")
            await on_part(ts)
            first = first or ts
        return SentMessage(platform_message_id=first)

    async def aclose(self) -> None:
        """Close the shared HTTP session (only the one this notifier made)."""
        if self._own_client:
            await close_web_client(self.client)

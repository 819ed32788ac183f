"""The interaction webhook: how an answer that did not fit the first HTTP response is completed.

After the first response (type 4 or a deferred type 5) Discord accepts, for 15 minutes, edits of
the original response and follow-up messages on `/webhooks/{application}/{token}` — no bot token,
the interaction token is the credential. The token is in the URL, so paths are never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp

from adapters.discord_render import NO_MENTIONS, OutgoingMessage

__all__ = ["EPHEMERAL", "InteractionWebhookError", "InteractionWebhooks", "message_body"]

log = logging.getLogger(__name__)

EPHEMERAL = 1 << 6
MAX_RATE_LIMIT_WAIT = 60.0
RATE_LIMIT_TRIES = 3
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10)


class InteractionWebhookError(Exception):
    """Discord refused a follow-up or an edit; `status` is its HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def message_body(message: OutgoingMessage, *, ephemeral: bool | None = None) -> dict[str, Any]:
    """A message as Discord's JSON: never pings (`allowed_mentions: {"parse": []}`).

    `ephemeral=None` leaves `flags` out, as an edit of the original response must.
    """
    body: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    if message.content:
        body["content"] = message.content
    if message.embeds:
        body["embeds"] = message.embeds
    if ephemeral is not None:
        body["flags"] = EPHEMERAL if ephemeral else 0
    if message.attachment is not None:
        body["attachments"] = [{"id": 0, "filename": message.attachment[0]}]
    return body


def _retry_after(headers: Any, payload: Any) -> float:
    """Discord's `retry_after` (body, float seconds), else the `Retry-After` header."""
    if isinstance(payload, dict) and isinstance(payload.get("retry_after"), int | float):
        return float(payload["retry_after"])
    try:
        return float(headers.get("Retry-After", "1"))
    except ValueError:
        return 1.0


class InteractionWebhooks:
    """Edits and follow-ups for interaction tokens, over one shared aiohttp session."""

    def __init__(self, api_base_url: str) -> None:
        self.base = api_base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def edit_original(self, app_id: str, token: str, message: OutgoingMessage) -> None:
        path = f"/webhooks/{app_id}/{token}/messages/@original"
        await self._send("PATCH", path, message_body(message), message.attachment)

    async def follow_up(
        self, app_id: str, token: str, message: OutgoingMessage, *, ephemeral: bool
    ) -> None:
        path = f"/webhooks/{app_id}/{token}?wait=true"
        body = message_body(message, ephemeral=ephemeral)
        await self._send("POST", path, body, message.attachment)

    async def delete_original(self, app_id: str, token: str) -> None:
        await self._send("DELETE", f"/webhooks/{app_id}/{token}/messages/@original", None, None)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=REQUEST_TIMEOUT)
        return self._session

    async def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        attachment: tuple[str, bytes] | None,
    ) -> None:
        for attempt in range(RATE_LIMIT_TRIES):
            data: Any = None
            headers: dict[str, str] = {}
            if attachment is not None:
                form = aiohttp.FormData()
                form.add_field("payload_json", json.dumps(body), content_type="application/json")
                form.add_field("files[0]", attachment[1], filename=attachment[0])
                data = form
            elif body is not None:
                data = json.dumps(body)
                headers["Content-Type"] = "application/json"
            async with self._client().request(
                method, self.base + path, data=data, headers=headers
            ) as response:
                if response.status < 300:
                    return
                try:
                    payload = await response.json(content_type=None)
                except (ValueError, aiohttp.ContentTypeError):
                    payload = None
                if response.status == 429 and attempt + 1 < RATE_LIMIT_TRIES:
                    wait = _retry_after(response.headers, payload)
                    if wait <= MAX_RATE_LIMIT_WAIT:
                        await asyncio.sleep(wait)
                        continue
                code = payload.get("code") if isinstance(payload, dict) else None
                raise InteractionWebhookError(
                    f"discord refused the interaction {method} (code {code})", response.status
                )

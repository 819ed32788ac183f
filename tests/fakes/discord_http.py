"""Discord's side of the Interactions Endpoint URL mode: sign and POST interactions to ainews.

It holds an Ed25519 key pair (the application's; ainews gets the public half as
DISCORD_PUBLIC_KEY), signs `timestamp + body` as Discord does, and hands ainews' HTTP response to
the fake REST API as the interaction's first response, so follow-ups and edits through the
interaction webhook meet the same rules and deadlines as over the gateway.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from nacl.signing import SigningKey

from tests.fakes.discord_api import FakeDiscordAPI

# A fixed key so a failing run can be replayed; it signs nothing outside these tests.
SEED = bytes(range(32))


class DiscordInteractionSender:
    """POSTs signed interactions to `endpoint` (ainews' `/discord/interactions`)."""

    def __init__(self, api: FakeDiscordAPI, endpoint: str, seed: bytes = SEED) -> None:
        self.api = api
        self.endpoint = endpoint
        self.key = SigningKey(seed)
        self.bodies: dict[str, bytes] = {}

    @property
    def public_key_hex(self) -> str:
        return self.key.verify_key.encode().hex()

    def sign(self, timestamp: str, body: bytes) -> str:
        return self.key.sign(timestamp.encode() + body).signature.hex()

    async def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(
                self.endpoint, content=body, headers={"Content-Type": "application/json", **headers}
            )

    def signed_headers(self, body: bytes, timestamp: str | None = None) -> dict[str, str]:
        stamp = timestamp if timestamp is not None else str(int(time.time()))
        return {"X-Signature-Ed25519": self.sign(stamp, body), "X-Signature-Timestamp": stamp}

    async def send(
        self, payload: dict[str, Any], *, timestamp: str | None = None
    ) -> httpx.Response:
        """Create the interaction, deliver it signed, and pass the response on to the fake API."""
        body = json.dumps(payload).encode()
        token = payload.get("token")
        if token is not None and payload.get("type") != 1:
            self.api.issue_interaction(str(token))
        response = await self.post(body, self.signed_headers(body, timestamp))
        if token is not None and response.status_code == 200:
            await self.api.accept_http_response(str(token), response.json())
        return response

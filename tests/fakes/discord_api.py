"""A fake Discord REST API on 127.0.0.1 for the routes ainews uses, enforcing Discord's rules.

It records every call, applies per-route rate limits (429 + `retry_after` + `X-RateLimit-*`),
rejects over-limit or empty messages with 400 like Discord, honours `nonce` + `enforce_nonce`,
and can be told to fail a channel (403/404/400/429/500) so delivery paths can be exercised.
Every bot-token request counts toward the global 50 per second (429 with `X-RateLimit-Scope:
global` beyond); a command larger than 8,000 characters is refused on sync; embeds sharing a
URL collapse into one, as Discord displays them.
Interactions keep Discord's deadlines once issued: the first response within 3 s (later ones get
404 Unknown interaction), follow-ups and edits only while the 15-minute token lives.
discord.py is pointed at it through `discord.http.Route.BASE`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from discord.http import Route

API_PREFIX = "/api/v10"
BOT_TOKEN = "fake-bot-token-for-loopback-tests-only"
APP_ID = "1100000000000000001"
BOT_USER_ID = "1100000000000000002"
NONCE_WINDOW_SECONDS = 300.0
MAX_COMMAND_TOTAL = 8000
GLOBAL_LIMIT_PER_SECOND = 50  # every bot request except interaction callbacks
INITIAL_RESPONSE_SECONDS = 3.0  # an interaction not answered by then is invalid
INTERACTION_TOKEN_SECONDS = 15 * 60  # follow-ups and edits after that get 404
# An interaction must get its first response within 3 s; its token then lives 15 minutes.
INTERACTION_ACK_SECONDS = 3.0
INTERACTION_TOKEN_SECONDS = 15 * 60.0

LIMITS = {
    "content": 2000,
    "embeds": 10,
    "embed_total": 6000,
    "title": 256,
    "description": 4096,
    "fields": 25,
    "field_name": 256,
    "field_value": 1024,
    "footer": 2048,
    "author": 256,
    "nonce": 25,
}
MAX_FILES = 10
BODY: web.RequestKey[Any] = web.RequestKey("body", object)
FILES: web.RequestKey[list[tuple[str, bytes]]] = web.RequestKey("files", list)
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
MAX_COMMAND_TOTAL = 8000  # characters in one command's names, descriptions and choices


@dataclass
class Call:
    """One request the fake received and what it answered."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0
    at: float = field(default_factory=time.monotonic)


@dataclass
class Scripted:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class InteractionLog:
    """What ainews answered to one interaction token: the callback, then follow-ups."""

    callback: dict[str, Any] | None = None
    original: dict[str, Any] | None = None
    followups: list[dict[str, Any]] = field(default_factory=list)
    files: list[tuple[str, bytes]] = field(default_factory=list)
    original_deleted: bool = False
    callbacks: int = 0  # first responses attempted (the HTTP response or REST callbacks)
    issued_at: float | None = None  # when Discord created the interaction (deadlines start)
    failed: bool = False  # not acknowledged within 3 s: Discord showed "interaction failed"

    def messages(self) -> list[dict[str, Any]]:
        """Every message body the user saw, in order (the deferred placeholder excluded)."""
        out = [self.original] if self.original is not None else []
        return out + self.followups


def embed_chars(embed: dict[str, Any]) -> int:
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for item in embed.get("fields") or ():
        total += len(item.get("name") or "") + len(item.get("value") or "")
    return total


def collapse_embeds(embeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What Discord shows: embeds sharing a `url` merge into the first (an image gallery), so
    the later ones' titles, descriptions and fields are never seen."""
    shown: list[dict[str, Any]] = []
    by_url: dict[str, dict[str, Any]] = {}
    for embed in embeds:
        url = embed.get("url")
        if url and url in by_url:
            if embed.get("image"):
                by_url[url].setdefault("gallery", []).append(embed["image"])
            continue
        kept = {"type": "rich", **embed}
        shown.append(kept)
        if url:
            by_url[url] = kept
    return shown


def message_errors(body: dict[str, Any], *, files: int = 0) -> dict[str, str]:
    """Discord's documented message limits; an empty result means Discord would accept it."""
    errors: dict[str, str] = {}
    content = body.get("content") or ""
    if not isinstance(content, str) or len(content) > LIMITS["content"]:
        errors["content"] = "Must be 2000 or fewer in length."
    embeds = body.get("embeds") or []
    if len(embeds) > LIMITS["embeds"]:
        errors["embeds"] = "Must be 10 or fewer in length."
    for index, embed in enumerate(embeds):
        where = f"embeds.{index}"
        for key, limit in (("title", "title"), ("description", "description")):
            if len(embed.get(key) or "") > LIMITS[limit]:
                errors[f"{where}.{key}"] = f"Must be {LIMITS[limit]} or fewer in length."
        if len((embed.get("footer") or {}).get("text") or "") > LIMITS["footer"]:
            errors[f"{where}.footer.text"] = "Must be 2048 or fewer in length."
        if len((embed.get("author") or {}).get("name") or "") > LIMITS["author"]:
            errors[f"{where}.author.name"] = "Must be 256 or fewer in length."
        url = embed.get("url")
        if url is not None and not re.match(r"^https?://", str(url)):
            errors[f"{where}.url"] = "Scheme must be one of ('http', 'https')."
        fields = embed.get("fields") or []
        if len(fields) > LIMITS["fields"]:
            errors[f"{where}.fields"] = "Must be 25 or fewer in length."
        for number, item in enumerate(fields):
            name, value = item.get("name") or "", item.get("value") or ""
            if not name.strip() or len(name) > LIMITS["field_name"]:
                errors[f"{where}.fields.{number}.name"] = "Must be between 1 and 256 in length."
            if not value.strip() or len(value) > LIMITS["field_value"]:
                errors[f"{where}.fields.{number}.value"] = "Must be between 1 and 1024 in length."
        for media in ("thumbnail", "image"):
            media_url = (embed.get(media) or {}).get("url")
            if embed.get(media) is not None and not re.match(
                r"^(https?|attachment)://", str(media_url or "")
            ):
                errors[f"{where}.{media}.url"] = "Scheme must be one of ('http', 'https')."
        colour = embed.get("color")
        if colour is not None and not (isinstance(colour, int) and 0 <= colour <= 0xFFFFFF):
            errors[f"{where}.color"] = "Value is not a valid colour."
    if sum(embed_chars(e) for e in embeds) > LIMITS["embed_total"]:
        errors["embeds"] = "Embed size exceeds maximum size of 6000"
    nonce = body.get("nonce")
    if nonce is not None and len(str(nonce)) > LIMITS["nonce"]:
        errors["nonce"] = "Must be 25 or fewer in length."
    mentions = body.get("allowed_mentions")
    if mentions is not None and not set(mentions.get("parse", [])) <= {
        "users",
        "roles",
        "everyone",
    }:
        errors["allowed_mentions.parse"] = "Invalid allowed mention type."
    if files > MAX_FILES:
        errors["files"] = "Must be 10 or fewer in length."
    for index, attachment in enumerate(body.get("attachments") or ()):
        number = int(attachment.get("id", -1))
        if files and 0 <= number < 1_000_000 and number >= files:
            errors[f"attachments.{index}.id"] = "Unknown attachment id."
    if not content.strip() and not embeds and not files and not body.get("attachments"):
        errors["_empty"] = "Cannot send an empty message"
    return errors


def command_chars(node: dict[str, Any]) -> int:
    """What Discord counts toward a command's 8,000 characters: every name, description and
    choice name and value, through subcommands and groups."""
    total = len(str(node.get("name", ""))) + len(str(node.get("description", "")))
    for choice in node.get("choices") or []:
        total += len(str(choice.get("name", ""))) + len(str(choice.get("value", "")))
    return total + sum(command_chars(option) for option in node.get("options") or [])


def collapse_same_url_embeds(embeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Discord shows embeds of one message that share a `url` as one (an image gallery): only
    the first one's text survives, the others' is lost."""
    shown: list[dict[str, Any]] = []
    seen: set[str] = set()
    for embed in embeds:
        url = embed.get("url")
        if url and url in seen:
            continue
        if url:
            seen.add(str(url))
        shown.append(embed)
    return shown


def command_errors(commands: list[dict[str, Any]]) -> dict[str, str]:
    """The application-command rules Discord enforces on a bulk overwrite."""
    errors: dict[str, str] = {}

    def check_options(where: str, options: list[dict[str, Any]]) -> None:
        if len(options) > 25:
            errors[where] = "Must be 25 or fewer in length."
        seen_optional = False
        for index, option in enumerate(options):
            here = f"{where}.{index}"
            if (
                not COMMAND_NAME.match(option.get("name", ""))
                or option["name"] != option["name"].lower()
            ):
                errors[f"{here}.name"] = "Invalid name."
            if not 1 <= len(option.get("description", "")) <= 100:
                errors[f"{here}.description"] = "Must be between 1 and 100 in length."
            if option.get("type") in (1, 2):
                check_options(f"{here}.options", option.get("options", []))
                continue
            if option.get("required"):
                if seen_optional:
                    errors[f"{here}.required"] = "Required options must be placed before optional."
            else:
                seen_optional = True
            if option.get("choices") and option.get("autocomplete"):
                errors[f"{here}.autocomplete"] = "Autocomplete cannot be set with choices."
            if len(option.get("choices") or []) > 25:
                errors[f"{here}.choices"] = "Must be 25 or fewer in length."

    for index, command in enumerate(commands):
        if command_chars(command) > MAX_COMMAND_TOTAL:
            errors[f"{index}"] = f"Command exceeds maximum size ({MAX_COMMAND_TOTAL})."
        if not COMMAND_NAME.match(command.get("name", "")):
            errors[f"{index}.name"] = "Invalid name."
        if not 1 <= len(command.get("description", "")) <= 100:
            errors[f"{index}.description"] = "Must be between 1 and 100 in length."
        check_options(f"{index}.options", command.get("options", []))
    return errors


class FakeDiscordAPI:
    """The loopback server; `base_url` is what `Route.BASE` must be set to."""

    def __init__(self, *, rate_limit: int = 50, rate_window: float = 1.0) -> None:
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.interactions: dict[str, InteractionLog] = {}
        self.expired_tokens: set[str] = set()
        self.commands: dict[str | None, list[dict[str, Any]]] = {}
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        # Discord's global limit: one bucket for every bot-token request, emptied each second
        self.global_limit = GLOBAL_LIMIT_PER_SECOND
        self.global_429s = 0
        self._global_start = float("-inf")  # when the current one-second window opened
        self._global_count = 0  # requests let through in it
        self.ack_seconds = INTERACTION_ACK_SECONDS
        self.token_seconds = INTERACTION_TOKEN_SECONDS
        # False hides X-RateLimit-* on successes (like a shared bucket), so clients meet real 429s.
        self.advertise_limits = True
        self.base_url = ""
        self._scripted: dict[str, list[Scripted]] = {}
        self._gone: dict[str, int] = {}
        self._nonces: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._buckets: dict[str, list[float]] = {}
        self._ids = itertools.count(1200000000000000000)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        # the token was revoked or reset: every bot call gets 401
        self.revoked = False
        # seconds added to the fake's clock, so tests reach deadlines without sleeping
        self.clock_offset = 0.0
        self._created: dict[str, float] = {}
        # message posts to fail, by 1-based post number per channel: {channel: {2: 500}}
        self.fail_post_numbers: dict[str, dict[int, int]] = {}
        self._post_numbers: dict[str, int] = {}

    def now(self) -> float:
        return time.monotonic() + self.clock_offset

    def interaction_created(self, token: str) -> None:
        """The gateway delivered an interaction now: its 3 s and 15 min deadlines start."""
        self._created[token] = self.now()

    def _expired(self, token: str, limit: float) -> bool:
        created = self._created.get(token)
        return created is not None and self.now() - created > limit

    # ---- control -------------------------------------------------------------------------
    def fail_next(
        self, channel_id: str, status: int, *, times: int = 1, retry_after: float | None = None
    ) -> None:
        """Answer the next `times` message posts to a channel with `status`."""
        headers: dict[str, str] = {}
        body: dict[str, Any] = {"message": f"scripted {status}", "code": 0}
        if status == 429:
            wait = retry_after if retry_after is not None else 1.0
            body = {"message": "You are being rate limited.", "retry_after": wait, "global": False}
            headers = self._limit_headers(0, wait, scope="user")
        elif status == 400:
            body = {"message": "Invalid Form Body", "code": 50035, "errors": {}}
        self._scripted.setdefault(channel_id, []).extend(
            Scripted(status, body, headers) for _ in range(times)
        )

    def issue_interaction(self, token: str) -> InteractionLog:
        """Discord created an interaction with this token now: its deadlines start."""
        log = self.interactions.setdefault(token, InteractionLog())
        log.issued_at = time.monotonic()
        return log

    async def accept_http_response(self, token: str, response: dict[str, Any]) -> None:
        """Discord read ainews' HTTP response to an interaction it POSTed (Interactions Endpoint
        mode): the same rules as the REST callback, including the 3-second deadline."""
        log = self.interactions.setdefault(token, InteractionLog())
        log.callbacks += 1
        if self._late(log):
            log.failed = True
        elif log.callback is None:
            kind, data = response.get("type"), response.get("data") or {}
            if kind == 4 and message_errors(data):
                log.failed = True  # Discord refuses the body and shows "interaction failed"
                return
            if kind == 8 and len(data.get("choices", [])) > 25:
                log.failed = True
                return
            if kind == 4:
                log.original = data
            log.callback = response
        async with self._changed:
            self._changed.notify_all()

    def _late(self, log: InteractionLog) -> bool:
        return log.issued_at is not None and time.monotonic() - log.issued_at > self.ack_seconds

    def _token_expired(self, log: InteractionLog) -> bool:
        return log.issued_at is not None and time.monotonic() - log.issued_at > self.token_seconds

    def remove_channel(self, channel_id: str, status: int = 404) -> None:
        """From now on the channel answers 404 (deleted) or 403 (bot lost access)."""
        self._gone[channel_id] = status

    def calls_to(self, pattern: str, method: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if re.search(pattern, c.path) and (method is None or c.method == method)
        ]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    # ---- lifecycle -----------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(middlewares=[self._record])
        p = API_PREFIX
        app.router.add_get(f"{p}/users/@me", self._me)
        app.router.add_get(f"{p}/oauth2/applications/@me", self._application)
        app.router.add_put(f"{p}/applications/{{app}}/commands", self._put_commands)
        app.router.add_put(
            f"{p}/applications/{{app}}/guilds/{{guild}}/commands", self._put_commands
        )
        app.router.add_post(f"{p}/channels/{{channel}}/messages", self._post_message)
        app.router.add_post(f"{p}/interactions/{{iid}}/{{token}}/callback", self._callback)
        app.router.add_post(f"{p}/webhooks/{{app}}/{{token}}", self._followup)
        app.router.add_patch(
            f"{p}/webhooks/{{app}}/{{token}}/messages/@original", self._edit_original
        )
        app.router.add_delete(
            f"{p}/webhooks/{{app}}/{{token}}/messages/@original", self._delete_original
        )
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}{API_PREFIX}"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- plumbing ------------------------------------------------------------------------
    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Any = None
        if request.content_type == "application/json":
            body = json.loads(await request.text() or "null")
        elif request.content_type.startswith("multipart/"):
            form = await request.post()
            files = []
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files.append((value.filename, value.file.read()))
                elif key == "payload_json":
                    body = json.loads(str(value))
            request[FILES] = files
        request[BODY] = body
        call = Call(request.method, request.path, dict(request.query), body)
        self.calls.append(call)
        try:
            if self._over_global_limit(request):
                response: web.StreamResponse = self._globally_limited()
            else:
                response = await handler(request)
        except web.HTTPException as error:
            response = error
        call.status = response.status
        async with self._changed:
            self._changed.notify_all()
        return response

    def _over_global_limit(self, request: web.Request) -> bool:
        """Discord's global limit: `global_limit` (50) requests per second per bot token, all
        routes together — checked here, before any route's own bucket, for every request
        (interaction callbacks and webhooks carry no bot token and are exempt).

        A bucket that empties when its second is over, as Discord's buckets reset: every
        client told to wait is let through together at the reset, up to the limit. (A
        sliding log would free one slot at a time, and a herd of waiters would each be
        refused again after a few milliseconds until discord.py's retries ran out.)"""
        if not request.headers.get("Authorization", "").startswith("Bot "):
            return False
        now = self.now()
        if now - self._global_start >= 1.0:
            self._global_start, self._global_count = now, 0
        if self._global_count >= self.global_limit:
            self.global_429s += 1
            return True
        self._global_count += 1
        return False

    def _globally_limited(self) -> web.Response:
        reset_after = max(0.001, 1.0 - (self.now() - self._global_start))
        headers = {
            **self._limit_headers(0, reset_after, scope="global"),
            "X-RateLimit-Global": "true",
        }
        body = {
            "message": "You are being rate limited.",
            "retry_after": reset_after,
            "global": True,
        }
        return self._json(body, 429, headers)

    def _snowflake(self) -> str:
        return str(next(self._ids))

    def _limit_headers(
        self, remaining: int, reset_after: float, *, scope: str = ""
    ) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": "fakebucket",
            # discord.py treats a 429 without `Via` as a Cloudflare ban, as Discord's edge adds it.
            "Via": "1.1 google",
        }
        if scope:
            headers["X-RateLimit-Scope"] = scope
            headers["X-RateLimit-Global"] = "false"
            headers["Retry-After"] = str(math.ceil(reset_after))
        return headers

    def _take(self, bucket: str) -> tuple[bool, dict[str, str]]:
        """Sliding window per route bucket; returns (allowed, headers)."""
        now = self.now()
        stamps = [t for t in self._buckets.get(bucket, []) if now - t < self.rate_window]
        if len(stamps) >= self.rate_limit:
            reset_after = self.rate_window - (now - stamps[0])
            self._buckets[bucket] = stamps
            return False, self._limit_headers(0, reset_after, scope="user")
        stamps.append(now)
        self._buckets[bucket] = stamps
        if not self.advertise_limits:
            return True, {}
        reset_after = self.rate_window - (now - stamps[0])
        return True, self._limit_headers(self.rate_limit - len(stamps), reset_after)

    def _json(
        self, data: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> web.Response:
        # Exactly `application/json`, no charset: discord.py compares the header verbatim.
        merged = {**(headers or {}), "Content-Type": "application/json"}
        return web.Response(body=json.dumps(data).encode(), status=status, headers=merged)

    def _rate_limited(self, headers: dict[str, str]) -> web.Response:
        retry_after = float(headers["X-RateLimit-Reset-After"])
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": False,
        }
        return self._json(body, 429, headers)

    def _invalid(
        self, errors: dict[str, str], headers: dict[str, str] | None = None
    ) -> web.Response:
        if "_empty" in errors:
            return self._json({"message": errors["_empty"], "code": 50006}, 400, headers)
        body = {"message": "Invalid Form Body", "code": 50035, "errors": errors}
        return self._json(body, 400, headers)

    def _authorised(self, request: web.Request) -> bool:
        return not self.revoked and request.headers.get("Authorization") == f"Bot {BOT_TOKEN}"

    def _user(self) -> dict[str, Any]:
        return {
            "id": BOT_USER_ID,
            "username": "ainews",
            "discriminator": "0",
            "global_name": "ainews",
            "avatar": None,
            "bot": True,
            "flags": 0,
            "public_flags": 0,
        }

    def _message(
        self, channel_id: str, body: dict[str, Any], files: list[tuple[str, bytes]], flags: int = 0
    ) -> dict[str, Any]:
        return {
            "id": self._snowflake(),
            "channel_id": channel_id,
            "type": 0,
            "content": body.get("content") or "",
            "embeds": [
                {"type": "rich", **e} for e in collapse_same_url_embeds(body.get("embeds") or [])
            ],
            "attachments": [
                {
                    "id": self._snowflake(),
                    "filename": name,
                    "size": len(data),
                    "url": f"http://127.0.0.1/attachments/{name}",
                    "proxy_url": f"http://127.0.0.1/attachments/{name}",
                }
                for name, data in files
            ],
            "author": self._user(),
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "flags": flags | int(body.get("flags") or 0),
            "nonce": body.get("nonce"),
            "components": [],
        }

    # ---- routes --------------------------------------------------------------------------
    async def _me(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._json({"message": "401: Unauthorized", "code": 0}, 401)
        return self._json(self._user())

    async def _application(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._json({"message": "401: Unauthorized", "code": 0}, 401)
        return self._json(
            {
                "id": APP_ID,
                "name": "ainews",
                "description": "AI news",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self._user(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "summary": "",
                "interactions_endpoint_url": None,
            }
        )

    async def _put_commands(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._json({"message": "401: Unauthorized", "code": 0}, 401)
        commands = request[BODY] or []
        errors = command_errors(commands)
        if errors:
            return self._invalid(errors)
        guild = request.match_info.get("guild")
        stored = [
            {
                "id": self._snowflake(),
                "application_id": APP_ID,
                "version": self._snowflake(),
                "type": 1,
                **command,
                **({"guild_id": guild} if guild else {}),
            }
            for command in commands
        ]
        self.commands[guild] = stored
        return self._json(stored)

    async def _post_message(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._json({"message": "401: Unauthorized", "code": 0}, 401)
        channel = request.match_info["channel"]
        allowed, headers = self._take(f"channel:{channel}")
        if not allowed:
            return self._rate_limited(headers)
        if channel in self._gone:
            status = self._gone[channel]
            code = 10003 if status == 404 else 50001
            text = "Unknown Channel" if status == 404 else "Missing Access"
            return self._json({"message": text, "code": code}, status, headers)
        scripted = self._scripted.get(channel)
        if scripted:
            answer = scripted.pop(0)
            return self._json(answer.body, answer.status, {**headers, **answer.headers})
        number = self._post_numbers.get(channel, 0) + 1
        self._post_numbers[channel] = number
        failing = self.fail_post_numbers.get(channel, {}).get(number)
        if failing:
            return self._json({"message": f"scripted {failing}", "code": 0}, failing, headers)
        body = request[BODY] or {}
        files = request.get(FILES, [])
        errors = message_errors(body, files=len(files))
        if errors:
            return self._invalid(errors, headers)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            seen = self._nonces.get((channel, str(nonce)))
            if seen is not None and self.now() - seen[0] < NONCE_WINDOW_SECONDS:
                return self._json(seen[1], 200, headers)
        message = self._message(channel, body, files)
        self.messages.setdefault(channel, []).append(message)
        if nonce is not None:
            self._nonces[(channel, str(nonce))] = (self.now(), message)
        return self._json(message, 200, headers)

    async def _callback(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if self._expired(token, INITIAL_RESPONSE_SECONDS):
            return self._json({"message": "Unknown interaction", "code": 10062}, 404)
        log = self.interactions.setdefault(token, InteractionLog())
        log.callbacks += 1
        if log.callback is not None:
            return self._json(
                {"message": "Interaction has already been acknowledged.", "code": 40060}, 400
            )
        if self._late(log):
            log.failed = True
            return self._json({"message": "Unknown interaction", "code": 10062}, 404)
        body = request[BODY] or {}
        kind = body.get("type")
        data = body.get("data") or {}
        files = request.get(FILES, [])
        message: dict[str, Any] | None = None
        if kind == 4:
            errors = message_errors(data, files=len(files))
            if errors:
                return self._invalid(errors)
            message = self._message("0", data, files)
            log.original = data
            log.files.extend(files)
        elif kind == 5:
            message = self._message("0", {"content": ""}, [], flags=128 | int(data.get("flags", 0)))
        elif kind == 8:
            choices = data.get("choices", [])
            if len(choices) > 25 or any(
                not 1 <= len(c["name"]) <= 100 or len(str(c["value"])) > 100 for c in choices
            ):
                return self._invalid({"data.choices": "Invalid choices."})
        else:
            return self._invalid({"type": f"Unsupported callback type {kind!r}."})
        log.callback = body
        flags = int(data.get("flags") or 0)
        response: dict[str, Any] = {
            "interaction": {
                "id": request.match_info["iid"],
                "type": 2,
                "response_message_id": message["id"] if message else None,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & 64),
            },
            "resource": {"type": kind, **({"message": message} if message else {})},
        }
        return self._json(response)

    async def _followup(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        log = self.interactions.get(token)
        if (
            token in self.expired_tokens
            or self._expired(token, INTERACTION_TOKEN_SECONDS)
            or (log is not None and log.callback is not None and self._token_expired(log))
        ):
            # past its 15 minutes: Discord refuses the token itself
            return self._json({"message": "Invalid Webhook Token", "code": 50027}, 401)
        if log is None or log.callback is None:
            return self._json({"message": "Unknown Webhook", "code": 10015}, 404)
        allowed, headers = self._take(f"webhook:{token}")
        if not allowed:
            return self._rate_limited(headers)
        body = request[BODY] or {}
        files = request.get(FILES, [])
        errors = message_errors(body, files=len(files))
        if errors:
            return self._invalid(errors, headers)
        log.followups.append(body)
        log.files.extend(files)
        return self._json(self._message("0", body, files), 200, headers)

    async def _edit_original(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        log = self.interactions.get(token)
        if (
            log is None
            or log.callback is None
            or self._expired(token, INTERACTION_TOKEN_SECONDS)
            or self._token_expired(log)
        ):
            return self._json({"message": "Unknown Webhook", "code": 10015}, 404)
        body = request[BODY] or {}
        errors = message_errors(body, files=len(request.get(FILES, [])))
        if errors:
            return self._invalid(errors)
        log.original = body
        return self._json(self._message("0", body, []))

    async def _delete_original(self, request: web.Request) -> web.Response:
        log = self.interactions.get(request.match_info["token"])
        if log is None or log.callback is None or self._token_expired(log):
            return self._json({"message": "Unknown Webhook", "code": 10015}, 404)
        log.original, log.original_deleted = None, True
        return web.Response(status=204)


@asynccontextmanager
async def running_fake_discord() -> AsyncIterator[FakeDiscordAPI]:
    """Serve a fake on 127.0.0.1 for the block; discord.py's route base is restored after."""
    previous = Route.BASE
    api = FakeDiscordAPI()
    await api.start()
    try:
        yield api
    finally:
        Route.BASE = previous
        await api.close()

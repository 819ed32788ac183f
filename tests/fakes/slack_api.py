"""A fake Slack Web API on 127.0.0.1 that speaks Slack's wire protocol and enforces its limits.

slack_sdk's real AsyncWebClient (and bolt's response_url client) talk to it over HTTP. It records
every call, allows about one chat.postMessage per second per channel (429 + Retry-After beyond),
and refuses what Slack refuses: oversized or malformed Block Kit (`invalid_blocks`), long text
(`msg_too_long`) and the undocumented cumulative ceiling (`msg_blocks_too_long`, ~13.2k).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-test-0000-ainews"
APP_TOKEN = "xapp-test-0000-ainews"
TEAM_ID = "T0AINEWS"
BOT_USER_ID = "U0BOT"

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_BLOCK_ID = 255
MAX_TEXT = 4000  # Slack truncates beyond 40k; we hold ainews to the 4k it promises to keep
MAX_BLOCKS_TEXT = 12_000
MAX_BLOCKS_JSON = 13_200
RESPONSE_URL_USES = 5
RESPONSE_URL_SECONDS = 30 * 60  # a response_url works for 30 minutes, at most 5 times
KNOWN_BLOCKS = {"section", "header", "context", "divider", "actions", "image", "rich_text"}
MAX_IMAGE_URL = 3000
MAX_ALT_TEXT = 2000
MAX_UPLOAD_BYTES = 1024 * 1024 * 1024


@dataclass
class Call:
    """One request the fake received, accepted or not."""

    method: str
    params: dict[str, Any]
    at: float
    ok: bool
    error: str = ""
    status: int = 200
    ts: str = ""


@dataclass
class FakeSlack:
    """State and knobs of the fake; tests read `calls` and set faults."""

    token: str = BOT_TOKEN
    app_token: str = APP_TOKEN
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    channel_errors: dict[str, str] = field(default_factory=dict)
    # a token-level error every API call gets (`token_revoked`, `missing_scope`, …)
    token_error: str = ""
    # the next N calls get a 502 with an HTML body, as a proxy in front of Slack sends
    server_errors: int = 0
    # seconds each chat.postMessage takes to answer; the message is stored before the wait,
    # as on Slack, so a client that dies meanwhile has posted without knowing it
    post_delay: float = 0.0
    # chat.postMessage calls to fail, by 1-based call number per channel: {channel: {2: "error"}}
    fail_post_numbers: dict[str, dict[int, str]] = field(default_factory=dict)
    scopes: tuple[str, ...] = ("commands", "chat:write", "chat:write.public", "users:read")
    min_interval: float = 1.0
    retry_after: int = 1
    forced_429: int = 0
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    base_url: str = ""
    _last_post: dict[str, float] = field(default_factory=dict)
    _post_numbers: dict[str, int] = field(default_factory=dict)
    _response_uses: dict[str, int] = field(default_factory=dict)
    _expired: set[str] = field(default_factory=set)
    _response_made: dict[str, float] = field(default_factory=dict)
    # seconds added to the fake's clock, so tests reach deadlines without sleeping
    clock_offset: float = 0.0
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    # files.uploadV2: announced uploads (getUploadURLExternal), their bytes, completed files
    pending_uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    scopes: set[str] = field(
        default_factory=lambda: {
            "commands",
            "chat:write",
            "chat:write.public",
            "users:read",
            "files:write",
        }
    )
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    # `wait_for` callers: each predicate is checked as every call is recorded
    _waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = field(default_factory=list)

    async def send_envelope(self, envelope: dict[str, Any]) -> None:
        """Push a Socket Mode envelope (e.g. `slash_commands`) to the newest connection."""
        await self.sockets[-1].send_json(envelope)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def now(self) -> float:
        return time.monotonic() + self.clock_offset

    def response_url(self, name: str) -> str:
        self._response_uses.setdefault(name, 0)
        self._response_made.setdefault(name, self.now())
        return f"{self.base_url}/commands/{TEAM_ID}/{name}"

    def expire_response_urls(self) -> None:
        """Every response_url handed out so far is past its 30 minutes: posts get 404."""
        self._expired.update(self._response_uses)

    def record(self, call: Call) -> None:
        """Log a call (complete: status and outcome set) and wake the waiters it satisfies."""
        self.calls.append(call)
        for predicate, arrived in self._waiters:
            if not arrived.done() and predicate():
                arrived.set_result(None)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        """Return as soon as a recorded call makes `predicate` true (checked at once, then at
        each call); an AssertionError naming the calls so far if `timeout` passes first."""
        if predicate():
            return
        entry = (predicate, asyncio.get_running_loop().create_future())
        self._waiters.append(entry)
        try:
            async with asyncio.timeout(timeout):
                await entry[1]
        except TimeoutError:
            seen = [(c.method, c.status) for c in self.calls]
            raise AssertionError(f"fake Slack: condition not met in {timeout:g}s; {seen}") from None
        finally:
            self._waiters.remove(entry)

    def accepted(self, method: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.ok and (method is None or c.method == method)]

    def rejected(self) -> list[Call]:
        return [c for c in self.calls if not c.ok]

    def posts(self) -> list[Call]:
        """Every accepted message, whichever way it was sent."""
        kinds = ("chat.postMessage", "chat.postEphemeral", "response_url")
        return [c for c in self.calls if c.ok and c.method in kinds]

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"


def text_objects(value: Any) -> list[str]:
    """Every `text` string inside a block structure."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "text" and isinstance(inner, str):
                found.append(inner)
            else:
                found.extend(text_objects(inner))
    elif isinstance(value, list):
        for inner in value:
            found.extend(text_objects(inner))
    return found


def parsed_text(*payloads: dict[str, Any]) -> str:
    """What Slack parses for markup: the fallbacks and every mrkdwn object (plain_text is inert)."""
    found = [str(payload.get("text", "")) for payload in payloads]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") == "mrkdwn":
                found.append(str(value["text"]))
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for payload in payloads:
        walk(payload.get("blocks"))
    return "\n".join(found)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 request signature over the raw body."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def _text_object_error(obj: Any, limit: int, *, plain_only: bool = False) -> str | None:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return "invalid_blocks"
    if plain_only and obj["type"] != "plain_text":
        return "invalid_blocks"
    text = obj.get("text")
    if not isinstance(text, str) or not text or len(text) > limit:
        return "invalid_blocks"
    return None


def block_error(block: Any) -> str | None:
    """What Slack would say about one block, or None when it is acceptable."""
    if not isinstance(block, dict) or block.get("type") not in KNOWN_BLOCKS:
        return "invalid_blocks"
    if len(str(block.get("block_id", ""))) > MAX_BLOCK_ID:
        return "invalid_blocks"
    kind = block["type"]
    if kind == "section":
        if "text" not in block and "fields" not in block:
            return "invalid_blocks"
        if "text" in block and _text_object_error(block["text"], MAX_SECTION_TEXT):
            return "invalid_blocks"
        accessory = block.get("accessory")
        if accessory is not None and accessory_error(accessory):
            return "invalid_blocks"
        fields = block.get("fields", [])
        if len(fields) > MAX_FIELDS:
            return "invalid_blocks"
        if any(_text_object_error(f, MAX_FIELD_TEXT) for f in fields):
            return "invalid_blocks"
    elif kind == "header":
        return _text_object_error(block.get("text"), MAX_HEADER_TEXT, plain_only=True)
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS:
            return "invalid_blocks"
        if any(_text_object_error(e, MAX_SECTION_TEXT) for e in elements):
            return "invalid_blocks"
    elif kind == "actions":
        for element in block.get("elements", []):
            if element.get("type") == "button" and _text_object_error(
                element.get("text"), MAX_BUTTON_TEXT, plain_only=True
            ):
                return "invalid_blocks"
    return None


def accessory_error(element: Any) -> str | None:
    """Slack's rules for a section accessory; only the image element is used by ainews."""
    if not isinstance(element, dict) or element.get("type") != "image":
        return "invalid_blocks"
    url = element.get("image_url")
    alt = element.get("alt_text")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return "invalid_blocks"
    if len(url) > MAX_IMAGE_URL or not isinstance(alt, str) or not 1 <= len(alt) <= MAX_ALT_TEXT:
        return "invalid_blocks"
    return None


def message_error(params: dict[str, Any]) -> str | None:
    """Slack's verdict on a message body, as its error code."""
    text = params.get("text")
    blocks = params.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return "invalid_blocks_format"
    if not text and not blocks:
        return "no_text"
    if text is not None and len(str(text)) > MAX_TEXT:
        return "msg_too_long"
    if blocks is None:
        return None
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        error = block_error(block)
        if error:
            return error
    if sum(len(t) for t in text_objects(blocks)) > MAX_BLOCKS_TEXT:
        return "msg_blocks_too_long"
    if len(json.dumps(blocks, ensure_ascii=False)) > MAX_BLOCKS_JSON:
        return "msg_blocks_too_long"
    return None


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    raw = await request.read()
    if not raw:
        return params
    if request.content_type == "application/json":
        params.update(json.loads(raw))
    else:
        params.update(parse_qsl(raw.decode(), keep_blank_values=True))
    return params


def _reply(fake: FakeSlack, call: Call, body: dict[str, Any], headers: Any = None) -> web.Response:
    fake.record(call)
    # Slack reports the token's scopes on every Web API answer
    merged = {"x-oauth-scopes": ",".join(fake.scopes), **(headers or {})}
    return web.json_response(body, status=call.status, headers=merged)


def build_app(fake: FakeSlack) -> web.Application:
    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method=method, params=params, at=time.monotonic(), ok=False)
        expected = fake.app_token if method == "apps.connections.open" else fake.token
        if fake.server_errors > 0:
            fake.server_errors -= 1
            call.status, call.error = 502, "bad_gateway"
            fake.record(call)
            html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
            return web.Response(status=502, text=html, content_type="text/html")
        if request.headers.get("Authorization") != f"Bearer {expected}":
            call.error = "invalid_auth" if request.headers.get("Authorization") else "not_authed"
            return _reply(fake, call, {"ok": False, "error": call.error})
        if fake.token_error and method != "apps.connections.open":
            call.error = fake.token_error
            return _reply(fake, call, {"ok": False, "error": call.error})
        handler = HANDLERS.get(method)
        if handler is None:
            call.error = "unknown_method"
            return _reply(fake, call, {"ok": False, "error": "unknown_method"})
        response = handler(fake, call)
        if method == "chat.postMessage" and fake.post_delay:
            await asyncio.sleep(fake.post_delay)
        return response

    async def response_url(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        params = await _params(request)
        call = Call(method="response_url", params=params, at=time.monotonic(), ok=False)
        uses = fake._response_uses.get(name)
        made = fake._response_made.get(name, fake.now())
        if name in fake._expired or (uses is not None and fake.now() - made > RESPONSE_URL_SECONDS):
            call.status, call.error = 404, "expired_url"
            fake.record(call)
            return web.Response(status=404, text=call.error)
        if uses is None or uses >= RESPONSE_URL_USES:
            call.status, call.error = 404, "used_url" if uses is not None else "no_url"
            fake.record(call)
            return web.Response(status=404, text=call.error)
        error = message_error(params)
        if error:
            call.status, call.error = 400, error
            fake.record(call)
            return web.Response(status=400, text=error)
        fake._response_uses[name] = uses + 1
        call.ok = True
        fake.record(call)
        return web.Response(text="ok")

    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        fake.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                fake.socket_acks.append(json.loads(message.data))
        return ws

    async def upload(request: web.Request) -> web.Response:
        """Step 2 of files.uploadV2: the bytes, POSTed to the URL step 1 handed out."""
        file_id = request.match_info["file_id"]
        data = await request.read()
        call = Call(method="upload", params={"file_id": file_id}, at=time.monotonic(), ok=False)
        pending = fake.pending_uploads.get(file_id)
        if pending is None or pending.get("data") is not None:
            call.status, call.error = 404, "unknown_upload"
            fake.record(call)
            return web.Response(status=404, text="unknown upload")
        if len(data) != pending["length"]:
            call.status, call.error = 400, "length_mismatch"
            fake.record(call)
            return web.Response(status=400, text="length does not match")
        pending["data"] = data
        call.ok = True
        fake.record(call)
        return web.Response(text=f"OK - {len(data)}")

    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_post("/upload/v1/{file_id}", upload)
    app.router.add_get("/link", socket)
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_post("/commands/{team}/{name}", response_url)
    return app


def _auth_test(fake: FakeSlack, call: Call) -> web.Response:
    call.ok = True
    body = {
        "ok": True,
        "url": "https://ainews-test.slack.com/",
        "team": "ainews test",
        "user": "ainews",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": "B0BOT",
    }
    return _reply(fake, call, body)


def _channel_problem(fake: FakeSlack, channel: str) -> str | None:
    if channel in fake.channel_errors:
        return fake.channel_errors[channel]
    attrs = fake.channels.get(channel)
    if attrs is None or (attrs.get("is_private") and not attrs.get("is_member")):
        return "channel_not_found"
    if not attrs.get("is_member", True) and "chat:write.public" not in fake.scopes:
        return "not_in_channel"
    return None


def _post_message(fake: FakeSlack, call: Call) -> web.Response:
    channel = str(call.params.get("channel", ""))
    problem = _channel_problem(fake, channel)
    if problem:
        call.error = problem
        return _reply(fake, call, {"ok": False, "error": problem})
    now = time.monotonic()
    last = fake._last_post.get(channel)
    if fake.forced_429 > 0 or (last is not None and now - last < fake.min_interval):
        fake.forced_429 = max(0, fake.forced_429 - 1)
        call.status, call.error = 429, "ratelimited"
        headers = {"Retry-After": str(fake.retry_after)}
        return _reply(fake, call, {"ok": False, "error": "ratelimited"}, headers)
    number = fake._post_numbers.get(channel, 0) + 1
    fake._post_numbers[channel] = number
    scripted = fake.fail_post_numbers.get(channel, {}).get(number)
    if scripted:
        call.error = scripted
        return _reply(fake, call, {"ok": False, "error": scripted})
    error = message_error(call.params)
    thread_ts = call.params.get("thread_ts")
    known = {m["ts"] for m in fake.messages.get(channel, [])}
    if not error and thread_ts and thread_ts not in known:
        error = "thread_not_found"
    if error:
        call.error = error
        return _reply(fake, call, {"ok": False, "error": error})
    fake._last_post[channel] = now
    call.ok, call.ts = True, fake._next_ts()
    message = {"ts": call.ts, **call.params}
    fake.messages.setdefault(channel, []).append(message)
    return _reply(fake, call, {"ok": True, "channel": channel, "ts": call.ts, "message": message})


def _post_ephemeral(fake: FakeSlack, call: Call) -> web.Response:
    channel = str(call.params.get("channel", ""))
    problem = _channel_problem(fake, channel) or message_error(call.params)
    if not call.params.get("user"):
        problem = problem or "user_not_in_channel"
    if problem:
        call.error = problem
        return _reply(fake, call, {"ok": False, "error": problem})
    call.ok = True
    return _reply(fake, call, {"ok": True, "message_ts": fake._next_ts()})


def _info(fake: FakeSlack, call: Call, kind: str, known: dict[str, dict[str, Any]]) -> web.Response:
    """conversations.info / users.info: the stored attributes of one channel or user."""
    key = str(call.params.get(kind, ""))
    if key not in known:
        call.error = f"{kind}_not_found"
        return _reply(fake, call, {"ok": False, "error": call.error})
    call.ok = True
    return _reply(fake, call, {"ok": True, kind: {"id": key, **known[key]}})


def _conversations_info(fake: FakeSlack, call: Call) -> web.Response:
    """A private channel the bot is not in is invisible to it, as on Slack."""
    visible = {
        key: attrs
        for key, attrs in fake.channels.items()
        if attrs.get("is_member") or not attrs.get("is_private")
    }
    return _info(fake, call, "channel", visible)


def _users_info(fake: FakeSlack, call: Call) -> web.Response:
    return _info(fake, call, "user", fake.users)


def _connections_open(fake: FakeSlack, call: Call) -> web.Response:
    call.ok = True
    url = fake.base_url.replace("http://", "ws://") + "/link"
    return _reply(fake, call, {"ok": True, "url": url})


def _get_upload_url(fake: FakeSlack, call: Call) -> web.Response:
    """Step 1 of files.uploadV2: a one-time upload URL for a declared file name and length."""
    if "files:write" not in fake.scopes:
        call.error = "missing_scope"
        return _reply(fake, call, {"ok": False, "error": "missing_scope", "needed": "files:write"})
    filename = str(call.params.get("filename", ""))
    length = str(call.params.get("length", ""))
    if not filename or not length.isdigit() or not 0 < int(length) <= MAX_UPLOAD_BYTES:
        call.error = "invalid_arguments"
        return _reply(fake, call, {"ok": False, "error": "invalid_arguments"})
    file_id = f"F{len(fake.pending_uploads) + 1:08d}"
    fake.pending_uploads[file_id] = {"filename": filename, "length": int(length), "data": None}
    call.ok = True
    url = f"{fake.base_url}/upload/v1/{file_id}"
    return _reply(fake, call, {"ok": True, "upload_url": url, "file_id": file_id})


def _complete_upload(fake: FakeSlack, call: Call) -> web.Response:
    """Step 3 of files.uploadV2: share the uploaded files in a channel."""
    try:
        files = json.loads(str(call.params.get("files", "")))
    except ValueError:
        files = None
    if not isinstance(files, list) or not files:
        call.error = "invalid_arguments"
        return _reply(fake, call, {"ok": False, "error": "invalid_arguments"})
    channel = str(call.params.get("channel_id", ""))
    problem = _channel_problem(fake, channel) if channel else None
    for item in files:
        pending = fake.pending_uploads.get(str(item.get("id", "")))
        if pending is None or pending.get("data") is None:
            problem = problem or "file_not_found"
    if problem:
        call.error = problem
        return _reply(fake, call, {"ok": False, "error": problem})
    shared = []
    for item in files:
        pending = fake.pending_uploads.pop(str(item["id"]))
        record = {
            "id": item["id"],
            "title": item.get("title") or pending["filename"],
            "name": pending["filename"],
            "channel": channel,
            "data": pending["data"],
            "initial_comment": call.params.get("initial_comment"),
        }
        fake.files.append(record)
        shared.append({"id": record["id"], "title": record["title"], "name": record["name"]})
    call.ok = True
    return _reply(fake, call, {"ok": True, "files": shared})


HANDLERS = {
    "files.getUploadURLExternal": _get_upload_url,
    "files.completeUploadExternal": _complete_upload,
    "apps.connections.open": _connections_open,
    "auth.test": _auth_test,
    "chat.postMessage": _post_message,
    "chat.postEphemeral": _post_ephemeral,
    "conversations.info": _conversations_info,
    "users.info": _users_info,
}


class FakeSlackServer:
    """Runs the fake on 127.0.0.1:<free port> inside the current event loop."""

    def __init__(self, fake: FakeSlack | None = None) -> None:
        self.fake = fake or FakeSlack()
        self._runner: web.AppRunner | None = None

    async def start(self) -> FakeSlack:
        self._runner = web.AppRunner(build_app(self.fake), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.fake.base_url = f"http://127.0.0.1:{port}"
        return self.fake

    async def stop(self) -> None:
        for ws in self.fake.sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

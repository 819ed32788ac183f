"""A loopback delivery recorder: a tiny chat platform that records posts, over real HTTP.

Several processes can report to one recorder, which is how the replica and SIGKILL tests count
deliveries. It can inject faults per channel (5xx, 429 with Retry-After, 404), add latency,
dedupe by nonce the way Discord's `enforce_nonce` does, and hold a lockstep simulated clock that
worker processes advance together.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from aiohttp import web

from bot.errors import DeliveryError
from bot.ports import PartPosted, SentMessage, ignore_part


@dataclass
class Post:
    workspace: str
    channel: str
    nonce: str
    payload: dict[str, Any]
    pid: int
    message_id: str


@dataclass
class RecorderState:
    posts: list[Post] = field(default_factory=list)
    deduped: int = 0
    raw: Counter[str] = field(default_factory=Counter)  # every post seen, per nonce
    faults: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    permanent: set[str] = field(default_factory=set)
    retry_after: float = 1.0
    delay: float = 0.0
    nonce_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    # lockstep clock: `times[step]` is the simulated now; workers report `ready` per step
    times: list[str] = field(default_factory=list)
    step: int = 0
    workers: int = 0
    ready: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))

    def keys(self) -> list[tuple[str, str]]:
        return [(p.channel, payload_key(p.payload)) for p in self.posts]


def payload_key(payload: dict[str, Any]) -> str:
    if payload.get("type") == "alert":
        return f"alert:story:{payload['item']['story_id']}"
    digest = payload["digest"]
    return f"{digest['kind']}:{digest['date']}"


class Recorder:
    """Owns the aiohttp server; `url` is set once started."""

    def __init__(self) -> None:
        self.state = RecorderState()
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._ids = itertools.count(1)
        # notified on every post and every step of the lockstep clock
        self._changed = asyncio.Condition()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 60.0) -> None:
        """Return once `predicate()` holds (checked now and at each post or step); an
        AssertionError after `timeout`."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(predicate)
        except TimeoutError:
            raise AssertionError(
                f"recorder: condition not met in {timeout:g}s ({len(self.state.posts)} posts)"
            ) from None

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def start(self) -> Recorder:
        app = web.Application()
        app.router.add_post("/post", self._post)
        app.router.add_get("/clock", self._clock)
        app.router.add_post("/ready", self._ready)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        channel = body["channel"]
        if self.state.delay:
            await asyncio.sleep(self.state.delay)
        if channel in self.state.permanent:
            return web.json_response({"message": "Unknown Channel"}, status=404)
        scripted = self.state.faults.get(channel)
        if scripted:
            status = scripted.pop(0)
            headers = {"Retry-After": str(self.state.retry_after)} if status == 429 else {}
            return web.json_response({"error": status}, status=status, headers=headers)
        nonce_key = (channel, body["nonce"])
        self.state.raw[body["nonce"]] += 1
        if body["nonce"] and nonce_key in self.state.nonce_ids:
            self.state.deduped += 1
            return web.json_response({"id": self.state.nonce_ids[nonce_key], "deduped": True})
        message_id = f"m{next(self._ids)}"
        self.state.nonce_ids[nonce_key] = message_id
        self.state.posts.append(
            Post(
                workspace=body["workspace"],
                channel=channel,
                nonce=body["nonce"],
                payload=body["payload"],
                pid=int(body.get("pid", 0)),
                message_id=message_id,
            )
        )
        await self._notify()
        return web.json_response({"id": message_id})

    def set_schedule(self, times: list[datetime], workers: int) -> None:
        self.state.times = [t.isoformat() for t in times]
        self.state.step = 0
        self.state.workers = workers

    async def _clock(self, request: web.Request) -> web.Response:
        """The lockstep clock. `?after=N` is a long poll: the answer comes when the step is no
        longer N (or after 10 s unchanged, and the worker asks again), so no worker sleeps."""
        state = self.state
        if "after" in request.query:
            after = int(request.query["after"])
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10), self._changed:
                    await self._changed.wait_for(lambda: state.step != after)
        done = state.step >= len(state.times)
        now = None if done else state.times[state.step]
        return web.json_response({"step": state.step, "now": now, "done": done})

    async def _ready(self, request: web.Request) -> web.Response:
        body = await request.json()
        state = self.state
        state.ready[int(body["step"])].add(str(body["worker"]))
        if len(state.ready[state.step]) >= state.workers:
            state.step += 1
            await self._notify()
        return web.json_response({"step": state.step})


class HttpNotifier:
    """A notifier for the recorder with the status mapping real platform notifiers use."""

    def __init__(self, base_url: str, platform: str = "console", pid: int = 0) -> None:
        self.platform = platform
        self.client = httpx.AsyncClient(base_url=base_url, timeout=10.0)
        self.pid = pid

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
            response = await self.client.post(
                "/post",
                json={
                    "workspace": workspace,
                    "channel": channel,
                    "payload": payload,
                    "nonce": nonce,
                    "pid": self.pid,
                },
            )
        except httpx.HTTPError as error:
            raise DeliveryError(f"recorder unreachable: {error}") from error
        if response.status_code == 429:
            raise DeliveryError(
                "rate limited", retry_after=float(response.headers.get("Retry-After", "1"))
            )
        if response.status_code in (403, 404):
            raise DeliveryError(f"channel gone ({response.status_code})", permanent=True)
        if response.status_code >= 400:
            raise DeliveryError(f"server error {response.status_code}")
        return SentMessage(platform_message_id=str(response.json()["id"]))

    async def aclose(self) -> None:
        await self.client.aclose()

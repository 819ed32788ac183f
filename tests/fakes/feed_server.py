"""A feed server on 127.0.0.1 that speaks real HTTP and injects the faults feeds really have.

Files under `root` are served at `/feeds/<path>` (and under any alias at `/a/<alias>/<path>`, so
one file can stand for many feeds) with ETag/Last-Modified and 304s. Per-path overrides inject
latency, statuses with Retry-After, hangs, redirects, gzip bombs and raw bodies. It counts TCP
connections, requests, in-flight maxima and the conditional headers it was sent.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    local: str = ""  # the server address the request arrived on: the IP the client dialled


@dataclass
class FeedServer:
    root: Path | None = None
    latency: float = 0.0
    overrides: dict[str, Handler] = field(default_factory=dict)
    connections: int = 0
    requests: list[Seen] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    responses: Counter[int] = field(default_factory=Counter)
    port: int = 0
    _runner: web.AppRunner | None = None
    _server: asyncio.base_events.Server | None = None
    _hanging: list[asyncio.Event] = field(default_factory=list)
    _extra: list[asyncio.base_events.Server] = field(default_factory=list)
    _factory: Any = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def feed_url(self, relpath: str, alias: str | None = None) -> str:
        return self.url(f"/a/{alias}/{relpath}" if alias else f"/feeds/{relpath}")

    async def start(self) -> FeedServer:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        protocol_factory = self._runner.server
        assert protocol_factory is not None

        def counting() -> Any:
            self.connections += 1
            return protocol_factory()

        self._factory = counting
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(counting, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def listen_on_more_hosts(self, count: int) -> list[str]:
        """Also listen on 127.0.0.2 … 127.0.0.<count> (same port): many hosts, all loopback."""
        loop = asyncio.get_running_loop()
        for n in range(2, count + 1):
            self._extra.append(await loop.create_server(self._factory, f"127.0.0.{n}", self.port))
        return [f"http://127.0.0.{n}:{self.port}" for n in range(1, count + 1)]

    async def stop(self) -> None:
        for event in self._hanging:
            event.set()
        for extra in self._extra:
            extra.close()
        if self._server is not None:
            self._server.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FeedServer:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    # ---- fault builders -------------------------------------------------------------------

    def set(self, path: str, handler: Handler) -> str:
        self.overrides[path] = handler
        return self.url(path)

    def status(self, path: str, code: int, headers: dict[str, str] | None = None) -> str:
        async def handler(_: web.Request) -> web.StreamResponse:
            return web.Response(status=code, headers=headers or {}, text=f"status {code}")

        return self.set(path, handler)

    def redirect(self, path: str, location: str, code: int = 302) -> str:
        async def handler(_: web.Request) -> web.StreamResponse:
            return web.Response(status=code, headers={"Location": location})

        return self.set(path, handler)

    def body(
        self, path: str, payload: bytes, headers: dict[str, str] | None = None, etag: bool = True
    ) -> str:
        async def handler(request: web.Request) -> web.StreamResponse:
            return self._conditional(request, payload, headers or {}, etag=etag)

        return self.set(path, handler)

    def hang(self, path: str) -> str:
        """Accept the request and never answer (until the server stops)."""

        async def handler(_: web.Request) -> web.StreamResponse:
            event = asyncio.Event()
            self._hanging.append(event)
            await event.wait()
            return web.Response(status=500)

        return self.set(path, handler)

    def gzip_bomb(self, path: str, decoded_bytes: int, *, declared: bool = True) -> str:
        """A gzip body of zeros that inflates to `decoded_bytes`."""
        payload = gzip.compress(b"\0" * decoded_bytes, compresslevel=9)
        headers = {"Content-Type": "application/rss+xml"}
        if declared:
            headers["Content-Encoding"] = "gzip"

        async def handler(_: web.Request) -> web.StreamResponse:
            return web.Response(body=payload, headers=headers)

        return self.set(path, handler)

    # ---- serving --------------------------------------------------------------------------

    def _conditional(
        self,
        request: web.Request,
        payload: bytes,
        headers: dict[str, str],
        *,
        etag: bool = True,
    ) -> web.StreamResponse:
        tag = '"' + hashlib.sha256(payload).hexdigest()[:16] + '"'
        out = {"Content-Type": "application/xml", **headers}
        if etag:
            out["ETag"] = tag
            out["Last-Modified"] = LAST_MODIFIED
            if request.headers.get("If-None-Match") == tag or (
                request.headers.get("If-Modified-Since") == LAST_MODIFIED
                and "If-None-Match" not in request.headers
            ):
                return web.Response(status=304, headers=out)
        return web.Response(body=payload, headers=out)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        local = str(sockname[0]) if sockname else ""
        self.requests.append(Seen(request.path_qs, dict(request.headers), local))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            response = await self._answer(request)
            self.responses[response.status] += 1
            return response
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        override = self.overrides.get(request.path) or self.overrides.get(request.path_qs)
        if override is not None:
            return await override(request)
        parts = request.path.strip("/").split("/")
        if self.root is not None and parts[0] in ("feeds", "a"):
            relative = parts[1:] if parts[0] == "feeds" else parts[2:]
            file = (self.root / "/".join(relative)).resolve()
            if file.is_file() and self.root.resolve() in file.parents:
                return self._conditional(request, file.read_bytes(), {})
        return web.Response(status=404, text="not found")

    def conditional_requests(self, path: str) -> int:
        return sum(
            1
            for seen in self.requests
            if seen.path == path
            and ("If-None-Match" in seen.headers or "If-Modified-Since" in seen.headers)
        )

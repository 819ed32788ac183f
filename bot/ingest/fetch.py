"""The fetch policy: one shared client, bounded concurrency, timeouts, redirects, size caps.

Every page ainews reads (feeds, Hacker News, article pages for full text, on-demand summaries)
goes through `Fetcher.get`, so the same SSRF guard and limits apply everywhere.

The client is aiohttp (one `ClientSession` and its keep-alive pool per `Fetcher`): on 500
conditional GETs it spends about a sixth of httpx's CPU under the same guard (bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import certifi
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.tracing import Trace

from bot.config import FetchSettings
from bot.errors import BlockedAddressError, FetchError
from bot.http_retry import parse_retry_after
from bot.ingest.guard import (
    Resolver,
    check_host_literal,
    check_url,
    checked_addresses,
    system_resolve,
)
from bot.observe import FETCH_SECONDS

__all__ = ["FEED_ACCEPT", "FetchResponse", "Fetcher", "parse_retry_after"]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# How long an idle connection is kept: longer than the service's 60 s poll cadence, so a
# connection a cycle opened serves the next one when the server keeps it open that long.
KEEPALIVE_SECONDS = 90.0
# Header lines up to this size (h11, httpx's parser, allowed 16 KiB; aiohttp's default is 8 KiB).
_MAX_HEADER_LINE = 16 * 1024


@dataclass(frozen=True, slots=True)
class FetchResponse:
    """The final answer after redirects; `body` is decoded (decompressed) and capped."""

    status: int
    body: bytes
    final_url: str
    etag: str | None
    last_modified: str | None
    retry_after: float | None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def raise_for_status(self) -> None:
        if not (self.ok or self.not_modified):
            raise FetchError(f"HTTP {self.status} from {self.final_url}")


class _Decoder:
    """Decompresses gzip/deflate with a hard cap on the output, so a bomb stops at the cap."""

    def __init__(self, encoding: str, cap: int) -> None:
        self.cap = cap
        self.size = 0
        self.chunks: list[bytes] = []
        encoding = encoding.strip().lower()
        self._inflater: zlib._Decompress | None = None
        if encoding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "deflate":
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)
        elif encoding not in ("", "identity"):
            raise FetchError(f"unsupported Content-Encoding {encoding!r}")

    def feed(self, data: bytes) -> None:
        if self._inflater is None:
            self._append(data)
            return
        while data:
            room = self.cap - self.size + 1
            try:
                out = self._inflater.decompress(data, room)
            except zlib.error as exc:
                raise FetchError(f"corrupt compressed body: {exc}") from exc
            self._append(out)
            data = self._inflater.unconsumed_tail
            if self._inflater.eof:
                break

    def _append(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise FetchError(f"body larger than {self.cap} bytes")
        self.chunks.append(data)

    def body(self) -> bytes:
        return b"".join(self.chunks)


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver hook: resolves the host itself and answers only checked addresses.

    aiohttp opens the socket to exactly the addresses answered here (TLS keeps the URL's host
    for SNI and the certificate check), so DNS rebinding cannot swap in an address the guard did
    not see. IP-literal hosts never reach a resolver: `_GuardedConnector` checks those.
    """

    def __init__(self, *, allow_private: bool, resolver: Resolver | None = None) -> None:
        self.allow_private = allow_private
        self.resolver = resolver or system_resolve

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await self.resolver(host, port)
        if not self.allow_private:
            addresses = checked_addresses(host, addresses)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None


class _GuardedConnector(aiohttp.TCPConnector):
    """aiohttp's connector, refusing forbidden IP-literal hosts too: aiohttp connects to a literal
    as it is, without asking the resolver, so this is where every hop's literal is checked."""

    def __init__(self, *, allow_private: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._allow_private = allow_private

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Trace] | None = None
    ) -> list[ResolveResult]:
        if not self._allow_private:
            check_host_literal(host)
        return await super()._resolve_host(host, port, traces=traces)


class Fetcher:
    """Owns one aiohttp session (its connection pool lives as long as the Fetcher) and applies
    the fetch policy to every request."""

    def __init__(self, settings: FetchSettings, *, resolver: Resolver | None = None) -> None:
        """`resolver` replaces DNS beneath the guard (tests only)."""
        self.settings = settings
        self._global = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._resolver = GuardedResolver(
            allow_private=settings.allow_private_networks, resolver=resolver
        )
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        """The session, opened on first use (aiohttp binds it to the running loop)."""
        if self._session is None:
            settings = self.settings
            connector = _GuardedConnector(
                allow_private=settings.allow_private_networks,
                resolver=self._resolver,
                # the Fetcher's semaphores are the policy; the pool's limits only back them up
                limit=settings.concurrency,
                limit_per_host=settings.per_host,
                keepalive_timeout=KEEPALIVE_SECONDS,
                # the CA bundle httpx used, so the switch trusts exactly the same servers
                ssl=ssl.create_default_context(cafile=certifi.where()),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    sock_connect=settings.connect_timeout,
                    sock_read=settings.read_timeout,
                ),
                headers={"User-Agent": settings.user_agent},
                # the body is decoded by `_Decoder` under the cap, never by aiohttp
                auto_decompress=False,
                trust_env=False,
                max_line_size=_MAX_HEADER_LINE,
                max_field_size=_MAX_HEADER_LINE,
            )
        return self._session

    def _host_limit(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        semaphore = self._hosts.get(host)
        if semaphore is None:
            semaphore = self._hosts[host] = asyncio.Semaphore(self.settings.per_host)
        return semaphore

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = FEED_ACCEPT,
    ) -> FetchResponse:
        """`_get`, timed per source for `/metrics` (failures included: slow errors matter)."""
        with FETCH_SECONDS.labels(source=url[:300]).time():
            return await self._get(url, etag=etag, last_modified=last_modified, accept=accept)

    async def _get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = FEED_ACCEPT,
    ) -> FetchResponse:
        """GET url under the policy; any final status is returned, transport failures raise.

        The total deadline starts when the first hop gets its concurrency slots, so time spent
        queueing behind other feeds is not counted against this one.
        """
        deadline: float | None = None
        current = url
        try:
            for _hop in range(self.settings.max_redirects + 1):
                check_url(current)
                headers = {"Accept": accept, "Accept-Encoding": "gzip, deflate"}
                if etag:
                    headers["If-None-Match"] = etag
                if last_modified:
                    headers["If-Modified-Since"] = last_modified
                async with self._global, self._host_limit(current):
                    if deadline is None:
                        deadline = asyncio.get_running_loop().time() + self.settings.total_timeout
                    async with asyncio.timeout_at(deadline):
                        response = await self._request(current, headers)
                if isinstance(response, FetchResponse):
                    return response
                current = response
        except TimeoutError as exc:
            raise FetchError(
                f"no complete answer within {self.settings.total_timeout:g} s from {url}"
            ) from exc
        raise FetchError(f"more than {self.settings.max_redirects} redirects from {url}")

    async def _request(self, url: str, headers: dict[str, str]) -> FetchResponse | str:
        """One hop: a FetchResponse, or the next URL (str) when redirected."""
        try:
            response = await self._client().get(url, headers=headers, allow_redirects=False)
        except BlockedAddressError:
            raise
        except aiohttp.InvalidURL as exc:
            raise BlockedAddressError(f"invalid URL {url!r}: {exc}") from exc
        except TimeoutError as exc:  # aiohttp's own connect/read timeouts
            raise FetchError(f"timed out fetching {url}: {type(exc).__name__}") from exc
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise FetchError(f"cannot fetch {url}: {exc or type(exc).__name__}") from exc
        finished = False
        try:
            if response.status in _REDIRECTS:
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(f"redirect without Location from {url}")
                finished = True
                return str(urljoin(url, location.strip()))
            body = b""
            if 200 <= response.status < 300:
                body = await self._read_body(url, response)
            finished = True
            return FetchResponse(
                status=response.status,
                body=body,
                final_url=url,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        finally:
            if finished:
                # back to the pool when the body is read to its end, else the socket is closed
                response.release()
            else:
                response.close()

    async def _read_body(self, url: str, response: aiohttp.ClientResponse) -> bytes:
        cap = self.settings.max_body_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FetchError(f"body of {declared} bytes exceeds the cap of {cap} from {url}")
        decoder = _Decoder(response.headers.get("Content-Encoding", ""), cap)
        raw_size = 0
        try:
            async for chunk in response.content.iter_any():
                raw_size += len(chunk)
                if raw_size > cap:
                    raise FetchError(f"body larger than {cap} bytes from {url}")
                decoder.feed(chunk)
        except TimeoutError as exc:
            raise FetchError(f"timed out reading {url}") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise FetchError(f"cannot read {url}: {exc or type(exc).__name__}") from exc
        return decoder.body()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

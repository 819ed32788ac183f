"""The fetch policy: one shared client, bounded concurrency, timeouts, redirects, size caps.

Every page ainews reads (feeds, Hacker News, article pages for full text, on-demand summaries)
goes through `Fetcher.get`, so the same SSRF guard and limits apply everywhere.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from bot.config import FetchSettings
from bot.errors import BlockedAddressError, FetchError
from bot.http_retry import parse_retry_after
from bot.ingest.guard import GuardedBackend, Resolver, check_url
from bot.observe import FETCH_SECONDS

__all__ = ["FEED_ACCEPT", "FetchResponse", "Fetcher", "parse_retry_after"]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


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


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool opened through the SSRF-guarded backend."""

    def __init__(self, *, backend: GuardedBackend, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx exposes no network_backend option; the pool is rebuilt with the same settings.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class Fetcher:
    """Owns the one shared `httpx.AsyncClient` and applies the fetch policy to every request."""

    def __init__(
        self,
        settings: FetchSettings,
        *,
        resolver: Resolver | None = None,
        network: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        """`resolver` and `network` replace DNS and sockets beneath the guard (tests only)."""
        self.settings = settings
        self._global = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        backend = GuardedBackend(
            allow_private=settings.allow_private_networks, resolver=resolver, inner=network
        )
        limits = httpx.Limits(
            max_connections=settings.concurrency,
            max_keepalive_connections=settings.concurrency,
            keepalive_expiry=30.0,
        )
        self.client = httpx.AsyncClient(
            transport=_GuardedTransport(backend=backend, limits=limits),
            timeout=httpx.Timeout(
                connect=settings.connect_timeout,
                read=settings.read_timeout,
                write=settings.read_timeout,
                pool=settings.total_timeout,
            ),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": settings.user_agent},
        )

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
            request = self.client.build_request("GET", url, headers=headers)
            response = await self.client.send(request, stream=True)
        except BlockedAddressError:
            raise
        except httpx.InvalidURL as exc:
            raise BlockedAddressError(f"invalid URL {url!r}: {exc}") from exc
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out fetching {url}: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch {url}: {exc or type(exc).__name__}") from exc
        try:
            if response.status_code in _REDIRECTS:
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(f"redirect without Location from {url}")
                return str(urljoin(url, location.strip()))
            body = b""
            if 200 <= response.status_code < 300:
                body = await self._read_body(url, response)
            return FetchResponse(
                status=response.status_code,
                body=body,
                final_url=url,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        finally:
            await response.aclose()

    async def _read_body(self, url: str, response: httpx.Response) -> bytes:
        cap = self.settings.max_body_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FetchError(f"body of {declared} bytes exceeds the cap of {cap} from {url}")
        decoder = _Decoder(response.headers.get("Content-Encoding", ""), cap)
        raw_size = 0
        try:
            async for chunk in response.aiter_raw(_CHUNK):
                raw_size += len(chunk)
                if raw_size > cap:
                    raise FetchError(f"body larger than {cap} bytes from {url}")
                decoder.feed(chunk)
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out reading {url}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot read {url}: {exc or type(exc).__name__}") from exc
        return decoder.body()

    async def aclose(self) -> None:
        await self.client.aclose()

"""The fetcher as it was on httpx (before `bot.ingest.fetch` moved to aiohttp), for the benchmark.

Same policy as `bot.ingest.fetch.Fetcher`: the SSRF guard inside the connection layer (here an
httpcore network backend that resolves, checks and connects to the checked IP), global and
per-host limits, a total deadline per fetch, no automatic redirects, the body read raw and
decoded under the cap by the same `_Decoder`. `bench/ingest.py --http` runs both on the same
URLs, so the HTTP rows of bench/RESULTS.md compare the two clients and nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from bot.config import FetchSettings
from bot.errors import BlockedAddressError, FetchError
from bot.http_retry import parse_retry_after
from bot.ingest.fetch import _REDIRECTS, FEED_ACCEPT, FetchResponse, _Decoder
from bot.ingest.guard import check_host_literal, check_url, checked_addresses, system_resolve


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, checks every address, then connects to the checked IP."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if not self.allow_private:
            check_host_literal(host)
        addresses = await system_resolve(host, port)
        if not self.allow_private:
            addresses = checked_addresses(host, addresses)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout=timeout, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddressError("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, *, backend: GuardedBackend, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class HttpxFetcher:
    def __init__(self, settings: FetchSettings) -> None:
        self.settings = settings
        self._global = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        limits = httpx.Limits(
            max_connections=settings.concurrency,
            max_keepalive_connections=settings.concurrency,
            keepalive_expiry=30.0,
        )
        self.client = httpx.AsyncClient(
            transport=_GuardedTransport(
                backend=GuardedBackend(allow_private=settings.allow_private_networks),
                limits=limits,
            ),
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
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(self.settings.per_host)
        return self._hosts[host]

    async def get(self, url: str, *, etag: str | None = None) -> FetchResponse:
        deadline: float | None = None
        current = url
        for _hop in range(self.settings.max_redirects + 1):
            check_url(current)
            headers = {"Accept": FEED_ACCEPT, "Accept-Encoding": "gzip, deflate"}
            if etag:
                headers["If-None-Match"] = etag
            async with self._global, self._host_limit(current):
                if deadline is None:
                    deadline = asyncio.get_running_loop().time() + self.settings.total_timeout
                async with asyncio.timeout_at(deadline):
                    answer = await self._request(current, headers)
            if isinstance(answer, FetchResponse):
                return answer
            current = answer
        raise FetchError(f"more than {self.settings.max_redirects} redirects from {url}")

    async def _request(self, url: str, headers: dict[str, str]) -> FetchResponse | str:
        response = await self.client.send(
            self.client.build_request("GET", url, headers=headers), stream=True
        )
        try:
            if response.status_code in _REDIRECTS:
                return str(urljoin(url, response.headers.get("Location", "").strip()))
            body = b""
            if 200 <= response.status_code < 300:
                decoder = _Decoder(
                    response.headers.get("Content-Encoding", ""), self.settings.max_body_bytes
                )
                async for chunk in response.aiter_raw(64 * 1024):
                    decoder.feed(chunk)
                body = decoder.body()
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

    async def aclose(self) -> None:
        await self.client.aclose()

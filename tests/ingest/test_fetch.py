"""The fetch policy over real HTTP on loopback: SSRF guard, redirects, caps, timeouts, limits."""

from __future__ import annotations

import asyncio
import tracemalloc
import zlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.config import FetchSettings
from bot.errors import BlockedAddressError, FetchError
from bot.ingest import guard
from bot.ingest.fetch import Fetcher, parse_retry_after
from tests.fakes.feed_server import FeedServer

FEED = b"<rss version='2.0'><channel><title>t</title><item><title>a</title></item></channel></rss>"


# A loopback address the guard is told to treat as public (`stand_in_public`): a resolver may
# answer it for a made-up host name and the connection really goes there, to the loopback server.
STAND_IN = "127.0.0.2"


@pytest.fixture
def stand_in_public(monkeypatch: pytest.MonkeyPatch) -> None:
    real = guard.forbidden_reason

    def reason(address: guard.IPAddress) -> str | None:
        return None if str(address) == STAND_IN else real(address)

    monkeypatch.setattr(guard, "forbidden_reason", reason)


def _settings(**values: object) -> FetchSettings:
    base: dict[str, object] = {"allow_private_networks": True, "total_timeout": 5.0}
    base.update(values)
    return FetchSettings.model_validate(base)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as fake:
        yield fake


@pytest.fixture
async def make_fetcher() -> AsyncIterator:
    made: list[Fetcher] = []

    def factory(settings: FetchSettings, **kwargs: object) -> Fetcher:
        fetcher = Fetcher(settings, **kwargs)  # type: ignore[arg-type]
        made.append(fetcher)
        return fetcher

    yield factory
    for fetcher in made:
        await fetcher.aclose()


S1_TARGETS = [
    "http://127.0.0.1:{port}/feed",
    "http://localhost:{port}/feed",
    "http://[::1]:{port}/feed",
    "http://[::ffff:127.0.0.1]:{port}/feed",
    "http://[::127.0.0.1]:{port}/feed",
    "http://0.0.0.0:{port}/feed",
    "http://10.0.0.1/feed",
    "http://172.16.0.1/feed",
    "http://192.168.1.1/feed",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/feed",
    "http://[fc00::1]/feed",
    "http://[fe80::1]/feed",
    "http://224.0.0.1/feed",
    "http://2130706433:{port}/feed",
    "http://0177.0.0.1:{port}/feed",
    "http://0x7f.1:{port}/feed",
    "file:///etc/passwd",
    "gopher://127.0.0.1:{port}/_x",
    "ftp://127.0.0.1:{port}/feed",
]


@pytest.mark.parametrize("target", S1_TARGETS)
async def test_ssrf_refused_before_any_socket(
    server: FeedServer, make_fetcher, target: str
) -> None:
    server.body("/feed", FEED)
    fetcher = make_fetcher(_settings(allow_private_networks=False))
    with pytest.raises(BlockedAddressError):
        await fetcher.get(target.format(port=server.port))
    assert server.connections == 0 and server.requests == []


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]"])
async def test_the_connector_itself_refuses_forbidden_literals(
    server: FeedServer, make_fetcher, host: str
) -> None:
    """aiohttp skips the resolver for an IP literal; the connector checks it all the same, even
    for a request that bypasses `Fetcher.get`'s per-hop check."""
    server.body("/feed", FEED)
    fetcher = make_fetcher(_settings(allow_private_networks=False))
    with pytest.raises(BlockedAddressError):
        await fetcher._client().get(f"http://{host}:{server.port}/feed")
    assert server.connections == 0


async def test_allow_private_networks_lifts_the_guard(server: FeedServer, make_fetcher) -> None:
    server.body("/feed", FEED)
    response = await make_fetcher(_settings()).get(server.url("/feed"))
    assert response.status == 200 and response.body == FEED
    assert response.etag and response.last_modified


async def test_redirect_to_metadata_refused_at_the_hop(
    server: FeedServer, make_fetcher, stand_in_public: None
) -> None:
    await server.listen_on_more_hosts(2)
    server.redirect("/r", "http://169.254.169.254/latest/meta-data/")

    async def resolve(host: str, port: int) -> list[str]:
        return [STAND_IN]

    fetcher = make_fetcher(_settings(allow_private_networks=False), resolver=resolve)
    with pytest.raises(BlockedAddressError, match="link-local"):
        await fetcher.get(f"http://news.example.test:{server.port}/r")
    assert [(seen.path, seen.local) for seen in server.requests] == [("/r", STAND_IN)]


async def test_dns_rebinding_connects_only_to_checked_addresses(
    server: FeedServer, make_fetcher, stand_in_public: None
) -> None:
    await server.listen_on_more_hosts(2)
    server.body("/feed", FEED)
    answers = [[STAND_IN], ["127.0.0.1"]]

    async def rebinding(host: str, port: int) -> list[str]:
        return answers.pop(0) if answers else ["127.0.0.1"]

    settings = _settings(allow_private_networks=False)
    first = make_fetcher(settings, resolver=rebinding)
    response = await first.get(f"http://rebind.example.test:{server.port}/feed")
    assert response.status == 200
    second = make_fetcher(settings, resolver=rebinding)
    with pytest.raises(BlockedAddressError, match="loopback"):
        await second.get(f"http://rebind.example.test:{server.port}/feed")
    assert [seen.local for seen in server.requests] == [STAND_IN]
    assert server.connections == 1
    assert server.requests[0].headers["Host"] == f"rebind.example.test:{server.port}"


async def test_a_name_with_any_forbidden_address_is_refused(
    server: FeedServer, make_fetcher, stand_in_public: None
) -> None:
    """Round-robin DNS answering one public and one private address is refused outright."""
    await server.listen_on_more_hosts(2)
    server.body("/feed", FEED)

    async def mixed(host: str, port: int) -> list[str]:
        return [STAND_IN, "10.0.0.1"]

    fetcher = make_fetcher(_settings(allow_private_networks=False), resolver=mixed)
    with pytest.raises(BlockedAddressError, match="private"):
        await fetcher.get(f"http://mixed.example.test:{server.port}/feed")
    assert server.connections == 0


async def test_redirect_loop_stops_at_the_cap(server: FeedServer, make_fetcher) -> None:
    server.redirect("/loop", "/loop")
    with pytest.raises(FetchError, match="more than 5 redirects"):
        await make_fetcher(_settings(max_redirects=5)).get(server.url("/loop"))
    assert len(server.requests) == 6


async def test_redirects_are_followed(server: FeedServer, make_fetcher) -> None:
    server.redirect("/old", "/new", code=301)
    server.body("/new", FEED)
    response = await make_fetcher(_settings()).get(server.url("/old"))
    assert response.status == 200 and response.final_url == server.url("/new")


def _zero_gzip(decoded: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    chunk = b"\0" * (1 << 20)
    parts = [packer.compress(chunk) for _ in range(decoded >> 20)]
    parts.append(packer.flush())
    return b"".join(parts)


async def test_gzip_bomb_stops_at_decoded_cap(server: FeedServer, make_fetcher) -> None:
    payload = _zero_gzip(256 << 20)  # ~256 KB on the wire, 256 MiB decoded

    async def bomb(_: web.Request) -> web.StreamResponse:
        return web.Response(body=payload, headers={"Content-Encoding": "gzip"})

    server.set("/bomb", bomb)
    cap = 1 << 20
    fetcher = make_fetcher(_settings(max_body_bytes=cap))
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match="larger than"):
            await fetcher.get(server.url("/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * cap + len(payload) + (512 << 10)


async def test_plain_body_over_cap_is_aborted(server: FeedServer, make_fetcher) -> None:
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse()
        await response.prepare(request)
        try:
            while sent < 100 << 20:
                await response.write(b"x" * 65536)
                sent += 65536
        except (ConnectionError, RuntimeError):
            pass
        return response

    server.set("/big", endless)
    with pytest.raises(FetchError, match="larger than"):
        await make_fetcher(_settings(max_body_bytes=1 << 20)).get(server.url("/big"))
    assert sent < 100 << 20


async def test_declared_length_over_cap_is_refused(server: FeedServer, make_fetcher) -> None:
    server.body("/large", b"y" * 4096)
    with pytest.raises(FetchError, match="exceeds the cap"):
        await make_fetcher(_settings(max_body_bytes=1024)).get(server.url("/large"))


async def test_hang_is_cut_at_total_timeout(server: FeedServer, make_fetcher) -> None:
    server.hang("/hang")
    fetcher = make_fetcher(_settings(total_timeout=0.5, read_timeout=30.0))
    # the total-timeout error (not the 30 s read timeout's) is what proves the cut; no timer
    with pytest.raises(FetchError, match="no complete answer"):
        await fetcher.get(server.url("/hang"))


async def test_conditional_get_and_304(server: FeedServer, make_fetcher) -> None:
    server.body("/feed", FEED)
    fetcher = make_fetcher(_settings())
    first = await fetcher.get(server.url("/feed"))
    second = await fetcher.get(
        server.url("/feed"), etag=first.etag, last_modified=first.last_modified
    )
    assert second.status == 304 and second.body == b""
    assert server.requests[1].headers["If-None-Match"] == first.etag
    assert server.requests[1].headers["If-Modified-Since"] == first.last_modified


async def test_gzip_content_encoding_is_decoded(server: FeedServer, make_fetcher) -> None:
    import gzip

    server.body("/gz", gzip.compress(FEED), headers={"Content-Encoding": "gzip"})
    response = await make_fetcher(_settings()).get(server.url("/gz"))
    assert response.body == FEED
    assert "gzip" in server.requests[0].headers["Accept-Encoding"]


async def test_retry_after_is_reported(server: FeedServer, make_fetcher) -> None:
    server.status("/busy", 429, {"Retry-After": "3600"})
    response = await make_fetcher(_settings()).get(server.url("/busy"))
    assert response.status == 429 and response.retry_after == 3600.0


async def test_per_host_limit(server: FeedServer, make_fetcher) -> None:
    server.latency = 0.05
    server.body("/feed", FEED)
    fetcher = make_fetcher(_settings(per_host=2, concurrency=16))
    await asyncio.gather(*(fetcher.get(server.url("/feed")) for _ in range(12)))
    assert server.max_in_flight == 2


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 60) == 60.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_queueing_for_a_slot_does_not_count_against_the_deadline(
    server: FeedServer, make_fetcher
) -> None:
    server.latency = 0.3
    server.body("/feed", FEED)
    fetcher = make_fetcher(_settings(per_host=1, total_timeout=0.5))
    responses = await asyncio.gather(*(fetcher.get(server.url("/feed")) for _ in range(3)))
    assert [r.status for r in responses] == [200, 200, 200]

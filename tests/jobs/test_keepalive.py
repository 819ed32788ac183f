"""`ainews run` keeps one fetcher, and so its kept-alive connections, from one poll cycle to the
next: the second cycle opens no TCP connection the first did not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings
from bot.context import build_context
from bot.ingest.poll import sync_sources
from bot.jobs import Jobs
from tests.fakes.feed_server import FeedServer
from tests.fakes.store_seed import FakeClock


async def test_two_poll_cycles_reuse_the_connections(
    make_settings: Callable[..., Settings], fixtures_dir: Path
) -> None:
    names = sorted(p.name for p in (fixtures_dir / "feeds" / "real").iterdir())[:6]
    async with FeedServer(root=fixtures_dir / "feeds") as server:
        server.latency = 0.02  # long enough that the two-per-host limit is reached
        settings = make_settings(
            fetch={"full_text": False, "per_host": 2, "concurrency": 8},
            sources=[{"name": n, "url": server.feed_url(f"real/{n}")} for n in names],
            llm=None,
        )
        clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
        ctx = await build_context(settings, clock=clock, upgrade=False)
        try:
            await sync_sources(ctx.db, settings)
            jobs = Jobs(ctx, {})
            first = await jobs.poll()
            assert [r.status for r in first.sources] == ["ok"] * len(names)
            opened = server.connections
            assert 1 <= opened <= 2

            clock.advance(minutes=settings.fetch.interval_minutes + 1)  # every source due again
            second = await jobs.poll()
            assert [r.status for r in second.sources] == ["not_modified"] * len(names)
            assert len(server.requests) == 2 * len(names)
            assert server.connections == opened
        finally:
            await ctx.aclose()
        assert ctx.fetcher._session is None  # the service's shutdown closed the pool

"""`/metrics` describes behaviour: fetch, parse, enrichment and command latency from this
process, delivery latency due→sent, outbox depth and paused destinations from the store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters.web import create_web_app
from bot.commands import dispatch
from bot.config import Settings
from bot.enrich.pipeline import enrich_pending
from bot.ingest.poll import poll_sources, sync_sources
from bot.messages import CommandRequest
from bot.store.db import Database
from bot.store.schema import Channel, Delivery
from tests.fakes.feed_server import FeedServer
from tests.web.conftest import NOW, serve, web_context


@pytest.fixture
async def feed_server(fixtures_dir: Path) -> AsyncIterator[FeedServer]:
    async with FeedServer(root=fixtures_dir / "feeds") as server:
        yield server


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    return _samples(response.text)


async def test_metrics_describe_behaviour(
    db: Database, make_settings: Callable[..., Settings], feed_server: FeedServer
) -> None:
    feed = feed_server.feed_url("real/colah_rss.xml")
    settings = make_settings(sources=[{"name": "Colah", "url": feed}], fetch={"full_text": False})
    ctx = await web_context(settings)
    try:
        async for url in serve(create_web_app(ctx)):
            before = await _scrape(url)
            await sync_sources(ctx.db, settings)
            await poll_sources(ctx, all_sources=True)
            await enrich_pending(ctx)
            await dispatch(
                ctx,
                CommandRequest(platform="slack", workspace="T", channel="C", user="U", text="tags"),
            )
            async with db.session() as session:
                channel = Channel(platform="discord", workspace="g", channel="c", status="paused")
                session.add(channel)
                await session.flush()
                for number, wait in enumerate((3, 40, 7200)):
                    session.add(
                        Delivery(
                            channel_id=channel.id,
                            key=f"alert:story:{number}",
                            kind="alert",
                            status="sent",
                            created_at=NOW - timedelta(seconds=wait),
                            sent_at=NOW,
                        )
                    )
                session.add(Delivery(channel_id=channel.id, key="daily:x", kind="daily"))
            after = await _scrape(url)
    finally:
        await ctx.aclose()

    def grew(name: str, labels: tuple[tuple[str, str], ...] = ()) -> float:
        return after[(name, labels)] - before.get((name, labels), 0.0)

    assert grew("ainews_fetch_duration_seconds_count", (("source", feed),)) == 1
    assert grew("ainews_parse_duration_seconds_count") >= 1
    assert grew("ainews_enrich_duration_seconds_count", (("engine", "OfflineEnricher"),)) >= 1
    command = (("command", "tags"), ("platform", "slack"))
    assert grew("ainews_command_answer_seconds_count", command) == 1
    assert after[("ainews_delivery_latency_seconds_count", ())] == 3
    assert after[("ainews_delivery_latency_seconds_bucket", (("le", "5"),))] == 1
    assert after[("ainews_delivery_latency_seconds_bucket", (("le", "60"),))] == 2
    assert after[("ainews_delivery_latency_seconds_sum", ())] == 7243
    assert after[("ainews_outbox_depth", (("state", "pending"),))] == 1
    assert after[("ainews_paused_destinations", (("platform", "discord"),))] == 1
    assert ("ainews_llm_tokens_total", (("direction", "in"),)) in after

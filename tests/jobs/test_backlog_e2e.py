"""Through the real ingest and offline enrichment: a new source's backlog never alerts; what the
same source publishes afterwards does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.alerts import enqueue_alerts
from bot.config import Settings
from bot.context import build_context
from bot.delivery import Outbox
from bot.demo import SAMPLE_FEEDS, rewrite_dates, sample_bytes, today_mapper
from bot.enrich.pipeline import enrich_pending
from bot.ingest.poll import ingest_feed_bytes
from bot.store.schema import ArticleRow, Source
from tests.fakes.notifiers import RecordingNotifier
from tests.fakes.store_seed import FakeClock, add_channel

EXTRA_ITEM = b"""
    <item>
      <title>Helix Labs opens a public evaluation server for open-weight models</title>
      <link>https://sample.ainews.invalid/ai-wire/helix-eval-server</link>
      <guid>ai-wire-helix-eval</guid>
      <pubDate>Thu, 15 Jan 2026 07:55:00 +0000</pubDate>
      <description>Helix Labs opened a public evaluation server where anyone can submit an
      open-weight model and get reproducible scores on reasoning, coding and agent
      benchmarks.</description>
    </item>
  </channel>"""


async def test_backlog_is_stored_but_never_alerted(
    make_settings: Callable[..., Settings],
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FakeClock(now)
    settings = make_settings(fetch={"full_text": False}, llm=None)
    ctx = await build_context(settings, clock=clock, upgrade=False)
    try:
        feed = SAMPLE_FEEDS[0]
        mapping = today_mapper(now, "UTC")
        body = rewrite_dates(sample_bytes(feed), mapping)
        async with ctx.db.session() as session:
            source = Source(name=feed.name, url=feed.url, lang=feed.lang)
            session.add(source)
        await add_channel(ctx.db, "everything", alert_threshold=1)
        notifier = RecordingNotifier()
        outbox = Outbox(ctx, {"console": notifier})

        first = await ingest_feed_bytes(ctx, source, body, fetched_at=now, full_text=False)
        await enrich_pending(ctx)
        assert first == 5
        assert await enqueue_alerts(ctx) == 0
        await outbox.deliver_due()
        assert notifier.sent == []

        clock.advance(hours=1)
        newer = body.replace(b"</channel>", EXTRA_ITEM, 1)
        newer = newer.replace(
            b"Thu, 15 Jan 2026 07:55:00 +0000",
            (now + timedelta(minutes=30)).strftime("%a, %d %b %Y %H:%M:%S +0000").encode(),
        )
        async with ctx.db.session() as session:
            fresh = await session.scalar(select(Source).where(Source.url == feed.url))
        assert fresh is not None and fresh.polled_once
        assert await ingest_feed_bytes(ctx, fresh, newer, fetched_at=clock.now()) == 1
        await enrich_pending(ctx)
        assert await enqueue_alerts(ctx) == 1
        await outbox.deliver_due()
        [(_, _, payload, _)] = notifier.sent
        assert payload["item"]["title"].startswith("Helix Labs opens a public evaluation server")
        async with ctx.db.session() as session:
            backlog = list(await session.scalars(select(ArticleRow.is_backlog)))
        assert sorted(backlog) == [False, True, True, True, True, True]
    finally:
        await ctx.aclose()

"""Hacker News as a source, against a fake HN API on loopback that speaks the real JSON."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.ingest.poll import poll_sources
from bot.store.schema import ArticleRow
from tests.fakes.feed_server import FeedServer


def _serve_hn(server: FeedServer, items: dict[int, dict[str, Any]], order: list[int]) -> str:
    server.body("/v0/topstories.json", json.dumps(order).encode(), etag=False)
    for item_id, item in items.items():
        server.body(f"/v0/item/{item_id}.json", json.dumps(item).encode(), etag=False)
    return server.url("/v0/topstories.json")


def _story(item_id: int, score: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "story",
        "by": "pg",
        "time": 1764300000,
        "title": f"Story number {item_id} about <b>models</b>",
        "score": score,
        "descendants": score // 2,
        **extra,
    }


async def test_front_page_with_points_and_refresh(
    feed_server: FeedServer, make_ingest: Any, clock: Any
) -> None:
    items = {
        1: _story(1, 120, url="https://example.org/one?utm_source=hn"),
        2: _story(2, 40, text="<p>Ask HN: what do you use?</p>"),
        3: _story(3, 5, dead=True, url="https://example.org/dead"),
        4: _story(4, 300, url="https://example.org/four"),
    }
    url = _serve_hn(feed_server, items, [4, 1, 2, 3, 99])
    ctx = await make_ingest([{"name": "Hacker News", "url": url, "kind": "hackernews"}])
    report = await poll_sources(ctx, all_sources=True)
    assert report.sources[0].status == "ok" and report.new_articles == 3
    async with ctx.db.session() as session:
        rows = {r.guid: r for r in (await session.scalars(select(ArticleRow))).all()}
    assert rows["hn:1"].points == 120 and rows["hn:1"].comments == 60
    assert rows["hn:1"].canonical_url == "https://example.org/one"
    assert rows["hn:1"].title == "Story number 1 about models"
    assert rows["hn:2"].url == "https://news.ycombinator.com/item?id=2"
    assert rows["hn:2"].content == "Ask HN: what do you use?"
    assert "hn:3" not in rows

    items[1]["score"], items[1]["descendants"] = 250, 90
    _serve_hn(feed_server, items, [4, 1, 2])
    clock.current += timedelta(hours=1)
    again = await poll_sources(ctx)
    assert again.sources[0].status == "ok" and again.new_articles == 0
    async with ctx.db.session() as session:
        refreshed = await session.scalar(select(ArticleRow).where(ArticleRow.guid == "hn:1"))
    assert refreshed is not None and refreshed.points == 250 and refreshed.comments == 90


async def test_broken_id_list_is_an_error(feed_server: FeedServer, make_ingest: Any) -> None:
    url = feed_server.body("/v0/topstories.json", b"{not json", etag=False)
    ctx = await make_ingest([{"name": "HN", "url": url, "kind": "hackernews"}])
    report = await poll_sources(ctx, all_sources=True)
    assert report.sources[0].status == "error" and "JSON" in (report.sources[0].error or "")

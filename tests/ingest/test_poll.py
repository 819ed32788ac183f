"""Polling end to end: loopback feed server → fetch policy → parser → SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import bot.ingest.poll as poll_module
import bot.store.articles as articles_repo
from bot.ingest.poll import PollReport, poll_sources
from bot.store.schema import ArticleRow, Source, Story
from tests.fakes.feed_server import FeedServer


def _rss(*items: str, lang: str = "en") -> bytes:
    return (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>T</title>"
        f"<language>{lang}</language>{''.join(items)}</channel></rss>"
    ).encode()


def _item(title: str = "", link: str = "", guid: str = "", date: str = "", text: str = "") -> str:
    parts = [f"<title>{title}</title>" if title else ""]
    parts.append(f"<link>{link}</link>" if link else "")
    parts.append(f"<guid>{guid}</guid>" if guid else "")
    parts.append(f"<pubDate>{date}</pubDate>" if date else "")
    parts.append(f"<description>{text}</description>" if text else "")
    return f"<item>{''.join(parts)}</item>"


async def _count(ctx: Any, *where: Any) -> int:
    async with ctx.db.session() as session:
        return int(await session.scalar(select(func.count(ArticleRow.id)).where(*where)) or 0)


async def _source(ctx: Any, url: str) -> Source:
    async with ctx.db.session() as session:
        row = await session.scalar(select(Source).where(Source.url == url))
        assert row is not None
        return row


def _by_url(report: PollReport) -> dict[str, Any]:
    return {r.url: r for r in report.sources}


async def test_real_feeds_ingest_and_refetch_is_free(
    feed_server: FeedServer,
    make_ingest: Any,
    fixtures_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = sorted(p.name for p in (fixtures_dir / "feeds" / "real").iterdir())
    sources = [{"name": n, "url": feed_server.feed_url(f"real/{n}")} for n in names]
    ctx = await make_ingest(sources)
    first = await poll_sources(ctx, all_sources=True)
    assert [r.status for r in first.sources] == ["ok"] * len(names), first.to_json()
    assert all(r.new > 0 for r in first.sources)
    total = await _count(ctx)
    assert total == first.new_articles
    assert await _count(ctx, ArticleRow.is_backlog.is_(False)) == 0
    assert await _count(ctx, ArticleRow.story_id.is_(None)) == 0
    assert await _count(ctx, ArticleRow.enrich_status != "pending") == 0

    parses = 0
    real_run_cpu = poll_module.run_cpu

    async def counting_run_cpu(*args: Any, **kwargs: Any) -> Any:
        nonlocal parses
        parses += 1
        return await real_run_cpu(*args, **kwargs)

    monkeypatch.setattr(poll_module, "run_cpu", counting_run_cpu)
    second = await poll_sources(ctx, all_sources=True)
    assert parses == 0
    assert {r.status for r in second.sources} == {"not_modified"}
    assert second.new_articles == 0 and await _count(ctx) == total
    assert feed_server.responses[304] == len(names)
    path = f"/feeds/real/{names[0]}"
    assert feed_server.conditional_requests(path) == 1


async def test_only_due_sources_are_polled(
    feed_server: FeedServer, make_ingest: Any, clock: Any
) -> None:
    url = feed_server.body("/f", _rss(_item("A title here", "https://a.test/1")))
    ctx = await make_ingest([{"name": "f", "url": url}])
    assert (await poll_sources(ctx)).count("ok") == 1
    assert (await poll_sources(ctx)).sources == []
    clock.current += timedelta(minutes=31)
    assert [r.status for r in (await poll_sources(ctx)).sources] == ["not_modified"]


async def test_unchanged_feed_keeps_a_lease_another_replica_took_over(
    feed_server: FeedServer, make_ingest: Any
) -> None:
    url = feed_server.body("/f", _rss(_item("A title here", "https://a.test/1")))
    ctx = await make_ingest([{"name": "f", "url": url}])
    assert (await poll_sources(ctx)).count("ok") == 1
    real_get = ctx.fetcher.get

    async def slow_get(*args: Any, **kwargs: Any) -> Any:
        # This cycle outlives its lease and another replica claims the source meanwhile.
        response = await real_get(*args, **kwargs)
        async with ctx.db.session() as session:
            row = await session.scalar(select(Source).where(Source.url == url))
            assert row is not None
            row.lease_owner = "other replica"
        return response

    ctx.fetcher.get = slow_get
    report = await poll_sources(ctx, all_sources=True)
    assert [r.status for r in report.sources] == ["not_modified"]
    assert (await _source(ctx, url)).lease_owner == "other replica"


async def test_body_hash_skips_parse_without_validators(
    feed_server: FeedServer, make_ingest: Any
) -> None:
    url = feed_server.body("/plain", _rss(_item("A", "https://a.test/1")), etag=False)
    ctx = await make_ingest([{"name": "p", "url": url}])
    await poll_sources(ctx, all_sources=True)
    again = await poll_sources(ctx, all_sources=True)
    assert again.sources[0].status == "not_modified"
    assert feed_server.conditional_requests("/plain") == 0


async def test_html_page_is_an_error_on_the_row(feed_server: FeedServer, make_ingest: Any) -> None:
    url = feed_server.body("/page", b"<html><body><p>Hello</p></body></html>")
    empty = feed_server.body("/empty", b"")
    ctx = await make_ingest([{"name": "page", "url": url}, {"name": "empty", "url": empty}])
    report = await poll_sources(ctx, all_sources=True)
    assert [r.status for r in report.sources] == ["error", "error"]
    for target in (url, empty):
        row = await _source(ctx, target)
        assert row.error_count == 1 and row.last_error
    assert await _count(ctx) == 0


async def test_malformed_feeds_never_escape(
    feed_server: FeedServer, make_ingest: Any, fixtures_dir: Path
) -> None:
    names = sorted(p.name for p in (fixtures_dir / "feeds" / "malformed").iterdir())
    sources = [{"name": n, "url": feed_server.feed_url(f"malformed/{n}")} for n in names]
    ctx = await make_ingest(sources)
    report = await poll_sources(ctx, all_sources=True)
    by_name = {r.name: r for r in report.sources}
    assert len(by_name) == len(names)
    for result in report.sources:
        assert result.status in ("ok", "error")
        assert (result.status == "error") == bool(result.error)
        assert not (result.error or "").startswith("internal error"), result
    assert by_name["saxerror.xml"].new == 3
    assert by_name["notafeed.html"].status == "error"
    assert by_name["invalid-characters-gzipped.xml"].new == 25


async def test_b2_same_guid_different_links(feed_server: FeedServer, make_ingest: Any) -> None:
    body = _rss(*(_item(f"Item {i}", f"https://a.test/{i}", guid="same") for i in range(3)))
    url = feed_server.body("/b2", body)
    ctx = await make_ingest([{"name": "b2", "url": url}])
    assert (await poll_sources(ctx, all_sources=True)).new_articles == 3
    feed_server.body("/b2", body + b" ")  # new bytes, same items
    assert (await poll_sources(ctx, all_sources=True)).new_articles == 0
    assert await _count(ctx) == 3


async def test_b3_no_guid_no_link_is_stable(feed_server: FeedServer, make_ingest: Any) -> None:
    body = _rss(_item(text="Only text, no title or link"), _item(text="Another bare item"))
    url = feed_server.body("/b3", body)
    ctx = await make_ingest([{"name": "b3", "url": url}])
    await poll_sources(ctx, all_sources=True)
    feed_server.body("/b3", body + b"\n")
    await poll_sources(ctx, all_sources=True)
    assert await _count(ctx) == 2


async def test_b4_churning_guid_is_the_same_article(
    feed_server: FeedServer, make_ingest: Any
) -> None:
    url = feed_server.body("/b4", _rss(_item("Stable title", "https://a.test/x", guid="g-1")))
    ctx = await make_ingest([{"name": "b4", "url": url}])
    await poll_sources(ctx, all_sources=True)
    feed_server.body(
        "/b4", _rss(_item("Stable title", "https://a.test/x?utm_source=rss", guid="g-2"))
    )
    assert (await poll_sources(ctx, all_sources=True)).new_articles == 0
    feed_server.body("/b4", _rss(_item("Different post", "https://a.test/x", guid="g-3")))
    assert (await poll_sources(ctx, all_sources=True)).new_articles == 1
    assert await _count(ctx) == 2


async def test_b5_undated_items_get_fetch_time(
    feed_server: FeedServer, make_ingest: Any, clock: Any
) -> None:
    body = _rss(
        _item("Dated item", "https://a.test/1", date="Tue, 10 Jun 2003 04:00:00 GMT"),
        _item("Undated item", "https://a.test/2"),
        _item("Future item", "https://a.test/3", date="Tue, 10 Jun 2099 04:00:00 GMT"),
    )
    ctx = await make_ingest([{"name": "b5", "url": feed_server.body("/b5", body)}])
    await poll_sources(ctx, all_sources=True)
    async with ctx.db.session() as session:
        rows = {r.title: r for r in (await session.scalars(select(ArticleRow))).all()}
    assert rows["Dated item"].published_at.year == 2003 and rows["Dated item"].dated
    assert rows["Undated item"].published_at == clock.current and not rows["Undated item"].dated
    assert rows["Future item"].published_at == clock.current


async def test_backlog_then_news(feed_server: FeedServer, make_ingest: Any, clock: Any) -> None:
    url = feed_server.body("/n", _rss(_item("First post ever", "https://a.test/1")))
    ctx = await make_ingest([{"name": "n", "url": url}])
    await poll_sources(ctx, all_sources=True)
    feed_server.body(
        "/n",
        _rss(_item("First post ever", "https://a.test/1"), _item("Fresh news", "https://a.test/2")),
    )
    clock.current += timedelta(hours=1)
    await poll_sources(ctx)
    async with ctx.db.session() as session:
        flags = dict((await session.execute(select(ArticleRow.title, ArticleRow.is_backlog))).all())
    assert flags == {"First post ever": True, "Fresh news": False}
    assert (await _source(ctx, url)).polled_once


async def test_stories_cluster_across_sources(feed_server: FeedServer, make_ingest: Any) -> None:
    a = feed_server.body(
        "/a",
        _rss(
            _item("OpenAI releases new reasoning model o5", "https://openai.test/o5?utm_source=a"),
            _item("Totally unrelated gardening tips", "https://garden.test/1"),
        ),
    )
    b = feed_server.body("/b", _rss(_item("Some other title", "https://openai.test/o5#top")))
    c = feed_server.body(
        "/c", _rss(_item("OpenAI releases new reasoning model o5!", "https://news.test/o5"))
    )
    # Clustering is greedy, so which feed is stored first matters; feeds of one cycle are
    # stored as they finish parsing, so A gets a cycle of its own first (the index of the
    # second cycle is then read back from the store).
    first = await make_ingest([{"name": "A", "url": a}])
    await poll_sources(first, all_sources=True)
    ctx = await make_ingest(
        [{"name": "A", "url": a}, {"name": "B", "url": b}, {"name": "C", "url": c}]
    )
    await poll_sources(ctx, all_sources=True)
    async with ctx.db.session() as session:
        stories = (await session.scalars(select(Story).order_by(Story.source_count.desc()))).all()
    assert [s.source_count for s in stories] == [3, 1]


async def test_429_retry_after_moves_next_check(
    feed_server: FeedServer, make_ingest: Any, clock: Any
) -> None:
    url = feed_server.status("/busy", 429, {"Retry-After": "3600"})
    ctx = await make_ingest([{"name": "busy", "url": url}])
    report = await poll_sources(ctx, all_sources=True)
    assert report.sources[0].status == "error" and "429" in (report.sources[0].error or "")
    row = await _source(ctx, url)
    assert row.next_check_at >= clock.current + timedelta(seconds=3600)
    assert row.error_count == 0


async def test_failures_back_off_disable_and_success_resets(
    feed_server: FeedServer, make_ingest: Any, clock: Any
) -> None:
    url = feed_server.status("/down", 503)
    ctx = await make_ingest([{"name": "down", "url": url}], fetch={"max_failures": 3})
    waits = []
    for _ in range(3):
        await poll_sources(ctx, all_sources=True)
        row = await _source(ctx, url)
        waits.append(row.next_check_at - clock.current)
    assert waits[0] < waits[1] < waits[2]
    assert row.disabled and row.error_count == 3 and "503" in (row.last_error or "")
    clock.current += timedelta(days=2)
    assert (await poll_sources(ctx)).sources == []
    skipped = await poll_sources(ctx, all_sources=True)
    assert skipped.sources[0].status == "skipped" and "503" in (skipped.sources[0].error or "")
    feed_server.body("/down", _rss(_item("Back again", "https://a.test/1")))
    from bot.store.sources import add_source

    async with ctx.db.session() as session:
        await add_source(session, name="down", url=url, kind="feed", lang="", weight=1.0)
    report = await poll_sources(ctx, all_sources=True)
    assert report.sources[0].status == "ok"
    row = await _source(ctx, url)
    assert row.error_count == 0 and row.last_error is None and not row.disabled


async def test_ssrf_refused_source_is_an_error(feed_server: FeedServer, make_ingest: Any) -> None:
    url = feed_server.body("/f", _rss(_item("A", "https://a.test/1")))
    ctx = await make_ingest(
        [{"name": "local", "url": url}], fetch={"allow_private_networks": False}
    )
    report = await poll_sources(ctx, all_sources=True)
    assert report.sources[0].status == "error" and "refused" in (report.sources[0].error or "")
    assert feed_server.connections == 0


async def test_redirect_to_metadata_is_recorded(feed_server: FeedServer, make_ingest: Any) -> None:
    url = feed_server.redirect("/r", "http://169.254.169.254/latest/meta-data/")
    loop = feed_server.redirect("/loop", "/loop")
    ctx = await make_ingest([{"name": "r", "url": url}, {"name": "loop", "url": loop}])
    report = await poll_sources(ctx, all_sources=True)
    assert [r.status for r in report.sources] == ["error", "error"]
    assert "redirects" in (report.sources[1].error or "")
    assert await _count(ctx) == 0


async def test_d1_crash_before_commit_is_reprocessed(
    feed_server: FeedServer, make_ingest: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = feed_server.body("/d1", _rss(_item("Crash me", "https://a.test/1")))
    ctx = await make_ingest([{"name": "d1", "url": url}])
    real_insert = articles_repo.insert_articles

    def crash(*args: Any, **kwargs: Any) -> Any:
        real_insert(*args, **kwargs)
        raise RuntimeError("fault hook: process died before commit")

    monkeypatch.setattr("bot.store.articles.insert_articles", crash)
    assert (await poll_sources(ctx, all_sources=True)).sources[0].status == "error"
    assert await _count(ctx) == 0 and (await _source(ctx, url)).etag is None
    monkeypatch.setattr("bot.store.articles.insert_articles", real_insert)
    report = await poll_sources(ctx, all_sources=True)
    assert report.sources[0].status == "ok" and report.new_articles == 1
    assert feed_server.conditional_requests("/d1") == 0


async def test_leases_make_each_feed_fetched_once(
    feed_server: FeedServer, make_ingest: Any
) -> None:
    feed_server.latency = 0.05
    urls = [
        feed_server.body(f"/l{i}", _rss(_item(f"Item {i}", f"https://a.test/{i}")))
        for i in range(6)
    ]
    sources = [{"name": f"l{i}", "url": u} for i, u in enumerate(urls)]
    first = await make_ingest(sources)
    second = await make_ingest(sources)
    reports = await asyncio.gather(poll_sources(first), poll_sources(second))
    polled = [r.url for report in reports for r in report.sources]
    assert sorted(polled) == sorted(urls)
    assert len(feed_server.requests) == 6


async def test_full_text_replaces_teasers(
    feed_server: FeedServer, make_ingest: Any, fixtures_dir: Path, clock: Any
) -> None:
    page = (fixtures_dir / "html" / "readability_ars-1_source.html").read_bytes()
    article = feed_server.body("/article", page, headers={"Content-Type": "text/html"})
    broken = feed_server.status("/gone", 404)
    url = feed_server.body("/ft", _rss(_item("Old", "https://a.test/old")))
    ctx = await make_ingest([{"name": "ft", "url": url}], fetch={"full_text": True})
    await poll_sources(ctx, all_sources=True)  # backlog: no page fetches
    assert len(feed_server.requests) == 1
    feed_server.body(
        "/ft",
        _rss(
            _item("Old", "https://a.test/old"),
            _item("Teaser", article, text="Short teaser."),
            _item("Broken", broken, text="Kept teaser."),
        ),
    )
    clock.current += timedelta(hours=1)
    await poll_sources(ctx)
    async with ctx.db.session() as session:
        rows = {r.title: r for r in (await session.scalars(select(ArticleRow))).all()}
    assert rows["Teaser"].full_text and len(rows["Teaser"].content) > 2000
    assert rows["Teaser"].reading_minutes > 1 and rows["Teaser"].lang == "en"
    assert not rows["Broken"].full_text and rows["Broken"].content == "Kept teaser."


async def test_two_feeds_in_one_cycle_never_share_a_temporary_story_id(
    feed_server: FeedServer, make_ingest: Any
) -> None:
    """The seed's bug: each batch numbered its new stories from −1 while the index kept one
    rename map per poll, so feed B's first new story joined feed A's (“Slack insider sells
    shares” + a Reddit question about UPS)."""
    a = feed_server.body(
        "/a",
        _rss(
            _item(
                "Slack insider sells 1500 shares",
                "https://a.test/1",
                date="Mon, 23 Nov 2026 09:00:00 GMT",
            ),
            _item(
                "Kubernetes release notes for operators",
                "https://a.test/2",
                date="Mon, 23 Nov 2026 09:00:00 GMT",
            ),
        ),
    )
    b = feed_server.body(
        "/b",
        _rss(
            _item(
                "Where is my UPS package stuck in transit",
                "https://b.test/1",
                date="Mon, 23 Nov 2026 10:00:00 GMT",
            ),
            _item(
                "Homelab rack tour with ten servers",
                "https://b.test/2",
                date="Mon, 23 Nov 2026 10:00:00 GMT",
            ),
        ),
    )
    ctx = await make_ingest([{"name": "A", "url": a}, {"name": "B", "url": b}])
    await poll_sources(ctx, all_sources=True)
    async with ctx.db.session() as session:
        story_ids = (await session.scalars(select(ArticleRow.story_id))).all()
    assert len(story_ids) == 4
    assert len(set(story_ids)) == 4


async def test_a_feed_of_1200_distinct_items_stays_1200_stories(
    feed_server: FeedServer, make_ingest: Any
) -> None:
    topics = ["gardening", "football", "compilers", "baking", "astronomy", "chess"]
    items = [
        _item(
            f"Item {n}: notes on {topics[n % len(topics)]} number {n * 7 + 3}",
            f"https://many.test/{n}",
            guid=f"g{n}",
            date="Mon, 23 Nov 2026 09:00:00 GMT",
        )
        for n in range(1200)
    ]
    url = feed_server.body("/many", _rss(*items))
    ctx = await make_ingest([{"name": "Many", "url": url}])
    await poll_sources(ctx, all_sources=True)
    async with ctx.db.session() as session:
        stories = int(await session.scalar(select(func.count(Story.id))) or 0)
        articles = int(await session.scalar(select(func.count(ArticleRow.id))) or 0)
    assert articles == 1200
    assert stories == 1200


async def test_english_and_japanese_reports_of_one_release_join(
    feed_server: FeedServer, make_ingest: Any
) -> None:
    date = "Tue, 24 Nov 2026 09:00:00 GMT"
    en = feed_server.body(
        "/en",
        _rss(
            _item(
                "Google releases Gemma 4 with 27B open weights", "https://en.test/gemma", date=date
            ),
            _item("Google releases new Pixel phone colours", "https://en.test/pixel", date=date),
        ),
    )
    ja = feed_server.body(
        "/ja",
        _rss(
            _item(
                "グーグル、オープンモデル「Gemma 4」を公開 27B版も",
                "https://ja.test/gemma",
                date=date,
            ),
            lang="ja",
        ),
    )
    ctx = await make_ingest([{"name": "EN", "url": en}, {"name": "JA", "url": ja}])
    await poll_sources(ctx, all_sources=True)
    async with ctx.db.session() as session:
        rows = (await session.execute(select(ArticleRow.url, ArticleRow.story_id))).all()
    story = {url: story_id for url, story_id in rows}
    assert story["https://ja.test/gemma"] == story["https://en.test/gemma"]
    assert story["https://en.test/pixel"] != story["https://en.test/gemma"]

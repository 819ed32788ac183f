"""Tools and videos from the real samples: their numbers, thumbnails, and one row per repo."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.ingest.parse import parse_feed
from bot.ingest.poll import poll_sources
from bot.store.schema import ArticleMedia, ArticleRow, ToolRow, ToolSnapshot
from tests.fakes.feed_server import FeedServer

TOOLS = "tools"
GITHUB_DAILY = f"{TOOLS}/ai-news-direct_github_trends_daily_2025-12-22.xml"
GITHUB_WEEKLY = f"{TOOLS}/ai-news-direct_github_trends_weekly_2025-12-22.xml"
HF_MODELS = f"{TOOLS}/ai-news-direct_huggingface_trending_models_2025-12-22.xml"
HF_DATASETS = f"{TOOLS}/ai-news-direct_huggingface_trending_datasets_2025-12-22.xml"
HF_PAPERS = f"{TOOLS}/ai-news-direct_huggingface_daily_papers_2025-12-22.xml"
YOUTUBE = "real/feedjira_youtube_atom.xml"


def _tools(fixtures_dir: Path, name: str) -> dict[str, Any]:
    parsed = parse_feed((fixtures_dir / "feeds" / name).read_bytes(), "https://feeds.test/")
    return {e.media.tool.key: e.media.tool for e in parsed.entries if e.media and e.media.tool}


def test_github_trending_numbers(fixtures_dir: Path) -> None:
    tools = _tools(fixtures_dir, GITHUB_DAILY)
    exo = tools["github:exo-explore/exo"]
    assert (exo.name, exo.kind, exo.stars, exo.stars_today, exo.forks, exo.language) == (
        "exo-explore/exo",
        "repo",
        36209,
        1150,
        2427,
        "Python",
    )
    claude_code = tools["github:anthropics/claude-code"]
    assert (claude_code.stars, claude_code.stars_today, claude_code.language) == (
        47854,
        293,
        "Shell",
    )
    # an entry without a language line has none
    assert tools["github:cloudcommunity/free-certifications"].language == ""


def test_hugging_face_models_and_datasets(fixtures_dir: Path) -> None:
    models = _tools(fixtures_dir, HF_MODELS)
    turbo = models["hf-model:tongyi-mai/z-image-turbo"]
    assert (turbo.kind, turbo.downloads, turbo.likes, turbo.task, turbo.stars) == (
        "model",
        363445,
        3270,
        "text-to-image",
        None,
    )
    datasets = _tools(fixtures_dir, HF_DATASETS)
    medical = datasets["hf-dataset:openmed/medical-reasoning-sft-gpt-oss-120b"]
    assert (medical.kind, medical.downloads, medical.likes) == ("dataset", 2496, 185)
    # papers link to arXiv: research, not a tool
    assert _tools(fixtures_dir, HF_PAPERS) == {}


def test_youtube_entries_become_videos(fixtures_dir: Path) -> None:
    parsed = parse_feed((fixtures_dir / "feeds" / YOUTUBE).read_bytes(), "https://yt.test/")
    assert len(parsed.entries) == 15
    first = parsed.entries[0]
    assert first.media is not None and first.media.video is not None
    video = first.media.video
    assert video.video_id == "5shykyfmb28"
    assert video.thumbnail == "https://i2.ytimg.com/vi/5shykyfmb28/hqdefault.jpg"
    assert (video.channel, video.views) == ("Google", 251497)
    # the description is the text the summary is made from
    assert first.content.startswith("A question is the most powerful force in the world.")
    assert all(e.media and e.media.video and e.media.video.thumbnail for e in parsed.entries)


async def _count(ctx: Any, column: Any, *where: Any) -> int:
    async with ctx.db.session() as session:
        return int(await session.scalar(select(func.count(column)).where(*where)) or 0)


async def test_repo_seen_again_updates_one_tool(
    feed_server: FeedServer, make_ingest: Any, fixtures_dir: Path, clock: Any
) -> None:
    day_one = (fixtures_dir / "feeds" / GITHUB_DAILY).read_bytes()
    daily = feed_server.body("/gh-daily", day_one)
    ctx = await make_ingest([{"name": "GitHub daily", "url": daily}])
    await poll_sources(ctx, all_sources=True)
    articles = await _count(ctx, ArticleRow.id)
    tools = await _count(ctx, ToolRow.id)
    assert articles == tools == 9

    day_two = day_one.replace(b"36,209 stars", b"37,570 stars").replace(
        b"1,150 stars today", b"1,361 stars today"
    )
    feed_server.body("/gh-daily", day_two)
    clock.current += timedelta(days=1)
    await poll_sources(ctx, all_sources=True)
    assert await _count(ctx, ArticleRow.id) == articles
    assert await _count(ctx, ToolRow.id) == tools
    async with ctx.db.session() as session:
        exo = await session.scalar(select(ToolRow).where(ToolRow.key == "github:exo-explore/exo"))
        assert exo is not None
        assert (exo.stars, exo.stars_today) == (37570, 1361)
        history = (
            await session.scalars(
                select(ToolSnapshot.stars)
                .where(ToolSnapshot.tool_id == exo.id)
                .order_by(ToolSnapshot.day)
            )
        ).all()
    assert list(history) == [36209, 37570]


async def test_same_repo_in_two_feeds_is_one_tool(
    feed_server: FeedServer, make_ingest: Any, fixtures_dir: Path
) -> None:
    daily = feed_server.body("/d", (fixtures_dir / "feeds" / GITHUB_DAILY).read_bytes())
    weekly = feed_server.body("/w", (fixtures_dir / "feeds" / GITHUB_WEEKLY).read_bytes())
    ctx = await make_ingest([{"name": "daily", "url": daily}, {"name": "weekly", "url": weekly}])
    await poll_sources(ctx, all_sources=True)
    assert await _count(ctx, ToolRow.id, ToolRow.key == "github:exo-explore/exo") == 1


async def test_youtube_feed_stores_video_media(
    feed_server: FeedServer, make_ingest: Any, fixtures_dir: Path
) -> None:
    url = feed_server.body("/yt", (fixtures_dir / "feeds" / YOUTUBE).read_bytes())
    ctx = await make_ingest([{"name": "Google on YouTube", "url": url}])
    await poll_sources(ctx, all_sources=True)
    async with ctx.db.session() as session:
        rows = (
            await session.execute(
                select(ArticleMedia, ArticleRow.content).join(
                    ArticleRow, ArticleRow.id == ArticleMedia.article_id
                )
            )
        ).all()
    assert len(rows) == 15
    assert all(media.thumbnail.startswith("https://") and content for media, content in rows)

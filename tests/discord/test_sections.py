"""The section commands over the fake Discord API: embeds within limits, video thumbnails,
the trends chart as a multipart attachment, company aliases and related stories."""

from __future__ import annotations

import json
from typing import Any

from bot.context import AppContext
from tests.discord.conftest import Interactions
from tests.fakes.discord_api import FakeDiscordAPI, InteractionLog, message_errors
from tests.sections_seed import seed_sections


def _embeds(log: InteractionLog) -> list[dict[str, Any]]:
    return [e for m in log.messages() for e in (m.get("embeds") or [])]


def _within_limits(log: InteractionLog) -> None:
    for message in log.messages():
        assert message_errors(message) == {}


async def test_tools_embeds_show_numbers(
    interactions: Interactions, discord_api: FakeDiscordAPI, ctx: AppContext
) -> None:
    await seed_sections(ctx)
    log = await interactions.run("tools")
    footers = [e.get("footer", {}).get("text", "") for e in _embeds(log)]
    assert any("スター 37,570 · 今日 +1,361" in f for f in footers)  # the channel reads ja
    assert "AIツール" in json.dumps(log.messages(), ensure_ascii=False)
    _within_limits(log)


async def test_videos_embed_thumbnails(interactions: Interactions, ctx: AppContext) -> None:
    await seed_sections(ctx)
    log = await interactions.run("videos")
    thumbnails = [e["thumbnail"]["url"] for e in _embeds(log) if "thumbnail" in e]
    assert thumbnails and all(t.startswith("https://") and "ytimg.com" in t for t in thumbnails)
    _within_limits(log)


async def test_trends_attach_a_png_chart(interactions: Interactions, ctx: AppContext) -> None:
    await seed_sections(ctx)
    log = await interactions.run("trends")
    text = json.dumps(log.messages(), ensure_ascii=False)
    assert "Anthropic" in text and "#agents" in text
    assert len(log.files) == 1
    name, data = log.files[0]
    assert name.startswith("ainews-trends-") and data.startswith(b"\x89PNG\r\n\x1a\n")
    _within_limits(log)


async def test_company_aliases_reach_one_answer(
    interactions: Interactions, ctx: AppContext
) -> None:
    await seed_sections(ctx)
    headings = []
    for name in ("OpenAI", "openai", "オープンAI"):
        log = await interactions.run("company", {"name": name})
        _within_limits(log)
        headings.append(log.messages()[0]["content"].split("\n", 1)[0])
    assert headings[0].startswith("**OpenAI: ") and len(set(headings)) == 1


async def test_summary_embed_lists_related_stories(
    interactions: Interactions, ctx: AppContext
) -> None:
    seed = await seed_sections(ctx)
    log = await interactions.run("summary", {"article": str(seed.gemma_article)})
    fields = [f for e in _embeds(log) for f in e.get("fields", [])]
    related = next(f for f in fields if f["name"] == "関連記事")  # "Related articles", in ja
    assert "Gemma 3 tops a small-model benchmark" in related["value"]
    assert "also about Gemma" in related["value"]
    _within_limits(log)

"""The command table and handlers on both stores, through the platform-neutral `dispatch`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.i18n import translator
from adapters.reply_text import reply_text
from bot.commands import GENERIC_FAILURE, commands, dispatch, find, parse_text
from bot.config import Settings
from bot.context import AppContext, build_context
from bot.errors import CommandError
from bot.messages import CommandRequest, Reply
from tests.commands.seeding import add_article, add_source
from tests.fakes.store_seed import FakeClock

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


@pytest.fixture
async def ctx(make_settings: Callable[..., Settings]) -> AsyncIterator[AppContext]:
    context = await build_context(make_settings(), clock=FakeClock(NOW), upgrade=False)
    yield context
    await context.aclose()


def words(ctx: AppContext, reply: Reply) -> str:
    """The reply as the channel reads it (its plain-text form, in the reply's language)."""
    return reply_text(reply, ctx.settings)


def request(text: str, *, platform: str = "slack", can_manage: bool = False) -> CommandRequest:
    return CommandRequest(
        platform=platform,  # type: ignore[arg-type]
        workspace="T1",
        channel="C1",
        user="U1",
        text=text,
        can_manage=can_manage,
    )


def test_table_covers_every_subcommand_of_the_design() -> None:
    names = [spec.name for spec in commands()]
    assert names == [
        "today", "week", "hn", "summary", "translate", "subscribe", "unsubscribe",
        "resume", "subscriptions", "alerts", "settings", "search", "tags",
        "tools", "videos", "trends", "company",  # the seed's sections (issue 14)
        "sources", "mute", "unmute", "why", "preview", "feedback", "help",
    ]  # fmt: skip
    assert {spec.name for spec in commands() if spec.slow} == {"summary", "translate"}
    # descriptions are catalogue ids, worded per language
    for spec in commands():
        assert translator("en")(spec.description) != spec.description
        assert translator("ja")(spec.description) != translator("en")(spec.description)


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("today", "today", {}),
        ("TODAY LLM", "today", {"tag": "llm"}),
        ("translate 42 JA", "translate", {"article": "42", "lang": "ja"}),
        ("alerts on 4", "alerts", {"state": "on", "min": 4}),
        ("subscribe llm Agents", "subscribe", {"tags": ["llm", "agents"]}),
        ("settings tz Asia/Tokyo time 08:30", "settings", {"tz": "Asia/Tokyo", "time": "08:30"}),
        ("search مرحبا بالعالم", "search", {"words": "مرحبا بالعالم"}),
        ("", "help", {}),
    ],
)
def test_parse_text(text: str, name: str, args: dict[str, Any]) -> None:
    spec, parsed = parse_text(text)
    assert spec.name == name and parsed == args


@pytest.mark.parametrize(
    "text",
    ["x" * 5000, "today \u202etag", "today a\x00b", "alerts on five", "settings tz", "hn extra"],
)
def test_parse_errors_carry_usage(text: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_text(text)
    assert caught.value.usage


async def test_channel_commands_and_prefs(ctx: AppContext) -> None:
    # a new channel reads `[translate] default_lang` (ja) until it says otherwise
    reply = await dispatch(ctx, request("subscribe llm agents"))
    assert reply.lang == "ja" and not reply.is_error
    assert words(ctx, reply) == "このチャンネルがフォロー中のタグ: agents、llm"
    reply = await dispatch(ctx, request("settings lang en tz Europe/Paris time 7:05"))
    lines = words(ctx, reply).splitlines()
    assert reply.lang == "en" and lines[0] == "Saved."
    assert "Time zone: Europe/Paris" in lines and "Daily digest at: 07:05" in lines
    reply = await dispatch(ctx, request("unsubscribe llm agents"))
    assert words(ctx, reply) == "This channel follows no tags now, so it gets every story."
    reply = await dispatch(ctx, request("subscriptions"))
    assert reply.ephemeral and "Tags: none (every story)" in words(ctx, reply).splitlines()
    reply = await dispatch(ctx, request("settings lang ja"))
    assert words(ctx, reply).splitlines()[:2] == ["保存しました。", "タグ: なし（すべての記事）"]
    reply = await dispatch(ctx, request("alerts on 4"))
    assert words(ctx, reply).startswith("アラートをオンにしました: 重要度4以上")


async def test_discord_channel_changes_need_a_manager(ctx: AppContext) -> None:
    denied = await dispatch(ctx, request("alerts off", platform="discord"))
    assert denied.is_error and "チャンネル管理者だけ" in words(ctx, denied)
    allowed = await dispatch(ctx, request("alerts off", platform="discord", can_manage=True))
    assert words(ctx, allowed) == "このチャンネルのアラートをオフにしました。"
    english = Reply(message=allowed.message, lang="en")
    assert words(ctx, english) == "Alerts are off for this channel."


async def test_search_tags_sources_on_both_stores(ctx: AppContext) -> None:
    wire = await add_source(ctx.db, "Wire")
    await add_source(ctx.db, "Dead", error_count=8, last_error="HTTP 404", disabled=True)
    await add_article(ctx.db, wire, "100% faster_attention kernels", NOW - timedelta(hours=1),
                      importance=5, tags=("gpu", "llm"))  # fmt: skip
    await add_article(ctx.db, wire, "Attention is cheap", NOW - timedelta(hours=2),
                      importance=2, tags=("llm",))  # fmt: skip
    await add_article(ctx.db, wire, "Old attention news", NOW - timedelta(days=20),
                      importance=4, tags=("old",))  # fmt: skip
    reply = await dispatch(ctx, request("search attention"))
    assert [c.title for c in reply.cards] == [
        "100% faster_attention kernels", "Old attention news", "Attention is cheap",
    ]  # fmt: skip
    assert [c.title for c in (await dispatch(ctx, request("search 100%"))).cards] == [
        "100% faster_attention kernels"
    ]
    assert (await dispatch(ctx, request("search 0_"))).cards == ()  # `_` is no wildcard
    reply = await dispatch(ctx, request("tags"))
    assert words(ctx, reply).splitlines() == ["直近7日間のタグ:", "llm（2件）", "gpu（1件）"]
    in_english = words(ctx, Reply(message=reply.message, lines=reply.lines, lang="en"))
    assert in_english.splitlines() == [
        "Tags of the last 7 days:",
        "llm (2 stories)",
        "gpu (1 story)",
    ]
    reply = await dispatch(ctx, request("sources"))
    assert words(ctx, reply).splitlines()[1:] == ["Dead: エラー8回で停止中: HTTP 404", "Wire: 正常"]
    in_english = words(ctx, Reply(message=reply.message, lines=reply.lines, lang="en"))
    assert in_english.splitlines()[1:] == ["Dead: disabled after 8 errors: HTTP 404", "Wire: ok"]


async def test_unexpected_failure_is_one_generic_line_and_a_logged_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = Settings.model_validate({"database": {"url": f"sqlite:///{tmp_path / 'none.db'}"}})
    context = await build_context(empty, clock=FakeClock(NOW), upgrade=False)
    try:
        with caplog.at_level(logging.ERROR, logger="bot.commands"):
            reply = await dispatch(context, request("today"))
    finally:
        await context.aclose()
    assert reply.message == GENERIC_FAILURE and reply.is_error and reply.ephemeral
    # the channel's language cannot be read either: the apology uses the default language
    assert reply.lang == "ja" and words(context, reply).startswith("申し訳ありません")
    assert "no such table" in caplog.text
    assert find("today") is not None


async def test_summary_of_an_unenriched_article_enriches_it_on_demand(ctx: AppContext) -> None:
    source = await add_source(ctx.db)
    article = await add_article(
        ctx.db,
        source,
        "Open weights model released",
        NOW - timedelta(hours=2),
        importance=None,
        content=(
            "A lab released an open-weights language model today. It scores well on reasoning "
            "benchmarks. The weights are available under a permissive licence. Developers can "
            "run it locally with common inference servers."
        ),
    )
    reply = await dispatch(ctx, request(f"summary {article}"))
    assert not reply.is_error
    assert reply.card is not None and reply.card.importance is not None
    assert reply.card.scores is not None and reply.card.tldr

"""The command table and handlers on both stores, through the platform-neutral `dispatch`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.commands import GENERIC_FAILURE, commands, dispatch, find, help_text, parse_text
from bot.config import Settings
from bot.context import AppContext, build_context
from bot.errors import CommandError
from bot.messages import CommandRequest
from tests.commands.seeding import add_article, add_source
from tests.fakes.store_seed import FakeClock

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


@pytest.fixture
async def ctx(make_settings: Callable[..., Settings]) -> AsyncIterator[AppContext]:
    context = await build_context(make_settings(), clock=FakeClock(NOW), upgrade=False)
    yield context
    await context.aclose()


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
        "subscriptions", "alerts", "settings", "search", "tags", "sources",
        "mute", "unmute", "why", "preview", "feedback", "help",
    ]  # fmt: skip
    assert {spec.name for spec in commands() if spec.slow} == {"summary", "translate"}
    assert all(f"`{spec.usage}`" in help_text() for spec in commands())


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
    reply = await dispatch(ctx, request("subscribe llm agents"))
    assert reply.text == "This channel now follows: agents, llm." and not reply.is_error
    reply = await dispatch(ctx, request("settings lang en tz Europe/Paris time 7:05"))
    assert "Time zone: Europe/Paris" in reply.lines and "Daily digest at: 07:05" in reply.lines
    reply = await dispatch(ctx, request("unsubscribe llm agents"))
    assert "gets every story" in reply.text
    reply = await dispatch(ctx, request("subscriptions"))
    assert reply.ephemeral and "Tags: none (every story)" in reply.lines


async def test_discord_channel_changes_need_a_manager(ctx: AppContext) -> None:
    denied = await dispatch(ctx, request("alerts off", platform="discord"))
    assert denied.is_error and "Only channel managers" in denied.text
    allowed = await dispatch(ctx, request("alerts off", platform="discord", can_manage=True))
    assert allowed.text == "Alerts are off for this channel."


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
    assert reply.lines == ("llm (2)", "gpu (1)")
    reply = await dispatch(ctx, request("sources"))
    assert reply.lines[0] == "Dead: disabled after 8 errors: HTTP 404"
    assert reply.lines[1] == "Wire: ok"


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
    assert reply.text == GENERIC_FAILURE and reply.is_error and reply.ephemeral
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

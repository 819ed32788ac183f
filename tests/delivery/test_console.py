"""The console notifier prints what a channel would get, as inert plain text."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime

from pydantic import SecretStr

from adapters.console import ConsoleNotifier, render_digest_text
from bot.alerts import alert_payload
from bot.channels import CONSOLE_DESTINATION, active_channels, ensure_console_channel, find_channel
from bot.config import Secrets, Settings
from bot.digests import digest_payload
from bot.store.db import Database
from digest.models import Digest, DigestItem, DimensionScore, Scores
from digest.serialize import item_to_dict

SCORES = Scores(*(DimensionScore(s, "why") for s in (5, 4, 3, 3)))


def item(**fields: object) -> DigestItem:
    base: dict[str, object] = {
        "story_id": 1,
        "article_id": 2,
        "title": "Open model\x1b[31m released\nnow",
        "url": "https://example.com/a",
        "sources": ("Wire", "Lab"),
        "importance": 4,
        "scores": SCORES,
        "tldr": "What changed.",
        "tags": ("llm",),
        "alerted": True,
        "published_at": datetime(2026, 11, 28, tzinfo=UTC),
    }
    base.update(fields)
    return DigestItem(**base)  # type: ignore[arg-type]


async def test_console_prints_digests_and_alerts() -> None:
    stream = io.StringIO()
    notifier = ConsoleNotifier(stream)
    digest = Digest("daily", date(2026, 11, 27), "en", (item(),))
    sent = await notifier.send("local", "stdout", digest_payload(digest), "n1")
    assert notifier.platform == "console" and sent.platform_message_id.endswith("n1")
    await notifier.send("local", "stdout", alert_payload("en", item_to_dict(item())), "n2")
    text = stream.getvalue()
    assert "AI news — November 27, 2026 (1 story)" in text and "ALERT — important story" in text
    assert (
        "Wire, Lab · Importance 4 of 5 · Depth 5 · Relevance 4 · Practicality 3 · Innovation 3"
        " · alerted earlier"
    ) in text
    # control characters and line breaks from a feed cannot shape the terminal
    assert "\x1b" not in text and " 1. Open model [31m released now" in text


async def test_console_speaks_the_queued_language() -> None:
    """A channel reading Japanese (the default) gets Japanese labels."""
    stream = io.StringIO()
    notifier = ConsoleNotifier(stream, default_lang="ja")
    digest = Digest("daily", date(2026, 11, 27), "ja", (item(), item(story_id=2)))
    await notifier.send("local", "stdout", digest_payload(digest), "n1")
    await notifier.send("local", "stdout", alert_payload("ja", item_to_dict(item())), "n2")
    text = stream.getvalue()
    assert "AIニュース — 2026年11月27日 (2件)" in text and "アラート — 重要な記事" in text
    assert "Wire、Lab · 重要度 4/5 · 深さ 5 · 関連性 4 · 実用性 3 · 新規性 3 · アラート済み" in text


def test_empty_digest_says_so() -> None:
    text = render_digest_text(Digest("weekly", date(2026, 11, 29), "en", (), tag="agents"))
    assert "AI news this week — November 29, 2026 — #agents (0 stories)" in text
    assert "No stories yet." in text
    text = render_digest_text(Digest("weekly", date(2026, 11, 29), "ja", (), tag="agents"))
    assert "今週のAIニュース — 2026年11月29日 — #agents (0件)" in text
    assert "まだ記事はありません。" in text


async def test_console_destination_exists_only_without_platform_tokens(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    async with db.session() as session:
        channel = await ensure_console_channel(session, settings)
    assert channel is not None and (channel.platform, channel.workspace, channel.channel) == (
        "console", "local", "stdout",
    )  # fmt: skip
    with_token = settings.model_copy(
        update={"secrets": Secrets(slack_bot_token=SecretStr("xoxb-not-a-real-token"))}
    )
    async with db.session() as session:
        assert await ensure_console_channel(session, with_token) is None
    async with db.session() as session:
        paused = await find_channel(session, CONSOLE_DESTINATION)
        assert paused is not None and paused.status == "disabled"
        assert [c.id for c in await active_channels(session)] == []
    async with db.session() as session:
        again = await ensure_console_channel(session, settings)
    assert again is not None and again.id == channel.id and again.status == "active"
    off = make_settings(console={"enabled": False})
    async with db.session() as session:
        assert await ensure_console_channel(session, off) is None

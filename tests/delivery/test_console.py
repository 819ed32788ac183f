"""The console notifier prints what a channel would get, as inert plain text."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from adapters.console import ConsoleNotifier, render_digest_text
from bot.alerts import alert_payload
from bot.digests import digest_payload
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
    assert "Daily AI digest — 2026-11-27" in text and "ALERT" in text
    assert "Wire, Lab · importance 4/5 · D5 R4 P3 I3 · alerted" in text
    # control characters and line breaks from a feed cannot shape the terminal
    assert "\x1b" not in text and " 1. Open model [31m released now" in text


def test_empty_digest_says_so() -> None:
    text = render_digest_text(Digest("weekly", date(2026, 11, 29), "en", (), tag="agents"))
    assert "Weekly AI digest — 2026-11-29 — #agents" in text and "No stories" in text

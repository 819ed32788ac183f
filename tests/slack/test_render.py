"""Block Kit rendering: limits held for huge inputs, hostile web text rendered inert."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import feedparser
import pytest

from adapters.slack_render import (
    escape,
    render_alert_payloads,
    render_card_payloads,
    render_digest_payloads,
    render_reply,
    render_translation_payloads,
    split_text,
)
from bot.config import Settings
from bot.messages import Reply
from digest.models import ArticleCard, Digest, DigestItem, DimensionScore, Scores, TranslationView
from tests.commands.seeding import HOSTILE_TITLE
from tests.fakes.slack_api import message_error, parsed_text, text_objects

SETTINGS = Settings.model_validate({"web": {"base_url": "https://ainews.example.org"}})
WHEN = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
SCORES = Scores(
    DimensionScore(5, "deep <b>"),
    DimensionScore(4, "relevant"),
    DimensionScore(3, "practical"),
    DimensionScore(3, "new"),
)
MENTION_MARKUP = ("<!channel>", "<!here>", "<!everyone>", "<@U1>", "<@&1>", "<http://x|y>")


def item(rank: int, title: str = "A model", tldr: str = "Short.", **extra: object) -> DigestItem:
    fields: dict[str, object] = {
        "story_id": rank,
        "article_id": rank,
        "title": title,
        "url": f"https://news.example.com/{rank}?a=1&b=2",
        "sources": ("Wire", "Blog"),
        "importance": 4,
        "scores": SCORES,
        "tldr": tldr,
        "tags": ("llm", "agents"),
        "alerted": False,
        "published_at": WHEN,
    }
    fields.update(extra)
    return DigestItem(**fields)  # type: ignore[arg-type]


def assert_accepted(payloads: list[dict[str, object]]) -> None:
    assert payloads
    for payload in payloads:
        assert message_error(payload) is None, json.dumps(payload)[:500]


def all_text(payloads: list[dict[str, object]]) -> str:
    return "\n".join(
        str(p.get("text", "")) + "\n" + "\n".join(text_objects(p.get("blocks"))) for p in payloads
    )


def test_digest_scores_tldr_tags_and_permalink() -> None:
    digest = Digest("daily", date(2026, 11, 28), "en", (item(1), item(2, "Second")))
    payloads = render_digest_payloads(digest, SETTINGS)
    assert_accepted(payloads)
    assert len(payloads) == 1
    text = all_text(payloads)
    assert "<https://news.example.com/1?a=1&amp;b=2|A model>" in text
    assert "★★★★☆ Importance 4 of 5 · Depth 5 · Relevance 4 · Practicality 3 · Innovation 3" in text
    assert "Wire, Blog" in text
    assert "#llm #agents" in text
    assert "<https://ainews.example.org/a/1|details>" in text
    assert payloads[0]["blocks"][0]["type"] == "header"  # type: ignore[index]
    assert payloads[0]["unfurl_links"] is False


def test_huge_digest_is_split_within_every_limit() -> None:
    long_tldr = "This sentence is long enough to matter. " * 200  # ~8k chars each
    items = tuple(item(i, f"Story {i} " + "x" * 300, long_tldr) for i in range(1, 1047))
    payloads = render_digest_payloads(Digest("weekly", date(2026, 11, 28), "en", items), SETTINGS)
    assert_accepted(payloads)
    assert len(payloads) > 20
    shown = sum(1 for p in payloads for b in p["blocks"] if b["type"] == "section")  # type: ignore[union-attr, index]
    assert shown >= 1046  # every story is there, none dropped


@pytest.mark.parametrize("title", [HOSTILE_TITLE, "<script>alert(1)</script>", "a\u202eb\x00c\x1b"])
def test_hostile_titles_render_inert(title: str) -> None:
    digest = Digest("daily", date(2026, 11, 28), "en", (item(1, title, tldr=title),))
    payloads = render_digest_payloads(digest, SETTINGS) + render_alert_payloads(
        item(1, title, tldr=title), SETTINGS
    )
    assert_accepted(payloads)
    text = parsed_text(*payloads)
    for markup in MENTION_MARKUP:
        assert markup not in text
    assert "<script" not in text
    assert "\u202e" not in all_text(payloads) and "\x00" not in text and "\x1b" not in text
    assert "@\u200beveryone" in text or "everyone" not in title


def test_crazy_fixture_title_renders_inert(fixtures_dir: Path) -> None:
    raw = (fixtures_dir / "feeds/malformed/entry_title_crazy.xml").read_bytes()
    title = feedparser.parse(raw).entries[0].title
    assert "<script>" in title  # the fixture really is hostile
    payloads = render_digest_payloads(
        Digest("daily", date(2026, 11, 28), "en", (item(1, title, tldr=title),)), SETTINGS
    )
    assert_accepted(payloads)
    text = parsed_text(*payloads)
    assert "<script" not in text and "<!--" not in text
    assert "&lt;script&gt;" in text


def test_escape_only_touches_control_characters() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape("日本語のタイトル") == "日本語のタイトル"
    assert "<" not in escape("<!channel>")


def test_split_text_cuts_at_sentences() -> None:
    text = "First sentence here. Second one! Third? 日本語の文です。次の文。"
    pieces = split_text(text, 25)
    assert all(len(p) <= 25 for p in pieces)
    assert pieces[0] == "First sentence here."
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_long_translation_becomes_several_messages_at_sentence_boundaries() -> None:
    body = " ".join(f"Sentence number {i} of the translated article." for i in range(2000))
    view = TranslationView("ja", "partial", "訳題", body, chunks_total=10, chunks_done=7)
    payloads = render_translation_payloads(view, "Title", "https://x.example/a", SETTINGS, "en")
    assert_accepted(payloads)
    assert len(payloads) >= 8
    assert "Translation (Japanese): Partial translation: 7 of 10 parts" in all_text(payloads[:1])
    japanese = render_translation_payloads(view, "Title", "https://x.example/a", SETTINGS, "ja")
    assert_accepted(japanese)
    assert "翻訳（日本語）: 部分翻訳: 10件中7件" in all_text(japanese[:1])
    assert "続き（2/" in all_text(japanese[1:2])
    sections = [b["text"]["text"] for p in payloads for b in p["blocks"] if b["type"] == "section"]  # type: ignore[index, union-attr]
    assert all(s.endswith(".") for s in sections)


def test_card_and_plain_replies_fit() -> None:
    card = ArticleCard(
        article_id=7,
        story_id=1,
        title=HOSTILE_TITLE,
        url="javascript:alert(1)",
        source="Wire",
        published_at=WHEN,
        lang="en",
        reading_minutes=4,
        tldr="Long. " * 3000,
        key_points=tuple(f"point {i} <!here>" for i in range(200)),
        tags=("llm",),
        scores=SCORES,
        importance=4,
        related=((8, "Other <@U1>"),),
    )
    payloads = render_card_payloads(card, SETTINGS)
    assert_accepted(payloads)
    text = parsed_text(*payloads)
    assert "javascript:" not in text
    for markup in MENTION_MARKUP:
        assert markup not in text
    replies = [
        Reply(message="x" * 20_000),
        Reply(message="oops <!channel>", is_error=True),
        Reply(message="lines", lines=tuple(f"line {i}" for i in range(3000))),
    ]
    for reply in replies:
        for lang in ("en", "ja"):
            assert_accepted(render_reply(replace(reply, lang=lang), SETTINGS))
    for lang in ("en", "ja"):
        assert_accepted(render_card_payloads(card, SETTINGS, lang))


def test_bad_web_base_url_leaves_plain_labels() -> None:
    settings = Settings.model_validate({"web": {"base_url": "ainews.example.org"}})
    card = ArticleCard(
        article_id=7, story_id=1, title="T", url="https://x.example/a", source="Wire",
        published_at=WHEN, lang="en", reading_minutes=1, tldr="", key_points=(), tags=(),
        scores=None, importance=None,
    )  # fmt: skip
    digest = Digest("daily", date(2026, 11, 28), "en", (item(1),))
    payloads = render_digest_payloads(digest, settings) + render_card_payloads(card, settings)
    assert_accepted(payloads)
    text = parsed_text(*payloads)
    assert "None" not in text and "details" in text


def test_long_score_reason_is_cut_before_escaping() -> None:
    reason = "a&" * 300  # no space to cut at, and escaping makes it longer than the cut
    scores = Scores(*(DimensionScore(3, reason) for _ in range(4)))
    card = ArticleCard(
        article_id=7, story_id=1, title="T", url="https://x.example/a", source="Wire",
        published_at=WHEN, lang="en", reading_minutes=1, tldr="", key_points=(), tags=(),
        scores=scores, importance=3,
    )  # fmt: skip
    text = parsed_text(*render_card_payloads(card, SETTINGS))
    assert "a&amp;a" in text
    assert not re.search(r"&(?!amp;|lt;|gt;)", text)  # no entity cut in half

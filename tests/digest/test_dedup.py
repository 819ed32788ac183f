"""Canonical URLs, identity keys and story matching (pure, table-driven)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from digest.dedup import (
    StoryIndex,
    StoryKey,
    canonical_url,
    identity_key,
    match_story,
    similarity,
    title_tokens,
)

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://Example.COM/a?utm_source=x&utm_medium=y#frag", "https://example.com/a"),
        ("https://example.com/a?id=3&fbclid=abc&gclid=1", "https://example.com/a?id=3"),
        ("https://example.com/a?ref=hn&page=2", "https://example.com/a?page=2"),
        ("https://example.com/a?source=rss", "https://example.com/a"),
        ("https://example.com/a?source=docs", "https://example.com/a?source=docs"),
        ("http://example.com:80/x", "http://example.com/x"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com", "https://example.com/"),
        ("", ""),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


def test_identity_prefers_guid_then_link_then_text() -> None:
    by_guid = identity_key("g1", "https://a/1", "T", "C")
    assert by_guid == identity_key("g1", "https://a/2", "Other", "X")
    by_link = identity_key("", "https://a/1", "T", "C")
    assert by_link == identity_key("", "https://a/1", "T2", "C2")
    assert by_link != by_guid
    by_text = identity_key("", "", "T", "C")
    assert by_text == identity_key("", "", "T", "C")
    assert by_text != identity_key("", "", "T", "D")
    assert len(by_text) == 64


def test_title_tokens_handle_cjk_with_bigrams() -> None:
    tokens = title_tokens("生成AIの新モデル")
    assert "生成" in tokens and "モデ" in tokens
    assert similarity(tokens, title_tokens("生成AIの新モデル発表")) > 0.6


def _key(story_id: int, title: str, url: str = "", days: int = 0) -> StoryKey:
    return StoryKey(story_id, url, title, "", NOW - timedelta(days=days))


@pytest.mark.parametrize(
    ("title", "url", "expected"),
    [
        ("OpenAI releases GPT-5 with better reasoning", "", 1),
        ("OpenAI releases GPT-5, with better reasoning!", "", 1),
        ("Completely different news about chips", "", None),
        ("anything", "https://x.test/same", 2),
        ("GPT", "", None),  # too short to match on title alone
    ],
)
def test_match_story(title: str, url: str, expected: int | None) -> None:
    candidates = [
        _key(1, "OpenAI releases GPT-5 with better reasoning"),
        _key(2, "Another story", url="https://x.test/same"),
        _key(3, "Nvidia announces new chips for data centers", days=10),
    ]
    found = match_story(
        canonical=url, title=title, content="", published_at=NOW, candidates=candidates
    )
    assert found == expected


def test_match_story_respects_window() -> None:
    old = [_key(3, "Nvidia announces new chips for data centers", days=10)]
    assert (
        match_story(
            canonical="",
            title="Nvidia announces new chips for data centers",
            content="",
            published_at=NOW,
            candidates=old,
        )
        is None
    )


def test_story_index_finds_and_renames() -> None:
    index = StoryIndex()
    index.add(_key(-1, "Anthropic publishes a new interpretability paper", url="https://a.test/p"))
    index.rename({-1: 42})
    assert index.find(canonical="https://a.test/p", title="x", content="", published_at=NOW) == 42
    assert (
        index.find(
            canonical="",
            title="Anthropic publishes new interpretability paper",
            content="",
            published_at=NOW,
        )
        == 42
    )
    assert index.find(canonical="", title="Unrelated", content="", published_at=NOW) is None


def test_temporary_story_ids_are_never_reused() -> None:
    index = StoryIndex()
    first = index.new_story_id()
    index.add(_key(first, "Slack insider sells 1500 shares in one day"))
    index.rename({first: 7})
    second = index.new_story_id()
    assert second != first
    index.add(_key(second, "Where is my parcel stuck in transit today"))
    found = index.find(
        canonical="", title="Where is my parcel stuck in transit today", published_at=NOW
    )
    assert found == second  # not renamed to feed A's story 7


def test_different_figures_are_different_events() -> None:
    index = StoryIndex()
    index.add(_key(1, "Slack (NASDAQ:WORK) Insider Sells 1500 Shares"))
    assert (
        index.find(
            canonical="", title="Slack (NASDAQ:WORK) Insider Sells 99342 Shares", published_at=NOW
        )
        is None
    )


def test_repositories_join_only_by_url() -> None:
    index = StoryIndex()
    index.add(
        StoryKey(
            1,
            "https://github.com/a/claude-code",
            "anthropics / claude-code",
            "",
            NOW,
            ("anthropic", "claude"),
        )
    )
    assert (
        index.find(
            canonical="",
            title="anthropics / claude-quickstarts",
            published_at=NOW,
            entities=("anthropic", "claude"),
        )
        is None
    )
    assert (
        index.find(
            canonical="https://github.com/a/claude-code",
            title="anthropics / claude-code",
            published_at=NOW,
        )
        == 1
    )


def test_cross_language_join_needs_entity_and_figure() -> None:
    index = StoryIndex()
    index.add(
        StoryKey(
            1, "", "Google releases Gemma 4 with 27B open weights", "", NOW, ("google", "gemma")
        )
    )
    assert (
        index.find(
            canonical="",
            title="グーグル、オープンモデル「Gemma 4」を公開",
            published_at=NOW,
            entities=("google", "gemma"),
        )
        == 1
    )
    assert (
        index.find(
            canonical="",
            title="グーグル、新しいスマホを発表",
            published_at=NOW,
            entities=("google",),
        )
        is None
    )

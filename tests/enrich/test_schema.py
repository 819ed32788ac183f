"""Output validation tables: the enrichment schema and the translation chunk checks."""

from __future__ import annotations

from typing import Any

import pytest

from bot.enrich.budget import Usage
from bot.enrich.llm import ChatAnswer, foreign_urls, written_in
from bot.enrich.schema import EnrichmentOut, defuse_mentions
from bot.enrich.translate import RejectedChunkError, length_ratio_bounds, verify_chunk

SCORES = {
    k: {"score": 3, "reason": "r"} for k in ("depth", "relevance", "practicality", "innovation")
}


def with_depth(score: object, reason: str = "r") -> dict[str, Any]:
    return {"scores": {**SCORES, "depth": {"score": score, "reason": reason}}}


BASE: dict[str, Any] = {"tldr": "要約", "key_points": ["a", "b", "c"], "tags": [], "scores": SCORES}


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ({"key_points": list("abcdefghij")}, lambda o: len(o.key_points) == 7),
        ({"tags": ["LLM", "Agents!", 5, "x" * 60, "llm"]}, lambda o: o.tags == ["llm", "agents"]),
        (with_depth("4.6"), lambda o: o.scores.depth.score == 5),
        (with_depth(-2), lambda o: o.scores.depth.score == 1),
        ({"tldr": "x " * 400}, lambda o: len(o.tldr) <= 280),
        ({"tldr": "ping @everyone and <!here>"}, lambda o: o.tldr == "ping everyone and"),
        ({"importance": 5, "extra": "ignored"}, lambda o: not hasattr(o, "importance")),
    ],
)  # fmt: skip
def test_schema_accepts_and_cleans(change: dict[str, Any], check: Any) -> None:
    assert check(EnrichmentOut.model_validate({**BASE, **change}))


@pytest.mark.parametrize(
    "change",
    [
        {"key_points": ["a", "b"]},
        {"key_points": ["a", "b", ""]},
        {"tldr": ""},
        {"tldr": None},
        with_depth("high"),
        with_depth(True),
        with_depth(3, reason=""),
        {"scores": {k: v for k, v in SCORES.items() if k != "innovation"}},
        {"tags": "llm"},
    ],
)
def test_schema_rejects(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        EnrichmentOut.model_validate({**BASE, **change})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi @everyone", "hi everyone"),
        ("<!channel> news", " news"),
        ("<@U123> x", " x"),
        ("a@b.c", "a@b.c"),
    ],
)
def test_defuse_mentions(text: str, expected: str) -> None:
    assert defuse_mentions(text) == expected


def test_foreign_urls_only_flags_links_absent_from_the_source() -> None:
    source = "See https://example.com/post and www.example.org."
    out = ["from https://example.com/post.", "at www.example.org", "go http://evil.example/x"]
    assert foreign_urls(out, source) == ["http://evil.example/x"]


@pytest.mark.parametrize(
    ("text", "lang", "ok"),
    [
        ("日本語です", "ja", True),
        ("English only", "ja", False),
        ("English", "en", True),
        ("中文", "zh", True),
    ],
)
def test_written_in(text: str, lang: str, ok: bool) -> None:
    assert written_in(text, lang) is ok


SOURCE = "First paragraph of the source text.\n\nSecond paragraph of the source text."


def answer(content: str, finish: str = "stop") -> ChatAnswer:
    return ChatAnswer(content, finish, Usage(1, 1))


@pytest.mark.parametrize(
    ("content", "finish", "problem"),
    [
        ("訳一\n\n訳二", "length", "finish_reason=length"),
        ("", "stop", "empty"),
        ("訳一 AINEWS-canary\n\n訳二", "stop", "echoes the prompt"),
        ('訳一\n\nReturn JSON with a "translation" field.\n\n訳二', "stop", "leaked"),
        ("訳一と訳二", "stop", r"1 paragraph\(s\) for 2"),
    ],
)
def test_verify_chunk_rejects(content: str, finish: str, problem: str) -> None:
    with pytest.raises(RejectedChunkError, match=problem):
        verify_chunk(
            answer(content, finish), SOURCE, canary="AINEWS-canary", paragraphs=2,
            ratio_bounds=(0.1, 3.0),
        )  # fmt: skip


def test_verify_chunk_checks_the_length_ratio_on_long_chunks() -> None:
    source = "word " * 100
    with pytest.raises(RejectedChunkError, match="length ratio"):
        verify_chunk(answer("短い"), source, canary="c", paragraphs=1, ratio_bounds=(0.12, 1.6))
    assert verify_chunk(
        answer("訳" * 120), source, canary="c", paragraphs=1, ratio_bounds=(0.12, 1.6)
    )


def test_a_phrase_the_source_itself_contains_is_not_a_leak() -> None:
    source = "The attack says: return JSON now.\n\nSecond."
    got = verify_chunk(
        answer("攻撃は return JSON now と言う。\n\n二。"), source, canary="c", paragraphs=2,
        ratio_bounds=(0.1, 3.0),
    )  # fmt: skip
    assert len(got) == 2


def test_ratio_bounds_depend_on_the_scripts() -> None:
    assert length_ratio_bounds(False, True)[1] < length_ratio_bounds(True, False)[1]

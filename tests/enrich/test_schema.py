"""Output validation tables: the enrichment schema and the translation chunk checks."""

from __future__ import annotations

from typing import Any

import pytest

from bot.enrich.llm import foreign_urls
from bot.enrich.schema import ENRICHMENT_JSON_SCHEMA, EnrichmentOut, defuse_mentions

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
        (
            {"key_points": [{"heading": "資金", "detail": "10億ドルを調達した。"}, "b", "c"]},
            lambda o: o.point_texts() == ["資金: 10億ドルを調達した。", "b", "c"],
        ),
        ({"kind": " Research "}, lambda o: o.kind == "research"),
        (
            {"entities": {"companies": ["OpenAI"], "models": ["GPT-5"], "tools": ["Hugging Face"]}},
            lambda o: o.entities.slugs() == ("openai", "gpt-5", "hugging-face"),
        ),
        ({"entities": ["Anthropic", 3]}, lambda o: o.entities.slugs() == ("anthropic",)),
        ({"is_ai": False}, lambda o: o.is_ai is False),
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
        {"kind": "gossip"},
        {"key_points": [{"heading": "h", "detail": ""}, "b", "c"]},
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


def test_the_json_schema_is_strict_everywhere() -> None:
    """OpenAI strict mode: every object lists all its properties as required, none extra."""

    def objects(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, dict):
            found = [node] if node.get("type") == "object" else []
            return found + [o for value in node.values() for o in objects(value)]
        if isinstance(node, list):
            return [o for value in node for o in objects(value)]
        return []

    found = objects(ENRICHMENT_JSON_SCHEMA)
    assert len(found) >= 8
    for node in found:
        assert node["additionalProperties"] is False
        assert set(node["required"]) == set(node["properties"])

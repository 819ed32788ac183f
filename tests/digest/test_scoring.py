"""The rubric: importance arithmetic and the offline heuristics' scores and reasons."""

from __future__ import annotations

from typing import Any

import pytest

from digest.editorial import read_item
from digest.models import DimensionScore, Scores
from digest.scoring import (
    Context,
    clamp_score,
    importance,
    rubric,
)

DEFAULT = {"depth": 0.4, "relevance": 0.3, "practicality": 0.2, "innovation": 0.1}


def scores(d: int, r: int, p: int, i: int) -> Scores:
    return Scores(
        DimensionScore(d, ""), DimensionScore(r, ""), DimensionScore(p, ""), DimensionScore(i, "")
    )


@pytest.mark.parametrize(
    ("values", "weights", "expected"),
    [
        ((5, 4, 3, 3), DEFAULT, 4),  # 4.1 → 4, the README example
        ((1, 1, 1, 1), DEFAULT, 1),
        ((5, 5, 5, 5), DEFAULT, 5),
        ((4, 3, 4, 3), {"depth": 1, "relevance": 1, "practicality": 1, "innovation": 1}, 4),  # 3.5↑
        ((3, 2, 3, 2), {"depth": 1, "relevance": 1, "practicality": 1, "innovation": 1}, 3),  # 2.5↑
        ((5, 1, 1, 1), {"depth": 1, "relevance": 0, "practicality": 0, "innovation": 0}, 5),
        ((2, 3, 4, 5), {"depth": 2, "relevance": 1.5, "practicality": 1, "innovation": 0.5}, 3),
        ((3, 4, 2, 2), DEFAULT, 3),  # 3.0 exactly
        ((2, 2, 3, 5), DEFAULT, 3),  # 2.5 (float 2.4999…) still rounds up
    ],
)
def test_importance(values: tuple[int, int, int, int], weights: Any, expected: int) -> None:
    assert importance(scores(*values), weights) == expected


def test_importance_refuses_all_zero_weights() -> None:
    with pytest.raises(ValueError):
        importance(scores(3, 3, 3, 3), dict.fromkeys(DEFAULT, 0.0))


@pytest.mark.parametrize(
    ("value", "expected"), [(-3, 1), (0, 1), (1.49, 1), (2.5, 3), (4.5, 5), (9, 5), (3, 3)]
)
def test_clamp_score(value: float, expected: int) -> None:
    assert clamp_score(value) == expected


def test_non_ai_items_are_capped() -> None:
    """A non-AI item cannot exceed the cap, whatever its four scores (EDITORIAL.md: 1)."""
    assert importance(scores(5, 5, 5, 5), DEFAULT, is_ai=False, non_ai_max=1) == 1
    assert importance(scores(5, 5, 5, 5), DEFAULT, is_ai=False, non_ai_max=2) == 2
    assert importance(scores(5, 5, 5, 5), DEFAULT, is_ai=True, non_ai_max=1) == 5


def rate(title: str, content: str = "", **context: Any) -> tuple[Scores, int, Any]:
    evidence = read_item(title, content, teaser=len(content) < 300)
    rubric_scores = rubric(evidence, Context(**context))
    level = importance(rubric_scores, DEFAULT, is_ai=evidence.is_ai, non_ai_max=1)
    return rubric_scores, level, evidence


BASE_TITLE = "Notes on evaluating language models"
BASE_TEXT = (
    "We looked at how large language models are evaluated today. Benchmarks saturate quickly "
    "and leak into training data. Here we describe what we learned from running evals."
)


@pytest.mark.parametrize(
    "title",
    [
        "OpenAI releases GPT-5.5 with open weights",
        "Anthropic files for IPO",
        "Google DeepMind launches Gemini 3 Pro",
        "DeepSeek releases DeepSeek-V4",
    ],
)
def test_adding_a_major_entity_release_never_lowers_importance(title: str) -> None:
    _, plain, _ = rate(BASE_TITLE, BASE_TEXT)
    _, with_event, evidence = rate(title, BASE_TEXT)
    assert evidence.is_ai and evidence.event is not None
    assert with_event >= plain
    assert with_event >= 4


def test_two_line_frontier_announcement_is_not_shallow() -> None:
    """Judge news value, not length (EDITORIAL.md): a short frontier release is alert-worthy."""
    result, level, evidence = rate(
        "Anthropic releases Claude Opus 5", "Claude Opus 5 is available today in the API."
    )
    assert evidence.teaser
    assert level >= 4
    assert "Anthropic" in result.depth.reason or "Claude" in result.depth.reason
    assert result.depth.score > 1


@pytest.mark.parametrize(
    ("title", "content"),
    [
        ("Hugo v0.101.0 released", "This release adds new template functions and fixes bugs. " * 5),
        ("FC Utrecht wint van Feyenoord", "De wedstrijd eindigde in 2-1. " * 5),
        ("Hadoop connector 2.0 released with faster reads", "The connector now supports S3. " * 6),
        (
            "Apple launches the new iPhone",
            "Apple's new phone has a bigger screen and battery. " * 5,
        ),
    ],
)
def test_non_ai_item_stays_low_even_with_a_release(title: str, content: str) -> None:
    result, level, evidence = rate(title, content)
    assert not evidence.is_ai
    assert level == 1
    assert result.relevance.score == 1
    assert result.relevance.reason.startswith("not AI news")


def test_reasons_name_their_evidence() -> None:
    result, _, _ = rate(
        "Anthropic raises $13 billion in Series F funding",
        "Anthropic said on Tuesday it raised $13 billion at a $183 billion valuation. "
        "The AI company behind Claude will use the money for compute and research. " * 3,
    )
    assert "Anthropic" in result.relevance.reason
    assert "funding" in result.practicality.reason or "funding" in result.innovation.reason
    for dimension in (result.depth, result.relevance, result.practicality, result.innovation):
        assert "words" not in dimension.reason or "teaser" in dimension.reason


def test_teaser_depth_is_unknown_not_one() -> None:
    result, _, _ = rate("A new agent framework for LLM tool use", "Short teaser about agents.")
    assert result.depth.score >= 2
    assert "teaser" in result.depth.reason and "not judged" in result.depth.reason


def test_market_entry_of_an_ai_company_ranks_high_for_japan() -> None:
    """The seed's complaint: "Chinese AI Kimi may enter Japan" scored 1/1/1/1."""
    result, level, evidence = rate(
        "Chinese AI Kimi may enter Japan",
        "Moonshot AI, the maker of the Kimi chatbot, is preparing to enter the Japanese market.",
    )
    assert evidence.is_ai
    assert "kimi" in evidence.entity_slugs
    assert evidence.event == "market_entry"
    assert level >= 3
    assert result.relevance.score >= 4

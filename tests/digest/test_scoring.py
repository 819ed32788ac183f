"""The rubric: importance arithmetic and the offline heuristics' scores and reasons."""

from __future__ import annotations

from typing import Any

import pytest

from digest.models import DimensionScore, Scores
from digest.scoring import (
    clamp_score,
    depth_score,
    importance,
    innovation_score,
    practicality_score,
    relevance_score,
    text_signals,
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


def signals(title: str = "", content: str = "", **kw: Any) -> Any:
    base: dict[str, Any] = {"tags": [], "interests": ["llm", "agents"], "cjk": False}
    return text_signals(title, content, **{**base, **kw})


@pytest.mark.parametrize(
    ("content", "score", "fragment"),
    [
        ("short teaser", 1, "~2 words"),
        ("word " * 300, 3, "~300 words"),
        ("word " * 1200, 5, "~1200 words"),
        ("word " * 300 + " 1 2 3 4 5 6", 4, "+1 for figures/structure"),
    ],
)
def test_depth(content: str, score: int, fragment: str) -> None:
    result = depth_score(signals(content=content))
    assert (result.score, fragment in result.reason) == (score, True)


def test_depth_speaks_characters_for_japanese() -> None:
    result = depth_score(signals(content="日本語" * 100, cjk=True))
    assert "characters" in result.reason


@pytest.mark.parametrize(
    ("kw", "score", "fragment"),
    [
        ({"tags": []}, 1, "no configured interest"),
        ({"tags": ["hardware"]}, 2, "none of the configured interests"),
        ({"tags": ["llm"]}, 3, "'llm'"),
        ({"tags": ["llm", "agents"]}, 4, "'agents'"),
        ({"tags": ["llm"], "source_count": 3}, 4, "covered by 3 sources (+1)"),
        ({"tags": ["llm"], "source_count": 5}, 5, "covered by 5 sources (+2)"),
        ({"tags": [], "source_count": 2, "points": 500}, 3, "500 Hacker News points (+1)"),
    ],
)
def test_relevance(kw: dict[str, Any], score: int, fragment: str) -> None:
    result = relevance_score(signals(**kw))
    assert result.score == score
    assert fragment in result.reason


def test_relevance_matches_interests_named_in_the_text() -> None:
    result = relevance_score(signals(content="A new LLM", tags=[]))
    assert result.score == 3


@pytest.mark.parametrize(
    ("content", "score"),
    [
        ("An opinion piece about the future.", 1),
        ("A tutorial.", 2),
        ("A step-by-step tutorial: pip install it, released today.", 5),
    ],
)
def test_practicality(content: str, score: int) -> None:
    assert practicality_score(signals(content=content)).score == score


@pytest.mark.parametrize(
    ("content", "score", "fragment"),
    [
        ("Nothing special here.", 1, "no novelty claims"),
        ("A new model.", 2, "'new'"),
        ("The first new model beats the state-of-the-art on a benchmark.", 5, "'first'"),
        ("世界初の新しいモデルを発表した。", 5, "'発表'"),
    ],
)
def test_innovation(content: str, score: int, fragment: str) -> None:
    result = innovation_score(signals(content=content))
    assert result.score == score
    assert fragment in result.reason

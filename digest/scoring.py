"""The rubric: four 1–5 scores with reasons, and importance as their weighted mean.

Both engines end here: the LLM's scores are clamped and weighted the same way, and the offline
engine derives its scores from text signals a reader can check against the article.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from digest.models import RUBRIC_DIMENSIONS, DimensionScore, Scores
from digest.text import count_numbers, phrases, split_paragraphs, word_count

MIN_SCORE = 1
MAX_SCORE = 5

_CODE_SIGNALS = (
    "```", "pip install", "npm install", "git clone", "import", "def", "github.com", "api",
    "sdk", "cli", "docker", "コード", "実装", "サンプル",
)  # fmt: skip
_HOWTO_SIGNALS = (
    "how to", "how-to", "tutorial", "guide", "step-by-step", "step 1", "walkthrough", "example",
    "hands-on", "tips", "使い方", "手順", "入門", "解説", "試してみた", "やってみた", "方法",
)  # fmt: skip
_RELEASE_SIGNALS = (
    "release", "released", "launch", "launches", "now available", "available today",
    "open-source", "open source", "open-sourced", "download", "pricing", "beta", "changelog",
    "リリース", "公開", "提供開始", "発売", "オープンソース", "無料",
)  # fmt: skip
_NOVELTY_SIGNALS = (
    "new", "first", "state-of-the-art", "sota", "benchmark", "breakthrough", "novel",
    "outperform", "outperforms", "record", "surpass", "introduces", "unveils", "world's first",
    "初", "新た", "新し", "最先端", "世界初", "ベンチマーク", "上回", "発表",
)  # fmt: skip
_LIST_LINE = re.compile(r"^\s*(?:[-*•・]|\d+[.)])\s+", re.MULTILINE)


def clamp_score(value: float | Decimal) -> int:
    """Any number to an integer rubric score in 1–5 (half up)."""
    rounded = int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return max(MIN_SCORE, min(MAX_SCORE, rounded))


def importance(scores: Scores, weights: Mapping[str, float]) -> int:
    """Weighted mean of the four scores, rounded half up and clamped: 5/4/3/3 → 4.1 → 4."""
    total_weight = sum(weights.get(name, 0.0) for name in RUBRIC_DIMENSIONS)
    if total_weight <= 0:
        raise ValueError("rubric weights must not all be zero")
    values = scores.as_dict()
    weighted = sum(
        Decimal(str(weights.get(name, 0.0))) * int(values[name]["score"])
        for name in RUBRIC_DIMENSIONS
    )
    mean = weighted / Decimal(str(total_weight))
    return clamp_score(mean)


def _hits(lowered: str, counted: Counter[str], signals: Iterable[str]) -> list[str]:
    return [
        signal
        for signal in signals
        if (
            counted.get(signal, 0)
            if signal.isascii() and signal[0].isalnum()
            else signal in lowered
        )
    ]


@dataclass(frozen=True, slots=True)
class TextSignals:
    """What the heuristics look at, kept so that every reason can quote its evidence."""

    words: int
    paragraphs: int
    numbers: int
    list_items: int
    cjk: bool
    code: tuple[str, ...]
    howto: tuple[str, ...]
    release: tuple[str, ...]
    novelty: tuple[str, ...]
    interests: tuple[str, ...]
    tags: tuple[str, ...]
    source_count: int = 1
    points: int | None = None


def text_signals(
    title: str,
    content: str,
    *,
    tags: Sequence[str],
    interests: Sequence[str],
    cjk: bool,
    source_count: int = 1,
    points: int | None = None,
) -> TextSignals:
    """Measure an article once; the scores below only read this."""
    lowered = f"{title}\n{content}".lower()
    counted = phrases(lowered, 2)  # the longest signal phrases have two words
    wanted = {i.lower() for i in interests}
    matched = [t for t in tags if t in wanted]
    matched += [i for i in interests if i.lower() not in matched and i.lower() in lowered]
    return TextSignals(
        words=word_count(content) or word_count(title),
        paragraphs=len(split_paragraphs(content)),
        numbers=count_numbers(content),
        list_items=len(_LIST_LINE.findall(content)),
        cjk=cjk,
        code=tuple(_hits(lowered, counted, _CODE_SIGNALS)),
        howto=tuple(_hits(lowered, counted, _HOWTO_SIGNALS)),
        release=tuple(_hits(lowered, counted, _RELEASE_SIGNALS)),
        novelty=tuple(_hits(lowered, counted, _NOVELTY_SIGNALS)),
        interests=tuple(dict.fromkeys(matched)),
        tags=tuple(tags),
        source_count=max(1, source_count),
        points=points,
    )


def _quote(items: Sequence[str], limit: int = 3) -> str:
    return ", ".join(f"'{item}'" for item in items[:limit])


def depth_score(s: TextSignals) -> DimensionScore:
    """Length sets the base; figures and structure (paragraphs, lists) add one."""
    bands = ((80, 1), (200, 2), (450, 3), (1000, 4))
    base = next((score for limit, score in bands if s.words < limit), 5)
    structured = s.numbers >= 5 or s.paragraphs >= 6 or s.list_items >= 3
    score = clamp_score(base + (1 if structured and base < 5 else 0))
    size = f"~{s.words * 2} characters" if s.cjk else f"~{s.words} words"
    reason = f"{size} in {max(1, s.paragraphs)} paragraph(s) with {s.numbers} figure(s)"
    if structured and base < 5:
        reason += " (+1 for figures/structure)"
    return DimensionScore(score, reason)


def relevance_score(s: TextSignals) -> DimensionScore:
    """Matches with the configured interests; other AI tags count a little; wide coverage adds."""
    matched = len(s.interests)
    if matched:
        base = min(5, 2 + matched)
        reason = f"matches interests {_quote(s.interests)}"
    elif s.tags:
        base = 2
        reason = f"tags {_quote(s.tags)} but none of the configured interests"
    else:
        base = 1
        reason = "no configured interest or AI topic found"
    bonus = 0
    if s.source_count >= 4:
        bonus, coverage = 2, f"covered by {s.source_count} sources (+2)"
    elif s.source_count >= 2:
        bonus, coverage = 1, f"covered by {s.source_count} sources (+1)"
    else:
        coverage = ""
    if s.points is not None and s.points >= 200 and bonus < 2:
        bonus += 1
        coverage = f"{coverage}; " if coverage else ""
        coverage += f"{s.points} Hacker News points (+1)"
    if coverage:
        reason = f"{reason}; {coverage}"
    return DimensionScore(clamp_score(base + bonus), reason)


def practicality_score(s: TextSignals) -> DimensionScore:
    """Code, how-to and release signals: something a reader can try or use now."""
    evidence = [*s.code, *s.howto, *s.release]
    kinds = sum(1 for group in (s.code, s.howto, s.release) if group)
    score = clamp_score(1 + min(len(evidence), 3) * 0.75 + kinds * 0.5)
    if not evidence:
        return DimensionScore(score, "no code, how-to or release signals")
    return DimensionScore(score, f"code/how-to/release signals: {_quote(evidence, 4)}")


def innovation_score(s: TextSignals) -> DimensionScore:
    """Novelty words (new, first, state of the art, benchmark) — claims, not verified results."""
    count = len(s.novelty)
    score = clamp_score(1 + min(count, 4))
    if not count:
        return DimensionScore(score, "no novelty claims (new/first/state-of-the-art/benchmark)")
    return DimensionScore(score, f"novelty claims: {_quote(s.novelty, 4)}")


def heuristic_scores(s: TextSignals) -> Scores:
    return Scores(
        depth=depth_score(s),
        relevance=relevance_score(s),
        practicality=practicality_score(s),
        innovation=innovation_score(s),
    )

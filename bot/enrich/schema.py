"""The LLM's answer as a pydantic model: what we accept, clamped and cleaned before it is stored.

Anything the model writes is untrusted output (OWASP LLM05): scores are forced into 1–5, tags
into slugs, mentions are defused and lengths bounded, so a prompt-injected article can at worst
produce a schema-valid but silly summary.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from digest.scoring import clamp_score
from digest.text import (
    KEY_POINT_MAX_CHARS,
    MAX_KEY_POINTS,
    MIN_KEY_POINTS,
    TLDR_MAX_CHARS,
    truncate,
)

REASON_MAX_CHARS = 200
SHORT_FIELD_MAX_CHARS = 400
MAX_LLM_TAGS = 8
_MENTION = re.compile(r"<!(?:channel|here|everyone)[^>]*>|<@[!&]?[A-Za-z0-9]+>|@(everyone|here)\b")
_TAG_CHARS = re.compile(r"[^0-9a-z\u3040-\u30ff\u4e00-\u9fff+.#-]+")


def defuse_mentions(text: str) -> str:
    """`@everyone`, `<!channel>`, `<@U1>` become inert words; renderers escape again anyway."""
    return _MENTION.sub(lambda m: m.group(1) or "", text)


def _clean(limit: int) -> Any:
    def clean(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return truncate(defuse_mentions(" ".join(value.split())), limit)

    return BeforeValidator(clean)


def _score(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("score must be a number")
    try:
        number = float(value)
    except ValueError as exc:
        raise ValueError("score must be a number") from exc
    return clamp_score(number)


Score = Annotated[int, BeforeValidator(_score)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ScoreOut(_Strict):
    score: Score
    reason: Annotated[str, _clean(REASON_MAX_CHARS)] = Field(min_length=1)


class ScoresOut(_Strict):
    depth: ScoreOut
    relevance: ScoreOut
    practicality: ScoreOut
    innovation: ScoreOut


class EnrichmentOut(_Strict):
    """The JSON object the system prompt asks for; `importance` is ours, never the model's."""

    tldr: Annotated[str, _clean(TLDR_MAX_CHARS)] = Field(min_length=1)
    key_points: list[Annotated[str, _clean(KEY_POINT_MAX_CHARS)]] = Field(min_length=MIN_KEY_POINTS)
    tags: list[str] = Field(default_factory=list)
    scores: ScoresOut
    title_translated: Annotated[str, _clean(SHORT_FIELD_MAX_CHARS)] = ""
    impact: Annotated[str, _clean(SHORT_FIELD_MAX_CHARS)] = ""
    editorial: Annotated[str, _clean(SHORT_FIELD_MAX_CHARS)] = ""

    @field_validator("key_points")
    @classmethod
    def _at_most_seven(cls, points: list[str]) -> list[str]:
        kept = [p for p in points if p]
        if len(kept) < MIN_KEY_POINTS:
            raise ValueError(f"needs at least {MIN_KEY_POINTS} non-empty key points")
        return kept[:MAX_KEY_POINTS]

    @field_validator("tags", mode="before")
    @classmethod
    def _slugs(cls, value: Any) -> list[str]:
        if not isinstance(value, list):
            raise ValueError("tags must be a list of strings")
        slugs = []
        for tag in value:
            if isinstance(tag, str):
                slug = _TAG_CHARS.sub("-", tag.strip().lower()).strip("-")
                if slug and len(slug) <= 40:
                    slugs.append(slug)
        return list(dict.fromkeys(slugs))[:MAX_LLM_TAGS]

    def strings(self) -> list[str]:
        """Every free-text field, for the echo, link and language checks."""
        reasons = [getattr(self.scores, name).reason for name in ScoresOut.model_fields]
        return [
            self.tldr,
            *self.key_points,
            *reasons,
            self.title_translated,
            self.impact,
            self.editorial,
        ]


JSON_SHAPE = """{
  "tldr": "one or two sentences, at most 200 characters",
  "key_points": ["3 to 7 short points"],
  "tags": ["lowercase-topic-tags"],
  "scores": {
    "depth": {"score": 1-5, "reason": "one line"},
    "relevance": {"score": 1-5, "reason": "one line"},
    "practicality": {"score": 1-5, "reason": "one line"},
    "innovation": {"score": 1-5, "reason": "one line"}
  },
  "title_translated": "the title in the summary language",
  "impact": "who is affected and how, one sentence",
  "editorial": "a short editorial comment, one sentence"
}"""

"""The LLM's answer as a pydantic model: what we accept, clamped and cleaned before it is stored.

Anything the model writes is untrusted output (OWASP LLM05): scores are forced into 1–5, tags
into slugs, mentions are defused and lengths bounded, so a prompt-injected article can at worst
produce a schema-valid but silly summary.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from digest.models import ITEM_KINDS, ItemKind
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
LONG_FIELD_MAX_CHARS = 700
MAX_LLM_TAGS = 8
MAX_ENTITIES = 12
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


class KeyPointOut(_Strict):
    """One key point: a short heading and the detail behind it."""

    heading: Annotated[str, _clean(80)] = ""
    detail: Annotated[str, _clean(KEY_POINT_MAX_CHARS)] = Field(min_length=1)

    def as_text(self) -> str:
        """How a key point is stored (`key_points` stays a list of strings for every reader)."""
        return f"{self.heading}: {self.detail}" if self.heading else self.detail


def _key_point(value: Any) -> Any:
    """Servers without structured outputs sometimes send plain strings; they are details."""
    return {"heading": "", "detail": value} if isinstance(value, str) else value


class EntitiesOut(_Strict):
    companies: list[Annotated[str, _clean(80)]] = Field(default_factory=list)
    models: list[Annotated[str, _clean(80)]] = Field(default_factory=list)
    tools: list[Annotated[str, _clean(80)]] = Field(default_factory=list)

    def slugs(self) -> tuple[str, ...]:
        """Canonical lower-case slugs, as the offline engine's gazetteer writes them."""
        out = []
        for name in (*self.companies, *self.models, *self.tools):
            slug = _TAG_CHARS.sub("-", name.strip().lower()).strip("-")
            if slug and len(slug) <= 60:
                out.append(slug)
        return tuple(dict.fromkeys(out))[:MAX_ENTITIES]


class EnrichmentOut(_Strict):
    """The JSON object the system prompt asks for; `importance` is ours, never the model's."""

    title_translated: Annotated[str, _clean(SHORT_FIELD_MAX_CHARS)] = ""
    tldr: Annotated[str, _clean(TLDR_MAX_CHARS)] = Field(min_length=1)
    key_points: list[Annotated[KeyPointOut, BeforeValidator(_key_point)]] = Field(
        min_length=MIN_KEY_POINTS
    )
    impact: Annotated[str, _clean(LONG_FIELD_MAX_CHARS)] = ""
    editorial: Annotated[str, _clean(LONG_FIELD_MAX_CHARS)] = ""
    is_ai: bool = True
    kind: ItemKind = "other"
    entities: EntitiesOut = Field(default_factory=EntitiesOut)
    tags: list[str] = Field(default_factory=list)
    scores: ScoresOut

    @field_validator("key_points")
    @classmethod
    def _at_most_seven(cls, points: list[KeyPointOut]) -> list[KeyPointOut]:
        kept = [p for p in points if p.detail]
        if len(kept) < MIN_KEY_POINTS:
            raise ValueError(f"needs at least {MIN_KEY_POINTS} non-empty key points")
        return kept[:MAX_KEY_POINTS]

    @field_validator("kind", mode="before")
    @classmethod
    def _known_kind(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("entities", mode="before")
    @classmethod
    def _entities(cls, value: Any) -> Any:
        if isinstance(value, list):  # a flat list of names is accepted as companies/models/tools
            return {"companies": [v for v in value if isinstance(v, str)]}
        return value

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

    def point_texts(self) -> list[str]:
        return [point.as_text() for point in self.key_points]

    def fields(self) -> list[tuple[str, str]]:
        """Every free-text field with its name, for the language, echo and link checks."""
        reasons = [
            (f"reason.{name}", getattr(self.scores, name).reason) for name in ScoresOut.model_fields
        ]
        return [
            ("title_translated", self.title_translated),
            ("tldr", self.tldr),
            *(("key_point", text) for text in self.point_texts()),
            ("impact", self.impact),
            ("editorial", self.editorial),
            *reasons,
        ]

    def strings(self) -> list[str]:
        return [text for _, text in self.fields()]


class PartNotesOut(_Strict):
    """Notes on one part of a long article (the map step of map-reduce summarising)."""

    notes: list[Annotated[str, _clean(KEY_POINT_MAX_CHARS)]] = Field(min_length=1)


def _strict_object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }


_TEXT: dict[str, Any] = {"type": "string"}
_TEXTS: dict[str, Any] = {"type": "array", "items": _TEXT}
_SCORE = _strict_object({"score": {"type": "integer", "enum": [1, 2, 3, 4, 5]}, "reason": _TEXT})

# What `response_format: json_schema` sends: OpenAI strict mode (every property required,
# no additional properties), which vLLM, llama.cpp, Ollama and LM Studio accept as well.
ENRICHMENT_JSON_SCHEMA: dict[str, Any] = _strict_object(
    {
        "title_translated": _TEXT,
        "tldr": _TEXT,
        "key_points": {
            "type": "array",
            "items": _strict_object({"heading": _TEXT, "detail": _TEXT}),
        },
        "impact": _TEXT,
        "editorial": _TEXT,
        "is_ai": {"type": "boolean"},
        "kind": {"type": "string", "enum": list(ITEM_KINDS)},
        "entities": _strict_object({"companies": _TEXTS, "models": _TEXTS, "tools": _TEXTS}),
        "tags": _TEXTS,
        "scores": _strict_object(
            {name: _SCORE for name in ("depth", "relevance", "practicality", "innovation")}
        ),
    }
)
PART_NOTES_JSON_SCHEMA: dict[str, Any] = _strict_object({"notes": _TEXTS})


JSON_SHAPE = """{
  "title_translated": "the title in the summary language",
  "tldr": "one or two sentences, at most 200 characters",
  "key_points": [{"heading": "a few words", "detail": "one sentence"}] (3 to 7 of them),
  "impact": "two or three sentences: who is affected and how",
  "editorial": "two or three sentences: a critical editor's view (limits, doubts, context)",
  "is_ai": true,
  "kind": "news | research | tool | analysis | other",
  "entities": {"companies": ["as written"], "models": ["as written"], "tools": ["as written"]},
  "tags": ["lowercase-topic-tags"],
  "scores": {
    "depth": {"score": 1-5, "reason": "one checkable line"},
    "relevance": {"score": 1-5, "reason": "one checkable line"},
    "practicality": {"score": 1-5, "reason": "one checkable line"},
    "innovation": {"score": 1-5, "reason": "one checkable line"}
  }
}"""

"""The LLM enricher (prompt v2): anchored scores, a Japanese example and style guide, map-reduce.

The article goes in as fenced DATA; what comes back is distrusted until it passes
`validate_answer`: parseable JSON on the schema, not truncated, no echoed prompt or example, no
invented links, and prose that really is in the summary language. An article longer than one
prompt is summarised part by part and the parts' notes are combined: never cut silently.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from pydantic import ValidationError

from bot.config import Settings
from bot.enrich.budget import Usage
from bot.enrich.llm_client import (
    BudgetExhaustedError,
    ChatAnswer,
    JsonSchema,
    LLMClient,
    RejectedOutputError,
    extract_json_object,
    parse_retry_after,
)
from bot.enrich.offline import OfflineEnricher
from bot.enrich.prompts import (
    ARTICLE_CLOSE,
    ARTICLE_OPEN,
    EXAMPLE_TEXTS,
    PART_CLOSE,
    PART_OPEN,
    SYSTEM_PROMPT_SIGNATURE,
    fence_safe,
    language_name,
    part_prompt,
    system_prompt,
)
from bot.enrich.schema import (
    ENRICHMENT_JSON_SCHEMA,
    PART_NOTES_JSON_SCHEMA,
    EnrichmentOut,
    PartNotesOut,
)
from bot.enrich.verify import generated_text_problem
from bot.errors import LLMError
from bot.ports import Clock, EnrichmentInput, EnrichmentResult, SystemClock
from digest.editorial import named_entities
from digest.models import DimensionScore, Enrichment, Scores
from digest.scoring import importance
from digest.taxonomy import build_taxonomy
from digest.text import chunk_paragraphs, split_paragraphs

log = logging.getLogger(__name__)

PROMPT_VERSION = "enrich-v2"
MAX_TITLE_CHARS = 500
ENRICHMENT_SCHEMA = JsonSchema("article_enrichment", ENRICHMENT_JSON_SCHEMA)
PART_SCHEMA = JsonSchema("article_part_notes", PART_NOTES_JSON_SCHEMA)
_URL = re.compile(r"(?:https?://|www\.)[^\s\"'<>)\]}]+", re.IGNORECASE)
# Fields that must read as whole sentences (a cut-off TL;DR is a truncated answer).
SENTENCE_FIELDS = ("tldr", "impact", "editorial")

__all__ = [
    "PROMPT_VERSION",
    "ChatAnswer",
    "LLMClient",
    "LLMEnricher",
    "RejectedOutputError",
    "extract_json_object",
    "foreign_urls",
    "language_name",
    "parse_retry_after",
    "split_into_parts",
    "validate_answer",
]


def source_urls_text(item: EnrichmentInput) -> str:
    return f"{item.title}\n{item.url}\n{item.content}"


def foreign_urls(strings: Sequence[str], source_text: str) -> list[str]:
    """URLs in the output that the article never mentioned (invented or injected links)."""
    found = []
    for text in strings:
        for url in _URL.findall(text):
            url = url.rstrip(".,;:!?")
            if url not in source_text:
                found.append(url)
    return found


def validate_answer(
    answer: ChatAnswer, item: EnrichmentInput, *, canary: str, lang: str
) -> EnrichmentOut:
    """Accept an answer only if it is complete, parseable, on-schema, in `lang`, leak-free."""
    if answer.finish_reason == "length":
        raise RejectedOutputError("truncated (finish_reason=length)")
    for marker in (canary, ARTICLE_OPEN, ARTICLE_CLOSE, SYSTEM_PROMPT_SIGNATURE, *EXAMPLE_TEXTS):
        if marker in answer.content and marker not in item.content:
            raise RejectedOutputError("output echoes the prompt")
    data = extract_json_object(answer.content)
    try:
        out = EnrichmentOut.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RejectedOutputError(f"schema: {where}: {first['msg']}") from exc
    invented = foreign_urls(out.strings(), source_urls_text(item))
    if invented:
        raise RejectedOutputError(f"links not in the source: {', '.join(invented[:3])}")
    problem = generated_text_problem(
        out.fields(), lang, source=f"{item.title}\n{item.content}", sentences=SENTENCE_FIELDS
    )
    if problem:
        raise RejectedOutputError(f"text: {problem}")
    return out


def user_prompt(item: EnrichmentInput, body: str, *, notes: bool = False) -> str:
    coverage = f"{item.source_count} sources" if item.source_count > 1 else "1 source"
    extra = []
    if item.teaser:
        extra.append("The feed gave only a teaser: say so in the depth reason.")
    if item.points is not None:
        extra.append(f"Hacker News: {item.points} points, {item.comments or 0} comments.")
    kind = "notes taken from each part of a long article" if notes else "one article"
    return (
        f"Analyse {kind} (published by {fence_safe(item.source)}, covered by {coverage}). "
        + " ".join(extra)
        + f"\n{ARTICLE_OPEN}\nTitle: {fence_safe(item.title[:MAX_TITLE_CHARS])}\n"
        f"URL: {fence_safe(item.url[:MAX_TITLE_CHARS])}\n\n"
        f"{fence_safe(body)}\n{ARTICLE_CLOSE}"
    )


def split_into_parts(text: str, part_chars: int) -> list[str]:
    """Paragraph-aligned parts of at most `part_chars` (long paragraphs split at sentences)."""
    return chunk_paragraphs(split_paragraphs(text), part_chars) or [text]


@dataclass(slots=True)
class _Spend:
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0

    def add(self, answer: ChatAnswer) -> None:
        self.usage += answer.usage
        self.cost += answer.cost_usd


class LLMEnricher:
    """Implements `bot.ports.Enricher` over an OpenAI-compatible endpoint, within a daily budget."""

    name = "llm"
    prompt_version = PROMPT_VERSION

    def __init__(
        self, settings: Settings, *, client: LLMClient, clock: Clock | None = None
    ) -> None:
        assert settings.llm is not None
        self.model = settings.llm.model
        self._settings = settings
        self._llm = settings.llm
        self._client = client
        self._clock = clock or SystemClock()
        self._offline = OfflineEnricher(settings)
        self._taxonomy = build_taxonomy(settings.enrich.taxonomy)
        self._weights = dict(settings.rubric.weights)
        self._non_ai_max = settings.rubric.non_ai_max

    async def aclose(self) -> None:
        await self._client.aclose()

    def _offline_fallback(
        self, item: EnrichmentInput, error: BudgetExhaustedError
    ) -> EnrichmentResult:
        note = f"offline fallback: {error}"
        log.warning("enrich: article_id=%s %s", item.article_id, note)
        return replace(self._offline.enrich_now(item), note=note)

    async def enrich(self, item: EnrichmentInput) -> EnrichmentResult:
        spend = _Spend()
        try:
            body, coverage = await self._readable_body(item, spend)
            out, problems = await self._final_answer(item, body, coverage, spend)
        except BudgetExhaustedError as exhausted:
            return self._offline_fallback(item, exhausted)
        notes = [coverage] if coverage else []
        if problems:
            notes.append(f"accepted after {len(problems)} rejected answer(s)")
        return EnrichmentResult(
            enrichment=self._enrichment(out, item, self._settings.enrich.lang),
            engine=self.name,
            model=self.model,
            prompt_version=self.prompt_version,
            tokens_in=spend.usage.tokens_in,
            tokens_out=spend.usage.tokens_out,
            cost_usd=spend.cost,
            note="; ".join(notes),
        )

    async def _readable_body(self, item: EnrichmentInput, spend: _Spend) -> tuple[str, str]:
        """The article itself when it fits one prompt, else the notes of its parts (map step).

        Returns the body and a coverage note, which is non-empty only when parts beyond
        `[enrich] max_parts` were left unread, so the row says what the summary is based on.
        """
        part_chars = self._settings.enrich.max_input_chars
        if len(item.content) <= part_chars:
            return item.content, ""
        parts = split_into_parts(item.content, part_chars)
        read = parts[: self._settings.enrich.max_parts]
        notes = await asyncio.gather(
            *(self._part_notes(item, part, i, len(parts), spend) for i, part in enumerate(read))
        )
        body = "\n\n".join(
            f"Part {i + 1}/{len(parts)}:\n" + "\n".join(f"- {n}" for n in part_notes)
            for i, part_notes in enumerate(notes)
        )
        coverage = ""
        if len(read) < len(parts):
            chars = sum(len(p) for p in read)
            coverage = (
                f"summarised from the first {len(read)} of {len(parts)} parts "
                f"({chars} of {len(item.content)} characters)"
            )
            log.warning("enrich: article_id=%s %s", item.article_id, coverage)
        return body, coverage

    async def _part_notes(
        self, item: EnrichmentInput, part: str, index: int, total: int, spend: _Spend
    ) -> list[str]:
        lang = self._settings.enrich.lang
        problems: list[str] = []
        for _ in range(self._llm.max_retries + 1):
            canary = f"AINEWS-{secrets.token_hex(8)}"
            messages = [
                {"role": "system", "content": part_prompt(canary, lang)},
                {
                    "role": "user",
                    "content": f"Title: {fence_safe(item.title[:MAX_TITLE_CHARS])}\n"
                    f"Part {index + 1} of {total}:\n{PART_OPEN}\n{fence_safe(part)}\n{PART_CLOSE}",
                },
            ]
            answer = await self._client.chat(
                messages, purpose="enrich", article_id=item.article_id, schema=PART_SCHEMA
            )
            spend.add(answer)
            try:
                if answer.finish_reason == "length":
                    raise RejectedOutputError("truncated (finish_reason=length)")
                if canary in answer.content:
                    raise RejectedOutputError("output echoes the prompt")
                notes = PartNotesOut.model_validate(extract_json_object(answer.content)).notes
            except (RejectedOutputError, ValidationError) as rejected:
                problems.append(str(rejected).splitlines()[0])
                continue
            return [fence_safe(n) for n in notes]
        raise LLMError(
            f"notes on part {index + 1}/{total} rejected {len(problems)} time(s): "
            + "; ".join(problems)
        )

    async def _final_answer(
        self, item: EnrichmentInput, body: str, coverage: str, spend: _Spend
    ) -> tuple[EnrichmentOut, list[str]]:
        lang = self._settings.enrich.lang
        problems: list[str] = []
        for _ in range(self._llm.max_retries + 1):
            canary = f"AINEWS-{secrets.token_hex(8)}"
            system = system_prompt(
                canary, lang, self._settings.enrich.interests, self._taxonomy.tags
            )
            messages = [
                {"role": "system", "content": system},
                {"role": "user", "content": user_prompt(item, body, notes=body != item.content)},
            ]
            answer = await self._client.chat(
                messages, purpose="enrich", article_id=item.article_id, schema=ENRICHMENT_SCHEMA
            )
            spend.add(answer)
            try:
                return validate_answer(answer, item, canary=canary, lang=lang), problems
            except RejectedOutputError as rejected:
                problems.append(str(rejected))
                log.warning(
                    "enrich: article_id=%s rejected LLM output: %s", item.article_id, rejected
                )
        raise LLMError(f"LLM output rejected {len(problems)} time(s): {'; '.join(problems)}")

    def _enrichment(self, out: EnrichmentOut, item: EnrichmentInput, lang: str) -> Enrichment:
        scores = Scores(
            **{
                name: DimensionScore(part.score, part.reason)
                for name, part in (
                    ("depth", out.scores.depth),
                    ("relevance", out.scores.relevance),
                    ("practicality", out.scores.practicality),
                    ("innovation", out.scores.innovation),
                )
            }
        )
        # Taxonomy tags first, so subscriptions see the same names whichever engine ran.
        entities = named_entities(item.title, item.content)
        known = [tag for tag, _ in self._taxonomy.match(f"{item.title}\n{item.content}")]
        tags = tuple(dict.fromkeys([*entities, *out.entities.slugs(), *known, *out.tags]))[:8]
        # Not AI news is never pushed as an alert, whatever the model scored.
        rank = importance(scores, self._weights, is_ai=out.is_ai, non_ai_max=self._non_ai_max)
        return Enrichment(
            tldr=out.tldr,
            key_points=tuple(out.point_texts()),
            tags=tags,
            scores=scores,
            importance=rank,
            lang=lang,
            title_translated=out.title_translated,
            impact=out.impact,
            editorial=out.editorial,
            is_ai=out.is_ai,
            kind=out.kind,
            entities=out.entities.slugs(),
        )

"""The offline engine: extractive summary, taxonomy tags and heuristic scores, no network.

Everything it says is drawn from the article itself, so it writes in the article's language and
leaves impact and editorial empty rather than inventing them.
"""

from __future__ import annotations

from bot.config import Settings
from bot.ports import EnrichmentInput, EnrichmentResult
from digest.models import Enrichment
from digest.scoring import heuristic_scores, importance, text_signals
from digest.taxonomy import build_taxonomy
from digest.text import extractive_summary, guess_lang, is_cjk_lang, keyword_tags

OFFLINE_MODEL = "heuristic"
OFFLINE_PROMPT_VERSION = "offline-1"
MAX_TAGS = 8
# Extraction is linear in the text but TextRank is quadratic in sentences; a cap keeps one
# 233k-character article from stalling a batch.
MAX_OFFLINE_CHARS = 40_000


class OfflineEnricher:
    """Implements `bot.ports.Enricher` with pure text algorithms from `digest`."""

    name = "offline"
    model = OFFLINE_MODEL
    prompt_version = OFFLINE_PROMPT_VERSION

    def __init__(self, settings: Settings) -> None:
        self._weights = dict(settings.rubric.weights)
        self._interests = tuple(settings.enrich.interests)
        self._taxonomy = build_taxonomy(settings.enrich.taxonomy)

    def enrich_now(self, item: EnrichmentInput) -> EnrichmentResult:
        """The synchronous core, shared by `enrich` and the LLM engine's budget fallback."""
        content = item.content[:MAX_OFFLINE_CHARS]
        lang = item.lang or guess_lang(f"{item.title}\n{content}")
        tldr, key_points = extractive_summary(content, title=item.title)
        matched = [tag for tag, _ in self._taxonomy.match(f"{item.title}\n{content}")]
        tags = (matched + keyword_tags(content, item.title, exclude=matched))[:MAX_TAGS]
        signals = text_signals(
            item.title,
            content,
            tags=matched,
            interests=self._interests,
            cjk=is_cjk_lang(lang),
            source_count=item.source_count,
            points=item.points,
        )
        scores = heuristic_scores(signals)
        enrichment = Enrichment(
            tldr=tldr,
            key_points=key_points,
            tags=tuple(tags),
            scores=scores,
            importance=importance(scores, self._weights),
            lang=lang,
        )
        return EnrichmentResult(
            enrichment=enrichment,
            engine=self.name,
            model=self.model,
            prompt_version=self.prompt_version,
        )

    async def enrich(self, item: EnrichmentInput) -> EnrichmentResult:
        return self.enrich_now(item)

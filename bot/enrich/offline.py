"""The offline engine: an editor's reading of the item, extractive summary and tags, no network.

Everything it says is drawn from the article itself and the editorial knowledge in
`digest/knowledge`, so it writes in the article's language and leaves impact and editorial empty
rather than inventing them.
"""

from __future__ import annotations

from bot.config import Settings
from bot.ingest.clean import clean_text, clean_title
from bot.ports import EnrichmentInput, EnrichmentResult
from digest.editorial import Evidence, read_item
from digest.knowledge import knowledge
from digest.models import Enrichment
from digest.scoring import Context, importance, rubric
from digest.taxonomy import build_taxonomy
from digest.text import extractive_summary, guess_lang, keyword_tags

OFFLINE_MODEL = "heuristic"
OFFLINE_PROMPT_VERSION = "offline-2"
MAX_TAGS = 8
MAX_ENTITY_TAGS = 4
MAX_FREE_TAGS = 2
# Extraction is linear in the text but TextRank is quadratic in sentences; a cap keeps one
# 233k-character article from stalling a batch.
MAX_OFFLINE_CHARS = 40_000
# Kind tags: what channels subscribe to when they want a kind of news rather than a topic.
_EVENT_TAGS = {
    "release": "release",
    "open_weights": "release",
    "market_entry": "release",
    "funding": "funding",
    "acquisition": "funding",
    "ipo": "funding",
    "regulation": "policy",
}


def kind_tags(evidence: Evidence) -> list[str]:
    """`release`, `research`, `tool`, `policy`, `funding`: the kind of news, as tags."""
    if not evidence.is_ai:
        return []
    tags: list[str] = []
    if evidence.event in _EVENT_TAGS:
        tags.append(_EVENT_TAGS[evidence.event])
    if evidence.kind in ("research", "tool"):
        tags.append(evidence.kind)
    return list(dict.fromkeys(tags))


class OfflineEnricher:
    """Implements `bot.ports.Enricher` with pure text algorithms from `digest`."""

    name = "offline"
    model = OFFLINE_MODEL
    prompt_version = OFFLINE_PROMPT_VERSION

    def __init__(self, settings: Settings) -> None:
        self._weights = dict(settings.rubric.weights)
        self._non_ai_max = settings.rubric.non_ai_max
        self._interests = tuple(settings.enrich.interests)
        self._taxonomy = build_taxonomy(settings.enrich.taxonomy)
        # `[enrich] taxonomy` with an empty list removes a tag, entity tags included.
        self._removed = {
            tag.lower() for tag, words in settings.enrich.taxonomy.items() if not words
        }

    def enrich_now(self, item: EnrichmentInput) -> EnrichmentResult:
        """The synchronous core, shared by `enrich` and the LLM engine's budget fallback."""
        # Cleaning is idempotent; articles stored before it existed get clean text here too.
        title = clean_title(item.title)
        content = clean_text(item.content[:MAX_OFFLINE_CHARS])
        lang = item.lang or guess_lang(f"{title}\n{content}")
        evidence = read_item(title, content, url=item.url, teaser=item.teaser)
        tldr, key_points = extractive_summary(content, title=title)
        title_topics = {tag for tag, _ in self._taxonomy.match(title)}
        topics = [tag for tag, _ in self._taxonomy.match(f"{title}\n{content[:3000]}")]
        interests = tuple(i for i in self._interests if i.lower() in title_topics)
        context = Context(
            source_count=item.source_count,
            points=item.points,
            comments=item.comments,
            source_weight=item.source_weight,
            interests=interests,
        )
        scores = rubric(evidence, context)
        entity_tags = list(evidence.entity_slugs[:MAX_ENTITY_TAGS])
        tags = entity_tags + kind_tags(evidence)
        if evidence.is_ai:
            tags += topics
        tags += keyword_tags(
            content,
            title,
            exclude=tags,
            limit=MAX_FREE_TAGS,
            stopwords=knowledge().stopwords,
        )
        enrichment = Enrichment(
            tldr=tldr,
            key_points=key_points,
            tags=tuple(t for t in dict.fromkeys(tags) if t not in self._removed)[:MAX_TAGS],
            scores=scores,
            importance=importance(
                scores, self._weights, is_ai=evidence.is_ai, non_ai_max=self._non_ai_max
            ),
            lang=lang,
            is_ai=evidence.is_ai,
            kind=evidence.kind,
            entities=evidence.entity_slugs,
        )
        return EnrichmentResult(
            enrichment=enrichment,
            engine=self.name,
            model=self.model,
            prompt_version=self.prompt_version,
        )

    async def enrich(self, item: EnrichmentInput) -> EnrichmentResult:
        return self.enrich_now(item)

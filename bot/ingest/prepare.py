"""Feed bytes → articles ready to store: all of ingestion's CPU work, in one picklable call.

`prepare_feed` runs in a worker process (`bot.ingest.workers`): parsing, sanitising, cleaning,
language detection, entities, hashes and reading time. What comes back needs only the store
(identity within the source, story) before it is written, so the writer never waits on CPU work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.ingest.clean import clean_title, learn_title_affixes
from bot.ingest.extract import detect_lang, reading_minutes, script_lang
from bot.ingest.parse import ParsedEntry, parse_feed
from digest.dedup import canonical_url, content_hash
from digest.editorial import story_keys
from digest.models import Article
from digest.text import base_lang

__all__ = ["Draft", "PreparedFeed", "draft", "normalise_entries", "prepare_feed"]

_FUTURE_SLACK = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Draft:
    """An article with what ingestion worked out about it, before the store gives it an identity."""

    article: Article
    content_hash: str
    reading_minutes: int
    full_text: bool = False


@dataclass(frozen=True, slots=True)
class PreparedFeed:
    """A parsed feed: its articles as drafts, or why there were none usable."""

    drafts: list[Draft] = field(default_factory=list)
    error: str | None = None


def normalise_entries(
    entries: Sequence[ParsedEntry], *, source_lang: str, feed_lang: str, fetched_at: datetime
) -> list[Article]:
    """Parsed entries → articles: UTC dates (fetch time when undated), canonical URL, language."""
    feed_hint = base_lang(feed_lang)[:8]
    if not source_lang and not feed_hint:
        # A short sample: the hint is per feed.
        sample = " ".join(f"{e.title} {e.content[:200]}" for e in entries[:4])[:600]
        feed_hint = detect_lang(sample)
    affixes = learn_title_affixes([entry.title for entry in entries])
    out: list[Article] = []
    for entry in entries:
        dated = entry.published is not None
        published = entry.published or fetched_at
        if published > fetched_at + _FUTURE_SLACK:
            published = fetched_at
        lang = source_lang or script_lang(f"{entry.title} {entry.content[:300]}") or feed_hint
        out.append(
            Article(
                guid=entry.guid,
                url=entry.link,
                canonical_url=canonical_url(entry.link) if entry.link else "",
                title=clean_title(entry.title, affixes),
                content=entry.content,
                published_at=published,
                author=entry.author,
                lang=lang,
                dated=dated,
                media=entry.media,
            )
        )
    return out


def draft(article: Article, *, full_text: bool = False) -> Draft:
    """Entities, hash and reading time of an article (language too, for extracted pages)."""
    if full_text and not article.lang:
        article = replace(article, lang=detect_lang(article.content))
    article = replace(article, entities=story_keys(article.title, article.content))
    return Draft(
        article=article,
        content_hash=content_hash(article.title, article.content),
        reading_minutes=reading_minutes(article.content),
        full_text=full_text,
    )


def prepare_feed(
    body: bytes, base_url: str, cap: int, source_lang: str, fetched_at: datetime
) -> PreparedFeed:
    """Parse and normalise a feed body (runs in a worker process; arguments are picklable)."""
    parsed = parse_feed(body, base_url, cap=cap)
    if not parsed.entries and parsed.error:
        return PreparedFeed(error=parsed.error)
    articles = normalise_entries(
        parsed.entries, source_lang=source_lang, feed_lang=parsed.lang, fetched_at=fetched_at
    )
    return PreparedFeed(drafts=[draft(article) for article in articles])

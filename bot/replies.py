"""Plain-text bodies of command replies: the fallback every adapter can show as it is.

Rich renderers (Block Kit, embeds, HTML) use the structured fields of `Reply`; this text must make
sense alone in a notification, a terminal or a screen reader.
"""

from __future__ import annotations

from collections.abc import Iterable

from digest.models import ArticleCard, Digest, DigestItem, Scores, TranslationView
from digest.text import truncate

KIND_TITLES = {"daily": "AI news", "weekly": "AI news this week", "hn": "Hacker News on AI"}
MAX_FALLBACK_CHARS = 3000


def stars(importance: int | None) -> str:
    """`★★★★☆` for 4 out of 5; an unscored item shows five hollow stars."""
    value = max(0, min(5, importance or 0))
    return "★" * value + "☆" * (5 - value)


def scores_line(scores: Scores | None) -> str:
    if scores is None:
        return "not scored yet"
    return (
        f"depth {scores.depth.score} · relevance {scores.relevance.score} · "
        f"practicality {scores.practicality.score} · innovation {scores.innovation.score}"
    )


def digest_heading(digest: Digest) -> str:
    title = f"{KIND_TITLES.get(digest.kind, 'AI news')} · {digest.day.isoformat()}"
    return f"{title} · #{digest.tag}" if digest.tag else title


def _item_line(rank: int, item: DigestItem) -> str:
    title = item.title_translated or item.title
    return f"{rank}. {stars(item.importance)} {title} ({', '.join(item.sources)})"


def digest_text(digest: Digest) -> str:
    heading = digest_heading(digest)
    if not digest.items:
        return f"{heading}: no stories yet."
    lines = [f"{heading}: {len(digest.items)} stories"]
    lines.extend(_item_line(rank, item) for rank, item in enumerate(digest.items, 1))
    return truncate("\n".join(lines), MAX_FALLBACK_CHARS)


def card_text(card: ArticleCard) -> str:
    lines = [
        f"{card.title} ({card.source})",
        f"{stars(card.importance)} {scores_line(card.scores)}",
    ]
    if card.tldr:
        lines.append(f"TL;DR: {card.tldr}")
    lines.extend(f"• {point}" for point in card.key_points)
    if card.tags:
        lines.append("Tags: " + ", ".join(card.tags))
    lines.append(card.url)
    return truncate("\n".join(lines), MAX_FALLBACK_CHARS)


def cards_text(heading: str, cards: Iterable[ArticleCard]) -> str:
    lines = [heading]
    lines.extend(
        f"{card.article_id}: {stars(card.importance)} {card.title} ({card.source})"
        for card in cards
    )
    return truncate("\n".join(lines), MAX_FALLBACK_CHARS)


def translation_text(view: TranslationView, title: str) -> str:
    status = "" if view.status == "complete" else f" [{translation_status(view)}]"
    return truncate(f"{view.title or title} ({view.lang}){status}\n{view.body}", MAX_FALLBACK_CHARS)


def translation_status(view: TranslationView) -> str:
    """Says honestly how much of the article the translation covers."""
    if view.status == "complete":
        return "complete"
    if view.status == "partial":
        return f"partial: {view.chunks_done} of {view.chunks_total} parts translated"
    return view.status

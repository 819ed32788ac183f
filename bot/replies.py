"""Plain-text bodies of command replies: the fallback every adapter can show as it is.

Rich renderers (Block Kit, embeds, HTML) use the structured fields of `Reply`; this text must make
sense alone in a notification, a terminal or a screen reader.
"""

from __future__ import annotations

from collections.abc import Iterable

from digest.models import (
    ArticleCard,
    Digest,
    DigestItem,
    Scores,
    ToolStats,
    TranslationView,
    VideoInfo,
)
from digest.text import truncate

KIND_TITLES = {
    "daily": "AI news",
    "weekly": "AI news this week",
    "hn": "Hacker News on AI",
    "tools": "AI tools",
    "videos": "AI videos",
}
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
    if item.tool is not None:
        return f"{rank}. {title} — {tool_line(item.tool)}"
    if item.video is not None:
        details = video_line(item.video)
        return f"{rank}. {title}" + (f" ({details})" if details else "")
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
    if card.related_stories:
        lines.append("Related: " + "; ".join(related_lines(card)))
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


def _count(value: int) -> str:
    return f"{value:,}"


def tool_line(tool: ToolStats) -> str:
    """A tool's numbers in one line: stars or downloads, today's gain, growth, licence, task."""
    parts: list[str] = []
    if tool.stars is not None:
        parts.append(f"{_count(tool.stars)} stars")
    if tool.downloads is not None:
        parts.append(f"{_count(tool.downloads)} downloads")
    if tool.stars_today is not None:
        parts.append(f"+{_count(tool.stars_today)} today")
    if tool.growth is not None:
        parts.append(f"growth {tool.growth * 100:.1f}%/day")
    for extra in (tool.license, tool.task, tool.language):
        if extra:
            parts.append(extra)
    return " · ".join(parts) or tool.kind


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def video_line(video: VideoInfo) -> str:
    """Channel, duration and views of a video, whichever the feed gave."""
    parts = [video.channel] if video.channel else []
    if video.duration_seconds is not None:
        parts.append(duration_text(video.duration_seconds))
    if video.views is not None:
        parts.append(f"{_count(video.views)} views")
    return " · ".join(parts)


def related_lines(card: ArticleCard) -> list[str]:
    """`title (why)` per related story, most recent first."""
    return [f"{story.title} ({story.why})" for story in card.related_stories]

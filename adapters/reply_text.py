"""Plain-text wording of replies, digests and cards in the reader's language.

Every surface needs a plain-text form that makes sense alone (Slack notifications, Discord
content, terminals, screen readers); rich renderers reuse the labelled pieces from here. The
rubric dimension names and every label come from the catalogue; reasons are shown as given.
"""

from __future__ import annotations

from collections.abc import Iterable

from adapters.i18n import Translator, translator
from bot.config import Settings
from bot.messages import N_, Reply
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

__all__ = [
    "DIMENSION_LABELS",
    "MAX_FALLBACK_CHARS",
    "card_text",
    "cards_text",
    "digest_heading",
    "digest_text",
    "duration_text",
    "importance_label",
    "message_text",
    "reader",
    "related_lines",
    "reply_lines",
    "reply_text",
    "scores_line",
    "stars",
    "tool_line",
    "translation_status",
    "translation_text",
    "video_line",
]

MAX_FALLBACK_CHARS = 3000
DIGEST_TITLES = {
    "daily": N_("digest.title.daily"),
    "weekly": N_("digest.title.weekly"),
    "hn": N_("digest.title.hn"),
    "tools": N_("digest.title.tools"),
    "videos": N_("digest.title.videos"),
}
DIMENSION_LABELS = {
    "depth": N_("depth"),
    "relevance": N_("relevance"),
    "practicality": N_("practicality"),
    "innovation": N_("innovation"),
}
TRANSLATION_STATUS = {
    "complete": N_("status_complete"),
    "partial": N_("status_partial_short"),
    "failed": N_("status_failed"),
    "pending": N_("status_pending"),
}


def reader(lang: str, settings: Settings) -> Translator:
    """The translator for a channel's language; no language means `[translate] default_lang`."""
    return translator(lang or settings.translate.default_lang)


def stars(importance: int | None) -> str:
    """`★★★★☆` for 4 out of 5; an unscored item shows five hollow stars."""
    value = max(0, min(5, importance or 0))
    return "★" * value + "☆" * (5 - value)


def importance_label(t: Translator, importance: int | None) -> str:
    """ "Importance 4 of 5" / "重要度 4/5"; unscored items say so."""
    return t("importance_label", n=importance) if importance else t("unscored")


def scores_line(t: Translator, scores: Scores | None) -> str:
    """The four rubric scores with their names in the reader's language."""
    if scores is None:
        return t("not_enriched")
    return " · ".join(
        t("score_short", name=t(DIMENSION_LABELS[name]), score=dimension["score"])
        for name, dimension in scores.as_dict().items()
    )


def digest_heading(t: Translator, digest: Digest) -> str:
    title = t(DIGEST_TITLES.get(digest.kind, DIGEST_TITLES["daily"]))
    day = t.date(digest.day)
    if digest.tag:
        return t("digest.heading_tag", title=title, day=day, tag=digest.tag)
    return t("digest.heading", title=title, day=day)


def _item_line(t: Translator, rank: int, item: DigestItem) -> str:
    title = item.title_translated or item.title
    return f"{rank}. {stars(item.importance)} {title} ({t.join(item.sources)})"


def digest_text(t: Translator, digest: Digest) -> str:
    heading = digest_heading(t, digest)
    if not digest.items:
        return f"{heading}: {t('digest.empty')}"
    lines = [f"{heading}: {t.plural('digest.count', len(digest.items))}"]
    lines.extend(_item_line(t, rank, item) for rank, item in enumerate(digest.items, 1))
    return truncate("\n".join(lines), MAX_FALLBACK_CHARS)


def card_text(t: Translator, card: ArticleCard) -> str:
    lines = [
        f"{card.title} ({card.source})",
        f"{stars(card.importance)} {scores_line(t, card.scores)}",
    ]
    if card.tldr:
        lines.append(t("label", label=t("tldr"), value=card.tldr))
    lines.extend(f"• {point}" for point in card.key_points)
    if card.tags:
        lines.append(t("label", label=t("tags"), value=t.join(card.tags)))
    lines.append(card.url)
    return truncate("\n".join(lines), MAX_FALLBACK_CHARS)


def cards_text(t: Translator, heading: str, cards: Iterable[ArticleCard]) -> str:
    lines = [heading]
    lines.extend(
        f"{card.article_id}: {stars(card.importance)} {card.title} ({card.source})"
        for card in cards
    )
    return truncate("\n".join(lines), MAX_FALLBACK_CHARS)


def translation_status(t: Translator, view: TranslationView) -> str:
    """Says honestly how much of the article the translation covers."""
    if view.status == "partial":
        return t("status_partial", done=view.chunks_done, total=view.chunks_total)
    return t(TRANSLATION_STATUS.get(view.status, N_("status_none")))


def translation_text(t: Translator, view: TranslationView, title: str) -> str:
    status = "" if view.status == "complete" else f" [{translation_status(t, view)}]"
    heading = f"{view.title or title} ({t.lang_name(view.lang)}){status}"
    return truncate(f"{heading}\n{view.body}", MAX_FALLBACK_CHARS)


def message_text(t: Translator, reply: Reply) -> str:
    """The reply's own sentence (and, for a user error, its usage line)."""
    text = t.render(reply.message) if reply.message is not None else ""
    if reply.usage:
        usage = t("error.usage", usage=reply.usage)
        text = f"{text}\n{usage}" if text else usage
    return text


def reply_text(reply: Reply, settings: Settings) -> str:
    """The complete plain-text answer in the reply's language."""
    t = reader(reply.lang, settings)
    if reply.digest is not None:
        return digest_text(t, reply.digest)
    if reply.card is not None:
        return card_text(t, reply.card)
    if reply.translation is not None:
        return translation_text(t, reply.translation, reply.translation_title)
    if reply.cards:
        return cards_text(t, message_text(t, reply), reply.cards)
    return truncate("\n".join(reply_lines(t, reply)), MAX_FALLBACK_CHARS)


def reply_lines(t: Translator, reply: Reply) -> list[str]:
    """A text reply in full, line by line: its sentence, usage, then each of its lines."""
    lines = message_text(t, reply).split("\n") if reply.message is not None or reply.usage else []
    lines.extend(t.render(line) for line in reply.lines)
    return lines


def _count(t: Translator, value: int) -> str:
    return t.number(value)


def tool_line(t: Translator, tool: ToolStats) -> str:
    """A tool's numbers in one line: stars or downloads, today's gain, growth, licence, task."""
    parts: list[str] = []
    if tool.stars is not None:
        parts.append(t("stars_n", n=_count(t, tool.stars)))
    if tool.downloads is not None:
        parts.append(t("downloads_n", n=_count(t, tool.downloads)))
    if tool.stars_today is not None:
        parts.append(t("stars_today_n", n=_count(t, tool.stars_today)))
    if tool.growth is not None:
        parts.append(t("growth_pct", pct=f"{tool.growth * 100:.1f}"))
    parts.extend(extra for extra in (tool.license, tool.task, tool.language) if extra)
    return " · ".join(parts) or tool.kind


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def video_line(t: Translator, video: VideoInfo) -> str:
    """Channel, duration and views of a video, whichever the feed gave."""
    parts = [video.channel] if video.channel else []
    if video.duration_seconds is not None:
        parts.append(duration_text(video.duration_seconds))
    if video.views is not None:
        parts.append(t("views_n", n=_count(t, video.views)))
    return " · ".join(parts)


def related_lines(card: ArticleCard) -> list[str]:
    """`title (why)` per related story, most recent first."""
    return [f"{story.title} ({story.why})" for story in card.related_stories]

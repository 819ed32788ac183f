"""Neutral replies, digests and alerts as Slack Block Kit payloads with plain-text fallbacks.

Every piece of web text is escaped for mrkdwn (`&`, `<`, `>`), stripped of control characters and
defused of mentions and formatting, so a title like `<!channel>` pings nobody. Every payload stays
inside Block Kit's limits; long content is split at sentence boundaries into several messages.
Payloads carry no `channel`: callers add it (chat.postMessage) or send them to a response_url.
Labels are worded in the channel's language from the shared catalogue (adapters/i18n).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from adapters.i18n import Translator
from adapters.reply_text import (
    DIMENSION_LABELS,
    digest_heading,
    importance_label,
    message_text,
    reader,
    reply_lines,
    reply_text,
    scores_line,
    stars,
    tool_line,
    translation_status,
    video_line,
)
from bot.config import Settings
from bot.links import article_permalink, digest_permalink
from bot.messages import N_, Reply
from digest.models import ArticleCard, Digest, DigestItem, TranslationView
from digest.text import truncate

__all__ = [
    "MAX_BLOCKS",
    "MAX_HEADER_CHARS",
    "MAX_MESSAGE_CHARS",
    "MAX_SECTION_CHARS",
    "MAX_TEXT_CHARS",
    "escape",
    "message_chars",
    "render_alert_payloads",
    "render_card_payloads",
    "render_digest_payloads",
    "render_reply",
    "render_translation_payloads",
    "split_text",
]

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 2900  # Slack allows 3,000; the margin absorbs counting differences
MAX_HEADER_CHARS = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_TEXT_CHARS = 3000  # the top-level `text` fallback; Slack truncates long ones
# Slack rejects a message whose blocks total roughly 13.2k characters (`msg_blocks_too_long`)
# even when each block is within its own limit; we stay well below, measured as serialised JSON.
MAX_MESSAGE_CHARS = 11_000
MAX_LABEL_CHARS = 300
TLDR_CHARS = 600  # a digest is for skimming; `summary` shows the whole TL;DR

_HIDDEN = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
# Formatting characters only act at a word's edge (`*bold*`, not `snake_case`), so only those
# are split from their word with a zero-width space.
_FORMATTING = re.compile(r"(?<!\w)[*_~`]|[*_~`](?!\w)")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")
_ZWSP = "\u200b"

Block = dict[str, Any]
Payload = dict[str, Any]


def clean(text: str, *, single_line: bool = False) -> str:
    """Drop control and text-direction characters; tabs become spaces."""
    out = []
    for char in text:
        if char in "\t\r":
            out.append(" ")
        elif char == "\n":
            out.append(" " if single_line else "\n")
        elif char in _HIDDEN or unicodedata.category(char) in ("Cc", "Cs"):
            continue
        else:
            out.append(char)
    return "".join(out)


def escape(text: str, *, single_line: bool = False) -> str:
    """Untrusted text as inert mrkdwn: no links, mentions, broadcasts or formatting."""
    text = clean(text, single_line=single_line)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _BROADCAST.sub(lambda m: f"@{_ZWSP}{m.group(1)}", text)
    return _FORMATTING.sub(lambda m: f"{_ZWSP}{m.group(0)}{_ZWSP}", text)


def plain(text: str, limit: int, *, single_line: bool = True) -> str:
    """Text for a plain_text object (not parsed by Slack), cut at a word boundary."""
    return truncate(clean(text, single_line=single_line), limit) or "-"


def safe_url(url: str) -> str | None:
    """An http(s) URL fit for `<url|label>`, or None when it is not one."""
    url = url.strip()
    if not url or len(url) > 3000 or any(c.isspace() or ord(c) < 32 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def link(url: str, label: str) -> str:
    """A mrkdwn link whose label is escaped web text; a bad URL leaves only the label."""
    text = escape(truncate(label, MAX_LABEL_CHARS), single_line=True) or "link"
    target = safe_url(url)
    return f"<{target}|{text}>" if target else text


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut after sentences, then words, then anywhere."""
    pieces: list[str] = []
    current = ""
    for paragraph in text.split("\n"):
        for sentence in _sentences(paragraph, limit):
            joiner = "" if not current else (" " if not current.endswith("\n") else "")
            if len(current) + len(joiner) + len(sentence) <= limit:
                current += joiner + sentence
            else:
                if current.strip():
                    pieces.append(current.strip())
                current = sentence
        if current and len(current) + 1 <= limit:
            current += "\n"
    if current.strip():
        pieces.append(current.strip())
    return pieces


def _sentences(paragraph: str, limit: int) -> Iterable[str]:
    for sentence in _SENTENCE_END.split(paragraph):
        if not sentence:
            continue
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            yield sentence[:cut].strip()
            sentence = sentence[cut:].strip()
        if sentence:
            yield sentence


def escaped_sections(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Web text escaped as mrkdwn in pieces whose escaped length stays within `limit`."""
    out: list[str] = []
    for piece in split_text(clean(text), limit):
        escaped = escape(piece)
        if len(escaped) <= limit:
            out.append(escaped)
        else:
            out.extend(_escaped_chunks(piece, limit))
    return out


def _escaped_chunks(piece: str, limit: int) -> list[str]:
    """Escaping grows text (`&` → `&amp;`, zero-width spaces around markup), so cut the raw text
    until each escaped chunk fits; a loop, never recursion, and always progress."""
    out: list[str] = []
    start = 0
    while start < len(piece):
        size = min(len(piece) - start, limit)
        escaped = escape(piece[start : start + size])
        while len(escaped) > limit and size > 1:
            size = max(1, min(size - 1, size * limit // len(escaped)))
            escaped = escape(piece[start : start + size])
        if escaped.strip():
            out.append(escaped[:limit])
        start += size
    return out


def section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn[:MAX_SECTION_CHARS]}}


def header(text: str) -> Block:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": plain(text, MAX_HEADER_CHARS), "emoji": True},
    }


def context(elements: Sequence[str]) -> Block:
    return {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": element[:MAX_SECTION_CHARS]}
            for element in elements[:MAX_CONTEXT_ELEMENTS]
            if element
        ],
    }


DIVIDER: Block = {"type": "divider"}


def message_chars(blocks: Sequence[Block]) -> int:
    """The size Slack's cumulative limit is checked against, conservatively: serialised JSON."""
    return len(json.dumps(list(blocks), ensure_ascii=False))


def _pack(head: list[Block], units: Sequence[list[Block]]) -> list[list[Block]]:
    """Fill messages with whole units (one story, one text piece) within the limits."""
    messages: list[list[Block]] = []
    current = list(head)
    for unit in units:
        fits_blocks = len(current) + len(unit) <= MAX_BLOCKS
        fits_chars = message_chars(current) + message_chars(unit) + 2 <= MAX_MESSAGE_CHARS
        if current and not (fits_blocks and fits_chars):
            messages.append(current)
            current = []
        current.extend(unit)
    if current or not messages:
        messages.append(current)
    for blocks in messages:
        while blocks and blocks[-1] is DIVIDER:
            blocks.pop()
    return messages


def escaped_clip(text: str, limit: int) -> str:
    """Escaped text whose escaped length is within `limit`, cut before escaping (no half entity)."""
    budget = limit
    while True:
        escaped = escape(truncate(text, budget))
        if len(escaped) <= limit:
            return escaped
        budget = max(1, int(budget * 0.8))


def _payload(fallback: str, blocks: list[Block]) -> Payload:
    payload: Payload = {
        "text": escaped_clip(fallback, MAX_TEXT_CHARS) or "-",
        "unfurl_links": False,
        "unfurl_media": False,
    }
    if blocks:
        payload["blocks"] = blocks
    return payload


def _payloads(t: Translator, fallback: str, messages: list[list[Block]]) -> list[Payload]:
    total = len(messages)
    out = []
    for index, blocks in enumerate(messages, 1):
        first_line = fallback.split("\n", 1)[0]
        text = fallback if index == 1 else f"{first_line} ({index}/{total})"
        if index > 1:
            blocks = [context([t("slack.continued", index=index, total=total)]), *blocks]
        out.append(_payload(text, blocks))
    return out


def _item_blocks(
    t: Translator, item: DigestItem, settings: Settings, rank: int | None = None
) -> list[Block]:
    title = item.title_translated or item.title
    prefix = f"{rank}. " if rank is not None else ""
    lines = [f"*{prefix}{link(item.url, title)}*"]
    if item.title_translated and item.title_translated != item.title:
        lines.append(escape(item.title, single_line=True))
    importance = importance_label(t, item.importance)
    lines.append(f"{stars(item.importance)} {importance} · {scores_line(t, item.scores)}")
    lines.append("_" + escaped_clip(t.join(item.sources), MAX_LABEL_CHARS) + "_")
    if item.tldr:
        lines.append(escape(truncate(clean(item.tldr, single_line=True), TLDR_CHARS)))
    body = "\n".join(lines)
    if len(body) > MAX_SECTION_CHARS:
        body = "\n".join(lines[:-1])
    notes = []
    if item.tags:
        notes.append(escape(" ".join(f"#{tag}" for tag in item.tags[:8]), single_line=True))
    if item.points is not None:
        points = t.plural("points", item.points)
        notes.append(f"{points} · {t.plural('comments', item.comments or 0)}")
    if item.alerted:
        notes.append(t("item.alerted"))
    if item.tool is not None:
        notes.insert(0, escape(tool_line(t, item.tool), single_line=True))
    if item.video is not None and video_line(t, item.video):
        notes.insert(0, escape(video_line(t, item.video), single_line=True))
    notes.append(link(article_permalink(settings, item.article_id), t("item.details")))
    block = section(body)
    thumbnail = safe_image_url(item.video.thumbnail) if item.video is not None else None
    if thumbnail:
        block["accessory"] = image_element(thumbnail, title)
    return [block, context(notes), DIVIDER]


MAX_ALT_TEXT = 2000


def safe_image_url(url: str) -> str | None:
    """An https image URL Slack can fetch (http thumbnails are upgraded), else None."""
    if url.startswith("http://"):
        url = "https://" + url.removeprefix("http://")
    if not url.startswith("https://") or safe_url(url) != url:
        return None
    return url


def image_element(url: str, alt: str) -> Block:
    """A Block Kit image element (a section accessory); alt text is plain, within its limit."""
    return {"type": "image", "image_url": url, "alt_text": plain(alt, MAX_ALT_TEXT)}


def render_digest_payloads(digest: Digest, settings: Settings) -> list[Payload]:
    """The exact chat.postMessage payloads (without `channel`) for one digest, worded in the
    digest's language."""
    t = reader(digest.lang, settings)
    heading = digest_heading(t, digest)
    info = [t.plural("digest.count", len(digest.items))]
    page = safe_url(digest_permalink(settings, digest.kind, digest.day.isoformat()))
    if page:
        info.append(f"<{page}|{escape(t('digest.web_view'), single_line=True)}>")
    head = [header(heading), context(info)]
    if digest.rising_tags:
        rising = t.join(f"#{tag} +{delta}" for tag, delta in digest.rising_tags)
        label = escape(t("rising_tags"), single_line=True)
        head.append(section(f"*{label}:* " + escape(rising, single_line=True)))
    if not digest.items:
        head.append(section(escape(t("digest.empty"))))
    units = [_item_blocks(t, item, settings, rank) for rank, item in enumerate(digest.items, 1)]
    lines = [heading] + [
        f"{rank}. {item.title_translated or item.title}"
        for rank, item in enumerate(digest.items, 1)
    ]
    return _payloads(t, "\n".join(lines), _pack(head, units))


def render_alert_payloads(item: DigestItem, settings: Settings, lang: str = "") -> list[Payload]:
    """One important story as an alert, worded in the channel's language."""
    t = reader(lang, settings)
    title = item.title_translated or item.title
    head = [header(t("alert.title", title=title))]
    fallback = t("alert.fallback", n=item.importance, title=title)
    return _payloads(t, fallback, _pack(head, [_item_blocks(t, item, settings)]))


def render_card_payloads(card: ArticleCard, settings: Settings, lang: str = "") -> list[Payload]:
    """`/ainews summary`: the article, its scores with reasons, TL;DR, key points, tags."""
    t = reader(lang, settings)
    title = card.title_translated or card.title
    meta = [
        escape(card.source, single_line=True),
        escape(t.datetime(card.published_at), single_line=True),
        escape(t.plural("reading_time", card.reading_minutes), single_line=True),
        escape(t("card.id", id=card.article_id), single_line=True),
        link(article_permalink(settings, card.article_id), t("item.details")),
    ]
    head = [header(title), section(f"*{link(card.url, card.title)}*"), context(meta)]
    units: list[list[Block]] = []
    if card.scores is not None:
        importance = escape(importance_label(t, card.importance), single_line=True)
        score_lines = [f"{stars(card.importance)} *{importance}*"]
        for name, dim in card.scores.as_dict().items():
            reason = escaped_clip(clean(str(dim["reason"]), single_line=True), 400)
            dimension = escape(t(DIMENSION_LABELS[name]), single_line=True)
            score_lines.append(f"• {dimension} {dim['score']}: {reason}")
        units.append([section("\n".join(score_lines))])
    else:
        units.append([section(escape(t("not_enriched")))])
    labelled = (
        (N_("tldr"), card.tldr),
        (N_("impact"), card.impact),
        (N_("editorial"), card.editorial),
    )
    for key, text in labelled:
        if text:
            label = escape(t(key), single_line=True)
            pieces = escaped_sections(text, MAX_SECTION_CHARS - 20)
            if not pieces:  # only whitespace or control characters: nothing to show
                continue
            units.append([section(f"*{label}:* {pieces[0]}")])
            units.extend([section(piece)] for piece in pieces[1:])
    if card.key_points:
        points = "\n".join("• " + escape(p, single_line=True) for p in card.key_points)
        units.extend([section(piece)] for piece in escaped_sections_raw(points))
    if card.tags:
        hashtags = " ".join(f"#{tag}" for tag in card.tags)
        units.append([context([escape(hashtags, single_line=True)])])
    if card.related_stories:
        lines = [
            f"• {link(article_permalink(settings, story.article_id), story.title)} "
            f"_({escape(story.why, single_line=True)})_"
            for story in card.related_stories
        ]
        heading = escape(t("related_articles"), single_line=True)
        units.extend(
            [section(piece)] for piece in escaped_sections_raw(f"*{heading}:*\n" + "\n".join(lines))
        )
    if card.related:
        related = "\n".join(
            f"• {link(article_permalink(settings, rid), rtitle)}" for rid, rtitle in card.related
        )
        also = escape(t("related"), single_line=True)
        units.extend([section(piece)] for piece in escaped_sections_raw(f"*{also}:*\n{related}"))
    fallback = f"{title} ({card.source}) {importance_label(t, card.importance)}"
    return _payloads(t, fallback, _pack(head, units))


def escaped_sections_raw(mrkdwn: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Already-escaped mrkdwn cut at line boundaries into section-sized pieces."""
    pieces: list[str] = []
    current = ""
    for line in mrkdwn.split("\n"):
        line = line[:limit]
        if current and len(current) + 1 + len(line) > limit:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    return pieces


def render_translation_payloads(
    view: TranslationView, title: str, url: str, settings: Settings, lang: str = ""
) -> list[Payload]:
    """A translation as one or more messages (a thread when long); partial ones say so."""
    t = reader(lang, settings)
    shown_title = view.title or title
    status = translation_status(t, view)
    into = t("translation_into", lang=t.lang_name(view.lang))
    head = [
        header(shown_title),
        context(
            [
                f"{link(url, title)}" if url else escape(title, single_line=True),
                escape(t("label", label=into, value=status), single_line=True),
            ]
        ),
    ]
    units = [[section(piece)] for piece in escaped_sections(view.body or t("translation.empty"))]
    fallback = f"{shown_title} ({t.lang_name(view.lang)}, {status})"
    return _payloads(t, fallback, _pack(head, units))


def _cards_units(
    t: Translator, cards: Sequence[ArticleCard], settings: Settings
) -> list[list[Block]]:
    units = []
    for card in cards:
        lines = [f"*{link(card.url, card.title_translated or card.title)}*"]
        lines.append(
            escape(t("card.id", id=card.article_id), single_line=True)
            + f" · {stars(card.importance)} · "
            + escape(card.source, single_line=True)
            + " · "
            + escape(t.short_date(card.published_at.date()), single_line=True)
        )
        if card.tldr:
            lines.append(escape(truncate(clean(card.tldr, single_line=True), 300)))
        units.append([section("\n".join(lines))])
    return units


def render_reply(reply: Reply, settings: Settings) -> list[Payload]:
    """Any command reply as message payloads (without `channel` or `response_type`), worded in
    the reply's language."""
    t = reader(reply.lang, settings)
    if reply.digest is not None:
        return render_digest_payloads(reply.digest, settings)
    if reply.card is not None:
        return render_card_payloads(reply.card, settings, reply.lang)
    if reply.translation is not None:
        return render_translation_payloads(
            reply.translation, reply.translation_title, reply.translation_url, settings, reply.lang
        )
    fallback = reply_text(reply, settings)
    if reply.cards and reply.intro:
        heading = t.render(reply.message) if reply.message is not None else ""
        intro = "\n".join(escape(t.render(line), single_line=True) for line in reply.intro)
        head = [header(heading)] if heading else []
        if intro:
            head.append(section(intro[:MAX_SECTION_CHARS]))
        return _payloads(t, fallback, _pack(head, _cards_units(t, reply.cards, settings)))
    if reply.cards:
        first_line = message_text(t, reply).split("\n", 1)[0]
        head = [section("*" + escape(first_line, single_line=True) + "*")]
        return _payloads(t, fallback, _pack(head, _cards_units(t, reply.cards, settings)))
    lines = reply_lines(t, reply)
    if reply.lines:
        body = "\n".join(escape(line, single_line=True) for line in lines)
        units = [[section(piece)] for piece in escaped_sections_raw(body)]
        return _payloads(t, fallback, _pack([], units))
    prefix = ":warning: " if reply.is_error else ""
    units = [[section(piece)] for piece in escaped_sections("\n".join(lines))]
    if prefix and units:
        units[0] = [section(prefix + units[0][0]["text"]["text"])]
    return _payloads(t, fallback, _pack([], units))

"""Discord rendering: digests, alerts and command replies as message payloads within Discord limits.

Everything taken from the web (titles, TL;DRs, tags, source names, translations) is made inert
here — Markdown escaped, mentions broken with a zero-width joiner — and every payload also says
`allowed_mentions: {"parse": []}`, so a title reading `@everyone` pings nobody either way.
Labels are worded in the channel's language from the shared catalogue (adapters/i18n).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Any

from discord.utils import escape_markdown

from adapters.i18n import Translator
from adapters.reply_text import (
    DIMENSION_LABELS,
    digest_heading,
    importance_label,
    message_text,
    reader,
    scores_line,
    stars,
    tool_line,
    translation_status,
    video_line,
)
from bot.config import Settings
from bot.links import article_permalink, digest_permalink
from bot.messages import Reply
from digest.models import ArticleCard, Digest, DigestItem, TranslationView
from digest.serialize import digest_from_dict, item_from_dict

__all__ = [
    "MAX_CONTENT",
    "MAX_EMBEDS",
    "MAX_EMBED_TOTAL",
    "NO_MENTIONS",
    "OutgoingMessage",
    "cut",
    "embed_chars",
    "inert",
    "neutralise_mentions",
    "part_nonce",
    "render_alert_payloads",
    "render_digest_payloads",
    "render_outbox_payload",
    "render_reply",
    "split_text",
]

# Discord's documented message limits (developers/resources/message).
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_TITLE = 256
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_AUTHOR = 256
MAX_NONCE = 25

# Digest embeds stay short so ten of them fit one message's 6,000-character budget.
DIGEST_TLDR_CHARS = 350
CARD_TLDR_CHARS = 1500
# A translation longer than this goes out as an attached Markdown file instead of many messages.
TRANSLATION_INLINE_CHARS = 8000
TRANSLATION_PART_CHARS = 1900

NO_MENTIONS: dict[str, list[str]] = {"parse": []}

IMPORTANCE_COLOURS = {5: 0xE74C3C, 4: 0xE67E22, 3: 0xF1C40F, 2: 0x3498DB, 1: 0x95A5A6}
UNSCORED_COLOUR = 0x95A5A6

_MENTION = re.compile(r"@(?=everyone|here|[!&]?\d)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])[\"')\]」』]*\s+|(?<=[。！？])")
_ZWJ = "\u200d"


def neutralise_mentions(text: str) -> str:
    """`@everyone`, `@here`, `<@123>`, `<@!123>`, `<@&123>` become inert (a joiner after `@`)."""
    return _MENTION.sub("@" + _ZWJ, text)


_HEADING = re.compile(r"(?m)^(\s*)(-#|#)")


def inert(text: str) -> str:
    """Untrusted text as literal Discord text: Markdown (masked links and line-start headings
    included) escaped and mentions broken."""
    escaped = escape_markdown(text.replace("\r", ""))
    return neutralise_mentions(_HEADING.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", escaped))


def _sentence_cut_point(text: str, limit: int) -> int:
    """The end of the last sentence within `limit` characters, or 0 when none ends there."""
    best = 0
    for match in _SENTENCE_END.finditer(text, 0, limit + 1):
        if match.start() <= limit:
            best = match.start()
    return best


def cut(text: str, limit: int) -> str:
    """Shorten to `limit` characters: at a sentence end if one is past half-way, else a word."""
    text = text.strip()
    if len(text) <= limit:
        return text
    room = max(1, limit - 1)
    at = _sentence_cut_point(text, room)
    if at < room // 2:
        space = text.rfind(" ", 0, room)
        at = space if space > room // 2 else room
    piece = text[:at].rstrip()
    # A trailing lone backslash would escape the ellipsis and change the rendered text.
    while piece.endswith("\\") and not piece.endswith("\\\\"):
        piece = piece[:-1]
    return piece + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Split long text into pieces of at most `limit` characters at paragraph/sentence ends."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        at = rest.rfind("\n", 0, limit + 1)
        if at < limit // 2:
            at = _sentence_cut_point(rest, limit)
        if at < limit // 2:
            space = rest.rfind(" ", 0, limit + 1)
            at = space if space > limit // 2 else limit
        # Never split an escape (`\*`) across messages: the star would start Markdown.
        while at > 1 and rest[at - 1] == "\\":
            at -= 1
        pieces.append(rest[:at].rstrip())
        rest = rest[at:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def part_nonce(nonce: str, index: int) -> str:
    """A stable per-message nonce: the outbox row's own for the first message, derived after."""
    if index == 0:
        return nonce[:MAX_NONCE]
    return hashlib.sha256(f"{nonce}:{index}".encode()).hexdigest()[:MAX_NONCE]


def embed_chars(embed: dict[str, Any]) -> int:
    """Characters Discord counts towards the 6,000 budget of one message's embeds."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", ""))
    total += len(embed.get("author", {}).get("name", ""))
    for item in embed.get("fields", ()):
        total += len(item["name"]) + len(item["value"])
    return total


def _http_url(url: str) -> str | None:
    return url if url.startswith(("http://", "https://")) and len(url) <= 2000 else None


def _colour(importance: int | None) -> int:
    return IMPORTANCE_COLOURS.get(importance or 0, UNSCORED_COLOUR)


def _field(name: str, value: str, *, inline: bool = True) -> dict[str, Any]:
    return {
        "name": cut(name, MAX_FIELD_NAME) or "\u200b",
        "value": cut(value, MAX_FIELD_VALUE) or "\u200b",
        "inline": inline,
    }


def _tags_value(t: Translator, tags: tuple[str, ...]) -> str:
    return inert(t.join(tags)) if tags else "—"


def _title(t: Translator, title: str, translated: str) -> str:
    return cut(inert(translated or title) or t("untitled"), MAX_TITLE)


def _importance(t: Translator, importance: int | None) -> str:
    if not importance:
        return t("unscored")
    return f"{stars(importance)} {t('importance_short', n=importance)}"


def item_embed(item: DigestItem, settings: Settings, t: Translator) -> dict[str, Any]:
    """One digest or alert entry: title link, source, ★ importance, scores, TL;DR, tags, link."""
    embed: dict[str, Any] = {
        "title": _title(t, item.title, item.title_translated),
        "color": _colour(item.importance),
        "author": {"name": cut(inert(t.join(item.sources)) or "ainews", MAX_AUTHOR)},
        "fields": [
            _field(t("importance"), _importance(t, item.importance)),
            _field(t("scores"), scores_line(t, item.scores)),
            _field(t("tags"), _tags_value(t, item.tags)),
            _field(
                "ainews", f"[#{item.article_id}]({article_permalink(settings, item.article_id)})"
            ),
        ],
        "timestamp": item.published_at.isoformat(),
    }
    url = _http_url(item.url)
    if url:
        embed["url"] = url
    if item.tldr:
        embed["description"] = cut(inert(item.tldr), DIGEST_TLDR_CHARS)
    if item.points is not None:
        points = t.plural("points", item.points)
        embed["footer"] = {"text": f"{points} · {t.plural('comments', item.comments or 0)}"}
    if item.tool is not None:
        embed["footer"] = {"text": cut(inert(tool_line(t, item.tool)), MAX_FOOTER)}
    if item.video is not None:
        details = video_line(t, item.video)
        if details:
            embed["footer"] = {"text": cut(inert(details), MAX_FOOTER)}
        thumbnail = _http_url(item.video.thumbnail.replace("http://", "https://", 1))
        if thumbnail:
            embed["thumbnail"] = {"url": thumbnail}
    return embed


MAX_FOOTER = 2048


def _pack(header: str, embeds: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Group embeds into messages of ≤10 embeds and ≤6,000 embed characters; header first."""
    messages: list[tuple[str, list[dict[str, Any]]]] = []
    current: list[dict[str, Any]] = []
    used = 0
    for embed in embeds:
        size = embed_chars(embed)
        if current and (len(current) >= MAX_EMBEDS or used + size > MAX_EMBED_TOTAL):
            messages.append(("", current))
            current, used = [], 0
        current.append(embed)
        used += size
    if current or not messages:
        messages.append(("", current))
    _, first_embeds = messages[0]
    messages[0] = (cut(header, MAX_CONTENT), first_embeds)
    return messages


def _distinct_urls(embeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Discord merges embeds of one message that share a `url` into one and drops the others'
    text; a repeated url is left off the later embeds so each story stays visible."""
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for embed in embeds:
        url = embed.get("url")
        if url in seen:
            embed = {key: value for key, value in embed.items() if key != "url"}
        elif url:
            seen.add(url)
        out.append(embed)
    return out


def _payloads(messages: list[tuple[str, list[dict[str, Any]]]], nonce: str) -> list[dict[str, Any]]:
    return [
        {
            "content": content,
            "embeds": _distinct_urls(embeds),
            "allowed_mentions": NO_MENTIONS,
            "nonce": part_nonce(nonce, index),
            "enforce_nonce": True,
        }
        for index, (content, embeds) in enumerate(messages)
    ]


def digest_nonce(digest: Digest) -> str:
    """A deterministic nonce for a digest rendered outside the outbox (e.g. the CLI)."""
    ids = ",".join(str(item.story_id) for item in digest.items)
    key = f"{digest.kind}:{digest.day.isoformat()}:{digest.lang}:{digest.tag}:{ids}"
    return hashlib.sha256(key.encode()).hexdigest()[:MAX_NONCE]


def _digest_header(digest: Digest, settings: Settings, t: Translator) -> str:
    heading = inert(digest_heading(t, digest))
    link = digest_permalink(settings, digest.kind, digest.day.isoformat())
    if not digest.items:
        return f"**{heading}** — {inert(t('digest.empty'))} <{link}>"
    count = inert(t.plural("digest.count", len(digest.items)))
    header = f"**{heading}** — {count} · <{link}>"
    if digest.rising_tags:
        rising = t.join(f"{tag} +{delta}" for tag, delta in digest.rising_tags[:8])
        header += "\n" + inert(t("label", label=t("rising_tags"), value=rising))
    return header


def render_digest_payloads(
    digest: Digest, settings: Settings, *, nonce: str | None = None
) -> list[dict[str, Any]]:
    """The exact message payload(s) for one digest, worded in the digest's language; `nonce`
    is the outbox row's nonce."""
    t = reader(digest.lang, settings)
    embeds = [item_embed(item, settings, t) for item in digest.items]
    messages = _pack(_digest_header(digest, settings, t), embeds)
    return _payloads(messages, nonce or digest_nonce(digest))


def render_alert_payloads(
    item: DigestItem, lang: str, settings: Settings, *, nonce: str | None = None
) -> list[dict[str, Any]]:
    """One alert in the channel's language: a short line and the story's embed."""
    t = reader(lang, settings)
    label = inert(t("alert.label"))
    header = f"**{label}** · {stars(item.importance)} {inert(importance_label(t, item.importance))}"
    messages = _pack(header, [item_embed(item, settings, t)])
    key = nonce or hashlib.sha256(f"alert:{item.story_id}:{lang}".encode()).hexdigest()
    return _payloads(messages, key)


def render_outbox_payload(
    payload: dict[str, Any], settings: Settings, nonce: str
) -> list[dict[str, Any]]:
    """Turn an outbox payload (`{"type": "digest"|"alert", …}`) into Discord messages."""
    kind = payload.get("type")
    if kind == "digest":
        return render_digest_payloads(digest_from_dict(payload["digest"]), settings, nonce=nonce)
    if kind == "alert":
        item = item_from_dict(payload["item"])
        return render_alert_payloads(item, str(payload.get("lang", "")), settings, nonce=nonce)
    raise ValueError(f"unknown outbox payload type {kind!r}")


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message of a command answer; `attachment` is (file name, bytes) when set."""

    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    ephemeral: bool = False
    attachment: tuple[str, bytes] | None = None


def card_embed(card: ArticleCard, settings: Settings, t: Translator) -> dict[str, Any]:
    """The summary of one article: TL;DR, key points, the four scores with reasons, tags."""
    description = inert(card.tldr) if card.tldr else ""
    points = "\n".join(f"• {inert(point)}" for point in card.key_points)
    text = "\n\n".join(part for part in (description, points) if part)
    embed: dict[str, Any] = {
        "title": _title(t, card.title, card.title_translated),
        "color": _colour(card.importance),
        "author": {"name": cut(inert(card.source) or "ainews", MAX_AUTHOR)},
        "timestamp": card.published_at.isoformat(),
        "footer": {
            "text": f"#{card.article_id} · {t.plural('reading_time', card.reading_minutes)}"
        },
    }
    url = _http_url(card.url)
    if url:
        embed["url"] = url
    if text:
        embed["description"] = cut(text, CARD_TLDR_CHARS)
    fields = [
        _field(t("importance"), _importance(t, card.importance)),
        _field(t("tags"), _tags_value(t, card.tags)),
    ]
    if card.scores is not None:
        for name, dim in card.scores.as_dict().items():
            label = f"{t(DIMENSION_LABELS[name])} {t('importance_short', n=dim['score'])}"
            fields.append(_field(label, inert(str(dim["reason"])) or "—", inline=False))
    else:
        fields.append(_field(t("scores"), t("not_enriched"), inline=False))
    if card.impact:
        fields.append(_field(t("impact"), inert(card.impact), inline=False))
    if card.related_stories:
        lines = [
            f"[#{story.article_id}]({article_permalink(settings, story.article_id)}) "
            f"{inert(story.title)} ({inert(story.why)})"
            for story in card.related_stories
        ]
        fields.append(
            _field(t("related_articles"), _lines_within(lines, MAX_FIELD_VALUE), inline=False)
        )
    if card.related:
        related = "\n".join(f"#{rid} {inert(title)}" for rid, title in card.related[:5])
        fields.append(_field(t("related"), related, inline=False))
    link = article_permalink(settings, card.article_id)
    fields.append(_field("ainews", f"[#{card.article_id}]({link})"))
    embed["fields"] = fields[:MAX_FIELDS]
    return embed


def _card_line_embed(card: ArticleCard, settings: Settings, t: Translator) -> dict[str, Any]:
    embed: dict[str, Any] = {
        "title": _title(t, card.title, card.title_translated),
        "color": _colour(card.importance),
        "description": cut(
            f"{stars(card.importance)} · {inert(card.source)} · #{card.article_id}"
            + (f"\n{inert(card.tldr)}" if card.tldr else ""),
            DIGEST_TLDR_CHARS,
        ),
        "fields": [
            _field(
                "ainews", f"[#{card.article_id}]({article_permalink(settings, card.article_id)})"
            )
        ],
    }
    url = _http_url(card.url)
    if url:
        embed["url"] = url
    return embed


def _text_messages(t: Translator, text: str, ephemeral: bool) -> list[OutgoingMessage]:
    parts = split_text(neutralise_mentions(text), 1990) or [t("done")]
    return [OutgoingMessage(content=part, ephemeral=ephemeral) for part in parts]


def _translation_messages(
    t: Translator, view: TranslationView, title: str, url: str, ephemeral: bool
) -> list[OutgoingMessage]:
    heading = inert(view.title or title) or t("translation")
    status = "" if view.status == "complete" else f" — {inert(translation_status(t, view))}"
    link = f"\n<{url}>" if _http_url(url) else ""
    into = inert(t("translation_into", lang=t.lang_name(view.lang)))
    header = cut(f"**{heading}** {into}{status}{link}", MAX_CONTENT)
    body = view.body.strip()
    if len(body) > TRANSLATION_INLINE_CHARS:
        name = f"translation-{re.sub(r'[^a-z0-9-]', '', view.lang.lower()) or 'text'}.md"
        document = f"# {view.title or title}\n\n{body}\n"
        note = f"{header}\n{inert(t.plural('translation.attached', len(body)))}"
        return [
            OutgoingMessage(
                content=cut(note, MAX_CONTENT),
                ephemeral=ephemeral,
                attachment=(name, document.encode()),
            )
        ]
    parts = split_text(inert(body), TRANSLATION_PART_CHARS) or [inert(t("translation.empty"))]
    messages = [OutgoingMessage(content=header, ephemeral=ephemeral)]
    messages.extend(OutgoingMessage(content=part, ephemeral=ephemeral) for part in parts)
    return messages


def render_reply(reply: Reply, settings: Settings) -> list[OutgoingMessage]:
    """A command answer as one or more messages, each within Discord's limits, worded in the
    reply's language."""
    t = reader(reply.lang, settings)
    ephemeral = reply.ephemeral
    if reply.translation is not None:
        return _translation_messages(
            t, reply.translation, reply.translation_title, reply.translation_url, ephemeral
        )
    if reply.digest is not None:
        payloads = render_digest_payloads(reply.digest, settings)
        return [
            OutgoingMessage(content=p["content"], embeds=p["embeds"], ephemeral=ephemeral)
            for p in payloads
        ]
    if reply.card is not None:
        embed = card_embed(reply.card, settings, t)
        return [OutgoingMessage(embeds=[embed], ephemeral=ephemeral)]
    if reply.cards:
        embeds = [_card_line_embed(card, settings, t) for card in reply.cards]
        first_line = message_text(t, reply).split("\n", 1)[0]
        heading = neutralise_mentions(first_line)
        if reply.intro:
            heading = "\n".join(
                [f"**{inert(first_line)}**", *(inert(t.render(line)) for line in reply.intro)]
            )
        return [
            OutgoingMessage(content=content, embeds=_distinct_urls(group), ephemeral=ephemeral)
            for content, group in _pack(heading, embeds)
        ]
    head = message_text(t, reply) if reply.message is not None or reply.usage else ""
    # lines carry data from outside (feed names, a feed's error text): shown as typed
    lines = [inert(t.render(line)) for line in reply.lines]
    text = "\n".join([neutralise_mentions(head), *lines] if head else lines).strip()
    messages = _text_messages(t, text or t("done"), ephemeral)
    if reply.chart_png:
        # the chart rides on the last text message: one answer, the image under the risers
        messages[-1] = replace(
            messages[-1], attachment=(reply.chart_name or "chart.png", reply.chart_png)
        )
    return messages


def _lines_within(lines: list[str], limit: int) -> str:
    """Whole lines up to `limit` characters (a field value), never half a link."""
    kept: list[str] = []
    used = 0
    for line in lines:
        line = cut(line, limit)
        if used + len(line) + 1 > limit:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept) or "—"

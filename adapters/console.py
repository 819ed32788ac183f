"""The console destination: digests and alerts rendered as plain text on a terminal stream.

`ainews run` without tokens delivers here, so a newcomer sees exactly what a channel would get,
in the language the channel reads (the payload's `lang`, else `[translate] default_lang`).
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from adapters.i18n import Translator, translator
from adapters.reply_text import DIGEST_TITLES, scores_line, tool_line, video_line
from bot.ports import PartPosted, SentMessage, ignore_part
from digest.models import Digest, DigestItem
from digest.serialize import digest_from_dict, item_from_dict

RULE = "─" * 72


def _one_line(text: str) -> str:
    """Feed text is untrusted: no control characters or line breaks may shape the terminal."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _scores(t: Translator, item: DigestItem) -> str:
    importance = t("importance_label", n=item.importance)
    if item.scores is None:
        return f"{importance} ({t('not_enriched')})"
    return f"{importance} · {scores_line(t, item.scores)}"


def render_item_text(t: Translator, item: DigestItem, *, rank: int | None = None) -> str:
    """One story: title, translated title, sources and scores, TL;DR, tags, link."""
    head = f"{rank:>2}. " if rank is not None else ""
    pad = " " * len(head)
    lines = [f"{head}{_one_line(item.title)}"]
    translated = _one_line(item.title_translated)
    if translated and translated != _one_line(item.title):
        lines.append(f"{pad}{translated}")
    sources = t.join(_one_line(s) for s in item.sources) or t("item.unknown_source")
    meta = f"{pad}{sources} · {_scores(t, item)}"
    if item.points is not None:
        meta += f" · {t.plural('points', item.points)}"
    if item.alerted:
        meta += f" · {t('item.alerted')}"
    lines.append(meta)
    if item.tool is not None:
        lines.append(f"{pad}{_one_line(tool_line(t, item.tool))}")
    if item.video is not None and video_line(t, item.video):
        lines.append(f"{pad}{_one_line(video_line(t, item.video))}")
    if item.tldr:
        lines.append(f"{pad}{_one_line(item.tldr)}")
    if item.tags:
        lines.append(f"{pad}#" + " #".join(_one_line(t) for t in item.tags))
    lines.append(f"{pad}{_one_line(item.url)}")
    return "\n".join(lines)


def render_digest_text(digest: Digest, default_lang: str = "ja") -> str:
    """A digest as a terminal reads it, in the digest's language; an empty digest says so
    instead of printing nothing."""
    t = translator(digest.lang or default_lang)
    title = t(DIGEST_TITLES.get(digest.kind, DIGEST_TITLES["daily"]))
    header = f"{title} — {t.date(digest.day)}"
    if digest.tag:
        header += f" — #{digest.tag}"
    count = t.plural("digest.count", len(digest.items))
    lines = [RULE, f"{header} ({count})", RULE]
    if not digest.items:
        lines.append(t("digest.empty"))
    for rank, item in enumerate(digest.items, start=1):
        lines.append(render_item_text(t, item, rank=rank))
        lines.append("")
    if digest.rising_tags:
        rising = t.join(f"#{tag} (+{delta})" for tag, delta in digest.rising_tags)
        lines.append(t("label", label=t("rising_tags"), value=rising))
    return "\n".join(lines).rstrip() + "\n"


def render_alert_text(item: DigestItem, lang: str = "ja") -> str:
    t = translator(lang)
    return f"{RULE}\n{t('alert.console')}\n{render_item_text(t, item)}\n"


def render_payload_text(payload: dict[str, Any], default_lang: str = "ja") -> str:
    """Render an outbox payload (digest or alert) in the language it was queued for."""
    if payload.get("type") == "alert":
        lang = str(payload.get("lang") or default_lang)
        return render_alert_text(item_from_dict(payload["item"]), lang)
    return render_digest_text(digest_from_dict(payload["digest"]), default_lang)


class ConsoleNotifier:
    """Notifier for platform "console": writes to a stream; the message id is the row's nonce."""

    platform = "console"

    def __init__(self, stream: TextIO | None = None, default_lang: str = "ja") -> None:
        self.stream = stream
        self.default_lang = default_lang
        self._lock = asyncio.Lock()
        self._counter = itertools.count(1)

    async def send(
        self,
        workspace: str,
        channel: str,
        payload: dict[str, Any],
        nonce: str,
        *,
        done: Sequence[str] = (),
        on_part: PartPosted = ignore_part,
    ) -> SentMessage:
        text = render_payload_text(payload, self.default_lang)
        stream = self.stream or sys.stdout
        async with self._lock:  # one message at a time, never interleaved
            stream.write(text)
            stream.flush()
        return SentMessage(platform_message_id=f"console-{next(self._counter)}-{nonce}")

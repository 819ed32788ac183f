"""The console destination: digests and alerts rendered as plain text on a terminal stream.

`ainews run` without tokens delivers here, so a newcomer sees exactly what a channel would get.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from typing import Any, TextIO

from bot.ports import SentMessage
from bot.replies import tool_line, video_line
from digest.models import Digest, DigestItem
from digest.serialize import digest_from_dict, item_from_dict

RULE = "─" * 72
KIND_TITLES = {
    "daily": "Daily AI digest",
    "weekly": "Weekly AI digest",
    "hn": "Hacker News on AI",
    "tools": "AI tools by momentum",
    "videos": "AI videos",
}
SCORE_LABELS = (("depth", "D"), ("relevance", "R"), ("practicality", "P"), ("innovation", "I"))


def _one_line(text: str) -> str:
    """Feed text is untrusted: no control characters or line breaks may shape the terminal."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _scores(item: DigestItem) -> str:
    if item.scores is None:
        return f"importance {item.importance}/5 (not scored yet)"
    parts = " ".join(f"{label}{getattr(item.scores, name).score}" for name, label in SCORE_LABELS)
    return f"importance {item.importance}/5 · {parts}"


def render_item_text(item: DigestItem, *, rank: int | None = None) -> str:
    """One story: title, translated title, sources and scores, TL;DR, tags, link."""
    head = f"{rank:>2}. " if rank is not None else ""
    pad = " " * len(head)
    lines = [f"{head}{_one_line(item.title)}"]
    translated = _one_line(item.title_translated)
    if translated and translated != _one_line(item.title):
        lines.append(f"{pad}{translated}")
    sources = ", ".join(_one_line(s) for s in item.sources) or "unknown source"
    meta = f"{pad}{sources} · {_scores(item)}"
    if item.points is not None:
        meta += f" · {item.points} points"
    if item.alerted:
        meta += " · alerted"
    lines.append(meta)
    if item.tool is not None:
        lines.append(f"{pad}{_one_line(tool_line(item.tool))}")
    if item.video is not None and video_line(item.video):
        lines.append(f"{pad}{_one_line(video_line(item.video))}")
    if item.tldr:
        lines.append(f"{pad}{_one_line(item.tldr)}")
    if item.tags:
        lines.append(f"{pad}#" + " #".join(_one_line(t) for t in item.tags))
    lines.append(f"{pad}{_one_line(item.url)}")
    return "\n".join(lines)


def render_digest_text(digest: Digest) -> str:
    """A digest as a terminal reads it; an empty digest says so instead of printing nothing."""
    title = KIND_TITLES.get(digest.kind, digest.kind)
    header = f"{title} — {digest.day.isoformat()}"
    if digest.tag:
        header += f" — #{digest.tag}"
    lines = [RULE, header, RULE]
    if not digest.items:
        lines.append("No stories in this window yet.")
    for rank, item in enumerate(digest.items, start=1):
        lines.append(render_item_text(item, rank=rank))
        lines.append("")
    if digest.rising_tags:
        rising = ", ".join(f"#{tag} (+{delta})" for tag, delta in digest.rising_tags)
        lines.append(f"Rising this week: {rising}")
    return "\n".join(lines).rstrip() + "\n"


def render_alert_text(item: DigestItem) -> str:
    return f"{RULE}\nALERT — important story\n{render_item_text(item)}\n"


def render_payload_text(payload: dict[str, Any]) -> str:
    """Render an outbox payload (digest or alert)."""
    if payload.get("type") == "alert":
        return render_alert_text(item_from_dict(payload["item"]))
    return render_digest_text(digest_from_dict(payload["digest"]))


class ConsoleNotifier:
    """Notifier for platform "console": writes to a stream; the message id is the row's nonce."""

    platform = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._lock = asyncio.Lock()
        self._counter = itertools.count(1)

    async def send(
        self, workspace: str, channel: str, payload: dict[str, Any], nonce: str
    ) -> SentMessage:
        text = render_payload_text(payload)
        stream = self.stream or sys.stdout
        async with self._lock:  # one message at a time, never interleaved
            stream.write(text)
            stream.flush()
        return SentMessage(platform_message_id=f"console-{next(self._counter)}-{nonce}")

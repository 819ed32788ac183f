"""Per-channel mutes: a source, a keyword or a tag a channel does not want pushed.

Mutes filter what digests and alerts carry to that channel; they never touch the stored story.
A story carried by several sources is muted by source only when every one of them is muted, so
muting a noisy aggregator does not hide news that others reported too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import CommandError
from bot.messages import N_, Msg, msg
from bot.store.schema import ChannelMute, Source
from bot.store.sources import find_source
from digest.models import StoryCandidate

MuteKind = Literal["source", "keyword", "tag"]
KINDS: tuple[MuteKind, ...] = ("source", "keyword", "tag")
MUTE_KINDS: dict[str, str] = {
    "source": N_("mute.kind_source"),
    "keyword": N_("mute.kind_keyword"),
    "tag": N_("mute.kind_tag"),
}
MAX_MUTE_CHARS = 100
MAX_MUTES_PER_CHANNEL = 100


@dataclass(frozen=True, slots=True)
class Mute:
    kind: MuteKind
    value: str  # casefolded: a source name, a keyword or a tag
    label: str  # as the user will read it

    def describe(self) -> Msg:
        """How a person reads this mute: `source Wire`, `keyword crypto`, `tag evals`."""
        return msg(MUTE_KINDS[self.kind], label=self.label)


@dataclass(frozen=True, slots=True)
class Mutes:
    """A channel's mutes, with the test a story must pass to be pushed there."""

    items: tuple[Mute, ...] = ()

    def reason(self, story: StoryCandidate) -> Mute | None:
        """The mute that hides this story from the channel, or None."""
        sources = {name.casefold() for name in story.sources}
        muted_sources = {m.value for m in self.items if m.kind == "source"}
        if sources and sources <= muted_sources:
            return next(m for m in self.items if m.kind == "source" and m.value in sources)
        tags = {tag.casefold() for tag in story.tags}
        text = f"{story.title}\n{story.tldr}\n{story.title_translated}".casefold()
        for mute in self.items:
            if mute.kind == "tag" and mute.value in tags:
                return mute
            if mute.kind == "keyword" and _mentions(text, mute.value):
                return mute
        return None

    def keep(self, stories: Iterable[StoryCandidate]) -> list[StoryCandidate]:
        return [story for story in stories if self.reason(story) is None]


def _mentions(text: str, keyword: str) -> bool:
    """Whole-word match for Latin words (so `ai` does not hit `said`), substring otherwise."""
    if keyword.isascii():
        return re.search(rf"(?<![\w]){re.escape(keyword)}(?![\w])", text) is not None
    return keyword in text


async def mutes_by_channel(session: AsyncSession, channel_ids: Iterable[int]) -> dict[int, Mutes]:
    ids = sorted(set(channel_ids))
    found: dict[int, list[Mute]] = {channel_id: [] for channel_id in ids}
    for start in range(0, len(ids), 500):
        rows = await session.scalars(
            select(ChannelMute)
            .where(ChannelMute.channel_id.in_(ids[start : start + 500]))
            .order_by(ChannelMute.id)
        )
        for row in rows:
            found[row.channel_id].append(_mute_of(row))
    return {channel_id: Mutes(tuple(items)) for channel_id, items in found.items()}


def _mute_of(row: ChannelMute) -> Mute:
    kind: MuteKind = row.kind if row.kind in KINDS else "keyword"
    return Mute(kind=kind, value=row.value, label=row.label or row.value)


async def resolve_mute(session: AsyncSession, words: Sequence[str]) -> Mute:
    """`source <id|url|name>`, `keyword <words>`, `tag <tag>`, or one bare word: a known source,
    else a tag seen on stories, else a keyword."""
    if not words:
        raise CommandError(msg("mute.what"))
    kind: MuteKind | None = None
    first = words[0].casefold()
    if first in KINDS and len(words) > 1:
        kind = first
        words = words[1:]
    text = " ".join(words).strip()
    if len(text) > MAX_MUTE_CHARS:
        raise CommandError(msg("mute.too_long", limit=MAX_MUTE_CHARS))
    if kind in (None, "source"):
        source = await _find_source(session, text)
        if source is not None:
            return Mute("source", source.name.casefold(), source.name)
        if kind == "source":
            raise CommandError(msg("admin.sources.not_found", target=repr(text[:60])))
    if kind == "tag" or (kind is None and text.startswith("#")):
        tag = text.lstrip("#").casefold()
        if not tag or " " in tag:
            raise CommandError(msg("mute.not_tag", what=repr(text[:40])))
        return Mute("tag", tag, tag)
    if kind is None and " " not in text and await _known_tag(session, text.casefold()):
        return Mute("tag", text.casefold(), text.casefold())
    if len(text) < 2:
        raise CommandError(msg("mute.keyword_short"))
    return Mute("keyword", text.casefold(), text)


async def _find_source(session: AsyncSession, text: str) -> Source | None:
    found = await find_source(session, text.strip("<>"))
    if found is not None:
        return found
    rows = await session.scalars(select(Source))
    return next((row for row in rows if row.name.casefold() == text.casefold()), None)


async def _known_tag(session: AsyncSession, tag: str) -> bool:
    from bot.store.schema import EnrichmentRow

    recent = await session.scalars(
        select(EnrichmentRow.tags).order_by(EnrichmentRow.id.desc()).limit(2000)
    )
    return any(tag in (tags or []) for tags in recent)


async def add_mute(session: AsyncSession, channel_id: int, mute: Mute) -> bool:
    """True when new; the same mute twice is one row."""
    existing = await session.scalar(
        select(ChannelMute).where(
            ChannelMute.channel_id == channel_id,
            ChannelMute.kind == mute.kind,
            ChannelMute.value == mute.value,
        )
    )
    if existing is not None:
        return False
    count = len((await mutes_by_channel(session, [channel_id]))[channel_id].items)
    if count >= MAX_MUTES_PER_CHANNEL:
        raise CommandError(msg("mute.too_many", limit=MAX_MUTES_PER_CHANNEL))
    session.add(
        ChannelMute(channel_id=channel_id, kind=mute.kind, value=mute.value, label=mute.label)
    )
    await session.flush()
    return True


async def remove_mute(session: AsyncSession, channel_id: int, mute: Mute) -> bool:
    result = await session.execute(
        delete(ChannelMute).where(
            ChannelMute.channel_id == channel_id,
            ChannelMute.kind == mute.kind,
            ChannelMute.value == mute.value,
        )
    )
    return bool(getattr(result, "rowcount", 0))

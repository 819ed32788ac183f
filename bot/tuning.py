"""What a channel has tuned: its mutes and its feedback preferences, applied the same way by
digests, alerts, `/ainews why` and `/ainews preview` — so an explanation is the real decision."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.feedback import Preferences, entities_of, preferences_by_channel
from bot.mutes import Mutes, mutes_by_channel
from digest.models import StoryCandidate


@dataclass(frozen=True, slots=True)
class Tuning:
    mutes: Mutes = field(default_factory=Mutes)
    prefs: Preferences = field(default_factory=Preferences)

    @property
    def needs_entities(self) -> bool:
        return any(feature.startswith("entity:") for feature in self.prefs.net)

    def select(
        self, stories: Sequence[StoryCandidate], entities: Mapping[int, list[str]]
    ) -> tuple[list[StoryCandidate], dict[int, float]]:
        """Stories not muted, and the feedback bonus of each (bounded, ranking only)."""
        kept = self.mutes.keep(stories)
        return kept, self.prefs.boosts(kept, entities)


NO_TUNING = Tuning()


async def tuning_by_channel(session: AsyncSession, channel_ids: Iterable[int]) -> dict[int, Tuning]:
    ids = set(channel_ids)
    if not ids:
        return {}
    mutes = await mutes_by_channel(session, ids)
    prefs = await preferences_by_channel(session, ids)
    return {channel_id: Tuning(mutes[channel_id], prefs[channel_id]) for channel_id in ids}


async def entities_for(
    session: AsyncSession, tunings: Iterable[Tuning], stories: Iterable[StoryCandidate]
) -> dict[int, list[str]]:
    """Entities of these stories' articles, read only when some preference is about entities."""
    if not any(tuning.needs_entities for tuning in tunings):
        return {}
    return await entities_of(session, (story.article_id for story in stories))

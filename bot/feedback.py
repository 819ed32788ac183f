"""Per-channel feedback: 👍/👎 on pushed stories become preferences for sources, tags and entities.

A preference moves a story's rank in that channel's digests and its distance to the alert
threshold — never its stored rubric scores, and never by more than `MAX_BOOST` importance
points, however many votes pile up. Each person has one vote per story; `reset` forgets them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import find_channel
from bot.messages import Destination
from bot.runtime import StoreContext
from bot.store.read import story_sources
from bot.store.schema import ArticleRow, Delivery, EnrichmentRow, FeedbackVote
from digest.models import StoryCandidate

# One net vote on a feature is worth this much importance; a feature counts at most
# FEATURE_CAP net votes, and a story's total bonus stays within ±MAX_BOOST.
STEP = 0.25
FEATURE_CAP = 4
MAX_BOOST = 1.0
UP_REACTIONS = frozenset({"+1", "thumbsup", "👍", "heart", "❤️", "star", "⭐", "fire", "🔥"})
DOWN_REACTIONS = frozenset({"-1", "thumbsdown", "👎"})


def vote_of_reaction(name: str) -> int:
    """+1, -1 or 0 for a Slack reaction name or a Discord emoji (skin tones ignored)."""
    base = name.split("::", 1)[0]
    if base in UP_REACTIONS:
        return 1
    if base in DOWN_REACTIONS:
        return -1
    return 0


@dataclass(frozen=True, slots=True)
class Preferences:
    """Net votes per feature (`source:Name`, `tag:llm`, `entity:openai`), each capped."""

    net: Mapping[str, int] = field(default_factory=dict)

    def explain(
        self, story: StoryCandidate, entities: Iterable[str] = ()
    ) -> tuple[float, list[str]]:
        """The bounded bonus for one story and the features that made it."""
        reasons: list[str] = []
        total = 0.0
        for feature in features_of(story.sources, story.tags, entities):
            votes = self.net.get(feature, 0)
            if votes:
                total += STEP * votes
                reasons.append(f"{feature} {votes:+d}")
        bounded = max(-MAX_BOOST, min(MAX_BOOST, total))
        return round(bounded, 2), reasons

    def boosts(
        self, stories: Iterable[StoryCandidate], entities: Mapping[int, list[str]]
    ) -> dict[int, float]:
        found: dict[int, float] = {}
        for story in stories:
            bonus, _ = self.explain(story, entities.get(story.article_id, ()))
            if bonus:
                found[story.story_id] = bonus
        return found


def features_of(sources: Iterable[str], tags: Iterable[str], entities: Iterable[str]) -> list[str]:
    return sorted(
        {f"source:{s}" for s in sources if s}
        | {f"tag:{t.casefold()}" for t in tags if t}
        | {f"entity:{e.casefold()}" for e in entities if e}
    )


async def preferences_by_channel(
    session: AsyncSession, channel_ids: Iterable[int]
) -> dict[int, Preferences]:
    ids = sorted(set(channel_ids))
    counted: dict[int, Counter[str]] = {channel_id: Counter() for channel_id in ids}
    for start in range(0, len(ids), 500):
        rows = await session.scalars(
            select(FeedbackVote).where(FeedbackVote.channel_id.in_(ids[start : start + 500]))
        )
        for row in rows:
            sources = [name for name in row.source_name.split("\n") if name]
            for feature in features_of(sources, row.tags or (), row.entities or ()):
                counted[row.channel_id][feature] += row.vote
    return {
        channel_id: Preferences(
            {
                feature: max(-FEATURE_CAP, min(FEATURE_CAP, votes))
                for feature, votes in counter.items()
                if votes
            }
        )
        for channel_id, counter in counted.items()
    }


async def entities_of(session: AsyncSession, article_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = sorted(set(article_ids))
    found: dict[int, list[str]] = {}
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(EnrichmentRow.article_id, EnrichmentRow.entities).where(
                EnrichmentRow.article_id.in_(ids[start : start + 500])
            )
        )
        for article_id, entities in rows:
            found[article_id] = list(entities or [])
    return found


async def record_vote(
    session: AsyncSession, channel_id: int, story_id: int, user: str, vote: int
) -> bool:
    """Store (or replace, or with 0 withdraw) one person's vote; False when the story is unknown."""
    article = await session.scalar(
        select(ArticleRow).where(ArticleRow.story_id == story_id).order_by(ArticleRow.id).limit(1)
    )
    if article is None:
        return False
    existing = await session.scalar(
        select(FeedbackVote).where(
            FeedbackVote.channel_id == channel_id,
            FeedbackVote.story_id == story_id,
            FeedbackVote.user == user[:100],
        )
    )
    if vote == 0:
        if existing is not None:
            await session.delete(existing)
        return True
    enrichment = await session.scalar(
        select(EnrichmentRow).where(EnrichmentRow.article_id == article.id)
    )
    sources = (await story_sources(session, [story_id])).get(story_id, [])
    row = existing or FeedbackVote(channel_id=channel_id, story_id=story_id, user=user[:100])
    row.vote = 1 if vote > 0 else -1
    row.source_name = "\n".join(sources)[:200]
    row.tags = list(enrichment.tags) if enrichment else []
    row.entities = list(enrichment.entities) if enrichment else []
    session.add(row)
    await session.flush()
    return True


async def reset(session: AsyncSession, channel_id: int) -> int:
    result = await session.execute(
        delete(FeedbackVote).where(FeedbackVote.channel_id == channel_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def vote_by_reaction(
    ctx: StoreContext,
    destination: Destination,
    message_id: str,
    user: str,
    reaction: str,
    *,
    removed: bool = False,
) -> bool:
    """A 👍/👎 reaction on a pushed alert becomes (or, removed, withdraws) that person's vote.

    Only alerts count: one alert message is one story, while a digest message holds many, so a
    reaction on it cannot say which story it means. Returns whether a vote changed."""
    vote = vote_of_reaction(reaction)
    if vote == 0 or not message_id:
        return False
    async with ctx.db.session() as session:
        channel = await find_channel(session, destination)
        if channel is None:
            return False
        delivery = await session.scalar(
            select(Delivery).where(
                Delivery.channel_id == channel.id,
                Delivery.platform_message_id == message_id,
                Delivery.kind == "alert",
            )
        )
        story_id = (
            ((delivery.payload or {}).get("item") or {}).get("story_id") if delivery else None
        )
        if not isinstance(story_id, int):
            return False
        if removed:
            existing = await session.scalar(
                select(FeedbackVote).where(
                    FeedbackVote.channel_id == channel.id,
                    FeedbackVote.story_id == story_id,
                    FeedbackVote.user == user[:100],
                    FeedbackVote.vote == vote,
                )
            )
            if existing is None:
                return False
            await session.delete(existing)
            return True
        return await record_vote(session, channel.id, story_id, user, vote)

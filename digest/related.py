"""Related stories: other stories sharing this one's companies, models, tools or topic.

Other coverage of the same story counts too, but is not the only kind: a reader of a Gemma
release also wants last week's Gemma benchmark. The five strongest links are kept (one line per
story) and shown most recent first, each with the reason a reader can check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from digest.models import RelatedStory

__all__ = ["RelatedCandidate", "related_stories"]

MAX_RELATED = 5
ENTITY_WEIGHT = 3
TAG_WEIGHT = 1
SAME_STORY_WEIGHT = 2
MIN_SCORE = 2
# Kind tags say what an item is, not what it is about: sharing them is no topic.
GENERIC_TAGS = frozenset({"news", "research", "tool", "analysis", "other", "ai"})


@dataclass(frozen=True, slots=True)
class RelatedCandidate:
    """A stored article that might be related, with what it is about."""

    article_id: int
    story_id: int | None
    title: str
    published_at: datetime
    entities: tuple[str, ...]
    tags: tuple[str, ...]


def _why(
    shared_entities: list[str], shared_tags: list[str], same_story: bool, names: Mapping[str, str]
) -> str:
    if shared_entities:
        return "also about " + ", ".join(names.get(s, s) for s in shared_entities[:2])
    if same_story:
        return "same story, another source"
    return "also tagged " + ", ".join(f"#{t}" for t in shared_tags[:2])


def related_stories(
    article_id: int,
    story_id: int | None,
    entities: Sequence[str],
    tags: Sequence[str],
    candidates: Sequence[RelatedCandidate],
    names: Mapping[str, str],
    *,
    limit: int = MAX_RELATED,
) -> list[RelatedStory]:
    """Up to `limit` related stories, most recent first; `names` maps entity slugs to names."""
    own_entities = list(dict.fromkeys(entities))
    own_tags = [t for t in dict.fromkeys(tags) if t not in GENERIC_TAGS and t not in entities]
    best: dict[int, tuple[int, RelatedCandidate, str]] = {}
    for item in candidates:
        if item.article_id == article_id:
            continue
        same_story = story_id is not None and item.story_id == story_id
        shared_entities = [e for e in own_entities if e in item.entities]
        shared_tags = [t for t in own_tags if t in item.tags]
        score = (
            ENTITY_WEIGHT * len(shared_entities)
            + TAG_WEIGHT * len(shared_tags)
            + (SAME_STORY_WEIGHT if same_story else 0)
        )
        if score < MIN_SCORE:
            continue
        key = item.story_id if item.story_id is not None else -item.article_id
        known = best.get(key)
        if known is None or (score, item.published_at) > (known[0], known[1].published_at):
            best[key] = (score, item, _why(shared_entities, shared_tags, same_story, names))
    strongest = sorted(
        best.values(), key=lambda e: (e[0], e[1].published_at, e[1].article_id), reverse=True
    )[:limit]
    strongest.sort(key=lambda e: (e[1].published_at, e[1].article_id), reverse=True)
    return [
        RelatedStory(item.article_id, item.story_id, item.title, item.published_at, why)
        for _, item, why in strongest
    ]

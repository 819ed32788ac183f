"""Rank and group stories into digests and alert batches. Pure: same input, same output."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Literal

from digest.models import Digest, DigestItem, DigestKind, StoryCandidate

AI_HINTS: tuple[str, ...] = (
    "ai",
    "a.i.",
    "llm",
    "gpt",
    "openai",
    "anthropic",
    "claude",
    "gemini",
    "deepmind",
    "mistral",
    "llama",
    "transformer",
    "neural",
    "machine learning",
    "deep learning",
    "diffusion",
    "agent",
    "model",
    "inference",
    "embedding",
    "rag",
    "fine-tun",
    "chatbot",
    "copilot",
    "hugging face",
    "nvidia",
    "gpu",
    "prompt",
    "reinforcement learning",
    "robot",
    "生成ai",
    "人工知能",
    "機械学習",
)


def local_day_window(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The [start, end) instants of a calendar day in a zone; DST days are 23 or 25 hours long."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def due_digest_day(local_now: datetime, digest_time: time) -> date | None:
    """The local day whose digest is due at `local_now`: yesterday, once today's digest time passed.

    A pushed digest covers a complete calendar day, so nothing published after the digest time is
    ever left out. Wall-clock comparison makes DST safe: a skipped time fires right after the jump,
    a repeated one fires on its first occurrence (the outbox key stops the second).
    """
    if local_now.time().replace(tzinfo=None) < digest_time:
        return None
    return local_now.date() - timedelta(days=1)


def due_weekly_day(local_now: datetime, digest_time: time, weekly_day: Weekday) -> date | None:
    """The last day of the week whose weekly digest is due (only on `weekly_day`)."""
    if WEEKDAYS[local_now.weekday()] != weekly_day:
        return None
    return due_digest_day(local_now, digest_time)


def week_window(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The seven local days ending with `day` (inclusive)."""
    start, _ = local_day_window(day - timedelta(days=6), zone)
    _, end = local_day_window(day, zone)
    return start, end


def rank_key(story: StoryCandidate) -> tuple[int, int, float, int]:
    """Importance, then how many sources carried it, then recency; story id breaks ties."""
    return (-story.importance, -story.source_count, -story.published_at.timestamp(), story.story_id)


def boosted_rank_key(
    boost: Mapping[int, float] | None,
) -> Callable[[StoryCandidate], tuple[float, int, float, int]]:
    """`rank_key` with a per-story bonus added to importance (none: the plain ranking)."""
    bonus = boost or {}

    def key(story: StoryCandidate) -> tuple[float, int, float, int]:
        importance, sources, recency, story_id = rank_key(story)
        return (importance - bonus.get(story.story_id, 0.0), sources, recency, story_id)

    return key


def matches_tags(story: StoryCandidate, tags: Iterable[str]) -> bool:
    wanted = {t.lower() for t in tags}
    return not wanted or bool(wanted & {t.lower() for t in story.tags})


def one_per_story(candidates: Iterable[StoryCandidate]) -> list[StoryCandidate]:
    """Keep the best-ranked candidate of each story."""
    best: dict[int, StoryCandidate] = {}
    for story in candidates:
        current = best.get(story.story_id)
        if current is None or rank_key(story) < rank_key(current):
            best[story.story_id] = story
    return list(best.values())


def digest_item(story: StoryCandidate) -> DigestItem:
    """The digest entry of one story candidate (also the body of an alert)."""
    return DigestItem(
        story_id=story.story_id,
        article_id=story.article_id,
        title=story.title,
        url=story.url,
        sources=story.sources,
        importance=story.importance,
        scores=story.scores,
        tldr=story.tldr,
        tags=story.tags,
        alerted=story.alerted,
        published_at=story.published_at,
        points=story.points,
        comments=story.comments,
        title_translated=story.title_translated,
    )


def build_digest(
    kind: DigestKind,
    day: date,
    lang: str,
    candidates: Sequence[StoryCandidate],
    *,
    size: int,
    tags: Iterable[str] = (),
    previous: Sequence[StoryCandidate] = (),
    boost: Mapping[int, float] | None = None,
) -> Digest:
    """Daily/weekly digest: one entry per story, ranked; weekly also lists the rising tags.

    `boost` (story id → a bounded bonus from a channel's feedback) changes the order only: the
    items keep their own importance."""
    tag_list = [t.lower() for t in tags]
    chosen = [s for s in one_per_story(candidates) if matches_tags(s, tag_list)]
    chosen.sort(key=boosted_rank_key(boost))
    rising: tuple[tuple[str, int], ...] = ()
    if kind == "weekly":
        rising = rising_tags(one_per_story(candidates), one_per_story(previous))
    return Digest(
        kind=kind,
        day=day,
        lang=lang,
        items=tuple(digest_item(s) for s in chosen[:size]),
        tag=tag_list[0] if len(tag_list) == 1 else None,
        rising_tags=rising,
    )


def rising_tags(
    this_week: Sequence[StoryCandidate], last_week: Sequence[StoryCandidate], limit: int = 5
) -> tuple[tuple[str, int], ...]:
    """Tags whose story count grew most against the week before, with the growth."""
    now = Counter(t for s in this_week for t in set(s.tags))
    before = Counter(t for s in last_week for t in set(s.tags))
    growth = [(tag, count - before.get(tag, 0)) for tag, count in now.items()]
    growth = [(tag, delta) for tag, delta in growth if delta > 0]
    growth.sort(key=lambda pair: (-pair[1], pair[0]))
    return tuple(growth[:limit])


def is_ai_related(story: StoryCandidate) -> bool:
    """HN front pages mix everything; keep stories whose title or tags look like AI."""
    if story.tags and story.importance >= 3:
        return True
    title = f" {story.title.lower()} "
    for hint in AI_HINTS:
        if len(hint) <= 3:
            if f" {hint} " in title or f" {hint}:" in title or f"{hint}-" in title:
                return True
        elif hint in title:
            return True
    return False


def build_hn_digest(
    day: date, lang: str, candidates: Sequence[StoryCandidate], *, size: int, min_points: int = 0
) -> Digest:
    """Top Hacker News stories by points, filtered for AI relevance."""
    hn = [
        s
        for s in one_per_story(candidates)
        if s.source_kind == "hackernews" and (s.points or 0) >= min_points and is_ai_related(s)
    ]
    hn.sort(key=lambda s: (-(s.points or 0), -s.importance, s.story_id))
    return Digest(kind="hn", day=day, lang=lang, items=tuple(digest_item(s) for s in hn[:size]))


def select_alerts(
    candidates: Sequence[StoryCandidate],
    *,
    threshold: int,
    tags: Iterable[str],
    already_sent: set[int],
    boost: Mapping[int, float] | None = None,
) -> list[StoryCandidate]:
    """Stories worth an alert for one channel: important, subscribed, new to it, not backlog;
    a channel's feedback `boost` moves a story across the threshold by at most its bound."""
    tag_list = list(tags)
    bonus = boost or {}
    picked = [
        s
        for s in one_per_story(candidates)
        if s.importance + bonus.get(s.story_id, 0.0) >= threshold
        and not s.is_backlog
        and s.story_id not in already_sent
        and matches_tags(s, tag_list)
    ]
    picked.sort(key=boosted_rank_key(boost))
    return picked

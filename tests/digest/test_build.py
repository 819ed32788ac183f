"""Digest building is pure: ranking, one entry per story, tags, size, windows, HN, alerts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from digest.build import (
    build_digest,
    build_hn_digest,
    due_digest_day,
    due_weekly_day,
    local_day_window,
    rising_tags,
    select_alerts,
    week_window,
)
from digest.models import StoryCandidate

T0 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def story(story_id: int, **fields: object) -> StoryCandidate:
    base = StoryCandidate(
        story_id=story_id,
        article_id=story_id * 10,
        title=f"Story {story_id}",
        url=f"https://example.com/{story_id}",
        sources=("Wire",),
        published_at=T0,
        importance=3,
        scores=None,
        tldr="",
        tags=("llm",),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def ids(items: object) -> list[int]:
    return [item.story_id for item in items]  # type: ignore[attr-defined]


def test_ranked_by_importance_then_sources_then_recency_then_id() -> None:
    candidates = [
        story(1, importance=3, source_count=5),
        story(2, importance=5),
        story(3, importance=4, source_count=2, published_at=T0 - timedelta(hours=1)),
        story(4, importance=4, source_count=2),
        story(5, importance=4, source_count=1, published_at=T0 + timedelta(hours=5)),
        story(6, importance=4, source_count=2),
    ]
    digest = build_digest("daily", date(2026, 11, 28), "en", candidates, size=10)
    assert ids(digest.items) == [2, 4, 6, 3, 5, 1]


def test_one_entry_per_story_keeps_its_best_article() -> None:
    candidates = [
        story(1, article_id=11, importance=3),
        story(1, article_id=12, importance=5, title="Best telling"),
        story(2, importance=4),
    ]
    digest = build_digest("daily", date(2026, 11, 28), "en", candidates, size=10)
    assert ids(digest.items) == [1, 2]
    assert digest.items[0].article_id == 12 and digest.items[0].title == "Best telling"


def test_tag_filter_size_and_determinism() -> None:
    candidates = [story(i, tags=("agents",) if i % 2 else ("llm",), importance=i % 5 + 1)
                  for i in range(1, 21)]  # fmt: skip
    tagged = build_digest("daily", date(2026, 11, 28), "en", candidates, size=3, tags=["AGENTS"])
    assert len(tagged.items) == 3 and all("agents" in i.tags for i in tagged.items)
    assert tagged.tag == "agents"
    shuffled = list(reversed(candidates))
    again = build_digest("daily", date(2026, 11, 28), "en", shuffled, size=3, tags=["agents"])
    assert again == tagged
    assert (
        build_digest("daily", date(2026, 11, 28), "en", candidates, size=50).items.__len__() == 20
    )


def test_alerted_flag_is_carried_to_the_item() -> None:
    digest = build_digest("daily", date(2026, 11, 28), "en", [story(1, alerted=True)], size=5)
    assert digest.items[0].alerted is True


def test_weekly_lists_rising_tags_against_the_week_before() -> None:
    this_week = [
        story(1, tags=("agents", "llm")),
        story(2, tags=("agents",)),
        story(3, tags=("rag",)),
    ]
    last_week = [story(9, tags=("llm",)), story(8, tags=("llm",))]
    digest = build_digest(
        "weekly", date(2026, 11, 29), "en", this_week, size=10, previous=last_week
    )
    assert digest.rising_tags == (("agents", 2), ("rag", 1))
    assert rising_tags([], last_week) == ()


def test_hn_digest_by_points_filtered_for_ai() -> None:
    candidates = [
        story(1, source_kind="hackernews", points=300, title="A new sorting algorithm", tags=()),
        story(2, source_kind="hackernews", points=120, title="Show HN: my LLM agent", tags=()),
        story(3, source_kind="hackernews", points=500, title="Open model beats GPT", tags=()),
        story(4, source_kind="hackernews", points=20, title="Tiny AI demo", tags=()),
        story(5, source_kind="feed", points=None, title="AI blog post"),
    ]
    digest = build_hn_digest(date(2026, 11, 28), "en", candidates, size=10, min_points=50)
    assert ids(digest.items) == [3, 2] and digest.kind == "hn"


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("America/New_York", date(2026, 11, 1), 25),
        ("Europe/London", date(2026, 10, 25), 25),
        ("Europe/London", date(2027, 3, 28), 23),
        ("Asia/Tokyo", date(2026, 11, 1), 24),
    ],
)
def test_local_day_window_follows_dst(zone: str, day: date, hours: int) -> None:
    start, end = local_day_window(day, ZoneInfo(zone))
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=hours)
    week_start, week_end = week_window(day, ZoneInfo(zone))
    assert week_end == end and week_start.date() == day - timedelta(days=6)


def test_due_day_is_yesterday_once_the_local_digest_time_passed() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    before = datetime(2026, 11, 28, 8, 59, tzinfo=tokyo)
    after = datetime(2026, 11, 28, 9, 0, tzinfo=tokyo)
    assert due_digest_day(before, time(9, 0)) is None
    assert due_digest_day(after, time(9, 0)) == date(2026, 11, 27)
    monday = datetime(2026, 11, 30, 9, 30, tzinfo=tokyo)
    assert due_weekly_day(monday, time(9, 0), "mon") == date(2026, 11, 29)
    assert due_weekly_day(monday, time(9, 0), "tue") is None


def test_alert_selection() -> None:
    candidates = [
        story(1, importance=5),
        story(2, importance=4, tags=("agents",)),
        story(3, importance=3),
        story(4, importance=5, is_backlog=True),
        story(5, importance=5),
    ]
    picked = select_alerts(candidates, threshold=4, tags=[], already_sent={5})
    assert ids(picked) == [1, 2]
    picked = select_alerts(candidates, threshold=4, tags=["agents"], already_sent=set())
    assert ids(picked) == [2]

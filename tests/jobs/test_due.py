"""A fake clock drives the due-digest and alert jobs through days, time zones and DST changes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.alerts import enqueue_alerts
from bot.config import Settings
from bot.delivery import Outbox
from bot.digests import enqueue_due_digests
from bot.runtime import StoreOnlyContext
from bot.store.db import Database
from bot.store.schema import Delivery
from tests.fakes.notifiers import RecordingNotifier
from tests.fakes.store_seed import FakeClock, add_channel, add_source, add_story

STEP = timedelta(minutes=30)


async def _drive(ctx: StoreOnlyContext, clock: FakeClock, end: datetime) -> dict[str, list]:
    """Step the clock, run the due-digest job and the worker; return sends per channel."""
    notifier = RecordingNotifier()
    outbox = Outbox(ctx, {"console": notifier})
    sends: dict[str, list[tuple[datetime, dict]]] = defaultdict(list)
    while clock.now() <= end:
        await enqueue_due_digests(ctx)
        before = len(notifier.sent)
        await outbox.deliver_due()
        for _, channel, payload, _ in notifier.sent[before:]:
            sends[channel].append((clock.now(), payload))
        clock.advance(seconds=STEP.total_seconds())
    return sends


def _first_step_at_or_after(local_day: date, at: time, zone: ZoneInfo, start: datetime) -> datetime:
    """When the digest of `local_day - 1` should go out: the first step whose local wall time
    on `local_day` is at or past `at` (a repeated wall time counts on its first occurrence)."""
    moment = start
    while True:
        local = moment.astimezone(zone)
        if local.date() == local_day and local.time() >= at:
            return moment
        moment += STEP


async def test_each_channel_gets_each_daily_digest_once_at_its_local_time_across_dst(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    start = datetime(2026, 10, 24, 0, 0, tzinfo=UTC)
    end = datetime(2026, 11, 2, 18, 0, tzinfo=UTC)
    clock = FakeClock(start)
    ctx = StoreOnlyContext(settings=make_settings(), db=db, clock=clock)
    source = await add_source(db)
    first_story = start - timedelta(days=1)
    day = first_story
    while day < end:  # one story per UTC day at noon: inside every zone's same local day
        await add_story(db, source, f"Story of {day.date()}", day.replace(hour=12))
        day += timedelta(days=1)
    zones = {
        "ny": ("America/New_York", "09:00"),  # DST ends 2026-11-01: that day is 25 hours
        "london": ("Europe/London", "01:30"),  # 2026-10-25: 01:30 happens twice
        "tokyo": ("Asia/Tokyo", "09:00"),  # no DST
        "kolkata": ("Asia/Kolkata", "08:00"),  # half-hour offset
    }
    for name, (tz, at) in zones.items():
        await add_channel(db, name, tz=tz, digest_time=at, weekly_enabled=False)

    sends = await _drive(ctx, clock, end)

    for name, (tz, at) in zones.items():
        zone = ZoneInfo(tz)
        hour, minute = map(int, at.split(":"))
        got = [(moment, payload["digest"]["date"]) for moment, payload in sends[name]]
        covered = [d for _, d in got]
        assert len(covered) == len(set(covered)), f"{name} got a digest twice: {covered}"
        first_local = start.astimezone(zone).date()
        expected_days = []
        for moment, day_iso in got:
            local = moment.astimezone(zone)
            send_day = local.date()
            assert day_iso == (send_day - timedelta(days=1)).isoformat()
            assert moment == _first_step_at_or_after(send_day, time(hour, minute), zone, start)
            expected_days.append(send_day)
        # every local day of the run whose digest time was reached got one
        want = []
        d = first_local
        while d <= end.astimezone(zone).date():
            due_at = datetime.combine(d, time(hour, minute), tzinfo=zone)
            if start <= due_at <= end:
                want.append(d)
            d += timedelta(days=1)
        assert expected_days == want, name
        for _, payload in sends[name]:
            titles = [item["title"] for item in payload["digest"]["items"]]
            assert titles == [f"Story of {payload['digest']['date']}"], (name, titles)

    # London's repeated 01:30 on 2026-10-25: one send at the first 01:30 (00:30 UTC)
    london = {m.astimezone(ZoneInfo("Europe/London")).date(): m for m, _ in sends["london"]}
    assert london[date(2026, 10, 25)] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # New York after the change: 09:00 EST is 14:00 UTC, before it 13:00 UTC
    ny = {m.astimezone(ZoneInfo("America/New_York")).date(): m for m, _ in sends["ny"]}
    assert ny[date(2026, 10, 31)] == datetime(2026, 10, 31, 13, 0, tzinfo=UTC)
    assert ny[date(2026, 11, 2)] == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


async def test_a_digest_time_skipped_by_spring_forward_fires_once_after_the_jump(
    sqlite_url: str, make_settings: Callable[..., Settings]
) -> None:
    db = Database(sqlite_url)
    try:
        start = datetime(2027, 3, 27, 0, 0, tzinfo=UTC)
        clock = FakeClock(start)
        ctx = StoreOnlyContext(settings=make_settings(), db=db, clock=clock)
        source = await add_source(db)
        await add_story(db, source, "Saturday story", datetime(2027, 3, 27, 12, tzinfo=UTC))
        await add_channel(db, "london", tz="Europe/London", digest_time="01:30")
        sends = await _drive(ctx, clock, datetime(2027, 3, 29, 0, 0, tzinfo=UTC))
        moments = [m for m, _ in sends["london"]]
        # 2027-03-28 01:00 GMT jumps to 02:00 BST: 01:30 never exists; it fires at 01:00 UTC
        assert moments == [datetime(2027, 3, 28, 1, 0, tzinfo=UTC)]
        async with db.session() as session:
            rows = {r.key: r.status for r in await session.scalars(select(Delivery))}
        # the 26th had no story: recorded as skipped on the 27th, never sent
        assert rows == {"daily:2027-03-26": "skipped", "daily:2027-03-27": "sent"}
    finally:
        await db.dispose()


async def test_weekly_and_hn_digests_are_due_on_their_day(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    monday_9 = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo, a Monday
    clock = FakeClock(monday_9 - timedelta(minutes=30))
    ctx = StoreOnlyContext(settings=make_settings(digest={"hn_min_points": 10}), db=db, clock=clock)
    feed = await add_source(db)
    hn = await add_source(db, "Hacker News", kind="hackernews")
    for offset in range(1, 8):
        await add_story(db, feed, f"Story -{offset}d", monday_9 - timedelta(days=offset))
    await add_story(db, hn, "Show HN: a tiny LLM agent", monday_9 - timedelta(hours=12), points=80)
    channel = await add_channel(db, "c", tz="Asia/Tokyo", digest_time="09:00", hn_enabled=True)
    assert await enqueue_due_digests(ctx) == 0  # 08:30 local: nothing due yet
    clock.set(monday_9)
    assert await enqueue_due_digests(ctx) == 3
    assert await enqueue_due_digests(ctx) == 0  # idempotent
    async with db.session() as session:
        rows = {r.key: r for r in await session.scalars(select(Delivery))}
    assert set(rows) == {"daily:2026-11-29", "hn:2026-11-29", "weekly:2026-11-29"}
    assert all(r.channel_id == channel and r.status == "pending" for r in rows.values())
    weekly = rows["weekly:2026-11-29"].payload["digest"]
    assert weekly["kind"] == "weekly" and len(weekly["items"]) == 8  # 7 days + the HN story
    hn_items = rows["hn:2026-11-29"].payload["digest"]["items"]
    assert [i["title"] for i in hn_items] == ["Show HN: a tiny LLM agent"]
    # Tuesday: only the daily one
    clock.set(monday_9 + timedelta(days=1))
    await enqueue_due_digests(ctx)
    async with db.session() as session:
        keys = set(await session.scalars(select(Delivery.key)))
    assert "daily:2026-11-30" in keys and "weekly:2026-11-30" not in keys


async def test_an_empty_day_is_recorded_as_skipped_not_rebuilt(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 1, 0, tzinfo=UTC))
    ctx = StoreOnlyContext(settings=make_settings(), db=db, clock=clock)
    await add_channel(db, "c", tz="Asia/Tokyo", weekly_enabled=False)
    assert await enqueue_due_digests(ctx) == 1
    async with db.session() as session:
        [row] = list(await session.scalars(select(Delivery)))
    assert row.status == "skipped" and row.key == "daily:2026-11-29"
    assert (await Outbox(ctx, {"console": RecordingNotifier()}).deliver_due()).sent == 0


@pytest.mark.parametrize("threshold", [4, 5])
async def test_alerts_respect_threshold_tags_history_and_backlog(
    db: Database, make_settings: Callable[..., Settings], threshold: int
) -> None:
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    clock = FakeClock(now)
    ctx = StoreOnlyContext(settings=make_settings(), db=db, clock=clock)
    old = await add_source(db, "Old")
    new = await add_source(db, "New")
    hour = timedelta(hours=1)
    big, _ = await add_story(db, old, "Big launch", now - hour, importance=5, tags=("llm",))
    await add_story(db, new, "Big launch, second source", now - hour, importance=5, story_id=big)
    mid, _ = await add_story(db, old, "Useful agent", now - hour, importance=4, tags=("agents",))
    await add_story(db, old, "Minor note", now - hour, importance=3)
    await add_story(db, old, "Last week", now - timedelta(days=3), importance=5)
    # a new source's first poll: important but backlog, never an alert
    await add_story(db, new, "Archive gem", now - hour, importance=5, is_backlog=True)
    everything = await add_channel(db, "all", alert_threshold=threshold)
    await add_channel(db, "agents", tags=("agents",))
    muted = await add_channel(db, "muted", alerts_enabled=False)

    notifier = RecordingNotifier()
    queued = await enqueue_alerts(ctx)
    await Outbox(ctx, {"console": notifier}).deliver_due()
    expected_all = {big} if threshold == 5 else {big, mid}
    by_channel: dict[str, set[int]] = defaultdict(set)
    for _, channel, payload, _ in notifier.sent:
        assert payload["type"] == "alert" and payload["lang"] == "ja"
        by_channel[channel].add(payload["item"]["story_id"])
    assert by_channel == {"all": expected_all, "agents": {mid}}
    assert queued == len(expected_all) + 1
    assert muted and everything
    # an hour later nothing is sent twice
    clock.advance(hours=1)
    assert await enqueue_alerts(ctx) == 0
    # and the daily digest marks the alerted story
    from bot.digests import digest_for

    digest = await digest_for(ctx, "daily", day=date(2026, 11, 28), channel_id=everything)
    flags = {item.story_id: item.alerted for item in digest.items}
    assert flags[big] is True and all(not v for k, v in flags.items() if k not in expected_all)

"""Three replicas as separate processes on one PostgreSQL over simulated hours: every due
delivery is made exactly once. A replica SIGKILLed mid-run loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.delivery import OutboxEntry, enqueue_many
from bot.store.db import Database
from bot.store.schema import Delivery
from tests.fakes.recorder import Recorder
from tests.fakes.store_seed import add_channel, add_source, add_story

REPO = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
HOURS = 32
CHANNELS = {  # name: (tz, digest time, subscribed tags)
    "tokyo": ("Asia/Tokyo", "09:00", ()),
    "new-york": ("America/New_York", "08:30", ()),
    "london": ("Europe/London", "07:00", ()),
    "kolkata": ("Asia/Kolkata", "10:00", ()),
    "sydney": ("Australia/Sydney", "06:00", ()),
    "agents-only": ("UTC", "06:00", ("agents",)),
}


async def _spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.delivery.worker", *args,
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _until_posts(
    recorder: Recorder, worker: asyncio.subprocess.Process, count: int, timeout: float = 60.0
) -> None:
    """Wait for the recorder's `count`-th post; fail if the worker exits first."""
    posted = asyncio.ensure_future(
        recorder.wait_for(lambda: len(recorder.state.posts) >= count, timeout)
    )
    exited = asyncio.ensure_future(worker.wait())
    await asyncio.wait({posted, exited}, return_when=asyncio.FIRST_COMPLETED)
    if posted.done():
        exited.cancel()
        posted.result()  # the AssertionError of a timeout
        return
    posted.cancel()
    assert worker.stderr is not None
    err = (await worker.stderr.read()).decode()[-3000:]
    raise AssertionError(
        f"worker exited ({worker.returncode}) after {len(recorder.state.posts)} posts: {err}"
    )


async def _seed(url: str) -> list[tuple[datetime, int, tuple[str, ...], int]]:
    """A story every simulated hour (importance 3/4/5, alternating tags) plus a backlog one."""
    db = Database(url)
    stories = []
    try:
        source = await add_source(db)
        for hour in range(HOURS - 1):
            published = START + timedelta(hours=hour, minutes=20)
            importance = 3 + hour % 3
            tags = ("agents",) if hour % 2 else ("llm",)
            story_id, _ = await add_story(
                db, source, f"Story {hour}", published, importance=importance, tags=tags
            )
            stories.append((published, importance, tags, story_id))
        await add_story(db, source, "Backlog gem", START + timedelta(hours=2), importance=5,
                        is_backlog=True)  # fmt: skip
        for name, (tz, at, tags) in CHANNELS.items():
            await add_channel(db, name, tz=tz, digest_time=at, tags=tags, weekly_enabled=False)
    finally:
        await db.dispose()
    return stories


def _expected(stories: list[tuple[datetime, int, tuple[str, ...], int]]) -> Counter[tuple]:
    """Computed from the rules, independently of the code under test."""
    end = START + timedelta(hours=HOURS)
    expected: Counter[tuple[str, str]] = Counter()
    for name, (tz, at, tags) in CHANNELS.items():
        zone = ZoneInfo(tz)
        hour, minute = map(int, at.split(":"))
        day = START.astimezone(zone).date()
        while day <= end.astimezone(zone).date():
            due = datetime.combine(day, time(hour, minute), tzinfo=zone)
            covered = day - timedelta(days=1)
            has_news = any(
                published.astimezone(zone).date() == covered and (not tags or set(tags) & set(t))
                for published, _, t, _ in stories
            )
            if START <= due <= end and has_news:
                expected[(name, f"daily:{covered.isoformat()}")] += 1
            day += timedelta(days=1)
        for published, importance, story_tags, story_id in stories:
            if importance >= 4 and (not tags or set(tags) & set(story_tags)):
                expected[(name, f"alert:story:{story_id}")] += 1
    return expected


@pytest.mark.slow
async def test_three_replicas_deliver_every_due_message_exactly_once(
    postgres_url: str, recorder: Recorder
) -> None:
    stories = await _seed(postgres_url)
    steps = [START + timedelta(hours=i) for i in range(HOURS + 1)]
    recorder.set_schedule(steps, workers=3)
    workers = [
        await _spawn("lockstep", postgres_url, recorder.url, f"replica-{i}", "--batch", "2")
        for i in range(3)
    ]
    results = await asyncio.wait_for(asyncio.gather(*(w.communicate() for w in workers)), 120)
    for worker, (_, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err.decode()[-3000:]

    posted = Counter(recorder.state.keys())
    expected = _expected(stories)
    assert sum(expected.values()) > 50
    assert posted == expected
    assert max(posted.values()) == 1
    assert recorder.state.deduped == 0
    # the work really was shared between the processes
    assert len({post.pid for post in recorder.state.posts}) >= 2
    db = Database(postgres_url)
    try:
        async with db.session() as session:
            statuses = Counter(await session.scalars(select(Delivery.status)))
    finally:
        await db.dispose()
    assert set(statuses) <= {"sent", "skipped"} and statuses["sent"] == len(posted)


@pytest.mark.slow
async def test_sigkill_mid_run_loses_nothing(database_url: str, recorder: Recorder) -> None:
    db = Database(database_url)
    now = datetime.now(UTC)
    try:
        channels = [await add_channel(db, f"c{i}") for i in range(20)]
        entries = [
            OutboxEntry(
                channel,
                f"alert:story:{story}",
                "alert",
                {"type": "alert", "lang": "en", "item": {"story_id": story}},
            )
            for story in range(8)
            for channel in channels
        ]
        async with db.session() as session:
            assert await enqueue_many(session, entries, now) == 160
    finally:
        await db.dispose()
    recorder.state.delay = 0.02
    args = ("drain", database_url, recorder.url)
    first = await _spawn(*args, "first", "--batch", "10", "--lease", "2")
    try:
        await _until_posts(recorder, first, 40)
        first.send_signal(signal.SIGKILL)
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    db = Database(database_url)
    try:
        async with db.session() as session:
            in_flight = len(
                list(await session.scalars(select(Delivery.id).where(Delivery.status == "sending")))
            )
        before_restart = len(recorder.state.posts)
        assert 0 < before_restart < 160 and in_flight > 0

        second = await _spawn(*args, "second", "--batch", "10", "--lease", "2")
        _, err = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 0, err.decode()[-3000:]
        async with db.session() as session:
            rows = list(await session.scalars(select(Delivery)))
    finally:
        await db.dispose()
    # nothing lost: every row sent, every (channel, story) posted
    assert {row.status for row in rows} == {"sent"}
    posted = Counter(recorder.state.keys())
    assert len(posted) == 160 and max(posted.values()) == 1
    # repeats only for rows whose lease lapsed in flight (the kill), each at most once, sent
    # with the same nonce and dropped by the platform's nonce check (Discord's enforce_nonce)
    assert max(recorder.state.raw.values()) <= 2
    # each row is marked the moment it is sent: only the sends in flight at the kill repeat
    assert sum(n - 1 for n in recorder.state.raw.values()) <= in_flight
    retried = {row.nonce for row in rows if row.attempts > 1}
    assert len(retried) >= in_flight
    assert {nonce for nonce, n in recorder.state.raw.items() if n == 2} <= retried
    assert recorder.state.deduped == sum(n - 1 for n in recorder.state.raw.values())


def test_expected_counts_cover_each_zone() -> None:
    """Guard for the replica test's oracle: every channel is owed digests and alerts."""
    stories = [
        (START + timedelta(hours=h, minutes=20), 3 + h % 3, ("agents",) if h % 2 else ("llm",), h)
        for h in range(HOURS - 1)
    ]
    expected = _expected(stories)
    for name in CHANNELS:
        assert any(k[0] == name and k[1].startswith("daily:") for k in expected), name
        assert any(k[0] == name and k[1].startswith("alert:") for k in expected), name
    assert expected[("tokyo", f"daily:{date(2026, 11, 28).isoformat()}")] == 1


@pytest.mark.slow
async def test_sigterm_mid_batch_finishes_in_flight_sends_and_posts_nothing_twice(
    database_url: str, recorder: Recorder
) -> None:
    db = Database(database_url)
    try:
        channels = [await add_channel(db, f"c{i}") for i in range(12)]
        entries = [
            OutboxEntry(
                channel,
                f"alert:story:{story}",
                "alert",
                {"type": "alert", "lang": "en", "item": {"story_id": story}},
            )
            for story in range(4)
            for channel in channels
        ]
        async with db.session() as session:
            assert await enqueue_many(session, entries, datetime.now(UTC)) == 48
    finally:
        await db.dispose()
    recorder.state.delay = 0.3  # every send is still in flight for a while when TERM arrives
    args = ("until-term", database_url, recorder.url, "first", "--batch", "5", "--lease", "60")
    worker = await _spawn(*args)
    try:
        await _until_posts(recorder, worker, 6)
        worker.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(worker.communicate(), 60)
    finally:
        if worker.returncode is None:
            worker.kill()
    assert worker.returncode == 0, err.decode()[-3000:]
    assert b"drained" in out and b"timed out" not in out
    db = Database(database_url)
    try:
        async with db.session() as session:
            rows = list(await session.scalars(select(Delivery)))
    finally:
        await db.dispose()
    # nothing left in doubt: every row the platform accepted is marked sent, the rest wait
    # untouched (no attempt used up), and nothing was posted twice
    assert {row.status for row in rows} <= {"sent", "pending"}
    sent = {row.nonce for row in rows if row.status == "sent"}
    assert sent == set(recorder.state.raw) and max(recorder.state.raw.values()) == 1
    assert 6 <= len(sent) < 48
    assert all(row.attempts == 0 for row in rows if row.status == "pending")
    # a restarted worker sends the rest, each exactly once
    second = await _spawn("drain", database_url, recorder.url, "second", "--batch", "5")
    _, err = await asyncio.wait_for(second.communicate(), 60)
    assert second.returncode == 0, err.decode()[-3000:]
    posted = Counter(recorder.state.keys())
    assert len(posted) == 48 and max(posted.values()) == 1
    assert max(recorder.state.raw.values()) == 1 and recorder.state.deduped == 0

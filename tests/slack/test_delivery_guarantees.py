"""The outbox against the fake Slack over HTTP: a slow Slack, a part that fails, a revoked token.

Every message reaches its channel exactly once, or waits with the reason visible."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from adapters.slack_notifier import ChannelPacer, SlackNotifier
from bot.config import Settings
from bot.delivery import Outbox, OutboxEntry, enqueue_many
from bot.health import health_problems
from bot.platforms import resume_platform
from bot.ports import SystemClock
from bot.runtime import StoreOnlyContext
from bot.store.db import Database
from bot.store.schema import Channel, Delivery
from digest.models import Digest, DigestItem
from digest.serialize import digest_to_dict, item_to_dict
from tests.fakes.notifiers import RecordingNotifier
from tests.fakes.slack_api import FakeSlack
from tests.fakes.store_seed import FakeClock, add_channel
from tests.slack.conftest import CHANNEL
from tests.waiting import until

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def _item(n: int, tldr: str = "Short.") -> DigestItem:
    return DigestItem(
        story_id=n, article_id=n, title=f"Story {n}", url=f"https://news.example/{n}",
        sources=("Wire",), importance=4, scores=None, tldr=tldr, tags=("llm",), alerted=False,
        published_at=NOW,
    )  # fmt: skip


def _alert(channel_id: int, n: int) -> OutboxEntry:
    payload = {"type": "alert", "lang": "en", "item": item_to_dict(_item(n))}
    return OutboxEntry(channel_id, f"alert:story:{n}", "alert", payload)


def _long_digest(channel_id: int) -> OutboxEntry:
    """A digest Slack gets as three or more messages."""
    items = tuple(_item(n, "Long sentence here. " * 40) for n in range(50))
    digest = Digest("daily", date(2026, 11, 27), "en", items)
    payload = {"type": "digest", "digest": digest_to_dict(digest)}
    return OutboxEntry(channel_id, "daily:2026-11-27", "digest", payload)


@pytest.fixture
async def ctx(
    db: Database, slack_settings: Callable[..., Settings]
) -> AsyncIterator[StoreOnlyContext]:
    # the default lease (120 s): a send's time limit no busy machine comes near
    settings = slack_settings(delivery={"backoff_seconds": 1, "batch_size": 10})
    yield StoreOnlyContext(settings=settings, db=db, clock=FakeClock(NOW))


@pytest.fixture
async def notifier(ctx: StoreOnlyContext) -> AsyncIterator[SlackNotifier]:
    made = SlackNotifier(ctx.settings, pacer=ChannelPacer(interval=0.3))
    yield made
    await made.aclose()


async def _enqueue(ctx: StoreOnlyContext, *entries: OutboxEntry) -> None:
    async with ctx.db.session() as session:
        await enqueue_many(session, list(entries), ctx.clock.now())


async def _rows(ctx: StoreOnlyContext) -> list[Delivery]:
    async with ctx.db.session() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


def _texts(fake: FakeSlack, channel: str) -> list[str]:
    return [str(c.params.get("text")) for c in fake.accepted("chat.postMessage")
            if c.params.get("channel") == channel]  # fmt: skip


async def test_a_slow_slack_posts_each_message_once_and_holds_back_no_one(
    ctx: StoreOnlyContext, notifier: SlackNotifier, fake_slack: FakeSlack,
    slack_settings: Callable[..., Settings],
) -> None:  # fmt: skip
    """Each post takes a third of the lease and the batch far longer than the lease; the
    heartbeat keeps the rows, a second replica takes none, the other channel is not held."""
    fake_slack.post_delay = 1.0
    # leases are judged on the real clock here: the batch (5 posts, each 1 s plus the 0.3 s
    # pacing) outlives the 3 s lease more than twice; a send may take 2.4 s of it, so a loaded
    # machine has more than a second of slack per post before the send limit
    settings = slack_settings(delivery={"lease_seconds": 3, "backoff_seconds": 1, "batch_size": 10})
    ctx = StoreOnlyContext(settings=settings, db=ctx.db, clock=SystemClock())
    slack = await add_channel(ctx.db, CHANNEL, platform="slack")
    console = await add_channel(ctx.db, "stdout", platform="console")
    await _enqueue(ctx, *(_alert(slack, n) for n in range(5)))
    await _enqueue(ctx, *(_alert(console, n) for n in range(3)))
    recording = RecordingNotifier()
    first = Outbox(ctx, {"slack": notifier, "console": recording}, owner="first")
    second = Outbox(ctx, {"slack": notifier, "console": recording}, owner="second")
    running = asyncio.create_task(first.deliver_due())

    async def console_sent() -> bool:
        rows = await _rows(ctx)
        return sum(r.channel_id == console and r.status == "sent" for r in rows) == 3

    # the console rows are marked while Slack is still on its first messages
    await until(console_sent, what="the three console rows to be marked sent")
    assert len(fake_slack.accepted("chat.postMessage")) < 5
    # a second replica, asking as each Slack post arrives (the later ones past the first
    # lease), finds the slow channel held
    for posted in range(1, 6):
        await fake_slack.wait_for(lambda n=posted: len(fake_slack.accepted()) >= n)
        assert (await second.deliver_due()).sent == 0
    report = await running
    assert report.sent == 8
    texts = _texts(fake_slack, CHANNEL)
    assert len(texts) == 5 and len(set(texts)) == 5  # exactly once each
    assert {row.status for row in await _rows(ctx)} == {"sent"}


async def test_a_failing_part_is_retried_alone(
    ctx: StoreOnlyContext, notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    slack = await add_channel(ctx.db, CHANNEL, platform="slack")
    await _enqueue(ctx, _long_digest(slack))
    fake_slack.fail_post_numbers[CHANNEL] = {2: "internal_error"}
    outbox = Outbox(ctx, {"slack": notifier})
    report = await outbox.deliver_due()
    assert report.sent == 0 and report.retried == 1
    [row] = await _rows(ctx)
    first_ts = fake_slack.accepted("chat.postMessage")[0].ts
    assert row.status == "pending" and row.parts_sent == [first_ts]
    assert "internal_error" in (row.last_error or "")
    ctx.clock.advance(seconds=5)  # type: ignore[attr-defined]
    assert (await outbox.deliver_due()).sent == 1
    [row] = await _rows(ctx)
    posts = fake_slack.accepted("chat.postMessage")
    assert len(posts) >= 3
    texts = [str(p.params.get("text")) for p in posts]
    blocks = [str(p.params.get("blocks")) for p in posts]
    assert len(set(blocks)) == len(blocks), "no part posted twice"
    assert row.status == "sent" and row.parts_sent == [p.ts for p in posts]
    assert row.platform_message_id == first_ts
    assert all(f"Story {n}" in "".join(blocks) for n in range(50)) and texts


async def test_a_revoked_token_pauses_slack_and_disables_no_channel(
    ctx: StoreOnlyContext, notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    slack = await add_channel(ctx.db, CHANNEL, platform="slack")
    other = await add_channel(ctx.db, "C0OTHER", platform="slack")
    await _enqueue(ctx, *(_alert(c, n) for c in (slack, other) for n in range(3)))
    fake_slack.token_error = "token_revoked"
    outbox = Outbox(ctx, {"slack": notifier})
    report = await outbox.deliver_due()
    assert report.sent == 0 and report.disabled_channels == []
    calls = len(fake_slack.calls)
    assert calls <= 2  # the first refusal of each channel in flight; then nothing
    rows = await _rows(ctx)
    assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {0}
    async with ctx.db.session() as session:
        channels = list(await session.scalars(select(Channel)))
    assert {c.status for c in channels} == {"active"}
    [reason] = await health_problems(ctx)
    assert "slack paused" in reason and "token_revoked" in reason
    # paused: later runs make no call at all
    ctx.clock.advance(seconds=60)  # type: ignore[attr-defined]
    assert (await outbox.deliver_due()).sent == 0
    assert len(fake_slack.calls) == calls
    # an operator resumes it once the token works again: every waiting message goes, once
    fake_slack.token_error = ""
    async with ctx.db.session() as session:
        assert await resume_platform(session, "slack")
    assert (await outbox.deliver_due()).sent == 6
    assert await health_problems(ctx) == []
    for channel in (CHANNEL, "C0OTHER"):
        texts = _texts(fake_slack, channel)
        assert len(texts) == 3 and len(set(texts)) == 3


async def test_a_new_token_lifts_the_pause(
    ctx: StoreOnlyContext, notifier: SlackNotifier, fake_slack: FakeSlack,
    slack_settings: Callable[..., Any], db: Database,
) -> None:  # fmt: skip
    slack = await add_channel(ctx.db, CHANNEL, platform="slack")
    await _enqueue(ctx, _alert(slack, 1))
    fake_slack.token_error = "invalid_auth"
    await Outbox(ctx, {"slack": notifier}).deliver_due()
    assert await health_problems(ctx) != []
    fake_slack.token_error = ""
    new_token = "xoxb-rotated-token"
    fake_slack.token = new_token
    from pydantic import SecretStr

    from bot.config import Secrets

    rotated = ctx.settings.model_copy(
        update={"secrets": Secrets(slack_bot_token=SecretStr(new_token))}
    )
    rotated_ctx = StoreOnlyContext(settings=rotated, db=db, clock=ctx.clock)
    assert await health_problems(rotated_ctx) == []
    fresh = SlackNotifier(rotated, pacer=ChannelPacer(interval=0.3))
    try:
        assert (await Outbox(rotated_ctx, {"slack": fresh}).deliver_due()).sent == 1
    finally:
        await fresh.aclose()

"""The outbox on SQLite and PostgreSQL: idempotent enqueue, leases, retries, permanent failures."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.channels import enable_channel
from bot.delivery import Outbox, OutboxEntry, claim_due, enqueue_many
from bot.errors import DeliveryError
from bot.runtime import StoreOnlyContext
from bot.store.schema import Channel, Delivery
from tests.fakes.notifiers import RecordingNotifier
from tests.fakes.recorder import HttpNotifier, Recorder
from tests.fakes.store_seed import FakeClock, add_channel


def _alert(channel_id: int, story_id: int) -> OutboxEntry:
    payload = {"type": "alert", "lang": "en", "item": {"story_id": story_id, "title": "t"}}
    return OutboxEntry(channel_id, f"alert:story:{story_id}", "alert", payload)


async def _enqueue(ctx: StoreOnlyContext, *entries: OutboxEntry) -> int:
    async with ctx.db.session() as session:
        return await enqueue_many(session, list(entries), ctx.clock.now())


async def _rows(ctx: StoreOnlyContext) -> list[Delivery]:
    async with ctx.db.session() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def test_enqueue_is_idempotent_per_channel_and_key(ctx: StoreOnlyContext) -> None:
    a = await add_channel(ctx.db, "a")
    b = await add_channel(ctx.db, "b")
    assert await _enqueue(ctx, _alert(a, 1), _alert(b, 1)) == 2
    assert await _enqueue(ctx, _alert(a, 1), _alert(a, 2)) == 1
    rows = await _rows(ctx)
    assert [(r.channel_id, r.key) for r in rows] == [
        (a, "alert:story:1"),
        (b, "alert:story:1"),
        (a, "alert:story:2"),
    ]
    assert all(0 < len(r.nonce) <= 25 for r in rows)
    assert len({r.nonce for r in rows}) == 3


async def test_delivered_rows_keep_message_id_and_nonce(ctx: StoreOnlyContext) -> None:
    a = await add_channel(ctx.db, "a", workspace="acme")
    await _enqueue(ctx, _alert(a, 7))
    notifier = RecordingNotifier()
    report = await Outbox(ctx, {"console": notifier}).deliver_due()
    assert report.sent == 1
    [row] = await _rows(ctx)
    assert row.status == "sent" and row.platform_message_id == "msg-1"
    assert row.sent_at == ctx.clock.now() and row.attempts == 1
    [(workspace, channel, payload, nonce)] = notifier.sent
    assert (workspace, channel, nonce) == ("acme", "a", row.nonce)
    assert payload["item"]["story_id"] == 7
    # nothing is due any more: a second run sends nothing
    assert (await Outbox(ctx, {"console": notifier}).deliver_due()).sent == 0


async def test_5xx_then_recovery_over_http(
    ctx: StoreOnlyContext, clock: FakeClock, recorder: Recorder
) -> None:
    a = await add_channel(ctx.db, "a")
    await _enqueue(ctx, _alert(a, 1))
    recorder.state.faults["a"] = [500, 503]
    notifier = HttpNotifier(recorder.url)
    outbox = Outbox(ctx, {"console": notifier})
    try:
        assert (await outbox.deliver_due()).retried == 1
        [row] = await _rows(ctx)
        assert row.status == "pending" and "500" in (row.last_error or "")
        assert row.next_attempt_at == clock.now() + timedelta(seconds=10)
        clock.advance(seconds=9)
        assert (await outbox.deliver_due()).retried == 0  # not due yet
        clock.advance(seconds=1)
        assert (await outbox.deliver_due()).retried == 1  # backoff doubles: 20 s
        [row] = await _rows(ctx)
        assert row.next_attempt_at == clock.now() + timedelta(seconds=20)
        clock.advance(seconds=20)
        assert (await outbox.deliver_due()).sent == 1
    finally:
        await notifier.aclose()
    [row] = await _rows(ctx)
    assert row.status == "sent" and row.attempts == 3 and row.last_error is None
    assert len(recorder.state.posts) == 1


async def test_retry_after_is_honoured(
    ctx: StoreOnlyContext, clock: FakeClock, recorder: Recorder
) -> None:
    a = await add_channel(ctx.db, "a")
    await _enqueue(ctx, _alert(a, 1))
    recorder.state.faults["a"] = [429]
    recorder.state.retry_after = 3600
    notifier = HttpNotifier(recorder.url)
    outbox = Outbox(ctx, {"console": notifier})
    try:
        await outbox.deliver_due()
        [row] = await _rows(ctx)
        assert row.next_attempt_at >= clock.now() + timedelta(seconds=3600)
        clock.advance(seconds=3599)
        assert (await outbox.deliver_due()).sent == 0
        clock.advance(seconds=2)
        assert (await outbox.deliver_due()).sent == 1
    finally:
        await notifier.aclose()


async def test_gives_up_after_max_attempts_and_keeps_the_row(
    ctx: StoreOnlyContext, clock: FakeClock
) -> None:
    a = await add_channel(ctx.db, "a")
    await _enqueue(ctx, _alert(a, 1))
    notifier = RecordingNotifier(failures=[DeliveryError("boom 502")] * 5)
    outbox = Outbox(ctx, {"console": notifier})
    for _ in range(5):
        await outbox.deliver_due()
        clock.advance(hours=1)
    [row] = await _rows(ctx)
    assert row.status == "failed" and row.attempts == 3 and "boom 502" in (row.last_error or "")
    assert notifier.calls == 3


async def test_a_rejected_message_fails_alone_and_its_channel_keeps_receiving(
    ctx: StoreOnlyContext,
) -> None:
    a = await add_channel(ctx.db, "a")
    await _enqueue(ctx, _alert(a, 1), _alert(a, 2))
    notifier = RecordingNotifier(failures=[DeliveryError("400 invalid body", rejected=True)])
    report = await Outbox(ctx, {"console": notifier}).deliver_due()
    assert report.failed == 1 and report.sent == 1 and report.disabled_channels == []
    rows = await _rows(ctx)
    assert sorted(r.status for r in rows) == ["failed", "sent"]
    failed = next(r for r in rows if r.status == "failed")
    assert failed.attempts == 1 and "400 invalid body" in (failed.last_error or "")
    async with ctx.db.session() as session:
        channel = await session.get(Channel, a)
    assert channel is not None and channel.status == "active"
    assert notifier.calls == 2  # the rejected row was not retried


async def test_permanent_failure_disables_only_that_channel(
    ctx: StoreOnlyContext, recorder: Recorder
) -> None:
    gone = await add_channel(ctx.db, "gone")
    fine = await add_channel(ctx.db, "fine")
    await _enqueue(ctx, *(_alert(c, s) for c in (gone, fine) for s in (1, 2, 3)))
    recorder.state.permanent.add("gone")
    notifier = HttpNotifier(recorder.url)
    try:
        report = await Outbox(ctx, {"console": notifier}).deliver_due()
    finally:
        await notifier.aclose()
    assert report.disabled_channels == [gone] and report.sent == 3
    rows = await _rows(ctx)
    assert len(rows) == 6  # nothing deleted
    statuses = sorted((r.channel_id, r.status) for r in rows)
    # the disabled channel's rows wait, visibly, without having used up an attempt
    assert statuses == sorted([(gone, "pending")] * 3 + [(fine, "sent")] * 3)
    assert all(r.attempts == 0 for r in rows if r.channel_id == gone)
    assert "404" in (rows[0].last_error or "")
    async with ctx.db.session() as session:
        channel = await session.get(Channel, gone)
        other = await session.get(Channel, fine)
    assert channel is not None and channel.status == "disabled"
    assert "404" in (channel.disabled_reason or "")
    assert other is not None and other.status == "active"
    # a disabled channel is never claimed while disabled
    await _enqueue(ctx, _alert(gone, 9))
    assert (
        await claim_due(
            ctx.db,
            owner="x",
            now=ctx.clock.now(),
            limit=10,
            lease_seconds=60,
            platforms=["console"],
        )
        == []
    )
    # re-enabled (subscribe, /ainews resume or `ainews channels enable`), every waiting row goes
    recorder.state.permanent.discard("gone")
    async with ctx.db.session() as session:
        channel = await session.get(Channel, gone)
        assert channel is not None
        assert await enable_channel(session, channel)
    notifier = HttpNotifier(recorder.url)
    try:
        again = await Outbox(ctx, {"console": notifier}).deliver_due()
    finally:
        await notifier.aclose()
    assert again.sent == 4
    assert all(r.status == "sent" for r in await _rows(ctx))


async def test_expired_lease_is_taken_over_with_the_same_nonce(
    ctx: StoreOnlyContext, clock: FakeClock
) -> None:
    a = await add_channel(ctx.db, "a")
    await _enqueue(ctx, _alert(a, 1))
    # a worker claims the row and dies before sending
    [claimed] = await claim_due(
        ctx.db, owner="dead", now=clock.now(), limit=10, lease_seconds=120, platforms=["console"]
    )
    notifier = RecordingNotifier()
    outbox = Outbox(ctx, {"console": notifier}, owner="alive")
    assert (await outbox.deliver_due()).sent == 0  # still leased
    clock.advance(seconds=121)
    assert (await outbox.deliver_due()).sent == 1
    [row] = await _rows(ctx)
    assert row.status == "sent" and row.attempts == 2
    assert notifier.sent[0][3] == claimed.nonce == row.nonce


async def test_rows_wait_for_a_notifier_of_their_platform(ctx: StoreOnlyContext) -> None:
    slack = await add_channel(ctx.db, "s", platform="slack")
    console = await add_channel(ctx.db, "c")
    await _enqueue(ctx, _alert(slack, 1), _alert(console, 1))
    notifier = RecordingNotifier()
    assert (await Outbox(ctx, {"console": notifier}).deliver_due()).sent == 1
    rows = {r.channel_id: r.status for r in await _rows(ctx)}
    assert rows == {slack: "pending", console: "sent"}


async def test_concurrent_workers_claim_disjoint_rows(ctx: StoreOnlyContext) -> None:
    channels = [await add_channel(ctx.db, f"c{i}") for i in range(10)]
    await _enqueue(ctx, *(_alert(c, s) for c in channels for s in range(10)))
    notifier = RecordingNotifier()
    import asyncio

    reports = await asyncio.gather(
        *(Outbox(ctx, {"console": notifier}, owner=f"w{i}").deliver_due() for i in range(3))
    )
    assert sum(r.sent for r in reports) == 100
    assert len(notifier.sent) == 100 and len(set(notifier.delivered_keys())) == 100

"""The outbox: digests and alerts become `deliveries` rows; workers claim, send, retry, record.

Guarantee: a row is never deleted, so nothing is lost — it ends `sent`, `failed` (attempts used up
or the platform rejected the body, visible with its last error) or `skipped` (an empty digest), or
it waits `pending` with the reason while its channel is disabled or its platform paused. A claim is
a lease that the worker renews while it holds the row, so a crashed worker's rows are taken over
once the lease expires and a slow one's never are. Each row is marked the moment it is sent, each
part of a multi-part message as it is posted, so the only message that can be posted twice is the
one part whose process died after the platform accepted it and before it was recorded; the part's
stable nonce lets Discord (`enforce_nonce`) drop even that.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.errors import DeliveryError
from bot.logs import redact
from bot.platforms import pause_platform, paused_platforms
from bot.ports import Notifier
from bot.runtime import StoreContext
from bot.store.db import Database
from bot.store.schema import Channel, Delivery

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED, SKIPPED = "pending", "sending", "sent", "failed", "skipped"
MAX_BACKOFF = timedelta(hours=6)
DEFAULT_LANES = 4
# While a slow channel is still sending, look for rows of other channels this often.
RECLAIM_SECONDS = 2.0
MAX_ERROR_CHARS = 1000


def delivery_nonce(channel_id: int, key: str) -> str:
    """Stable per row and ≤25 characters (Discord's nonce limit); derived, so replicas agree."""
    return hashlib.sha256(f"{channel_id}:{key}".encode()).hexdigest()[:24]


def worker_id() -> str:
    """Who holds a lease: host, process and a random suffix, so two loops never share an owner."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One row to enqueue: `status` is `skipped` (with `note`) for a digest with nothing in it."""

    channel_id: int
    key: str
    kind: str
    payload: dict[str, Any]
    status: str = PENDING
    note: str | None = None


async def enqueue_many(session: AsyncSession, entries: Sequence[OutboxEntry], now: datetime) -> int:
    """Insert rows that do not exist yet; returns how many were new.

    `ON CONFLICT DO NOTHING` on the unique (channel_id, key) makes this idempotent across replicas.
    """
    if not entries:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    rows = [
        {
            "channel_id": entry.channel_id,
            "key": entry.key,
            "kind": entry.kind,
            "payload": entry.payload,
            "status": entry.status,
            "attempts": 0,
            "next_attempt_at": now,
            "nonce": delivery_nonce(entry.channel_id, entry.key),
            "last_error": entry.note,
            "created_at": now,
        }
        for entry in entries
    ]
    inserted = 0
    for start in range(0, len(rows), 1000):
        statement = (
            insert(Delivery)
            .on_conflict_do_nothing(index_elements=["channel_id", "key"])
            .returning(Delivery.id)
        )
        result = await session.execute(statement, rows[start : start + 1000])
        inserted += len(result.all())
    return inserted


@dataclass(slots=True)
class ClaimedDelivery:
    """A leased row plus the destination it goes to; `parts_sent` grows as parts are posted."""

    id: int
    channel_id: int
    key: str
    payload: dict[str, Any]
    nonce: str
    attempts: int
    platform: str
    workspace: str
    channel: str
    parts_sent: list[str] = field(default_factory=list)


async def claim_due(
    db: Database,
    *,
    owner: str,
    now: datetime,
    limit: int,
    lease_seconds: float,
    platforms: Sequence[str],
) -> list[ClaimedDelivery]:
    """Lease up to `limit` due rows for active channels of the given platforms.

    Due means pending and past `next_attempt_at`, or `sending` with an expired lease (its worker
    died). A channel with a live lease on any row is left alone, so one channel's rows go out in
    order, one worker at a time, and a slow channel holds only the rows it already has.
    PostgreSQL skips rows another replica is claiming; SQLite's single writer makes the one
    conditional UPDATE atomic.
    """
    if not platforms or limit <= 0:
        return []
    busy = aliased(Delivery)
    channel_busy = (
        select(busy.id)
        .where(
            busy.channel_id == Delivery.channel_id,
            busy.status == SENDING,
            busy.lease_until >= now,
        )
        .exists()
    )
    due = (
        select(Delivery.id)
        .join(Channel, Channel.id == Delivery.channel_id)
        .where(
            Channel.status == "active",
            Channel.platform.in_(list(platforms)),
            or_(
                and_(Delivery.status == PENDING, Delivery.next_attempt_at <= now),
                and_(Delivery.status == SENDING, Delivery.lease_until < now),
            ),
            ~channel_busy,
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    if db.dialect == "postgresql":
        due = due.with_for_update(skip_locked=True, of=Delivery)
    claim = (
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()))
        .values(
            status=SENDING,
            lease_owner=owner,
            lease_until=now + timedelta(seconds=lease_seconds),
            attempts=Delivery.attempts + 1,
        )
        .returning(
            Delivery.id,
            Delivery.channel_id,
            Delivery.key,
            Delivery.payload,
            Delivery.nonce,
            Delivery.attempts,
            Delivery.parts_sent,
        )
        .execution_options(synchronize_session=False)
    )
    async with db.session() as session:
        rows = (await session.execute(claim)).all()
        if not rows:
            return []
        channels = {
            channel.id: channel
            for channel in await session.scalars(
                select(Channel).where(Channel.id.in_({row.channel_id for row in rows}))
            )
        }
    claimed = [
        ClaimedDelivery(
            id=row.id,
            channel_id=row.channel_id,
            key=row.key,
            payload=row.payload,
            nonce=row.nonce or delivery_nonce(row.channel_id, row.key),
            attempts=row.attempts,
            platform=channels[row.channel_id].platform,
            workspace=channels[row.channel_id].workspace,
            channel=channels[row.channel_id].channel,
            parts_sent=[str(part) for part in row.parts_sent or []],
        )
        for row in rows
    ]
    claimed.sort(key=lambda row: row.id)
    return claimed


def backoff_delay(attempts: int, base_seconds: float, retry_after: float | None) -> timedelta:
    """The platform's Retry-After when it gave one; else exponential from the base, capped."""
    if retry_after is not None:
        return min(timedelta(seconds=max(retry_after, 0.0)), MAX_BACKOFF)
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


@dataclass
class DeliveryReport:
    """What one worker run did; `disabled_channels` lists channel ids marked permanently failed."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    disabled_channels: list[int] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.skipped += other.skipped
        self.disabled_channels.extend(other.disabled_channels)


class Outbox:
    """Sends due rows through the notifier registered for each row's platform.

    Each row is marked the moment its send succeeds, each part of a multi-part message as it is
    posted; a heartbeat renews the lease of every row this worker holds, so a slow platform never
    lets another worker take a row over. `drain()` stops claiming and lets sends in flight finish.
    """

    def __init__(
        self,
        ctx: StoreContext,
        notifiers: Mapping[str, Notifier],
        *,
        owner: str | None = None,
        lanes: int = DEFAULT_LANES,
    ) -> None:
        self.ctx = ctx
        self.notifiers = notifiers
        self.owner = owner or worker_id()
        self.lanes = lanes
        self._stopping = False
        self._runs = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._workers: set[asyncio.Task[None]] = set()
        self._heartbeat: asyncio.Task[None] | None = None
        self._paused: dict[str, str] = {}
        self._pausing: set[str] = set()

    @property
    def _settings(self) -> Any:
        return self.ctx.settings.delivery

    @property
    def stopping(self) -> bool:
        return self._stopping

    def stop_claiming(self) -> None:
        """No new rows are claimed and no queued row starts; rows already sending finish."""
        self._stopping = True

    async def drain(self, seconds: float | None = None) -> bool:
        """Stop claiming, wait (at most `seconds`, default `[delivery] drain_seconds`) for sends
        in flight to finish and be marked. True when everything finished in time; otherwise the
        stragglers are cancelled and their rows stay leased, to be taken over after the lease."""
        self.stop_claiming()
        wait = self._settings.drain_seconds if seconds is None else seconds
        try:
            async with asyncio.timeout(wait):
                await self._idle.wait()
            return True
        except TimeoutError:
            log.warning("delivery drain timed out; cancelling %d sends", len(self._workers))
            for worker in list(self._workers):
                worker.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
            return False

    async def deliver_due(self) -> DeliveryReport:
        """Claim and send until nothing is due now.

        Channels go out concurrently (up to `lanes` × `batch_size` rows held at once); a worker
        that finishes frees its channel, and the loop claims again — also every few seconds while
        a slow channel is still sending — so one slow channel never holds back the others.
        """
        report = DeliveryReport()
        if self._stopping:
            return report
        self._runs += 1
        self._idle.clear()
        self._start_heartbeat()
        mine: dict[asyncio.Task[None], int] = {}  # each channel worker and how many rows it has
        try:
            capacity = self._settings.batch_size * self.lanes
            while not self._stopping:
                held = sum(rows for worker, rows in mine.items() if not worker.done())
                room = min(self._settings.batch_size, capacity - held)
                claimed = await self._claim(room) if room > 0 else []
                if claimed:
                    for rows in _by_channel(claimed).values():
                        worker = asyncio.create_task(self._channel_worker(rows, report))
                        mine[worker] = len(rows)
                        self._workers.add(worker)
                        worker.add_done_callback(self._workers.discard)
                    continue
                for worker in [w for w in mine if w.done()]:
                    del mine[worker]
                    if not worker.cancelled() and worker.exception() is not None:
                        log.error("delivery worker failed", exc_info=worker.exception())
                running = set(mine)
                if not running:
                    break
                await asyncio.wait(
                    running, timeout=RECLAIM_SECONDS, return_when=asyncio.FIRST_COMPLETED
                )
            if mine:
                await asyncio.gather(*mine, return_exceptions=True)
        finally:
            self._runs -= 1
            if self._runs == 0:
                await self._stop_heartbeat()
                self._idle.set()
        return report

    async def _claim(self, limit: int) -> list[ClaimedDelivery]:
        async with self.ctx.db.session() as session:
            recorded = await paused_platforms(session, self.ctx.settings)
        # the store decides (an operator may have resumed), except for a pause still being written
        pending = {p: r for p, r in self._paused.items() if p in self._pausing}
        self._paused = {**recorded, **pending}
        platforms = sorted(set(self.notifiers) - set(self._paused))
        return await claim_due(
            self.ctx.db,
            owner=self.owner,
            now=self.ctx.clock.now(),
            limit=limit,
            lease_seconds=self._settings.lease_seconds,
            platforms=platforms,
        )

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._renew_leases(), name="outbox-heartbeat")

    async def _stop_heartbeat(self) -> None:
        heartbeat, self._heartbeat = self._heartbeat, None
        if heartbeat is not None:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)

    async def _renew_leases(self) -> None:
        """Every third of a lease, push the lease of every row we hold forward by a full one."""
        lease = self._settings.lease_seconds
        while True:
            await asyncio.sleep(lease / 3)
            try:
                async with self.ctx.db.session() as session:
                    await session.execute(
                        update(Delivery)
                        .where(Delivery.lease_owner == self.owner, Delivery.status == SENDING)
                        .values(lease_until=self.ctx.clock.now() + timedelta(seconds=lease))
                        .execution_options(synchronize_session=False)
                    )
            except Exception:
                log.exception("could not renew delivery leases")

    async def _channel_worker(self, rows: list[ClaimedDelivery], report: DeliveryReport) -> None:
        """One channel's rows in order; stops early (releasing the rest) when the channel or its
        platform stops accepting, or when the outbox is draining."""
        index = 0
        try:
            while index < len(rows):
                row = rows[index]
                if self._stopping or row.platform in self._paused:
                    break
                # from here the row is in doubt until recorded: a cancelled send keeps its lease
                index += 1
                if await self._send_one(row, report) != "ok":
                    break
        finally:
            # never started: hand back without using up an attempt (also when cancelled)
            await asyncio.shield(self._release(rows[index:]))

    async def _send_one(self, row: ClaimedDelivery, report: DeliveryReport) -> str:
        """Send one row; every outcome is recorded at once. Returns `ok` to go on with the channel,
        `stop` when the channel or the platform no longer accepts messages."""
        notifier = self.notifiers[row.platform]
        timeout = max(self._settings.lease_seconds - 5.0, self._settings.lease_seconds * 0.8)

        async def part_posted(message_id: str) -> None:
            row.parts_sent.append(message_id[:200])
            await self._record_parts(row)

        try:
            async with asyncio.timeout(timeout):
                message = await notifier.send(
                    row.workspace,
                    row.channel,
                    row.payload,
                    row.nonce,
                    done=tuple(row.parts_sent),
                    on_part=part_posted,
                )
        except DeliveryError as error:
            if error.token:
                await self._pause_platform(row, str(error))
                return "stop"
            if error.permanent:
                await self._disable_channel(row, str(error), report)
                return "stop"
            await self._retry_or_fail(
                row, str(error), error.retry_after, report, final=error.rejected
            )
        except TimeoutError:
            await self._retry_or_fail(row, f"notifier timed out after {timeout:.0f}s", None, report)
        except Exception as error:
            log.exception(
                "notifier raised unexpectedly",
                extra={"delivery_id": row.id, "platform": row.platform},
            )
            await self._retry_or_fail(row, f"{type(error).__name__}: {error}", None, report)
        else:
            first = row.parts_sent[0] if row.parts_sent else message.platform_message_id
            await self._mark_sent(row, first)
            report.sent += 1
        return "ok"

    async def _record_parts(self, row: ClaimedDelivery) -> None:
        async with self.ctx.db.session() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.id == row.id)
                .values(parts_sent=list(row.parts_sent))
                .execution_options(synchronize_session=False)
            )

    async def _mark_sent(self, row: ClaimedDelivery, message_id: str) -> None:
        # Success is the truth even if our lease lapsed meanwhile, so no owner condition here.
        async with self.ctx.db.session() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.id == row.id)
                .values(
                    status=SENT,
                    platform_message_id=message_id[:200],
                    sent_at=self.ctx.clock.now(),
                    lease_owner=None,
                    lease_until=None,
                    last_error=None,
                )
                .execution_options(synchronize_session=False)
            )

    async def _retry_or_fail(
        self,
        row: ClaimedDelivery,
        error: str,
        retry_after: float | None,
        report: DeliveryReport,
        *,
        final: bool = False,
    ) -> None:
        """Back off and retry, or fail the row after the last attempt (at once when `final`)."""
        message = redact(error)[:MAX_ERROR_CHARS]
        now = self.ctx.clock.now()
        values: dict[str, Any] = {"last_error": message, "lease_owner": None, "lease_until": None}
        if retry_after is not None:
            # a rate limit says "later", not "broken": it does not use up an attempt
            values["attempts"] = Delivery.attempts - 1
        gave_up = final or (retry_after is None and row.attempts >= self._settings.max_attempts)
        if gave_up:
            values["status"] = FAILED
            report.failed += 1
        else:
            delay = backoff_delay(row.attempts, self._settings.backoff_seconds, retry_after)
            values.update(status=PENDING, next_attempt_at=now + delay)
            report.retried += 1
        log.warning(
            "delivery %s (%s) attempt %d: %s",
            row.id,
            row.key,
            row.attempts,
            message,
            extra={"delivery_id": row.id, "channel_id": row.channel_id, "gave_up": gave_up},
        )
        async with self.ctx.db.session() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.id == row.id, Delivery.lease_owner == self.owner)
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    async def _disable_channel(
        self, row: ClaimedDelivery, error: str, report: DeliveryReport
    ) -> None:
        """A channel-level error ends this channel only. Its rows wait (pending) with the reason,
        so re-enabling the channel sends them; no one else's deliveries are touched."""
        reason = redact(error)[:MAX_ERROR_CHARS]
        log.warning(
            "channel %s disabled: %s",
            row.channel_id,
            reason,
            extra={"channel_id": row.channel_id, "platform": row.platform},
        )
        async with self.ctx.db.session() as session:
            await session.execute(
                update(Channel)
                .where(Channel.id == row.channel_id)
                .values(status="disabled", disabled_reason=reason)
                .execution_options(synchronize_session=False)
            )
            await session.execute(
                update(Delivery)
                .where(Delivery.id == row.id)
                .values(
                    status=PENDING,
                    attempts=Delivery.attempts - 1,
                    last_error=f"channel disabled: {reason}",
                    lease_owner=None,
                    lease_until=None,
                )
                .execution_options(synchronize_session=False)
            )
        report.disabled_channels.append(row.channel_id)

    async def _pause_platform(self, row: ClaimedDelivery, error: str) -> None:
        """A token-level error pauses the platform; the row waits, no channel is blamed."""
        reason = redact(error)[:MAX_ERROR_CHARS]
        self._paused[row.platform] = reason
        log.error(
            "%s paused: its token was refused (%s); no more calls until the token changes or "
            "`ainews platforms resume %s`",
            row.platform,
            reason,
            row.platform,
            extra={"platform": row.platform},
        )
        self._pausing.add(row.platform)
        try:
            await self._release([row], note=f"{row.platform} paused: {reason}")
            now = self.ctx.clock.now()
            async with self.ctx.db.session() as session:
                await pause_platform(session, self.ctx.settings, row.platform, reason, now)
        except Exception:
            log.exception("could not record the %s pause", row.platform)
        finally:
            self._pausing.discard(row.platform)

    async def _release(self, rows: Sequence[ClaimedDelivery], note: str | None = None) -> None:
        """Hand rows back as pending without using up an attempt (they were not tried)."""
        if not rows:
            return
        values: dict[str, Any] = {
            "status": PENDING,
            "attempts": Delivery.attempts - 1,
            "lease_owner": None,
            "lease_until": None,
        }
        if note is not None:
            values["last_error"] = note[:MAX_ERROR_CHARS]
        async with self.ctx.db.session() as session:
            await session.execute(
                update(Delivery)
                .where(
                    Delivery.id.in_([row.id for row in rows]),
                    Delivery.lease_owner == self.owner,
                    Delivery.status == SENDING,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def _by_channel(rows: Sequence[ClaimedDelivery]) -> dict[int, list[ClaimedDelivery]]:
    grouped: dict[int, list[ClaimedDelivery]] = defaultdict(list)
    for row in rows:
        grouped[row.channel_id].append(row)
    return grouped


async def deliver_due(
    ctx: StoreContext, notifiers: Mapping[str, Notifier], *, owner: str | None = None
) -> DeliveryReport:
    """One worker run: send everything due now through the registered notifiers."""
    return await Outbox(ctx, notifiers, owner=owner).deliver_due()

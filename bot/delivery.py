"""The outbox: digests and alerts become `deliveries` rows; workers claim, send, retry, record.

Guarantee: a row is never deleted, so nothing is lost — it ends `sent`, `failed` (attempts used up,
visible with its last error) or `skipped` (its channel was disabled, or the digest was empty).
A claim is a lease, so a crashed worker's rows are taken over once the lease expires. The only
duplicate possible is one extra post of a row whose process died after the platform accepted the
message and before the row was marked; the row's stable `nonce` lets platforms that dedupe
(Discord's `enforce_nonce`) drop that extra post too.
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

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import DeliveryError
from bot.logs import redact
from bot.ports import Notifier
from bot.runtime import StoreContext
from bot.store.db import Database
from bot.store.schema import Base, Channel, Delivery

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED, SKIPPED = "pending", "sending", "sent", "failed", "skipped"
MAX_BACKOFF = timedelta(hours=6)
DEFAULT_LANES = 4
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


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A leased row plus the destination it goes to."""

    id: int
    channel_id: int
    key: str
    payload: dict[str, Any]
    nonce: str
    attempts: int
    platform: str
    workspace: str
    channel: str


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
    died). PostgreSQL skips rows another replica is claiming; SQLite's single writer makes the
    one conditional UPDATE atomic.
    """
    if not platforms:
        return []
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
    """Sends due rows through the notifier registered for each row's platform."""

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

    @property
    def _settings(self) -> Any:
        return self.ctx.settings.delivery

    async def deliver_due(self) -> DeliveryReport:
        """Claim and send until nothing is due now. Extra lanes start only behind a full batch,
        so a quiet outbox costs one query while a fan-out overlaps sending with the store."""
        report = DeliveryReport()

        async def lane(claimed: list[ClaimedDelivery] | None) -> None:
            if claimed is None:
                claimed = await self._claim()
            while claimed:
                await self._send_batch(claimed, report)
                claimed = await self._claim()

        first = await self._claim()
        if not first:
            return report
        extra = self.lanes - 1 if len(first) >= self._settings.batch_size else 0
        await asyncio.gather(lane(first), *(lane(None) for _ in range(extra)))
        return report

    async def _claim(self) -> list[ClaimedDelivery]:
        return await claim_due(
            self.ctx.db,
            owner=self.owner,
            now=self.ctx.clock.now(),
            limit=self._settings.batch_size,
            lease_seconds=self._settings.lease_seconds,
            platforms=sorted(self.notifiers),
        )

    async def _send_batch(self, claimed: list[ClaimedDelivery], report: DeliveryReport) -> None:
        """Rows of one channel go out in order, one at a time; channels proceed concurrently.

        Successes are marked together when the batch is done (one transaction instead of one
        per row); a crash before that leaves them leased, to be re-sent once with their nonce.
        """
        by_channel: dict[int, list[ClaimedDelivery]] = defaultdict(list)
        for row in claimed:
            by_channel[row.channel_id].append(row)
        sent: list[dict[str, Any]] = []

        async def one_channel(rows: list[ClaimedDelivery]) -> None:
            for index, row in enumerate(rows):
                if not await self._send_one(row, report, sent):
                    await self._skip_claimed(rows[index + 1 :], report)
                    return

        try:
            await asyncio.gather(*(one_channel(rows) for rows in by_channel.values()))
        finally:
            await self._mark_sent(sent)

    async def _send_one(
        self, row: ClaimedDelivery, report: DeliveryReport, sent: list[dict[str, Any]]
    ) -> bool:
        """Send one row; failures are recorded at once. False when its channel was disabled."""
        notifier = self.notifiers[row.platform]
        timeout = max(self._settings.lease_seconds - 5.0, self._settings.lease_seconds * 0.8)
        try:
            async with asyncio.timeout(timeout):
                message = await notifier.send(row.workspace, row.channel, row.payload, row.nonce)
        except DeliveryError as error:
            if error.permanent:
                await self._disable_channel(row, str(error), report)
                return False
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
            sent.append(
                {
                    "row_id": row.id,
                    "message_id": message.platform_message_id[:200],
                    "at": self.ctx.clock.now(),
                }
            )
            report.sent += 1
        return True

    async def _mark_sent(self, sent: list[dict[str, Any]]) -> None:
        if not sent:
            return
        table = Base.metadata.tables[Delivery.__tablename__]
        # Success is the truth even if our lease lapsed meanwhile, so no owner condition here.
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(
                status=SENT,
                platform_message_id=bindparam("message_id"),
                sent_at=bindparam("at"),
                lease_owner=None,
                lease_until=None,
                last_error=None,
            )
        )
        async with self.ctx.db.session() as session:
            await session.execute(statement, sent)

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
        """A permanent error ends this channel only: its row fails, its queue is skipped."""
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
                .values(status=FAILED, last_error=reason, lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
            skipped = await session.execute(
                update(Delivery)
                .where(Delivery.channel_id == row.channel_id, Delivery.status == PENDING)
                .values(status=SKIPPED, last_error=f"channel disabled: {reason}")
                .execution_options(synchronize_session=False)
            )
        report.failed += 1
        report.skipped += max(getattr(skipped, "rowcount", 0) or 0, 0)
        report.disabled_channels.append(row.channel_id)

    async def _skip_claimed(self, rows: list[ClaimedDelivery], report: DeliveryReport) -> None:
        if not rows:
            return
        async with self.ctx.db.session() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_([row.id for row in rows]))
                .values(
                    status=SKIPPED,
                    last_error="channel disabled",
                    lease_owner=None,
                    lease_until=None,
                )
                .execution_options(synchronize_session=False)
            )
        report.skipped += len(rows)


async def deliver_due(
    ctx: StoreContext, notifiers: Mapping[str, Notifier], *, owner: str | None = None
) -> DeliveryReport:
    """One worker run: send everything due now through the registered notifiers."""
    return await Outbox(ctx, notifiers, owner=owner).deliver_due()

"""The trigger table: APScheduler only fires; the store decides what is due.

Every job is safe to run on any number of replicas at once: sources are leased by ingest, digests
and alerts are enqueued under unique outbox keys, and the outbox leases rows before sending.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.alerts import enqueue_alerts
from bot.channels import ensure_console_channel
from bot.delivery import DeliveryReport, Outbox
from bot.digests import enqueue_due_digests
from bot.enrich.pipeline import EnrichReport, enrich_pending
from bot.ingest.poll import PollReport, poll_sources, sync_sources
from bot.messages import N_, Msg, msg
from bot.ports import Notifier
from bot.retention import prune

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)

POLL_EVERY_SECONDS = 60
ENRICH_EVERY_SECONDS = 60
DUE_DIGESTS_EVERY_SECONDS = 60
DELIVER_EVERY_SECONDS = 15
# After cancelling, how long running jobs get to unwind before the engine is closed under them.
STOP_GRACE_SECONDS = 10.0
# Job runs in progress, so shutdown can wait for them to unwind instead of guessing a delay.
_RUNNING: set[asyncio.Task[Any]] = set()


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One row of the trigger table."""

    id: str
    trigger: IntervalTrigger | CronTrigger
    description: str


@dataclass
class CycleReport:
    """One full cycle (`ainews run --once`); `errors` names steps that crashed outright."""

    new_articles: int = 0
    sources_failed: int = 0
    enriched: int = 0
    digests_queued: int = 0
    alerts_queued: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    errors: list[str] = field(default_factory=list)


class Jobs:
    """The service's recurring work, bound to one context and one notifier registry."""

    def __init__(
        self,
        ctx: AppContext,
        notifiers: Mapping[str, Notifier],
        *,
        owner: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.outbox = Outbox(ctx, notifiers, owner=owner)
        # `ainews run` sets this to print one line per fetch round instead of a log line per
        # failing source (those stay in the log at INFO and on the web's /sources page)
        self.announce: Callable[[Msg], None] | None = None

    async def poll(self) -> PollReport:
        report = await poll_sources(self.ctx, all_sources=False)
        if self.announce is not None and report.sources:
            self.announce(poll_line(report))
        return report

    async def enrich(self) -> EnrichReport:
        return await enrich_pending(self.ctx)

    async def due_digests(self) -> int:
        """Queue due digests and send them at once rather than at the next worker tick."""
        queued = await enqueue_due_digests(self.ctx)
        if queued:
            await self.outbox.deliver_due()
        return queued

    async def alerts(self) -> int:
        queued = await enqueue_alerts(self.ctx)
        if queued:
            await self.outbox.deliver_due()
        return queued

    async def deliver(self) -> DeliveryReport:
        return await self.outbox.deliver_due()

    async def stop(self, scheduler: AsyncIOScheduler | None) -> None:
        """Shut down without cutting a send in half: no new job runs, the outbox stops claiming
        and its sends in flight finish and are marked (at most `[delivery] drain_seconds`);
        only then are the other running jobs cancelled and awaited, before anything is closed."""
        if scheduler is not None and scheduler.running:
            scheduler.pause()
        await self.outbox.drain()
        if scheduler is not None and scheduler.running:
            # cancels what still runs (a poll, an enrichment): those are safe to redo
            scheduler.shutdown(wait=False)
        loop = asyncio.get_running_loop()
        running = [task for task in _RUNNING if not task.done() and task.get_loop() is loop]
        if running:
            await asyncio.wait(running, timeout=STOP_GRACE_SECONDS)

    async def retention(self) -> int:
        """Apply `[retention] days`: unset keeps everything; pruning is idempotent on replicas."""
        days = self.ctx.settings.retention.days
        if days is None:
            return 0
        report = await prune(self.ctx, timedelta(days=days))
        if report.articles:
            log.info("pruned %d articles older than %d days", report.articles, days)
        return report.articles

    async def prepare(self) -> None:
        """Sources from config into the store, and the console destination when it is wanted."""
        await sync_sources(self.ctx.db, self.ctx.settings)
        async with self.ctx.db.session() as session:
            await ensure_console_channel(session, self.ctx.settings)

    async def cycle(self) -> CycleReport:
        """Fetch, enrich, queue what is due, deliver — each step runs even if one before failed."""
        report = CycleReport()

        async def step(name: str, action: Callable[[], Awaitable[Any]]) -> Any:
            try:
                return await action()
            except Exception:
                log.exception("cycle step %s failed", name, extra={"step": name})
                report.errors.append(name)
                return None

        await step("prepare", self.prepare)
        polled = await step("poll", self.poll)
        if isinstance(polled, PollReport):
            report.new_articles = polled.new_articles
            report.sources_failed = polled.count("error")
        enriched = await step("enrich", self.enrich)
        if isinstance(enriched, EnrichReport):
            report.enriched = enriched.enriched
        # queue only: the deliver step below sends digests and alerts together
        report.digests_queued = await step("digests", lambda: enqueue_due_digests(self.ctx)) or 0
        report.alerts_queued = await step("alerts", lambda: enqueue_alerts(self.ctx)) or 0
        delivered = await step("deliver", self.deliver)
        if isinstance(delivered, DeliveryReport):
            report.delivery = delivered
        return report

    def table(self) -> list[tuple[JobSpec, Callable[[], Awaitable[Any]]]]:
        """The trigger table: what runs when. Hourly alerts fire at minute 0 of every hour."""
        return [
            (
                JobSpec("poll", IntervalTrigger(seconds=POLL_EVERY_SECONDS), "poll due sources"),
                self.poll,
            ),
            (
                JobSpec("enrich", IntervalTrigger(seconds=ENRICH_EVERY_SECONDS), "enrich pending"),
                self.enrich,
            ),
            (
                JobSpec(
                    "digests",
                    IntervalTrigger(seconds=DUE_DIGESTS_EVERY_SECONDS),
                    "queue digests due at each channel's local time",
                ),
                self.due_digests,
            ),
            (
                JobSpec("alerts", CronTrigger(minute=0), "hourly alert run"),
                self.alerts,
            ),
            (
                JobSpec("deliver", IntervalTrigger(seconds=DELIVER_EVERY_SECONDS), "outbox worker"),
                self.deliver,
            ),
            (
                JobSpec("retention", CronTrigger(hour=3, minute=17), "prune old articles daily"),
                self.retention,
            ),
        ]

    def scheduler(self) -> AsyncIOScheduler:
        """An AsyncIOScheduler with the table; not started. Overlapping runs of a job coalesce."""
        scheduler = AsyncIOScheduler(timezone="UTC")
        for spec, action in self.table():
            scheduler.add_job(
                _logged(spec.id, action),
                trigger=spec.trigger,
                id=spec.id,
                name=spec.description,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=30,
            )
        return scheduler


def poll_line(report: PollReport) -> Msg:
    """One line for a fetch round: counts, and where to look when something failed."""
    if report.count("error"):
        return _fetched(N_("run.fetched_failing"), report)
    return _fetched(N_("run.fetched"), report)


def _fetched(key: str, report: PollReport) -> Msg:
    return msg(
        key,
        count=len(report.sources),
        ok=report.count("ok"),
        unchanged=report.count("not_modified"),
        failing=report.count("error"),
        new=msg("run.new_articles", count=report.new_articles),
    )


def _logged(name: str, action: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
    """Jobs never raise into the scheduler: a failed run is logged and the next one tries again."""

    async def run() -> None:
        task = asyncio.current_task()
        if task is not None:
            _RUNNING.add(task)
        try:
            await action()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s failed", name, extra={"job": name})
        finally:
            if task is not None:
                _RUNNING.discard(task)

    run.__name__ = f"job_{name}"
    return run

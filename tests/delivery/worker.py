"""A service replica as its own process, for the replica and SIGKILL tests.

`lockstep`: follow the recorder's simulated clock (a long poll answered when the step
changes); at each step queue due digests, run the alert job on the hour, and deliver — then
report ready. `drain`: real clock, deliver until nothing is pending or leased, waiting in
between exactly until the next row can be claimed. Both send through `HttpNotifier` to the
shared loopback recorder.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
from datetime import datetime

import httpx
from sqlalchemy import func, select

from bot.alerts import enqueue_alerts
from bot.config import Settings
from bot.delivery import Outbox
from bot.digests import enqueue_due_digests
from bot.ports import SystemClock
from bot.runtime import StoreOnlyContext
from bot.store.db import Database
from bot.store.schema import Delivery
from tests.fakes.recorder import HttpNotifier
from tests.fakes.store_seed import FakeClock


def _settings(url: str, batch: int, lease: float) -> Settings:
    return Settings.model_validate(
        {
            "database": {"url": url},
            "delivery": {"batch_size": batch, "lease_seconds": lease, "backoff_seconds": 1},
        }
    )


async def lockstep(url: str, recorder: str, name: str, batch: int) -> None:
    clock = FakeClock(datetime.now().astimezone())
    ctx = StoreOnlyContext(settings=_settings(url, batch, 120), db=Database(url), clock=clock)
    notifier = HttpNotifier(recorder, pid=os.getpid())
    outbox = Outbox(ctx, {"console": notifier}, owner=name)
    last = -1
    async with httpx.AsyncClient(base_url=recorder, timeout=30) as client:
        while True:
            tick = (await client.get("/clock", params={"after": last})).json()
            if tick["done"]:
                break
            if tick["step"] == last:
                continue  # the long poll came back with no new step: ask again
            last = tick["step"]
            clock.set(datetime.fromisoformat(tick["now"]))
            await enqueue_due_digests(ctx)
            if clock.now().minute == 0:
                await enqueue_alerts(ctx)
            await outbox.deliver_due()
            await client.post("/ready", json={"step": last, "worker": name})
    await notifier.aclose()
    await ctx.db.dispose()


async def drain(url: str, recorder: str, name: str, batch: int, lease: float) -> None:
    ctx = StoreOnlyContext(
        settings=_settings(url, batch, lease), db=Database(url), clock=SystemClock()
    )
    notifier = HttpNotifier(recorder, pid=os.getpid())
    outbox = Outbox(ctx, {"console": notifier}, owner=name)
    print("started", flush=True)
    while True:
        await outbox.deliver_due()
        async with ctx.db.session() as session:
            open_rows = await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status.in_(("pending", "sending")))
            )
        if not open_rows:
            break
        await asyncio.sleep(await _until_claimable(ctx))
    await notifier.aclose()
    await ctx.db.dispose()


async def _until_claimable(ctx: StoreOnlyContext) -> float:
    """Seconds until an open row nothing could claim just now can be: a retry's backoff ends,
    or the lease of a row a dead worker was sending (which also holds its channel) runs out."""
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        retry = await session.scalar(
            select(func.min(Delivery.next_attempt_at)).where(
                Delivery.status == "pending", Delivery.next_attempt_at > now
            )
        )
        lease = await session.scalar(
            select(func.min(Delivery.lease_until)).where(
                Delivery.status == "sending", Delivery.lease_until >= now
            )
        )
    times = [t for t in (retry, lease) if t is not None]
    # a lease is over once `lease_until < now`: wake just after it
    return (min(times) - now).total_seconds() + 0.001 if times else 0.0


async def until_term(url: str, recorder: str, name: str, batch: int, lease: float) -> None:
    """Deliver on the real clock until SIGTERM, then stop the way `ainews run` does: no new
    claims, sends in flight finish and are marked, then close."""
    ctx = StoreOnlyContext(
        settings=_settings(url, batch, lease), db=Database(url), clock=SystemClock()
    )
    notifier = HttpNotifier(recorder, pid=os.getpid())
    outbox = Outbox(ctx, {"console": notifier}, owner=name)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def keep_delivering() -> None:
        while not outbox.stopping:
            await outbox.deliver_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)

    running = asyncio.create_task(keep_delivering())
    print("started", flush=True)
    await stop.wait()
    drained = await outbox.drain(30)
    await running
    print("drained" if drained else "drain timed out", flush=True)
    await notifier.aclose()
    await ctx.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["lockstep", "drain", "until-term"])
    parser.add_argument("url")
    parser.add_argument("recorder")
    parser.add_argument("name")
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--lease", type=float, default=120)
    args = parser.parse_args()
    if args.mode == "lockstep":
        asyncio.run(lockstep(args.url, args.recorder, args.name, args.batch))
    elif args.mode == "until-term":
        asyncio.run(until_term(args.url, args.recorder, args.name, args.batch, args.lease))
    else:
        asyncio.run(drain(args.url, args.recorder, args.name, args.batch, args.lease))


if __name__ == "__main__":
    main()

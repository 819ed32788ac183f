"""Event-loop lag while ainews works: the delay a Slack or Discord acknowledgement would see.

A probe task sleeps 5 ms in a loop on the same event loop as the work and records how late each
wake-up is. Two phases, each measured as it runs today:

1. a fetch cycle of the bench corpus (the 200 files of fixtures/feeds/bench, served by the
   tests' loopback feed server in a child process, 20 ms latency) — fetch, parse, normalise,
   store;
2. offline enrichment of the articles that cycle stored, first inline on the loop, then through
   the process pool of `bot.cpu` (as `ainews run` does).

Run: .venv/bin/python bench/loop_lag.py [--no-write]   (loopback only; prints the figures and
appends them to bench/RESULTS.md). Target: p99 lag < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feed_process  # bench/feed_process.py, beside this script

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BENCH_FEEDS = REPO.parent / "shared" / "fixtures" / "feeds" / "bench"
RESULTS = REPO / "bench" / "RESULTS.md"
LATENCY = 0.02
PROBE_INTERVAL = 0.005
TARGET_P99_MS = 50.0


@dataclass
class Lag:
    name: str
    wall: float
    samples: list[float]

    def pct(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def row(self) -> str:
        p99 = self.pct(0.99)
        verdict = "met" if p99 < TARGET_P99_MS else "MISSED"
        return (
            f"| {self.name} | {self.wall:.2f} s | {len(self.samples)} | "
            f"{statistics.median(self.samples) * 1000:.1f} | {self.pct(0.95):.1f} | "
            f"{p99:.1f} | {max(self.samples) * 1000:.0f} | {verdict} |"
        )


async def measure(name: str, work: Callable[[], Awaitable[Any]]) -> tuple[Lag, Any]:
    """Run `work` while a probe records how late the loop wakes it."""
    samples: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        while not done.is_set():
            expected = time.perf_counter() + PROBE_INTERVAL
            await asyncio.sleep(PROBE_INTERVAL)
            samples.append(max(0.0, time.perf_counter() - expected))

    task = asyncio.create_task(probe())
    started = time.perf_counter()
    try:
        result = await work()
    finally:
        wall = time.perf_counter() - started
        done.set()
        await task
    return Lag(name, wall, samples), result


# ---- phases -----------------------------------------------------------------------------------


async def run(hosts: list[str], db_path: Path) -> tuple[list[Lag], dict[str, int]]:
    from bot.config import Settings
    from bot.context import build_context
    from bot.cpu import start_cpu_pool, stop_cpu_pool
    from bot.enrich.pipeline import enrich_pending
    from bot.ingest.context import IngestServices
    from bot.ingest.poll import poll_sources, sync_sources

    files = sorted(BENCH_FEEDS.glob("*.xml"))
    urls = [f"{hosts[i % len(hosts)]}/a/x/{file.name}" for i, file in enumerate(files)]
    settings = Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{db_path}"},
            "fetch": {"allow_private_networks": True, "full_text": False},
            "enrich": {"concurrency": 4},
            "sources": [{"name": f"feed {i}", "url": u} for i, u in enumerate(urls)],
        }
    )
    ctx = await build_context(settings)
    figures: dict[str, int] = {"feeds": len(urls)}
    lags: list[Lag] = []
    try:
        services = IngestServices(settings, ctx.db, ctx.clock, ctx.fetcher)
        await sync_sources(ctx.db, settings)
        lag, report = await measure(
            f"fetch cycle, {len(urls)} feeds", lambda: poll_sources(services, all_sources=True)
        )
        lags.append(lag)
        figures["new_articles"] = report.new_articles
        limit = 400
        lag, inline = await measure(
            f"offline enrichment of {limit} articles, inline",
            lambda: enrich_pending(ctx, limit=limit),
        )
        lags.append(lag)
        start_cpu_pool()
        try:
            # the pool's workers start on first use; warm them so the figure is steady state
            from bot.cpu import run_cpu

            await asyncio.gather(*(run_cpu(os.getpid) for _ in range(8)))
            lag, pooled = await measure(
                f"offline enrichment of {limit} articles, process pool",
                lambda: enrich_pending(ctx, limit=limit),
            )
            lags.append(lag)
        finally:
            await stop_cpu_pool()
        figures["enriched_inline"] = inline.enriched
        figures["enriched_pool"] = pooled.enriched
    finally:
        await ctx.aclose()
    return lags, figures


def main(write: bool) -> None:
    child, hosts = feed_process.start(LATENCY, 10)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            lags, figures = asyncio.run(run(hosts, Path(tmp) / "lag.db"))
    finally:
        feed_process.stop(child)
    lines = [
        f"## loop lag — event-loop delay during work ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"`.venv/bin/python bench/loop_lag.py` on {os.cpu_count()} CPUs (shared), Python "
        f"{sys.version.split()[0]}. A probe sleeps {PROBE_INTERVAL * 1000:.0f} ms in a loop on "
        "the working event loop and records how late it wakes (what an acknowledgement due "
        f"within 3 s would wait). {figures['feeds']} feeds = the files of fixtures/feeds/bench on "
        f"{LATENCY * 1000:.0f} ms loopback latency; fresh SQLite, full text off; "
        f"{figures['new_articles']} new articles.",
        "",
        "| phase | wall | samples | p50 ms | p95 ms | p99 ms | max ms | p99 < 50 ms |",
        "|---|---|---|---|---|---|---|---|",
        *(lag.row() for lag in lags),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if write:
        previous = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
        RESULTS.write_text(previous.rstrip("\n") + "\n\n" + text, encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="Print only.")
    options = parser.parse_args()
    main(write=not options.no_write)

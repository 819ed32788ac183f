"""Ingest CPU per feed (issue 13): `parse_feed` and `prepare_feed` against `feedparser.parse`.

Run: .venv/bin/python bench/ingest_cpu.py [--rounds 1] [--profile parse|prepare]

CPU time (time.process_time), not wall time, over the 200 files of fixtures/feeds/bench; the
three are alternated per file in the same process (order reversed every other round), so a
shared machine's load hits all three alike. The process first loads what an ingest worker
loads with its first feed (`bench/ingest.py`'s `warm_process`: language profiles, lexicons), so
that one-time loading is not charged to the first feed. Prints the mean per feed and the ratio
feedparser / ours. `--profile` runs cProfile over one pass of the chosen call.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BENCH_FEEDS = REPO.parent / "shared" / "fixtures" / "feeds" / "bench"
BASE = "https://bench.example.test/feed"


def main(rounds: int, profile: str | None, skip_feedparser: bool) -> None:
    import feedparser

    from bench.ingest import warm_process
    from bot.ingest.parse import parse_feed
    from bot.ingest.prepare import prepare_feed

    bodies = [f.read_bytes() for f in sorted(BENCH_FEEDS.glob("*.xml"))]
    now = datetime.now(UTC)

    def run(name: str, body: bytes) -> None:
        if name == "parse":
            parse_feed(body, BASE)
        elif name == "prepare":
            prepare_feed(body, BASE, 1 << 24, "", now)
        else:
            feedparser.parse(body)

    names = ["parse", "prepare"] + ([] if skip_feedparser else ["feedparser"])
    warm_process()
    if profile:
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for body in bodies:
            run(profile, body)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for body in bodies:
            order = names if r % 2 == 0 else names[::-1]
            for name in order:
                started = time.process_time()
                run(name, body)
                cpu[name].append(time.process_time() - started)
    for name in names:
        print(f"{name:10s} {statistics.mean(cpu[name]) * 1000:7.2f} ms mean per feed")
    if not skip_feedparser:
        fp = sum(cpu["feedparser"])
        print(f"feedparser / parse_feed   {fp / sum(cpu['parse']):5.1f}×")
        print(f"feedparser / prepare_feed {fp / sum(cpu['prepare']):5.1f}×")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--profile", choices=["parse", "prepare"])
    parser.add_argument("--no-feedparser", action="store_true")
    args = parser.parse_args()
    main(args.rounds, args.profile, args.no_feedparser)

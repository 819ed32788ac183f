"""Ingestion benchmark (issue 13): `ainews fetch --all` against newsboat and naive loops.

Run: .venv/bin/python bench/ingest.py [--rounds 3] [--no-naive]
(loopback only; prints figures and replaces the ingest section of bench/RESULTS.md).
`--quick [--baseline TREE]` measures only the all-304 cycle (and the same cycle run from another
source tree, e.g. a `git archive` of main) and the HTTP-only rows, and prints them.

Honest by construction: every tool runs as its own process from a cold start (CLI start-up
included) on a fresh store or cache, tools alternate within each round (order flipped every
round), and min and median over the rounds are reported; the naive loops run over all feeds,
never extrapolated. The feed server is a child process, so it costs the measured tools nothing
but the CPU it shares with them. Memory is the peak proportional set size (PSS) of each tool's
whole process tree (main process plus any workers), sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feed_process  # bench/feed_process.py, beside this script

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BENCH_FEEDS = REPO.parent / "shared" / "fixtures" / "feeds" / "bench"
RESULTS = REPO / "bench" / "RESULTS.md"
FEEDS = 500
HOSTS = 50
LATENCY = 0.05
CONCURRENCY = 16  # the default fetch.concurrency; newsboat gets as many reload threads
BIG_STORE = 200_000


def _feed_files() -> list[Path]:
    return sorted(BENCH_FEEDS.glob("*.xml"))


def _feed_urls(hosts: list[str], files: list[Path], count: int = FEEDS) -> list[str]:
    """`count` URLs: the 200 files under as many aliases as needed, spread over the hosts."""
    return [
        f"{hosts[i % len(hosts)]}/a/copy{i // len(files)}/{files[i % len(files)].name}"
        for i in range(count)
    ]


# ---- running a tool as a process, with its tree's peak memory --------------------------------


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            todo += [
                int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()
            ]
    return found


def _pss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    match = re.search(r"^Pss:\s+(\d+)", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _children_cpu() -> float:
    """CPU seconds (user + system) of every child process reaped so far, their own reaped
    children (the ingest workers) included: a delta around one run is that run's CPU."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak PSS of the process tree (MB) and stdout of one run."""
    started = time.perf_counter()
    child = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, sum(_pss_kb(p) for p in _tree(child.pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = child.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if child.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({child.returncode}): {err[-2000:]}")
    return wall, peak / 1024, out


# ---- the tools ---------------------------------------------------------------------------------


def _ainews_config(folder: Path, urls: list[str], db: Path, concurrency: int = CONCURRENCY) -> Path:
    lines = [
        "[database]",
        f'url = "sqlite:///{db}"',
        "[fetch]",
        "allow_private_networks = true",
        "full_text = false",
        f"concurrency = {concurrency}",
    ]
    for i, url in enumerate(urls):
        lines += ["[[sources]]", f'name = "feed {i}"', f'url = "{url}"']
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _ainews_command() -> list[str]:
    script = Path(sys.executable).parent / "ainews"
    return [str(script)] if script.exists() else [sys.executable, "-m", "adapters.main"]


def _ainews_cycle(config: Path, tree: Path | None = None) -> tuple[float, float, dict[str, int]]:
    """One `ainews fetch --all` process; `tree` runs another source tree's ainews instead."""
    command = _ainews_command()
    env = None
    if tree is not None:
        command = [
            sys.executable,
            "-c",
            f"import os; os.chdir({str(tree)!r}); "
            "import runpy; runpy.run_module('adapters.main', run_name='__main__')",
        ]
        env = {"PYTHONPATH": str(tree)}
    wall, pss, out = _measured([*command, "--config", str(config), "fetch", "--all", "--json"], env)
    report = json.loads(out)
    statuses: dict[str, int] = {}
    for source in report["sources"]:
        statuses[source["status"]] = statuses.get(source["status"], 0) + 1
    statuses["new"] = report["new_articles"]
    return wall, pss, statuses


def _newsboat_cycle(folder: Path, urls: list[str]) -> tuple[float, float]:
    (folder / "urls").write_text("\n".join(urls) + "\n", encoding="utf-8")
    (folder / "config").write_text(f"reload-threads {CONCURRENCY}\n", encoding="utf-8")
    cmd = [
        "newsboat", "-q", "-x", "reload",
        "-u", str(folder / "urls"), "-c", str(folder / "cache.db"), "-C", str(folder / "config"),
    ]  # fmt: skip
    wall, pss, _ = _measured(cmd, env={"HOME": str(folder), "XDG_CONFIG_HOME": str(folder)})
    return wall, pss


def _naive_loop(urls_file: Path, reuse: bool) -> None:
    """The loop a user would write: GET and feedparser.parse each feed in turn (all of them)."""
    import feedparser
    import httpx

    urls = urls_file.read_text(encoding="utf-8").split()
    if reuse:
        with httpx.Client(timeout=30) as client:
            for url in urls:
                feedparser.parse(client.get(url).content)
    else:
        for url in urls:
            feedparser.parse(httpx.get(url, timeout=30).content)


# ---- in-process measures ------------------------------------------------------------------------


def _lag_cycle(config: Path) -> None:
    """One first cycle in this process with a 5 ms ticker: how late the event loop answers."""
    from bot.config import load_settings
    from bot.ingest.context import IngestServices
    from bot.ingest.fetch import Fetcher
    from bot.ingest.poll import poll_sources, sync_sources
    from bot.ingest.workers import shutdown_pool
    from bot.ports import SystemClock
    from bot.store.db import Database

    async def run() -> list[float]:
        settings = load_settings(config)
        db = Database(settings.database.url)
        await db.upgrade()
        services = IngestServices(settings, db, SystemClock(), Fetcher(settings.fetch))
        await sync_sources(db, settings)
        lags: list[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            loop = asyncio.get_running_loop()
            while not stop.is_set():
                before = loop.time()
                await asyncio.sleep(0.005)
                lags.append(loop.time() - before - 0.005)

        task = asyncio.create_task(ticker())
        await poll_sources(services, all_sources=True)
        stop.set()
        await task
        await services.aclose()
        return lags

    lags = sorted(asyncio.run(run()))
    shutdown_pool()
    print(
        json.dumps(
            {"p50": lags[len(lags) // 2], "p99": lags[int(len(lags) * 0.99)], "max": lags[-1]}
        )
    )


def warm_process() -> None:
    """Load what an ingest worker loads with its first feed (langdetect's profiles, the
    lexicons: ~0.3 s once per process), so that per-feed figures do not carry it."""
    from bot.ingest.extract import detect_lang
    from digest.editorial import named_entities

    detect_lang("Ceci n'est pas une phrase anglaise, mais elle suffit pour charger les profils.")
    named_entities("OpenAI releases a model", "")


def _parse_cpu(files: list[Path]) -> dict[str, list[float]]:
    """CPU per feed, alternated per file: parse_feed (parse + sanitise + clean), the whole
    prepare_feed (also languages, entities, hashes), and plain feedparser.parse, in a process
    warmed first (`warm_process`; bench/ingest_cpu.py measures the same alone)."""
    import feedparser

    from bot.ingest.parse import parse_feed
    from bot.ingest.prepare import prepare_feed

    warm_process()
    now = datetime.now(UTC)
    out: dict[str, list[float]] = {"parse": [], "prepare": [], "feedparser": []}
    for file in files:
        body = file.read_bytes()
        for name in ("parse", "feedparser", "prepare"):
            started = time.process_time()
            if name == "parse":
                parse_feed(body, "https://bench.example.test/feed")
            elif name == "feedparser":
                feedparser.parse(body)
            else:
                prepare_feed(body, "https://bench.example.test/feed", 1 << 24, "", now)
            out[name].append(time.process_time() - started)
    return out


def _http_clients(urls_file: Path, client: str) -> None:
    """Fetch every feed twice (200s, then 304s) under the fetch policy of ainews (16 at a time,
    4 per host, the SSRF guard in the connection layer): `aiohttp` is ainews's `Fetcher`,
    `httpx` the same policy on httpx as the fetcher was before (bench/httpx_fetcher.py).
    Prints wall and CPU of each pass."""
    from bot.config import FetchSettings

    urls = urls_file.read_text(encoding="utf-8").split()
    settings = FetchSettings(allow_private_networks=True)

    async def run() -> list[tuple[float, float]]:
        if client == "httpx":
            from bench.httpx_fetcher import HttpxFetcher

            fetcher: Any = HttpxFetcher(settings)
        else:
            from bot.ingest.fetch import Fetcher

            fetcher = Fetcher(settings)
        passes = []
        etags: dict[str, str | None] = {}
        for _ in range(2):
            wall, cpu = time.perf_counter(), time.process_time()
            answers = await asyncio.gather(*(fetcher.get(u, etag=etags.get(u)) for u in urls))
            passes.append((time.perf_counter() - wall, time.process_time() - cpu))
            assert all(a.status in (200, 304) for a in answers)
            etags = {u: a.etag for u, a in zip(urls, answers, strict=True)}
        await fetcher.aclose()
        return passes

    print(json.dumps(asyncio.run(run())))


# ---- the 200,000-article store ----------------------------------------------------------------


def _big_store(path: Path, count: int) -> None:
    """A migrated store holding `count` articles of one archive source, spread over 400 days
    (about 3,000 inside the story window), each in its own story; built with plain sqlite3."""
    from bot.store.db import upgrade_sync

    upgrade_sync(f"sqlite:///{path}")
    now = datetime.now(UTC).replace(tzinfo=None)
    words = ["model", "agent", "benchmark", "release", "open", "weights", "inference", "chip"]
    words += ["dataset", "reasoning"]
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO sources (name, url, kind, lang, weight, polled_once, error_count, disabled,"
        " next_check_at, created_at) VALUES ('archive', 'https://archive.test/feed', 'feed', '',"
        " 1.0, 1, 0, 0, ?, ?)",
        (now, now),
    )
    stories, articles = [], []
    for i in range(count):
        when = now - timedelta(minutes=i * 400 * 24 * 60 // count)
        title = f"{words[i % 10]} {words[(i // 10) % 10]} {words[(i // 100) % 10]} report {i}"
        stories.append((i + 1, title, f"{i:064x}", 1, when, when))
        articles.append(
            (1, i + 1, f"{i:064x}", f"guid-{i}", f"https://archive.test/{i}", f"https://archive.test/{i}",
             title, (title + ". ") * 20, "", "en", when, 1, when, "", 2, 0, 1, "pending", 0, "[]")
        )  # fmt: skip
    conn.executemany(
        "INSERT INTO stories (id, title, fingerprint, source_count, first_seen_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        stories,
    )
    conn.executemany(
        "INSERT INTO articles (source_id, story_id, identity, guid, url, canonical_url, title,"
        " content, author, lang, published_at, dated, fetched_at, content_hash, reading_minutes,"
        " full_text, is_backlog, enrich_status, enrich_attempts, entities)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        articles,
    )
    conn.commit()
    conn.close()


# ---- the run -----------------------------------------------------------------------------------


def _stats(values: list[float]) -> tuple[float, float]:
    return min(values), statistics.median(values)


def _fmt(values: list[float], unit: str = "s") -> str:
    low, mid = _stats(values)
    return f"{low:.2f} / {mid:.2f} {unit}"


def _verdict(met: bool) -> str:
    return "met" if met else "**MISSED**"


def main(rounds: int, naive: bool) -> None:
    files = _feed_files()
    newsboat = shutil.which("newsboat")
    child, hosts = feed_process.start(LATENCY, HOSTS)
    urls = _feed_urls(hosts, files)
    figures: dict[str, list[float]] = {}
    notes: list[str] = []

    def add(key: str, value: float) -> None:
        figures.setdefault(key, []).append(value)

    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            template = tmp / "big.db"
            started = time.perf_counter()
            _big_store(template, BIG_STORE)
            notes.append(f"200k-article store built in {time.perf_counter() - started:.0f} s")
            (tmp / "urls").write_text("\n".join(urls), encoding="utf-8")
            statuses: dict[str, int] = {}
            for r in range(rounds):
                steps: list[Callable[[], None]] = []

                def ainews_empty(r: int = r) -> None:
                    folder = tmp / f"a{r}"
                    folder.mkdir()
                    config = _ainews_config(folder, urls, folder / "a.db")
                    wall, pss, got = _ainews_cycle(config)
                    add("ainews_first", wall)
                    add("ainews_pss", pss)
                    statuses.update(got)
                    cpu = _children_cpu()
                    wall, pss, got = _ainews_cycle(config)
                    add("ainews_304_cpu", _children_cpu() - cpu)
                    add("ainews_304", wall)
                    statuses["second_not_modified"] = got.get("not_modified", 0)

                def ainews_big(r: int = r) -> None:
                    folder = tmp / f"b{r}"
                    folder.mkdir()
                    shutil.copyfile(template, folder / "b.db")
                    config = _ainews_config(folder, urls, folder / "b.db")
                    add("ainews_big", _ainews_cycle(config)[0])

                def newsboat_run(r: int = r) -> None:
                    folder = tmp / f"n{r}"
                    folder.mkdir()
                    try:
                        wall, pss = _newsboat_cycle(folder, urls)
                        second = _newsboat_cycle(folder, urls)[0]
                    except RuntimeError as exc:
                        notes.append(f"newsboat failed in round {r + 1}: {exc}")
                        return
                    add("newsboat_first", wall)
                    add("newsboat_pss", pss)
                    add("newsboat_304", second)

                def http(client: str) -> None:
                    out = _measured(
                        [sys.executable, __file__, "--http", client, str(tmp / "urls")]
                    )[2]
                    (first, first_cpu), (second, second_cpu) = json.loads(out)
                    add(f"{client}_wall", first)
                    add(f"{client}_cpu", first_cpu)
                    add(f"{client}_304_wall", second)
                    add(f"{client}_304_cpu", second_cpu)

                steps = [ainews_empty, ainews_big]
                if newsboat:
                    steps.append(newsboat_run)
                steps += [lambda: http("httpx"), lambda: http("aiohttp")]
                if r % 2:
                    steps.reverse()
                for step in steps:
                    step()
                print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
            if naive:
                for reuse in (False, True):
                    cmd = [sys.executable, __file__, "--naive", str(tmp / "urls")]
                    wall, pss, _ = _measured(cmd + (["--reuse"] if reuse else []))
                    add("naive_reuse" if reuse else "naive", wall)
                    add("naive_reuse_pss" if reuse else "naive_pss", pss)
            folder = tmp / "k"
            folder.mkdir()
            thousand = _ainews_config(folder, _feed_urls(hosts, files, 1000), folder / "k.db")
            add("ainews_pss_1000", _ainews_cycle(thousand)[1])
            folder = tmp / "lag"
            folder.mkdir()
            lag_config = _ainews_config(folder, urls, folder / "l.db")
            lag = json.loads(_measured([sys.executable, __file__, "--lag", str(lag_config)])[2])
    finally:
        feed_process.stop(child)
    cpu = _parse_cpu(files)
    _report(figures, cpu, lag, statuses, rounds, newsboat, notes, len(files), len(hosts))


def _http_rows(f: dict[str, list[float]]) -> list[str]:
    def ratio(key: str) -> str:
        httpx, aiohttp = f["httpx_" + key], f["aiohttp_" + key]
        return f"{statistics.median(httpx) / statistics.median(aiohttp):.1f}"

    return [
        f"| HTTP only, {FEEDS} GETs (200), httpx: the policy on httpx as before "
        f"(`bench/httpx_fetcher.py`) | wall {_fmt(f['httpx_wall'])}, CPU {_fmt(f['httpx_cpu'])} "
        "| | |",
        f"| HTTP only, {FEEDS} GETs (200), aiohttp: ainews `Fetcher` (guard in resolver + "
        f"connector) | wall {_fmt(f['aiohttp_wall'])}, CPU {_fmt(f['aiohttp_cpu'])} | "
        f"CPU httpx/aiohttp {ratio('cpu')} | |",
        f"| HTTP only, {FEEDS} conditional GETs (304) on kept-alive connections: httpx / aiohttp "
        f"| wall {_fmt(f['httpx_304_wall'])} / {_fmt(f['aiohttp_304_wall'])}, CPU "
        f"{_fmt(f['httpx_304_cpu'])} / {_fmt(f['aiohttp_304_cpu'])} | CPU httpx/aiohttp "
        f"{ratio('304_cpu')} | |",
    ]


def quick(rounds: int, baseline: Path | None, concurrencies: list[int]) -> None:
    """The all-304 cycle (this tree at each of `concurrencies`, and `baseline` at the default
    when given) and the HTTP-only rows, every measure alternated within each round (order
    reversed every other round); prints rows."""
    files = _feed_files()
    child, hosts = feed_process.start(LATENCY, HOSTS)
    urls = _feed_urls(hosts, files)
    figures: dict[str, list[float]] = {}
    trees: dict[str, Path | None] = {}
    limits: dict[str, int] = {}
    for concurrency in concurrencies:
        name = "ainews" if concurrency == CONCURRENCY else f"ainews, concurrency {concurrency}"
        trees[name], limits[name] = None, concurrency
    if baseline is not None:
        trees["baseline"], limits["baseline"] = baseline, CONCURRENCY

    def add(key: str, value: float) -> None:
        figures.setdefault(key, []).append(value)

    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            (tmp / "urls").write_text("\n".join(urls), encoding="utf-8")
            configs: dict[str, Path] = {}
            for name, tree in trees.items():
                folder = tmp / name.replace(" ", "_").replace(",", "")
                folder.mkdir()
                configs[name] = _ainews_config(folder, urls, folder / "a.db", limits[name])
                _ainews_cycle(configs[name], tree)  # the first cycle: ETags in the store

            def cycle(name: str) -> None:
                cpu = _children_cpu()
                wall, _, got = _ainews_cycle(configs[name], trees[name])
                add(f"{name}_cpu", _children_cpu() - cpu)
                add(name, wall)
                assert got.get("not_modified") == FEEDS, got

            def http(client: str) -> None:
                out = _measured([sys.executable, __file__, "--http", client, str(tmp / "urls")])[2]
                (first, first_cpu), (second, second_cpu) = json.loads(out)
                add(f"{client}_wall", first)
                add(f"{client}_cpu", first_cpu)
                add(f"{client}_304_wall", second)
                add(f"{client}_304_cpu", second_cpu)

            for r in range(rounds):
                steps: list[Callable[[], None]] = [lambda n=n: cycle(n) for n in trees]
                steps += [lambda: http("httpx"), lambda: http("aiohttp")]
                for step in reversed(steps) if r % 2 else steps:
                    step()
                print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    finally:
        feed_process.stop(child)
    load = os.getloadavg()
    print(f"{rounds} rounds, load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    for name in trees:
        floor = FEEDS * LATENCY / limits[name]
        ratio = statistics.median(figures[name]) / floor
        print(
            f"| {name}: second cycle, all 304, CLI start-up included | {_fmt(figures[name])} "
            f"(CPU {_fmt(figures[name + '_cpu'])}) | {ratio:.2f}× its floor ({floor:.2f} s) |"
        )
    if baseline is not None and "ainews" in trees:
        same_run = statistics.median(figures["ainews"]) / statistics.median(figures["baseline"])
        print(f"ainews / baseline, median wall: {same_run:.2f}")
    print("\n".join(_http_rows(figures)))


def _report(
    figures: dict[str, list[float]],
    cpu: dict[str, list[float]],
    lag: dict[str, float],
    statuses: dict[str, int],
    rounds: int,
    newsboat: str | None,
    notes: list[str],
    files: int,
    hosts: int,
) -> None:
    f = figures
    floor = FEEDS * LATENCY / CONCURRENCY
    first_mid = statistics.median(f["ainews_first"])
    big_ratio = statistics.median(f["ainews_big"]) / first_mid
    floor_ratio = statistics.median(f["ainews_304"]) / floor
    parse_ratio = sum(cpu["feedparser"]) / sum(cpu["parse"])
    prepare_ratio = sum(cpu["feedparser"]) / sum(cpu["prepare"])
    pss_1000 = f["ainews_pss_1000"][0]
    rows = [
        "| measure | min / median | ratio | target |",
        "|---|---|---|---|",
        f"| `ainews fetch --all`, first cycle, fresh store | {_fmt(f['ainews_first'])} | | |",
    ]
    if newsboat and "newsboat_first" in f:
        nb_ratio = statistics.median(f["newsboat_first"]) / first_mid
        rows += [
            f"| newsboat `-x reload` ({CONCURRENCY} threads), first cycle, fresh cache | "
            f"{_fmt(f['newsboat_first'])} | newsboat/ainews {nb_ratio:.2f} | ≥ 1.0 "
            f"{_verdict(nb_ratio >= 1.0)} |",
            f"| newsboat second cycle (304) | {_fmt(f['newsboat_304'])} | | |",
        ]
    else:
        rows.append("| newsboat | not installed: skipped (`apt-get install newsboat`) | | |")
    rows += [
        f"| ainews second cycle, all 304, CLI start-up included | {_fmt(f['ainews_304'])} "
        f"(CPU {_fmt(f['ainews_304_cpu'])}) | "
        f"{floor_ratio:.2f}× the floor ({FEEDS} × {LATENCY * 1000:.0f} ms ÷ {CONCURRENCY} = "
        f"{floor:.2f} s) | ≤ 2× {_verdict(floor_ratio <= 2)} |",
        f"| ainews first cycle on a store of {BIG_STORE:,} articles | {_fmt(f['ainews_big'])} | "
        f"{big_ratio:.2f}× the empty store | ≤ 1.1× {_verdict(big_ratio <= 1.1)} |",
        f"| parse + sanitise CPU per feed (`parse_feed`, {files} files) | "
        f"{statistics.mean(cpu['parse']) * 1000:.2f} ms mean | feedparser.parse "
        f"{statistics.mean(cpu['feedparser']) * 1000:.1f} ms: {parse_ratio:.1f}× less | ≥ 25× "
        f"{_verdict(parse_ratio >= 25)} |",
        f"| all ingest CPU per feed (`prepare_feed`: + languages, entities, hashes) | "
        f"{statistics.mean(cpu['prepare']) * 1000:.2f} ms mean | {prepare_ratio:.1f}× less than "
        "feedparser.parse | |",
        f"| peak PSS, ainews tree (main + workers), {FEEDS} feeds | "
        f"{_fmt(f['ainews_pss'], 'MB')} | | |",
        f"| peak PSS, ainews tree, 1,000 feeds | {pss_1000:.0f} MB | | < 250 MB "
        f"{_verdict(pss_1000 < 250)} |",
        f"| event-loop lag during a first cycle (5 ms ticker) | p50 {lag['p50'] * 1000:.1f} ms, "
        f"p99 {lag['p99'] * 1000:.1f} ms, max {lag['max'] * 1000:.0f} ms | | p99 < 50 ms "
        f"{_verdict(lag['p99'] < 0.05)} |",
    ]
    if newsboat and "newsboat_pss" in f:
        rows.append(f"| peak PSS, newsboat, {FEEDS} feeds | {_fmt(f['newsboat_pss'], 'MB')} | | |")
    if "naive" in f:
        rows += [
            f"| naive loop: `httpx.get` + `feedparser.parse`, all {FEEDS} feeds, sequential | "
            f"{f['naive'][0]:.1f} s (one run) | {f['naive'][0] / first_mid:.1f}× ainews | |",
            f"| the same loop with one reused `httpx.Client` | "
            f"{f['naive_reuse'][0]:.1f} s (one run) | "
            f"{f['naive_reuse'][0] / first_mid:.1f}× ainews | |",
        ]
    rows += [
        *_http_rows(f),
    ]
    load = os.getloadavg()
    lines = [
        f"## ingest — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (`bench/ingest.py`)",
        "",
        f"Machine: {os.cpu_count()} CPUs, shared (load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}), Python {sys.version.split()[0]}. "
        f"{FEEDS} feeds = the {files} files of fixtures/feeds/bench under 2–3 alias URLs each, on "
        f"{hosts} loopback hosts, {LATENCY * 1000:.0f} ms latency per response. {rounds} rounds; "
        "in each, every tool runs as a fresh process on a fresh store/cache, in alternating "
        "order (reversed every other round). ainews: default fetch policy (concurrency 16, 4 per "
        "host), SQLite, full text off.",
        "",
        *rows,
        "",
        f"ainews first cycle: {statuses.get('ok', 0)} ok, {statuses.get('error', 0)} errors, "
        f"{statuses.get('new', 0)} new articles; second: {statuses.get('second_not_modified', 0)} "
        f"not modified. {'; '.join(notes)}.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    previous = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    sections = re.split(r"(?m)^(?=## )", previous)
    kept = [s for s in sections if not s.startswith("## ingest")]
    head, rest = kept[0], kept[1:]
    RESULTS.write_text(
        head.rstrip("\n") + "\n\n" + text + "\n" + "".join(rest).rstrip("\n") + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-naive", action="store_true", help="skip the two naive loops")
    parser.add_argument("--naive", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--reuse", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--lag", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--http", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="only the 304 cycle and HTTP rows")
    parser.add_argument("--baseline", type=Path, help="with --quick: also time this source tree")
    parser.add_argument(
        "--concurrency",
        default=str(CONCURRENCY),
        help="with --quick: [fetch] concurrency values to time, comma-separated",
    )
    args = parser.parse_args()
    if args.quick:
        quick(args.rounds, args.baseline, [int(n) for n in args.concurrency.split(",")])
    elif args.naive:
        _naive_loop(args.naive, args.reuse)
    elif args.lag:
        _lag_cycle(args.lag)
    elif args.http:
        _http_clients(Path(args.http[1]), args.http[0])
    else:
        main(args.rounds, not args.no_naive)

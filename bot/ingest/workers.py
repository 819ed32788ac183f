"""A warm process pool for ingestion's CPU work (parsing, sanitising, language detection).

Feed parsing is pure CPU and holds the GIL, so run on the event loop it stalls every other
feed's network and the writer; a thread would not help. Workers are forked once, at the start of
the first cycle (before the cycle's writer thread exists; the parsing modules are already
imported, so they start warm in milliseconds and need no `__main__` guard), and reused across
cycles. A pool that broke (a worker killed) is replaced and the call runs inline. Inside
`ainews run` the service-wide pool (`bot.cpu`) is running and ingestion uses it instead, so the
service holds one pool for parsing, extraction and enrichment; this module's own forked pool
serves one-shot commands (`ainews fetch`).

`AINEWS_INGEST_WORKERS=0` runs the work inline (on the loop) — for debugging and profiling.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

from bot.cpu import cpu_pool_running, lower_priority
from bot.cpu import run_cpu as shared_run_cpu

__all__ = ["pool_size", "run_cpu", "shutdown_pool", "warm_pool"]

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1
P = ParamSpec("P")
T = TypeVar("T")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def pool_size() -> int:
    """Workers to start: AINEWS_INGEST_WORKERS, else one per CPU (at most 4)."""
    configured = os.environ.get("AINEWS_INGEST_WORKERS", "").strip()
    if configured.isdigit():
        return int(configured)
    return max(1, min(4, os.cpu_count() or 1))


def _die_with_parent() -> None:
    """Forked workers hold the parent's pipes, so they would not see it die: on Linux, ask the
    kernel to end them with it (a killed `ainews fetch` leaves no orphans). They also run below
    the parent's priority, so its loop (fetching, writing) is not queued behind parsing."""
    lower_priority()
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _started() -> int:
    """A no-op task: submitting one per worker forks them all now, before the cycle's threads."""
    return os.getpid()


def _executor() -> ProcessPoolExecutor | None:
    global _pool
    size = pool_size()
    if size == 0:
        return None
    with _lock:
        if _pool is None:
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            context = multiprocessing.get_context(method)
            if method == "fork":
                # objects alive now are never collected in the children: their GC headers are
                # not written, so the pages holding them stay shared instead of being copied
                gc.freeze()
            _pool = ProcessPoolExecutor(
                max_workers=size, mp_context=context, initializer=_die_with_parent
            )
        return _pool


def warm_pool() -> None:
    """Fork the workers now, before the cycle's writer and resolver threads exist.

    They start with the parsing modules already imported; what those load lazily (langdetect's
    profiles, the editorial lexicons: ~0.3 s CPU a worker) loads with the first feed each one
    parses, so a cycle whose feeds all answer 304 pays nothing for it.
    """
    if cpu_pool_running():
        return  # the service-wide pool does the work; it starts its workers on demand
    pool = _executor()
    if pool is None:
        return
    try:
        for _ in range(pool_size()):
            pool.submit(_started)
    except BrokenProcessPool:
        _discard(pool)


async def run_cpu(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a picklable top-level function in the pool (inline when the pool is off)."""
    if kwargs:
        raise TypeError("run_cpu passes positional arguments only")
    if cpu_pool_running():
        return await shared_run_cpu(fn, *args)
    pool = _executor()
    if pool is None:
        return fn(*args, **kwargs)
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
    except BrokenProcessPool:
        log.warning("ingest worker pool broke; replacing it and running this call inline")
        _discard(pool)
        return fn(*args, **kwargs)


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def shutdown_pool() -> None:
    """Stop the workers (idempotent); the next `run_cpu` starts a fresh pool."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown_pool)

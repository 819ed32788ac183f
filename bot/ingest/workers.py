"""A warm process pool for ingestion's CPU work (parsing, sanitising, language detection).

Feed parsing is pure CPU and holds the GIL, so run on the event loop it stalls every other
feed's network and the writer; a thread would not help. Workers are started once per process
(forkserver, with the parsing modules preloaded, so a worker starts in milliseconds and never
inherits the event loop's threads) and reused across cycles. `run_cpu` is the one entry point:
it is meant to be swapped for the service-wide pool (`bot.cpu.run_cpu`) when that exists.

`AINEWS_INGEST_WORKERS=0` runs the work inline (on the loop) — for debugging and profiling.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import ParamSpec, TypeVar

__all__ = ["pool_size", "run_cpu", "shutdown_pool", "warm_pool"]

P = ParamSpec("P")
T = TypeVar("T")

_PRELOAD = ["bot.ingest.prepare"]
_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def pool_size() -> int:
    """Workers to start: AINEWS_INGEST_WORKERS, else one per CPU (at most 4)."""
    configured = os.environ.get("AINEWS_INGEST_WORKERS", "").strip()
    if configured.isdigit():
        return int(configured)
    return max(1, min(4, os.cpu_count() or 1))


def _warm() -> int:
    import bot.ingest.prepare  # noqa: F401  (loads parsers, lexicons and the language model)

    return os.getpid()


def _executor() -> ProcessPoolExecutor | None:
    global _pool
    size = pool_size()
    if size == 0:
        return None
    with _lock:
        if _pool is None:
            methods = multiprocessing.get_all_start_methods()
            method = "forkserver" if "forkserver" in methods else "spawn"
            context = multiprocessing.get_context(method)
            if method == "forkserver":
                context.set_forkserver_preload(_PRELOAD)
            _pool = ProcessPoolExecutor(max_workers=size, mp_context=context)
        return _pool


def warm_pool() -> None:
    """Start the workers now (one warm-up task each), so the first feed does not pay for it."""
    pool = _executor()
    if pool is not None:
        for _ in range(pool_size()):
            pool.submit(_warm)


async def run_cpu(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a picklable top-level function in the pool (inline when the pool is off)."""
    pool = _executor()
    if pool is None:
        return fn(*args, **kwargs)
    if kwargs:
        raise TypeError("run_cpu passes positional arguments only")
    return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)


def shutdown_pool() -> None:
    """Stop the workers (idempotent); the next `run_cpu` starts a fresh pool."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown_pool)

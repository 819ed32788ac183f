"""One process pool for CPU-bound work, so the event loop keeps answering Slack and Discord.

Feed parsing, language detection, text extraction and offline enrichment take from milliseconds
to seconds of pure Python each; on the loop they would hold up every acknowledgement that must
leave within 3 s. The composition root starts the pool for the roles that do such work and stops
it on shutdown; without a started pool (one-shot commands, tests) `run_cpu` runs the function
inline, which is the same result without the process start-up.

Functions and arguments cross a process boundary: they must be picklable (module-level
functions, bound methods of picklable objects, plain dataclasses).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

__all__ = [
    "cpu_pool_running",
    "lower_priority",
    "run_cpu",
    "start_cpu_pool",
    "stop_cpu_pool",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_WORKERS = 4
# Workers yield the CPU to the process that answers Slack and Discord: on a machine with as many
# busy workers as cores, an equal-priority event loop waits a scheduler slice for every wake-up.
WORKER_NICENESS = 10

_pool: ProcessPoolExecutor | None = None
_workers = 0


def lower_priority() -> None:
    """Run this worker process below the event loop's priority (best effort)."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(WORKER_NICENESS)


def _worker_init() -> None:
    """Ctrl-C reaches the whole process group; only the service decides how to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lower_priority()


def _new_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
    )


def start_cpu_pool(workers: int | None = None) -> None:
    """Start the shared pool (idempotent). Workers are started on demand, by `spawn`: a fork of
    a process running an event loop and threads could inherit held locks."""
    global _pool, _workers
    if _pool is not None:
        return
    _workers = workers or max(1, min(MAX_WORKERS, os.cpu_count() or 1))
    _pool = _new_pool(_workers)
    log.info("cpu pool started", extra={"workers": _workers})


async def stop_cpu_pool() -> None:
    """Stop the pool; queued work is cancelled, running work finishes (off the loop)."""
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


def cpu_pool_running() -> bool:
    return _pool is not None


async def run_cpu(fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)` in the process pool when it runs, else inline; exceptions propagate.

    A worker that died (killed, out of memory) breaks the whole pool: it is replaced at once,
    and this call fails like any other error, for its row to retry later.
    """
    global _pool
    pool = _pool
    if pool is None:
        return fn(*args)
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
    except BrokenProcessPool:
        if _pool is pool:
            log.error("cpu pool broke (a worker died); starting a new one")
            _pool = _new_pool(_workers)
            pool.shutdown(wait=False, cancel_futures=True)
        raise

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
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

__all__ = ["cpu_pool_running", "run_cpu", "start_cpu_pool", "stop_cpu_pool"]

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_WORKERS = 4

_pool: ProcessPoolExecutor | None = None


def start_cpu_pool(workers: int | None = None) -> None:
    """Start the shared pool (idempotent). Workers are started on demand, by `spawn`: a fork of
    a process running an event loop and threads could inherit held locks."""
    global _pool
    if _pool is not None:
        return
    count = workers or max(1, min(MAX_WORKERS, os.cpu_count() or 1))
    _pool = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"))
    log.info("cpu pool started", extra={"workers": count})


async def stop_cpu_pool() -> None:
    """Stop the pool; queued work is cancelled, running work finishes (off the loop)."""
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


def cpu_pool_running() -> bool:
    return _pool is not None


async def run_cpu(fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)` in the process pool when it runs, else inline; exceptions propagate."""
    pool = _pool
    if pool is None:
        return fn(*args)
    return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

"""Waiting in tests for the thing itself, never for a fixed time.

Prefer an event the fake sets (`FakeSlack.wait_for`, `FakeDiscordAPI.wait_for`,
`Recorder.wait_for`, a notifier's `wait_sent`). When nothing can signal — a row another task
writes to the store, a page a background job fills in — poll the condition with `until`: a
generous bound that, when reached, fails with what was awaited and the last value seen. It
never passes silently, and no test asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

POLL_SECONDS = 0.01


async def until(read: Callable[[], T | Awaitable[T]], *, what: str, timeout: float = 30.0) -> T:
    """Poll `read()` (plain or async) until its value is truthy and return that value; an
    AssertionError naming `what` and the last value if `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last {value!r}")
        await asyncio.sleep(POLL_SECONDS)


async def started(server: object, task: asyncio.Task[None], *, timeout: float = 30.0) -> None:
    """Wait until a uvicorn `server` run by `task` is listening; its error if it died first."""
    await until(
        lambda: getattr(server, "started", False) or task.done(),
        what="the uvicorn server to start",
        timeout=timeout,
    )
    if task.done():
        task.result()  # raises what stopped it
        raise AssertionError("the uvicorn server stopped before it started")

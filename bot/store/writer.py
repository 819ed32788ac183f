"""The store writer: one thread and one connection that run whole transactions for ingestion.

Through the async engine a feed's write was a dozen awaited statements, each a hop to the
driver's thread and back, with a cycle-wide lock held across all of them, so feeds queued
behind each other's round trips. Here a transaction is one plain function run on a dedicated
thread with a synchronous connection: one hop per feed, no lock on the event loop, and SQLite
sees exactly one writer. PostgreSQL takes the same path (psycopg's executemany pipelines a
batch in one round trip; stories come back from one multi-row INSERT … RETURNING).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool, QueuePool

from bot.store.db import Database, _sqlite_pragmas, sync_url

__all__ = ["StoreWriter"]

T = TypeVar("T")


class StoreWriter:
    """Runs `fn(connection, *args)` in one transaction on the writer thread, in call order."""

    def __init__(self, db: Database) -> None:
        kwargs: dict[str, Any] = {}
        if db.is_sqlite:
            # One long-lived connection: SQLite has one writer anyway, and it keeps its cache.
            kwargs.update(poolclass=QueuePool, pool_size=1, max_overflow=0)
        else:
            kwargs.update(poolclass=NullPool)
        self.engine: Engine = create_engine(sync_url(db.url), **kwargs)
        if db.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._conn: Connection | None = None

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect()
        conn = self._conn
        try:
            with conn.begin():
                return fn(conn, *args)
        except BaseException:
            if conn.invalidated:
                conn.close()
                self._conn = None
            raise

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """One transaction: committed when `fn` returns, rolled back when it raises."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._run, fn, args)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.engine.dispose()

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=True)

"""One scheduling process per SQLite file: an OS lock on `<database file>.lock`.

SQLite has no `FOR UPDATE SKIP LOCKED`; two schedulers on one file would race each other's
leases and both hold write locks for long stretches. PostgreSQL replicas coordinate through the
database itself, so they take no lock. The OS releases the lock when the process dies, even on
SIGKILL, so a stale lock file never blocks a restart.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.errors import StartupError
from bot.messages import msg

__all__ = ["InstanceLock", "lock_path_for"]


def lock_path_for(database_url: str) -> Path | None:
    """The lock file beside a SQLite database file; None for PostgreSQL or in-memory SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(f"{Path(url.database).resolve()}.lock")


class InstanceLock:
    """Held for the life of a scheduling process; `release()` (or process exit) frees it."""

    def __init__(self, path: Path | None, fd: int | None) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, database_url: str) -> InstanceLock:
        """Take the lock or raise StartupError naming the database file that is in use."""
        path = lock_path_for(database_url)
        if path is None:
            return cls(None, None)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            database = str(path)[: -len(".lock")]
            raise StartupError(
                explained=msg("startup.sqlite_in_use", database=database, lock=str(path))
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return cls(path, fd)

    def release(self) -> None:
        if self._fd is None:
            return
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

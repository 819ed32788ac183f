"""Run the real CLI: in this process through Typer's runner, or as the installed `ainews` binary."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.main import app
from tests.fakes.feed_server import FeedServer

AINEWS = Path(sys.executable).with_name("ainews")


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def invoke(*args: str) -> Ran:
    """The Typer app in this process, through its own `main`: real exit codes and error lines."""
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def binary(*args: str, cwd: Path | None = None) -> Ran:
    """The installed console script, as a user runs it."""
    done = subprocess.run(
        [str(AINEWS), *args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def assert_one_line_user_error(ran: Ran, *needles: str) -> str:
    """Exit 2, nothing on stdout, exactly one `error:` line on stderr and no traceback."""
    assert ran.code == 2, (ran.code, ran.out, ran.err)
    lines = ran.err.splitlines()
    assert len(lines) == 1, ran.err
    line = lines[0]
    assert line.startswith("error: ")
    assert "Traceback" not in ran.err and "pydantic.dev" not in ran.err
    for needle in needles:
        assert needle in line, line
    return line


@pytest.fixture
async def feed_server(fixtures_dir: Path) -> AsyncIterator[FeedServer]:
    async with FeedServer(root=fixtures_dir / "feeds") as server:
        yield server


async def in_thread(*args: str) -> Ran:
    """`invoke` off the event loop: commands run their own loop, and the fake servers need ours."""
    return await asyncio.to_thread(invoke, *args)

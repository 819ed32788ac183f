"""CLI start-up loads what the command needs: `ainews --help` none of the pipeline, and
`ainews fetch` the ingest path without the enrichment pipeline, the scheduler or any platform.
(Both load the settings model and the message catalogue: the CLI speaks the configured
language, help included.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Runs the CLI as `ainews` does, then reports which of the named packages got imported.
PROBE = """
import atexit, json, sys
watched = json.loads(sys.argv[1])
def report():
    loaded = [w for w in watched if any(m == w or m.startswith(w + ".") for m in sys.modules)]
    sys.stderr.write("LOADED " + json.dumps(loaded) + "\\n")
atexit.register(report)
sys.argv = ["ainews", *sys.argv[2:]]
from adapters.main import main
main()
"""

PLATFORMS_AND_SERVICE = [
    "apscheduler",
    "bot.context",
    "bot.enrich",
    "bot.jobs",
    "discord",
    "httpx",
    "jinja2",
    "slack_bolt",
    "slack_sdk",
    "starlette",
    "uvicorn",
    "adapters.console",
    "adapters.web",
]
PIPELINE = ["aiohttp", "alembic", "bot.ingest", "bot.store", "lxml", "sqlalchemy"]


def _loaded(watched: list[str], *args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(watched), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    [line] = [x for x in done.stderr.splitlines() if x.startswith("LOADED ")]
    return list(json.loads(line.removeprefix("LOADED ")))


def test_help_imports_no_pipeline() -> None:
    assert _loaded(PLATFORMS_AND_SERVICE + PIPELINE, "--help") == []


def test_fetch_imports_neither_enrichment_nor_platforms(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    loaded = _loaded(PLATFORMS_AND_SERVICE, "--database-url", url, "fetch", "--all", "--json")
    assert loaded == []

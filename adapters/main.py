"""Composition root: the only module that imports every adapter and command group."""

from __future__ import annotations

from adapters.cli import enrich_cmds, ingest_cmds, service_cmds  # noqa: F401  (register commands)
from adapters.cli.app import app


def main() -> None:
    app()


if __name__ == "__main__":
    main()

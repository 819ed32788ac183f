"""`ainews db prune`: retention from the command line (the `db` group lives in ingest_cmds)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import typer

from adapters.cli.app import print_json, run_async, settings_from
from adapters.cli.ingest_cmds import db_app
from adapters.cli.problems import fail

if TYPE_CHECKING:
    from bot.retention import PruneReport

VACUUM_HINT = (
    "SQLite keeps the freed pages: run `sqlite3 {path} 'VACUUM'` while ainews is stopped "
    "to shrink the file."
)


@db_app.command("prune")
def db_prune(
    ctx: typer.Context,
    older_than: int | None = typer.Option(
        None, "--older-than", min=1, help="Days to keep (default: [retention] days)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would go; delete nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as one JSON object."),
) -> None:
    """Delete articles older than D days with their enrichments and translations, keeping any
    an undelivered outbox row still names."""
    settings = settings_from(ctx)
    days = older_than or settings.retention.days
    if days is None:
        raise fail("say how old: --older-than DAYS, or set [retention] days in the config")

    async def run() -> tuple[PruneReport, bool]:
        from bot.retention import prune
        from bot.runtime import open_store

        store = await open_store(settings)
        try:
            report = await prune(store, timedelta(days=days), dry_run=dry_run)
            return report, store.db.is_sqlite
        finally:
            await store.aclose()

    report, sqlite = run_async(run())
    if as_json:
        print_json(report.to_json())
        return
    verb = "would delete" if dry_run else "deleted"
    typer.echo(
        f"{verb} {report.articles} articles older than {days} days and {report.translations} "
        f"translations; kept {report.kept_undelivered} still named by undelivered deliveries"
    )
    if sqlite and report.articles and not dry_run:
        from sqlalchemy.engine import make_url

        typer.echo(VACUUM_HINT.format(path=make_url(settings.database.url).database), err=True)

"""`ainews db prune`: retention from the command line (the `db` group lives in ingest_cmds)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import typer

from adapters.cli.app import print_json, run_async, settings_from
from adapters.cli.ingest_cmds import db_app
from adapters.cli.lang import cli_translator
from adapters.cli.problems import fail
from adapters.i18n import N_

if TYPE_CHECKING:
    from bot.retention import PruneReport


@db_app.command("prune", help=N_("cli.help.db.prune"))
def db_prune(
    ctx: typer.Context,
    older_than: int | None = typer.Option(
        None, "--older-than", min=1, help=N_("cli.help.opt.older_than")
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help=N_("cli.help.opt.dry_run")),
    as_json: bool = typer.Option(False, "--json", help=N_("cli.help.opt.json_counts")),
) -> None:
    settings = settings_from(ctx)
    t = cli_translator(settings)
    days = older_than or settings.retention.days
    if days is None:
        raise fail(t(N_("cli.prune.how_old")))

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
    typer.echo(
        t(
            N_("cli.prune.would_delete") if dry_run else N_("cli.prune.deleted"),
            articles=t.plural("cli.articles", report.articles),
            days=t.plural("cli.days", days),
            translations=t.plural("cli.prune.translations", report.translations),
            kept=t.plural("cli.articles", report.kept_undelivered),
        )
    )
    if sqlite and report.articles and not dry_run:
        from sqlalchemy.engine import make_url

        path = make_url(settings.database.url).database
        typer.echo(t(N_("cli.prune.vacuum"), path=path), err=True)

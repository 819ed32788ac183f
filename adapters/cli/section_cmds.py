"""`ainews trends [--days N] [--json]` and `ainews companies [--json]`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from adapters.cli.app import app, print_json, run_async, settings_from
from adapters.cli.lang import cli_translator
from adapters.i18n import N_
from digest.trends import MAX_DAYS

if TYPE_CHECKING:
    from bot.companies import CompanySummary
    from digest.trends import TrendReport


def trends_json(report: TrendReport) -> dict[str, object]:
    """The documented `ainews trends --json` shape."""
    return {
        "rising": [
            {
                "name": riser.name,
                "kind": riser.kind,
                "count": riser.count,
                "previous": riser.previous,
                "score": riser.score,
                "label": report.label(riser),
            }
            for riser in report.risers
        ],
        "days": report.days,
        "date": report.today.isoformat(),
    }


@app.command("trends", help=N_("cli.help.trends"))
def trends_command(
    ctx: typer.Context,
    days: int = typer.Option(7, "--days", min=1, max=MAX_DAYS, help=N_("cli.help.opt.window")),
    as_json: bool = typer.Option(False, "--json", help=N_("cli.help.opt.json")),
) -> None:
    settings = settings_from(ctx)

    from bot.runtime import open_store
    from bot.trends import trend_report

    async def build() -> TrendReport:
        store = await open_store(settings)
        try:
            return await trend_report(store, days=days, limit=20)
        finally:
            await store.aclose()

    report = run_async(build())
    if as_json:
        print_json(trends_json(report))
        return
    t = cli_translator(settings)
    if not report.risers:
        typer.echo(t.plural("cli.trends.nothing", report.days))
        return
    typer.echo(t.plural("cli.trends.rising", report.days))
    for rank, riser in enumerate(report.risers, 1):
        typer.echo(
            t(
                N_("cli.trends.row"),
                rank=f"{rank:>2}",
                label=report.label(riser),
                kind=riser.kind,
                count=riser.count,
                previous=f"{riser.previous:g}",
                score=f"{riser.score:g}",
            )
        )


@app.command("companies", help=N_("cli.help.companies"))
def companies_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help=N_("cli.help.opt.json")),
) -> None:
    settings = settings_from(ctx)

    from bot.companies import list_companies
    from bot.runtime import open_store

    async def build() -> list[CompanySummary]:
        store = await open_store(settings)
        try:
            return await list_companies(store)
        finally:
            await store.aclose()

    found = run_async(build())
    if as_json:
        print_json([{"slug": c.slug, "name": c.name, "stories": c.stories} for c in found])
        return
    t = cli_translator(settings)
    if not found:
        typer.echo(t(N_("cli.companies.none")))
    for company in found:
        stories = t.plural("cli.stories", company.stories)
        typer.echo(f"{company.name} ({company.slug}): {stories}")

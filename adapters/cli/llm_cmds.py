"""`ainews llm usage`: what the LLM cost, by day and purpose, and what is left of today's budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from adapters.cli.app import app, print_json, run_async, settings_from

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.enrich.usage_report import UsageReport

llm_app = typer.Typer(help="LLM usage and budget.", no_args_is_help=True)
app.add_typer(llm_app, name="llm")


async def _report(settings: Settings, days: int) -> UsageReport:
    from bot.enrich.budget import UsageLedger
    from bot.enrich.usage_report import usage_report
    from bot.ports import SystemClock
    from bot.store.db import Database

    db = Database(settings.database.url)
    try:
        await db.upgrade()
        ledger = UsageLedger(db, settings.llm) if settings.llm is not None else None
        return await usage_report(db, SystemClock().now(), days=days, ledger=ledger)
    finally:
        await db.dispose()


@llm_app.command("usage")
def usage_command(
    ctx: typer.Context,
    days: int = typer.Option(7, "--days", min=1, max=366, help="UTC days to show, today included."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON object."),
) -> None:
    """Tokens and cost of LLM calls by UTC day and purpose (enrich, translate)."""
    report = run_async(_report(settings_from(ctx), days))
    if as_json:
        print_json(report.to_json())
        return
    if not report.lines:
        typer.echo(f"no LLM calls in the last {days} day(s)")
    else:
        typer.echo(
            f"{'day':<11} {'purpose':<10} {'calls':>6} {'in':>10} {'out':>10} {'cost $':>10}"
        )
        for line in report.lines:
            typer.echo(
                f"{line.day:<11} {line.purpose:<10} {line.calls:>6} {line.tokens_in:>10} "
                f"{line.tokens_out:>10} {line.cost_usd:>10.4f}"
            )
        total = report.total()
        typer.echo(
            f"{'total':<22} {total.calls:>6} {total.tokens_in:>10} {total.tokens_out:>10} "
            f"{total.cost_usd:>10.4f}"
        )
    if report.daily_token_budget is not None and report.spent_today is not None:
        left = max(0, report.daily_token_budget - report.spent_today)
        typer.echo(
            f"budget {report.today}: {report.spent_today} of {report.daily_token_budget} "
            f"tokens spent or reserved, {left} left"
        )

"""`ainews llm usage`: what the LLM cost, by day and purpose, and what is left of today's budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from adapters.cli.app import app, print_json, run_async, settings_from
from adapters.cli.help import CliTyper, display_width
from adapters.cli.lang import cli_translator
from adapters.i18n import N_

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.enrich.usage_report import UsageReport

llm_app = CliTyper(help=N_("cli.help.llm"), no_args_is_help=True)
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


def _left(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def _right(text: str, width: int) -> str:
    return " " * max(0, width - display_width(text)) + text


@llm_app.command("usage", help=N_("cli.help.llm.usage"))
def usage_command(
    ctx: typer.Context,
    days: int = typer.Option(7, "--days", min=1, max=366, help=N_("cli.help.opt.usage_days")),
    as_json: bool = typer.Option(False, "--json", help=N_("cli.help.opt.json_report")),
) -> None:
    settings = settings_from(ctx)
    report = run_async(_report(settings, days))
    if as_json:
        print_json(report.to_json())
        return
    t = cli_translator(settings)
    if not report.lines:
        typer.echo(t.plural("cli.llm.no_calls", days))
    else:
        typer.echo(
            " ".join(
                [
                    _left(t(N_("cli.llm.day")), 11),
                    _left(t(N_("cli.llm.purpose")), 10),
                    _right(t(N_("cli.llm.calls")), 6),
                    _right(t(N_("cli.llm.tokens_in")), 10),
                    _right(t(N_("cli.llm.tokens_out")), 10),
                    _right(t(N_("cli.llm.cost")), 10),
                ]
            )
        )
        for line in report.lines:
            typer.echo(
                f"{line.day:<11} {line.purpose:<10} {line.calls:>6} {line.tokens_in:>10} "
                f"{line.tokens_out:>10} {line.cost_usd:>10.4f}"
            )
        total = report.total()
        typer.echo(
            f"{_left(t(N_('cli.llm.total')), 22)} {total.calls:>6} {total.tokens_in:>10} "
            f"{total.tokens_out:>10} {total.cost_usd:>10.4f}"
        )
    if report.daily_token_budget is not None and report.spent_today is not None:
        left = max(0, report.daily_token_budget - report.spent_today)
        typer.echo(
            t(
                N_("cli.llm.budget"),
                day=report.today,
                spent=report.spent_today,
                budget=report.daily_token_budget,
                left=left,
            )
        )

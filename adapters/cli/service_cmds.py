"""`ainews run [--once]`, `ainews demo` and `ainews digest today|week|hn|tools|videos`."""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from adapters.cli.app import app, print_json, run_async, settings_from
from adapters.cli.lang import cli_translator
from adapters.cli.problems import fail, quiet_source_warnings, reason
from adapters.i18n import N_, Translator

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.jobs import CycleReport
    from digest.models import Digest, DigestKind


class DigestChoice(StrEnum):
    today = "today"
    week = "week"
    hn = "hn"
    tools = "tools"
    videos = "videos"


class RoleChoice(StrEnum):
    all = "all"
    worker = "worker"
    front = "front"


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    slack = "slack"
    discord = "discord"


KINDS: dict[DigestChoice, DigestKind] = {
    DigestChoice.today: "daily",
    DigestChoice.week: "weekly",
    DigestChoice.hn: "hn",
    DigestChoice.tools: "tools",
    DigestChoice.videos: "videos",
}


@app.command("run", help=N_("cli.help.run"))
def run_command(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help=N_("cli.help.opt.once")),
    role: RoleChoice = typer.Option(RoleChoice.all, "--role", help=N_("cli.help.opt.role")),
) -> None:
    from adapters.main import run_once, serve
    from bot.errors import ConfigError, StartupError

    settings = settings_from(ctx)
    t = cli_translator(settings)
    quiet_source_warnings()  # one summary line per fetch round instead (Jobs.announce)
    if once and role is RoleChoice.front:
        raise fail(t(N_("cli.run.once_front")))
    try:
        if not once:
            run_async(serve(settings, role=role.value))
            return
        report = run_async(run_once(settings))
    except (StartupError, ConfigError) as error:
        raise fail(reason(error)) from error
    typer.echo(t("cli.cycle_done", summary=cycle_summary(report, t)), err=True)
    if report.errors:
        typer.echo(t("cli.crashed", steps=t.join(report.errors)), err=True)
        raise typer.Exit(1)


def cycle_summary(report: CycleReport, t: Translator) -> str:
    """What one cycle did, with each count in its plural form."""
    parts = [
        t.plural("cli.new_articles", report.new_articles)
        + t.plural("cli.sources_failed", report.sources_failed),
        t.plural("cli.enriched", report.enriched),
        t(
            "cli.queued",
            digests=t.plural("cli.digests", report.digests_queued),
            alerts=t.plural("cli.alerts", report.alerts_queued),
        ),
        t.plural("cli.delivered", report.delivery.sent),
        t.plural("cli.to_retry", report.delivery.retried),
        t.plural("cli.failed", report.delivery.failed),
    ]
    return t.join(parts)


def _print_digest(digest: Digest, output: OutputFormat, settings: Settings) -> None:
    if output is OutputFormat.json:
        from digest.serialize import digest_to_dict

        print_json(digest_to_dict(digest))
    elif output is OutputFormat.slack:
        from adapters import slack_render

        print_json(slack_render.render_digest_payloads(digest, settings))
    elif output is OutputFormat.discord:
        from adapters import discord_render

        print_json(discord_render.render_digest_payloads(digest, settings))
    else:
        from adapters.console import render_digest_text

        sys.stdout.write(render_digest_text(digest, settings.translate.default_lang))


@app.command("digest", help=N_("cli.help.digest"))
def digest_command(
    ctx: typer.Context,
    kind: DigestChoice = typer.Argument(..., help=N_("cli.help.opt.digest_kind")),
    tag: str | None = typer.Option(None, "--tag", help=N_("cli.help.opt.tag")),
    lang: str | None = typer.Option(None, "--lang", help=N_("cli.help.opt.digest_lang")),
    day: str | None = typer.Option(None, "--date", help=N_("cli.help.opt.date")),
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--format", help=N_("cli.help.opt.format")
    ),
) -> None:
    settings = settings_from(ctx)
    try:
        the_day = date.fromisoformat(day) if day else None
    except ValueError as error:
        raise fail(cli_translator(settings)(N_("cli.digest.bad_date"), got=repr(day))) from error

    from bot.digests import digest_for
    from bot.runtime import open_store
    from bot.sections import tools_digest, videos_digest

    async def build() -> Digest:
        store = await open_store(settings)
        try:
            wanted_tag = tag.lower().lstrip("#") if tag else None
            wanted_lang = lang.lower() if lang else None
            if kind is DigestChoice.tools:
                return await tools_digest(store, tag=wanted_tag, lang=wanted_lang)
            if kind is DigestChoice.videos:
                return await videos_digest(store, lang=wanted_lang)
            return await digest_for(
                store,
                KINDS[kind],
                day=the_day,
                lang=lang.lower() if lang else None,
                tags=[tag.lower().lstrip("#")] if tag else (),
            )
        finally:
            await store.aclose()

    _print_digest(run_async(build()), output, settings)


@app.command("demo", help=N_("cli.help.demo"))
def demo_command(
    ctx: typer.Context,
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--format", help=N_("cli.help.opt.format")
    ),
    into_store: bool = typer.Option(False, "--into-store", help=N_("cli.help.opt.into_store")),
) -> None:
    from bot.config import DatabaseSettings
    from bot.store.problems import safe_url

    settings = settings_from(ctx)
    options: dict[str, Any] = ctx.find_root().obj or {}
    with tempfile.TemporaryDirectory(prefix="ainews-demo-") as scratch:
        url = settings.database.url
        if not options.get("database_url") and not into_store:
            url = f"sqlite:///{Path(scratch) / 'demo.db'}"
        demo_settings = settings.model_copy(
            update={"database": DatabaseSettings(url=url), "llm": None}
        )
        digest, articles = run_async(_demo(demo_settings))
        _print_digest(digest, output, demo_settings)
    if output is not OutputFormat.text:
        return
    t = cli_translator(settings)
    if into_store:
        line = t.plural("cli.demo.stored", articles, url=safe_url(settings.database.url))
    else:
        web = f"http://{settings.web.host}:{settings.web.port}/"
        line = t.plural("cli.demo.done", articles, url=web)
    typer.echo("\n" + line, err=True)


async def _demo(settings: Settings) -> tuple[Digest, int]:
    from bot.context import build_context
    from bot.demo import load_sample
    from bot.digests import digest_for
    from bot.enrich.pipeline import enrich_pending

    app_ctx = await build_context(settings)
    try:
        articles = await load_sample(app_ctx)
        await enrich_pending(app_ctx)
        digest = await digest_for(app_ctx, "daily")
    finally:
        await app_ctx.aclose()
    return digest, articles


from adapters.cli import section_cmds  # noqa: E402, F401  (registers trends and companies)

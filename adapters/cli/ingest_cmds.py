"""`ainews fetch`, `ainews sources …` and `ainews db upgrade`.

What a command needs is imported inside it: `ainews fetch` loads the ingest path only, and
`ainews --help` none of it.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from adapters.cli.app import app, print_json, run_async, settings_from
from adapters.cli.help import CliTyper
from adapters.cli.lang import cli_translator
from adapters.cli.problems import fail, quiet_source_warnings
from adapters.i18n import N_, Translator

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.ingest.context import IngestContext
    from bot.ingest.poll import PollReport, SourceResult
    from bot.store.db import Database
    from bot.store.sources import ImportResult, SourceListing

sources_app = CliTyper(help=N_("cli.help.sources"), no_args_is_help=True)
db_app = CliTyper(help=N_("cli.help.db"), no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(db_app, name="db")


@asynccontextmanager
async def _ingest_context(settings: Settings) -> AsyncIterator[IngestContext]:
    """The application context; ingestion needs no enricher, so a minimal one is built directly."""
    from bot.ingest.context import IngestServices
    from bot.ingest.fetch import Fetcher
    from bot.ports import SystemClock
    from bot.store.db import Database

    db = Database(settings.database.url)
    await db.upgrade()
    services = IngestServices(
        settings=settings, db=db, clock=SystemClock(), fetcher=Fetcher(settings.fetch)
    )
    try:
        yield services
    finally:
        await services.aclose()


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Database]:
    from bot.store.db import Database

    db = Database(settings.database.url)
    await db.upgrade()
    try:
        yield db
    finally:
        await db.dispose()


def _summary(report: PollReport, t: Translator) -> str:
    return t(
        N_("cli.fetch.summary"),
        sources=t.plural("cli.sources.count", len(report.sources)),
        ok=t.plural("cli.fetch.ok", report.count("ok")),
        unchanged=t.plural("cli.fetch.not_modified", report.count("not_modified")),
        errors=t.plural("cli.fetch.errors", report.count("error")),
        skipped=t.plural("cli.fetch.skipped", report.count("skipped")),
        new=t.plural("cli.new_articles", report.new_articles),
    )


@app.command("fetch", help=N_("cli.help.fetch"))
def fetch_command(
    ctx: typer.Context,
    all_sources: bool = typer.Option(False, "--all", help=N_("cli.help.opt.all_sources")),
    as_json: bool = typer.Option(False, "--json", help=N_("cli.help.opt.json_result")),
) -> None:
    settings = settings_from(ctx)
    t = cli_translator(settings)
    show_bar = sys.stdout.isatty() and not as_json
    quiet_source_warnings()
    from bot.ingest.poll import poll_sources, sync_sources

    async def run() -> PollReport:
        async with _ingest_context(settings) as services:
            await sync_sources(services.db, settings)
            if not show_bar:
                return await poll_sources(services, all_sources=all_sources)
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            with Progress(
                TextColumn(t(N_("cli.fetch.bar"))),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                transient=True,
            ) as bar:
                total = len(await _listing(services.db)) if all_sources else None
                task = bar.add_task("", total=total)

                def advance(result: SourceResult) -> None:
                    bar.update(task, advance=1, description=result.name[:40])

                return await poll_sources(services, all_sources=all_sources, progress=advance)

    report = run_async(run())
    if as_json:
        print_json(report.to_json())
        return
    typer.echo(_summary(report, t))
    for result in report.sources:
        if result.status == "error":
            typer.echo(t(N_("cli.fetch.failed_source"), name=result.name, error=result.error))


async def _listing(db: Database) -> list[SourceListing]:
    from bot.store.sources import list_sources

    async with db.session() as session:
        return await list_sources(session)


def _listing_json(row: SourceListing) -> dict[str, Any]:
    return {
        "name": row.name,
        "url": row.url,
        "articles": row.articles,
        "error_count": row.error_count,
        "last_error": row.last_error,
        "next_check_at": row.next_check_at.isoformat(),
    }


async def _synced_listing(settings: Settings) -> list[SourceListing]:
    """Config sources synced into the store, then listed with their state."""
    from bot.ingest.poll import sync_sources

    async with _database(settings) as db:
        await sync_sources(db, settings)
        return await _listing(db)


def _when(moment: datetime | None, t: Translator) -> str:
    """`never` for a source not polled yet (its due time is the epoch), else a UTC minute."""
    from bot.store.sources import DUE_NOW

    if moment is None or moment <= DUE_NOW:
        return t(N_("cli.sources.never"))
    return f"{moment:%Y-%m-%d %H:%M}Z"


@sources_app.command("list", help=N_("cli.help.sources.list"))
def sources_list(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help=N_("cli.help.opt.json_array")),
) -> None:
    from bot.store.sources import DUE_NOW

    settings = settings_from(ctx)

    rows = run_async(_synced_listing(settings))
    if as_json:
        print_json([_listing_json(row) for row in rows])
        return
    t = cli_translator(settings)
    for row in rows:
        checked = _when(row.last_checked_at, t)
        if row.disabled:
            state = t(N_("cli.sources.state_disabled"), checked=checked)
        else:
            now = row.next_check_at <= DUE_NOW
            due = t(N_("cli.sources.now")) if now else _when(row.next_check_at, t)
            state = t(N_("cli.sources.state_next"), checked=checked, due=due)
        articles = t.plural("cli.articles", row.articles)
        line = f"{row.id:>4}  {row.name}  <{row.url}>  {articles}  {state}"
        if row.error_count:
            line += "  " + t(N_("cli.sources.errors"), count=row.error_count, error=row.last_error)
        typer.echo(line)


@sources_app.command("add", help=N_("cli.help.sources.add"))
def sources_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help=N_("cli.help.opt.source_name")),
    url: str = typer.Argument(..., help=N_("cli.help.opt.feed_url")),
    lang: str = typer.Option("", "--lang", help=N_("cli.help.opt.source_lang")),
    weight: float = typer.Option(1.0, "--weight", min=0.0, help=N_("cli.help.opt.weight")),
    kind: str = typer.Option("feed", "--kind", help=N_("cli.help.opt.kind")),
) -> None:
    from pydantic import ValidationError

    from bot.config import SourceSettings, describe_validation
    from bot.store.sources import add_source

    settings = settings_from(ctx)
    try:
        checked = SourceSettings(name=name, url=url, lang=lang, weight=weight, kind=kind)
    except ValidationError as error:
        raise fail(describe_validation(error, SourceSettings)) from error

    async def run() -> int:
        async with _database(settings) as db, db.session() as session:
            row = await add_source(
                session,
                name=checked.name,
                url=checked.url,
                kind=checked.kind,
                lang=checked.lang,
                weight=checked.weight,
            )
            return row.id

    source_id = run_async(run())
    typer.echo(cli_translator(settings)(N_("cli.sources.added"), id=source_id, name=name, url=url))


@sources_app.command("remove", help=N_("cli.help.sources.remove"))
def sources_remove(
    ctx: typer.Context,
    url_or_id: str = typer.Argument(..., help=N_("cli.help.opt.url_or_id")),
) -> None:
    from bot.store.sources import remove_source

    settings = settings_from(ctx)
    t = cli_translator(settings)

    async def run() -> str | None:
        async with _database(settings) as db, db.session() as session:
            row = await remove_source(session, url_or_id)
            return row.name if row else None

    removed = run_async(run())
    if removed is None:
        raise fail(t(N_("cli.sources.missing"), source=repr(url_or_id)))
    typer.echo(t(N_("cli.sources.removed"), name=removed))


@sources_app.command("import-opml", help=N_("cli.help.sources.import_opml"))
def sources_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help=N_("cli.help.opt.opml_in")),
) -> None:
    from bot.config import SourceSettings
    from bot.ingest.opml import read_opml
    from bot.store.sources import import_sources

    settings = settings_from(ctx)
    t = cli_translator(settings)
    try:
        found = read_opml(file.read_bytes())
    except ValueError as error:
        raise fail(f"{file}: {error}") from error
    wanted = [
        (SourceSettings(name=s.name[:200] or s.url[:200], url=s.url, lang=s.lang), s.tags)
        for s in found
    ]

    async def run() -> ImportResult:
        async with _database(settings) as db, db.session() as session:
            return await import_sources(session, wanted)

    result = run_async(run())
    for name, url in result.present:
        typer.echo(t(N_("cli.sources.present"), name=name, url=url))
    typer.echo(
        t(
            N_("cli.sources.imported"),
            sources=t.plural("cli.sources.count", len(result.added)),
            file=file,
            present=t.plural("cli.sources.already_present", len(result.present)),
        )
    )


@sources_app.command("export-opml", help=N_("cli.help.sources.export_opml"))
def sources_export(
    ctx: typer.Context,
    file: Path | None = typer.Argument(None, dir_okay=False, help=N_("cli.help.opt.opml_out")),
) -> None:
    from bot.ingest.opml import OpmlSource, write_opml

    settings = settings_from(ctx)

    rows = [r for r in run_async(_synced_listing(settings)) if r.kind == "feed"]
    document = write_opml([OpmlSource(r.name, r.url, r.lang, r.tags) for r in rows])
    if file is None:
        sys.stdout.write(document.decode("utf-8"))
    else:
        file.write_bytes(document)
        t = cli_translator(settings)
        sources = t.plural("cli.sources.count", len(rows))
        typer.echo(t(N_("cli.sources.exported"), sources=sources, file=file))


@db_app.command("upgrade", help=N_("cli.help.db.upgrade"))
def db_upgrade(ctx: typer.Context) -> None:
    from bot.store.db import Database

    settings = settings_from(ctx)

    async def run() -> None:
        db = Database(settings.database.url)
        try:
            await db.upgrade()
        finally:
            await db.dispose()

    run_async(run())
    typer.echo(cli_translator(settings)(N_("cli.db.up_to_date")))

"""`ainews fetch`, `ainews sources …` and `ainews db upgrade`."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from adapters.cli.app import app, print_json, run_async, settings_from
from adapters.cli.problems import fail, quiet_source_warnings
from bot.config import Settings, SourceSettings, describe_validation
from bot.ingest.context import IngestContext, IngestServices
from bot.ingest.fetch import Fetcher
from bot.ingest.opml import OpmlSource, read_opml, write_opml
from bot.ingest.poll import PollReport, SourceResult, poll_sources, sync_sources
from bot.ports import SystemClock
from bot.store.db import Database
from bot.store.sources import (
    DUE_NOW,
    ImportResult,
    SourceListing,
    add_source,
    import_sources,
    list_sources,
    remove_source,
)

sources_app = typer.Typer(
    help="List, add, remove, import and export feed sources.", no_args_is_help=True
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(db_app, name="db")


@asynccontextmanager
async def _ingest_context(settings: Settings) -> AsyncIterator[IngestContext]:
    """The application context; ingestion needs no enricher, so a minimal one is built directly."""
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
    db = Database(settings.database.url)
    await db.upgrade()
    try:
        yield db
    finally:
        await db.dispose()


def _summary(report: PollReport) -> str:
    return (
        f"{len(report.sources)} sources: {report.count('ok')} ok, "
        f"{report.count('not_modified')} not modified, {report.count('error')} errors, "
        f"{report.count('skipped')} skipped; {report.new_articles} new articles"
    )


@app.command("fetch")
def fetch_command(
    ctx: typer.Context,
    all_sources: bool = typer.Option(False, "--all", help="Poll every source, due or not."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
) -> None:
    """Poll due sources once (config sources are synced first); a failing feed is not an error."""
    settings = settings_from(ctx)
    show_bar = sys.stdout.isatty() and not as_json
    quiet_source_warnings()

    async def run() -> PollReport:
        async with _ingest_context(settings) as services:
            await sync_sources(services.db, settings)
            if not show_bar:
                return await poll_sources(services, all_sources=all_sources)
            with Progress(
                TextColumn("fetch"),
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
    typer.echo(_summary(report))
    for result in report.sources:
        if result.status == "error":
            typer.echo(f"  error  {result.name}: {result.error}")


async def _listing(db: Database) -> list[SourceListing]:
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
    async with _database(settings) as db:
        await sync_sources(db, settings)
        return await _listing(db)


def _when(moment: datetime | None) -> str:
    """`never` for a source not polled yet (its due time is the epoch), else a UTC minute."""
    if moment is None or moment <= DUE_NOW:
        return "never"
    return f"{moment:%Y-%m-%d %H:%M}Z"


@sources_app.command("list")
def sources_list(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """Every source with its article count, error count, last error and next check."""
    settings = settings_from(ctx)

    rows = run_async(_synced_listing(settings))
    if as_json:
        print_json([_listing_json(row) for row in rows])
        return
    for row in rows:
        due = "now" if row.next_check_at <= DUE_NOW else _when(row.next_check_at)
        state = f"checked {_when(row.last_checked_at)}, " + (
            "disabled" if row.disabled else f"next {due}"
        )
        line = f"{row.id:>4}  {row.name}  <{row.url}>  {row.articles} articles  {state}"
        if row.error_count:
            line += f"  errors={row.error_count}: {row.last_error}"
        typer.echo(line)


@sources_app.command("add")
def sources_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Display name."),
    url: str = typer.Argument(..., help="Feed URL (http or https)."),
    lang: str = typer.Option("", "--lang", help="Language hint, e.g. en or ja."),
    weight: float = typer.Option(1.0, "--weight", min=0.0, help="Ranking weight."),
    kind: str = typer.Option("feed", "--kind", help="feed or hackernews."),
) -> None:
    """Add a source (or update the one with that URL)."""
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
    typer.echo(f"added source {source_id}: {name} <{url}>")


@sources_app.command("remove")
def sources_remove(
    ctx: typer.Context,
    url_or_id: str = typer.Argument(..., help="The source's URL or numeric id."),
) -> None:
    """Remove a source and its articles."""
    settings = settings_from(ctx)

    async def run() -> str | None:
        async with _database(settings) as db, db.session() as session:
            row = await remove_source(session, url_or_id)
            return row.name if row else None

    removed = run_async(run())
    if removed is None:
        typer.echo(f"error: no source {url_or_id!r}", err=True)
        raise typer.Exit(2)
    typer.echo(f"removed source {removed}")


@sources_app.command("import-opml")
def sources_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="OPML file to read."),
) -> None:
    """Add every feed outline of an OPML file."""
    settings = settings_from(ctx)
    try:
        found = read_opml(file.read_bytes())
    except ValueError as error:
        typer.echo(f"error: {file}: {error}", err=True)
        raise typer.Exit(2) from error
    wanted = [
        (SourceSettings(name=s.name[:200] or s.url[:200], url=s.url, lang=s.lang), s.tags)
        for s in found
    ]

    async def run() -> ImportResult:
        async with _database(settings) as db, db.session() as session:
            return await import_sources(session, wanted)

    result = run_async(run())
    for name, url in result.present:
        typer.echo(f"  present  {name} <{url}> (already a source; kept as it is)")
    typer.echo(
        f"imported {len(result.added)} sources from {file}; {len(result.present)} already present"
    )


@sources_app.command("export-opml")
def sources_export(
    ctx: typer.Context,
    file: Path | None = typer.Argument(None, dir_okay=False, help="Write here (default stdout)."),
) -> None:
    """Write the feed sources as OPML."""
    settings = settings_from(ctx)

    rows = [r for r in run_async(_synced_listing(settings)) if r.kind == "feed"]
    document = write_opml([OpmlSource(r.name, r.url, r.lang, r.tags) for r in rows])
    if file is None:
        sys.stdout.write(document.decode("utf-8"))
    else:
        file.write_bytes(document)
        typer.echo(f"exported {len(rows)} sources to {file}")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Migrate the database to the newest schema."""
    settings = settings_from(ctx)

    async def run() -> None:
        db = Database(settings.database.url)
        try:
            await db.upgrade()
        finally:
            await db.dispose()

    run_async(run())
    typer.echo("database is up to date")

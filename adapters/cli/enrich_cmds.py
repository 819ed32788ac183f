"""`ainews enrich`, `ainews article ID` and `ainews translate ID`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from adapters.cli.app import app, print_json, run_async, settings_from
from adapters.cli.lang import cli_translator
from adapters.cli.problems import fail
from bot.messages import N_

if TYPE_CHECKING:
    from adapters.i18n import Translator
    from bot.config import Settings
    from bot.enrich.pipeline import EnrichReport
    from digest.models import ArticleCard, TranslationView


async def _enrich(settings: Settings, limit: int | None) -> EnrichReport:
    from bot.context import build_context
    from bot.enrich.pipeline import enrich_pending

    ctx = await build_context(settings)
    try:
        return await enrich_pending(ctx, limit=limit)
    finally:
        await ctx.aclose()


@app.command("enrich", help=N_("cli.help.enrich"))
def enrich_command(
    ctx: typer.Context,
    limit: int | None = typer.Option(None, "--limit", min=1, help=N_("cli.help.opt.limit")),
    as_json: bool = typer.Option(False, "--json", help=N_("cli.help.opt.json_result")),
) -> None:
    settings = settings_from(ctx)
    report = run_async(_enrich(settings, limit))
    if as_json:
        print_json(report.to_json())
    else:
        t = cli_translator(settings)
        failed = t.plural("cli.failed", report.failed)
        typer.echo(
            t.plural("cli.enrich_done", report.enriched, failed=failed, engine=report.engine)
        )


async def _card(
    settings: Settings, article_id: int
) -> tuple[ArticleCard | None, tuple[str, str] | None]:
    from bot.context import build_context
    from bot.enrich.pipeline import enrich_article
    from bot.errors import CommandError
    from bot.store.enrichments import translation_state
    from bot.store.read import article_card

    ctx = await build_context(settings)
    try:
        try:
            await enrich_article(ctx, article_id)  # no-op when the enrichment is current
        except CommandError:
            return None, None
        async with ctx.db.session() as session:
            card = await article_card(session, article_id)
            state = await translation_state(session, article_id, settings.translate.default_lang)
        return card, state
    finally:
        await ctx.aclose()


def card_json(card: ArticleCard, translation: tuple[str, str] | None) -> dict[str, Any]:
    """The documented `ainews article ID --json` shape."""
    return {
        "id": card.article_id,
        "title": card.title,
        "url": card.url,
        "source": card.source,
        "published_at": card.published_at.isoformat(),
        "tldr": card.tldr,
        "key_points": list(card.key_points),
        "tags": list(card.tags),
        "scores": card.scores.as_dict() if card.scores else {},
        "importance": card.importance,
        "translation": {"lang": translation[0], "status": translation[1]} if translation else None,
        "related": [
            {
                "id": story.article_id,
                "story_id": story.story_id,
                "title": story.title,
                "published_at": story.published_at.isoformat(),
                "why": story.why,
            }
            for story in card.related_stories
        ],
    }


def card_text(card: ArticleCard, translation: tuple[str, str] | None, t: Translator) -> str:
    """The card for a terminal, labelled in the CLI language; reasons as given."""
    from adapters.reply_text import DIMENSION_LABELS, TRANSLATION_STATUS

    def label(key: str, value: str) -> str:
        return t("label", label=t(key), value=value)

    lines = [
        f"#{card.article_id} {card.title}",
        f"{card.source} · {t.datetime(card.published_at)} · {card.url}",
    ]
    if card.title_translated:
        lines.append(card.title_translated)
    if card.scores is None or card.importance is None:
        lines.append(t("card.not_enriched_cli"))
        return "\n".join(lines)
    lines += ["", t("importance_label", n=card.importance), "", label(N_("tldr"), card.tldr)]
    lines += ["", f"{t('key_points')}:"]
    lines += [f"  • {point}" for point in card.key_points]
    lines += ["", f"{t('scores')}:"]
    for name, dim in card.scores.as_dict().items():
        lines.append(f"  {t(DIMENSION_LABELS[name])}  {dim['score']}  {dim['reason']}")
    if card.impact:
        lines += ["", label(N_("impact"), card.impact)]
    if card.editorial:
        lines.append(label(N_("editorial"), card.editorial))
    lines += ["", label(N_("tags"), t.join(card.tags) or "-")]
    if card.related_stories:
        lines += ["", t("related_articles")]
        lines += [f"  #{s.article_id} {s.title} ({s.why})" for s in card.related_stories]
    if translation:
        into = t("translation_into", lang=t.lang_name(translation[0]))
        status = t(TRANSLATION_STATUS.get(translation[1], N_("status_none")))
        lines.append(t("label", label=into, value=status))
    return "\n".join(lines)


@app.command("article", help=N_("cli.help.article"))
def article_command(
    ctx: typer.Context,
    article_id: int = typer.Argument(..., help=N_("cli.help.opt.article_id")),
    as_json: bool = typer.Option(False, "--json", help=N_("cli.help.opt.json_card")),
) -> None:
    settings = settings_from(ctx)
    t = cli_translator(settings)
    card, translation = run_async(_card(settings, article_id))
    if card is None:
        raise fail(t("error.no_article", id=article_id), code=1)
    if as_json:
        print_json(card_json(card, translation))
    else:
        typer.echo(card_text(card, translation, t))


async def _translate(settings: Settings, article_id: int, lang: str) -> TranslationView:
    from bot.context import build_context

    ctx = await build_context(settings)
    try:
        assert ctx.translator is not None
        return await ctx.translator.translate_article(ctx, article_id, lang)
    finally:
        await ctx.aclose()


@app.command("translate", help=N_("cli.help.translate"))
def translate_command(
    ctx: typer.Context,
    article_id: int = typer.Argument(..., help=N_("cli.help.opt.article_id")),
    lang: str | None = typer.Option(None, "--lang", help=N_("cli.help.opt.target_lang")),
) -> None:
    from adapters.reply_text import TRANSLATION_STATUS
    from bot.errors import CommandError

    settings = settings_from(ctx)
    t = cli_translator(settings)
    if settings.llm is None:
        raise fail(t(N_("no_llm")), code=1)
    try:
        view = run_async(_translate(settings, article_id, lang or settings.translate.default_lang))
    except CommandError as error:
        raise fail(t.render(error.message), code=1) from error
    if view.status != "complete":
        status = t(TRANSLATION_STATUS.get(view.status, N_("status_none")))
        warning = t(
            N_("cli.translate.incomplete"),
            status=status,
            done=view.chunks_done,
            total=view.chunks_total,
        )
        sys.stderr.write(warning + "\n")
    typer.echo(f"{view.title}\n\n{view.body}" if view.title else view.body)

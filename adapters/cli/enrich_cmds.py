"""`ainews enrich`, `ainews article ID` and `ainews translate ID`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from adapters.cli.app import app, print_json, run_async, settings_from

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


@app.command("enrich")
def enrich_command(
    ctx: typer.Context,
    limit: int | None = typer.Option(None, "--limit", min=1, help="Enrich at most N articles."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
) -> None:
    """Score and summarise every article without a current enrichment."""
    from adapters.i18n import translator

    settings = settings_from(ctx)
    report = run_async(_enrich(settings, limit))
    if as_json:
        print_json(report.to_json())
    else:
        t = translator(settings.translate.default_lang)
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
    """The card for a terminal, labelled in `[translate] default_lang`; reasons as given."""
    from adapters.reply_text import DIMENSION_LABELS, TRANSLATION_STATUS
    from bot.messages import N_

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


@app.command("article")
def article_command(
    ctx: typer.Context,
    article_id: int = typer.Argument(..., help="Article id."),
    as_json: bool = typer.Option(False, "--json", help="Print the card as one JSON object."),
) -> None:
    """The summary card of one article: TL;DR, key points, tags, scores with reasons."""
    from adapters.i18n import translator

    settings = settings_from(ctx)
    t = translator(settings.translate.default_lang)
    card, translation = run_async(_card(settings, article_id))
    if card is None:
        typer.echo(t("error.no_article", id=article_id), err=True)
        raise typer.Exit(1)
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


@app.command("translate")
def translate_command(
    ctx: typer.Context,
    article_id: int = typer.Argument(..., help="Article id."),
    lang: str | None = typer.Option(None, "--lang", help="Target language (default from config)."),
) -> None:
    """Translate one article in full (needs an LLM: the `llm` section of the config)."""
    from bot.enrich.translate import NO_LLM_MESSAGE
    from bot.errors import CommandError

    settings = settings_from(ctx)
    if settings.llm is None:
        typer.echo(f"error: {NO_LLM_MESSAGE}", err=True)
        raise typer.Exit(1)
    try:
        view = run_async(_translate(settings, article_id, lang or settings.translate.default_lang))
    except CommandError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    if view.status != "complete":
        sys.stderr.write(
            f"warning: translation is {view.status} ({view.chunks_done}/{view.chunks_total} "
            "parts translated); run the command again to retry the missing parts\n"
        )
    typer.echo(f"{view.title}\n\n{view.body}" if view.title else view.body)

"""Handlers of the section commands: tools, videos, trends and company (see bot/commands.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.companies import CompanyPage, company_page, resolve_company
from bot.errors import CommandError
from bot.handlers import _channel_view, _valid_tag
from bot.messages import CommandRequest, Msg, Reply, msg
from bot.sections import tools_digest, videos_digest
from bot.trends import trend_report
from digest.charts import PALETTE_NAMES, png_line_chart
from digest.models import ArticleCard, StoryCandidate
from digest.trends import TrendReport

if TYPE_CHECKING:
    from bot.context import AppContext

COMPANY_STORIES_SHOWN = 8
MAX_NAME_CHARS = 100


async def tools(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    prefs, _, _ = await _channel_view(ctx, request)
    tag = _valid_tag(args["tag"]) if args.get("tag") else None
    digest = await tools_digest(ctx, tag=tag, lang=prefs.lang, tz=prefs.tz)
    return Reply(digest=digest, lang=prefs.lang)


async def videos(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    prefs, _, _ = await _channel_view(ctx, request)
    digest = await videos_digest(ctx, lang=prefs.lang, tz=prefs.tz)
    return Reply(digest=digest, lang=prefs.lang)


def riser_lines(trends: TrendReport) -> tuple[Msg, ...]:
    """`1. #agents [blue]: 12 in 7 days (3 before), score 3.25` per riser; chart colours."""
    lines = []
    for rank, riser in enumerate(trends.risers, 1):
        colour = f" [{PALETTE_NAMES[rank - 1]}]" if rank <= len(trends.series) else ""
        lines.append(
            msg(
                "trends.riser",
                rank=rank,
                name=f"{trends.label(riser)}{colour}",
                mentions=riser.count,
                days=trends.days,
                previous=f"{riser.previous:g}",
                score=f"{riser.score:g}",
            )
        )
    return tuple(lines)


async def trends(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    prefs, _, _ = await _channel_view(ctx, request)
    days = int(args.get("days") or 7)
    report = await trend_report(ctx, days=days)
    if not report.risers:
        return Reply(message=msg("trends.none", days=report.days), trends=report, lang=prefs.lang)
    heading = msg("trends.heading", days=report.days, before=4 * report.days)
    chart = png_line_chart([(name, list(values)) for name, values in report.series])
    return Reply(
        message=heading,
        lines=riser_lines(report),
        trends=report,
        chart_png=chart,
        chart_name=f"ainews-trends-{report.today.isoformat()}.png",
        lang=prefs.lang,
    )


def story_card(story: StoryCandidate) -> ArticleCard:
    """A story line as a card for list replies (search, company)."""
    return ArticleCard(
        article_id=story.article_id,
        story_id=story.story_id if story.story_id > 0 else None,
        title=story.title,
        url=story.url,
        source=", ".join(story.sources),
        published_at=story.published_at,
        lang="",
        reading_minutes=1,
        tldr=story.tldr,
        key_points=(),
        tags=story.tags,
        scores=story.scores,
        importance=story.importance,
        title_translated=story.title_translated,
    )


def company_intro(page: CompanyPage) -> tuple[Msg, ...]:
    lines = [msg("company.intro", name=page.entity.name, n=page.story_count)]
    if page.models:
        lines.append(msg("company.models", names=tuple(e.name for e in page.models)))
    if page.tools:
        lines.append(msg("company.tools", names=tuple(e.name for e in page.tools)))
    if page.repos:
        lines.append(msg("company.repos", names=tuple(name for name, _ in page.repos[:10])))
    recent = [count for _, count in page.weekly[-6:]]
    lines.append(msg("company.weekly", counts=" ".join(str(n) for n in recent)))
    return tuple(lines)


async def company(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    prefs, _, _ = await _channel_view(ctx, request)
    name = str(args["name"]).strip()[:MAX_NAME_CHARS]
    entity = resolve_company(name)
    if entity is None:
        raise CommandError(msg("error.no_company", name=name), "/ainews company <name…>")
    page = await company_page(ctx, entity.slug)
    if page is None:
        raise CommandError(msg("error.no_company_page", name=name))
    intro = company_intro(page)
    cards = tuple(story_card(s) for s in page.stories[:COMPANY_STORIES_SHOWN])
    return Reply(message=intro[0], intro=intro[1:], cards=cards, lang=prefs.lang)

"""Handlers of the section commands: tools, videos, trends and company (see bot/commands.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.companies import CompanyPage, company_page, resolve_company
from bot.errors import CommandError
from bot.handlers import _channel_view, _valid_tag
from bot.messages import CommandRequest, Reply
from bot.replies import cards_text, digest_text
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
    return Reply(text=digest_text(digest), digest=digest)


async def videos(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    prefs, _, _ = await _channel_view(ctx, request)
    digest = await videos_digest(ctx, lang=prefs.lang, tz=prefs.tz)
    return Reply(text=digest_text(digest), digest=digest)


def riser_lines(trends: TrendReport) -> tuple[str, ...]:
    """`1. #agents: 12 this week (3.0 a week before), score 3.25` per riser; chart colours."""
    lines = []
    for rank, riser in enumerate(trends.risers, 1):
        colour = f" [{PALETTE_NAMES[rank - 1]}]" if rank <= len(trends.series) else ""
        lines.append(
            f"{rank}. {trends.label(riser)}{colour}: {riser.count} in {trends.days} days "
            f"({riser.previous:g} before), score {riser.score:g}"
        )
    return tuple(lines)


async def trends(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    days = int(args.get("days") or 7)
    report = await trend_report(ctx, days=days)
    if not report.risers:
        return Reply(text=f"Nothing is rising over the last {report.days} days yet.", trends=report)
    lines = riser_lines(report)
    heading = f"Rising over the last {report.days} days (against the {4 * report.days} before)"
    chart = png_line_chart([(name, list(values)) for name, values in report.series])
    return Reply(
        text=heading + ":\n" + "\n".join(lines),
        lines=(heading + ":", *lines),
        trends=report,
        chart_png=chart,
        chart_name=f"ainews-trends-{report.today.isoformat()}.png",
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


def company_intro(page: CompanyPage) -> tuple[str, ...]:
    lines = [f"{page.entity.name}: {page.story_count} stories in the last 90 days"]
    if page.models:
        lines.append("Models: " + ", ".join(e.name for e in page.models))
    if page.tools:
        lines.append("Tools: " + ", ".join(e.name for e in page.tools))
    if page.repos:
        lines.append("Repositories: " + ", ".join(name for name, _ in page.repos[:10]))
    recent = [count for _, count in page.weekly[-6:]]
    lines.append("Stories a week (last 6 weeks): " + " ".join(str(n) for n in recent))
    return tuple(lines)


async def company(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    name = str(args["name"]).strip()[:MAX_NAME_CHARS]
    entity = resolve_company(name)
    if entity is None:
        raise CommandError(
            f"No company or lab called {name!r} in the gazetteer.", "/ainews company <name…>"
        )
    page = await company_page(ctx, entity.slug)
    if page is None:
        raise CommandError(f"No company page for {name!r}.")
    intro = company_intro(page)
    cards = tuple(story_card(s) for s in page.stories[:COMPANY_STORIES_SHOWN])
    text = "\n".join(intro)
    if cards:
        text = cards_text(text, cards)
    return Reply(text=text, intro=intro, cards=cards)

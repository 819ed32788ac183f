"""Company pages: a lab's stories over time, its models and tools, resolved through the gazetteer.

A story counts for a company when it names the company or one of its products (the gazetteer's
`owner`), so "Claude Code ships voice mode" is an Anthropic story even if it never says Anthropic.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import StoreContext
from bot.store.read import candidate_query, load_candidates
from bot.store.schema import ArticleRow, EnrichmentRow, ToolRow
from digest.build import one_per_story
from digest.knowledge import Entity, knowledge
from digest.models import StoryCandidate

__all__ = [
    "CompanyPage",
    "CompanySummary",
    "company_page",
    "list_companies",
    "resolve_company",
]

WINDOW_DAYS = 90
WEEKS_CHARTED = 12
MAX_STORIES = 30
_ROW_CAP = 50_000


@dataclass(frozen=True, slots=True)
class CompanySummary:
    slug: str
    name: str
    stories: int


@dataclass(frozen=True, slots=True)
class CompanyPage:
    """Everything `/companies/{slug}` and `/ainews company` show."""

    entity: Entity
    stories: tuple[StoryCandidate, ...]
    story_count: int
    weekly: tuple[tuple[date, int], ...]
    models: tuple[Entity, ...]
    tools: tuple[Entity, ...]
    repos: tuple[tuple[str, str], ...]  # (name, url) of tool rows the company publishes


def company_of(slug: str) -> str | None:
    """The company a slug belongs to: itself for a company, its owner for a model or tool."""
    entity = knowledge().gazetteer.entities.get(slug)
    if entity is None:
        return None
    if entity.type == "company":
        return entity.slug
    return entity.owner or None


def resolve_company(name: str) -> Entity | None:
    """A company from any alias in any script (OpenAI, openai, オープンAI); a product's name
    leads to its owner (ChatGPT → OpenAI)."""
    gazetteer = knowledge().gazetteer
    entity = gazetteer.by_name(name)
    if entity is None:
        return None
    slug = company_of(entity.slug)
    return gazetteer.entities.get(slug) if slug else None


async def _story_companies(
    session: AsyncSession, since_days: int, now_date: date
) -> list[tuple[int, int, date, set[str]]]:
    """(article id, story id, day, companies) of recent articles."""
    since = now_date - timedelta(days=since_days)
    rows = await session.execute(
        select(
            ArticleRow.id,
            ArticleRow.story_id,
            ArticleRow.published_at,
            ArticleRow.entities,
            EnrichmentRow.entities,
        )
        .outerjoin(EnrichmentRow, EnrichmentRow.article_id == ArticleRow.id)
        .where(ArticleRow.published_at >= datetime.combine(since, time(), UTC))
        .order_by(ArticleRow.id.desc())
        .limit(_ROW_CAP)
    )
    out = []
    for article_id, story_id, published_at, found, judged in rows:
        companies = {c for s in (*(found or ()), *(judged or ())) if (c := company_of(s))}
        if companies:
            story = story_id if story_id is not None else -article_id
            out.append((article_id, story, published_at.date(), companies))
    return out


async def list_companies(ctx: StoreContext, *, days: int = WINDOW_DAYS) -> list[CompanySummary]:
    """Companies with stories in the window, most covered first."""
    async with ctx.db.session() as session:
        rows = await _story_companies(session, days, ctx.clock.now().date())
    stories: dict[str, set[int]] = defaultdict(set)
    for _, story, _, companies in rows:
        for company in companies:
            stories[company].add(story)
    entities = knowledge().gazetteer.entities
    out = [CompanySummary(slug, entities[slug].name, len(ids)) for slug, ids in stories.items()]
    out.sort(key=lambda c: (-c.stories, c.name.lower()))
    return out


def _org_of_tool(key: str) -> str:
    """`github:anthropics/claude-code` → `anthropics`."""
    _, _, name = key.partition(":")
    return name.split("/", 1)[0]


async def company_page(ctx: StoreContext, slug: str) -> CompanyPage | None:
    gazetteer = knowledge().gazetteer
    entity = gazetteer.entities.get(slug)
    if entity is None or entity.type != "company":
        return None
    today = ctx.clock.now().date()
    async with ctx.db.session() as session:
        rows = await _story_companies(session, WINDOW_DAYS, today)
        mine = [(aid, story, day) for aid, story, day, companies in rows if slug in companies]
        ids = [aid for aid, _, _ in mine][: MAX_STORIES * 4]
        candidates = (
            await load_candidates(session, candidate_query().where(ArticleRow.id.in_(ids)))
            if ids
            else []
        )
        tool_rows = (await session.execute(select(ToolRow.key, ToolRow.name, ToolRow.kind))).all()
    best = one_per_story(candidates)
    best.sort(key=lambda c: (c.published_at, c.article_id), reverse=True)
    first_day: dict[int, date] = {}
    for _, story, day in mine:
        first_day[story] = min(day, first_day.get(story, day))
    week_start = today - timedelta(days=today.weekday())
    weeks = [week_start - timedelta(weeks=i) for i in range(WEEKS_CHARTED - 1, -1, -1)]
    per_week: Counter[date] = Counter(
        day - timedelta(days=day.weekday()) for day in first_day.values()
    )
    owned = [e for e in gazetteer.entities.values() if e.owner == slug]
    repos = []
    for key, name, kind in tool_rows:
        owner = gazetteer.by_name(_org_of_tool(key))
        if owner is not None and company_of(owner.slug) == slug:
            prefix = "https://github.com/" if kind == "repo" else "https://huggingface.co/"
            path = f"datasets/{name}" if kind == "dataset" else name
            repos.append((name, prefix + path))
    return CompanyPage(
        entity=entity,
        stories=tuple(best[:MAX_STORIES]),
        story_count=len(first_day),
        weekly=tuple((week, per_week[week]) for week in weeks),
        models=tuple(sorted((e for e in owned if e.type == "model"), key=lambda e: e.name)),
        tools=tuple(sorted((e for e in owned if e.type == "tool"), key=lambda e: e.name)),
        repos=tuple(sorted(repos)[:50]),
    )

"""Read models: rows turned into the frozen objects of `digest.models`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.related import find_related
from bot.store.schema import ArticleRow, EnrichmentRow, Source, Story, TranslationRow
from digest.models import ArticleCard, DimensionScore, Scores, StoryCandidate, TranslationView

UNSCORED_IMPORTANCE = 1
CandidateQuery = Select[ArticleRow, EnrichmentRow, Source, int]


def scores_of(row: EnrichmentRow) -> Scores:
    reasons = row.reasons or {}
    return Scores(
        depth=DimensionScore(row.depth, reasons.get("depth", "")),
        relevance=DimensionScore(row.relevance, reasons.get("relevance", "")),
        practicality=DimensionScore(row.practicality, reasons.get("practicality", "")),
        innovation=DimensionScore(row.innovation, reasons.get("innovation", "")),
    )


async def story_sources(session: AsyncSession, story_ids: Iterable[int]) -> dict[int, list[str]]:
    """Source names per story, in a stable order."""
    ids = sorted(set(story_ids))
    found: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(ArticleRow.story_id, Source.name)
            .join(Source, Source.id == ArticleRow.source_id)
            .where(ArticleRow.story_id.in_(ids[start : start + 500]))
            .distinct()
            .order_by(ArticleRow.story_id, Source.name)
        )
        for story_id, name in rows:
            if story_id is not None and name not in found[story_id]:
                found[story_id].append(name)
    return found


def like_contains(word: str) -> str:
    """A LIKE pattern matching `word` anywhere, with LIKE's wildcards escaped (escape char `\\`)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def candidate_query() -> CandidateQuery:
    """Articles with their enrichment (if any), source and story size: the rows of a candidate."""
    return (
        select(ArticleRow, EnrichmentRow, Source, Story.source_count)
        .join(Source, Source.id == ArticleRow.source_id)
        .outerjoin(EnrichmentRow, EnrichmentRow.article_id == ArticleRow.id)
        .outerjoin(Story, Story.id == ArticleRow.story_id)
    )


async def load_candidates(
    session: AsyncSession,
    query: CandidateQuery,
) -> list[StoryCandidate]:
    """Run a `candidate_query()` (filtered and ordered by the caller) into story candidates."""
    rows = (await session.execute(query)).all()
    names = await story_sources(session, {a.story_id for a, *_ in rows if a.story_id})
    out: list[StoryCandidate] = []
    for article, enrichment, source, source_count in rows:
        story_id = article.story_id if article.story_id is not None else -article.id
        out.append(
            StoryCandidate(
                story_id=story_id,
                article_id=article.id,
                title=article.title,
                url=article.url or article.canonical_url,
                sources=tuple(names.get(story_id, [source.name])),
                published_at=article.published_at,
                importance=enrichment.importance if enrichment else UNSCORED_IMPORTANCE,
                scores=scores_of(enrichment) if enrichment else None,
                tldr=enrichment.tldr if enrichment else "",
                tags=tuple(enrichment.tags) if enrichment else (),
                source_count=source_count or 1,
                is_backlog=article.is_backlog,
                points=article.points,
                comments=article.comments,
                title_translated=enrichment.title_translated if enrichment else "",
                source_kind=source.kind,
            )
        )
    return out


async def candidates_between(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    source_kind: str | None = None,
) -> list[StoryCandidate]:
    """Articles published in [start, end) as story candidates; unenriched ones still count."""
    query = (
        candidate_query()
        .where(ArticleRow.published_at >= start, ArticleRow.published_at < end)
        .order_by(ArticleRow.id)
    )
    if source_kind is not None:
        query = query.where(Source.kind == source_kind)
    return await load_candidates(session, query)


def translation_view(row: TranslationRow) -> TranslationView:
    return TranslationView(
        lang=row.lang,
        status=row.status,  # type: ignore[arg-type]
        title=row.title,
        body=row.body,
        chunks_total=row.chunks_total,
        chunks_done=row.chunks_done,
    )


async def article_card(
    session: AsyncSession, article_id: int, *, translation_lang: str | None = None
) -> ArticleCard | None:
    """The summary card of one article, with its translation (if asked) and related stories."""
    row = (
        await session.execute(
            select(ArticleRow, Source, EnrichmentRow)
            .join(Source, Source.id == ArticleRow.source_id)
            .outerjoin(EnrichmentRow, EnrichmentRow.article_id == ArticleRow.id)
            .where(ArticleRow.id == article_id)
        )
    ).first()
    if row is None:
        return None
    article, source, enrichment = row
    translation = None
    if translation_lang:
        found = await session.scalar(
            select(TranslationRow).where(
                TranslationRow.article_id == article_id, TranslationRow.lang == translation_lang
            )
        )
        translation = translation_view(found) if found else None
    related: tuple[tuple[int, str], ...] = ()
    if article.story_id is not None:
        siblings = await session.execute(
            select(ArticleRow.id, ArticleRow.title)
            .where(ArticleRow.story_id == article.story_id, ArticleRow.id != article.id)
            .order_by(ArticleRow.id)
            .limit(10)
        )
        related = tuple((sid, title) for sid, title in siblings)
    entities = tuple(
        dict.fromkeys([*(enrichment.entities if enrichment else ()), *(article.entities or ())])
    )
    tags = tuple(enrichment.tags) if enrichment else ()
    related_stories = await find_related(
        session,
        article_id=article.id,
        story_id=article.story_id,
        published_at=article.published_at,
        entities=entities,
        tags=tags,
    )
    return ArticleCard(
        article_id=article.id,
        story_id=article.story_id,
        title=article.title,
        url=article.url or article.canonical_url,
        source=source.name,
        published_at=article.published_at,
        lang=article.lang,
        reading_minutes=article.reading_minutes,
        tldr=enrichment.tldr if enrichment else "",
        key_points=tuple(enrichment.key_points) if enrichment else (),
        tags=tuple(enrichment.tags) if enrichment else (),
        scores=scores_of(enrichment) if enrichment else None,
        importance=enrichment.importance if enrichment else None,
        title_translated=enrichment.title_translated if enrichment else "",
        impact=enrichment.impact if enrichment else "",
        editorial=enrichment.editorial if enrichment else "",
        summary_lang=enrichment.lang if enrichment else "",
        translation=translation,
        related=related,
        content=article.content,
        related_stories=tuple(related_stories),
        kind=enrichment.kind if enrichment else "",
        entities=entities,
    )

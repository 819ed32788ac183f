"""Enrichment-side queries the CLI and pages share."""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.schema import TranslationRow


async def translation_state(
    session: AsyncSession, article_id: int, preferred_lang: str
) -> tuple[str, str] | None:
    """(lang, status) of the article's translation, preferring `preferred_lang`, else the newest."""
    row = (
        await session.execute(
            select(TranslationRow.lang, TranslationRow.status)
            .where(TranslationRow.article_id == article_id)
            .order_by(
                case((TranslationRow.lang == preferred_lang, 0), else_=1),
                TranslationRow.updated_at.desc(),
            )
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else None

"""What a newcomer needs to see while the store is empty or sources fail: each source's state,
its last error, and the next thing to do. The web home and `/sources` render it; `ainews run`
prints its summary line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.schema import ArticleRow, Source, Story
from bot.store.sources import POLLED_KINDS


@dataclass(frozen=True, slots=True)
class SourceState:
    id: int
    name: str
    url: str
    state: str  # ok | failing | disabled | never (not polled yet)
    articles: int
    error_count: int
    last_error: str | None
    last_checked_at: datetime | None
    last_success_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoreStatus:
    stories: int
    sources: tuple[SourceState, ...]

    def count(self, state: str) -> int:
        return sum(1 for source in self.sources if source.state == state)

    @property
    def needs_attention(self) -> bool:
        """Show the onboarding panel: nothing to read yet, or some source is not working."""
        return self.stories == 0 or any(s.state != "ok" for s in self.sources)

    def summary(self) -> str:
        return (
            f"{len(self.sources)} sources: {self.count('ok')} ok, {self.count('failing')} failing, "
            f"{self.count('disabled')} disabled, {self.count('never')} not fetched yet; "
            f"{self.stories} stories stored"
        )


def _state(row: Source) -> str:
    if row.disabled:
        return "disabled"
    if row.last_checked_at is None:
        return "never"
    return "failing" if row.error_count else "ok"


async def store_status(session: AsyncSession) -> StoreStatus:
    counts = dict(
        (
            await session.execute(
                select(ArticleRow.source_id, func.count(ArticleRow.id)).group_by(
                    ArticleRow.source_id
                )
            )
        ).all()
    )
    rows = await session.scalars(select(Source).where(Source.kind.in_(POLLED_KINDS)))
    order = {"disabled": 0, "failing": 1, "never": 2, "ok": 3}
    states = sorted(
        (
            SourceState(
                id=row.id,
                name=row.name,
                url=row.url,
                state=_state(row),
                articles=int(counts.get(row.id, 0)),
                error_count=row.error_count,
                last_error=row.last_error,
                last_checked_at=row.last_checked_at,
                last_success_at=row.last_success_at,
            )
            for row in rows
        ),
        key=lambda s: (order[s.state], s.name.lower()),
    )
    stories = int(await session.scalar(select(func.count()).select_from(Story)) or 0)
    return StoreStatus(stories=stories, sources=tuple(states))

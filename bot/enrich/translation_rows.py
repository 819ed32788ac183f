"""The `translations` row as a work item: a lease so replicas never translate one article at
once, and the writes a translation makes (insert-or-update, demotion of a stale result).

Leases are conditional UPDATEs (`lease_until` passed or empty), atomic on SQLite and PostgreSQL;
a crashed translator's lease simply expires.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.enrich.budget import Usage
from bot.errors import LLMError
from bot.ports import Clock
from bot.store.db import Database
from bot.store.read import translation_view
from bot.store.schema import TranslationRow
from digest.models import TranslationView

log = logging.getLogger(__name__)

LEASE_POLL_SECONDS = 0.5


@dataclass
class TranslationLease:
    """One translator's claim on (article, lang) rows; `busy` is set whenever it had to wait."""

    db: Database
    clock: Clock
    owner: str
    span: timedelta
    busy: asyncio.Event = field(default_factory=asyncio.Event)

    async def take(self, article_id: int, lang: str) -> bool:
        """Claim the (article, lang) row for this translator; False while another holds it."""
        now = self.clock.now()
        await ensure_row(self.db, self.clock, article_id, lang)
        async with self.db.session() as session:
            taken = await session.scalar(
                update(TranslationRow)
                .where(
                    TranslationRow.article_id == article_id,
                    TranslationRow.lang == lang,
                    TranslationRow.status != "complete",
                    or_(TranslationRow.lease_until.is_(None), TranslationRow.lease_until <= now),
                )
                .values(lease_owner=self.owner, lease_until=now + self.span)
                .returning(TranslationRow.id)
            )
        return taken is not None

    async def renew(self, article_id: int, lang: str) -> None:
        async with self.db.session() as session:
            await session.execute(
                update(TranslationRow)
                .where(
                    TranslationRow.article_id == article_id,
                    TranslationRow.lang == lang,
                    TranslationRow.lease_owner == self.owner,
                )
                .values(lease_until=self.clock.now() + self.span)
            )

    async def drop(self, article_id: int, lang: str) -> None:
        async with self.db.session() as session:
            await session.execute(
                update(TranslationRow)
                .where(
                    TranslationRow.article_id == article_id,
                    TranslationRow.lang == lang,
                    TranslationRow.lease_owner == self.owner,
                )
                .values(lease_owner=None, lease_until=None)
            )

    async def wait_for_other(self, article_id: int, lang: str) -> TranslationView | None:
        """Wait while another translator holds the lease; its result if complete, else None
        (the lease was released or expired: the caller tries to take it)."""
        self.busy.set()
        log.info("translate: article_id=%s lang=%s is being translated elsewhere", article_id, lang)
        while True:
            async with self.db.session() as session:
                row = await session.scalar(
                    select(TranslationRow).where(
                        TranslationRow.article_id == article_id, TranslationRow.lang == lang
                    )
                )
            if row is None:
                return None
            if row.status == "complete":
                return translation_view(row)
            if row.lease_owner is None or (
                row.lease_until is not None and row.lease_until <= self.clock.now()
            ):
                return None
            await asyncio.sleep(LEASE_POLL_SECONDS)


async def ensure_row(db: Database, clock: Clock, article_id: int, lang: str) -> None:
    """The (article, lang) row exists (as `pending` when new), so it can carry a lease."""
    try:
        async with db.session() as session:
            found = await session.scalar(
                select(TranslationRow.id).where(
                    TranslationRow.article_id == article_id, TranslationRow.lang == lang
                )
            )
            if found is None:
                session.add(
                    TranslationRow(
                        article_id=article_id, lang=lang, status="pending",
                        created_at=clock.now(), updated_at=clock.now(),
                    )
                )  # fmt: skip
    except IntegrityError:
        pass  # a concurrent translator inserted it first


async def discard(db: Database, clock: Clock, row_id: int, problem: str) -> None:
    """A translation stored as complete by an older, laxer check that fails today's: it is
    demoted and translated again from scratch, never served as complete."""
    log.warning("translate: stored translation %s fails verification (%s)", row_id, problem)
    async with db.session() as session:
        await session.execute(
            update(TranslationRow)
            .where(TranslationRow.id == row_id, TranslationRow.status == "complete")
            .values(
                status="failed",
                chunks=[],
                chunks_done=0,
                error=f"failed verification: {problem}",
                updated_at=clock.now(),
            )
        )


async def upsert_translation(
    db: Database, article_id: int, lang: str, values: dict[str, object], usage: Usage
) -> TranslationRow:
    """Insert or update the one row of (article, lang); a concurrent insert turns into an update."""
    for _ in range(2):
        try:
            async with db.session() as session:
                row = await session.scalar(
                    select(TranslationRow).where(
                        TranslationRow.article_id == article_id, TranslationRow.lang == lang
                    )
                )
                if row is None:
                    row = TranslationRow(article_id=article_id, lang=lang)
                    session.add(row)
                for key, value in values.items():
                    setattr(row, key, value)
                row.tokens_in = (row.tokens_in or 0) + usage.tokens_in
                row.tokens_out = (row.tokens_out or 0) + usage.tokens_out
            return row
        except IntegrityError:
            continue
    raise LLMError("could not store the translation (concurrent writers)")

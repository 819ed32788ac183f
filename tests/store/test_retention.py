"""Retention on SQLite and PostgreSQL: old articles go with their enrichments and translations;
an article an undelivered outbox row still names stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from bot.config import Settings
from bot.delivery import OutboxEntry, enqueue_many
from bot.retention import prune
from bot.runtime import StoreOnlyContext
from bot.store.db import Database
from bot.store.schema import ArticleRow, Delivery, EnrichmentRow, Story, TranslationRow
from tests.cli.conftest import assert_one_line_user_error, in_thread
from tests.fakes.store_seed import FakeClock, add_channel, add_source, add_story

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


async def _count(db: Database, table: type) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


def _alert(story_id: int, article_id: int) -> dict[str, object]:
    return {"type": "alert", "lang": "en", "item": {"story_id": story_id, "article_id": article_id}}


async def test_prune_keeps_what_undelivered_rows_name(db: Database, database_url: str) -> None:
    ctx = StoreOnlyContext(
        settings=Settings.model_validate({"database": {"url": database_url}}),
        db=db,
        clock=FakeClock(NOW),
    )
    source = await add_source(db)
    old = NOW - timedelta(days=60)
    old_story, old_article = await add_story(db, source, "Old and done", old)
    queued_story, queued_article = await add_story(db, source, "Old but queued", old)
    sent_story, sent_article = await add_story(db, source, "Old and sent", old)
    _, fresh_article = await add_story(db, source, "Fresh", NOW - timedelta(days=1))
    channel = await add_channel(db, "news")
    async with db.session() as session:
        session.add(TranslationRow(article_id=old_article, lang="ja", body="訳", status="done"))
        session.add(TranslationRow(article_id=fresh_article, lang="ja", body="訳", status="done"))
        await enqueue_many(
            session,
            [
                OutboxEntry(
                    channel,
                    f"alert:story:{queued_story}",
                    "alert",
                    _alert(queued_story, queued_article),
                ),
                OutboxEntry(
                    channel, f"alert:story:{sent_story}", "alert", _alert(sent_story, sent_article)
                ),
            ],
            NOW,
        )
        await session.execute(
            update(Delivery)
            .where(Delivery.key == f"alert:story:{sent_story}")
            .values(status="sent")
        )

    dry = await prune(ctx, timedelta(days=30), dry_run=True)
    assert dry.to_json() == {"articles": 2, "translations": 1, "kept_undelivered": 1}
    assert await _count(db, ArticleRow) == 4

    done = await prune(ctx, timedelta(days=30))
    assert done == dry
    async with db.session() as session:
        left = set(await session.scalars(select(ArticleRow.id)))
        enriched = set(await session.scalars(select(EnrichmentRow.article_id)))
        translated = set(await session.scalars(select(TranslationRow.article_id)))
        stories = set(await session.scalars(select(Story.id)))
    assert left == {queued_article, fresh_article}
    assert enriched == left and translated == {fresh_article}
    assert old_story not in stories and sent_story not in stories and queued_story in stories
    assert await _count(db, Delivery) == 2  # outbox rows are never deleted

    async with db.session() as session:
        await session.execute(update(Delivery).values(status="sent"))
    after = await prune(ctx, timedelta(days=30))
    assert after.to_json() == {"articles": 1, "translations": 0, "kept_undelivered": 0}
    assert await _count(db, ArticleRow) == 1


@pytest.mark.usefixtures("english_cli")
async def test_cli_prune_json_shape_and_missing_age(sqlite_url: str, tmp_path: Path) -> None:
    db = Database(sqlite_url)
    try:
        source = await add_source(db)
        await add_story(db, source, "Ancient", datetime(2020, 1, 1, tzinfo=UTC))
    finally:
        await db.dispose()
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{sqlite_url}"\n', encoding="utf-8")
    ran = await in_thread(
        "db", "prune", "--older-than", "30", "--dry-run", "--json", "--config", str(config)
    )
    assert ran.code == 0, ran.err
    assert ran.out.strip() == '{"articles": 1, "translations": 0, "kept_undelivered": 0}'
    assert_one_line_user_error(
        await in_thread("db", "prune", "--config", str(config)), "--older-than"
    )
    config.write_text(
        f'[database]\nurl = "{sqlite_url}"\n[retention]\ndays = 365\n', encoding="utf-8"
    )
    ran = await in_thread("--config", str(config), "db", "prune")
    assert ran.code == 0 and ran.out.startswith("deleted 1 article older than 365 days"), ran.err
    assert "VACUUM" in ran.err

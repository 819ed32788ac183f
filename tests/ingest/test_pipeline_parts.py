"""The pipeline's parts on their own: the worker pool, the store writer, the story index query."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, func, insert, select, text

from bot.config import Settings
from bot.ingest import workers
from bot.store.articles import story_index_query
from bot.store.db import Database
from bot.store.schema import Source
from bot.store.writer import StoreWriter


async def test_cpu_work_runs_in_another_process_and_inline_when_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert await workers.run_cpu(os.getpid) != os.getpid()
    monkeypatch.setenv("AINEWS_INGEST_WORKERS", "0")
    assert await workers.run_cpu(os.getpid) == os.getpid()


def _add_source(conn: Connection, url: str, fail: bool) -> None:
    now = datetime.now(UTC)
    conn.execute(insert(Source).values(name=url, url=url, next_check_at=now, created_at=now))
    if fail:
        raise RuntimeError("fault after the insert")


def _count(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(Source)) or 0)


async def test_writer_commits_each_call_and_rolls_back_a_failed_one(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    writer = StoreWriter(Database(settings.database.url))
    try:
        before = await writer.run(_count)
        await writer.run(_add_source, "https://kept.test/feed", False)
        with pytest.raises(RuntimeError):
            await writer.run(_add_source, "https://lost.test/feed", True)
        assert await writer.run(_count) == before + 1
    finally:
        await writer.aclose()


async def test_story_index_reads_by_index_not_by_scanning_articles(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    db = Database(settings.database.url)
    if not db.is_sqlite:
        await db.dispose()
        pytest.skip("the plan check reads SQLite's EXPLAIN QUERY PLAN")
    query = story_index_query(datetime(2026, 11, 29, tzinfo=UTC))
    async with db.engine.connect() as conn:
        compiled = query.compile(conn.sync_engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(
            str(row[-1]) for row in await conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        )
    await db.dispose()
    assert "ix_articles_fetched_at" in plan and "ix_articles_published_at" in plan, plan
    assert "SCAN articles" not in plan, plan
    assert "content" not in str(compiled).split("FROM")[0]

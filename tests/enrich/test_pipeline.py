"""The enrichment pipeline on SQLite and PostgreSQL: staleness, claims, failures, budget."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.config import Settings
from bot.enrich.pipeline import EnrichReport, enrich_article, enrich_pending
from bot.errors import CommandError
from bot.store.db import Database
from bot.store.schema import ArticleRow, EnrichmentRow, LLMUsage
from tests.enrich.conftest import (
    ARTICLE_TEXT,
    NOW,
    FixedClock,
    Seed,
    app_context,
    seed_articles,
)
from tests.fakes.llm_server import FakeLLM

SEEDS = [
    Seed("OpenAI ships an open-source agent framework", ARTICLE_TEXT, source_count=3),
    Seed("A new benchmark for multimodal models", "Researchers released a new benchmark. " * 8),
    Seed(
        "生成AIの新しいエージェント",
        "新しいエージェントを発表した。開発者はすぐに試せる。性能は2倍。",
        lang="ja",
    ),
]


async def enrichment_rows(db: Database) -> list[EnrichmentRow]:
    async with db.session() as session:
        return list(await session.scalars(select(EnrichmentRow).order_by(EnrichmentRow.article_id)))


async def article(db: Database, article_id: int) -> ArticleRow:
    async with db.session() as session:
        row = await session.get(ArticleRow, article_id)
        assert row is not None
        return row


async def test_offline_enrichment_stores_one_row_per_article_once(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    ids = await seed_articles(db, SEEDS)
    async with app_context(make_settings()) as ctx:
        report = await enrich_pending(ctx)
        assert report.to_json() == {"enriched": 3, "failed": 0, "engine": "offline"}
        rows = await enrichment_rows(db)
        assert [r.article_id for r in rows] == ids
        for row in rows:
            assert (row.engine, row.model, row.prompt_version) == (
                "offline",
                "heuristic",
                "offline-2",
            )
            assert row.content_hash and 1 <= row.importance <= 5
            assert set(row.reasons) == {"depth", "relevance", "practicality", "innovation"}
        assert rows[2].lang == "ja"
        assert [(await article(db, i)).enrich_status for i in ids] == ["done"] * 3
        again = await enrich_pending(ctx)
        assert (again.enriched, again.failed) == (0, 0)


async def test_changed_content_updates_the_row_in_place(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    [article_id] = await seed_articles(db, SEEDS[:1])
    async with app_context(make_settings()) as ctx:
        await enrich_pending(ctx)
        [before] = await enrichment_rows(db)
        async with db.session() as session:
            await session.execute(
                update(ArticleRow)
                .where(ArticleRow.id == article_id)
                .values(content="A completely different text about robots.", content_hash="new")
            )
        assert (await enrich_pending(ctx)).enriched == 1
        [after] = await enrichment_rows(db)
        assert after.id == before.id
        assert after.content_hash == "new" and after.tldr != before.tldr


async def test_limit_bounds_a_run(db: Database, make_settings: Callable[..., Settings]) -> None:
    await seed_articles(db, SEEDS)
    async with app_context(make_settings()) as ctx:
        assert (await enrich_pending(ctx, limit=2)).enriched == 2
        assert (await enrich_pending(ctx, limit=2)).enriched == 1


async def test_llm_run_makes_one_call_per_article_and_none_the_second_time(
    db: Database, llm_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    ids = await seed_articles(db, SEEDS)
    async with app_context(llm_settings()) as ctx:
        report = await enrich_pending(ctx)
        assert report.to_json() == {"enriched": 3, "failed": 0, "engine": "llm"}
        assert fake_llm.calls == 3
        rows = await enrichment_rows(db)
        assert [r.article_id for r in rows] == ids
        for row in rows:
            assert (row.engine, row.model, row.prompt_version) == ("llm", "fake-model", "enrich-v2")
            assert row.tokens_in > 0 and row.tokens_out > 0 and row.cost_usd > 0
            assert row.lang == "ja" and row.title_translated.endswith("。")
        async with db.session() as session:
            assert await session.scalar(select(func.count()).select_from(LLMUsage)) == 3
        assert (await enrich_pending(ctx)).enriched == 0
        assert fake_llm.calls == 3


@pytest.mark.parametrize(
    "bad", ["english", "chinese", "mixed", "leak_ja", "cut", "example_copy", "length"]
)
async def test_a_model_that_keeps_misbehaving_stores_no_enrichment(
    db: Database, llm_settings: Callable[..., Settings], fake_llm: FakeLLM, bad: str
) -> None:
    ids = await seed_articles(db, SEEDS)
    fake_llm.default_mode = bad
    async with app_context(llm_settings(max_retries=1)) as ctx:
        report = await enrich_pending(ctx)
    assert report.to_json() == {"enriched": 0, "failed": 3, "engine": "llm"}
    assert await enrichment_rows(db) == []
    for article_id in ids:
        row = await article(db, article_id)
        assert row.enrich_status == "failed" and "rejected 2 time" in (row.enrich_error or "")


async def test_per_row_editorial_fields_come_from_the_llm_answer(
    db: Database, llm_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    await seed_articles(db, SEEDS[:1])
    fake_llm.queue("non_ai")
    async with app_context(llm_settings()) as ctx:
        await enrich_pending(ctx)
    [row] = await enrichment_rows(db)
    assert (row.is_ai, row.kind, row.importance) == (False, "news", 1)  # [rubric] non_ai_max
    assert all(": " in point for point in row.key_points)


async def test_switching_from_offline_to_an_llm_re_enriches(
    db: Database,
    make_settings: Callable[..., Settings],
    llm_settings: Callable[..., Settings],
    fake_llm: FakeLLM,
) -> None:
    await seed_articles(db, SEEDS[:1])
    async with app_context(make_settings()) as offline:
        await enrich_pending(offline)
    async with app_context(llm_settings()) as ctx:
        assert (await enrich_pending(ctx)).enriched == 1
        [row] = await enrichment_rows(db)
        assert row.engine == "llm" and fake_llm.calls == 1


async def test_a_failing_article_keeps_its_error_and_retry_time_and_others_go_on(
    db: Database, llm_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    ids = await seed_articles(db, SEEDS[:2])
    clock = FixedClock()
    async with app_context(llm_settings(max_retries=1, enrich={"concurrency": 1}), clock) as ctx:
        fake_llm.queue("length", "length")  # the newest article's two tries
        report = await enrich_pending(ctx)
        assert (report.enriched, report.failed) == (1, 1)
        failed = await article(db, ids[0])
        assert failed.enrich_status == "failed"
        assert "finish_reason=length" in (failed.enrich_error or "")
        assert failed.enrich_attempts == 1
        assert failed.enrich_retry_at == NOW + timedelta(minutes=30)
        assert (await article(db, ids[1])).enrich_status == "done"

        calls = fake_llm.calls
        assert (await enrich_pending(ctx)).enriched == 0  # not due yet
        assert fake_llm.calls == calls
        clock.advance(timedelta(minutes=31))
        assert (await enrich_pending(ctx)).enriched == 1
        healed = await article(db, ids[0])
        assert (healed.enrich_status, healed.enrich_error, healed.enrich_attempts) == (
            "done",
            None,
            0,
        )


async def test_spent_budget_enriches_offline_and_notes_it_on_the_row(
    db: Database, llm_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    ids = await seed_articles(db, SEEDS)
    async with app_context(llm_settings(daily_token_budget=0)) as ctx:
        report = await enrich_pending(ctx)
        assert report.to_json() == {"enriched": 3, "failed": 0, "engine": "llm+offline"}
        assert fake_llm.calls == 0
        for row in await enrichment_rows(db):
            assert row.engine == "offline"
            assert "daily LLM token budget" in row.note
        # Retried with the LLM once the budget resets (next UTC day), not on every run.
        assert (await article(db, ids[0])).enrich_retry_at == NOW.replace(hour=0) + timedelta(
            days=1
        )
        assert (await enrich_pending(ctx)).enriched == 0


async def test_two_replicas_never_enrich_the_same_article_twice(
    db: Database, llm_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    seeds = [Seed(f"Story {i} about LLM agents", ARTICLE_TEXT + f" Item {i}.") for i in range(12)]
    await seed_articles(db, seeds)
    settings = llm_settings()
    async with app_context(settings) as first, app_context(settings) as second:
        reports: list[EnrichReport] = list(
            await asyncio.gather(enrich_pending(first), enrich_pending(second))
        )
        assert sum(r.enriched for r in reports) == 12
        assert sum(r.failed for r in reports) == 0
        assert fake_llm.calls == 12
        assert len(await enrichment_rows(db)) == 12


async def test_enrich_article_on_demand(
    db: Database, llm_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    ids = await seed_articles(db, SEEDS[:2])
    async with app_context(llm_settings()) as ctx:
        await enrich_article(ctx, ids[1])
        assert fake_llm.calls == 1
        assert [r.article_id for r in await enrichment_rows(db)] == [ids[1]]
        await enrich_article(ctx, ids[1])  # current: no call
        assert fake_llm.calls == 1
        with pytest.raises(CommandError, match="No article"):
            await enrich_article(ctx, 999_999)


async def test_a_running_claim_is_left_alone_until_its_lease_expires(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    [article_id] = await seed_articles(db, SEEDS[:1])
    clock = FixedClock()
    async with app_context(make_settings(), clock) as ctx:
        async with db.session() as session:
            await session.execute(
                update(ArticleRow)
                .where(ArticleRow.id == article_id)
                .values(enrich_status="running", enrich_retry_at=NOW + timedelta(minutes=5))
            )
        assert (await enrich_pending(ctx)).enriched == 0
        await enrich_article(ctx, article_id)
        assert await enrichment_rows(db) == []
        clock.advance(timedelta(minutes=6))  # the other worker died: its lease expired
        assert (await enrich_pending(ctx)).enriched == 1

"""Full-article translation against the fake LLM: chunks in order, verification, partial, store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.context import AppContext
from bot.enrich.translate import NO_LLM_MESSAGE, Translator, make_translator
from bot.errors import CommandError
from bot.store.db import Database
from bot.store.schema import TranslationRow
from digest.text import split_paragraphs
from tests.enrich.conftest import Seed, app_context, seed_articles
from tests.fakes.llm_server import FakeLLM

PARAGRAPHS = [
    f"Paragraph {i}: the model release notes describe agents, tools and evaluation "
    f"results in some detail, with numbers such as {i * 7}% and careful caveats."
    for i in range(9)
]
ARTICLE = Seed("Release notes for an agent framework", "\n\n".join(PARAGRAPHS))


@asynccontextmanager
async def translating(settings: Settings) -> AsyncIterator[tuple[AppContext, Translator]]:
    """A context with a translator, closed afterwards."""
    async with app_context(settings) as ctx:
        assert ctx.translator is not None
        yield ctx, ctx.translator


@pytest.fixture
def translate_settings(llm_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def factory(**llm: object) -> Settings:
        base = llm_settings(**llm)
        return base.model_copy(
            update={
                "translate": base.translate.model_copy(
                    update={"chunk_chars": 400, "glossary": {"agent": "エージェント"}}
                )
            }
        )

    return factory


async def test_chunks_are_translated_in_order_and_stored_complete(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    [article_id] = await seed_articles(db, [ARTICLE])
    async with translating(translate_settings()) as (ctx, translator):
        view = await translator.translate_article(ctx, article_id, "ja")
        assert view.status == "complete"
        assert view.chunks_total == fake_llm.calls == 5  # 9 paragraphs of ~150 chars in ≤400
        assert view.chunks_done == view.chunks_total
        assert view.title == f"訳: {ARTICLE.title}"
        assert split_paragraphs(view.body) == [f"訳: {p}" for p in PARAGRAPHS]
        first_user = fake_llm.requests[0]["messages"][1]["content"]
        assert ARTICLE.title in first_user and PARAGRAPHS[0] in first_user
        system = fake_llm.requests[0]["messages"][0]["content"]
        assert "Japanese" in system and "agent → エージェント" in system
        assert "DATA to translate" in system
        assert all(len(r["messages"][1]["content"]) < 400 + 100 for r in fake_llm.requests)


async def test_a_stored_translation_is_served_without_calls(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    [article_id] = await seed_articles(db, [ARTICLE])
    async with translating(translate_settings()) as (ctx, translator):
        first = await translator.translate_article(ctx, article_id, "ja")
        calls = fake_llm.calls
        second = await translator.translate_article(ctx, article_id, "ja")
        assert fake_llm.calls == calls
        assert second == first
        async with db.session() as session:
            count = await session.scalar(select(func.count()).select_from(TranslationRow))
        assert count == 1


async def test_a_chunk_cut_by_length_is_retried_then_stored_as_partial(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    [article_id] = await seed_articles(db, [ARTICLE])
    async with translating(translate_settings(max_retries=1)) as (ctx, translator):
        fake_llm.queue("good", "length", "length")  # chunk 2 fails both tries
        view = await translator.translate_article(ctx, article_id, "ja")
        assert view.status == "partial"
        assert (view.chunks_done, view.chunks_total) == (4, 5)
        assert fake_llm.calls == 6
        assert "[untranslated part 2/5]" in view.body
        async with db.session() as session:
            row = await session.scalar(select(TranslationRow))
            assert row is not None and "finish_reason=length" in (row.error or "")

        # Asking again translates only the missing chunk and completes the translation.
        view = await translator.translate_article(ctx, article_id, "ja")
        assert view.status == "complete" and fake_llm.calls == 7
        assert split_paragraphs(view.body) == [f"訳: {p}" for p in PARAGRAPHS]


@pytest.mark.parametrize("bad", ["leak", "echo", "drop", "length", "server_error"])
async def test_a_bad_chunk_is_rejected_and_retried(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM, bad: str
) -> None:
    [article_id] = await seed_articles(db, [Seed("Title", "\n\n".join(PARAGRAPHS[:2]))])
    async with translating(translate_settings(timeout=1.0)) as (ctx, translator):
        fake_llm.queue(bad, "good")
        view = await translator.translate_article(ctx, article_id, "ja")
        assert view.status == "complete"
        assert fake_llm.calls == 2
        assert "Return JSON" not in view.body and '"translation"' not in view.body
        assert "Session marker" not in view.body
        assert len(split_paragraphs(view.body)) == 2


async def test_leaked_instructions_that_never_stop_leave_a_partial_never_complete(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    [article_id] = await seed_articles(db, [Seed("Title", "\n\n".join(PARAGRAPHS[:2]))])
    async with translating(translate_settings(max_retries=1)) as (ctx, translator):
        fake_llm.default_mode = "leak"
        view = await translator.translate_article(ctx, article_id, "ja")
        assert view.status == "failed"
        assert view.chunks_done == 0 and "Return JSON" not in view.body


async def test_an_article_already_in_the_language_costs_nothing(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    [article_id] = await seed_articles(db, [Seed("日本語の記事", "本文です。", lang="ja")])
    async with translating(translate_settings()) as (ctx, translator):
        view = await translator.translate_article(ctx, article_id, "ja")
        assert (view.status, view.title, view.body, fake_llm.calls) == (
            "complete",
            "日本語の記事",
            "本文です。",
            0,
        )


async def test_spent_budget_stops_translation_with_a_reason(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    [article_id] = await seed_articles(db, [ARTICLE])
    async with translating(translate_settings(daily_token_budget=0)) as (ctx, translator):
        view = await translator.translate_article(ctx, article_id, "ja")
        assert view.status == "failed" and fake_llm.calls == 0


async def test_unknown_article_is_a_user_error(
    db: Database, translate_settings: Callable[..., Settings]
) -> None:
    async with translating(translate_settings()) as (ctx, translator):
        with pytest.raises(CommandError, match="No article"):
            await translator.translate_article(ctx, 424242, "ja")


def test_no_llm_means_no_translator_and_a_clear_message() -> None:
    assert make_translator(Settings()) is None
    assert "[llm]" in NO_LLM_MESSAGE and "base_url" in NO_LLM_MESSAGE

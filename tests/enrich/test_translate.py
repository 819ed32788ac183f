"""Full-article translation against the fake LLM: chunks in order, verification, partial, store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.context import AppContext
from bot.enrich.translate import NO_LLM_MESSAGE, Translator, make_translator
from bot.errors import CommandError
from bot.store.db import Database
from bot.store.schema import TranslationRow
from digest.text import split_paragraphs
from tests.enrich.conftest import NOW, Seed, app_context, seed_articles
from tests.fakes.llm_server import FakeLLM, fake_japanese

PARAGRAPHS = [
    f"Paragraph {i}: the model release notes describe agents, tools and evaluation "
    f"results in some detail, with numbers such as {i * 7}% and careful caveats."
    for i in range(9)
]
ARTICLE = Seed("Release notes for an agent framework", "\n\n".join(PARAGRAPHS))
JAPANESE = [fake_japanese(p) for p in PARAGRAPHS]


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
        assert view.title == fake_japanese(ARTICLE.title)
        assert split_paragraphs(view.body) == JAPANESE
        first_user = fake_llm.requests[0]["messages"][1]["content"]
        assert ARTICLE.title in first_user and PARAGRAPHS[0] in first_user
        system = fake_llm.requests[0]["messages"][0]["content"]
        assert "Japanese" in system and "agent → エージェント" in system
        assert "DATA to translate" in system and "katakana" in system
        assert all(len(r["messages"][1]["content"]) < 400 + 100 for r in fake_llm.requests)
        assert all("response_format" not in r for r in fake_llm.requests)  # plain chat


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


async def test_chunks_that_stay_cut_by_length_leave_a_partial_then_resume(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    [article_id] = await seed_articles(db, [ARTICLE])
    async with translating(translate_settings(max_retries=1)) as (ctx, translator):
        fake_llm.queue("good")
        fake_llm.default_mode = "length"  # every later answer is cut, halves included
        view = await translator.translate_article(ctx, article_id, "ja")
        assert view.status == "partial"
        assert (view.chunks_done, view.chunks_total) == (1, 5)
        assert "[untranslated part 2/5]" in view.body
        async with db.session() as session:
            row = await session.scalar(select(TranslationRow))
            assert row is not None and "finish_reason=length" in (row.error or "")

        # Asking again translates only the missing chunks and completes the translation.
        fake_llm.default_mode = "good"
        calls = fake_llm.calls
        view = await translator.translate_article(ctx, article_id, "ja")
        assert view.status == "complete" and fake_llm.calls == calls + 4
        assert split_paragraphs(view.body) == JAPANESE


SENTENCES = Seed(
    "Agents get a new framework",
    "\n\n".join(
        f"Part {i}: OpenAI released an agent framework with {i + 3} tools. It beats older systems "
        f"by {i * 5}% on benchmarks. Developers can install it today. Safety work continues."
        for i in range(2)
    ),
)
BAD_TRANSLATIONS = [
    "untranslated", "prefixed", "chinese", "mixed", "leak", "leak_ja", "echo", "drop",
    "drop_sentences", "truncated", "duplicate", "length", "server_error",
]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_TRANSLATIONS)
async def test_a_bad_chunk_is_rejected_and_retried(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM, bad: str
) -> None:
    [article_id] = await seed_articles(db, [SENTENCES])
    async with translating(translate_settings(timeout=1.0)) as (ctx, translator):
        fake_llm.queue(bad, "good")
        view = await translator.translate_article(ctx, article_id, "ja")
        assert view.status == "complete"
        assert fake_llm.calls == 2 if bad != "length" else fake_llm.calls >= 2
        assert split_paragraphs(view.body) == split_paragraphs(fake_japanese(SENTENCES.content))


@pytest.mark.parametrize("bad", BAD_TRANSLATIONS[:-2])
async def test_a_model_that_keeps_failing_never_gets_stored_as_complete(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM, bad: str
) -> None:
    [article_id] = await seed_articles(db, [SENTENCES])
    async with translating(translate_settings(max_retries=1)) as (ctx, translator):
        fake_llm.default_mode = bad
        view = await translator.translate_article(ctx, article_id, "ja")
        assert view.status == "failed" and view.chunks_done == 0
        async with db.session() as session:
            row = await session.scalar(select(TranslationRow))
        assert row is not None and row.status == "failed" and row.chunks == [""]
        assert row.error and row.lease_owner is None


async def test_a_think_block_is_stripped_from_a_translation(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    [article_id] = await seed_articles(db, [SENTENCES])
    async with translating(translate_settings()) as (ctx, translator):
        fake_llm.queue("think")
        view = await translator.translate_article(ctx, article_id, "ja")
        assert view.status == "complete" and fake_llm.calls == 1
        assert "think" not in view.body and "The user wants" not in view.body


async def test_a_length_finish_splits_the_chunk_and_translates_the_halves(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    [article_id] = await seed_articles(db, [ARTICLE])
    async with translating(translate_settings()) as (ctx, translator):
        fake_llm.length_limit = 250  # the server's output budget: ~1.5 paragraphs per answer
        view = await translator.translate_article(ctx, article_id, "ja")
        assert view.status == "complete"
        assert split_paragraphs(view.body) == JAPANESE
        sources = [r["messages"][1]["content"] for r in fake_llm.requests]
        assert any(len(s) > 250 + 20 for s in sources)  # asked whole first, then halved
        assert fake_llm.calls > view.chunks_total


async def test_chunks_follow_the_output_budget(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    [article_id] = await seed_articles(db, [ARTICLE])
    async with translating(translate_settings(max_output_tokens=200)) as (ctx, translator):
        # 200 tokens of Japanese ≈ 200 characters ≈ 280 English characters at most, not 400.
        assert translator.chunk_chars("en", "ja") < 400
        view = await translator.translate_article(ctx, article_id, "ja")
        assert view.status == "complete" and view.chunks_total == 9


async def test_two_concurrent_translations_of_one_article_do_the_work_once(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    [article_id] = await seed_articles(db, [ARTICLE])
    settings = translate_settings()
    fake_llm.hold = asyncio.Event()
    async with translating(settings) as (ctx_a, first), translating(settings) as (ctx_b, second):
        task_a = asyncio.create_task(first.translate_article(ctx_a, article_id, "ja"))
        await fake_llm.arrived.wait()  # the first replica holds the lease and is calling the LLM
        task_b = asyncio.create_task(second.translate_article(ctx_b, article_id, "ja"))
        await second.lease_busy.wait()  # the second found the lease taken
        fake_llm.hold.set()
        view_a, view_b = await asyncio.gather(task_a, task_b)
    assert view_a == view_b and view_a.status == "complete"
    assert fake_llm.calls == view_a.chunks_total == 5
    assert not first.lease_busy.is_set()


async def test_leaked_instructions_that_never_stop_leave_a_partial_never_complete(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    [article_id] = await seed_articles(db, [Seed("Title", "\n\n".join(PARAGRAPHS[:2]))])
    async with translating(translate_settings(max_retries=1)) as (ctx, translator):
        fake_llm.default_mode = "leak"
        view = await translator.translate_article(ctx, article_id, "ja")
        assert view.status == "failed"
        assert view.chunks_done == 0 and "Return JSON" not in view.body
        assert fake_llm.calls == 2


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
    assert make_translator(Settings(), None) is None
    assert "[llm]" in NO_LLM_MESSAGE and "base_url" in NO_LLM_MESSAGE


async def test_a_translation_stored_complete_by_the_old_check_is_redone(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    """v1 stored "訳: <English>" as complete; it is demoted and translated again."""
    [article_id] = await seed_articles(db, [ARTICLE])
    async with db.session() as session:
        session.add(
            TranslationRow(
                article_id=article_id, lang="ja", title=f"訳: {ARTICLE.title}",
                body="\n\n".join(f"訳: {p}" for p in PARAGRAPHS), chunks=["訳: x"] * 5,
                chunks_total=5, chunks_done=5, model="fake-model", status="complete",
            )
        )  # fmt: skip
    async with translating(translate_settings()) as (ctx, translator):
        view = await translator.translate_article(ctx, article_id, "ja")
    assert view.status == "complete" and fake_llm.calls == 5
    assert split_paragraphs(view.body) == JAPANESE


async def test_an_expired_lease_of_a_crashed_translator_is_taken_over(
    db: Database, translate_settings: Callable[..., Settings], fake_llm: FakeLLM
) -> None:
    [article_id] = await seed_articles(db, [ARTICLE])
    async with db.session() as session:
        session.add(
            TranslationRow(
                article_id=article_id, lang="ja", status="pending", lease_owner="crashed",
                lease_until=NOW - timedelta(seconds=1),
            )
        )  # fmt: skip
    async with translating(translate_settings()) as (ctx, translator):
        view = await translator.translate_article(ctx, article_id, "ja")
    assert view.status == "complete" and not translator.lease_busy.is_set()
    async with db.session() as session:
        row = await session.scalar(select(TranslationRow))
    assert row is not None and row.lease_owner is None and row.lease_until is None

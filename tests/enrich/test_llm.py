"""The LLM engine against the fake OpenAI-compatible server: every fault the issue lists."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.enrich.budget import UsageLedger
from bot.enrich.llm import LLMEnricher, extract_json_object, parse_retry_after
from bot.enrich.llm_client import LLMClient
from bot.errors import LLMError
from bot.ports import EnrichmentInput
from bot.store.db import Database
from bot.store.schema import LLMUsage
from tests.enrich.conftest import ARTICLE_TEXT, INJECTION_TEXT, FixedClock, llm_section
from tests.fakes.llm_server import FakeLLM, fake_japanese, fake_japanese_sentence

ITEM = EnrichmentInput(
    article_id=7,
    title="OpenAI ships an open-source agent framework",
    content=ARTICLE_TEXT,
    url="https://example.com/a/7",
    source="Example",
    lang="en",
    source_count=2,
)


def llm_config(fake: FakeLLM, url: str, **llm: Any) -> Settings:
    return Settings.model_validate({"database": {"url": url}, "llm": llm_section(fake, **llm)})


@pytest.fixture
async def store(db: Database) -> Database:
    """The token ledger's store: SQLite, and PostgreSQL when configured (reservations are
    conditional UPDATEs whose atomicity is what keeps parallel calls within the budget)."""
    return db


@pytest.fixture
async def enricher_for(fake_llm: FakeLLM, sqlite_url: str, store: Database) -> AsyncIterator[Any]:
    made: list[LLMEnricher] = []

    def factory(
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, **llm: Any
    ) -> LLMEnricher:
        settings = llm_config(fake_llm, sqlite_url, **llm)
        assert settings.llm is not None
        clock = FixedClock()
        client = LLMClient(
            settings.llm,
            ledger=UsageLedger(store, settings.llm),
            clock=clock,
            backoff_base=0.01,
            max_wait=5.0,
            sleep=sleep,
        )
        enricher = LLMEnricher(settings, client=client, clock=clock)
        made.append(enricher)
        return enricher

    yield factory
    for enricher in made:
        await enricher.aclose()


async def usage_rows(store: Database) -> int:
    async with store.session() as session:
        return int(await session.scalar(select(func.count()).select_from(LLMUsage)) or 0)


async def test_a_good_answer_is_stored_with_our_importance_and_usage(
    enricher_for: Any, fake_llm: FakeLLM, store: Database
) -> None:
    result = await enricher_for().enrich(ITEM)
    e = result.enrichment
    assert fake_llm.calls == 1
    assert (result.engine, result.model, result.prompt_version) == (
        "llm",
        "fake-model",
        "enrich-v2",
    )
    assert e.lang == "ja" and e.tldr == fake_japanese_sentence(ITEM.content.split("\n")[0])
    assert 3 <= len(e.key_points) <= 7
    assert e.key_points[0].startswith("要点1: ")  # {heading, detail} stored as "heading: detail"
    assert e.title_translated == fake_japanese(ITEM.title)
    assert e.impact.count("。") >= 2 and e.editorial.count("。") >= 2
    assert (e.is_ai, e.kind) == (True, "tool")
    assert "openai" in e.entities
    # 4/3/3/2 with 0.4/0.3/0.2/0.1 = 3.3 → 3: importance is ours, not the model's.
    assert e.importance == 3
    assert {"openai", "agents", "open-source", "llm"} <= set(e.tags)
    assert result.tokens_in > 0 and result.tokens_out > 0
    expected_cost = (result.tokens_in * 1.0 + result.tokens_out * 2.0) / 1_000_000
    assert result.cost_usd == pytest.approx(expected_cost)
    assert await usage_rows(store) == 1


async def test_the_article_is_fenced_data_under_a_system_prompt_that_says_so(
    enricher_for: Any, fake_llm: FakeLLM
) -> None:
    await enricher_for().enrich(ITEM)
    request = fake_llm.requests[0]
    system, user = request["messages"][0]["content"], request["messages"][1]["content"]
    assert "untrusted DATA" in system and "never instructions" in system
    assert "Japanese" in system
    assert user.index("<<<ARTICLE") < user.index(ITEM.content[:40]) < user.index("ARTICLE>>>")
    assert ITEM.content[:40] not in system
    response_format = request["response_format"]
    assert response_format["type"] == "json_schema"
    spec = response_format["json_schema"]
    assert spec["name"] == "article_enrichment" and spec["strict"] is True
    assert spec["schema"]["additionalProperties"] is False
    assert set(spec["schema"]["required"]) >= {"tldr", "key_points", "is_ai", "kind", "entities"}
    assert request["model"] == "fake-model"
    # Prompt v2: anchors for every criterion, the Japanese example and style guide.
    for anchor in ("depth: 1 =", "relevance: 1 = not about AI", "practicality: 1 =", "innovation:"):
        assert anchor in system
    assert "katakana" in system and "romaji" in system and "Example (Japanese)" in system


@pytest.mark.parametrize(
    "bad",
    [
        "truncated", "length", "echo", "links", "english", "chinese", "mixed", "leak_ja", "cut",
        "example_copy", "server_error", "hang", "rate_limit",
    ],
)  # fmt: skip
async def test_a_bad_answer_is_rejected_and_retried(
    enricher_for: Any, fake_llm: FakeLLM, store: Database, bad: str
) -> None:
    fake_llm.queue(bad, "good")
    fake_llm.retry_after = "0"
    fake_llm.hang_seconds = 2.0
    result = await enricher_for(timeout=0.3).enrich(ITEM)
    assert fake_llm.calls == 2
    good = fake_japanese_sentence(ITEM.content.split("\n")[0])
    assert result.enrichment.tldr == good
    assert "必ず" not in result.enrichment.editorial
    if bad not in ("server_error", "hang", "rate_limit"):
        assert result.note == "accepted after 1 rejected answer(s)"
        assert await usage_rows(store) == 2  # rejected answers cost tokens too


@pytest.mark.parametrize("wrapped", ["prose", "fenced", "think"])
async def test_json_wrapped_in_prose_or_a_fence_is_repaired(
    enricher_for: Any, fake_llm: FakeLLM, wrapped: str
) -> None:
    fake_llm.queue(wrapped)
    result = await enricher_for().enrich(ITEM)
    assert fake_llm.calls == 1
    assert result.note == ""


async def test_out_of_range_scores_are_clamped(enricher_for: Any, fake_llm: FakeLLM) -> None:
    fake_llm.queue("out_of_range")
    scores = (await enricher_for().enrich(ITEM)).enrichment.scores
    assert [scores.depth.score, scores.relevance.score] == [5, 1]
    assert [scores.practicality.score, scores.innovation.score] == [1, 5]


async def test_mentions_in_the_output_are_defused(enricher_for: Any, fake_llm: FakeLLM) -> None:
    fake_llm.queue("mentions")
    tldr = (await enricher_for().enrich(ITEM)).enrichment.tldr
    assert "@everyone" not in tldr and "<!channel>" not in tldr and "<@U123>" not in tldr


async def test_retries_are_bounded_and_the_error_says_why(
    enricher_for: Any, fake_llm: FakeLLM, store: Database
) -> None:
    fake_llm.default_mode = "length"
    with pytest.raises(LLMError, match="rejected 3 time"):
        await enricher_for(max_retries=2).enrich(ITEM)
    assert fake_llm.calls == 3
    assert await usage_rows(store) == 3


async def test_retry_after_is_honoured(enricher_for: Any, fake_llm: FakeLLM) -> None:
    fake_llm.queue("rate_limit")
    fake_llm.retry_after = "4.5"  # under max_wait (5 s): waited, then retried
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)  # the wait the client asked for, not spent

    await enricher_for(sleep=sleep).enrich(ITEM)
    assert waits == [4.5]  # Retry-After, not the 0.01 s backoff
    assert fake_llm.calls == 2


async def test_a_long_retry_after_is_handed_back_instead_of_slept(
    enricher_for: Any, fake_llm: FakeLLM
) -> None:
    fake_llm.default_mode = "rate_limit"
    fake_llm.retry_after = "3600"
    with pytest.raises(LLMError) as caught:
        await enricher_for().enrich(ITEM)
    # handed back, not slept: one call, and the hint travels with the error
    assert caught.value.retry_after == 3600
    assert fake_llm.calls == 1


async def test_a_hanging_endpoint_times_out_within_bounds(
    enricher_for: Any, fake_llm: FakeLLM
) -> None:
    fake_llm.default_mode = "hang"
    fake_llm.hang_seconds = 5
    with pytest.raises(LLMError, match="timed out"):
        await enricher_for(timeout=0.2, max_retries=1).enrich(ITEM)
    # each call was cut by the client's timeout: the fake would hang for 5 s, then answer
    assert fake_llm.calls == 2


async def test_spent_budget_falls_back_to_offline_and_says_so(
    enricher_for: Any, fake_llm: FakeLLM, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    result = await enricher_for(daily_token_budget=0).enrich(ITEM)
    assert fake_llm.calls == 0
    assert result.engine == "offline"
    assert "daily LLM token budget of 0 tokens is spent" in result.note
    assert "budget" in caplog.text
    assert result.enrichment.impact == ""


async def used_tokens(store: Database) -> int:
    async with store.session() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(LLMUsage.tokens_in + LLMUsage.tokens_out), 0))
        )
    return int(total or 0)


async def test_the_budget_is_reserved_before_each_call_so_it_is_never_passed(
    enricher_for: Any, fake_llm: FakeLLM, store: Database
) -> None:
    budget = 12_000
    enricher = enricher_for(daily_token_budget=budget)
    engines = [(await enricher.enrich(ITEM)).engine for _ in range(16)]
    assert "llm" in engines and engines[-1] == "offline"
    assert engines == sorted(engines)  # once spent, it stays spent today
    used = await used_tokens(store)
    assert 0 < used <= budget
    assert await UsageLedger(store, enricher._llm).spent_today(FixedClock().now()) == used


@pytest.mark.parametrize("replicas", [1, 2])
async def test_parallel_articles_and_retries_never_exceed_the_budget(
    enricher_for: Any, fake_llm: FakeLLM, store: Database, replicas: int
) -> None:
    budget = 25_000
    # Every other answer is rejected, so articles retry while others run in parallel.
    fake_llm.queue(*(["english", "good"] * 40))
    enrichers = [
        enricher_for(daily_token_budget=budget, max_concurrency=4) for _ in range(replicas)
    ]
    items = [
        EnrichmentInput(
            article_id=100 + i,
            title=f"Article {i}: OpenAI ships Agents-{i}",
            content=ARTICLE_TEXT,
            url=f"https://example.com/a/{i}",
            source="Example",
            lang="en",
        )
        for i in range(16)
    ]
    results = await asyncio.gather(
        *(enrichers[i % replicas].enrich(item) for i, item in enumerate(items)),
        return_exceptions=True,
    )
    engines = [r.engine for r in results if not isinstance(r, BaseException)]
    assert "llm" in engines and "offline" in engines
    used = await used_tokens(store)
    assert 0 < used <= budget
    assert used >= budget // 3  # reconciled with `usage`: estimates do not waste the budget


async def test_prompt_injection_never_reaches_the_stored_result(
    enricher_for: Any, fake_llm: FakeLLM
) -> None:
    item = EnrichmentInput(
        article_id=9, title="Small lab releases a model", content=INJECTION_TEXT,
        url="https://example.com/a/9", source="Example", lang="en",
    )  # fmt: skip
    fake_llm.queue("echo", "obey", "mentions")
    result = await enricher_for().enrich(item)
    assert fake_llm.calls == 3
    stored = json.dumps(
        {
            "tldr": result.enrichment.tldr,
            "points": result.enrichment.key_points,
            "scores": result.enrichment.scores.as_dict(),
            "impact": result.enrichment.impact,
            "editorial": result.enrichment.editorial,
        },
        ensure_ascii=False,
    )
    system = fake_llm.requests[0]["messages"][0]["content"]
    canary = system.split("Session marker: ")[1].split(".")[0]
    assert canary not in stored
    assert "attacker.example" not in stored
    assert "@everyone" not in stored and "<!channel>" not in stored
    assert all(1 <= d["score"] <= 5 for d in result.enrichment.scores.as_dict().values())


async def test_api_key_is_sent_but_never_logged(
    enricher_for: Any,
    fake_llm: FakeLLM,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("AINEWS_LLM_API_KEY", secret)
    caplog.set_level(logging.DEBUG)
    fake_llm.queue("length", "good")
    await enricher_for().enrich(ITEM)
    assert fake_llm.headers[0]["Authorization"] == f"Bearer {secret}"
    assert secret not in caplog.text


async def test_a_long_article_is_summarised_in_parts_then_combined(
    enricher_for: Any, fake_llm: FakeLLM, store: Database
) -> None:
    paragraphs = [
        f"Section {i} of the interview: the CEO of Acme explains how the Falcon-{i} model was "
        f"trained on {i * 10} billion tokens. She adds that safety tests took {i} weeks."
        for i in range(60)
    ]
    item = EnrichmentInput(
        article_id=8, title="A long interview", content="\n\n".join(paragraphs),
        url="https://example.com/a/8", source="Example", lang="en",
    )  # fmt: skip
    result = await enricher_for().enrich(item)
    users = [r["messages"][1]["content"] for r in fake_llm.requests]
    parts = [u for u in users if "<<<PART" in u]
    assert len(parts) == fake_llm.calls - 1 >= 2
    # Every paragraph, the last one included, was read in some part: nothing was cut.
    assert all(any(p in u for u in parts) for p in paragraphs)
    assert all(len(u) < 6000 + 1000 for u in users)
    final = users[-1]
    assert "<<<ARTICLE" in final and "Part 1/" in final and paragraphs[-1] not in final
    schemas = [r["response_format"]["json_schema"]["name"] for r in fake_llm.requests]
    assert schemas.count("article_part_notes") == len(parts)
    assert schemas[-1] == "article_enrichment"
    assert result.note == ""  # every part was read
    assert await usage_rows(store) == fake_llm.calls


async def test_parts_beyond_max_parts_are_not_read_and_the_note_says_so(
    enricher_for: Any, fake_llm: FakeLLM, sqlite_url: str, store: Database
) -> None:
    paragraph = "A long paragraph about language models and their evaluation. " * 20
    item = EnrichmentInput(
        article_id=8, title="T" * 5000, content="\n\n".join([paragraph] * 200),
        url="https://example.com/a/8", source="Example", lang="en",
    )  # fmt: skip
    settings = Settings.model_validate(
        {
            "database": {"url": sqlite_url},
            "enrich": {"max_parts": 3},
            "llm": llm_section(fake_llm),
        }
    )
    assert settings.llm is not None
    client = LLMClient(settings.llm, ledger=UsageLedger(store, settings.llm), clock=FixedClock())
    enricher = LLMEnricher(settings, client=client, clock=FixedClock())
    try:
        result = await enricher.enrich(item)
    finally:
        await enricher.aclose()
    assert fake_llm.calls == 4
    assert "summarised from the first 3 of" in result.note
    assert all(len(r["messages"][1]["content"]) < 7000 for r in fake_llm.requests)


async def test_a_non_ai_item_is_capped_at_rubric_non_ai_max(
    enricher_for: Any, fake_llm: FakeLLM
) -> None:
    """Both engines share `[rubric] non_ai_max` (default 1, EDITORIAL.md's level for non-AI)."""
    fake_llm.queue("non_ai")
    e = (await enricher_for().enrich(ITEM)).enrichment
    assert e.scores.depth.score == 5 and e.scores.relevance.score == 5
    assert (e.is_ai, e.kind, e.importance) == (False, "news", 1)


async def test_a_server_refusing_json_schema_falls_back_and_is_remembered(
    enricher_for: Any, fake_llm: FakeLLM, store: Database
) -> None:
    fake_llm.formats = frozenset({"json_object"})
    enricher = enricher_for()
    first = await enricher.enrich(ITEM)
    assert fake_llm.refused_formats == ["json_schema"]
    assert [r["response_format"]["type"] for r in fake_llm.requests] == [
        "json_schema",
        "json_object",
    ]
    await enricher.enrich(ITEM)
    # The next call starts with the mode that worked: no second refusal.
    assert fake_llm.refused_formats == ["json_schema"]
    assert fake_llm.requests[-1]["response_format"] == {"type": "json_object"}
    assert first.enrichment.tldr and await usage_rows(store) == 2  # the refusal cost nothing


async def test_a_server_without_any_json_mode_gets_plain_chat_and_fenced_json_is_read(
    enricher_for: Any, fake_llm: FakeLLM
) -> None:
    fake_llm.formats = frozenset()
    enricher = enricher_for()
    result = await enricher.enrich(ITEM)
    assert fake_llm.refused_formats == ["json_schema", "json_object"]
    assert "response_format" not in fake_llm.requests[-1]
    assert result.enrichment.tldr == fake_japanese_sentence(ITEM.content.split("\n")[0])
    await enricher.enrich(ITEM)
    assert "response_format" not in fake_llm.requests[-1]
    assert len(fake_llm.refused_formats) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('Here you go: {"a": {"b": 2}} thanks', {"a": {"b": 2}}),
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('[1, 2] then {"a": 3}', {"a": 3}),
    ],
)
def test_extract_json_object(text: str, expected: dict[str, Any]) -> None:
    assert extract_json_object(text) == expected


@pytest.mark.parametrize("text", ['{"a": 1', "no json at all", "[1, 2]"])
def test_extract_json_object_refuses(text: str) -> None:
    with pytest.raises(Exception, match="not valid JSON"):
        extract_json_object(text)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("nan", None),
        (None, None),
        ("soon", None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_parse_retry_after_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after("Sat, 28 Nov 2026 09:01:00 GMT", now=now) == 60.0

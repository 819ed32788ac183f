"""Enrichment benchmark: offline engine throughput on the real corpus, LLM calls and tokens per
article against the fake OpenAI-compatible server (loopback only).

Run: .venv/bin/python bench/enrich.py   — prints the figures and appends them to bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.config import Settings  # noqa: E402
from bot.context import build_context  # noqa: E402
from bot.enrich.offline import OfflineEnricher  # noqa: E402
from bot.enrich.pipeline import enrich_pending  # noqa: E402
from bot.ports import EnrichmentInput  # noqa: E402
from bot.store.db import Database, upgrade_sync  # noqa: E402
from bot.store.schema import ArticleRow, Source  # noqa: E402
from digest.text import split_sentences, tokens  # noqa: E402
from tests.enrich.conftest import feed_articles  # noqa: E402
from tests.fakes.llm_server import running_fake_llm  # noqa: E402

CORPUS = REPO.parent / "shared" / "fixtures" / "feeds" / "real"
RESULTS = REPO / "bench" / "RESULTS.md"
LLM_ARTICLES = 60
TRANSLATED_ARTICLES = 8


def load_corpus() -> list[EnrichmentInput]:
    items: list[EnrichmentInput] = []
    for path in sorted(CORPUS.iterdir()):
        for seed in feed_articles(path):
            items.append(
                EnrichmentInput(
                    article_id=len(items) + 1,
                    title=seed.title,
                    content=seed.content,
                    url=seed.url,
                    source=path.name,
                    lang=seed.lang,
                )
            )
    return items


def best_of(runs: int, work: object) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    return min(timings)


def offline_figures(items: list[EnrichmentInput]) -> dict[str, float]:
    enricher = OfflineEnricher(Settings())

    def baseline() -> None:
        for item in items:
            for sentence in split_sentences(item.content):
                tokens(sentence)

    def offline() -> None:
        for item in items:
            enricher.enrich_now(item)

    base = best_of(3, baseline)
    full = best_of(3, offline)
    return {
        "articles": len(items),
        "baseline_per_s": len(items) / base,
        "offline_per_s": len(items) / full,
        "ratio": full / base,
    }


async def seed(url: str, items: list[EnrichmentInput]) -> None:
    db = Database(url)
    now = datetime.now(UTC)
    async with db.session() as session:
        source = Source(name="bench", url="https://example.com/bench/feed")
        session.add(source)
        await session.flush()
        for index, item in enumerate(items):
            session.add(
                ArticleRow(
                    source_id=source.id,
                    identity=f"bench-{index}",
                    url=item.url or f"https://example.com/{index}",
                    title=item.title,
                    content=item.content,
                    published_at=now - timedelta(minutes=index),
                    content_hash=hashlib.sha256(item.content.encode()).hexdigest(),
                )
            )
    await db.dispose()


async def pipeline_figures(items: list[EnrichmentInput], workdir: Path) -> dict[str, float]:
    """The whole offline pipeline through SQLite: select, claim, enrich, store."""
    url = f"sqlite:///{workdir / 'offline.db'}"
    upgrade_sync(url)
    await seed(url, items)
    ctx = await build_context(Settings.model_validate({"database": {"url": url}}), upgrade=False)
    try:
        started = time.perf_counter()
        first = await enrich_pending(ctx)
        elapsed = time.perf_counter() - started
        started = time.perf_counter()
        second = await enrich_pending(ctx)
        again = time.perf_counter() - started
    finally:
        await ctx.aclose()
    return {
        "enriched": first.enriched,
        "per_s": first.enriched / elapsed,
        "second_enriched": second.enriched,
        "second_s": again,
    }


async def llm_figures(items: list[EnrichmentInput], workdir: Path) -> dict[str, float]:
    url = f"sqlite:///{workdir / 'llm.db'}"
    upgrade_sync(url)
    chosen = [item for item in items if len(item.content) > 1500][:LLM_ARTICLES]
    await seed(url, chosen)
    async with running_fake_llm() as fake:
        settings = Settings.model_validate(
            {
                "database": {"url": url},
                "llm": {"base_url": fake.base_url, "model": "fake-model", "timeout": 5.0},
                "translate": {"chunk_chars": 1500},
            }
        )
        ctx = await build_context(settings, upgrade=False)
        try:
            started = time.perf_counter()
            first = await enrich_pending(ctx)
            elapsed = time.perf_counter() - started
            first_calls = fake.calls
            tokens_in = sum(len(m["content"]) for r in fake.requests for m in r["messages"]) // 4
            await enrich_pending(ctx)
            second_calls = fake.calls - first_calls
            assert ctx.translator is not None
            before = fake.calls
            chunks = 0
            for article_id in range(1, TRANSLATED_ARTICLES + 1):
                view = await ctx.translator.translate_article(ctx, article_id, "ja")
                chunks += view.chunks_total
            translate_calls = fake.calls - before
            for article_id in range(1, TRANSLATED_ARTICLES + 1):
                await ctx.translator.translate_article(ctx, article_id, "ja")
            repeat_calls = fake.calls - before - translate_calls
        finally:
            await ctx.aclose()
    return {
        "articles": len(chosen),
        "enriched": first.enriched,
        "calls_first": first_calls,
        "calls_per_article": first_calls / max(1, first.enriched),
        "prompt_tokens_per_article": tokens_in / max(1, first.enriched),
        "calls_second": second_calls,
        "per_s": first.enriched / elapsed,
        "translated": TRANSLATED_ARTICLES,
        "chunks": chunks,
        "translate_calls": translate_calls,
        "translate_repeat_calls": repeat_calls,
    }


def report(offline: dict[str, float], pipe: dict[str, float], llm: dict[str, float]) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            f"## Enrichment ({stamp})",
            "",
            "`.venv/bin/python bench/enrich.py` — real corpus `fixtures/feeds/real` "
            f"({offline['articles']:.0f} articles), fake LLM on 127.0.0.1.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| baseline: sentence split + tokenise only | {offline['baseline_per_s']:,.0f} "
            "articles/s |",
            f"| offline engine (summary, key points, tags, rubric) | "
            f"{offline['offline_per_s']:,.0f} articles/s ({offline['ratio']:.1f}× the baseline's "
            "cost) |",
            f"| offline pipeline incl. SQLite select/claim/store | {pipe['per_s']:,.0f} articles/s "
            f"({pipe['enriched']:.0f} enriched) |",
            f"| second pipeline run | {pipe['second_enriched']:.0f} enriched in "
            f"{pipe['second_s'] * 1000:.0f} ms |",
            f"| LLM: calls per enriched article (first run) | {llm['calls_per_article']:.2f} "
            f"({llm['calls_first']:.0f} calls / {llm['enriched']:.0f} articles) |",
            f"| LLM: prompt tokens per article (~4 chars/token) | "
            f"{llm['prompt_tokens_per_article']:,.0f} |",
            f"| LLM: calls on the second run | {llm['calls_second']:.0f} |",
            f"| translation: calls vs chunks ({llm['translated']:.0f} articles) | "
            f"{llm['translate_calls']:.0f} calls for {llm['chunks']:.0f} chunks; "
            f"{llm['translate_repeat_calls']:.0f} calls when asked again |",
            "",
        ]
    )


async def main() -> None:
    items = load_corpus()
    offline = offline_figures(items)
    with tempfile.TemporaryDirectory() as tmp:
        pipe = await pipeline_figures(items, Path(tmp))
        llm = await llm_figures(items, Path(tmp))
    section = report(offline, pipe, llm)
    print(section)
    existing = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    RESULTS.write_text(existing.rstrip("\n") + "\n\n" + section, encoding="utf-8")


if __name__ == "__main__":
    asyncio.run(main())

"""The process pool for CPU-bound work: results and errors cross the process boundary intact,
and the offline enricher gives the same answer in a worker as inline."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from bot.cpu import cpu_pool_running, run_cpu, start_cpu_pool, stop_cpu_pool
from bot.enrich.offline import OfflineEnricher
from bot.ports import EnrichmentInput


def _worker_pid() -> int:
    return os.getpid()


def _niceness() -> int:
    return os.nice(0)


def _fails(message: str) -> None:
    raise ValueError(message)


@pytest.fixture
async def pool() -> AsyncIterator[None]:
    start_cpu_pool(workers=1)
    yield
    await stop_cpu_pool()


async def test_inline_without_a_pool() -> None:
    assert not cpu_pool_running()
    assert await run_cpu(_worker_pid) == os.getpid()


async def test_work_runs_in_another_process_and_errors_come_back(pool: None) -> None:
    assert cpu_pool_running()
    assert await run_cpu(_worker_pid) != os.getpid()
    with pytest.raises(ValueError, match="bad feed"):
        await run_cpu(_fails, "bad feed")


async def test_offline_enrichment_is_the_same_in_the_pool(pool: None) -> None:
    enricher = OfflineEnricher(Settings())
    item = EnrichmentInput(
        article_id=1,
        title="Open weights model beats benchmarks",
        content=(
            "A new open weights language model beats larger models on reasoning benchmarks. "
            "The weights and the training code are released under a permissive licence. "
            "Researchers say the method is simple and cheap to reproduce."
        ),
        url="https://news.example/open-weights",
        source="Example Wire",
        lang="en",
    )
    assert await run_cpu(enricher.enrich_now, item) == enricher.enrich_now(item)


def _die() -> None:
    os._exit(3)  # a worker killed mid-task (out of memory, kill -9)


async def test_a_dead_worker_is_replaced(pool: None) -> None:
    from concurrent.futures.process import BrokenProcessPool

    with pytest.raises(BrokenProcessPool):
        await run_cpu(_die)
    assert await run_cpu(_worker_pid) != os.getpid()  # the next call runs in a new pool


async def test_page_extraction_runs_in_the_pool(pool: None) -> None:
    from bot.ingest.extract import extract_page

    paragraphs = "".join(
        f"<p>Paragraph {n}: the model was trained on public data and evaluated on reasoning.</p>"
        for n in range(12)
    )
    html = f"<html><head><title>Open model</title></head><body><article>{paragraphs}</article>"
    page = await extract_page(f"{html}</body></html>".encode(), "https://news.example/a")
    assert "Paragraph 11" in page.text


async def test_workers_run_below_the_event_loops_priority(pool: None) -> None:
    """Parsing and enrichment must not queue the loop that acknowledges Slack and Discord."""
    assert await run_cpu(_niceness) > os.nice(0)


async def test_ingest_workers_run_below_the_parents_priority(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.ingest import workers

    monkeypatch.setenv("AINEWS_INGEST_WORKERS", "1")
    workers.shutdown_pool()
    try:
        assert await workers.run_cpu(_niceness) > os.nice(0)
    finally:
        workers.shutdown_pool()

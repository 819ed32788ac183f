"""Slow commands with the real pipeline: on-demand fetch + enrichment, and LLM translation.

The page comes from the loopback feed server, the translation from the fake OpenAI-compatible
server; both are acknowledged at once and answered as follow-ups.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.commands.seeding import add_article, add_source
from tests.fakes.feed_server import FeedServer
from tests.fakes.llm_server import FakeLLM, running_fake_llm
from tests.fakes.slack_api import text_objects
from tests.slack.conftest import NOW, SlashDriver


@pytest.fixture
async def pages(fixtures_dir: Path) -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeLLM]:
    async with running_fake_llm() as fake:
        yield fake


async def test_summary_of_unknown_url_fetches_and_enriches_on_demand(
    slack: SlashDriver, pages: FeedServer, fixtures_dir: Path
) -> None:
    html = (fixtures_dir / "html" / "readability_ars-1_source.html").read_bytes()
    url = pages.body("/2026/ars-article.html", html, {"Content-Type": "text/html; charset=utf-8"})
    response = await slack.post(slack.body(f"summary {url}"))
    assert response.status_code == 200
    assert json.loads(response.text)["text"] == "Working on it…"
    assert slack.last_ack_seconds < 1.0
    await slack.wait_for(lambda: bool(slack.fake.posts()), timeout=20)
    answer = slack.fake.posts()[-1]
    assert answer.params["response_type"] == "in_channel"
    text = "\n".join(text_objects(answer.params["blocks"]))
    assert "Not scored yet" not in text  # the offline engine enriched it before answering
    assert " of 5*" in text and "TL;DR" in text
    assert len(pages.requests) >= 1


async def test_translate_posts_a_thread_with_honest_status(
    slack_app_factory: Any, fake_llm: FakeLLM
) -> None:
    driver: SlashDriver = await slack_app_factory(
        llm={"base_url": fake_llm.base_url, "model": "fake-model", "timeout": 5.0},
        translate={"chunk_chars": 2000},
    )
    source = await add_source(driver.ctx.db, "Wire")
    paragraphs = [
        " ".join(f"Paragraph {p} sentence {s} explains the model." for s in range(12))
        for p in range(40)
    ]
    article_id = await add_article(
        driver.ctx.db, source, "A long model report", NOW - timedelta(hours=1),
        content="\n\n".join(paragraphs),
    )  # fmt: skip
    response = await driver.post(driver.body(f"translate {article_id} ja"))
    assert json.loads(response.text)["text"] == "Working on it…"
    assert driver.last_ack_seconds < 1.0
    await driver.wait_for(lambda: len(driver.fake.posts()) >= 2, timeout=30)
    await driver.settle(0.5)
    posts = driver.fake.posts()
    assert {c.method for c in posts} == {"chat.postMessage"}
    first = posts[0]
    assert all(c.params.get("thread_ts") == first.ts for c in posts[1:])
    shown = "\n".join(t for c in posts for t in text_objects(c.params["blocks"]))
    assert "訳: Paragraph 0 sentence 0" in shown
    assert "訳: Paragraph 39 sentence 0" in shown and "Paragraph 39 sentence 11" in shown
    assert "Translation (Japanese): Translation complete" in shown
    assert driver.fake.rejected() == []
    assert fake_llm.calls >= 2

"""Slow commands with the real pipeline: on-demand fetch + enrichment, and LLM translation.

The page comes from the loopback feed server, the translation from the fake OpenAI-compatible
server; both are acknowledged at once and answered as follow-ups.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.commands.seeding import add_article, add_source
from tests.fakes.feed_server import FeedServer
from tests.fakes.llm_server import FakeLLM, fake_japanese, running_fake_llm
from tests.fakes.slack_api import text_objects
from tests.fakes.store_seed import FakeClock
from tests.slack.conftest import CHANNEL, NOW, SlashDriver


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
    assert slack.posts_at_ack == 0  # acknowledged before any answer was posted
    await slack.answered()
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
    assert driver.posts_at_ack == 0  # acknowledged before any answer was posted
    await driver.answered()
    posts = driver.fake.posts()
    assert {c.method for c in posts} == {"chat.postMessage"}
    first = posts[0]
    assert all(c.params.get("thread_ts") == first.ts for c in posts[1:])
    shown = "\n".join(t for c in posts for t in text_objects(c.params["blocks"]))
    assert fake_japanese(paragraphs[0]).split("。")[0] in shown  # first sentence and last
    assert fake_japanese(paragraphs[-1]).split("。")[-2] in shown
    assert "Translation (Japanese): Translation complete" in shown
    assert driver.fake.rejected() == []
    assert fake_llm.calls >= 2


async def _short_translation(driver: SlashDriver) -> int:
    source = await add_source(driver.ctx.db, "Wire")
    return await add_article(
        driver.ctx.db, source, "A short model note", NOW - timedelta(hours=1),
        content="The lab released a model that plans before it answers. It is free to try.",
    )  # fmt: skip


@pytest.mark.parametrize("expiry", ["clock", "server"])
async def test_a_translation_that_outlives_the_response_url_is_posted_with_the_bot_token(
    slack_app_factory: Any, fake_llm: FakeLLM, expiry: str
) -> None:
    clock = FakeClock(NOW)
    driver: SlashDriver = await slack_app_factory(
        clock=clock, llm={"base_url": fake_llm.base_url, "model": "fake-model", "timeout": 5.0}
    )
    article_id = await _short_translation(driver)
    fake_llm.hold = asyncio.Event()
    response = await driver.post(driver.body(f"translate {article_id} ja"))
    assert json.loads(response.text)["text"] == "Working on it…"
    await fake_llm.arrived.wait()  # the translation is running
    if expiry == "clock":
        clock.advance(minutes=31)  # ainews knows the response_url is gone and does not try it
    else:
        driver.fake.expire_response_urls()  # Slack refuses it (404) and ainews falls back
    fake_llm.hold.set()
    await driver.wait_for(lambda: bool(driver.fake.accepted("chat.postMessage")), timeout=20)
    [post] = driver.fake.accepted("chat.postMessage")
    assert post.params["channel"] == CHANNEL
    shown = "\n".join(text_objects(post.params["blocks"]))
    assert (
        fake_japanese("The lab released a model that plans before it answers.").split("。")[0]
        in shown
    )
    assert driver.fake.accepted("response_url") == []
    refused = [c for c in driver.fake.calls if c.method == "response_url"]
    assert len(refused) == (0 if expiry == "clock" else 1)

"""First run from the terminal: the sample corpus loaded into the configured store, and one
summary line per fetch round instead of a warning per failing source."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from adapters.i18n import translator
from bot.config import Settings
from bot.context import build_context
from bot.ingest.poll import sync_sources
from bot.jobs import Jobs
from bot.messages import Msg
from tests.cli.conftest import in_thread
from tests.fakes.feed_server import FeedServer


async def test_demo_into_store_then_digest_today(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "real.db"}"\n', encoding="utf-8")
    loaded = await in_thread("demo", "--into-store", "--config", str(config), "--format", "json")
    assert loaded.code == 0, loaded.err
    digest = await in_thread("digest", "today", "--format", "json", "--config", str(config))
    assert digest.code == 0, digest.err
    assert len(json.loads(digest.out)["items"]) > 0  # the same store, not a temporary one
    listed = await in_thread("sources", "list", "--json", "--config", str(config))
    assert json.loads(listed.out) == []  # sample sources are stored but never polled


async def test_a_fetch_round_is_one_line(
    feed_server: FeedServer, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(
        sources=[
            {"name": f"Broken {n}", "url": feed_server.status(f"/broken{n}", 500)} for n in range(5)
        ]
        + [{"name": "Colah", "url": feed_server.feed_url("real/colah_rss.xml")}],
        fetch={"full_text": False},
    )
    ctx = await build_context(settings, upgrade=False)
    try:
        await sync_sources(ctx.db, settings)
        jobs = Jobs(ctx, {})
        lines: list[Msg] = []
        jobs.announce = lines.append
        await jobs.poll()
        await jobs.poll()  # nothing due: nothing printed
    finally:
        await ctx.aclose()
    assert len(lines) == 1
    english, japanese = translator("en").render(lines[0]), translator("ja").render(lines[0])
    assert english.startswith("fetched 6 sources: 1 ok, 0 unchanged, 5 failing; ")
    assert "new articles" in english and "/sources" in english
    assert japanese.startswith("6件のソースを取得: 成功1・変更なし0・失敗5、新着記事")
    assert "/sources" in japanese

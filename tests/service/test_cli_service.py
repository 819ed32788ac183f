"""`ainews demo`, `digest --format json`, `run --once` and `run`, mostly as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from adapters.i18n import translator
from bot.demo import SAMPLE_FEEDS, rewrite_dates, sample_bytes, today_mapper
from bot.store.db import Database
from tests.fakes.store_seed import add_channel, add_source, add_story

REPO = Path(__file__).resolve().parents[2]
AINEWS = [sys.executable, "-m", "adapters.main"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.pop("AINEWS_CONFIG", None)
    env.pop("AINEWS_DATABASE_URL", None)
    env["NO_PROXY"] = "*"
    return env


async def _ainews(*args: str, cwd: Path, timeout: float = 60) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *AINEWS,
        *args,
        cwd=cwd,
        env={**_env(), "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_demo_prints_todays_digest_offline(tmp_path: Path) -> None:
    code, out, err = await _ainews("demo", cwd=tmp_path)
    assert code == 0, err
    today = datetime.now(UTC).astimezone().date()
    assert "AIニュース — " in out  # `[translate] default_lang` is ja
    # one entry per story: the Helix-2 release appears once, carried by three English sources
    # One story, four sources (the Japanese report joins through "Helix-2" and its figure).
    helix = [line for line in out.splitlines() if re.match(r"\s*\d+\. .*Helix-2", line)]
    assert len(helix) == 1, out
    assert "AI Wire (sample)、Lab Notes (sample)、Tech Daily AI (sample)" in out
    assert "重要度" in out and "https://sample.ainews.invalid/" in out
    assert "http://127.0.0.1:8080/" in err
    assert str(today.year) in out


async def test_demo_json_is_today_in_the_digest_zone(tmp_path: Path) -> None:
    code, out, err = await _ainews("demo", "--format", "json", cwd=tmp_path)
    assert code == 0, err
    data = json.loads(out)
    from zoneinfo import ZoneInfo

    assert data["date"] == datetime.now(ZoneInfo("Asia/Tokyo")).date().isoformat()
    assert len(data["items"]) == 10  # [digest] size
    assert len({item["story_id"] for item in data["items"]}) == len(data["items"])


def _cli(*args: str) -> tuple[int, str, str]:
    """In-process CLI run (fast); the process-level tests above cover the real entry point."""
    from typer.testing import CliRunner

    from adapters.main import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


async def _seed_digest_store(url: str) -> None:
    db = Database(url)
    try:
        source = await add_source(db, "Wire")
        other = await add_source(db, "Lab")
        noon = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
        big, _ = await add_story(db, source, "Big model launch", noon, importance=5)
        await add_story(db, other, "Big model launch again", noon, importance=5, story_id=big)
        await add_story(db, source, "Agent paper", noon, importance=3, tags=("agents",))
        await add_story(db, source, "Next day", noon + timedelta(days=1), importance=5)
        await add_channel(db, "c")
    finally:
        await db.dispose()


def test_digest_json_shape(sqlite_url: str) -> None:
    asyncio.run(_seed_digest_store(sqlite_url))
    base = ("--database-url", sqlite_url, "digest")
    code, out, err = _cli(*base, "today", "--date", "2026-11-20", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert {"kind", "date", "lang", "items"} <= set(data)
    assert (data["kind"], data["date"], data["lang"]) == ("daily", "2026-11-20", "ja")
    assert [item["title"] for item in data["items"]] == ["Big model launch", "Agent paper"]
    first = data["items"][0]
    for key in ("story_id", "article_id", "title", "url", "sources", "importance", "scores",
                "tldr", "tags", "alerted"):  # fmt: skip
        assert key in first
    assert first["sources"] == ["Lab", "Wire"] and first["importance"] == 5
    assert set(first["scores"]) == {"depth", "relevance", "practicality", "innovation"}
    assert first["alerted"] is False and isinstance(first["tags"], list)
    # --tag filters, --lang is carried
    code, out, _ = _cli(*base, "today", "--date", "2026-11-20", "--tag", "agents",
                        "--lang", "en", "--format", "json")  # fmt: skip
    data = json.loads(out)
    assert [i["title"] for i in data["items"]] == ["Agent paper"] and data["lang"] == "en"
    code, out, _ = _cli(*base, "week", "--date", "2026-11-22")
    assert code == 0 and "今週のAIニュース — 2026年11月22日" in out and "Next day" in out
    code, _, err = _cli(*base, "today", "--date", "28/11")
    assert code == 2 and "YYYY-MM-DD" in err


@pytest.fixture
async def feed_server() -> AsyncIterator[str]:
    """Serves the sample feed with dates moved to yesterday (UTC), plus a missing feed."""
    now = datetime.now(UTC)
    mapping = {
        old: new - timedelta(days=1)
        for old, new in today_mapper(now.replace(hour=23, minute=0), "UTC").items()
    }
    body = rewrite_dates(sample_bytes(SAMPLE_FEEDS[0]), mapping)

    async def feed(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/feed.xml", feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(tmp_path: Path, feed_url: str, web_port: int | None = None) -> Path:
    web_section = (
        f'[web]\nenabled = true\nhost = "127.0.0.1"\nport = {web_port}\n'
        if web_port
        else "[web]\nenabled = false\n"
    )
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "ainews.db"}"

[fetch]
allow_private_networks = true
full_text = false
total_timeout = 5.0

[digest]
timezone = "UTC"
daily_time = "00:00"

{web_section}
[[sources]]
name = "Loopback wire"
url = "{feed_url}/feed.xml"

[[sources]]
name = "Gone feed"
url = "{feed_url}/missing.xml"
""",
        encoding="utf-8",
    )
    return path


async def test_run_once_fetches_enriches_and_prints_the_due_digest(
    tmp_path: Path, feed_server: str
) -> None:
    config = _config(tmp_path, feed_server)
    code, out, err = await _ainews("--config", str(config), "run", "--once", cwd=tmp_path)
    assert code == 0, err
    yesterday = translator("ja").date((datetime.now(UTC) - timedelta(days=1)).date())
    assert f"AIニュース — {yesterday}" in out, (out, err)
    assert "Helix Labs releases Helix-2" in out
    assert "新着記事5件（取得に失敗した情報源1件）" in err  # `[translate] default_lang` is ja
    # a second cycle: nothing new is due, nothing is printed twice
    code, out, err = await _ainews("--config", str(config), "run", "--once", cwd=tmp_path)
    assert code == 0 and "AIニュース" not in out, out
    code, out, _ = await _ainews("--config", str(config), "sources", "list", "--json", cwd=tmp_path)
    gone = next(s for s in json.loads(out) if s["name"] == "Gone feed")
    assert gone["error_count"] == 1 and "404" in (gone["last_error"] or "")


async def test_run_serves_the_web_view_and_stops_on_sigterm(
    tmp_path: Path, feed_server: str
) -> None:
    port = _free_port()
    config = _config(tmp_path, feed_server, web_port=port)
    process = await asyncio.create_subprocess_exec(
        *AINEWS, "--config", str(config), "run",
        cwd=tmp_path, env={**_env(), "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        seen = ""
        while "AIニュース" not in seen:
            line = await asyncio.wait_for(process.stdout.readline(), 30)
            assert line, seen
            seen += line.decode()
        assert f"http://127.0.0.1:{port}/" in seen
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/")
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 20)
    assert code == 0


async def test_a_second_run_on_one_sqlite_file_exits_2_naming_it(
    tmp_path: Path, feed_server: str
) -> None:
    config = _config(tmp_path, feed_server)
    first = await asyncio.create_subprocess_exec(
        *AINEWS, "--config", str(config), "run",
        cwd=tmp_path, env={**_env(), "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert first.stdout is not None
    try:
        seen = ""
        while "Ctrl-C" not in seen:  # the "running" line, in the CLI's language
            line = await asyncio.wait_for(first.stdout.readline(), 30)
            assert line, seen
            seen += line.decode()
        code, out, err = await _ainews("--config", str(config), "run", cwd=tmp_path)
        assert code == 2, (out, err)
        assert str(tmp_path / "ainews.db") in err
        assert len(err.strip().splitlines()) == 1, err  # one clear line, no traceback
        code, _, err = await _ainews("--config", str(config), "run", "--once", cwd=tmp_path)
        assert code == 2 and str(tmp_path / "ainews.db") in err, err
    finally:
        first.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(first.wait(), 20) == 0


async def test_a_taken_web_port_exits_2_naming_it(tmp_path: Path, feed_server: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = _config(tmp_path, feed_server, web_port=port)
        code, out, err = await _ainews("--config", str(config), "run", cwd=tmp_path)
    assert code == 2, (out, err)
    # in the CLI's language (the config's default_lang, ja)
    assert f"エラー: 127.0.0.1 のポート {port} はすでに使われています（[web] host/port）" in err
    assert "Traceback" not in err


async def test_run_once_cannot_be_a_front(tmp_path: Path, feed_server: str) -> None:
    config = _config(tmp_path, feed_server)
    code, _, err = await _ainews(
        "--config", str(config), "run", "--once", "--role", "front", cwd=tmp_path
    )
    assert code == 2 and "--role front" in err
    code, _, err = await _ainews("--config", str(config), "run", "--role", "boss", cwd=tmp_path)
    assert code == 2 and "boss" in err


async def test_http_interactions_without_a_public_key_exit_2(
    tmp_path: Path, feed_server: str
) -> None:
    config = _config(tmp_path, feed_server)
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[discord]\ninteractions = "http"\n',
        encoding="utf-8",
    )
    code, _, err = await _ainews("--config", str(config), "run", cwd=tmp_path)
    assert code == 2
    assert "DISCORD_PUBLIC_KEY" in err and "Traceback" not in err

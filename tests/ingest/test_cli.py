"""The real `ainews` CLI as a subprocess against the loopback feed server."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.main import app
from tests.fakes.feed_server import FeedServer

AINEWS = Path(sys.executable).with_name("ainews")
pytestmark = pytest.mark.usefixtures("english_cli")


async def _ainews(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(AINEWS),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _in_process(*args: str) -> tuple[int, str, str]:
    """The same Typer app in this process (in a thread: it runs its own event loop)."""
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _config(tmp_path: Path, sources: list[tuple[str, str]], *, private: bool = True) -> Path:
    lines = [
        "[database]",
        f'url = "sqlite:///{tmp_path / "cli.db"}"',
        "[fetch]",
        f"allow_private_networks = {'true' if private else 'false'}",
        "full_text = false",
    ]
    for name, url in sources:
        lines += ["[[sources]]", f"name = {json.dumps(name)}", f"url = {json.dumps(url)}"]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
async def test_fetch_all_json_reports_every_real_feed_ok(
    feed_server: FeedServer, fixtures_dir: Path, tmp_path: Path
) -> None:
    names = sorted(p.name for p in (fixtures_dir / "feeds" / "real").iterdir())
    sources = [(n, feed_server.feed_url(f"real/{n}")) for n in names]
    sources.append(("Broken", feed_server.status("/broken", 500)))
    config = _config(tmp_path, sources)
    code, out, err = await _ainews("--config", str(config), "fetch", "--all", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert set(report) == {"sources", "new_articles"}
    by_name = {s["name"]: s for s in report["sources"]}
    for name in names:
        entry = by_name[name]
        assert set(entry) == {"name", "url", "status", "new", "error"}
        assert entry["status"] == "ok" and entry["new"] > 0 and entry["error"] is None, entry
    assert by_name["Broken"]["status"] == "error" and "500" in by_name["Broken"]["error"]
    assert report["new_articles"] == sum(s["new"] for s in report["sources"])

    code, out, err = await _ainews("--config", str(config), "sources", "list", "--json")
    assert code == 0, err
    listed = {row["name"]: row for row in json.loads(out)}
    assert set(listed["Broken"]) == {
        "name",
        "url",
        "articles",
        "error_count",
        "last_error",
        "next_check_at",
    }
    assert listed["Broken"]["error_count"] == 1 and "500" in listed["Broken"]["last_error"]
    assert all(listed[n]["articles"] == by_name[n]["new"] for n in names)

    code, out, _ = await _in_process("--config", str(config), "fetch")
    assert code == 0 and out.startswith("0 sources: 0 ok")


async def test_sources_commands_and_opml_round_trip(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed = feed_server.feed_url("real/colah_rss.xml")
    config = _config(tmp_path, [])
    base = ["--config", str(config)]
    code, out, err = await _in_process(*base, "sources", "add", "Colah", feed, "--lang", "en")
    assert code == 0, err
    exported = tmp_path / "out.opml"
    code, _, err = await _in_process(*base, "sources", "export-opml", str(exported))
    assert code == 0, err
    assert b'xmlUrl="' + feed.encode() + b'"' in exported.read_bytes()
    code, out, err = await _in_process(*base, "sources", "remove", feed)
    assert code == 0, err
    code, out, _ = await _in_process(*base, "sources", "list", "--json")
    assert json.loads(out) == []
    code, out, err = await _in_process(*base, "sources", "import-opml", str(exported))
    assert code == 0 and "imported 1" in out, err
    code, out, _ = await _in_process(*base, "fetch", "--json")
    assert json.loads(out)["sources"][0]["status"] == "ok"
    code, _, err = await _in_process(*base, "sources", "remove", "nope")
    assert code == 2
    code, _, err = await _in_process(*base, "sources", "add", "Bad", "ftp://x.test/feed")
    assert code == 2 and "http" in err
    code, out, err = await _in_process(*base, "db", "upgrade")
    assert code == 0, err


async def test_config_error_exits_2_and_guard_is_an_error(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[fetch]\nallow_private_network = true\n", encoding="utf-8")
    code, _, err = await _in_process("--config", str(bad), "fetch")
    assert code == 2 and "allow_private_network" in err
    guarded = _config(
        tmp_path, [("Local", feed_server.feed_url("real/colah_rss.xml"))], private=False
    )
    code, out, err = await _in_process("--config", str(guarded), "fetch", "--all", "--json")
    assert code == 0, err
    entry = json.loads(out)["sources"][0]
    assert entry["status"] == "error" and "refused" in entry["error"]
    assert feed_server.connections == 0

"""Help that reads cleanly, and a failing source reported once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import in_thread, invoke
from tests.fakes.feed_server import FeedServer

pytestmark = pytest.mark.usefixtures("english_cli")


def test_flags_show_no_type_and_digest_help_keeps_its_text() -> None:
    fetch = invoke("fetch", "--help")
    assert fetch.code == 0
    assert "<bool>" not in fetch.out
    assert "--json  Print the result as one JSON object." in fetch.out
    digest = invoke("digest", "--help")
    assert digest.code == 0
    assert "[digest]" in digest.out and "timezone" in digest.out
    top = invoke("--help")
    assert "--version" in top.out and "<bool>" not in top.out


async def test_a_failing_source_is_reported_once(feed_server: FeedServer, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        "\n".join(
            [
                "[database]",
                f'url = "sqlite:///{tmp_path / "f.db"}"',
                "[fetch]",
                "allow_private_networks = true",
                "full_text = false",
                "[[sources]]",
                'name = "Broken Feed"',
                f"url = {json.dumps(feed_server.status('/broken', 500))}",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    ran = await in_thread("fetch", "--config", str(config))
    assert ran.code == 0, ran.err
    lines = (ran.out + ran.err).splitlines()
    assert len([line for line in lines if "/broken" in line or "Broken Feed" in line]) == 1
    assert "1 error, " in ran.out and "1 errors" not in ran.out  # one error, in its plural form

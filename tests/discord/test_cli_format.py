"""`ainews digest today --format discord`: the exact payloads as one JSON list, each acceptable."""

from __future__ import annotations

import asyncio
import json

from typer.testing import CliRunner

import adapters.main  # noqa: F401  (registers every CLI command)
from adapters.cli.app import app
from bot.store.db import Database
from tests.discord.conftest import NOW, seed_article, seed_source
from tests.fakes.discord_api import message_errors


async def _seed(url: str) -> None:
    db = Database(url)
    try:
        source = await seed_source(db, "@everyone Wire")
        for n in range(14):
            await seed_article(db, source, f"Story {n} about models <@&123456789012345678>")
    finally:
        await db.dispose()


def test_digest_format_discord_prints_the_payloads(database_url: str) -> None:
    asyncio.run(_seed(database_url))
    day = NOW.date().isoformat()
    args = ["--database-url", database_url, "digest", "today", "--date", day, "--format", "discord"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    payloads = json.loads(result.stdout)
    assert isinstance(payloads, list) and len(payloads) == 1
    assert len(payloads[0]["embeds"]) == 10  # `[digest] size` keeps the ten best of fourteen
    for payload in payloads:
        assert set(payload) == {"content", "embeds", "allowed_mentions", "nonce", "enforce_nonce"}
        assert payload["allowed_mentions"] == {"parse": []}
        assert payload["enforce_nonce"] is True and 0 < len(payload["nonce"]) <= 25
        assert message_errors(payload) == {}
    assert "@everyone" not in result.stdout and "<@&1234" not in result.stdout
    assert day in payloads[0]["content"]

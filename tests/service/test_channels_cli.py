"""`ainews channels list --json` / `channels enable ID` and `ainews platforms`: the contract."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from adapters.main import app
from bot.config import Secrets, Settings
from bot.delivery import OutboxEntry, enqueue_many
from bot.platforms import pause_platform
from bot.store.db import Database
from bot.store.schema import Channel
from tests.fakes.store_seed import add_channel

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def _cli(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--database-url", url, *args])
    return result.exit_code, result.stdout, result.stderr


async def _seed(url: str) -> tuple[int, int]:
    db = Database(url)
    try:
        live = await add_channel(db, "C0LIVE", platform="slack")
        gone = await add_channel(db, "C0GONE", platform="slack")
        entries = [
            OutboxEntry(gone, f"alert:story:{n}", "alert", {"type": "alert"}) for n in range(2)
        ]
        async with db.session() as session:
            await enqueue_many(session, entries, NOW)
            channel = await session.get(Channel, gone)
            assert channel is not None
            channel.status, channel.disabled_reason = "disabled", "slack refused: is_archived"
            # a pause under some Discord token, and one under the token this environment has
            # (none): only the first is lifted by "the token changed"
            other = Settings().model_copy(
                update={"secrets": Secrets(discord_bot_token=SecretStr("t"))}
            )
            await pause_platform(session, other, "discord", "discord refused the token", NOW)
            await pause_platform(session, Settings(), "slack", "token_revoked", NOW)
        return live, gone
    finally:
        await db.dispose()


@pytest.mark.usefixtures("english_cli")
def test_channels_list_enable_and_platforms(sqlite_url: str) -> None:
    live, gone = asyncio.run(_seed(sqlite_url))
    code, out, err = _cli(sqlite_url, "channels", "list", "--json")
    assert code == 0, err
    assert json.loads(out) == [
        {"id": live, "platform": "slack", "channel": "C0LIVE", "disabled": False,
         "reason": None, "pending": 0},
        {"id": gone, "platform": "slack", "channel": "C0GONE", "disabled": True,
         "reason": "slack refused: is_archived", "pending": 2},
    ]  # fmt: skip
    code, out, _ = _cli(sqlite_url, "channels", "enable", str(gone))
    assert code == 0 and out == f"channel {gone} enabled\n"
    code, out, _ = _cli(sqlite_url, "channels", "list", "--json")
    assert [row["disabled"] for row in json.loads(out)] == [False, False]
    code, _, err = _cli(sqlite_url, "channels", "enable", "999")
    assert code == 1 and err == "error: no channel with id 999\n"
    code, out, _ = _cli(sqlite_url, "platforms", "list", "--json")
    assert code == 0
    assert json.loads(out) == [{"platform": "slack", "paused": True, "reason": "token_revoked"}]
    code, out, _ = _cli(sqlite_url, "platforms", "resume", "slack")
    assert code == 0 and out == "slack resumed\n"
    code, out, _ = _cli(sqlite_url, "platforms", "list", "--json")
    assert json.loads(out) == [{"platform": "slack", "paused": False, "reason": None}]

"""Socket Mode: ainews connects out (apps.connections.open + WebSocket) and answers envelopes."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from pydantic import SecretStr

from adapters.slack_app import start_socket_mode
from bot.config import Secrets, Settings
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, TEAM_ID, FakeSlack
from tests.slack.conftest import CHANNEL, MEMBER, SlashDriver, open_context


async def test_socket_mode_acks_over_the_socket_and_answers(
    slack_settings: Callable[..., Settings], fake_slack: FakeSlack
) -> None:
    settings = slack_settings()
    settings = settings.model_copy(
        update={
            "secrets": Secrets(
                slack_bot_token=SecretStr(BOT_TOKEN), slack_app_token=SecretStr(APP_TOKEN)
            )
        }
    )
    ctx = await open_context(settings)
    handle = await start_socket_mode(ctx)
    waiter = SlashDriver(http=None, fake=fake_slack, ctx=ctx)  # type: ignore[arg-type]
    try:
        await waiter.wait_for(lambda: bool(fake_slack.sockets))
        envelope_id = str(uuid.uuid4())
        await fake_slack.send_envelope(
            {
                "envelope_id": envelope_id,
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {
                    "team_id": TEAM_ID,
                    "channel_id": CHANNEL,
                    "user_id": MEMBER,
                    "command": "/ainews",
                    "text": "subscribe llm",
                    "response_url": fake_slack.response_url("socket1"),
                    "trigger_id": "1.2.3",
                },
            }
        )
        await waiter.wait_for(lambda: bool(fake_slack.posts()))
    finally:
        await handle.close()
        await ctx.aclose()
    assert [ack["envelope_id"] for ack in fake_slack.socket_acks] == [envelope_id]
    assert fake_slack.accepted("apps.connections.open")
    answer = fake_slack.posts()[-1]
    assert answer.method == "response_url"
    assert "now follows: llm" in str(answer.params["text"])

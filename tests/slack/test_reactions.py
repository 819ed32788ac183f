"""👍/👎 on a pushed alert, sent as a signed Slack `reaction_added` event, becomes a vote that
moves the channel's next digest; removing the reaction withdraws it."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlalchemy import select

from bot.delivery import OutboxEntry, enqueue_many
from bot.store.schema import Channel, Delivery, FeedbackVote
from tests.commands.seeding import add_article, add_source
from tests.fakes.slack_api import TEAM_ID, sign
from tests.slack.conftest import ADMIN, CHANNEL, MEMBER, NOW, SIGNING_SECRET, SlashDriver

ALERT_TS = "1764300000.000100"


async def _event(slack: SlashDriver, kind: str, reaction: str, user: str) -> None:
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": "A0AINEWS",
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "event": {
                "type": kind,
                "user": user,
                "reaction": reaction,
                "item": {"type": "message", "channel": CHANNEL, "ts": ALERT_TS},
                "event_ts": "1764300001.000200",
            },
        }
    ).encode()
    ts = str(int(time.time()))
    response = await slack.http.post(
        "/slack/events",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(SIGNING_SECRET, ts, body),
        },
    )
    assert response.status_code == 200, response.text


async def _votes(slack: SlashDriver) -> list[tuple[str, int]]:
    async with slack.ctx.db.session() as session:
        rows = await session.scalars(select(FeedbackVote).order_by(FeedbackVote.user))
        return [(row.user, row.vote) for row in rows]


async def test_reactions_on_an_alert_tune_the_channel(slack: SlashDriver) -> None:
    db = slack.ctx.db
    wire = await add_source(db, "Wire")
    liked = await add_article(
        db, wire, "Evals suite", NOW - timedelta(hours=2), importance=3, tags=("evals",)
    )
    other = await add_article(
        db, wire, "Robot demo", NOW - timedelta(hours=1), importance=3, tags=("robotics",)
    )
    await slack.command("mute keyword nothing-matches", user=ADMIN)  # creates the channel row
    await slack.command("preview")
    plain = slack.last_text()
    assert plain.index("Robot demo") < plain.index("Evals suite")  # newer first at equal scores

    async with db.session() as session:
        channel_id = await session.scalar(select(Channel.id).where(Channel.channel == CHANNEL))
        assert channel_id is not None
        await enqueue_many(
            session,
            [
                OutboxEntry(
                    channel_id,
                    f"alert:story:{liked}",
                    "alert",
                    {"type": "alert", "item": {"story_id": liked, "article_id": liked}},
                )
            ],
            NOW,
        )
        await session.execute(
            Delivery.__table__.update().values(status="sent", platform_message_id=ALERT_TS)
        )

    await _event(slack, "reaction_added", "+1", MEMBER)
    await _event(slack, "reaction_added", "thumbsup::skin-tone-2", ADMIN)
    await _event(slack, "reaction_added", "eyes", "U0THIRD")  # not a vote
    await slack.wait_for_async(lambda: _votes(slack), [(ADMIN, 1), (MEMBER, 1)])

    await slack.command("preview")
    tuned = slack.last_text()
    assert tuned.index("Evals suite") < tuned.index("Robot demo")
    await slack.command(f"why {liked}")
    assert "Feedback: ranking" in slack.last_text() and "tag:evals +2" in slack.last_text()

    await _event(slack, "reaction_removed", "+1", MEMBER)
    await slack.wait_for_async(lambda: _votes(slack), [(ADMIN, 1)])
    assert other  # the unliked story stays in the digest, only lower

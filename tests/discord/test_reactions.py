"""👍/👎 on a pushed alert arriving as gateway MESSAGE_REACTION_ADD/REMOVE become one vote per
person that moves the channel's next digest; other emoji and other messages do nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from adapters.reply_text import reply_text
from bot.commands import dispatch
from bot.context import AppContext
from bot.delivery import OutboxEntry, enqueue_many
from bot.messages import CommandRequest
from bot.store.schema import Channel, Delivery, FeedbackVote
from tests.discord.conftest import NOW, Interactions, seed_article, seed_source
from tests.waiting import until

ALERT_MESSAGE_ID = "1180000000000000001"


async def _votes(ctx: AppContext) -> list[tuple[str, int]]:
    async with ctx.db.session() as session:
        rows = await session.scalars(select(FeedbackVote).order_by(FeedbackVote.user))
        return [(row.user, row.vote) for row in rows]


async def _until(ctx: AppContext, expected: list[tuple[str, int]]) -> None:
    """The gateway handler writes the vote on its own task: poll the store until it lands."""

    async def landed() -> bool:
        return await _votes(ctx) == expected

    await until(landed, what=f"the votes {expected!r}")


async def test_gateway_reactions_tune_the_channel(
    interactions: Interactions, ctx: AppContext
) -> None:
    wire = await seed_source(ctx.db, "Example Wire")
    liked = await seed_article(ctx.db, wire, "Evals suite", importance=3, tags=("evals",))
    await interactions.run("mute", {"what": "keyword nothing-matches"})  # the channel row
    async with ctx.db.session() as session:
        channel = (await session.scalars(select(Channel))).one()
        await enqueue_many(
            session,
            [
                OutboxEntry(
                    channel.id,
                    f"alert:story:{liked}",
                    "alert",
                    {"type": "alert", "item": {"story_id": liked, "article_id": liked}},
                )
            ],
            NOW,
        )
        await session.execute(
            Delivery.__table__.update().values(status="sent", platform_message_id=ALERT_MESSAGE_ID)
        )
    state = interactions.service.client._connection

    def react(kind: str, user: str, emoji: str, message: str = ALERT_MESSAGE_ID) -> None:
        data: dict[str, Any] = {
            "user_id": user,
            "channel_id": channel.channel,
            "message_id": message,
            "guild_id": channel.workspace,
            "emoji": {"id": None, "name": emoji},
            "type": 0,
        }
        # the gateway's own entry points, as for interactions in conftest
        if kind == "add":
            state.parse_message_reaction_add(data)  # type: ignore[arg-type]
        else:
            state.parse_message_reaction_remove(data)  # type: ignore[arg-type]

    react("add", "111", "👍")
    react("add", "222", "👍")
    react("add", "333", "👀")  # not a vote
    react("add", "444", "👍", message="1180000000000000999")  # not an alert of ours
    await _until(ctx, [("111", 1), ("222", 1)])

    why = await dispatch(
        ctx,
        CommandRequest(
            platform="discord",
            workspace=channel.workspace,
            channel=channel.channel,
            user="111",
            text=f"why {liked}",
        ),
    )
    assert "tag:evals +2" in reply_text(why, ctx.settings)

    react("remove", "111", "👍")
    react("add", "222", "👎")  # a change of mind replaces the vote
    await _until(ctx, [("222", -1)])

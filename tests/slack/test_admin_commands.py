"""Chat administration over signed Slack requests: sources, mutes, why, preview, feedback,
with `[slack] admins_only` deciding who may change things."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.store.schema import ChannelMute, Source
from tests.commands.seeding import add_article, add_source
from tests.fakes.slack_api import message_error
from tests.slack.conftest import ADMIN, MEMBER, NOW, SlashDriver


async def test_admin_commands_end_to_end(slack_app_factory: Any) -> None:
    slack: SlashDriver = await slack_app_factory(slack={"admins_only": True})
    db = slack.ctx.db
    wire = await add_source(db, "Wire")
    noisy = await add_source(db, "Noisy Feed")
    top = await add_article(
        db, wire, "Open model tops reasoning", NOW - timedelta(hours=1), importance=5
    )
    loud = await add_article(db, noisy, "Agents again", NOW - timedelta(hours=1), importance=4)

    await slack.command("sources add https://blog.example/feed.xml Example Blog", user=MEMBER)
    assert "Only channel managers" in slack.last_text()
    await slack.command("sources add https://blog.example/feed.xml Example Blog", user=ADMIN)
    assert "Added source Example Blog" in slack.last_text()
    await slack.command("sources", user=MEMBER)  # listing stays open to everyone
    assert "Example Blog" in slack.last_text()
    async with db.session() as session:
        blog = await session.scalar(select(Source).where(Source.name == "Example Blog"))
        assert blog is not None
    await slack.command(f"sources remove {blog.id}", user=ADMIN)
    assert "Removed source Example Blog" in slack.last_text()

    await slack.command("mute keyword agents", user=MEMBER)
    assert "Only channel managers" in slack.last_text()
    await slack.command("mute Noisy Feed", user=ADMIN)
    assert "Muted source Noisy Feed" in slack.last_text()
    await slack.command("preview", user=MEMBER)
    text = slack.last_text()
    assert "Open model tops reasoning" in text and "Agents again" not in text
    assert slack.answers()[-1].params["response_type"] == "ephemeral"
    await slack.command(f"why {loud}", user=MEMBER)
    assert "hidden here by source Noisy Feed" in slack.last_text()
    await slack.command(f"why {top}", user=MEMBER)
    assert "importance 5/5" in slack.last_text()
    await slack.command(f"feedback {top} up", user=MEMBER)
    assert "Noted" in slack.last_text()
    await slack.command("feedback reset", user=MEMBER)
    assert "Only channel managers" in slack.last_text()
    await slack.command("feedback reset", user=ADMIN)
    assert "Forgot 1 vote;" in slack.last_text()
    await slack.command("unmute source Noisy Feed", user=ADMIN)
    assert "Unmuted source Noisy Feed" in slack.last_text()
    async with db.session() as session:
        assert list(await session.scalars(select(ChannelMute))) == []
    assert slack.fake.rejected() == []
    for call in slack.fake.posts():
        assert message_error(call.params) is None

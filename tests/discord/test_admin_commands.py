"""Chat administration over the fake Discord API: sources, mutes, why, preview, feedback —
typed options from the table, Manage Channels for changes, and nobody pinged."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.context import AppContext
from bot.store.schema import ChannelMute, FeedbackVote, Source
from tests.discord.conftest import VIEW_AND_SEND, Interactions, seed_article, seed_source
from tests.fakes.discord_api import FakeDiscordAPI, InteractionLog

EPHEMERAL = 64


def _text(log: InteractionLog) -> str:
    return json.dumps(log.messages(), ensure_ascii=False)


async def test_admin_commands_end_to_end(
    interactions: Interactions, ctx: AppContext, discord_api: FakeDiscordAPI
) -> None:
    wire = await seed_source(ctx.db, "Example Wire")
    noisy = await seed_source(ctx.db, "Noisy Feed")
    top = await seed_article(ctx.db, wire, "Open weights model beats benchmarks", importance=5)
    loud = await seed_article(ctx.db, noisy, "Yet another agents post", tags=("agents",))

    denied = await interactions.run(
        "sources",
        {"action": "add", "target": "https://blog.example/feed.xml"},
        permissions=VIEW_AND_SEND,
    )
    # a channel nobody configured reads the default language, Japanese
    assert "チャンネル管理者だけ" in _text(denied)
    assert await interactions.run("settings", {"lang": "en"})
    added = await interactions.run(
        "sources",
        {"action": "add", "target": "https://blog.example/feed.xml", "name": "Example Blog"},
    )
    assert "Added source Example Blog" in _text(added)
    async with ctx.db.session() as session:
        blog = await session.scalar(select(Source).where(Source.name == "Example Blog"))
        assert blog is not None
    removed = await interactions.run("sources", {"action": "remove", "target": str(blog.id)})
    assert "Removed source Example Blog" in _text(removed)

    muted = await interactions.run("mute", {"what": "source Noisy Feed"})
    assert "Muted source Noisy Feed" in _text(muted)
    assert await interactions.run("mute", {"what": "tag robotics"}, permissions=VIEW_AND_SEND)
    preview = await interactions.run("preview")
    assert preview.callback is not None
    assert int(preview.callback["data"].get("flags") or 0) & EPHEMERAL
    assert "Open weights model beats benchmarks" in _text(preview)
    assert "Yet another agents post" not in _text(preview)

    why = await interactions.run("why", {"article": str(loud)})
    assert "hidden here by source Noisy Feed" in _text(why)
    why_top = await interactions.run("why", {"article": str(top)})
    assert "importance 5/5" in _text(why_top) and "follows every story" in _text(why_top)

    voted = await interactions.run("feedback", {"what": f"{top} up"}, permissions=VIEW_AND_SEND)
    assert "Noted" in _text(voted)
    shown = await interactions.run("feedback")
    assert "tag:llm: +1" in _text(shown)
    member_reset = await interactions.run("feedback", {"what": "reset"}, permissions=VIEW_AND_SEND)
    assert "Only channel managers" in _text(member_reset)
    reset = await interactions.run("feedback", {"what": "reset"})
    assert "Forgot 1 vote;" in _text(reset)

    unmuted = await interactions.run("unmute", {"what": "Noisy Feed"})
    assert "Unmuted source Noisy Feed" in _text(unmuted)
    async with ctx.db.session() as session:
        assert list(await session.scalars(select(ChannelMute))) == []  # member's mute refused
        assert list(await session.scalars(select(FeedbackVote))) == []
    for log in (added, muted, preview, why, shown):
        for message in log.messages():
            assert message["allowed_mentions"] == {"parse": []}
    assert all(call.status < 400 for call in discord_api.calls), [
        (c.path, c.status) for c in discord_api.calls if c.status >= 400
    ]


def _acks() -> float:
    from bot.observe import REGISTRY

    return (
        REGISTRY.get_sample_value("ainews_command_ack_seconds_count", {"platform": "discord"}) or 0
    )


async def test_command_ack_latency_is_recorded(interactions: Interactions) -> None:
    before = _acks()
    await interactions.run("help")
    await interactions.run("preview")
    assert _acks() == before + 2

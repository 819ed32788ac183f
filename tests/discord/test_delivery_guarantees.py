"""The outbox against the fake Discord: a part that fails is retried alone (even after the nonce
window), a revoked token pauses Discord without blaming a channel, the global limit is met, and
the fake holds discord's other deadlines and limits."""

from __future__ import annotations

from datetime import UTC, date, datetime

import aiohttp
from sqlalchemy import select

from adapters.discord_client import DiscordService
from bot.commands import commands
from bot.context import AppContext
from bot.delivery import Outbox, OutboxEntry, enqueue_many
from bot.health import health_problems
from bot.platforms import resume_platform
from bot.store.schema import Channel, Delivery
from digest.models import Digest, DigestItem
from digest.serialize import digest_to_dict, item_to_dict
from tests.discord.conftest import NOW
from tests.fakes.discord_api import (
    INITIAL_RESPONSE_SECONDS,
    INTERACTION_TOKEN_SECONDS,
    MAX_COMMAND_TOTAL,
    NONCE_WINDOW_SECONDS,
    FakeDiscordAPI,
    command_chars,
    command_errors,
)

CHANNEL = "700000000000000021"


def _item(n: int) -> DigestItem:
    return DigestItem(
        story_id=n, article_id=n, title=f"Story {n}", url=f"https://news.example/{n}",
        sources=("Wire",), importance=4, scores=None, tldr="A summary. " * 60, tags=("llm",),
        alerted=False, published_at=datetime(2026, 11, 28, 1, tzinfo=UTC),
    )  # fmt: skip


def _digest(count: int) -> dict[str, object]:
    digest = Digest("daily", date(2026, 11, 28), "en", tuple(_item(n) for n in range(count)))
    return {"type": "digest", "digest": digest_to_dict(digest)}


async def _channel(ctx: AppContext, channel: str) -> int:
    async with ctx.db.session() as session:
        row = Channel(platform="discord", workspace="290926798626357999", channel=channel)
        session.add(row)
        await session.flush()
        return row.id


async def _enqueue(ctx: AppContext, *entries: OutboxEntry) -> None:
    async with ctx.db.session() as session:
        await enqueue_many(session, list(entries), NOW)


async def _rows(ctx: AppContext) -> list[Delivery]:
    async with ctx.db.session() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def test_a_failing_part_is_retried_alone_even_after_the_nonce_window(
    ctx: AppContext, service: DiscordService, discord_api: FakeDiscordAPI
) -> None:
    channel_id = await _channel(ctx, CHANNEL)
    await _enqueue(ctx, OutboxEntry(channel_id, "daily:2026-11-28", "digest", _digest(25)))
    outbox = Outbox(ctx, {"discord": service.notifier})
    # the first part goes, the second gets a 503 (one discord.py does not retry itself)
    discord_api.fail_post_numbers[CHANNEL] = {2: 503}
    report = await outbox.deliver_due()
    [row] = await _rows(ctx)
    assert report.sent == 0 and row.status == "pending"
    first_id = discord_api.messages[CHANNEL][0]["id"]
    assert row.parts_sent == [first_id]
    # long after Discord forgot the nonces, the retry still posts only the missing parts
    discord_api.clock_offset = NONCE_WINDOW_SECONDS + 60
    ctx.clock.advance(seconds=3600)  # type: ignore[attr-defined]
    assert (await outbox.deliver_due()).sent == 1
    [row] = await _rows(ctx)
    messages = discord_api.messages[CHANNEL]
    assert len(messages) == 3 and len({m["nonce"] for m in messages}) == 3
    assert row.status == "sent" and row.parts_sent == [m["id"] for m in messages]
    assert row.platform_message_id == first_id


async def test_a_revoked_token_pauses_discord_and_disables_no_channel(
    ctx: AppContext, service: DiscordService, discord_api: FakeDiscordAPI
) -> None:
    first = await _channel(ctx, "700000000000000031")
    second = await _channel(ctx, "700000000000000032")
    alert = {"type": "alert", "lang": "en", "item": item_to_dict(_item(1))}
    await _enqueue(
        ctx, *(OutboxEntry(c, f"alert:story:{n}", "alert", alert) for c in (first, second)
               for n in range(3))
    )  # fmt: skip
    discord_api.revoked = True
    outbox = Outbox(ctx, {"discord": service.notifier})
    report = await outbox.deliver_due()
    assert report.sent == 0 and report.disabled_channels == []
    refused = len(discord_api.calls_to(r"/messages$"))
    assert refused <= 2  # one per channel already in flight, then no more 401s
    rows = await _rows(ctx)
    assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {0}
    async with ctx.db.session() as session:
        assert {c.status for c in await session.scalars(select(Channel))} == {"active"}
    [reason] = await health_problems(ctx)
    assert reason.startswith("discord paused") and "401" in reason
    ctx.clock.advance(seconds=600)  # type: ignore[attr-defined]
    await outbox.deliver_due()
    assert len(discord_api.calls_to(r"/messages$")) == refused  # paused: no call at all
    discord_api.revoked = False
    async with ctx.db.session() as session:
        assert await resume_platform(session, "discord")
    assert (await outbox.deliver_due()).sent == 6
    assert {r.status for r in await _rows(ctx)} == {"sent"}


async def test_the_global_limit_is_met_and_every_message_arrives_once(
    ctx: AppContext, service: DiscordService, discord_api: FakeDiscordAPI
) -> None:
    """More channels at once than Discord's 50 requests/s: discord.py waits out the global 429s."""
    discord_api.global_limit = 10  # the same rule, reached sooner
    channels = [await _channel(ctx, f"7000000000000001{n:02d}") for n in range(30)]
    alert = {"type": "alert", "lang": "en", "item": item_to_dict(_item(1))}
    await _enqueue(ctx, *(OutboxEntry(c, "alert:story:1", "alert", alert) for c in channels))
    outbox = Outbox(ctx, {"discord": service.notifier}, lanes=4)
    assert (await outbox.deliver_due()).sent == 30
    statuses = [c.status for c in discord_api.calls_to(r"/messages$")]
    assert 429 in statuses  # the fake enforced it …
    assert sum(len(m) for m in discord_api.messages.values()) == 30  # … and nothing doubled


def test_the_command_table_fits_discords_8000_characters() -> None:
    """The fake refuses an oversized command, and ours stays within the limit."""
    huge = {
        "name": "ainews",
        "description": "d",
        "options": [
            {"type": 1, "name": f"sub{n}", "description": "x" * 100,
             "options": [{"type": 3, "name": "o", "description": "y" * 100,
                          "choices": [{"name": "c" * 100, "value": "v" * 100}] * 20}]}
            for n in range(3)
        ],
    }  # fmt: skip
    assert command_chars(huge) > MAX_COMMAND_TOTAL and command_errors([huge])
    ours = sum(len(s.name) + len(s.description[:100]) for s in commands())
    assert ours < MAX_COMMAND_TOTAL


async def test_interaction_deadlines_are_enforced(
    service: DiscordService, discord_api: FakeDiscordAPI
) -> None:
    async with aiohttp.ClientSession() as http:
        base = discord_api.base_url
        discord_api.interaction_created("late-token")
        discord_api.clock_offset += INITIAL_RESPONSE_SECONDS + 0.5
        late = await http.post(
            f"{base}/interactions/1/late-token/callback", json={"type": 5, "data": {}}
        )
        assert late.status == 404 and (await late.json())["code"] == 10062
        discord_api.interaction_created("ok-token")
        deferred = await http.post(
            f"{base}/interactions/2/ok-token/callback", json={"type": 5, "data": {}}
        )
        assert deferred.status == 200
        followup = f"{base}/webhooks/app/ok-token"
        assert (await http.post(followup, json={"content": "in time"})).status == 200
        discord_api.clock_offset += INTERACTION_TOKEN_SECONDS
        expired = await http.post(followup, json={"content": "too late"})
        # Discord refuses an interaction token past its 15 minutes as an invalid webhook token
        assert expired.status == 401 and (await expired.json())["code"] == 50027

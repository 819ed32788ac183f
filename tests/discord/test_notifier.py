"""The Discord notifier over the fake REST API: success, nonce dedupe, 429, 403/404/400, and an
outbox round trip with a crash between post and mark."""

from __future__ import annotations

from datetime import UTC, date, datetime

import discord
import pytest
from discord.http import Route
from sqlalchemy import select, update

from adapters.discord_client import DiscordService
from bot.context import AppContext
from bot.delivery import OutboxEntry, deliver_due, enqueue_many
from bot.errors import DeliveryError
from bot.store.schema import Channel, Delivery
from digest.models import Digest, DigestItem
from digest.serialize import digest_to_dict, item_to_dict
from tests.discord.conftest import NOW
from tests.fakes.discord_api import FakeDiscordAPI

CHANNEL = "700000000000000001"


def _item(n: int, title: str = "") -> DigestItem:
    return DigestItem(
        story_id=n,
        article_id=n,
        title=title or f"Story {n}",
        url=f"https://news.example/{n}",
        sources=("Wire",),
        importance=4,
        scores=None,
        tldr="A summary. " * 60,
        tags=("llm",),
        alerted=False,
        published_at=datetime(2026, 11, 28, 1, tzinfo=UTC),
    )


def digest_payload(count: int = 3) -> dict[str, object]:
    digest = Digest("daily", date(2026, 11, 28), "en", tuple(_item(n) for n in range(count)))
    return {"type": "digest", "digest": digest_to_dict(digest)}


async def test_send_posts_with_nonce_and_returns_the_message_id(
    service: DiscordService, discord_api: FakeDiscordAPI
) -> None:
    sent = await service.notifier.send("guild", CHANNEL, digest_payload(), "row-nonce-0001")
    [message] = discord_api.messages[CHANNEL]
    assert sent.platform_message_id == message["id"]
    [call] = discord_api.calls_to(rf"/channels/{CHANNEL}/messages$")
    assert call.body["nonce"] == "row-nonce-0001"
    assert call.body["enforce_nonce"] is True
    assert call.body["allowed_mentions"] == {"parse": []}


async def test_resend_with_the_same_nonce_posts_nothing_new(
    service: DiscordService, discord_api: FakeDiscordAPI
) -> None:
    payload = digest_payload(25)  # three messages: every part has its own stable nonce
    first = await service.notifier.send("guild", CHANNEL, payload, "crash-nonce")
    posted = len(discord_api.messages[CHANNEL])
    assert posted == 3
    again = await service.notifier.send("guild", CHANNEL, payload, "crash-nonce")
    assert again == first
    assert len(discord_api.messages[CHANNEL]) == posted


async def test_short_429_is_waited_out_by_discord_py(
    service: DiscordService, discord_api: FakeDiscordAPI
) -> None:
    discord_api.fail_next(CHANNEL, 429, retry_after=0.2)
    sent = await service.notifier.send("guild", CHANNEL, digest_payload(1), "n-429-short")
    statuses = [c.status for c in discord_api.calls_to(rf"/channels/{CHANNEL}/messages$")]
    assert statuses == [429, 200]
    assert sent.platform_message_id == discord_api.messages[CHANNEL][0]["id"]


async def test_long_429_becomes_retry_after_instead_of_blocking(
    service: DiscordService, discord_api: FakeDiscordAPI
) -> None:
    discord_api.fail_next(CHANNEL, 429, retry_after=120.0)
    with pytest.raises(DeliveryError) as caught:
        await service.notifier.send("guild", CHANNEL, digest_payload(1), "n-429-long")
    # handed to the outbox: one call, no sleep through the 120 s
    assert len(discord_api.calls_to(rf"/channels/{CHANNEL}/messages$")) == 1
    assert not caught.value.permanent
    assert caught.value.retry_after == pytest.approx(120.0)
    assert CHANNEL not in discord_api.messages


@pytest.mark.parametrize("status", [403, 404])
async def test_gone_or_forbidden_channel_is_permanent(
    service: DiscordService, discord_api: FakeDiscordAPI, status: int
) -> None:
    discord_api.remove_channel(CHANNEL, status)
    with pytest.raises(DeliveryError) as caught:
        await service.notifier.send("guild", CHANNEL, digest_payload(1), f"n-{status}")
    assert caught.value.permanent
    assert str(status) in str(caught.value)


async def test_400_is_not_retried(service: DiscordService, discord_api: FakeDiscordAPI) -> None:
    discord_api.fail_next(CHANNEL, 400)
    with pytest.raises(DeliveryError) as caught:
        await service.notifier.send("guild", CHANNEL, digest_payload(1), "n-400")
    assert caught.value.rejected and not caught.value.permanent  # this message, not the channel
    assert len(discord_api.calls_to(rf"/channels/{CHANNEL}/messages$")) == 1


async def test_bad_payload_or_channel_is_refused_without_a_request(
    service: DiscordService, discord_api: FakeDiscordAPI
) -> None:
    with pytest.raises(DeliveryError) as caught:
        await service.notifier.send("guild", CHANNEL, {"type": "nope"}, "n")
    assert caught.value.rejected and not caught.value.permanent
    with pytest.raises(DeliveryError) as caught:
        await service.notifier.send("guild", "#general", digest_payload(1), "n")
    assert caught.value.permanent
    assert not discord_api.calls_to(r"/messages$")


async def test_fake_rejects_what_discord_rejects(
    service: DiscordService, discord_api: FakeDiscordAPI
) -> None:
    """The fake is strict: an over-limit body gets Discord's 400, so passing tests mean it."""
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=int(CHANNEL))
    for body in (
        {"content": "x" * 2001},
        {"embeds": [{"title": "t", "description": "d" * 4097}]},
        {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]},
        {"content": ""},
    ):
        with pytest.raises(discord.HTTPException) as caught:
            await service.client.http.request(route, json=body)
        assert caught.value.status == 400


@pytest.mark.parametrize("advertised", [True, False])
async def test_rate_limited_route_still_delivers_every_message(
    service: DiscordService, discord_api: FakeDiscordAPI, advertised: bool
) -> None:
    """With headers discord.py waits before the limit; without them it meets 429s and retries."""
    discord_api.rate_limit, discord_api.rate_window = 2, 0.3
    discord_api.advertise_limits = advertised
    for n in range(3):
        await service.notifier.send("guild", CHANNEL, digest_payload(25), f"burst-{n}")
    assert len(discord_api.messages[CHANNEL]) == 9
    statuses = [c.status for c in discord_api.calls_to(rf"/channels/{CHANNEL}/messages$")]
    assert set(statuses) <= {200, 429}
    assert (429 in statuses) is not advertised


async def _discord_channel(ctx: AppContext, channel: str) -> int:
    async with ctx.db.session() as session:
        row = Channel(platform="discord", workspace="290926798626357999", channel=channel)
        session.add(row)
        await session.flush()
        return row.id


async def test_outbox_round_trip_no_loss_no_duplicate_failures_isolated(
    ctx: AppContext, service: DiscordService, discord_api: FakeDiscordAPI
) -> None:
    good, gone = "700000000000000011", "700000000000000012"
    good_id = await _discord_channel(ctx, good)
    gone_id = await _discord_channel(ctx, gone)
    discord_api.remove_channel(gone, 404)
    alert = {"type": "alert", "lang": "en", "item": item_to_dict(_item(9, "@everyone alert"))}
    entries = [
        OutboxEntry(good_id, "daily:2026-11-28", "digest", digest_payload(12)),
        OutboxEntry(good_id, "alert:story:9", "alert", alert),
        OutboxEntry(gone_id, "daily:2026-11-28", "digest", digest_payload(2)),
        OutboxEntry(gone_id, "alert:story:9", "alert", alert),
    ]
    async with ctx.db.session() as session:
        await enqueue_many(session, entries, NOW)
    notifiers = {"discord": service.notifier}

    report = await deliver_due(ctx, notifiers)
    assert report.sent == 2
    assert report.disabled_channels == [gone_id]
    posted = list(discord_api.messages[good])
    assert len(posted) == 3  # a 12-item digest in two messages, then the alert
    async with ctx.db.session() as session:
        rows = {(r.channel_id, r.key): r for r in await session.scalars(select(Delivery))}
        gone_row = await session.get(Channel, gone_id)
    assert gone_row is not None and gone_row.status == "disabled"
    assert {rows[(good_id, k)].status for k in ("daily:2026-11-28", "alert:story:9")} == {"sent"}
    first_id = rows[(good_id, "daily:2026-11-28")].platform_message_id
    assert first_id == posted[0]["id"]

    # A crash after Discord accepted the post but before the row was marked: it is due again.
    async with ctx.db.session() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.channel_id == good_id)
            .values(status="pending", platform_message_id=None, sent_at=None)
        )
    report = await deliver_due(ctx, notifiers)
    assert report.sent == 2
    assert discord_api.messages[good] == posted, "the nonce made the resend a no-op"
    async with ctx.db.session() as session:
        row = await session.scalar(
            select(Delivery).where(
                Delivery.channel_id == good_id, Delivery.key == "daily:2026-11-28"
            )
        )
    assert row is not None and row.platform_message_id == first_id


@pytest.mark.parametrize(
    ("lang", "digest_label", "alert_label"),
    [
        ("ja", "**AIニュース · 2026年11月28日** — 25件", "**アラート** · ★★★★☆ 重要度 4/5"),
        (
            "en",
            "**AI news · November 28, 2026** — 25 stories",
            "**Alert** · ★★★★☆ Importance 4 of 5",
        ),
    ],
)
async def test_digests_and_alerts_go_out_in_the_queued_language(
    service: DiscordService, discord_api: FakeDiscordAPI, lang: str, digest_label: str,
    alert_label: str,
) -> None:  # fmt: skip
    """The payload's language (the channel's) picks the labels; the fake enforces the limits."""
    digest = Digest("daily", date(2026, 11, 28), lang, tuple(_item(n) for n in range(25)))
    payload = {"type": "digest", "digest": digest_to_dict(digest)}
    await service.notifier.send("guild", CHANNEL, payload, f"digest-{lang}")
    alert = {"type": "alert", "lang": lang, "item": item_to_dict(_item(99))}
    await service.notifier.send("guild", CHANNEL, alert, f"alert-{lang}")
    messages = discord_api.messages[CHANNEL]
    assert len(messages) == 4  # 25 embeds take three messages, then the alert
    assert messages[0]["content"].startswith(digest_label)
    assert messages[-1]["content"].startswith(alert_label)
    unscored = "まだ採点されていません。" if lang == "ja" else "Not scored yet."
    scores = [embed["fields"][1] for message in messages for embed in message["embeds"]]
    assert len(scores) == 26
    assert all(field["value"] == unscored for field in scores)
    assert all(call.status < 400 for call in discord_api.calls)

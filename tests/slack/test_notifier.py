"""SlackNotifier over the fake Web API: outbox payloads, pacing, 429 with Retry-After, dead ends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime

import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_notifier import ChannelPacer, SlackNotifier, make_web_client
from bot.config import Settings
from bot.errors import DeliveryError
from digest.models import Digest, DigestItem
from digest.serialize import digest_to_dict, item_to_dict
from tests.commands.seeding import HOSTILE_TITLE
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack, message_error, text_objects
from tests.slack.conftest import CHANNEL

WHEN = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


def item(n: int, title: str = "Story", tldr: str = "Short.") -> DigestItem:
    return DigestItem(
        story_id=n, article_id=n, title=f"{title} {n}", url=f"https://news.example.com/{n}",
        sources=("Wire",), importance=4, scores=None, tldr=tldr, tags=("llm",), alerted=False,
        published_at=WHEN,
    )  # fmt: skip


def digest_payload(count: int, tldr: str = "Short.") -> dict[str, object]:
    digest = Digest(
        "daily", date(2026, 11, 28), "en", tuple(item(n, tldr=tldr) for n in range(count))
    )
    return {"type": "digest", "digest": digest_to_dict(digest)}


@pytest.fixture
async def notifier(slack_settings: Callable[..., Settings]) -> AsyncIterator[SlackNotifier]:
    # the fake allows one post per 0.25 s per channel; 0.5 s leaves room for a loaded machine
    made = SlackNotifier(slack_settings(), pacer=ChannelPacer(interval=0.5))
    yield made
    await made.aclose()


async def test_digest_is_posted_and_first_ts_returned(
    notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    sent = await notifier.send("T0AINEWS", CHANNEL, digest_payload(3), nonce="n1")
    posts = fake_slack.accepted("chat.postMessage")
    assert len(posts) == 1
    assert sent.platform_message_id == posts[0].ts
    assert posts[0].params["channel"] == CHANNEL
    assert "Story 2" in posts[0].params["text"]


async def test_long_digest_is_split_and_paced_without_429(
    notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    await notifier.send("T0AINEWS", CHANNEL, digest_payload(50, "Long sentence here. " * 40), "n2")
    posts = fake_slack.accepted("chat.postMessage")
    assert len(posts) >= 3
    # the fake answers 429 to a post within min_interval of the last one: none was too soon
    assert fake_slack.rejected() == []
    assert all(message_error(p.params) is None for p in posts)
    shown = "\n".join(t for p in posts for t in text_objects(p.params["blocks"]))
    assert all(f"Story {n}" in shown for n in range(50))


async def test_alert_renders_hostile_title_inert(
    notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    payload = {"type": "alert", "lang": "en", "item": item_to_dict(item(1, HOSTILE_TITLE))}
    await notifier.send("T0AINEWS", CHANNEL, payload, "n3")
    post = fake_slack.accepted("chat.postMessage")[0]
    mrkdwn = [post.params["text"]] + [
        b["text"]["text"] for b in post.params["blocks"] if b["type"] == "section"
    ]
    for markup in ("<!channel>", "<!here>", "<@U1>", "<@&1>", "<http://x|y>"):
        assert all(markup not in text for text in mrkdwn)


async def test_429_is_retried_after_retry_after(
    slack_settings: Callable[..., Settings], fake_slack: FakeSlack
) -> None:
    fake_slack.forced_429, fake_slack.retry_after = 1, 30
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)  # the wait the client asked for, not spent

    settings = slack_settings()
    notifier = SlackNotifier(settings, client=make_web_client(settings, sleep=sleep))
    sent = await notifier.send("T0AINEWS", CHANNEL, digest_payload(1), "n4")
    await notifier.aclose()
    assert len(waits) == 1 and 30 <= waits[0] < 31  # Retry-After plus under 1 s of jitter
    assert [c.status for c in fake_slack.calls] == [429, 200]
    assert sent.platform_message_id == fake_slack.accepted("chat.postMessage")[0].ts


async def test_429_beyond_retries_becomes_retry_after_delivery_error(
    slack_settings: Callable[..., Settings], fake_slack: FakeSlack
) -> None:
    fake_slack.forced_429, fake_slack.retry_after = 5, 30
    client = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=fake_slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=0)],
    )
    notifier = SlackNotifier(slack_settings(), client=client)
    with pytest.raises(DeliveryError) as caught:
        await notifier.send("T0AINEWS", CHANNEL, digest_payload(1), "n5")
    await notifier.aclose()
    assert caught.value.retry_after == 30 and not caught.value.permanent


@pytest.mark.parametrize("problem", ["channel_not_found", "not_in_channel", "is_archived"])
async def test_dead_channels_are_permanent(
    notifier: SlackNotifier, fake_slack: FakeSlack, problem: str
) -> None:
    channel = "C0GONE"
    if problem != "channel_not_found":
        fake_slack.channel_errors[channel] = problem
    with pytest.raises(DeliveryError) as caught:
        await notifier.send("T0AINEWS", channel, digest_payload(1), "n6")
    assert caught.value.permanent and not caught.value.token
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    "problem",
    ["invalid_auth", "token_revoked", "account_inactive", "not_authed", "missing_scope"],
)
async def test_token_errors_blame_the_token_not_the_channel(
    notifier: SlackNotifier, fake_slack: FakeSlack, problem: str
) -> None:
    fake_slack.token_error = problem
    with pytest.raises(DeliveryError) as caught:
        await notifier.send("T0AINEWS", CHANNEL, digest_payload(1), "n6")
    assert caught.value.token and not caught.value.permanent
    assert problem in str(caught.value)


async def test_5xx_with_a_non_json_body_is_transient(
    notifier: SlackNotifier, fake_slack: FakeSlack
) -> None:
    fake_slack.server_errors = 1
    with pytest.raises(DeliveryError) as caught:
        await notifier.send("T0AINEWS", CHANNEL, digest_payload(1), "n8")
    error = caught.value
    assert not (error.token or error.permanent or error.rejected or error.retry_after)
    assert "502" in str(error)


async def test_malformed_payload_is_rejected_not_the_channel(notifier: SlackNotifier) -> None:
    for payload in ({"type": "nope"}, {"type": "digest", "digest": {"kind": "daily"}}):
        with pytest.raises(DeliveryError) as caught:
            await notifier.send("T0AINEWS", CHANNEL, payload, "n7")
        assert caught.value.rejected and not caught.value.permanent

"""Request verification: Slack's documented example, then the running app's 401s that do no work."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from bot.store.schema import Subscription
from tests.fakes.slack_api import sign
from tests.slack.conftest import SIGNING_SECRET, SlashDriver


class FrozenClock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_signing_helper_and_verifier_agree_with_slack_documentation(fixtures_dir: Path) -> None:
    folder = fixtures_dir / "platform" / "slack"
    example = json.loads((folder / "signature_doc_example.json").read_text())
    body = (folder / "signature_doc_example_body.txt").read_bytes().rstrip(b"\n")
    assert body.decode() == example["body"]
    timestamp = example["headers"]["X-Slack-Request-Timestamp"]
    expected = example["expected_signature"]
    assert sign(example["signing_secret"], timestamp, body) == expected
    at_the_time = SignatureVerifier(example["signing_secret"], clock=FrozenClock(int(timestamp)))
    assert at_the_time.is_valid(body, timestamp, expected)
    assert not at_the_time.is_valid(body + b"x", timestamp, expected)
    five_minutes_later = SignatureVerifier(
        example["signing_secret"], clock=FrozenClock(int(timestamp) + 301)
    )
    assert not five_minutes_later.is_valid(body, timestamp, expected)


async def _subscriptions(driver: SlashDriver) -> int:
    async with driver.ctx.db.session() as session:
        return int(await session.scalar(select(func.count(Subscription.id))) or 0)


@pytest.mark.parametrize(
    "tamper",
    [
        {"signature": "v0=" + "0" * 64},
        {"omit": ("X-Slack-Signature",)},
        {"omit": ("X-Slack-Request-Timestamp",)},
        {"stale": 301},
        {"other_secret": True},
        {"timestamp": "17e8"},
        {"timestamp": "now"},
    ],
    ids=[
        "bad-signature",
        "no-signature",
        "no-timestamp",
        "older-than-5-minutes",
        "wrong-secret",
        "exponent-timestamp",
        "non-numeric-timestamp",
    ],
)
async def test_unverified_requests_get_401_and_cause_no_work(
    slack: SlashDriver, tamper: dict[str, Any]
) -> None:
    body = slack.body("subscribe llm")
    kwargs: dict[str, Any] = {}
    if "signature" in tamper:
        kwargs["signature"] = tamper["signature"]
    if "omit" in tamper:
        kwargs["omit"] = tamper["omit"]
    if "stale" in tamper:
        old = str(int(time.time()) - tamper["stale"])
        kwargs.update(timestamp=old, signature=sign(SIGNING_SECRET, old, body))
    if "timestamp" in tamper:
        # correctly signed over the odd timestamp: only the timestamp is wrong
        odd = tamper["timestamp"]
        kwargs.update(timestamp=odd, signature=sign(SIGNING_SECRET, odd, body))
    if "other_secret" in tamper:
        now = str(int(time.time()))
        kwargs.update(timestamp=now, signature=sign("not-the-secret", now, body))
    response = await slack.post(body, **kwargs)
    assert response.status_code == 401
    # refused before bolt dispatches anything, so there is no background work to wait for
    assert slack.fake.calls == []  # not even auth.test
    assert await _subscriptions(slack) == 0


async def test_signed_request_is_answered_and_acked_fast(slack: SlashDriver) -> None:
    response = await slack.command("help")
    assert response.status_code == 200
    answer = slack.answers()[-1]
    assert answer.method == "response_url"
    assert answer.params["response_type"] == "ephemeral"
    assert "/ainews today" in slack.last_text()


async def test_oversized_request_is_refused_before_verification(slack: SlashDriver) -> None:
    body = slack.body("search " + "x" * 70_000)
    response = await slack.post(body)
    assert response.status_code == 413
    assert slack.fake.calls == []


async def test_undecodable_body_is_refused_without_work(slack: SlashDriver) -> None:
    body = b"text=\xff\xfe&command=%2Fainews"
    response = await slack.post(body)
    assert response.status_code == 400
    assert slack.fake.calls == []


async def test_replayed_request_is_refused_and_does_no_work_twice(slack: SlashDriver) -> None:
    body = slack.body("subscribe llm")
    timestamp = str(int(time.time()))
    signature = sign(SIGNING_SECRET, timestamp, body)
    first = await slack.post(body, timestamp=timestamp, signature=signature)
    assert first.status_code == 200
    await slack.wait_for(lambda: bool(slack.fake.posts()))
    replay = await slack.post(body, timestamp=timestamp, signature=signature)
    assert replay.status_code == 401
    await slack.settle()
    assert len(slack.fake.posts()) == 1

"""Every /ainews subcommand end to end: signed request → bolt → handler → recorded Slack call."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from sqlalchemy import select

from bot.store.schema import Channel, Subscription
from tests.commands.seeding import HOSTILE_TITLE, add_article, add_source
from tests.fakes.slack_api import message_error, parsed_text, text_objects
from tests.slack.conftest import ADMIN, CHANNEL, MEMBER, NOW, SlashDriver

HOUR = timedelta(hours=1)
MENTIONS = ("<!channel>", "<!here>", "<!everyone>", "<@U1>", "<@&1>", "<http://x|y>")


async def seed_news(driver: SlashDriver) -> dict[str, int]:
    db = driver.ctx.db
    wire = await add_source(db, "Wire")
    hn = await add_source(db, "Hacker News", kind="hackernews")
    ids = {
        "llm": await add_article(
            db, wire, "New open LLM beats GPT on reasoning", NOW - HOUR, importance=5,
            tags=("llm", "open-source"), url="https://news.example.com/open-llm",
        ),
        "agents": await add_article(
            db, wire, "Agents that write tests", NOW - 2 * HOUR, importance=4, tags=("agents",),
        ),
        "old": await add_article(
            db, wire, "Robotics lab opens", NOW - timedelta(days=3), importance=3,
            tags=("robotics",),
        ),
        "hn": await add_article(
            db, hn, "Show HN: a tiny transformer in C", NOW - HOUR, importance=4,
            tags=("llm",), points=420,
        ),
    }  # fmt: skip
    return ids


def assert_all_accepted(driver: SlashDriver) -> None:
    assert driver.fake.rejected() == [], [(c.method, c.error) for c in driver.fake.rejected()]
    for call in driver.fake.posts():
        assert message_error(call.params) is None


async def test_today_posts_the_scored_digest_in_channel(slack: SlashDriver) -> None:
    await seed_news(slack)
    await slack.command("today")
    answer = slack.answers()[-1]
    assert answer.method == "response_url"
    assert answer.params["response_type"] == "in_channel"
    text = slack.last_text()
    assert "New open LLM beats GPT on reasoning" in text
    assert "★★★★★ Importance 5 of 5 · Depth 5 · Relevance 5" in text
    assert "Robotics lab opens" not in text  # three days old
    assert "TL;DR of Agents that write tests" in text
    assert_all_accepted(slack)


async def test_today_with_tag_and_week_with_rising_tags(slack: SlashDriver) -> None:
    await seed_news(slack)
    await slack.command("today agents")
    text = slack.last_text()
    assert "Agents that write tests" in text and "New open LLM" not in text
    await slack.command("week")
    text = slack.last_text()
    assert "Robotics lab opens" in text and "AI news this week" in text
    assert_all_accepted(slack)


async def test_hn_lists_hacker_news_stories(slack: SlashDriver) -> None:
    await seed_news(slack)
    await slack.command("hn")
    text = slack.last_text()
    assert "Show HN: a tiny transformer in C" in text
    assert "420 points" in text
    assert "New open LLM" not in text


async def test_summary_by_id_and_by_known_url_ack_first(slack: SlashDriver) -> None:
    ids = await seed_news(slack)
    response = await slack.command(f"summary {ids['llm']}")
    assert json.loads(response.text)["text"] == "Working on it…"
    text = slack.last_text()
    assert "New open LLM beats GPT on reasoning" in text
    assert "Depth 5: explains the method" in text
    assert "first point" in text
    await slack.command("summary https://news.example.com/open-llm?utm_source=x")
    assert "New open LLM beats GPT on reasoning" in slack.last_text()
    assert_all_accepted(slack)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("summary", "Missing article"),
        ("summary 999999", "No article with id 999999"),
        ("summary ftp://example.com/x", "http(s) URL"),
        ("summary https://user:secret@example.com/a", "user name or password"),
        ("translate not-a-ref", "http(s) URL"),
        ("frobnicate", "Unknown command"),
        ("search " + "x" * 5000, "too long"),
        ("search \u202eevil", "text-direction"),
        ("alerts maybe", "must be one of on, off"),
        ("alerts on 9", "between 1 and 5"),
        ("settings tz Mars/Olympus", "not a time zone"),
        ("settings time 25:00", "not a time"),
        ("settings lang <!channel>", "not a language code"),
        ("subscribe <@U1>", "is not a tag"),
        ("search a", "at least two characters"),
    ],
)
async def test_user_errors_get_reason_and_usage_ephemerally(
    slack: SlashDriver, text: str, reason: str
) -> None:
    response = await slack.post(slack.body(text))
    assert response.status_code == 200
    if response.text:  # parse errors are answered in the ack itself
        ack = json.loads(response.text)
        if ack.get("text") != "Working on it…":
            shown = parsed_text(ack)
            assert ack["response_type"] == "ephemeral"
            assert reason in shown.replace("&lt;", "<").replace("&gt;", ">")
            assert "Usage" in shown or "/ainews help" in shown
            return
    await slack.wait_for(lambda: bool(slack.fake.posts()))
    answer = slack.fake.posts()[-1]
    assert answer.params["response_type"] == "ephemeral"
    assert reason in parsed_text(answer.params)
    assert "<@U1>" not in parsed_text(answer.params)


async def test_empty_command_shows_help(slack: SlashDriver) -> None:
    await slack.command("")
    assert "/ainews subscribe" in slack.last_text()


async def test_subscribe_unsubscribe_subscriptions(slack: SlashDriver) -> None:
    await slack.command("subscribe llm #Agents")
    assert "llm" in slack.last_text() and "agents" in slack.last_text()
    assert slack.fake.posts()[-1].params["response_type"] == "in_channel"
    await slack.command("unsubscribe agents")
    await slack.command("subscriptions")
    answer = slack.fake.posts()[-1]
    assert answer.params["response_type"] == "ephemeral"
    assert "Tags: llm" in slack.last_text()
    async with slack.ctx.db.session() as session:
        tags = list(await session.scalars(select(Subscription.tag)))
        channel = await session.scalar(select(Channel))
    assert tags == ["llm"]
    assert channel is not None and channel.platform == "slack" and channel.channel == CHANNEL


async def test_today_follows_channel_subscriptions(slack: SlashDriver) -> None:
    await seed_news(slack)
    await slack.command("subscribe agents")
    await slack.command("today")
    text = slack.last_text()
    assert "Agents that write tests" in text and "New open LLM" not in text


async def test_alerts_and_settings_change_the_channel(slack: SlashDriver) -> None:
    await slack.command("alerts on 5")
    assert "importance 5 and up" in slack.last_text()
    await slack.command("settings tz America/New_York time 07:30 lang en")
    assert "Time zone: America/New_York" in slack.last_text()
    await slack.command("alerts off")
    assert "off" in slack.last_text()
    async with slack.ctx.db.session() as session:
        channel = await session.scalar(select(Channel))
    assert channel is not None
    assert (channel.tz, channel.digest_time, channel.lang) == ("America/New_York", "07:30", "en")
    assert channel.alerts_enabled is False and channel.alert_threshold == 5
    await slack.command("settings")
    assert "Daily digest at: 07:30" in slack.last_text()


async def test_search_tags_sources(slack: SlashDriver) -> None:
    await seed_news(slack)
    await add_source(slack.ctx.db, "Broken Blog", error_count=3, last_error="HTTP 500 <!here>")
    await slack.command("search open LLM")
    text = slack.last_text()
    assert "New open LLM beats GPT on reasoning" in text and "Agents" not in text
    await slack.command("search nothing-matches-this")
    assert "Nothing found" in slack.last_text()
    await slack.command("tags")
    assert "llm (2 stories)" in slack.last_text() and "robotics (1 story)" in slack.last_text()
    await slack.command("sources")
    answer = slack.fake.posts()[-1]
    assert "Broken Blog: 3 errors, last: HTTP 500" in slack.last_text()
    assert "Wire: ok" in slack.last_text()
    assert "<!here>" not in parsed_text(answer.params)
    assert_all_accepted(slack)


async def test_admins_only_limits_channel_changes(slack_app_factory: Any) -> None:
    driver: SlashDriver = await slack_app_factory(slack={"admins_only": True})
    await driver.command("subscribe llm", user=MEMBER)
    assert "Only channel managers" in driver.last_text()
    await driver.command("subscribe llm", user=ADMIN)
    assert "now follows: llm" in driver.last_text()
    users_info = driver.fake.accepted("users.info")
    assert [c.params["user"] for c in users_info] == [MEMBER, ADMIN]
    await driver.command("today", user=MEMBER)  # read-only commands need no admin
    assert len(driver.fake.accepted("users.info")) == 2


async def test_hostile_titles_ping_nobody(slack: SlashDriver, fixtures_dir: Path) -> None:
    raw = (fixtures_dir / "feeds/malformed/entry_title_crazy.xml").read_bytes()
    crazy = feedparser.parse(raw).entries[0].title
    source = await add_source(slack.ctx.db, "Evil <!channel> feed")
    for title in (HOSTILE_TITLE, crazy):
        await add_article(slack.ctx.db, source, title, NOW - HOUR, tldr=title, tags=("llm",))
    await slack.command("today")
    await slack.command("search everyone")
    for call in slack.fake.posts():
        text = parsed_text(call.params)
        for markup in MENTIONS:
            assert markup not in text
        assert "<script" not in text
    assert "&lt;!channel&gt;" in parsed_text(slack.fake.posts()[0].params)
    assert_all_accepted(slack)


async def test_big_digest_is_split_and_every_message_accepted(slack_app_factory: Any) -> None:
    driver: SlashDriver = await slack_app_factory(digest={"size": 50})
    source = await add_source(driver.ctx.db, "Wire")
    long_tldr = "A sentence that keeps going for a while. " * 60
    for n in range(50):
        await add_article(
            driver.ctx.db, source, f"Story {n} " + "y" * 200, NOW - HOUR, tldr=long_tldr
        )
    await driver.command("today")
    await driver.settle()
    answers = driver.fake.posts()
    # more than response_url's five posts: a top-level message and the rest in its thread
    assert len(answers) > 5
    assert {c.method for c in answers} == {"chat.postMessage"}
    first, rest = answers[0], answers[1:]
    assert all(c.params["thread_ts"] == first.ts for c in rest)
    shown = "\n".join(t for c in answers for t in text_objects(c.params["blocks"]))
    assert all(f"Story {n} " in shown for n in range(50))
    assert_all_accepted(driver)


async def test_translate_without_llm_explains_how_to_configure(slack: SlashDriver) -> None:
    ids = await seed_news(slack)
    await slack.command(f"translate {ids['llm']} ja")
    answer = slack.fake.posts()[-1]
    assert answer.params["response_type"] == "ephemeral"
    assert "[llm]" in slack.last_text()


async def test_summary_of_private_url_is_refused_by_the_ssrf_guard(slack_app_factory: Any) -> None:
    driver: SlashDriver = await slack_app_factory(fetch={"allow_private_networks": False})
    await driver.command("summary http://127.0.0.1:9/secret")
    answer = driver.fake.posts()[-1]
    assert answer.params["response_type"] == "ephemeral"
    assert "Could not fetch that page" in driver.last_text()


async def test_subscribe_where_the_bot_cannot_post_says_to_invite_it(
    slack: SlashDriver,
) -> None:
    slack.fake.channels["C0SECRET"] = {"name": "secret", "is_private": True, "is_member": False}
    await slack.command("subscribe llm", channel="C0SECRET")
    assert "invite @ainews first" in slack.last_text()
    assert slack.fake.posts()[-1].params["response_type"] == "ephemeral"
    async with slack.ctx.db.session() as session:
        assert list(await session.scalars(select(Subscription.tag))) == []
    # a public channel the bot is not in is fine with chat:write.public …
    slack.fake.channels["C0PUBLIC"] = {"name": "public", "is_member": False}
    await slack.command("subscribe llm", channel="C0PUBLIC")
    assert "now follows: llm" in slack.last_text()
    # … and not without it
    slack.fake.scopes = ("commands", "chat:write")
    await slack.command("subscribe agents", channel="C0PUBLIC")
    assert "invite @ainews first" in slack.last_text()


async def test_a_disabled_channel_shows_why_and_comes_back_with_resume(
    slack: SlashDriver,
) -> None:
    await slack.command("subscribe llm")
    async with slack.ctx.db.session() as session:
        channel = await session.scalar(select(Channel))
        assert channel is not None
        channel.status, channel.disabled_reason = "disabled", "slack refused: is_archived"
    await slack.command("subscriptions")
    text = slack.last_text()
    assert "disabled" in text and "is_archived" in text and "/ainews resume" in text
    assert "Alerts: on" not in text
    await slack.command("resume")
    assert "back on" in slack.last_text()
    await slack.command("subscriptions")
    assert "disabled" not in slack.last_text()
    async with slack.ctx.db.session() as session:
        channel = await session.scalar(select(Channel))
    assert channel is not None and channel.status == "active" and channel.disabled_reason is None


async def test_subscribing_again_re_enables_a_disabled_channel(slack: SlashDriver) -> None:
    await slack.command("subscribe llm")
    async with slack.ctx.db.session() as session:
        channel = await session.scalar(select(Channel))
        assert channel is not None
        channel.status, channel.disabled_reason = "disabled", "slack refused: not_in_channel"
    await slack.command("subscribe agents")
    assert "back on" in slack.last_text()
    async with slack.ctx.db.session() as session:
        channel = await session.scalar(select(Channel))
    assert channel is not None and channel.status == "active"

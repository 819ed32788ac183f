"""Japanese first: every /ainews reply, digest and alert in the channel's language, over the wire.

The workspace default here is the product's (`[translate] default_lang = "ja"`); each subcommand
runs once in a channel set to English and once in one set to Japanese, and the fake Slack Web API
refuses anything outside Block Kit's limits.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from adapters.slack_notifier import ChannelPacer, SlackNotifier
from bot.alerts import enqueue_alerts
from bot.delivery import Outbox
from bot.digests import enqueue_due_digests
from tests.commands.seeding import add_article, add_source
from tests.fakes.slack_api import message_error, parsed_text, text_objects
from tests.slack.conftest import NOW, SlashDriver
from tests.slack.test_commands_e2e import seed_news

# subcommand text, then what an English and what a Japanese channel must read
CASES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("today", ("AI news · November 28, 2026", "stories", "Importance 5 of 5 · Depth 5"),
     ("AIニュース · 2026年11月28日", "件", "重要度 5/5 · 深さ 5")),
    ("week", ("AI news this week", "Relevance"), ("今週のAIニュース", "関連性")),
    ("hn", ("Hacker News on AI", "420 points · 0 comments"),
     ("Hacker News の AI 記事", "420ポイント · コメント0件")),
    ("summary {llm}", ("Importance 5 of 5", "Depth 5: explains the method", "TL;DR:"),
     ("重要度 5/5", "深さ 5: explains the method", "要約:")),
    ("translate {llm} ja", ("Translation needs an LLM",), ("翻訳にはLLMが必要です",)),
    ("subscribe llm", ("This channel now follows: llm.",),
     ("このチャンネルがフォロー中のタグ: llm",)),
    ("unsubscribe llm", ("follows no tags now",), ("すべての記事が届きます",)),
    ("subscriptions", ("Tags: none (every story)", "Time zone: Asia/Tokyo", "Alerts: on"),
     ("タグ: なし（すべての記事）", "タイムゾーン: Asia/Tokyo", "アラート: オン")),
    ("alerts on 4", ("Alerts are on: stories of importance 4 and up, hourly.",),
     ("アラートをオンにしました: 重要度4以上の記事を1時間ごとにお知らせします。",)),
    ("alerts off", ("Alerts are off for this channel.",),
     ("このチャンネルのアラートをオフにしました。",)),
    ("settings tz Europe/Paris", ("Saved.", "Time zone: Europe/Paris"),
     ("保存しました。", "タイムゾーン: Europe/Paris")),
    ("search open LLM", ("1 result for “open LLM”",), ("「open LLM」の検索結果: 1件",)),
    ("search nothing-matches", ("Nothing found",), ("一致する記事はありません",)),
    ("tags", ("Tags of the last 7 days:", "llm (2 stories)", "agents (1 story)"),
     ("直近7日間のタグ:", "llm（2件）", "agents（1件）")),
    ("sources", ("Sources:", "Wire: ok"), ("情報源:", "Wire: 正常")),
    ("help", ("/ainews today [tag] — Today's scored digest",),
     ("/ainews today [tag] — 今日のダイジェスト（採点付き）",)),
    ("summary 999999", ("No article with id 999999.",), ("ID 999999 の記事はありません。",)),
    ("settings lang <!channel>", ("is not a language code",), ("は言語コードではありません",)),
]  # fmt: skip
# Parse errors are answered in the ack itself, with the usage line.
ERRORS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("alerts maybe", ("state must be one of on, off", "Usage: /ainews alerts"),
     ("state は on、off のいずれかで指定してください", "使い方: /ainews alerts")),
    ("frobnicate", ("Unknown command 'frobnicate'.",), ("不明なコマンドです: 'frobnicate'",)),
]  # fmt: skip


@pytest.fixture
async def japanese_default(slack_app_factory: Any) -> SlashDriver:
    driver: SlashDriver = await slack_app_factory(translate={"default_lang": "ja"})
    return driver


def answer_text(driver: SlashDriver, since: int) -> str:
    """Everything shown since post number `since` (blocks and fallbacks), as Slack parses it."""
    return "\n".join(parsed_text(call.params) for call in driver.fake.posts()[since:])


def assert_accepted(driver: SlashDriver) -> None:
    assert driver.fake.rejected() == [], [(c.method, c.error) for c in driver.fake.rejected()]
    for call in driver.fake.posts():
        assert message_error(call.params) is None


def check_language(
    text: str, lang: str, english: tuple[str, ...], japanese: tuple[str, ...]
) -> None:
    own, other = (english, japanese) if lang == "en" else (japanese, english)
    for expected in own:
        assert expected in text, (expected, text)
    assert [label for label in other if label not in own and label in text] == []


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize(("command", "english", "japanese"), CASES, ids=lambda v: str(v)[:20])
async def test_every_reply_in_the_channel_language(
    japanese_default: SlashDriver,
    lang: str,
    command: str,
    english: tuple[str, ...],
    japanese: tuple[str, ...],
) -> None:
    slack = japanese_default
    ids = await seed_news(slack)
    await slack.command(f"settings lang {lang}")
    if command == "unsubscribe llm":
        await slack.command("subscribe llm")
    before = len(slack.fake.posts())
    response = await slack.command(command.format(**ids))
    if command.startswith(("summary", "translate")):  # slow: acknowledged at once, in lang
        working = "Working on it…" if lang == "en" else "処理中です…"
        assert json.loads(response.text)["text"] == working
    check_language(answer_text(slack, before), lang, english, japanese)
    assert_accepted(slack)


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize(("command", "english", "japanese"), ERRORS, ids=lambda v: str(v)[:20])
async def test_parse_errors_in_the_channel_language(
    japanese_default: SlashDriver,
    lang: str,
    command: str,
    english: tuple[str, ...],
    japanese: tuple[str, ...],
) -> None:
    slack = japanese_default
    await slack.command(f"settings lang {lang}")
    response = await slack.post(slack.body(command))
    ack = json.loads(response.text)
    assert ack["response_type"] == "ephemeral" and message_error(ack) is None
    shown = parsed_text(ack).replace("&lt;", "<").replace("&gt;", ">")
    check_language(shown, lang, english, japanese)
    assert "<!channel>" not in parsed_text(ack)


async def test_a_new_channel_reads_japanese_and_switches_from_the_next_message(
    japanese_default: SlashDriver,
) -> None:
    slack = japanese_default
    await seed_news(slack)
    await slack.command("today")
    assert "AIニュース · 2026年11月28日" in slack.last_text()
    await slack.command("settings lang en")
    assert "Saved." in slack.last_text() and "Language: en" in slack.last_text()
    await slack.command("today")
    text = slack.last_text()
    assert "AI news · November 28, 2026" in text and "AIニュース" not in text
    await slack.command("settings lang ja")
    assert "保存しました。" in slack.last_text()
    await slack.command("hn")
    assert "Hacker News の AI 記事" in slack.last_text()
    assert_accepted(slack)


async def test_channel_language_drives_its_digests_and_alerts(
    japanese_default: SlashDriver,
) -> None:
    """Pushed messages follow the channel's `lang` too: queued in it, rendered in it."""
    slack = japanese_default
    db = slack.ctx.db
    wire = await add_source(db, "Wire")
    # 16:00 in Tokyo the day before: in yesterday's daily digest and still within alert range
    await add_article(db, wire, "Yesterday's big model", NOW - timedelta(hours=20), importance=5)
    await slack.command("alerts on 5")
    outbox = Outbox(
        slack.ctx, {"slack": SlackNotifier(slack.ctx.settings, pacer=ChannelPacer(0.3))}
    )

    async def deliver() -> str:
        before = len(slack.fake.accepted("chat.postMessage"))
        await enqueue_due_digests(slack.ctx)
        await enqueue_alerts(slack.ctx)
        await outbox.deliver_due()
        posted = slack.fake.accepted("chat.postMessage")[before:]
        assert posted
        return "\n".join(
            "\n".join([str(c.params["text"]), *text_objects(c.params.get("blocks"))])
            for c in posted
        )

    pushed = await deliver()
    assert "AIニュース · 2026年11月27日" in pushed and "1件" in pushed  # the daily digest
    assert "アラート: Yesterday's big model" in pushed
    assert "重要度 5/5" in pushed and "AI news" not in pushed
    await slack.command("settings lang en")
    await add_article(db, wire, "A second big model", NOW - timedelta(minutes=30), importance=5)
    pushed = await deliver()
    assert "Alert: A second big model" in pushed and "Importance 5 of 5" in pushed
    assert "アラート" not in pushed
    assert_accepted(slack)


@pytest.mark.parametrize(
    ("lang", "note"),
    [
        ("ja", "残りはここでは長すぎて表示できません。 ボットをこのチャンネルに招待すると"),
        ("en", "The rest is too long for Slack here. Invite the bot to this channel"),
    ],
)
async def test_too_long_note_in_the_channel_language(
    slack_app_factory: Any, lang: str, note: str
) -> None:
    """More than response_url's five posts where the bot may not post: four parts and a note."""
    driver: SlashDriver = await slack_app_factory(
        translate={"default_lang": "ja"}, digest={"size": 50}
    )
    source = await add_source(driver.ctx.db, "Wire")
    for n in range(50):
        title = f"Story {n} " + "y" * 200
        await add_article(driver.ctx.db, source, title, NOW - timedelta(hours=1),
                          tldr="A sentence that keeps going for a while. " * 60)  # fmt: skip
    await driver.command(f"settings lang {lang}", channel="C0OTHER")
    driver.fake.channel_errors["C0OTHER"] = "not_in_channel"  # so no thread: five posts max
    await driver.command("today", channel="C0OTHER")
    await driver.settle()
    answers = [c for c in driver.fake.posts() if c.method == "response_url"][1:]
    assert len(answers) == 5
    assert note in parsed_text(answers[-1].params)
    assert [c.error for c in driver.fake.rejected()] == ["not_in_channel"]
    for call in driver.fake.posts():
        assert message_error(call.params) is None

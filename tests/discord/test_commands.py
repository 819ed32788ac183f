"""`/ainews` over the fake Discord API: sync from the table, every subcommand end to end,
permissions, mention injection and tag autocomplete."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.discord_client import start_discord
from adapters.i18n import translator
from bot.commands import GENERIC_FAILURE, MAX_COMMAND_CHARS, commands
from bot.config import LLMSettings, Settings
from bot.context import AppContext, build_context
from bot.store.db import Database
from bot.store.schema import Channel
from tests.discord.conftest import (
    CHANNEL_ID,
    NOW,
    VIEW_AND_SEND,
    Interactions,
    channel_tags,
    seed_article,
    seed_source,
)
from tests.fakes.discord_api import FakeDiscordAPI, InteractionLog
from tests.fakes.llm_server import fake_japanese, running_fake_llm
from tests.fakes.store_seed import FakeClock

EPHEMERAL = 64
SLASH_FIXTURE = "application-commands_slash-command-interaction.json"
OPTION_TYPES = {
    "str": 3,
    "ref": 3,
    "tag": 3,
    "tags": 3,
    "words": 3,
    "lang": 3,
    "choice": 3,
    "int": 4,
}


def _text(log: InteractionLog) -> str:
    return json.dumps(log.messages(), ensure_ascii=False)


APOLOGIES = tuple(translator(lang).render(GENERIC_FAILURE) for lang in ("ja", "en"))


def _flags(log: InteractionLog) -> int:
    assert log.callback is not None
    return int(log.callback["data"].get("flags") or 0) if log.callback.get("data") else 0


@pytest.fixture
async def seeded(ctx: AppContext) -> dict[str, int]:
    wire = await seed_source(ctx.db, "Example Wire")
    hn = await seed_source(ctx.db, "Hacker News", kind="hackernews")
    first = await seed_article(ctx.db, wire, "Open weights model beats benchmarks", importance=5)
    second = await seed_article(
        ctx.db, wire, "Agents framework released", tags=("agents", "open-source"), importance=3
    )
    third = await seed_article(ctx.db, hn, "Show HN: a tiny LLM inference server", points=240)
    return {"first": first, "second": second, "hn": third}


async def test_sync_registers_one_group_built_from_the_table(
    discord_api: FakeDiscordAPI, interactions: Interactions
) -> None:
    [put] = discord_api.calls_to(r"/applications/\d+/commands$", "PUT")
    assert put.status == 200
    [group] = put.body
    assert group["name"] == "ainews" and group["dm_permission"] is False
    subcommands = {option["name"]: option for option in group["options"]}
    assert list(subcommands) == [spec.name for spec in commands()]
    english, japanese = translator("en"), translator("ja")
    assert group["description_localizations"]["ja"] == japanese("cmd.group")
    for spec in commands():
        options = {o["name"]: o for o in subcommands[spec.name]["options"]}
        # English is Discord's default; a Japanese client shows the ja catalogue's wording
        assert subcommands[spec.name]["description"] == english(spec.description)
        assert subcommands[spec.name]["description_localizations"] == {
            "ja": japanese(spec.description)
        }
        for param in spec.params:
            option = options[param.name]
            assert option["type"] == OPTION_TYPES[param.kind]
            assert option["description"] == english(param.description)
            assert option["description_localizations"] == {"ja": japanese(param.description)}
            assert option["required"] is param.required
            assert option.get("autocomplete", False) is (param.kind in ("tag", "tags"))
            if param.choices:
                assert [c["value"] for c in option["choices"]] == list(param.choices)
            if option["type"] == 3:
                assert option["max_length"] == MAX_COMMAND_CHARS
            if param.kind == "int":
                assert (option["min_value"], option["max_value"]) == (
                    param.min_value,
                    param.max_value,
                )


async def test_dev_guild_sync_goes_to_the_guild(
    discord_api: FakeDiscordAPI, ctx: AppContext
) -> None:
    settings = ctx.settings.model_copy(
        update={"discord": ctx.settings.discord.model_copy(update={"dev_guild_id": 42})}
    )
    ctx.settings = settings
    service = await start_discord(ctx, connect_gateway=False)
    try:
        [put] = discord_api.calls_to(r"/applications/\d+/guilds/42/commands$", "PUT")
        assert put.status == 200 and put.body[0]["name"] == "ainews"
    finally:
        await service.close()


# Every subcommand with arguments a user would type; what the answer must contain, in a channel
# reading English and in one reading Japanese (the labels, not only the stories).
CASES: list[tuple[str, dict[str, Any], tuple[str, ...], tuple[str, ...]]] = [
    ("today", {},
     ("Open weights model beats benchmarks", "AI news · November 28, 2026", "3 stories"),
     ("Open weights model beats benchmarks", "AIニュース · 2026年11月28日", "3件", "重要度")),
    ("today", {"tag": "AGENTS"}, ("Agents framework released", "· #agents", "1 story"),
     ("Agents framework released", "· #agents", "1件")),
    ("week", {}, ("Open weights model beats benchmarks", "AI news this week"),
     ("Open weights model beats benchmarks", "今週のAIニュース")),
    ("week", {"tag": "llm"}, ("Open weights model beats benchmarks", "Scores", "Depth"),
     ("Open weights model beats benchmarks", "スコア", "深さ")),
    ("hn", {}, ("Show HN: a tiny LLM inference server", "Hacker News on AI", "240 points"),
     ("Show HN: a tiny LLM inference server", "Hacker News の AI 記事", "240ポイント")),
    ("summary", {"article": "{first}"}, ("Depth 5/5", "Relevance", "Importance"),
     ("深さ 5/5", "関連性", "重要度")),
    ("translate", {"article": "{first}", "lang": "ja"}, ("Translation needs an LLM: add an [llm]",),
     ("翻訳にはLLMが必要です",)),
    ("subscribe", {"tags": "llm, agents"}, ("This channel now follows: agents, llm.",),
     ("このチャンネルがフォロー中のタグ: agents、llm",)),
    ("unsubscribe", {"tags": "agents"}, ("This channel now follows: llm.",),
     ("このチャンネルがフォロー中のタグ: llm",)),
    ("subscriptions", {}, ("Tags: llm", "Alerts: on, importance 4 and up"),
     ("タグ: llm", "アラート: オン（重要度4以上）")),
    ("alerts", {"state": "on", "min": 4}, ("Alerts are on: stories of importance 4 and up",),
     ("アラートをオンにしました: 重要度4以上",)),
    ("alerts", {"state": "off"}, ("Alerts are off for this channel.",),
     ("このチャンネルのアラートをオフにしました。",)),
    ("settings", {"tz": "Europe/Paris", "time": "08:30"},
     ("Saved.", "Time zone: Europe/Paris", "Daily digest at: 08:30"),
     ("保存しました。", "タイムゾーン: Europe/Paris", "デイリーダイジェストの配信時刻: 08:30")),
    ("search", {"words": "agents framework"}, ("Agents framework released", "1 result for"),
     ("Agents framework released", "の検索結果: 1件")),
    ("tags", {}, ("Tags of the last 7 days:", "agents (1 story)"),
     ("直近7日間のタグ:", "agents（1件）")),
    ("sources", {}, ("Sources:", "Example Wire: ok"), ("情報源:", "Example Wire: 正常")),
    ("help", {}, ("/ainews subscribe <tags…> — Follow tags in this channel",),
     ("/ainews subscribe <tags…> — このチャンネルでタグをフォロー",)),
]  # fmt: skip
SLOW = {spec.name for spec in commands() if spec.slow}
EPHEMERAL_SPECS = {spec.name for spec in commands() if spec.ephemeral}


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize(
    ("sub", "options", "english", "japanese"), CASES, ids=lambda v: str(v)[:20]
)
async def test_every_subcommand_answers_through_the_tree(
    interactions: Interactions,
    discord_api: FakeDiscordAPI,
    seeded: dict[str, int],
    sub: str,
    options: dict[str, Any],
    english: tuple[str, ...],
    japanese: tuple[str, ...],
    lang: str,
) -> None:
    """Each subcommand in a channel set to `lang`: every reply within Discord's limits (the
    fake refuses anything over them) and worded in the channel's language."""
    await interactions.run("settings", {"lang": lang})
    if sub == "subscriptions":
        await interactions.run("alerts", {"state": "on", "min": 4})
    if sub == "unsubscribe":
        await interactions.run("subscribe", {"tags": "llm agents"})
    if sub == "subscriptions":
        await interactions.run("subscribe", {"tags": "llm"})
    filled = {k: v.format(**seeded) if isinstance(v, str) else v for k, v in options.items()}
    log = await interactions.run(sub, filled)
    assert log.callback is not None
    if sub in SLOW:
        assert log.callback["type"] == 5, "slow work is deferred first"
        assert log.followups, "and finished as a follow-up"
    else:
        assert log.callback["type"] == 4
    if sub in EPHEMERAL_SPECS:
        assert _flags(log) & EPHEMERAL
    text = _text(log)
    assert not any(apology in text for apology in APOLOGIES)
    for expected in english if lang == "en" else japanese:
        assert expected in text
    own, other = (english, japanese) if lang == "en" else (japanese, english)
    assert not [label for label in other if label not in own and label in text]
    for message in log.messages():
        assert message["allowed_mentions"] == {"parse": []}
    # Every request ainews made was accepted by the fake (limits, nonce, callbacks).
    assert all(call.status < 400 for call in discord_api.calls), [
        (c.path, c.status) for c in discord_api.calls if c.status >= 400
    ]


async def test_translate_without_an_llm_says_so(
    interactions: Interactions, seeded: dict[str, int]
) -> None:
    log = await interactions.run("translate", {"article": str(seeded["first"])})
    assert log.callback is not None and log.callback["type"] == 5
    assert "LLM" in _text(log) or "llm" in _text(log)


async def test_subscribe_changes_the_store(interactions: Interactions, ctx: AppContext) -> None:
    await interactions.run("subscribe", {"tags": "#LLM agents"})
    assert await channel_tags(ctx.db) == ["agents", "llm"]
    await interactions.run("unsubscribe", {"tags": "agents"})
    assert await channel_tags(ctx.db) == ["llm"]


@pytest.mark.parametrize(
    ("sub", "options"),
    [
        ("subscribe", {"tags": "safety"}),
        ("unsubscribe", {"tags": "llm"}),
        ("alerts", {"state": "off"}),
        ("settings", {"tz": "UTC"}),
    ],
)
async def test_member_without_manage_channels_cannot_change_the_channel(
    interactions: Interactions, ctx: AppContext, sub: str, options: dict[str, Any]
) -> None:
    await interactions.run("subscribe", {"tags": "llm"})
    async with ctx.db.session() as session:
        before = (await session.scalars(select(Channel))).one()
        snapshot = (before.tz, before.alerts_enabled, before.lang, before.digest_time)
    log = await interactions.run(sub, options, permissions=VIEW_AND_SEND)
    assert "チャンネル管理者だけ" in _text(log)  # the channel reads the default language, ja
    assert _flags(log) & EPHEMERAL
    assert await channel_tags(ctx.db) == ["llm"]
    async with ctx.db.session() as session:
        after = (await session.scalars(select(Channel))).one()
        assert (after.tz, after.alerts_enabled, after.lang, after.digest_time) == snapshot


async def test_reading_commands_need_no_permission(
    interactions: Interactions, seeded: dict[str, int]
) -> None:
    log = await interactions.run("today", permissions=VIEW_AND_SEND)
    assert "Open weights model beats benchmarks" in _text(log)


async def test_mention_injection_titles_ping_nobody(
    interactions: Interactions, ctx: AppContext
) -> None:
    wire = await seed_source(ctx.db, "@everyone News <@&123456789012345678>")
    await seed_article(
        ctx.db,
        wire,
        "@everyone <@&123456789012345678> <@!123456789012345678> @here breaking",
        tldr="@here read this <@123456789012345678>.",
        tags=("@everyone",),
    )
    log = await interactions.run("today")
    [message] = log.messages()
    assert message["allowed_mentions"] == {"parse": []}
    text = _text(log)
    for raw in ("@everyone", "@here", "<@&1234", "<@!1234", "<@1234"):
        assert raw not in text
    assert "breaking" in text


async def test_tag_autocomplete_offers_recent_tags(
    interactions: Interactions, discord_api: FakeDiscordAPI, seeded: dict[str, int]
) -> None:
    log = await interactions.run("today", {"tag": "ag"}, autocomplete="tag")
    assert log.callback is not None and log.callback["type"] == 8
    values = [c["value"] for c in log.callback["data"]["choices"]]
    assert values == ["agents"]
    # For a list of tags the last word is completed and the earlier ones kept.
    log = await interactions.run("subscribe", {"tags": "llm o"}, autocomplete="tags")
    assert log.callback is not None
    assert [c["value"] for c in log.callback["data"]["choices"]] == ["llm open-source"]


async def test_unknown_article_is_a_short_ephemeral_error(
    interactions: Interactions, seeded: dict[str, int]
) -> None:
    log = await interactions.run("summary", {"article": "999999"})
    text = _text(log)
    assert "ID 999999 の記事はありません。" in text
    assert not any(apology in text for apology in APOLOGIES)
    # The public "thinking…" placeholder is removed so the error stays private.
    assert log.original_deleted
    assert log.followups and log.followups[0]["flags"] & EPHEMERAL


async def test_long_translation_answer_goes_out_as_follow_ups_and_a_file(
    interactions: Interactions, ctx: AppContext, discord_api: FakeDiscordAPI
) -> None:
    """The send path of a translation reply over the wire: several messages, then an attachment."""
    import discord

    from adapters.discord_client import AinewsCommands
    from bot.messages import Reply
    from digest.models import TranslationView

    def reply(body: str) -> Reply:
        view = TranslationView(lang="ja", status="complete", title="翻訳", body=body)
        return Reply(translation=view, translation_title="T", translation_url="https://x.example/1")

    answering = AinewsCommands(ctx)
    state = interactions.service.client._connection
    payload = interactions.payload("translate", {"article": "1"})
    await answering.respond(
        discord.Interaction(data=payload, state=state),  # type: ignore[arg-type]
        reply("これは文です。" * 700),
        ephemeral=False,
    )
    log = discord_api.interactions[payload["token"]]
    assert log.callback is not None and log.callback["type"] == 4
    assert len(log.followups) >= 2
    assert "".join(m["content"] for m in log.messages()[1:]) == "これは文です。" * 700

    payload = interactions.payload("translate", {"article": "1"})
    await answering.respond(
        discord.Interaction(data=payload, state=state),  # type: ignore[arg-type]
        reply("A sentence. " * 1500),
        ephemeral=False,
    )
    log = discord_api.interactions[payload["token"]]
    [(name, data)] = log.files
    assert name == "translation-ja.md" and b"A sentence." in data
    assert all(call.status < 400 for call in discord_api.calls)


async def test_sharding_and_missing_token(ctx: AppContext) -> None:
    import discord

    from adapters.discord_client import make_client
    from bot.config import Secrets
    from bot.errors import ConfigError

    sharded = ctx.settings.model_copy(
        update={"discord": ctx.settings.discord.model_copy(update={"shard_count": 2})}
    )
    client = make_client(sharded)
    assert isinstance(client, discord.AutoShardedClient) and client.shard_count == 2
    assert client.allowed_mentions is not None
    assert dict(client.allowed_mentions.to_dict()) == {"parse": []}
    plain = make_client(ctx.settings)
    assert not isinstance(plain, discord.AutoShardedClient)
    # Never logged in, so nothing to close (AutoShardedClient.close() needs a prior login).
    ctx.settings = ctx.settings.model_copy(update={"secrets": Secrets()})
    with pytest.raises(ConfigError, match="DISCORD_BOT_TOKEN"):
        await start_discord(ctx, connect_gateway=False)


async def test_translate_with_the_llm_goes_out_as_several_messages(
    discord_settings: Settings, db: Database, discord_api: FakeDiscordAPI, fixtures_dir: Path
) -> None:
    """`/ainews translate` end to end: deferred, the real translator against the fake LLM,
    then the translation split at sentence ends over several follow-ups."""
    async with running_fake_llm() as llm:
        llm_section = LLMSettings(base_url=llm.base_url, model="fake-model", timeout=5.0)
        settings = discord_settings.model_copy(update={"llm": llm_section})
        ctx = await build_context(settings, clock=FakeClock(NOW), upgrade=False)
        service = await start_discord(ctx, connect_gateway=False)
        try:
            source = await seed_source(ctx.db)
            content = "\n\n".join(
                f"Paragraph {n}. " + "This is one sentence of the article. " * 12 for n in range(12)
            )
            article = await seed_article(ctx.db, source, "A long article", content=content)
            template = json.loads(
                (
                    fixtures_dir
                    / "platform/discord/application-commands_slash-command-interaction.json"
                ).read_text(encoding="utf-8")
            )
            log = await Interactions(discord_api, service, template).run(
                "translate", {"article": str(article), "lang": "ja"}
            )
        finally:
            await service.close()
            await ctx.aclose()
    assert llm.calls >= 1
    assert log.callback is not None and log.callback["type"] == 5
    assert len(log.followups) >= 3
    bodies = [m["content"] for m in log.followups]
    assert all(len(body) <= 2000 for body in bodies)
    joined = "\n".join(bodies[1:])
    first, last = content.split("\n\n")[0], content.split("\n\n")[-1]
    assert fake_japanese(first)[:60] in joined and fake_japanese(last)[:60] in joined
    assert all(call.status < 400 for call in discord_api.calls)


async def test_a_command_slower_than_the_ack_budget_is_deferred(
    interactions: Interactions, seeded: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only `slow` specs: anything still running at the budget is deferred, then followed up."""
    monkeypatch.setattr("adapters.discord_client.ACK_BUDGET_SECONDS", 0.0)
    log = await interactions.run("today")
    assert log.callback is not None and log.callback["type"] == 5
    assert "Open weights model beats benchmarks" in _text(log)


@pytest.mark.parametrize("words", ["ok \u202eevil", "ok \x07bell"])
async def test_hidden_controls_are_refused_like_slack(
    interactions: Interactions, ctx: AppContext, words: str
) -> None:
    log = await interactions.run("search", {"words": words})
    assert "制御文字" in _text(log)
    assert _flags(log) & EPHEMERAL


async def test_stale_subcommand_gets_one_generic_line(
    interactions: Interactions, discord_api: FakeDiscordAPI
) -> None:
    """A subcommand Discord still shows after ainews dropped it: logged, answered, no crash."""
    payload = interactions.payload("help")
    payload["data"]["options"][0]["name"] = "retired"
    interactions.service.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
    await discord_api.wait_for(lambda: payload["token"] in discord_api.interactions)
    log = discord_api.interactions[payload["token"]]
    assert APOLOGIES[0] in _text(log)  # in `[translate] default_lang`
    assert _flags(log) & EPHEMERAL


@pytest.mark.parametrize("expiry", ["clock", "server"])
async def test_a_translation_that_outlives_the_interaction_token_is_posted_as_the_bot(
    discord_settings: Settings,
    db: Database,
    discord_api: FakeDiscordAPI,
    fixtures_dir: Path,
    expiry: str,
) -> None:
    async with running_fake_llm() as llm:
        llm_section = LLMSettings(base_url=llm.base_url, model="fake-model", timeout=5.0)
        settings = discord_settings.model_copy(update={"llm": llm_section})
        clock = FakeClock(NOW)
        ctx = await build_context(settings, clock=clock, upgrade=False)
        service = await start_discord(ctx, connect_gateway=False)
        try:
            source = await seed_source(ctx.db)
            content = "The lab released a model that plans before it answers. It is free to try."
            article = await seed_article(ctx.db, source, "A short note", content=content)
            template = json.loads(
                (
                    fixtures_dir
                    / "platform/discord/application-commands_slash-command-interaction.json"
                ).read_text(encoding="utf-8")
            )
            llm.hold = asyncio.Event()
            before = set(discord_api.interactions)
            running = asyncio.create_task(
                Interactions(discord_api, service, template).run(
                    "translate", {"article": str(article), "lang": "ja"}
                )
            )
            await llm.arrived.wait()  # deferred, and the translation is running
            [token] = set(discord_api.interactions) - before
            if expiry == "clock":
                clock.advance(minutes=16)  # ainews knows the token is gone and does not use it
            else:
                discord_api.expired_tokens.add(token)  # Discord refuses it (401 50027)
            llm.hold.set()
            log = await running
        finally:
            await service.close()
            await ctx.aclose()
    assert log.callback is not None and log.callback["type"] == 5
    assert log.followups == []
    posted = discord_api.messages[CHANNEL_ID]
    text = "\n".join(
        m.get("content") or json.dumps(m.get("embeds"), ensure_ascii=False) for m in posted
    )
    first = fake_japanese("The lab released a model that plans before it answers.").split("。")[0]
    assert first in text
    refused = [call for call in discord_api.calls if call.status == 401]
    assert len(refused) == (0 if expiry == "clock" else 1)  # one refusal, then the bot posts


async def test_subscribe_where_the_bot_cannot_send_says_what_to_grant(
    interactions: Interactions, ctx: AppContext
) -> None:
    view_only = str(1024)  # the bot may see the channel but not send messages there
    log = await interactions.run("subscribe", {"tags": "llm"}, app_permissions=view_only)
    assert "メッセージを送信" in _text(log)  # "Send Messages", in the channel's language
    assert _flags(log) & EPHEMERAL
    assert await channel_tags(ctx.db) == []
    log = await interactions.run("subscribe", {"tags": "llm"})
    assert "フォロー中のタグ: llm" in _text(log)
    assert await channel_tags(ctx.db) == ["llm"]

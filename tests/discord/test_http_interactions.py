"""Discord's Interactions Endpoint URL mode end to end: `ainews run` with
`[discord] interactions = "http"` serves `POST /discord/interactions` on the public listener,
and the fake Discord signs, posts, and reads the answers through its REST API."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from adapters.discord_interactions import (
    DiscordInteractions,
    SignatureVerifier,
    create_interactions_endpoint,
)
from adapters.listeners import create_public_app, start_listener
from adapters.main import serve
from bot.config import Secrets, Settings
from bot.context import build_context
from bot.store.db import Database
from bot.store.schema import SeenRequest
from tests.discord.conftest import (
    CHANNEL_ID,
    VIEW_AND_SEND,
    Interactions,
    channel_tags,
    seed_article,
    seed_source,
)
from tests.fakes.discord_api import BOT_TOKEN, FakeDiscordAPI, InteractionLog
from tests.fakes.discord_gateway import FakeDiscordGateway, running_fake_gateway
from tests.fakes.discord_http import DiscordInteractionSender
from tests.fakes.feed_server import FeedServer
from tests.service.test_platform_wiring import free_port, wait_healthy
from tests.waiting import until

EPHEMERAL = 64
SLASH_FIXTURE = "platform/discord/application-commands_slash-command-interaction.json"
WYCHEPROOF = "platform/discord/wycheproof_ed25519_test.json"


def test_every_wycheproof_vector_is_judged_right(fixtures_dir: Path) -> None:
    """The verifier the endpoint uses accepts every valid vector and rejects every invalid one."""
    suite = json.loads((fixtures_dir / WYCHEPROOF).read_text(encoding="utf-8"))
    judged = 0
    wrong: list[int] = []
    for group in suite["testGroups"]:
        verifier = SignatureVerifier(group["publicKey"]["pk"])
        for case in group["tests"]:
            accepted = verifier.verify(bytes.fromhex(case["msg"]), case["sig"])
            if accepted != (case["result"] == "valid"):
                wrong.append(case["tcId"])
            judged += 1
    assert judged == suite["numberOfTests"] == 151
    assert wrong == []


def test_a_malformed_public_key_stops_start_up() -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="DISCORD_PUBLIC_KEY"):
        SignatureVerifier("not-hex")
    with pytest.raises(ConfigError, match="DISCORD_PUBLIC_KEY"):
        SignatureVerifier("ab" * 31)


class HttpRig:
    """A running `ainews run` in HTTP interactions mode and a signing fake Discord."""

    def __init__(
        self, sender: DiscordInteractionSender, interactions: Interactions, gateway: Any
    ) -> None:
        self.sender = sender
        self.interactions = interactions
        self.api = sender.api
        self.gateway = gateway

    def payload(self, sub: str, options: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.interactions.payload(sub, options, **kw)

    async def send(self, payload: dict[str, Any], **kw: Any) -> Any:
        return await self.sender.send(payload, **kw)

    async def command(
        self, sub: str, options: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[Any, InteractionLog]:
        """Send `/ainews <sub>`; the HTTP response and the interaction's log at the fake."""
        payload = self.payload(sub, options, **kw)
        response = await self.send(payload)
        return response, self.api.interactions[payload["token"]]


@pytest.fixture
async def http_settings(
    make_settings: Callable[..., Settings],
    discord_api: FakeDiscordAPI,
) -> AsyncIterator[tuple[Settings, DiscordInteractionSender, FakeDiscordGateway]]:
    port = free_port()
    async with running_fake_gateway() as gateway:
        sender = DiscordInteractionSender(
            discord_api, f"http://127.0.0.1:{port}/discord/interactions"
        )
        settings = make_settings(
            discord={
                "api_base_url": discord_api.base_url,
                "gateway_url": gateway.url,
                "interactions": "http",
            },
            slack={"host": "127.0.0.1", "port": port},
            web={"enabled": False, "base_url": "https://ainews.example"},
            digest={"size": 20},
        )
        secrets = Secrets(
            discord_bot_token=SecretStr(BOT_TOKEN),
            discord_public_key=SecretStr(sender.public_key_hex),
        )
        yield settings.model_copy(update={"secrets": secrets}), sender, gateway


@pytest.fixture
async def rig(
    http_settings: tuple[Settings, DiscordInteractionSender, FakeDiscordGateway],
    db: Database,
    fixtures_dir: Path,
) -> AsyncIterator[HttpRig]:
    settings, sender, gateway = http_settings
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, stop=stop, announce=lambda _line: None))
    try:
        import httpx

        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{settings.slack.port}", timeout=5
        ) as client:
            await wait_healthy(client)
        await sender.api.wait_for(lambda: None in sender.api.commands)  # synced on start
        template = json.loads((fixtures_dir / SLASH_FIXTURE).read_text(encoding="utf-8"))
        # `Interactions` builds payloads from the synced commands; its service is not used here
        interactions = Interactions(sender.api, None, template)  # type: ignore[arg-type]
        yield HttpRig(sender, interactions, gateway)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=15)


async def _seen_rows(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(SeenRequest)) or 0)


async def test_ping_is_answered_and_every_bad_signature_gets_401_before_any_work(
    rig: HttpRig, db: Database
) -> None:
    ping = json.dumps({"id": "1", "type": 1, "application_id": "1", "token": "t"}).encode()
    good = rig.sender.signed_headers(ping)
    answered = await rig.sender.post(ping, good)
    assert answered.status_code == 200 and answered.json() == {"type": 1}

    old = str(int(time.time()) - 301)
    other = copy.deepcopy(good)
    other["X-Signature-Ed25519"] = rig.sender.sign(good["X-Signature-Timestamp"], ping + b" ")
    flipped = bytes.fromhex(good["X-Signature-Ed25519"])
    flipped = bytes([flipped[0] ^ 1]) + flipped[1:]
    attempts = {
        "no headers": {},
        "no signature": {"X-Signature-Timestamp": good["X-Signature-Timestamp"]},
        "no timestamp": {"X-Signature-Ed25519": good["X-Signature-Ed25519"]},
        "signature of another body": other,
        "one bit flipped": {**good, "X-Signature-Ed25519": flipped.hex()},
        "not hex": {**good, "X-Signature-Ed25519": "zz" * 64},
        "truncated": {**good, "X-Signature-Ed25519": good["X-Signature-Ed25519"][:-2]},
        "timestamp changed": {**good, "X-Signature-Timestamp": str(int(time.time()) + 1)},
        "signed but 301 s old": rig.sender.signed_headers(ping, old),
        "signed but not a number": rig.sender.signed_headers(ping, "soon"),
    }
    command = json.dumps(rig.payload("today")).encode()
    calls_before = len(rig.api.calls)
    for name, headers in attempts.items():
        for body in (ping, command):
            response = await rig.sender.post(body, headers)
            assert response.status_code == 401, name
    assert len(rig.api.calls) == calls_before  # nothing was answered
    assert await _seen_rows(db) == 0  # not even the dedupe table was touched


async def test_today_is_answered_and_a_replay_does_nothing(rig: HttpRig, db: Database) -> None:
    source = await seed_source(db, "Example Wire")
    now = datetime.now(UTC)
    await seed_article(db, source, "Open weights model beats benchmarks", published_at=now)
    payload = rig.payload("today")
    body = json.dumps(payload).encode()
    headers = rig.sender.signed_headers(body)
    rig.api.issue_interaction(payload["token"])
    first = await rig.sender.post(body, headers)
    assert first.status_code == 200
    answer = first.json()
    assert answer["type"] in (4, 5)
    await rig.api.accept_http_response(payload["token"], answer)
    log = rig.api.interactions[payload["token"]]
    if answer["type"] == 5:
        await rig.api.wait_for(lambda: log.original is not None)
    assert "Open weights model beats benchmarks" in json.dumps(log.messages())
    assert answer.get("data", {}).get("allowed_mentions") in ({"parse": []}, None)
    calls = len(rig.api.calls)

    replayed = await rig.sender.post(body, headers)  # the same bytes, still inside the window
    resigned = await rig.sender.post(body, rig.sender.signed_headers(body))  # same id, new sig
    assert (replayed.status_code, resigned.status_code) == (401, 401)
    assert len(rig.api.calls) == calls  # no second reply of any kind
    assert log.callbacks == 1 and len(log.followups) == 0


async def test_slow_commands_are_deferred_and_completed_through_the_webhook(
    rig: HttpRig, db: Database
) -> None:
    source = await seed_source(db, "Example Wire")
    article = await seed_article(db, source, "Agents framework released", importance=5)
    response, log = await rig.command("summary", {"article": str(article)})
    assert response.status_code == 200 and response.json()["type"] == 5
    await rig.api.wait_for(lambda: log.original is not None)
    text = json.dumps(log.messages(), ensure_ascii=False)
    assert "Agents framework released" in text and "深さ" in text and "5/5" in text
    edits = rig.api.calls_to(r"/webhooks/\d+/[^/]+/messages/@original$", "PATCH")
    assert [call.status for call in edits] == [200]
    assert edits[0].body["allowed_mentions"] == {"parse": []}
    assert not log.failed


async def test_private_answers_are_ephemeral_and_errors_say_why(rig: HttpRig) -> None:
    response, log = await rig.command("help")
    answer = response.json()
    assert answer["type"] == 4 and answer["data"]["flags"] == EPHEMERAL
    assert "/ainews today" in answer["data"]["content"] + json.dumps(answer["data"].get("embeds"))
    # a crafted request outside what the registered options allow is refused, not run
    crafted = rig.payload("alerts", {"state": "on"})
    crafted["data"]["options"][0]["options"].append({"type": 4, "name": "min", "value": 9})
    refused = (await rig.send(crafted)).json()
    assert refused["type"] == 4 and refused["data"]["flags"] == EPHEMERAL
    assert "between 1 and 5" in refused["data"]["content"]
    unknown = rig.payload("today")
    unknown["data"]["options"][0]["name"] = "rm-rf"
    assert "Unknown command" in (await rig.send(unknown)).json()["data"]["content"]
    assert not log.failed


async def test_channel_changes_need_manage_channels(rig: HttpRig, db: Database) -> None:
    denied, _ = await rig.command("subscribe", {"tags": "llm"}, permissions=VIEW_AND_SEND)
    assert denied.json()["data"]["flags"] == EPHEMERAL
    assert "チャンネル管理者だけ" in denied.json()["data"]["content"]  # "Only channel managers"
    assert await channel_tags(db, CHANNEL_ID) == []
    allowed, log = await rig.command("subscribe", {"tags": "llm, agents"})
    assert allowed.status_code == 200
    if allowed.json()["type"] == 5:
        await rig.api.wait_for(lambda: log.original is not None)
    assert await channel_tags(db, CHANNEL_ID) == ["agents", "llm"]


async def test_autocomplete_goes_through_the_same_table(rig: HttpRig, db: Database) -> None:
    source = await seed_source(db, "Example Wire")
    await seed_article(
        db, source, "Agents everywhere", tags=("agents", "llm"), published_at=datetime.now(UTC)
    )
    payload = rig.payload("subscribe", {"tags": "llm, ag"}, autocomplete="tags")
    response = await rig.send(payload)
    assert response.status_code == 200
    answer = response.json()
    assert answer["type"] == 8
    assert [c["value"] for c in answer["data"]["choices"]] == ["llm agents"]


async def test_http_mode_never_opens_the_gateway(rig: HttpRig) -> None:
    response, _ = await rig.command("help")
    assert response.status_code == 200
    assert rig.gateway.connections == 0


@asynccontextmanager
async def replica(
    settings: Settings, sender: DiscordInteractionSender
) -> AsyncIterator[tuple[DiscordInteractions, DiscordInteractionSender]]:
    """One more process's worth of endpoint on its own listener, sharing the store."""
    ctx = await build_context(settings, upgrade=False)
    endpoint = create_interactions_endpoint(ctx)
    listener = start_listener(
        "replica", create_public_app(ctx, [endpoint.route()]), "127.0.0.1", 0, "test"
    )
    serving = asyncio.create_task(listener.serve())
    try:
        yield endpoint, DiscordInteractionSender(sender.api, f"{listener.url}discord/interactions")
    finally:
        listener.stop()
        await serving
        listener.close()
        await endpoint.aclose()
        await ctx.aclose()


def _payloads(sender: DiscordInteractionSender, fixtures_dir: Path) -> Interactions:
    template = json.loads((fixtures_dir / SLASH_FIXTURE).read_text(encoding="utf-8"))
    sender.api.commands[None] = [_ainews_command()]
    return Interactions(sender.api, None, template)  # type: ignore[arg-type]


async def test_dedupe_holds_across_replicas(
    http_settings: tuple[Settings, DiscordInteractionSender, FakeDiscordGateway],
    db: Database,
    fixtures_dir: Path,
) -> None:
    """Two replicas on one store: an interaction answered by one is a replay to the other."""
    settings, sender, _ = http_settings
    body = json.dumps(_payloads(sender, fixtures_dir).payload("help")).encode()
    statuses = []
    for _ in range(2):
        async with replica(settings, sender) as (_endpoint, discord):
            statuses.append((await discord.post(body, discord.signed_headers(body))).status_code)
    assert statuses == [200, 401]


async def test_an_answer_later_than_the_token_life_is_dropped(
    http_settings: tuple[Settings, DiscordInteractionSender, FakeDiscordGateway],
    db: Database,
    fixtures_dir: Path,
) -> None:
    """A deferred answer is completed within the token's life or not at all (never half)."""
    settings, sender, _ = http_settings
    async with FeedServer() as pages, replica(settings, sender) as (endpoint, discord):
        endpoint.token_life = 0.5  # instead of 15 minutes
        slow = pages.hang("/article-that-never-loads")
        payload = _payloads(sender, fixtures_dir).payload("summary", {"article": slow})
        response = await discord.send(payload)
        assert response.status_code == 200 and response.json()["type"] == 5
        # the command is cancelled at the token's end
        await until(lambda: endpoint.pending == 0, what="the late command to be cancelled")
    assert not sender.api.calls_to(rf"/webhooks/\d+/{payload['token']}")


def _ainews_command() -> dict[str, Any]:
    """The registered `/ainews` group as the fake stores it after a sync (two subcommands)."""
    return {
        "id": "1200000000000000001",
        "name": "ainews",
        "options": [
            {"type": 1, "name": "help", "description": "What ainews can do"},
            {
                "type": 1,
                "name": "summary",
                "description": "TL;DR of one article",
                "options": [{"type": 3, "name": "article", "description": "Article id or URL"}],
            },
        ],
    }


async def test_a_long_answer_continues_as_follow_ups(rig: HttpRig, db: Database) -> None:
    source = await seed_source(db, "Example Wire")
    now = datetime.now(UTC)
    titles = [f"Story number {n} about language models" for n in range(15)]
    for title in titles:
        await seed_article(db, source, title, published_at=now)
    response, log = await rig.command("today")
    assert response.status_code == 200
    await rig.api.wait_for(lambda: log.original is not None and len(log.followups) >= 1)
    shown = json.dumps(log.messages())
    assert all(title in shown for title in titles)
    assert not log.failed


async def test_an_odd_but_signed_payload_gets_an_answer_not_a_500(rig: HttpRig) -> None:
    odd = rig.payload("today")
    odd["member"] = "not an object"
    odd["channel"] = ["nor", "this"]
    answered = await rig.send(odd)
    assert answered.status_code == 200 and answered.json()["type"] in (4, 5)
    bad_options = rig.payload("today")
    bad_options["data"]["options"][0]["options"] = "tag=llm"
    refused = await rig.send(bad_options)
    assert refused.status_code == 200
    assert refused.json()["data"]["flags"] == EPHEMERAL
    assert "Malformed options" in refused.json()["data"]["content"]
    not_json = b"{not json"
    assert (await rig.sender.post(not_json, rig.sender.signed_headers(not_json))).status_code == 400

"""Discord test rig: the fake REST API on loopback, a client logged in against it, a seeded store,
and interactions built from the shared slash-command fixture and dispatched into discord.py's state.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from adapters.discord_client import DiscordService, start_discord
from bot.config import Secrets, Settings
from bot.context import AppContext, build_context
from bot.store.db import Database
from bot.store.schema import ArticleRow, Channel, EnrichmentRow, Source, Story, Subscription
from tests.fakes.discord_api import (
    APP_ID,
    BOT_TOKEN,
    FakeDiscordAPI,
    InteractionLog,
    running_fake_discord,
)
from tests.fakes.store_seed import FakeClock

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 12:00 in Asia/Tokyo, the default zone
GUILD_ID = "290926798626357999"
CHANNEL_ID = "645027906669510667"
ALL_PERMISSIONS = "2147483647"
VIEW_AND_SEND = str(1024 | 2048)  # View Channel + Send Messages: no Manage Channels


@pytest.fixture
async def discord_api() -> AsyncIterator[FakeDiscordAPI]:
    async with running_fake_discord() as api:
        yield api


@pytest.fixture
def discord_settings(
    make_settings: Callable[..., Settings], discord_api: FakeDiscordAPI
) -> Settings:
    settings = make_settings(
        discord={"api_base_url": discord_api.base_url},
        web={"base_url": "https://ainews.example"},
    )
    return settings.model_copy(update={"secrets": Secrets(discord_bot_token=SecretStr(BOT_TOKEN))})


@pytest.fixture
async def ctx(db: Database, discord_settings: Settings) -> AsyncIterator[AppContext]:
    """The real application context (offline enricher; a translator only when `[llm]` is set)."""
    context = await build_context(discord_settings, clock=FakeClock(NOW), upgrade=False)
    yield context
    await context.aclose()


@pytest.fixture
async def service(ctx: AppContext) -> AsyncIterator[DiscordService]:
    """Logged in and synced against the fake (REST only; no gateway)."""
    running = await start_discord(ctx, connect_gateway=False)
    yield running
    await running.close()


_ids = itertools.count(786008729715212400)


@dataclass
class Interactions:
    """`/ainews <sub>` interactions built from the shared fixture, run through the tree."""

    api: FakeDiscordAPI
    service: DiscordService
    template: dict[str, Any]

    def payload(
        self,
        sub: str,
        options: dict[str, Any] | None = None,
        *,
        permissions: str = ALL_PERMISSIONS,
        app_permissions: str = ALL_PERMISSIONS,
        channel_id: str = CHANNEL_ID,
        autocomplete: str | None = None,
    ) -> dict[str, Any]:
        payload = copy.deepcopy(self.template)
        interaction_id = str(next(_ids))
        payload["id"] = interaction_id
        payload["token"] = f"token-{interaction_id}"
        self.api.interaction_created(payload["token"])
        payload["application_id"] = APP_ID
        payload["version"] = 1
        payload["attachment_size_limit"] = 10 * 1024 * 1024
        payload["member"]["permissions"] = permissions
        # what the bot may do in the channel; Discord sends it with every interaction
        payload["app_permissions"] = app_permissions
        # Fields today's API always sends that the (older) documented example lacks.
        payload["member"].setdefault("flags", 0)
        payload["channel_id"] = channel_id
        payload["channel"] = {
            "id": channel_id,
            "type": 0,
            "guild_id": payload["guild_id"],
            "name": "ai-news",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
        }
        command = next(c for c in self.api.commands[None] if c["name"] == "ainews")
        spec = next(o for o in command["options"] if o["name"] == sub)
        kinds = {o["name"]: o["type"] for o in spec.get("options", [])}
        given = []
        for name, value in (options or {}).items():
            option: dict[str, Any] = {"type": kinds[name], "name": name, "value": value}
            if name == autocomplete:
                option["focused"] = True
            given.append(option)
        payload["data"] = {
            "type": 1,
            "name": "ainews",
            "id": command["id"],
            "options": [{"type": 1, "name": sub, "options": given}],
        }
        if autocomplete is not None:
            payload["type"] = 4
        return payload

    async def run(
        self, sub: str, options: dict[str, Any] | None = None, **kw: Any
    ) -> InteractionLog:
        """Dispatch like the gateway's INTERACTION_CREATE and wait for the tree to finish."""
        payload = self.payload(sub, options, **kw)
        before = {t for t in asyncio.all_tasks() if t.get_name() == "CommandTree-invoker"}
        # The gateway's own entry point; `_connection` is private, but this is the least-private
        # way to feed an interaction into discord.py without a websocket.
        self.service.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        invokers = {
            t for t in asyncio.all_tasks() if t.get_name() == "CommandTree-invoker"
        } - before
        await asyncio.wait_for(asyncio.gather(*invokers), timeout=15)
        return self.api.interactions[payload["token"]]


@pytest.fixture
async def interactions(
    discord_api: FakeDiscordAPI, service: DiscordService, fixtures_dir: Path
) -> Interactions:
    path = (
        fixtures_dir
        / "platform"
        / "discord"
        / "application-commands_slash-command-interaction.json"
    )
    template = json.loads(path.read_text(encoding="utf-8"))
    return Interactions(discord_api, service, template)


# ---- store seeding ---------------------------------------------------------------------------
async def seed_source(db: Database, name: str = "Example Wire", kind: str = "feed") -> int:
    async with db.session() as session:
        source = Source(
            name=name,
            url=f"https://example.com/{hashlib.md5(name.encode()).hexdigest()}.xml",
            kind=kind,
        )
        session.add(source)
        await session.flush()
        return source.id


async def seed_article(
    db: Database,
    source_id: int,
    title: str,
    *,
    published_at: datetime = NOW - timedelta(hours=1),
    importance: int = 4,
    tags: tuple[str, ...] = ("llm",),
    tldr: str | None = None,
    content: str = "",
    points: int | None = None,
) -> int:
    """One story with one enriched article; returns the article id."""
    digest_key = hashlib.sha256(f"{source_id}:{title}".encode()).hexdigest()
    async with db.session() as session:
        story = Story(title=title, fingerprint=digest_key, first_seen_at=published_at)
        session.add(story)
        await session.flush()
        article = ArticleRow(
            source_id=source_id,
            story_id=story.id,
            identity=digest_key,
            guid=digest_key,
            url=f"https://news.example/{digest_key[:12]}",
            canonical_url=f"https://news.example/{digest_key[:12]}",
            title=title,
            content=content or f"{title}. The body of the article.",
            lang="en",
            published_at=published_at,
            fetched_at=published_at,
            points=points,
            enrich_status="done",
        )
        session.add(article)
        await session.flush()
        session.add(
            EnrichmentRow(
                article_id=article.id,
                tldr=tldr
                if tldr is not None
                else f"What {title} means, in two sentences. It matters.",
                key_points=["First point.", "Second point."],
                tags=list(tags),
                depth=importance,
                relevance=importance,
                practicality=3,
                innovation=3,
                reasons={
                    "depth": "Explains the method.",
                    "relevance": "About language models.",
                    "practicality": "Code is available.",
                    "innovation": "Incremental.",
                },
                importance=importance,
                lang="en",
                engine="offline",
            )
        )
        return article.id


async def channel_tags(db: Database, channel_id: str = CHANNEL_ID) -> list[str]:
    async with db.session() as session:
        rows = await session.scalars(
            select(Subscription.tag)
            .join(Channel, Channel.id == Subscription.channel_id)
            .where(Channel.platform == "discord", Channel.channel == channel_id)
            .order_by(Subscription.tag)
        )
        return list(rows)

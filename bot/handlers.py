"""Handlers behind the command table (bot/commands.py); each returns a neutral Reply.

A handler reads or changes the store and says what happened; it never formats for a platform.
User mistakes raise `CommandError` (shown with the usage); anything else is the dispatcher's to log.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.channels import (
    ChannelPrefs,
    channel_tags,
    enable_channel,
    find_channel,
    get_or_create_channel,
    normalise_tags,
    prefs_of,
)
from bot.channels import subscribe as add_tags
from bot.channels import unsubscribe as drop_tags
from bot.config import parse_hh_mm
from bot.digests import digest_for
from bot.enrich.pipeline import enrich_article
from bot.enrich.translate import NO_LLM_MESSAGE
from bot.errors import CommandError, FetchError
from bot.ingest.poll import fetch_article
from bot.messages import CommandRequest, Destination, Reply
from bot.replies import card_text, cards_text, digest_text, translation_text
from bot.search import recent_tags, search_articles, source_health
from bot.store.read import article_card
from digest.models import ArticleCard, DigestKind

if TYPE_CHECKING:
    from bot.context import AppContext

MAX_URL_CHARS = 2000
MAX_TAGS_PER_COMMAND = 20
MAX_SEARCH_WORDS = 8
_TAG = re.compile(r"^[\w][\w.+#-]{0,49}$")
_LANG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


def _destination(request: CommandRequest) -> Destination:
    return Destination(request.platform, request.workspace, request.channel)


async def _channel_view(
    ctx: AppContext, request: CommandRequest
) -> tuple[ChannelPrefs, int | None, list[str]]:
    """The channel's prefs, row id and tags; read-only commands need no channel row."""
    async with ctx.db.session() as session:
        channel = await find_channel(session, _destination(request))
        if channel is None:
            return prefs_of(ctx.settings, None), None, []
        return prefs_of(ctx.settings, channel), channel.id, await channel_tags(session, channel.id)


async def _digest_reply(
    ctx: AppContext, request: CommandRequest, kind: DigestKind, tag: str | None
) -> Reply:
    prefs, channel_id, followed = await _channel_view(ctx, request)
    tags = [_valid_tag(tag)] if tag else followed
    digest = await digest_for(
        ctx, kind, tz=prefs.tz, lang=prefs.lang, tags=tags, channel_id=channel_id
    )
    return Reply(text=digest_text(digest), digest=digest)


async def today(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    return await _digest_reply(ctx, request, "daily", args.get("tag"))


async def week(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    return await _digest_reply(ctx, request, "weekly", args.get("tag"))


async def hn(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    return await _digest_reply(ctx, request, "hn", None)


def parse_ref(raw: str) -> int | str:
    """An article id, or an http(s) URL without credentials; anything else is a user error."""
    value = raw.strip().strip("<>")
    if value.isdigit() and len(value) <= 12:
        return int(value)
    if len(value) > MAX_URL_CHARS:
        raise CommandError(f"That URL is longer than {MAX_URL_CHARS} characters.")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as error:
        raise CommandError("That is not a valid URL.") from error
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise CommandError("Give an article id (a number) or an http(s) URL.")
    if parts.username or parts.password:
        raise CommandError("URLs with a user name or password are not accepted.")
    return value


async def _fetch_on_demand(ctx: AppContext, url: str) -> int:
    """The stored article with this URL's canonical form, else fetched now with the ingest
    policy (SSRF guard included): `fetch_article` looks the URL up before fetching."""
    try:
        return await fetch_article(ctx, url)
    except FetchError as error:
        raise CommandError(f"Could not fetch that page: {str(error)[:300]}") from error


async def resolve_article(ctx: AppContext, raw: str) -> int:
    ref = parse_ref(raw)
    if isinstance(ref, int):
        return ref
    return await _fetch_on_demand(ctx, ref)


async def _card(ctx: AppContext, article_id: int) -> ArticleCard:
    async with ctx.db.session() as session:
        card = await article_card(session, article_id)
    if card is None:
        raise CommandError(f"No article with id {article_id}.")
    return card


async def summary(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    article_id = await resolve_article(ctx, args["article"])
    card = await _card(ctx, article_id)
    if card.importance is None:
        # not enriched yet (new, or its last try failed): do it now rather than show a bare card;
        # a stale enrichment is still shown and the pipeline refreshes it in the background
        await enrich_article(ctx, article_id)
        card = await _card(ctx, article_id)
    return Reply(text=card_text(card), card=card)


async def translate(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    parse_ref(args["article"])
    lang = _valid_lang(args["lang"]) if args.get("lang") else ctx.settings.translate.default_lang
    if ctx.translator is None:
        raise CommandError(NO_LLM_MESSAGE)
    card = await _card(ctx, await resolve_article(ctx, args["article"]))
    view = await ctx.translator.translate_article(ctx, card.article_id, lang)
    return Reply(
        text=translation_text(view, card.title),
        translation=view,
        translation_title=card.title,
        translation_url=card.url,
    )


def _valid_tag(raw: str) -> str:
    tag = raw.strip().lstrip("#").lower()
    if not _TAG.match(tag):
        raise CommandError(
            f"{raw[:40]!r} is not a tag: use letters, digits and - . + # (up to 50 characters)."
        )
    return tag


def _valid_tags(raw: list[str]) -> list[str]:
    if len(raw) > MAX_TAGS_PER_COMMAND:
        raise CommandError(f"At most {MAX_TAGS_PER_COMMAND} tags at a time.")
    return normalise_tags(_valid_tag(tag) for tag in raw)


def _valid_lang(raw: str) -> str:
    lang = raw.strip().lower()
    if not _LANG.match(lang):
        raise CommandError(f"{raw[:20]!r} is not a language code; use one like ja, en or pt-br.")
    return lang


def _valid_tz(raw: str) -> str:
    try:
        if len(raw) > 64:
            raise ValueError(raw)
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise CommandError(
            f"{raw[:64]!r} is not a time zone; use an IANA name like Asia/Tokyo."
        ) from error
    return raw


def _valid_time(raw: str) -> str:
    try:
        hour, minute = parse_hh_mm(raw)
    except ValueError as error:
        raise CommandError(f"{raw[:20]!r} is not a time; use 24-hour HH:MM like 08:30.") from error
    return f"{hour:02d}:{minute:02d}"


CANNOT_POST = (
    "I can't post in this channel: invite @ainews first (`/invite @ainews`), then try again."
)


def _check_can_post(request: CommandRequest) -> None:
    """Refuse to subscribe a channel the adapter found the bot cannot post in."""
    if request.bot_can_post is False:
        raise CommandError(request.post_problem or CANNOT_POST)


async def subscribe(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    wanted = _valid_tags(args["tags"])
    _check_can_post(request)
    async with ctx.db.session() as session:
        channel = await get_or_create_channel(
            session, _destination(request), name=request.channel_name
        )
        reenabled = await enable_channel(session, channel)
        now = await add_tags(session, channel, wanted)
    text = f"This channel now follows: {', '.join(now)}."
    if reenabled:
        text += " Deliveries to it are back on."
    return Reply(text=text)


async def resume(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    """Re-enable a channel that was disabled after a delivery error; its waiting rows go out."""
    _check_can_post(request)
    async with ctx.db.session() as session:
        channel = await find_channel(session, _destination(request))
        if channel is None or channel.status == "active":
            return Reply(text="Deliveries to this channel are on; nothing to resume.")
        await enable_channel(session, channel)
    return Reply(text="Deliveries to this channel are back on; waiting messages follow shortly.")


async def unsubscribe(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    unwanted = _valid_tags(args["tags"])
    async with ctx.db.session() as session:
        channel = await find_channel(session, _destination(request))
        now = await drop_tags(session, channel, unwanted) if channel is not None else []
    if not now:
        return Reply(text="This channel follows no tags now, so it gets every story.")
    return Reply(text=f"This channel now follows: {', '.join(now)}.")


def _prefs_reply(
    prefs: ChannelPrefs, tags: list[str], *, saved: bool = False, disabled: str | None = None
) -> Reply:
    alerts = f"on, importance {prefs.alert_threshold} and up" if prefs.alerts_enabled else "off"
    if disabled is not None:
        alerts = "paused with every delivery (see above)"
    lines = (
        *(("Saved.",) if saved else ()),
        *(
            (f"Deliveries: disabled — {disabled[:300]}. Fix it, then `/ainews resume`.",)
            if disabled is not None
            else ()
        ),
        f"Tags: {', '.join(tags) if tags else 'none (every story)'}",
        f"Language: {prefs.lang}",
        f"Time zone: {prefs.tz}",
        f"Daily digest at: {prefs.digest_time}",
        f"Alerts: {alerts}",
    )
    return Reply(text="\n".join(lines), lines=lines, ephemeral=True)


async def subscriptions(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    async with ctx.db.session() as session:
        channel = await find_channel(session, _destination(request))
        tags = await channel_tags(session, channel.id) if channel is not None else []
        prefs = prefs_of(ctx.settings, channel)
        disabled = None
        if channel is not None and channel.status != "active":
            disabled = channel.disabled_reason or "disabled"
    return _prefs_reply(prefs, tags, disabled=disabled)


async def alerts(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    enable = args["state"] == "on"
    threshold: int | None = args.get("min")
    if not enable and threshold is not None:
        raise CommandError("`alerts off` takes no number.", "/ainews alerts on [min] | off")
    async with ctx.db.session() as session:
        channel = await get_or_create_channel(
            session, _destination(request), name=request.channel_name
        )
        channel.alerts_enabled = enable
        if threshold is not None:
            channel.alert_threshold = threshold
        prefs = prefs_of(ctx.settings, channel)
    if not enable:
        return Reply(text="Alerts are off for this channel.")
    return Reply(
        text=f"Alerts are on: stories of importance {prefs.alert_threshold} and up, hourly."
    )


async def settings(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    if not args:
        return await subscriptions(ctx, request, args)
    lang = _valid_lang(args["lang"]) if "lang" in args else None
    tz = _valid_tz(args["tz"]) if "tz" in args else None
    at = _valid_time(args["time"]) if "time" in args else None
    async with ctx.db.session() as session:
        channel = await get_or_create_channel(
            session, _destination(request), name=request.channel_name
        )
        if lang is not None:
            channel.lang = lang
        if tz is not None:
            channel.tz = tz
        if at is not None:
            channel.digest_time = at
        prefs = prefs_of(ctx.settings, channel)
        tags = await channel_tags(session, channel.id)
    return _prefs_reply(prefs, tags, saved=True)


async def search(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    words = str(args["words"]).split()
    if len(words) > MAX_SEARCH_WORDS:
        raise CommandError(f"Search takes at most {MAX_SEARCH_WORDS} words.")
    if sum(len(word) for word in words) < 2:
        raise CommandError("Search for at least two characters.")
    async with ctx.db.session() as session:
        found = await search_articles(session, words)
    query = " ".join(words)
    if not found:
        return Reply(text=f"Nothing found for “{query}”.", ephemeral=True)
    heading = f"{len(found)} results for “{query}”"
    return Reply(text=cards_text(heading, found), cards=tuple(found))


async def tags(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    since = ctx.clock.now() - timedelta(days=7)
    async with ctx.db.session() as session:
        counted = await recent_tags(session, since)
    if not counted:
        return Reply(text="No tags in the last 7 days yet.", ephemeral=True)
    lines = tuple(f"{tag} ({count})" for tag, count in counted)
    return Reply(text="Tags of the last 7 days:\n" + "\n".join(lines), lines=lines, ephemeral=True)


async def sources(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    async with ctx.db.session() as session:
        health = await source_health(session)
    if not health:
        return Reply(text="No sources yet.", ephemeral=True)
    lines = []
    for item in health:
        if item.disabled:
            state = f"disabled after {item.error_count} errors: {item.last_error or 'unknown'}"
        elif item.ok:
            state = "ok"
        else:
            state = f"{item.error_count} errors, last: {item.last_error or 'unknown'}"
        lines.append(f"{item.name}: {state[:300]}")
    return Reply(text="Sources:\n" + "\n".join(lines), lines=tuple(lines), ephemeral=True)


async def help_(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    from bot.commands import commands, help_text

    # `lines` carry no markup, so every renderer shows them as typed.
    lines = tuple(f"{spec.usage} — {spec.description}" for spec in commands())
    return Reply(text=help_text(), lines=lines, ephemeral=True)

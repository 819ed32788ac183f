"""Handlers behind the command table (bot/commands.py); each returns a neutral Reply.

A handler reads or changes the store and says what happened as catalogue data (`msg(...)`); it
never words or formats anything, so adapters can render it in the channel's language. User
mistakes raise `CommandError` (shown with the usage); anything else is the dispatcher's to log.
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
from bot.errors import CommandError, FetchError
from bot.ingest.on_demand import fetch_article
from bot.messages import CommandRequest, Destination, Msg, Reply, msg
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
    return Reply(digest=digest, lang=prefs.lang)


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
        raise CommandError(msg("error.url_too_long", limit=MAX_URL_CHARS))
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as error:
        raise CommandError(msg("error.bad_url")) from error
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise CommandError(msg("error.ref"))
    if parts.username or parts.password:
        raise CommandError(msg("error.url_credentials"))
    return value


async def _fetch_on_demand(ctx: AppContext, url: str) -> int:
    """The stored article with this URL's canonical form, else fetched now with the ingest
    policy (SSRF guard included): `fetch_article` looks the URL up before fetching."""
    try:
        return await fetch_article(ctx, url)
    except FetchError as error:
        raise CommandError(msg("error.fetch", reason=str(error)[:300])) from error


async def resolve_article(ctx: AppContext, raw: str) -> int:
    ref = parse_ref(raw)
    if isinstance(ref, int):
        return ref
    return await _fetch_on_demand(ctx, ref)


async def _card(ctx: AppContext, article_id: int) -> ArticleCard:
    async with ctx.db.session() as session:
        card = await article_card(session, article_id)
    if card is None:
        raise CommandError(msg("error.no_article", id=article_id))
    return card


async def summary(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    article_id = await resolve_article(ctx, args["article"])
    card = await _card(ctx, article_id)
    if card.importance is None:
        # not enriched yet (new, or its last try failed): do it now rather than show a bare card;
        # a stale enrichment is still shown and the pipeline refreshes it in the background
        await enrich_article(ctx, article_id)
        card = await _card(ctx, article_id)
    return Reply(card=card)


async def translate(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    parse_ref(args["article"])
    lang = _valid_lang(args["lang"]) if args.get("lang") else ctx.settings.translate.default_lang
    if ctx.translator is None:
        raise CommandError(msg("no_llm"))
    card = await _card(ctx, await resolve_article(ctx, args["article"]))
    view = await ctx.translator.translate_article(ctx, card.article_id, lang)
    return Reply(
        translation=view,
        translation_title=card.title,
        translation_url=card.url,
    )


def _valid_tag(raw: str) -> str:
    tag = raw.strip().lstrip("#").lower()
    if not _TAG.match(tag):
        raise CommandError(msg("error.bad_tag", tag=repr(raw[:40])))
    return tag


def _valid_tags(raw: list[str]) -> list[str]:
    if len(raw) > MAX_TAGS_PER_COMMAND:
        raise CommandError(msg("error.too_many_tags", count=MAX_TAGS_PER_COMMAND))
    return normalise_tags(_valid_tag(tag) for tag in raw)


def _valid_lang(raw: str) -> str:
    lang = raw.strip().lower()
    if not _LANG.match(lang):
        raise CommandError(msg("error.bad_lang", value=repr(raw[:20])))
    return lang


def _valid_tz(raw: str) -> str:
    try:
        if len(raw) > 64:
            raise ValueError(raw)
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise CommandError(msg("error.bad_tz", value=repr(raw[:64]))) from error
    return raw


def _valid_time(raw: str) -> str:
    try:
        hour, minute = parse_hh_mm(raw)
    except ValueError as error:
        raise CommandError(msg("error.bad_time", value=repr(raw[:20]))) from error
    return f"{hour:02d}:{minute:02d}"


CANNOT_POST = msg("error.cannot_post")


def _check_can_post(request: CommandRequest) -> None:
    """Refuse to subscribe a channel the adapter found the bot cannot post in."""
    if request.bot_can_post is False:
        raise CommandError(msg(request.post_problem) if request.post_problem else CANNOT_POST)


async def subscribe(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    wanted = _valid_tags(args["tags"])
    _check_can_post(request)
    async with ctx.db.session() as session:
        channel = await get_or_create_channel(
            session, _destination(request), name=request.channel_name
        )
        reenabled = await enable_channel(session, channel)
        now = await add_tags(session, channel, wanted)
    following = msg("subscribe.following", tags=tuple(now))
    if reenabled:
        return Reply(lines=(following, msg("subscribe.reenabled")))
    return Reply(message=following)


async def resume(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    """Re-enable a channel that was disabled after a delivery error; its waiting rows go out."""
    _check_can_post(request)
    async with ctx.db.session() as session:
        channel = await find_channel(session, _destination(request))
        if channel is None or channel.status == "active":
            return Reply(message=msg("resume.nothing"))
        await enable_channel(session, channel)
    return Reply(message=msg("resume.done"))


async def unsubscribe(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    unwanted = _valid_tags(args["tags"])
    async with ctx.db.session() as session:
        channel = await find_channel(session, _destination(request))
        now = await drop_tags(session, channel, unwanted) if channel is not None else []
    if not now:
        return Reply(message=msg("subscribe.none"))
    return Reply(message=msg("subscribe.following", tags=tuple(now)))


def _prefs_reply(
    prefs: ChannelPrefs, tags: list[str], *, saved: bool = False, disabled: str | None = None
) -> Reply:
    """The channel's settings, worded in its (possibly just changed) language; a disabled
    channel says why and what to do."""
    alerts = (
        msg("prefs.alerts_on", threshold=prefs.alert_threshold)
        if prefs.alerts_enabled
        else msg("prefs.alerts_off")
    )
    if disabled is not None:
        alerts = msg("prefs.alerts_paused")
    lines: tuple[Msg, ...] = (
        *((msg("prefs.saved"),) if saved else ()),
        *((msg("prefs.disabled", reason=disabled[:300]),) if disabled is not None else ()),
        msg("prefs.tags", tags=tuple(tags) if tags else msg("prefs.tags_none")),
        msg("prefs.lang", lang=prefs.lang),
        msg("prefs.tz", tz=prefs.tz),
        msg("prefs.digest_time", time=prefs.digest_time),
        alerts,
    )
    return Reply(lines=lines, ephemeral=True, lang=prefs.lang)


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
        raise CommandError(msg("error.alerts_off_number"), "/ainews alerts on [min] | off")
    async with ctx.db.session() as session:
        channel = await get_or_create_channel(
            session, _destination(request), name=request.channel_name
        )
        channel.alerts_enabled = enable
        if threshold is not None:
            channel.alert_threshold = threshold
        prefs = prefs_of(ctx.settings, channel)
    if not enable:
        return Reply(message=msg("alerts.off"))
    return Reply(message=msg("alerts.on", threshold=prefs.alert_threshold))


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
        raise CommandError(msg("error.search_words", count=MAX_SEARCH_WORDS))
    if sum(len(word) for word in words) < 2:
        raise CommandError(msg("error.search_short"))
    async with ctx.db.session() as session:
        found = await search_articles(session, words)
    query = " ".join(words)
    if not found:
        return Reply(message=msg("search.none", query=query), ephemeral=True)
    heading = msg("search.count", count=len(found), query=query)
    return Reply(message=heading, cards=tuple(found))


async def tags(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    since = ctx.clock.now() - timedelta(days=7)
    async with ctx.db.session() as session:
        counted = await recent_tags(session, since)
    if not counted:
        return Reply(message=msg("tags.none"), ephemeral=True)
    lines = tuple(msg("tags.line", count=count, tag=tag) for tag, count in counted)
    return Reply(message=msg("tags.heading"), lines=lines, ephemeral=True)


async def sources(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    async with ctx.db.session() as session:
        health = await source_health(session)
    if not health:
        return Reply(message=msg("sources.none"), ephemeral=True)
    lines = []
    for item in health:
        error = item.last_error[:300] if item.last_error else msg("sources.unknown_error")
        if item.disabled:
            line = msg("sources.disabled", count=item.error_count, name=item.name, error=error)
        elif item.ok:
            line = msg("sources.ok", name=item.name)
        else:
            line = msg("sources.failing", count=item.error_count, name=item.name, error=error)
        lines.append(line)
    return Reply(message=msg("sources.heading"), lines=tuple(lines), ephemeral=True)


async def help_(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    from bot.commands import commands

    # `lines` carry no markup, so every renderer shows them as typed.
    lines = tuple(
        msg("help.line", usage=spec.usage, description=Msg(spec.description)) for spec in commands()
    )
    return Reply(message=msg("help.heading"), lines=lines, ephemeral=True)

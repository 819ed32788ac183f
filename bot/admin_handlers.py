"""Chat administration: sources, mutes, feedback, and the two questions a team asks of a bot —
why did this arrive here, and what will the next digest hold.

`why` and `preview` read the same tuning (mutes, feedback) and the same digest assembly as the
outbox does, so their answers are the decisions the outbox makes, not a second opinion.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import select

from bot.channels import channel_tags, find_channel, get_or_create_channel, prefs_of
from bot.config import SourceSettings, describe_validation, parse_hh_mm
from bot.digests import ALERT_KEY_PREFIX, digest_for
from bot.errors import CommandError
from bot.feedback import MAX_BOOST, record_vote, reset
from bot.handlers import _destination, parse_ref
from bot.messages import N_, CommandRequest, Msg, Reply, msg
from bot.mutes import KINDS, Mute, add_mute, resolve_mute
from bot.store.read import candidate_query, load_candidates
from bot.store.schema import ArticleRow, ChannelMute, Delivery, Source
from bot.store.sources import add_source, find_source, remove_source
from bot.tuning import NO_TUNING, entities_for, tuning_by_channel
from digest.build import matches_tags

if TYPE_CHECKING:
    from bot.context import AppContext

# ---- sources -------------------------------------------------------------------------------


async def sources(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    """`sources` lists; `sources add <url> [name]` and `sources remove <id|url>` change them."""
    from bot.handlers import sources as list_sources

    action = args.get("action") or "list"
    target = str(args.get("target") or "").strip().strip("<>")
    if action == "list":
        if target:
            raise CommandError(msg("admin.sources.lists_only"))
        return await list_sources(ctx, request, args)
    if not target:
        raise CommandError(
            msg("admin.sources.missing_target", action=action), "/ainews sources add|remove <url>"
        )
    # the manager rule for `add` and `remove` is applied by the dispatcher (`managing_actions`)
    if action == "add":
        return await _add_source(ctx, target, str(args.get("name") or "").strip())
    return await _remove_source(ctx, target)


async def _add_source(ctx: AppContext, url: str, name: str) -> Reply:
    if not name:
        name = urlsplit(url).hostname or url
    try:
        checked = SourceSettings(name=name[:200], url=url)
    except ValidationError as error:
        problem = describe_validation(error, SourceSettings)
        raise CommandError(msg("admin.sources.invalid", problem=problem)) from error
    async with ctx.db.session() as session:
        existing = await session.scalar(select(Source).where(Source.url == checked.url))
        if existing is not None:
            return Reply(message=msg("admin.sources.exists", name=existing.name, id=existing.id))
        row = await add_source(
            session, name=checked.name, url=checked.url, kind="feed", lang="", weight=1.0
        )
    return Reply(message=msg("admin.sources.added", name=row.name, id=row.id))


async def _remove_source(ctx: AppContext, target: str) -> Reply:
    configured = {source.url for source in ctx.settings.sources}
    async with ctx.db.session() as session:
        found = await find_source(session, target)
        if found is None:
            raise CommandError(msg("admin.sources.not_found", target=repr(target[:80])))
        if found.url in configured:
            raise CommandError(msg("admin.sources.in_config", name=found.name))
        removed = await remove_source(session, str(found.id))
    assert removed is not None
    return Reply(message=msg("admin.sources.removed", name=removed.name))


# ---- mutes ---------------------------------------------------------------------------------


async def mute(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    words = str(args.get("what") or "").split()
    async with ctx.db.session() as session:
        channel = await get_or_create_channel(
            session, _destination(request), name=request.channel_name
        )
        if not words:
            return Reply(
                message=_mutes_text(await _channel_mutes(session, channel.id)), ephemeral=True
            )
        wanted = await resolve_mute(session, words)
        added = await add_mute(session, channel.id, wanted)
    said = N_("mute.added") if added else N_("mute.already")
    return Reply(message=msg(said, what=wanted.describe()))


async def unmute(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    words = str(args.get("what") or "").split()
    if not words:
        raise CommandError(msg("unmute.what"), "/ainews unmute <source|keyword|tag>")
    kind = words[0].casefold() if words[0].casefold() in KINDS and len(words) > 1 else None
    text = " ".join(words[1:] if kind else words).strip().lstrip("#").casefold()
    async with ctx.db.session() as session:
        channel = await find_channel(session, _destination(request))
        rows = await _channel_mutes(session, channel.id) if channel else []
        matching = [
            row
            for row in rows
            if (kind is None or row.kind == kind)
            and text in (row.value, row.label.casefold(), str(row.id))
        ]
        for row in matching:
            await session.delete(row)
        left = [row for row in rows if row not in matching]
    if not matching:
        raise CommandError(msg("unmute.not_muted", what=repr(text[:60]), mutes=_mutes_text(left)))
    gone = tuple(_row_mute(row).describe() for row in matching)
    return Reply(message=msg("unmute.done", items=gone))


async def _channel_mutes(session: Any, channel_id: int) -> list[ChannelMute]:
    rows = await session.scalars(
        select(ChannelMute).where(ChannelMute.channel_id == channel_id).order_by(ChannelMute.id)
    )
    return list(rows)


def _row_mute(row: ChannelMute) -> Mute:
    kind = row.kind if row.kind in KINDS else "keyword"
    return Mute(kind, row.value, row.label)


def _mutes_text(rows: list[ChannelMute]) -> Msg:
    if not rows:
        return msg("mute.none")
    return msg("mute.list", items=tuple(_row_mute(row).describe() for row in rows))


# ---- feedback ------------------------------------------------------------------------------


async def feedback(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    """`feedback` shows, `feedback reset` forgets, `feedback <id> up|down` votes like a reaction."""
    words = str(args.get("what") or "").split()
    async with ctx.db.session() as session:
        channel = await get_or_create_channel(
            session, _destination(request), name=request.channel_name
        )
        if words == ["reset"]:
            removed = await reset(session, channel.id)
            return Reply(message=msg("feedback.reset", count=removed))
        if len(words) == 2 and words[1].casefold() in ("up", "down"):
            article_id = await _article_id(ctx, words[0])
            article = await session.get(ArticleRow, article_id)
            if article is None or article.story_id is None:
                raise CommandError(msg("admin.no_article", id=article_id))
            vote = 1 if words[1].casefold() == "up" else -1
            await record_vote(session, channel.id, article.story_id, request.user, vote)
            noted = N_("feedback.noted_up") if vote > 0 else N_("feedback.noted_down")
            return Reply(message=msg(noted), ephemeral=True)
        if words:
            raise CommandError(msg("feedback.unknown"), "/ainews feedback [reset | <id> up|down]")
        prefs = (await tuning_by_channel(session, [channel.id]))[channel.id].prefs
    if not prefs.net:
        return Reply(message=msg("feedback.none"), ephemeral=True)
    lines = tuple(f"{feature}: {votes:+d}" for feature, votes in sorted(prefs.net.items()))
    return Reply(message=msg("feedback.heading"), lines=lines, ephemeral=True)


async def _article_id(ctx: AppContext, raw: str) -> int:
    ref = parse_ref(raw)
    if isinstance(ref, int):
        return ref
    from bot.handlers import resolve_article

    return await resolve_article(ctx, raw)


# ---- why and preview -----------------------------------------------------------------------


async def why(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    article_id = await _article_id(ctx, args["article"])
    async with ctx.db.session() as session:
        article = await session.get(ArticleRow, article_id)
        if article is None:
            raise CommandError(msg("admin.no_article", id=article_id))
        query = candidate_query().where(ArticleRow.id == article_id)
        found = await load_candidates(session, query)
        channel = await find_channel(session, _destination(request))
        prefs = prefs_of(ctx.settings, channel)
        followed = await channel_tags(session, channel.id) if channel else []
        tuning = NO_TUNING
        if channel is not None:
            tuning = (await tuning_by_channel(session, [channel.id]))[channel.id]
        sent = await _sent_here(session, channel.id, article.story_id) if channel else []
        entities = await entities_for(session, [tuning], found)
    if not found:
        raise CommandError(msg("why.unscored", id=article_id))
    story = found[0]
    lines: list[Msg] = [msg("why.title", title=story.title, id=article_id)]
    if story.scores is not None:
        reasons = "; ".join(
            f"{name} {dim['score']}: {dim['reason']}"
            for name, dim in story.scores.as_dict().items()
        )
        lines.append(msg("why.score", importance=story.importance, reasons=reasons))
    else:
        lines.append(msg("why.score_plain", importance=story.importance))
    bonus, reasons_used = tuning.prefs.explain(story, entities.get(story.article_id, ()))
    state = msg("why.alerts_on") if prefs.alerts_enabled else msg("why.alerts_off")
    meets = story.importance + bonus >= prefs.alert_threshold
    detail: Msg | str = (
        msg("why.with_feedback", importance=story.importance, bonus=f"{bonus:+.2f}")
        if bonus
        else ""
    )
    verdict = N_("why.threshold_meets") if meets else N_("why.threshold_below")
    lines.append(
        msg(
            verdict,
            state=state,
            threshold=prefs.alert_threshold,
            detail=detail,
        )
    )
    if not followed:
        lines.append(msg("why.subscription_all"))
    elif matches_tags(story, followed):
        hit = tuple(sorted({t.lower() for t in story.tags} & set(followed)))
        lines.append(msg("why.subscription_match", tags=hit))
    else:
        lines.append(msg("why.subscription_none", tags=tuple(followed)))
    muted = tuning.mutes.reason(story)
    considered: Msg | tuple[Msg, ...] = tuple(m.describe() for m in tuning.mutes.items) or msg(
        "why.mutes_unset"
    )
    if muted is not None:
        lines.append(msg("why.mutes_hidden", mute=muted.describe(), mutes=considered))
    else:
        lines.append(msg("why.mutes_none", mutes=considered))
    if reasons_used:
        lines.append(
            msg(
                "why.feedback",
                bonus=f"{bonus:+.2f}",
                reasons=tuple(reasons_used),
                bound=f"{MAX_BOOST:g}",
            )
        )
    else:
        lines.append(msg("why.feedback_none"))
    lines.append(msg("why.sent", rows=tuple(sent)) if sent else msg("why.sent_none"))
    return Reply(lines=tuple(lines), ephemeral=True)


async def _sent_here(session: Any, channel_id: int, story_id: int | None) -> list[Msg]:
    """Outbox rows of this channel that carry the story: its alert and any digest listing it."""
    if story_id is None:
        return []
    rows = await session.scalars(
        select(Delivery)
        .where(Delivery.channel_id == channel_id)
        .order_by(Delivery.id.desc())
        .limit(200)
    )
    found: list[Msg] = []
    for row in rows:
        if row.key == f"{ALERT_KEY_PREFIX}{story_id}":
            found.append(msg("why.sent_alert", status=row.status))
        elif row.kind != "alert":
            items = (row.payload.get("digest") or {}).get("items") or []
            if any(item.get("story_id") == story_id for item in items):
                found.append(msg("why.sent_digest", key=row.key, status=row.status))
    return found


async def preview(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    """The next daily digest of this channel as it would go out now: its tags, zone, language,
    mutes and feedback, built by the same code the outbox uses."""
    async with ctx.db.session() as session:
        channel = await find_channel(session, _destination(request))
        prefs = prefs_of(ctx.settings, channel)
        followed = await channel_tags(session, channel.id) if channel else []
    # a pushed digest covers the whole local day before its digest time: before today's time
    # that is yesterday (going out today), after it today (going out tomorrow)
    local_now = ctx.clock.now().astimezone(ZoneInfo(prefs.tz))
    hour, minute = parse_hh_mm(prefs.digest_time)
    day = local_now.date()
    if local_now.time().replace(tzinfo=None) < time(hour, minute):
        day -= timedelta(days=1)
    digest = await digest_for(
        ctx,
        "daily",
        day=day,
        tz=prefs.tz,
        lang=prefs.lang,
        tags=followed,
        channel_id=channel.id if channel else None,
    )
    heading = msg("preview.heading", time=prefs.digest_time, tz=prefs.tz)
    return Reply(message=heading, digest=digest, ephemeral=True, lang=prefs.lang)


__all__ = ["Mute", "feedback", "mute", "preview", "sources", "unmute", "why"]

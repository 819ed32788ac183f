"""Chat administration through the neutral dispatcher on both stores: sources, mutes, feedback,
and `why`/`preview` agreeing with what the outbox actually queues."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from adapters.reply_text import reply_text
from bot.alerts import enqueue_alerts
from bot.commands import dispatch
from bot.config import Settings
from bot.context import AppContext, build_context
from bot.digests import enqueue_due_digests
from bot.feedback import MAX_BOOST
from bot.messages import CommandRequest, Reply
from bot.store.schema import Channel, Delivery, EnrichmentRow, Source
from tests.commands.seeding import add_article, add_source
from tests.fakes.store_seed import FakeClock

DAY = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # noon in Tokyo, the default zone
BEFORE_DIGEST = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)  # 08:00 Tokyo on the 29th
DIGEST_DUE = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)  # 09:00 Tokyo: the 28th goes out


@pytest.fixture
async def ctx(make_settings: Callable[..., Settings]) -> AsyncIterator[AppContext]:
    settings = make_settings(
        sources=[{"name": "Configured", "url": "https://configured.example/feed"}],
        translate={"default_lang": "en"},  # the assertions below read the English wording
    )
    context = await build_context(settings, clock=FakeClock(BEFORE_DIGEST), upgrade=False)
    yield context
    await context.aclose()


def said(ctx: AppContext, reply: Reply) -> str:
    """The reply as the channel reads it (plain text, in the reply's language)."""
    return reply_text(reply, ctx.settings)


def ask(
    text: str, *, user: str = "U1", can_manage: bool = True, platform: str = "slack"
) -> CommandRequest:
    return CommandRequest(
        platform=platform,  # type: ignore[arg-type]
        workspace="T1",
        channel="C1",
        user=user,
        text=text,
        can_manage=can_manage,
    )


async def _seed(ctx: AppContext) -> dict[str, int]:
    db = ctx.db
    wire = await add_source(db, "Wire")
    noisy = await add_source(db, "Noisy Aggregator")
    return {
        "top": await add_article(db, wire, "Open model tops reasoning", DAY, importance=5),
        "noisy": await add_article(
            db, noisy, "Agents everywhere", DAY, importance=4, tags=("agents",)
        ),
        "crypto": await add_article(db, wire, "Crypto bot uses LLM", DAY, importance=4),
        "evals": await add_article(db, wire, "New evals suite", DAY, importance=3, tags=("evals",)),
        "robots": await add_article(
            db, wire, "Robot arm demo", DAY + timedelta(hours=1), importance=3, tags=("robotics",)
        ),
    }  # fmt: skip


def _ids(items: object) -> list[int]:
    return [item.article_id for item in items]  # type: ignore[attr-defined]


async def _queued_digest(ctx: AppContext) -> list[int]:
    async with ctx.db.session() as session:
        row = await session.scalar(select(Delivery).where(Delivery.key == "daily:2026-11-28"))
    assert row is not None and row.status == "pending"
    return [item["article_id"] for item in row.payload["digest"]["items"]]


async def test_why_and_preview_agree_with_the_outbox(ctx: AppContext) -> None:
    ids = await _seed(ctx)
    plain = await dispatch(ctx, ask("preview"))
    assert plain.digest is not None and not plain.is_error
    assert _ids(plain.digest.items) == [
        ids["top"], ids["noisy"], ids["crypto"], ids["robots"], ids["evals"]
    ]  # fmt: skip

    assert "Muted source Noisy Aggregator" in said(
        ctx, await dispatch(ctx, ask("mute Noisy Aggregator"))
    )
    assert "Muted keyword crypto" in said(ctx, await dispatch(ctx, ask("mute keyword crypto")))
    listed = await dispatch(ctx, ask("mute"))
    assert "source Noisy Aggregator" in said(ctx, listed) and "keyword crypto" in said(ctx, listed)
    # three people like the evals story: its tag and source move up, within the bound
    for user in ("U1", "U2", "U3"):
        voted = await dispatch(ctx, ask(f"feedback {ids['evals']} up", user=user, can_manage=False))
        assert not voted.is_error, said(ctx, voted)

    preview = await dispatch(ctx, ask("preview"))
    assert preview.digest is not None
    previewed = _ids(preview.digest.items)
    assert previewed == [ids["top"], ids["evals"], ids["robots"]]

    ctx.clock.set(DIGEST_DUE)  # type: ignore[attr-defined]
    assert await enqueue_due_digests(ctx) >= 1
    assert await _queued_digest(ctx) == previewed
    await enqueue_alerts(ctx)
    async with ctx.db.session() as session:
        alerts = await session.scalars(select(Delivery).where(Delivery.kind == "alert"))
        alerted = {row.payload["item"]["article_id"] for row in alerts}
    # muted stories are not alerted (noisy 4, crypto 4); feedback lifts evals 3 to the 4+ line
    assert alerted == {ids["top"], ids["evals"]}

    why_top = said(ctx, await dispatch(ctx, ask(f"why {ids['top']}")))
    assert "importance 5/5" in why_top and "depth 5: explains the method" in why_top
    assert "alerts on at 4+ here; this story importance 5 with feedback +0.75 meets it" in why_top
    assert "Feedback: ranking +0.75 from source:Wire +3" in why_top  # votes on a sibling story
    assert "follows every story" in why_top
    assert "Mutes: none match (mutes: source Noisy Aggregator, keyword crypto)" in why_top
    assert "daily:2026-11-28 digest (pending)" in why_top and "alert (pending)" in why_top

    why_noisy = said(ctx, await dispatch(ctx, ask(f"why {ids['noisy']}")))
    assert "hidden here by source Noisy Aggregator" in why_noisy
    assert "Sent here: not yet" in why_noisy
    why_evals = said(ctx, await dispatch(ctx, ask(f"why {ids['evals']}")))
    assert "Feedback: ranking +1.00 from" in why_evals and "tag:evals +3" in why_evals
    assert f"bounded to ±{MAX_BOOST:g}" in why_evals
    assert (
        "importance 3 with feedback +1.00 meets it" in why_evals and "alert (pending)" in why_evals
    )

    unmuted = await dispatch(ctx, ask("unmute crypto"))
    assert "Unmuted keyword crypto" in said(ctx, unmuted)


async def test_feedback_is_bounded_resettable_and_never_rescores(ctx: AppContext) -> None:
    ids = await _seed(ctx)
    for number in range(30):
        await dispatch(
            ctx, ask(f"feedback {ids['robots']} up", user=f"U{number}", can_manage=False)
        )
        await dispatch(ctx, ask(f"feedback {ids['top']} down", user=f"U{number}", can_manage=False))
    preview = await dispatch(ctx, ask("preview"))
    assert preview.digest is not None
    order = _ids(preview.digest.items)
    # robots (3) gains at most 1 and top (5) loses at most 1: top still ranks first (4 vs 4
    # would tie, and more sources or recency break it) — no amount of votes flips 5 below 3
    assert order.index(ids["top"]) < order.index(ids["evals"])
    assert order[0] in (ids["top"], ids["robots"])
    assert [
        item.importance for item in preview.digest.items if item.article_id == ids["robots"]
    ] == [3]
    async with ctx.db.session() as session:
        stored = {
            row.article_id: row.importance for row in await session.scalars(select(EnrichmentRow))
        }
    assert stored[ids["robots"]] == 3 and stored[ids["top"]] == 5
    shown = await dispatch(ctx, ask("feedback"))
    assert "tag:robotics: +4" in said(ctx, shown)  # each feature counts at most four net votes
    denied = await dispatch(ctx, ask("feedback reset", platform="discord", can_manage=False))
    assert denied.is_error and "Only channel managers" in said(ctx, denied)
    cleared = await dispatch(ctx, ask("feedback reset"))
    assert "Forgot 60 votes" in said(ctx, cleared)
    plain = await dispatch(ctx, ask("preview"))
    assert plain.digest is not None and _ids(plain.digest.items)[0] == ids["top"]


async def test_sources_add_and_remove_from_chat(ctx: AppContext) -> None:
    member = await dispatch(
        ctx, ask("sources add https://blog.example/feed.xml", platform="discord", can_manage=False)
    )
    assert member.is_error and "Only channel managers" in said(ctx, member)
    added = await dispatch(ctx, ask("sources add https://blog.example/feed.xml Example Blog"))
    assert "Added source Example Blog" in said(ctx, added)
    again = await dispatch(ctx, ask("sources add https://blog.example/feed.xml Renamed"))
    assert "Already a source: Example Blog" in said(ctx, again)
    bad = await dispatch(ctx, ask("sources add ftp://blog.example/feed"))
    assert bad.is_error and "http:// or https://" in said(ctx, bad)
    listed = await dispatch(ctx, ask("sources", can_manage=False))
    assert "Example Blog" in said(ctx, listed)
    async with ctx.db.session() as session:
        row = await session.scalar(select(Source).where(Source.name == "Example Blog"))
        assert row is not None
        source_id = row.id
        await session.execute(select(Channel))
    removed = await dispatch(ctx, ask(f"sources remove {source_id}"))
    assert "Removed source Example Blog" in said(ctx, removed)
    await dispatch(ctx, ask("sources add https://configured.example/feed"))
    configured = await dispatch(ctx, ask("sources remove https://configured.example/feed"))
    assert configured.is_error and "config file" in said(ctx, configured)
    missing = await dispatch(ctx, ask("sources remove 99999"))
    assert missing.is_error and "No source" in said(ctx, missing)

"""Slack reactions on pushed alerts as feedback (`reaction_added` / `reaction_removed` events,
scope `reactions:read`): translated to a neutral vote; the bot layer decides what it means."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.feedback import vote_by_reaction
from bot.messages import Destination

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)


def register_reactions(app: AsyncApp, ctx: AppContext) -> None:
    async def on_reaction(ack: AsyncAck, event: dict[str, Any], body: dict[str, Any]) -> None:
        await ack()
        item = event.get("item") or {}
        if item.get("type") != "message":
            return
        try:
            await vote_by_reaction(
                ctx,
                Destination(
                    "slack", str(body.get("team_id") or ""), str(item.get("channel") or "")
                ),
                str(item.get("ts") or ""),
                str(event.get("user") or ""),
                str(event.get("reaction") or ""),
                removed=event.get("type") == "reaction_removed",
            )
        except Exception:
            log.exception("slack reaction not recorded")

    app.event("reaction_added")(on_reaction)
    app.event("reaction_removed")(on_reaction)

"""Discord reactions on pushed alerts as feedback, from the gateway's raw reaction events (the
non-privileged guild reactions intent): translated to a neutral vote for the bot layer."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.feedback import vote_by_reaction
from bot.messages import Destination

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)


def register_reactions(client: discord.Client, ctx: AppContext) -> None:
    async def on_reaction(event: discord.RawReactionActionEvent) -> None:
        if event.guild_id is None or (client.user is not None and event.user_id == client.user.id):
            return
        try:
            await vote_by_reaction(
                ctx,
                Destination("discord", str(event.guild_id), str(event.channel_id)),
                str(event.message_id),
                str(event.user_id),
                str(event.emoji.name or ""),
                removed=event.event_type == "REACTION_REMOVE",
            )
        except Exception:
            log.exception("discord reaction not recorded")

    async def on_raw_reaction_add(event: discord.RawReactionActionEvent) -> None:
        await on_reaction(event)

    async def on_raw_reaction_remove(event: discord.RawReactionActionEvent) -> None:
        await on_reaction(event)

    client.event(on_raw_reaction_add)
    client.event(on_raw_reaction_remove)

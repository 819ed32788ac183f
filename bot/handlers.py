"""Handlers behind the command table (bot/commands.py); each returns a neutral Reply."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.errors import CommandError
from bot.messages import CommandRequest, Reply

if TYPE_CHECKING:
    from bot.context import AppContext


async def _pending(ctx: AppContext, request: CommandRequest, args: dict[str, Any]) -> Reply:
    # Placeholder until the handlers land (issue 5); answers honestly instead of pretending.
    raise CommandError("This command is not available yet.")


today = week = hn = summary = translate = subscribe = unsubscribe = _pending
subscriptions = alerts = settings = search = tags = sources = help_ = _pending

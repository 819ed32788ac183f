"""What `/healthz` reports: the reasons, if any, that ainews is not doing its job right now."""

from __future__ import annotations

import logging

from sqlalchemy import text

from bot.platforms import paused_platforms
from bot.runtime import StoreContext

log = logging.getLogger(__name__)


async def health_problems(ctx: StoreContext) -> list[str]:
    """Human-readable reasons, empty when healthy: the store is unreachable, or a platform is
    paused because its token was refused (it stays paused until the token changes)."""
    try:
        async with ctx.db.session() as session:
            await session.execute(text("SELECT 1"))
            paused = await paused_platforms(session, ctx.settings)
    except Exception as error:
        log.warning("health check: database unreachable: %s", type(error).__name__)
        return ["database unreachable"]
    return [
        f"{platform} paused: {reason} (set a new token or run `ainews platforms resume {platform}`)"
        for platform, reason in sorted(paused.items())
    ]

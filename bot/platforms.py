"""Platforms paused because their token was refused: no more calls until the token changes.

Slack (`invalid_auth`, `token_revoked`, …) and Discord (401) say the *token* is bad, not a
channel; Discord counts every further 401 toward its invalid-request ban. So the platform is paused
with its reason and a fingerprint of the token it used — never the token itself. A new token (a
different fingerprint) resumes it on its own; an operator can resume it by hand.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.store.schema import PlatformState

__all__ = ["pause_platform", "paused_platforms", "resume_platform", "token_fingerprint"]


def token_fingerprint(settings: Settings, platform: str) -> str | None:
    """A short one-way hash of the platform's bot token, enough to notice that it changed."""
    secrets = settings.secrets
    secret = {"slack": secrets.slack_bot_token, "discord": secrets.discord_bot_token}.get(platform)
    if secret is None:
        return None
    digest = hashlib.sha256(b"ainews-token-fingerprint:" + secret.get_secret_value().encode())
    return digest.hexdigest()[:16]


async def paused_platforms(session: AsyncSession, settings: Settings) -> dict[str, str]:
    """Paused platforms and why; a pause recorded under another token is lifted here."""
    paused: dict[str, str] = {}
    for state in await session.scalars(select(PlatformState).where(PlatformState.paused)):
        current = token_fingerprint(settings, state.platform)
        if state.token_fingerprint is not None and current != state.token_fingerprint:
            state.paused, state.reason = False, None
            continue
        paused[state.platform] = state.reason or "paused"
    return paused


async def pause_platform(
    session: AsyncSession, settings: Settings, platform: str, reason: str, now: datetime
) -> None:
    state = await session.get(PlatformState, platform)
    if state is None:
        try:
            async with session.begin_nested():
                session.add(PlatformState(platform=platform))
        except IntegrityError:
            pass  # another worker paused it at the same moment; update that row
        state = await session.get(PlatformState, platform, populate_existing=True)
        assert state is not None
    state.paused = True
    state.reason = reason
    state.token_fingerprint = token_fingerprint(settings, platform)
    state.paused_at = now
    await session.flush()


async def resume_platform(session: AsyncSession, platform: str) -> bool:
    """Lift a pause by hand; False when the platform was not paused."""
    state = await session.get(PlatformState, platform)
    if state is None or not state.paused:
        return False
    state.paused, state.reason = False, None
    return True

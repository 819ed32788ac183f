"""Permalinks: every chat message links to its story's page on the web view."""

from __future__ import annotations

from bot.config import Settings


def article_permalink(settings: Settings, article_id: int) -> str:
    return f"{settings.web.base_url.rstrip('/')}/a/{article_id}"


def digest_permalink(settings: Settings, kind: str, day: str) -> str:
    path = "hn" if kind == "hn" else f"digest/{kind}"
    return f"{settings.web.base_url.rstrip('/')}/{path}/{day}"

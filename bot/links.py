"""Permalinks: every chat message links to its story's page on the web view."""

from __future__ import annotations

from bot.config import Settings


def article_permalink(settings: Settings, article_id: int) -> str:
    return f"{settings.web.base_url.rstrip('/')}/a/{article_id}"


# Sections without a day in their address: the page always shows the current ranking.
SECTION_PAGES = {"tools": "tools", "videos": "videos"}


def digest_permalink(settings: Settings, kind: str, day: str) -> str:
    if kind in SECTION_PAGES:
        return f"{settings.web.base_url.rstrip('/')}/{SECTION_PAGES[kind]}"
    path = "hn" if kind == "hn" else f"digest/{kind}"
    return f"{settings.web.base_url.rstrip('/')}/{path}/{day}"

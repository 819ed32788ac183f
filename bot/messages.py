"""The adapter contract: neutral requests in, neutral replies out.

Adapters translate platform events into `CommandRequest` and render `Reply`; neither side knows the
other's types, so Slack, Discord, the CLI and the web share one set of handlers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from digest.models import ArticleCard, Digest, TranslationView
from digest.trends import TrendReport

Platform = Literal["slack", "discord", "console", "web"]


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a message goes: one channel of one workspace/guild on one platform."""

    platform: str
    workspace: str
    channel: str


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """One `/ainews …` invocation; `can_manage` is the platform's verdict on channel management."""

    platform: Platform
    workspace: str
    channel: str
    user: str
    text: str
    can_manage: bool = False
    channel_name: str = ""
    locale: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler answers; adapters choose the rendering, not the content.

    Exactly one of the payload fields is usually set; `text` is always a plain-text fallback that
    makes sense alone (Slack notifications, terminals, screen readers).
    """

    text: str
    ephemeral: bool = False
    is_error: bool = False
    digest: Digest | None = None
    card: ArticleCard | None = None
    cards: tuple[ArticleCard, ...] = ()
    translation: TranslationView | None = None
    translation_title: str = ""
    translation_url: str = ""
    lines: tuple[str, ...] = field(default_factory=tuple)
    # A chart adapters upload beside the message (Slack files.uploadV2, a Discord attachment).
    chart_png: bytes = b""
    chart_name: str = ""
    trends: TrendReport | None = None
    # Plain lines shown above `cards` (a company's models and tools).
    intro: tuple[str, ...] = field(default_factory=tuple)

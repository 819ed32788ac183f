"""The adapter contract: neutral requests in, neutral replies out.

Adapters translate platform events into `CommandRequest` and render `Reply`; neither side knows the
other's types, so Slack, Discord, the CLI and the web share one set of handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from digest.models import ArticleCard, Digest, TranslationView
from digest.trends import TrendReport

Platform = Literal["slack", "discord", "console", "web"]


MsgValue: TypeAlias = "str | int | Msg | tuple[str | Msg, ...]"


@dataclass(frozen=True, slots=True)
class Msg:
    """Something to tell a user, as data: a catalogue message id and the values it shows.

    The bot layer never words anything itself; adapters render a `Msg` in the reader's language
    (adapters/i18n.py). `count` picks the plural form and is shown as `{n}`; a tuple value is
    shown as a list and a nested `Msg` is rendered first.
    """

    key: str
    values: tuple[tuple[str, MsgValue], ...] = ()
    count: int | None = None


def msg(key: str, /, *, count: int | None = None, **values: MsgValue) -> Msg:
    """`msg("subscribe.following", tags=("llm", "gpu"))`; ids are checked against both
    catalogues by tests/i18n."""
    return Msg(key, tuple(sorted(values.items())), count)


def _key_form(message: Msg) -> str:
    shown = ", ".join(f"{name}={value}" for name, value in message.values)
    return f"{message.key} ({shown})" if shown else message.key


_plain_renderer: list[Callable[[Msg], str]] = [_key_form]


def set_plain_renderer(render: Callable[[Msg], str]) -> None:
    """Adapters install the English catalogue here, so an error explained as a `Msg` also has a
    readable `str()` for logs and tracebacks (the bot layer never words messages itself)."""
    _plain_renderer[:] = [render]


def plain_text(message: Msg) -> str:
    """`message` as the installed plain (English) renderer words it."""
    return _plain_renderer[0](message)


def N_(key: str) -> str:  # noqa: N802  (the gettext convention for a deferred message id)
    """Marks a message id stored for later rendering (command descriptions)."""
    return key


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
    # The adapter's check that the bot may post in this channel (None: not checked), and what the
    # user should do about it when it may not ("invite @ainews first").
    bot_can_post: bool | None = None
    post_problem: str = ""  # catalogue id of why the bot cannot post here (adapter-specific)


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler answers; adapters choose the rendering, not the content.

    Exactly one of the payload fields is usually set. `message` (or `lines`) is what to say, as
    catalogue data; `lang` is the language the channel reads, so every renderer can word the
    reply and its plain-text fallback in it.
    """

    message: Msg | str | None = None
    ephemeral: bool = False
    is_error: bool = False
    digest: Digest | None = None
    card: ArticleCard | None = None
    cards: tuple[ArticleCard, ...] = ()
    translation: TranslationView | None = None
    translation_title: str = ""
    translation_url: str = ""
    lines: tuple[Msg | str, ...] = field(default_factory=tuple)
    usage: str = ""
    lang: str = ""
    # A chart adapters upload beside the message (Slack files.uploadV2, a Discord attachment).
    chart_png: bytes = b""
    chart_name: str = ""
    trends: TrendReport | None = None
    # Lines shown above `cards` (a company's models and tools).
    intro: tuple[Msg | str, ...] = field(default_factory=tuple)

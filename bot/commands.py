"""The one command table: Slack parsing, the Discord command group, help text and the CLI read it.

Each `CommandSpec` declares its parameters once; `parse_text` turns `/ainews <text>` into typed
arguments and `dispatch` runs the handler, turning user mistakes into a reason plus usage and
anything unexpected into one generic line (the traceback goes to the log).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bot.errors import CommandError
from bot.messages import CommandRequest, Reply
from bot.observe import COMMAND_ANSWER_SECONDS

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)

ParamKind = Literal["str", "int", "tag", "tags", "words", "lang", "ref", "choice"]
Handler = Callable[["AppContext", CommandRequest, dict[str, Any]], Awaitable[Reply]]

MAX_COMMAND_CHARS = 500
SOURCE_ACTIONS = ("list", "add", "remove")
# Bidi overrides/isolates can make a reply read differently from what was typed (Trojan Source).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
GENERIC_FAILURE = "Sorry, something went wrong on our side. It has been logged."


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter: `words`/`tags` take the rest of the text; `ref` is an article id or URL."""

    name: str
    kind: ParamKind
    description: str
    required: bool = False
    choices: tuple[str, ...] = ()
    min_value: int | None = None
    max_value: int | None = None


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One subcommand. `slow` means adapters must acknowledge first and answer as a follow-up;
    `manages_channel` means only channel managers may run it when the config says so."""

    name: str
    description: str
    params: tuple[ParamSpec, ...]
    handler: Handler
    slow: bool = False
    manages_channel: bool = False
    ephemeral: bool = False
    # first-argument values that make an otherwise open command a managing one (`sources add`)
    managing_actions: tuple[str, ...] = ()

    def manages(self, args: dict[str, Any]) -> bool:
        """Whether this invocation changes shared settings, so the manager rule applies."""
        if self.manages_channel:
            return True
        if not self.managing_actions or not self.params:
            return False
        first = str(args.get(self.params[0].name) or "").split()
        return bool(first) and first[0].lower() in self.managing_actions

    @property
    def usage(self) -> str:
        parts = [f"/ainews {self.name}"]
        for param in self.params:
            label = "|".join(param.choices) if param.choices else param.name
            if param.kind in ("words", "tags"):
                label += "…"
            parts.append(f"<{label}>" if param.required else f"[{label}]")
        return " ".join(parts)


def _table() -> tuple[CommandSpec, ...]:
    from bot import admin_handlers as admin
    from bot import handlers as h

    tag = ParamSpec("tag", "tag", "Only stories with this tag")
    ref = ParamSpec("article", "ref", "Article id or URL", required=True)
    return (
        CommandSpec("today", "Today's scored digest", (tag,), h.today),
        CommandSpec("week", "This week's digest with rising tags", (tag,), h.week),
        CommandSpec("hn", "Today's top Hacker News stories about AI", (), h.hn),
        CommandSpec(
            "summary", "TL;DR, key points and scores of one article", (ref,), h.summary, slow=True
        ),
        CommandSpec(
            "translate",
            "Full translation of one article",
            (ref, ParamSpec("lang", "lang", "Target language, e.g. ja or en")),
            h.translate,
            slow=True,
        ),
        CommandSpec(
            "subscribe",
            "Follow tags in this channel",
            (ParamSpec("tags", "tags", "Tags to follow", required=True),),
            h.subscribe,
            manages_channel=True,
        ),
        CommandSpec(
            "unsubscribe",
            "Stop following tags in this channel",
            (ParamSpec("tags", "tags", "Tags to drop", required=True),),
            h.unsubscribe,
            manages_channel=True,
        ),
        CommandSpec(
            "subscriptions",
            "Tags this channel follows and its settings",
            (),
            h.subscriptions,
            ephemeral=True,
        ),
        CommandSpec(
            "alerts",
            "Hourly alerts for important stories",
            (
                ParamSpec("state", "choice", "on or off", required=True, choices=("on", "off")),
                ParamSpec("min", "int", "Minimum importance 1-5", min_value=1, max_value=5),
            ),
            h.alerts,
            manages_channel=True,
        ),
        CommandSpec(
            "settings",
            "Channel language, time zone and digest time",
            (
                ParamSpec("lang", "lang", "Language for summaries, e.g. ja"),
                ParamSpec("tz", "str", "IANA time zone, e.g. Asia/Tokyo"),
                ParamSpec("time", "str", "Daily digest time HH:MM"),
            ),
            h.settings,
            manages_channel=True,
            ephemeral=True,
        ),
        CommandSpec(
            "search",
            "Search stored stories",
            (ParamSpec("words", "words", "Words to look for", required=True),),
            h.search,
        ),
        CommandSpec("tags", "Tags seen this week", (), h.tags, ephemeral=True),
        CommandSpec(
            "sources",
            "Sources and their health; managers add or remove them",
            (
                ParamSpec("action", "choice", "list, add or remove", choices=SOURCE_ACTIONS),
                ParamSpec("target", "str", "Feed URL to add, or the id or URL to remove"),
                ParamSpec("name", "words", "Display name for a new source"),
            ),
            admin.sources,
            ephemeral=True,
            managing_actions=("add", "remove"),
        ),
        CommandSpec(
            "mute",
            "Skip a source, keyword or tag in this channel (no argument: list mutes)",
            (ParamSpec("what", "words", "source <name|id>, keyword <words> or tag <tag>"),),
            admin.mute,
            manages_channel=True,
        ),
        CommandSpec(
            "unmute",
            "Stop muting a source, keyword or tag here",
            (ParamSpec("what", "words", "What was muted", required=True),),
            admin.unmute,
            manages_channel=True,
        ),
        CommandSpec(
            "why",
            "Why a story was (or was not) sent here: score, threshold, tags, mutes, feedback",
            (ref,),
            admin.why,
            ephemeral=True,
        ),
        CommandSpec(
            "preview",
            "What the next digest here would contain with the current settings",
            (),
            admin.preview,
            ephemeral=True,
        ),
        CommandSpec(
            "feedback",
            "This channel's 👍/👎 preferences; `reset` forgets them; `<id> up|down` votes",
            (ParamSpec("what", "words", "reset, or <id> up|down"),),
            admin.feedback,
            ephemeral=True,
            managing_actions=("reset",),
        ),
        CommandSpec("help", "What ainews can do", (), h.help_, ephemeral=True),
    )


_COMMANDS: tuple[CommandSpec, ...] | None = None


def commands() -> tuple[CommandSpec, ...]:
    """The table, built on first use so that importing this module stays side-effect free."""
    global _COMMANDS
    if _COMMANDS is None:
        _COMMANDS = _table()
    return _COMMANDS


def find(name: str) -> CommandSpec | None:
    return next((spec for spec in commands() if spec.name == name), None)


def help_text() -> str:
    return "\n".join(f"`{spec.usage}` — {spec.description}" for spec in commands())


def _convert(spec: CommandSpec, param: ParamSpec, raw: str) -> Any:
    if param.kind == "int":
        if not raw.lstrip("-").isdigit():
            raise CommandError(f"{param.name} must be a whole number, got {raw!r}", spec.usage)
        value = int(raw)
        if (param.min_value is not None and value < param.min_value) or (
            param.max_value is not None and value > param.max_value
        ):
            raise CommandError(
                f"{param.name} must be between {param.min_value} and {param.max_value}", spec.usage
            )
        return value
    if param.kind == "choice" and raw.lower() not in param.choices:
        raise CommandError(f"{param.name} must be one of {', '.join(param.choices)}", spec.usage)
    if param.kind == "choice":
        return raw.lower()
    if param.kind in ("tag", "lang"):
        return raw.lower()
    return raw


def parse_text(text: str) -> tuple[CommandSpec, dict[str, Any]]:
    """Parse the text after `/ainews` into a command and typed arguments.

    Positional for the common case (`translate 42 ja`, `alerts on 4`); `settings` also takes
    `key value` pairs (`settings tz Asia/Tokyo time 08:30`).
    """
    if len(text) > MAX_COMMAND_CHARS:
        raise CommandError(
            f"That command is too long (over {MAX_COMMAND_CHARS} characters).", "/ainews help"
        )
    if any(is_hidden_control(char) for char in text):
        raise CommandError(
            "That command contains control or text-direction characters.", "/ainews help"
        )
    words = text.split()
    if not words:
        spec = find("help")
        assert spec is not None
        return spec, {}
    spec = find(words[0].lower())
    if spec is None:
        raise CommandError(f"Unknown command {words[0][:40]!r}.", "/ainews help")
    rest = words[1:]
    args: dict[str, Any] = {}
    if spec.name == "settings":
        if len(rest) % 2:
            raise CommandError("settings takes pairs like `tz Asia/Tokyo`.", spec.usage)
        names = {p.name: p for p in spec.params}
        for key, value in zip(rest[::2], rest[1::2], strict=True):
            param = names.get(key.lower())
            if param is None:
                raise CommandError(f"Unknown setting {key[:40]!r}.", spec.usage)
            args[param.name] = _convert(spec, param, value)
        return spec, args
    for index, param in enumerate(spec.params):
        if param.kind in ("words", "tags"):
            if rest[index:]:
                remaining = rest[index:]
                args[param.name] = (
                    " ".join(remaining) if param.kind == "words" else [w.lower() for w in remaining]
                )
            rest = rest[:index]
            break
        if index < len(rest):
            args[param.name] = _convert(spec, param, rest[index])
    else:
        if len(rest) > len(spec.params):
            raise CommandError("Too many arguments.", spec.usage)
    missing = [p.name for p in spec.params if p.required and p.name not in args]
    if missing:
        raise CommandError(f"Missing {', '.join(missing)}.", spec.usage)
    return spec, args


def is_hidden_control(char: str) -> bool:
    return char in _BIDI_CONTROLS or (unicodedata.category(char) == "Cc" and char not in "\t\n\r")


def error_reply(error: CommandError) -> Reply:
    """A user error as an ephemeral reply: its reason, then the usage line."""
    text = str(error)
    if error.usage:
        text += f"\nUsage: {error.usage}"
    return Reply(text=text, ephemeral=True, is_error=True)


async def run(
    ctx: AppContext, spec: CommandSpec, request: CommandRequest, args: dict[str, Any]
) -> Reply:
    """Run one parsed command with the permission check and the two kinds of error."""
    try:
        if spec.manages(args) and not request.can_manage and managers_only(ctx, request):
            raise CommandError("Only channel managers can change this channel's settings.")
        with COMMAND_ANSWER_SECONDS.labels(platform=request.platform, command=spec.name).time():
            return await spec.handler(ctx, request, args)
    except CommandError as error:
        return error_reply(error)
    except Exception:
        log.exception("command failed", extra={"command": spec.name, "platform": request.platform})
        return Reply(text=GENERIC_FAILURE, ephemeral=True, is_error=True)


async def dispatch(ctx: AppContext, request: CommandRequest) -> Reply:
    """Parse and run `/ainews <text>`; never raises."""
    try:
        spec, args = parse_text(request.text)
    except CommandError as error:
        return error_reply(error)
    return await run(ctx, spec, request, args)


def managers_only(ctx: AppContext, request: CommandRequest) -> bool:
    """Whether this platform reserves changes to channel managers ([slack] admins_only;
    Discord always, judged by Manage Channels)."""
    if request.platform == "slack":
        return ctx.settings.slack.admins_only
    return request.platform == "discord"

"""The one command table: Slack parsing, the Discord command group, help text and the CLI read it.

Each `CommandSpec` declares its parameters once; `parse_text` turns `/ainews <text>` into typed
arguments and `dispatch` runs the handler, turning user mistakes into a reason plus usage and
anything unexpected into one generic line (the traceback goes to the log).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from bot.channels import find_channel, prefs_of
from bot.errors import CommandError
from bot.messages import N_, CommandRequest, Destination, Reply, msg
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
GENERIC_FAILURE = msg("error.generic")


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter: `words`/`tags` take the rest of the text; `ref` is an article id or URL.
    `description` is a catalogue id (adapters word it in the reader's language)."""

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
    `manages_channel` means only channel managers may run it when the config says so;
    `description` is a catalogue id."""

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
    from bot import section_handlers as s

    tag = ParamSpec("tag", "tag", N_("param.tag"))
    ref = ParamSpec("article", "ref", N_("param.article"), required=True)
    return (
        CommandSpec("today", N_("cmd.today"), (tag,), h.today),
        CommandSpec("week", N_("cmd.week"), (tag,), h.week),
        CommandSpec("hn", N_("cmd.hn"), (), h.hn),
        CommandSpec("summary", N_("cmd.summary"), (ref,), h.summary, slow=True),
        CommandSpec(
            "translate",
            N_("cmd.translate"),
            (ref, ParamSpec("lang", "lang", N_("param.translate_lang"))),
            h.translate,
            slow=True,
        ),
        CommandSpec(
            "subscribe",
            N_("cmd.subscribe"),
            (ParamSpec("tags", "tags", N_("param.tags_follow"), required=True),),
            h.subscribe,
            manages_channel=True,
        ),
        CommandSpec(
            "unsubscribe",
            N_("cmd.unsubscribe"),
            (ParamSpec("tags", "tags", N_("param.tags_drop"), required=True),),
            h.unsubscribe,
            manages_channel=True,
        ),
        CommandSpec(
            "resume",
            N_("cmd.resume"),
            (),
            h.resume,
            manages_channel=True,
        ),
        CommandSpec(
            "subscriptions",
            N_("cmd.subscriptions"),
            (),
            h.subscriptions,
            ephemeral=True,
        ),
        CommandSpec(
            "alerts",
            N_("cmd.alerts"),
            (
                ParamSpec(
                    "state", "choice", N_("param.state"), required=True, choices=("on", "off")
                ),
                ParamSpec("min", "int", N_("param.min"), min_value=1, max_value=5),
            ),
            h.alerts,
            manages_channel=True,
        ),
        CommandSpec(
            "settings",
            N_("cmd.settings"),
            (
                ParamSpec("lang", "lang", N_("param.lang")),
                ParamSpec("tz", "str", N_("param.tz")),
                ParamSpec("time", "str", N_("param.time")),
            ),
            h.settings,
            manages_channel=True,
            ephemeral=True,
        ),
        CommandSpec(
            "search",
            N_("cmd.search"),
            (ParamSpec("words", "words", N_("param.words"), required=True),),
            h.search,
        ),
        CommandSpec("tags", N_("cmd.tags"), (), h.tags, ephemeral=True),
        CommandSpec("tools", N_("cmd.tools"), (tag,), s.tools),
        CommandSpec("videos", N_("cmd.videos"), (), s.videos),
        CommandSpec(
            "trends",
            N_("cmd.trends"),
            (ParamSpec("days", "int", N_("param.days"), min_value=1, max_value=30),),
            s.trends,
        ),
        CommandSpec(
            "company",
            N_("cmd.company"),
            (ParamSpec("name", "words", N_("param.company_name"), required=True),),
            s.company,
        ),
        CommandSpec(
            "sources",
            N_("cmd.sources"),
            (
                ParamSpec("action", "choice", N_("param.source_action"), choices=SOURCE_ACTIONS),
                ParamSpec("target", "str", N_("param.source_target")),
                ParamSpec("name", "words", N_("param.source_name")),
            ),
            admin.sources,
            ephemeral=True,
            managing_actions=("add", "remove"),
        ),
        CommandSpec(
            "mute",
            N_("cmd.mute"),
            (ParamSpec("what", "words", N_("param.mute_what")),),
            admin.mute,
            manages_channel=True,
        ),
        CommandSpec(
            "unmute",
            N_("cmd.unmute"),
            (ParamSpec("what", "words", N_("param.unmute_what"), required=True),),
            admin.unmute,
            manages_channel=True,
        ),
        CommandSpec(
            "why",
            N_("cmd.why"),
            (ref,),
            admin.why,
            ephemeral=True,
        ),
        CommandSpec(
            "preview",
            N_("cmd.preview"),
            (),
            admin.preview,
            ephemeral=True,
        ),
        CommandSpec(
            "feedback",
            N_("cmd.feedback"),
            (ParamSpec("what", "words", N_("param.feedback_what")),),
            admin.feedback,
            ephemeral=True,
            managing_actions=("reset",),
        ),
        CommandSpec("help", N_("cmd.help"), (), h.help_, ephemeral=True),
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


def _convert(spec: CommandSpec, param: ParamSpec, raw: str) -> Any:
    if param.kind == "int":
        if not raw.lstrip("-").isdigit():
            raise CommandError(
                msg("error.not_integer", name=param.name, value=repr(raw[:20])), spec.usage
            )
        value = int(raw)
        if (param.min_value is not None and value < param.min_value) or (
            param.max_value is not None and value > param.max_value
        ):
            raise CommandError(
                msg(
                    "error.out_of_range",
                    name=param.name,
                    min=param.min_value or 0,
                    max=param.max_value or 0,
                ),
                spec.usage,
            )
        return value
    if param.kind == "choice" and raw.lower() not in param.choices:
        raise CommandError(msg("error.choice", name=param.name, choices=param.choices), spec.usage)
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
        raise CommandError(msg("error.too_long", limit=MAX_COMMAND_CHARS), "/ainews help")
    if any(is_hidden_control(char) for char in text):
        raise CommandError(msg("error.hidden_control"), "/ainews help")
    words = text.split()
    if not words:
        spec = find("help")
        assert spec is not None
        return spec, {}
    spec = find(words[0].lower())
    if spec is None:
        raise CommandError(msg("error.unknown_command", name=repr(words[0][:40])), "/ainews help")
    rest = words[1:]
    args: dict[str, Any] = {}
    if spec.name == "settings":
        if len(rest) % 2:
            raise CommandError(msg("error.settings_pairs"), spec.usage)
        names = {p.name: p for p in spec.params}
        for key, value in zip(rest[::2], rest[1::2], strict=True):
            param = names.get(key.lower())
            if param is None:
                raise CommandError(msg("error.unknown_setting", name=repr(key[:40])), spec.usage)
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
            raise CommandError(msg("error.too_many_args"), spec.usage)
    missing = [p.name for p in spec.params if p.required and p.name not in args]
    if missing:
        raise CommandError(msg("error.missing", names=tuple(missing)), spec.usage)
    return spec, args


def is_hidden_control(char: str) -> bool:
    return char in _BIDI_CONTROLS or (unicodedata.category(char) == "Cc" and char not in "\t\n\r")


def error_reply(error: CommandError, lang: str = "") -> Reply:
    """A user error as an ephemeral reply: its reason, then the usage line."""
    return Reply(message=error.message, usage=error.usage, ephemeral=True, is_error=True, lang=lang)


async def request_lang(ctx: AppContext, request: CommandRequest) -> str:
    """The language the requesting channel reads: its `lang`, else `[translate] default_lang`.

    Never raises: a reply (an apology included) must still go out when the store is down.
    """
    try:
        destination = Destination(request.platform, request.workspace, request.channel)
        async with ctx.db.session() as session:
            return prefs_of(ctx.settings, await find_channel(session, destination)).lang
    except Exception:
        log.warning("channel language unavailable; using the default", exc_info=True)
        return ctx.settings.translate.default_lang


async def run(
    ctx: AppContext, spec: CommandSpec, request: CommandRequest, args: dict[str, Any]
) -> Reply:
    """Run one parsed command with the permission check and the two kinds of error; the reply
    says which language to word it in (a handler that changed it has set it already)."""
    try:
        if spec.manages(args) and not request.can_manage and managers_only(ctx, request):
            raise CommandError(msg("error.managers_only"))
        with COMMAND_ANSWER_SECONDS.labels(platform=request.platform, command=spec.name).time():
            reply = await spec.handler(ctx, request, args)
    except CommandError as error:
        reply = error_reply(error)
    except Exception:
        log.exception("command failed", extra={"command": spec.name, "platform": request.platform})
        reply = Reply(message=GENERIC_FAILURE, ephemeral=True, is_error=True)
    if reply.lang:
        return reply
    return replace(reply, lang=await request_lang(ctx, request))


async def dispatch(ctx: AppContext, request: CommandRequest) -> Reply:
    """Parse and run `/ainews <text>`; never raises."""
    try:
        spec, args = parse_text(request.text)
    except CommandError as error:
        return error_reply(error, await request_lang(ctx, request))
    return await run(ctx, spec, request, args)


def managers_only(ctx: AppContext, request: CommandRequest) -> bool:
    """Whether this platform reserves changes to channel managers ([slack] admins_only;
    Discord always, judged by Manage Channels)."""
    if request.platform == "slack":
        return ctx.settings.slack.admins_only
    return request.platform == "discord"

"""What the gateway client and the HTTP interactions endpoint share about `/ainews` on Discord.

Both receive typed option values rather than text, so both need the same steps to reach the one
command table: typing values as `parse_text` would, re-checking the table-wide input rules,
building the neutral request, and suggesting tags for autocomplete.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.commands import MAX_COMMAND_CHARS, CommandSpec, ParamSpec, error_reply, is_hidden_control
from bot.errors import CommandError
from bot.messages import Reply, msg
from bot.search import recent_tags

if TYPE_CHECKING:
    from bot.context import AppContext

__all__ = [
    "GROUP_NAME",
    "MAX_CHOICES",
    "as_text",
    "check_option",
    "refusal",
    "tag_suggestions",
    "typed_value",
]

GROUP_NAME = "ainews"
TAG_WINDOW = timedelta(weeks=4)
MAX_CHOICES = 25
MAX_CHOICE_CHARS = 100


def typed_value(param: ParamSpec, value: Any) -> Any:
    """The same typed values `bot.commands.parse_text` produces from text."""
    if value is None:
        return None
    if param.kind == "int":
        return int(value)
    text = str(value).strip()
    if not text:
        return None
    if param.kind == "tags":
        return [word.lower() for word in text.replace(",", " ").split()]
    if param.kind in ("tag", "lang", "choice"):
        return text.lower()
    return text


def check_option(spec: CommandSpec, param: ParamSpec, value: Any) -> None:
    """What Discord's client enforces from the registered options, checked again on arrival.

    A gateway interaction went through discord.py's converters; an HTTP one is raw JSON, so a
    crafted request could carry anything a real client would not send.
    """
    if param.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise CommandError(f"{param.name} must be a whole number.", spec.usage)
        if (param.min_value is not None and value < param.min_value) or (
            param.max_value is not None and value > param.max_value
        ):
            raise CommandError(
                f"{param.name} must be between {param.min_value} and {param.max_value}", spec.usage
            )
        return
    if not isinstance(value, str):
        raise CommandError(f"{param.name} must be text.", spec.usage)
    if param.choices and value.strip().lower() not in param.choices:
        raise CommandError(f"{param.name} must be one of {', '.join(param.choices)}", spec.usage)


def as_text(spec: CommandSpec, args: dict[str, Any]) -> str:
    """The invocation as `/ainews` text, for logs and handlers that read `request.text`."""
    words = [spec.name]
    for param in spec.params:
        value = args.get(param.name)
        if value is None:
            continue
        shown = " ".join(value) if isinstance(value, list) else str(value)
        words.extend([param.name, shown] if spec.name == "settings" else [shown])
    return " ".join(words)


def refusal(text: str, lang: str = "") -> Reply | None:
    """Typed options skip `parse_text`, so its table-wide input checks are applied here; the
    answer is worded in `lang` (the channel's language)."""
    if len(text) > MAX_COMMAND_CHARS:
        error = CommandError(msg("error.too_long", limit=MAX_COMMAND_CHARS), "/ainews help")
        return error_reply(error, lang)
    if any(is_hidden_control(char) for char in text):
        return error_reply(CommandError(msg("error.hidden_control"), "/ainews help"), lang)
    return None


async def tag_suggestions(ctx: AppContext, current: str) -> list[tuple[str, str]]:
    """(label, value) pairs: tags stored in the last weeks matching what is typed.

    For a tag list only the last word is completed; the words before it are kept in the value.
    """
    words = current.replace(",", " ").split()
    prefix = words[-1].lower().lstrip("#") if words and not current.endswith(" ") else ""
    kept = " ".join(words[:-1] if prefix else words)
    since = ctx.clock.now() - TAG_WINDOW
    async with ctx.db.session() as session:
        ranked = await recent_tags(session, since, limit=200)
    out: list[tuple[str, str]] = []
    for tag, count in ranked:
        if tag.startswith(prefix) and tag not in words:
            value = f"{kept} {tag}".strip()[:MAX_CHOICE_CHARS]
            out.append((f"{value} ({count})"[:MAX_CHOICE_CHARS], value))
        if len(out) >= MAX_CHOICES:
            break
    return out

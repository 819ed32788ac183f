"""`--help` in the CLI's language.

Every help string of the app, its groups, commands, arguments and options is a catalogue id
(`N_("cli.help.…")`); the command classes here render them when help is shown, in
`cli_lang()` — so nothing is read or translated unless someone asks for help. Headings, the
`--help` option itself and the `[default: …]` notes are worded too, and text is wrapped by
display width (a Japanese character takes two columns).
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandFunctionType

from adapters.cli.lang import cli_translator
from adapters.i18n import N_, Translator

# Characters a Japanese line does not start with: they stay at the end of the line before.
_NO_LINE_START = frozenset(
    "、。，．・：；？！）」』】〕｝〉》…ーぁぃぅぇぉっゃゅょァィゥェォッャュョ,.;:!?)]}"
)
_OPENING = "([（「『【〔"
# a space, a run of narrow characters, or one wide character; opening brackets stick to what follows
_TOKENS = re.compile(rf"\s+|[{_OPENING}]*(?:[^\s\u1100-\uffff{_OPENING}]+|\S)")
_SENTENCE_END = re.compile(r"(?<=\.)\s|(?<=。)")
_COL_MAX = 30
_COL_SPACING = 2


def display_width(text: str) -> int:
    """Terminal columns of `text`: wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def wrap(text: str, width: int) -> list[str]:
    """Greedy wrap by display width: Latin words stay whole, Japanese breaks between characters
    but never puts a closing mark at the start of a line."""
    lines: list[str] = []
    line, used, gap = "", 0, ""
    for token in _TOKENS.findall(text):
        if token.isspace():
            gap = " " * len(token.replace("\n", " ")) if line else ""
            continue
        needed = len(gap) + display_width(token)
        if line and used + needed > width and token[0] not in _NO_LINE_START:
            lines.append(line)
            line, used = token, display_width(token)
        else:
            line, used = line + gap + token, used + needed
        gap = ""
    if line:
        lines.append(line)
    return lines


def short_help(text: str, limit: int) -> str:
    """The first sentence of a command's help, cut to `limit` columns for the command list."""
    first = " ".join(text.split("\n\n", 1)[0].split())
    sentence = _SENTENCE_END.split(first, maxsplit=1)[0].strip()
    if display_width(sentence) <= limit:
        return sentence
    cut = wrap(sentence, max(limit - 3, 10))[0]
    while display_width(cut) > limit - 3:  # a closing mark may hang past the width
        cut = cut[:-1]
    return cut.rstrip(" 、,") + "..."


def _write_text(formatter: Any, text: str) -> None:
    indent = " " * formatter.current_indent
    width = max(formatter.width - formatter.current_indent, 20)
    paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n", text.strip())]
    formatter.write(
        "\n\n".join("\n".join(indent + line for line in wrap(p, width)) for p in paragraphs)
    )
    formatter.write("\n")


def _write_rows(formatter: Any, rows: list[tuple[str, str]]) -> None:
    """click's definition list, wrapped by display width."""
    first_col = min(max(len(first) for first, _ in rows), _COL_MAX) + _COL_SPACING
    indent = formatter.current_indent
    text_width = max(formatter.width - first_col - 2, 10)
    for first, second in rows:
        formatter.write(f"{'':>{indent}}{first}")
        if not second:
            formatter.write("\n")
            continue
        if len(first) <= first_col - _COL_SPACING:
            formatter.write(" " * (first_col - len(first)))
        else:
            formatter.write("\n" + " " * (first_col + indent))
        lines = wrap(second, text_width)
        formatter.write(lines[0] + "\n")
        for line in lines[1:]:
            formatter.write(" " * (first_col + indent) + line + "\n")


def _notes(text: str, t: Translator) -> str:
    """Typer's `[env var: X; default: Y; required]` in the CLI language; ranges stay symbols."""
    if not (text.startswith("[") and text.endswith("]")):
        return text
    worded = []
    for part in text[1:-1].split("; "):
        if part.startswith("env var: "):
            worded.append(t(N_("cli.help.env_var"), var=part.removeprefix("env var: ")))
        elif part.startswith("default: "):
            worded.append(t(N_("cli.help.default"), value=part.removeprefix("default: ")))
        elif part == "required":
            worded.append(t(N_("cli.help.required")))
        else:
            worded.append(part)
    return "[" + "; ".join(worded) + "]"


def _param_row(command: Any, param: Any, ctx: Any, t: Translator) -> tuple[str, str] | None:
    bare = copy.copy(param)
    bare.help = None  # the record then holds only the names and Typer's notes
    record = bare.get_help_record(ctx)
    if record is None:
        return None
    names, notes = record
    if param is command.get_help_option(ctx):
        text = t(N_("cli.help.help_option"))
    else:
        text = t(param.help) if param.help else ""
    notes = _notes(notes, t) if notes else ""
    return names, f"{text}  {notes}" if text and notes else text or notes


def format_localized_help(command: Any, ctx: Any, formatter: Any) -> None:
    """Usage, help text, arguments, options and subcommands, worded by the catalogue."""
    t = cli_translator()
    pieces = command.collect_usage_pieces(ctx)
    formatter.write_usage(ctx.command_path, " ".join(pieces), t(N_("cli.help.usage")) + " ")
    if command.help:
        formatter.write_paragraph()
        with formatter.indentation():
            _write_text(formatter, t(command.help))
    arguments: list[tuple[str, str]] = []
    options: list[tuple[str, str]] = []
    for param in command.get_params(ctx):
        row = _param_row(command, param, ctx, t)
        if row is not None:
            (arguments if param.param_type_name == "argument" else options).append(row)
    for heading, rows in ((N_("cli.help.arguments"), arguments), (N_("cli.help.options"), options)):
        if rows:
            with formatter.section(t(heading)):
                _write_rows(formatter, rows)
    if isinstance(command, TyperGroup):
        _format_commands(command, ctx, formatter, t)


def _format_commands(group: TyperGroup, ctx: Any, formatter: Any, t: Translator) -> None:
    listed = [
        (name, sub)
        for name in group.list_commands(ctx)
        if (sub := group.get_command(ctx, name)) is not None and not sub.hidden
    ]
    if not listed:
        return
    limit = formatter.width - 6 - max(len(name) for name, _ in listed)
    rows = [(name, short_help(t(sub.help), limit) if sub.help else "") for name, sub in listed]
    with formatter.section(t(N_("cli.help.commands"))):
        _write_rows(formatter, rows)


class LocalizedCommand(TyperCommand):
    def format_help(self, ctx: Any, formatter: Any) -> None:
        format_localized_help(self, ctx, formatter)


class LocalizedGroup(TyperGroup):
    def format_help(self, ctx: Any, formatter: Any) -> None:
        format_localized_help(self, ctx, formatter)


class CliTyper(typer.Typer):
    """A Typer whose groups and commands show their help through the catalogue."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("cls", LocalizedGroup)
        super().__init__(*args, **kwargs)

    def command(
        self, *args: Any, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        kwargs.setdefault("cls", LocalizedCommand)
        return super().command(*args, **kwargs)

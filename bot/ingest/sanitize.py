"""Untrusted HTML from feeds becomes plain text here, before anything is stored.

Regular expressions are enough because the output is never HTML again: scripts, styles and
comments are dropped whole, every other tag is removed, entities are decoded once, and a second
pass removes markup that a feed had escaped twice. Each pass runs only when its marker occurs,
and every pattern starts with a literal so the regex engine can skip ahead: this is the hot path
of parsing.

`html_paragraphs` is the same sanitiser for a feed item's body, which is stored as paragraphs:
it marks only block ends (a line break folds into a space in a stored paragraph anyway) with an
ASCII control character, so a Latin-1 text is never widened to two bytes a character, and it
collapses spaces once per paragraph instead of once for the text and again per paragraph.
"""

from __future__ import annotations

import html
import re

__all__ = ["html_paragraphs", "plain_paragraphs", "plain_text"]

# One pass for everything that becomes a space: comments, script-like blocks with their content,
# CDATA markers, declarations, processing instructions and any other tag. The branches are in
# the order the engine should try them, most frequent first: an end tag can only be a tag, a
# start tag is a script-like block or else a tag, and "<!" / "<?" come last.
_MARKUP = re.compile(
    r"<(?:/[a-zA-Z][^>]*(?:>|\Z)"
    r"|(script|style|noscript|iframe|object|template)\b.*?(?:</\1\s*>|\Z)"
    r"|[a-zA-Z][^>]*(?:>|\Z)"
    r"|!--.*?(?:-->|\Z)|!\[CDATA\[|![a-zA-Z][^>]*>|\?.*?(?:\?>|\Z))",
    re.IGNORECASE | re.DOTALL,
)
# A closed block ends a paragraph; <br> only ends a line inside one. Readers of stored text
# (digest.text.split_paragraphs: translation chunks, the depth score, the web view) split
# paragraphs at blank lines, so block ends become "\n\n" and line breaks "\n".
_LINE_BREAKS = re.compile(r"<br\b[^>]*>", re.IGNORECASE)
_BLOCK_ENDS = re.compile(r"</(?:p|div|li|h[1-6]|tr|blockquote)\b[^>]*>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Rare printable symbols mark line ends (U+2424) and paragraph ends (U+2425) while spaces are
# collapsed: str.split() would eat a newline, and a printable mark keeps the fast
# isprintable() check meaningful.
_BREAK = "\u2424"
_PARAGRAPH = "\u2425"
_RUN_OF_BREAKS = re.compile(f"[{_BREAK}{_PARAGRAPH}]+")
# html_paragraphs' block-end mark: a control character no entity decodes to (html.unescape
# drops U+0002) and that str.split() does not take for a space.
_BLOCK_MARK = "\x02"
_BLANK_LINE = re.compile(r"\n\s*\n")
MAX_CHARS = 200_000


def _strip(markup: str) -> str:
    if "<" not in markup:
        return markup
    markup = _BLOCK_ENDS.sub(_PARAGRAPH, _LINE_BREAKS.sub(_BREAK, markup))
    markup = _MARKUP.sub(" ", markup)
    return markup.replace("]]>", " ") if "]]>" in markup else markup


def _strip_flat(markup: str, block_end: str) -> str:
    """Tags removed; block ends become `block_end`, every other tag (<br> too) a space. Line
    breaks and block ends go first, as in `_strip`: a tag left open before them ends there."""
    if "<" not in markup:
        return markup
    markup = _BLOCK_ENDS.sub(block_end, _LINE_BREAKS.sub(" ", markup))
    markup = _MARKUP.sub(" ", markup)
    return markup.replace("]]>", " ") if "]]>" in markup else markup


def _decoded(markup: str, block_end: str) -> str:
    """Tags removed and entities decoded once; markup that was escaped is removed too."""
    text = _strip_flat(markup, block_end)
    if "&" in text:
        escaped_markup = "&lt;" in text or "&#" in text
        text = html.unescape(text)
        if escaped_markup and "<" in text:
            text = _strip_flat(text, block_end)
    return text


def _without_marks(markup: str) -> str:
    markup = markup[:MAX_CHARS]
    if _BREAK in markup or _PARAGRAPH in markup:
        markup = markup.replace(_BREAK, "").replace(_PARAGRAPH, "")
    return markup


def _printable(line: str) -> str:
    """A collapsed line without control characters (spaces collapsed again if one was cut)."""
    if line.isprintable():
        return line
    return " ".join(_CONTROL.sub("", line).split())


def plain_text(markup: str | None, *, single_line: bool = False) -> str:
    """Plain text of an HTML fragment: no tags, scripts or styles, entities decoded, tidy spaces."""
    if not markup:
        return ""
    markup = _without_marks(markup)
    if single_line:
        # Every break becomes a space: no marks to place, one collapse.
        return _printable(" ".join(_decoded(markup, " ").split()))
    text = _strip(markup)
    if "&" in text:
        escaped_markup = "&lt;" in text or "&#" in text
        text = html.unescape(text)
        if escaped_markup and "<" in text:
            text = _strip(text)
    # str.split() is the fast way to collapse every kind of space (incl. NBSP and U+3000).
    out = " ".join(text.split())
    if not out.isprintable():
        out = _CONTROL.sub("", out)
    if _BREAK in out or _PARAGRAPH in out:
        for mark in (_BREAK, _PARAGRAPH):
            out = out.replace(f" {mark}", mark).replace(f"{mark} ", mark)
        out = _RUN_OF_BREAKS.sub(_line_or_paragraph, out).strip()
    return out


def _line_or_paragraph(run: re.Match[str]) -> str:
    return "\n\n" if _PARAGRAPH in run.group() else "\n"


def html_paragraphs(markup: str | None) -> list[str]:
    """The paragraphs of `plain_text(markup)`, each on one line (its line breaks are spaces):
    what a stored item body is made of, in one pass over the text."""
    if not markup:
        return []
    if _BLOCK_MARK in markup:  # the mark itself in the input: the two-step way, exactly
        return [" ".join(p.split()) for p in _BLANK_LINE.split(plain_text(markup)) if p.strip()]
    markup = _without_marks(markup)
    paragraphs: list[str] = []
    for part in _decoded(markup, _BLOCK_MARK).split(_BLOCK_MARK):
        words = part.split()
        if words:
            line = " ".join(words)
            if not line.isprintable():
                line = _printable(line)
                if not line:
                    continue
            paragraphs.append(line)
    return paragraphs


def plain_paragraphs(text: str) -> str:
    """Already-plain multi-line text (e.g. trafilatura's) cleaned line by line, one paragraph
    per line, so its paragraphs survive the whitespace folding of `plain_text`."""
    lines = (plain_text(line, single_line=True) for line in text.splitlines())
    return "\n\n".join(line for line in lines if line)

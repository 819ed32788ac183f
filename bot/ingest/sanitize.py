"""Untrusted HTML from feeds becomes plain text here, before anything is stored.

Regular expressions are enough because the output is never HTML again: scripts, styles and
comments are dropped whole, every other tag is removed, entities are decoded once, and a second
pass removes markup that a feed had escaped twice.
"""

from __future__ import annotations

import html
import re

__all__ = ["plain_text"]

_DROP_BLOCKS = re.compile(
    r"<!--.*?(?:-->|$)|<(script|style|noscript|iframe|object|template)\b.*?(?:</\1\s*>|$)"
    r"|<!\[CDATA\[|\]\]>|<!doctype[^>]*>|<\?.*?\?>",
    re.IGNORECASE | re.DOTALL,
)
_BREAKS = re.compile(r"<(?:br|/p|/div|/li|/h[1-6]|/tr|/blockquote)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^>]*(?:>|$)|</?[a-zA-Z]\w*\s*$")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b\u3000]+")
_NEWLINES = re.compile(r"\s*\n\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _strip(markup: str) -> str:
    if "<" not in markup:
        return markup
    markup = _DROP_BLOCKS.sub(" ", markup)
    markup = _BREAKS.sub("\n", markup)
    return _TAG.sub(" ", markup)


def plain_text(markup: str | None, *, single_line: bool = False) -> str:
    """Plain text of an HTML fragment: no tags, scripts or styles, entities decoded, tidy spaces."""
    if not markup:
        return ""
    text = _strip(markup)
    if "&" in text:
        text = html.unescape(text)
        if "<" in text:
            text = _strip(text)
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    if single_line:
        return " ".join(text.split())
    return _NEWLINES.sub("\n", text).strip()

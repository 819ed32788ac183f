"""Feed residue removed at ingest, so no reader ever sees it: one function per rule.

`sanitize.plain_text` turns markup into text; what survives that is residue of how feeds are
published — markup escaped twice, "The post … appeared first on …", Reddit's "submitted by",
photo credits run into the first sentence, URLs pasted into prose, a site name on every title.
Each rule below is small, named, and tested on the real fixture text that needed it.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import lxml.html
from lxml import etree

from bot.ingest.sanitize import html_paragraphs, plain_text

__all__ = [
    "TitleAffixes",
    "clean_html",
    "clean_paragraphs",
    "clean_text",
    "clean_title",
    "decode_entities",
    "decode_markup",
    "drop_boilerplate",
    "learn_title_affixes",
    "strip_credits",
    "strip_urls",
]

_MARKUP_HINT = re.compile(r"&(?:amp;)*(?:lt|gt|#60|#x3c);|<(?:[a-zA-Z][a-zA-Z0-9]*\b|/[a-zA-Z])")
_DROPPED_TAGS = ("script", "style", "noscript", "iframe", "figcaption", "template", "svg")
_BLOCKS = frozenset(
    {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
     "blockquote", "pre", "section", "article", "figure", "header", "footer"}
)  # fmt: skip
_MAX_ROUNDS = 3

# Whole lines (paragraphs) that are publishing residue, not article text.
_BOILERPLATE_LINES = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"^the post .{1,400}? (?:appeared|was published) first on .{1,200}$",
        r"^(?:this|the) (?:post|article|story|piece) (?:first |originally )?(?:appeared|was "
        r"published) (?:first )?(?:on|in|at) .{1,200}$",
        r"^submitted by /?u/[\w-]+.*$",
        r"^\[link\]\s*\[comments\]$",
        r"^listen to (?:this (?:post|article|story)|the (?:weekly )?podcast)\b.*$",
        r"^(?:read|continue reading|read the full (?:story|article|post))(?: more)?\b.{0,80}$",
        r"^support the show\b.*$",
        r"^(?:become a (?:paid )?subscriber|subscribe (?:now|to|for))\b.*$",
        r"^(?:photo|image|illustration|photograph|video|graphic)s?(?: credit)?\s*(?:by|:)\s*"
        r"[^.!?]{0,80}$",
        r"^(?:credit|source|via)\s*:\s*[^.!?]{0,80}$",
        r"^(?:twitter|telegram|facebook|youtube|reddit|slack|blog|linkedin|instagram|discord|"
        r"website|x)\s*:\s*\S+$",
        r"^(?:\[(?:…|\.\.\.)\]|…|\.\.\.)$",
        r"^(?:advertisement|sponsored|share this:?|related:?)$",
    )
)
# The same residue when a feed runs it into the end of the last paragraph.
_TRAILING = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"\s*the post .{1,400}? appeared first on [^.]{1,200}\.?\s*$",
        r"\s*submitted by /?u/[\w-]+(?:\s*\[link\])?(?:\s*\[comments\])?\s*$",
        r"\s*\[link\]\s*\[comments\]\s*$",
        r"\s*(?:…|\.\.\.)?\s*(?:read more|continue reading)[.…»›\s]*$",
        r"\s*\[(?:…|\.\.\.)\]\s*$",
    )
)
# A credit run into the first sentence: "Illustration by Alex Castro / The Verge On Tuesday…".
_CAPTION = r"(?:[^|\n]{0,200}\|\s*)?"  # "Block's logo. | Image: …": a caption before the credit
_LEADING_CREDIT = re.compile(
    rf"^{_CAPTION}(?:photo illustration|illustration|photo|photograph|image|screenshot|graphic)s?"
    r"(?:\s+by|\s*:)\s+[^\n]{1,80}?(?:\s*/\s*(?:the verge|getty images|[A-Z][\w.&-]*"
    r"(?:\s[A-Z][\w.&-]*){0,2})|\s+getty images)\s+",
    re.IGNORECASE,
)
# "Image: Plex Plex's latest…": the credited name repeats as the sentence's first word.
_REPEATED_CREDIT = re.compile(
    rf"^{_CAPTION}(?:image|photo|illustration|screenshot)s?\s*:\s*"
    r"(?P<name>[^\s:|]{2,40}(?:\s[^\s:|]{2,40})?)\s+(?=(?P=name))",
    re.IGNORECASE,
)
_INLINE_CREDIT = re.compile(
    r"\s*\((?:photo|image|illustration|credit)s?(?:\s+by|\s*:)[^)]{1,80}\)", re.IGNORECASE
)
_URL = r"(?:https?://|www\.)[^\s<>()\[\]{}\"']+"
_PAREN_URL = re.compile(rf"\s*\(\s*{_URL}\s*\)")
_BARE_URL = re.compile(rf"(?<![\w/]){_URL}")
_SPACES = re.compile(r"[ \t]+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?。、])")
_INLINE_MATH = re.compile(r"\$([A-Za-z0-9])\$")

_TITLE_SEPARATORS = re.compile(r"\s+[|｜\-–—:·•»]\s+|｜")
_BRACKET_PREFIX = re.compile(r"^\s*(?:\[([^\]]{2,40})\]|【([^】]{1,40})】)\s*")
_MIN_AFFIX_COUNT = 3
_MIN_AFFIX_SHARE = 0.05
_MIN_TITLE_CHARS = 4


def _element_text(root: etree._Element) -> str:
    """Text of a parsed fragment with block ends as paragraph breaks (lxml, not regexes)."""
    for bad in root.iter(*_DROPPED_TAGS):
        bad.drop_tree() if bad.getparent() is not None else bad.clear()
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if not isinstance(node.tag, str):  # comments and processing instructions
            if node.tail:
                parts.append(node.tail)
            return
        tag = node.tag.lower()
        if tag == "br":
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
        if tag in _BLOCKS:
            parts.append("\n\n")
        if node.tail:
            parts.append(node.tail)

    walk(root)
    return "".join(parts)


def decode_markup(text: str) -> str:
    """Markup a feed escaped once or twice (`&amp;lt;img …`) decoded and stripped with lxml.

    Each round unescapes entities and lets lxml drop the tags; it stops when no markup is left.
    Plain text without markup is returned unchanged.
    """
    for _ in range(_MAX_ROUNDS):
        if not _MARKUP_HINT.search(text):
            break
        unescaped = html.unescape(text)
        try:
            fragment = lxml.html.fragment_fromstring(unescaped, create_parent="div")
        except (etree.ParserError, ValueError):
            break
        text = _element_text(fragment)
    return "\n\n".join(
        " ".join(paragraph.split()) for paragraph in re.split(r"\n\s*\n", text) if paragraph.strip()
    )


_LEFTOVER_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6}|#x[0-9a-fA-F]{2,5});")


def decode_entities(text: str) -> str:
    """Entities a feed escaped twice ("Algorithms &amp;amp; Theory" → "Algorithms & Theory"):
    the text is already plain, so one more unescape can only restore characters."""
    for _ in range(_MAX_ROUNDS):
        if not _LEFTOVER_ENTITY.search(text):
            break
        text = html.unescape(text)
    return text


def strip_urls(text: str) -> str:
    """URLs pasted into prose ("Kagi ( https://kagi.com ) has…") removed; the words stay."""
    if "http" not in text and "www." not in text:
        return text
    if "(" in text:
        text = _PAREN_URL.sub("", text)
    text = _BARE_URL.sub("", text)
    if "\t" in text or "  " in text:  # else every run of spaces is one space already
        text = _SPACES.sub(" ", text)
    return _SPACE_BEFORE_PUNCT.sub(r"\1", text).strip()


# A leading credit names one of these (in any case); IGNORECASE also matches "ſ" to "s" and
# "İ", "ı" to "i", which lower() does not: a text holding one of those is always tried.
_CREDIT_WORDS = ("photo", "illustration", "image", "screenshot", "graphic")
_FOLDS_TO_ASCII = ("\u017f", "\u0130", "\u0131")


def strip_credits(paragraph: str) -> str:
    """Photo and illustration credits at the start of a paragraph or in parentheses."""
    lowered = paragraph.lower()
    if any(word in lowered for word in _CREDIT_WORDS) or any(
        odd in paragraph for odd in _FOLDS_TO_ASCII
    ):
        paragraph = _LEADING_CREDIT.sub("", paragraph, count=1)
        paragraph = _REPEATED_CREDIT.sub("", paragraph, count=1)
    if "(" not in paragraph:
        return paragraph
    return _INLINE_CREDIT.sub("", paragraph)


# Every boilerplate pattern starts with one of these (case-folded): lines that start otherwise
# (nearly all article text) skip the thirteen patterns. A filter only — the patterns decide.
_BOILERPLATE_STARTS = (
    "the ", "this ", "submitted by", "[", "listen to", "read", "continue reading",
    "support the show", "become a", "subscribe", "photo", "image", "illustration", "video",
    "graphic", "credit", "source", "via", "twitter", "telegram", "facebook", "youtube", "reddit",
    "slack", "blog", "linkedin", "instagram", "discord", "website", "x", "…", "...",
    "advertisement", "sponsored", "share this", "related",
)  # fmt: skip
# Literals each trailing pattern needs somewhere in the paragraph (case-folded).
_TRAILING_NEEDS = (
    ("the post",),
    ("submitted by",),
    ("[link]",),
    ("read more", "continue reading"),
    ("[",),
)
# What `_INLINE_CREDIT` needs right after its parenthesis (in case-folded text). Python's
# IGNORECASE also matches "i" to "İ" and "ı", which case folding does not: texts holding
# either skip this filter.
_INLINE_CREDIT_START = re.compile(r"\((?:photo|image|illustration|credit)")
_DOTTED_I = ("\u0130", "\u0131")
# A paragraph break as `clean_text` reads it: a blank line, spaces allowed.
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


# The thirteen line patterns as one alternation: one match call instead of thirteen (a line
# matches it exactly when it matches one of them).
_BOILERPLATE_LINE = re.compile(
    "|".join(f"(?:{pattern.pattern})" for pattern in _BOILERPLATE_LINES), re.IGNORECASE
)
# The last trailing pattern cuts a "[…]" that ends the text: tried only on a text that does.
_ELLIPSIS = _TRAILING[-1]
_ELLIPSIS_ENDS = ("[…]", "[...]")


def _is_boilerplate(line: str) -> bool:
    if not line[:24].casefold().startswith(_BOILERPLATE_STARTS):
        return False
    return _BOILERPLATE_LINE.match(line) is not None


_Trailing = Sequence[tuple[re.Pattern[str], tuple[str, ...]]]


def _cut_trailing(text: str, needed: _Trailing) -> str:
    """Residue run into the end of a paragraph cut off (only the patterns whose literals the
    text holds are tried)."""
    folded: str | None = None
    for pattern, needs in needed:
        if pattern is _ELLIPSIS:
            if text.rstrip().endswith(_ELLIPSIS_ENDS):
                text = pattern.sub("", text)
            continue
        if folded is None:
            folded = text.casefold()
        if any(need in folded for need in needs):
            text = pattern.sub("", text)
    return text


def _trailing_needed(folded: str) -> _Trailing:
    """The trailing patterns whose literals occur in a (case-folded) text at all."""
    return [
        (pattern, needs)
        for pattern, needs in zip(_TRAILING, _TRAILING_NEEDS, strict=True)
        if any(need in folded for need in needs)
    ]


def drop_boilerplate(paragraphs: Iterable[str]) -> list[str]:
    """Paragraphs without publishing residue; residue run into a paragraph's end is cut off."""
    paragraphs = list(paragraphs)
    # One case-folded copy of the whole text says which trailing patterns can match at all;
    # case folding works character by character, so a literal found in it is in one paragraph.
    needed = _trailing_needed("\n".join(paragraphs).casefold())
    kept: list[str] = []
    for paragraph in paragraphs:
        lines = paragraph.split("\n") if "\n" in paragraph else None
        if lines is None:
            text = paragraph.strip()
            if not text or _is_boilerplate(text):
                continue
        else:
            stripped = (line.strip() for line in lines)
            text = "\n".join(line for line in stripped if line and not _is_boilerplate(line))
            if not text:
                continue
        cut = _cut_trailing(text, needed).strip() if needed else text
        # A one-line text that nothing was cut from has passed `_is_boilerplate` already.
        if (cut != text or lines is not None) and (not cut or _is_boilerplate(cut)):
            continue
        kept.append(cut)
    return kept


# The same rules located over a feed item's whole text at once, so that only the paragraphs
# a rule can apply to are visited: one-line paragraphs joined by "\n", case-folded where the
# rule ignores case. Case folding maps no character to or from "\n", so counting newlines in
# the folded text gives a paragraph's index in the original.
_STARTS_AFTER_NEWLINE = re.compile(
    "\n(?:" + "|".join(re.escape(start) for start in _BOILERPLATE_STARTS) + ")"
)
_RARE_TRAILING = tuple(
    re.compile(re.escape(need)) for needs in _TRAILING_NEEDS[:-1] for need in needs
)
_ELLIPSIS_AT_END = re.compile(r"\[(?:…|\.\.\.)\](?=\n|\Z)")
# What strip_urls, the inline-math rule and (where the text has a credit) the credit rule
# need; each a literal, so each scan skips ahead.
_INLINE_NEEDS = (re.compile("http"), re.compile(r"www\."), re.compile(r"\$"))
_PAREN = re.compile(r"\(")


def _lines_matching(pattern: re.Pattern[str], text: str) -> set[int]:
    """Indices of the "\n"-separated lines of `text` where a match of `pattern` starts: the
    number of newlines before each match, counted once along the text. (Run on "\n" + lines, a
    pattern that starts with the newline gives the index of the line that follows it.)"""
    found: set[int] = set()
    index, last = 0, 0
    for match in pattern.finditer(text):
        at = match.start()
        index += text.count("\n", last, at)
        last = at
        found.add(index)
    return found


def _folded(text: str) -> str:
    return text.lower() if text.isascii() else text.casefold()  # the same on ASCII, faster


def _clean_one_line_paragraphs(paragraphs: list[str]) -> str | None:
    """`clean_paragraphs` for paragraphs without line breaks of their own (a feed item's body),
    visiting only the paragraphs some rule can change; None when a paragraph has lines."""
    joined = "\n".join(paragraphs)
    if joined.count("\n") != len(paragraphs) - 1:
        return None
    folded = _folded(joined)
    out: list[str | None] = list(paragraphs)
    # drop_boilerplate: whole-paragraph residue, then residue run into a paragraph's end.
    for index in _lines_matching(_STARTS_AFTER_NEWLINE, "\n" + folded):
        if _is_boilerplate(paragraphs[index]):
            out[index] = None
    needed = _trailing_needed(folded)
    if needed:
        rare = any(pattern is not _ELLIPSIS for pattern, _ in needed)
        cut_here: set[int] = set()
        for need in _RARE_TRAILING if rare else ():
            cut_here |= _lines_matching(need, folded)
        if "[" in joined:
            cut_here |= _lines_matching(_ELLIPSIS_AT_END, joined)
        for index in cut_here:
            text = out[index]
            if text is not None:
                cut = _cut_trailing(text, needed).strip()
                if cut != text:
                    out[index] = None if not cut or _is_boilerplate(cut) else cut
    # Credits in parentheses, URLs and inline math, where the text has any.
    credits = (
        any(mark in joined for mark in _DOTTED_I) or _INLINE_CREDIT_START.search(folded) is not None
    )
    touched: set[int] = set()
    for pattern in (*_INLINE_NEEDS, _PAREN) if credits else _INLINE_NEEDS:
        touched |= _lines_matching(pattern, joined)
    for index in touched:
        text = out[index]
        if text is not None:
            out[index] = _inline_rules(text, credits=credits)
    return "\n\n".join(text for text in out if text)


def _inline_rules(paragraph: str, *, credits: bool = True) -> str | None:
    """Credits in parentheses, URLs and inline math out of a kept paragraph; None when what is
    left is empty or residue. `credits=False` says the text holds no credit to look for."""
    original = paragraph
    if credits and "(" in paragraph:
        paragraph = _INLINE_CREDIT.sub("", paragraph)
    paragraph = strip_urls(paragraph)
    if "$" in paragraph:
        paragraph = _INLINE_MATH.sub(r"\1", paragraph)
    # An unchanged paragraph already passed `_is_boilerplate` in `drop_boilerplate`.
    if not paragraph or (paragraph != original and _is_boilerplate(paragraph)):
        return None
    return paragraph


def clean_paragraphs(paragraphs: list[str]) -> str:
    """The body rules after decoding, on stripped, non-empty paragraphs; joined by blank lines."""
    if not paragraphs:
        return ""
    first = strip_credits(paragraphs[0]).strip()
    paragraphs = [first, *paragraphs[1:]] if first else paragraphs[1:]
    if not paragraphs:
        return ""
    fast = _clean_one_line_paragraphs(paragraphs)
    if fast is not None:
        return fast
    kept = (_inline_rules(paragraph) for paragraph in drop_boilerplate(paragraphs))
    return "\n\n".join(paragraph for paragraph in kept if paragraph)


def clean_text(text: str) -> str:
    """Every body rule in order; paragraphs (blank-line separated) are kept."""
    if not text:
        return ""
    text = decode_entities(decode_markup(text))
    return clean_paragraphs([p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip()])


def clean_html(markup: str) -> str:
    """`clean_text(plain_text(markup))` for a feed item's body, in one pass where it can be:
    the sanitiser's paragraphs go straight to the rules unless escaped markup or entities are
    left to decode, which takes the two steps (their line breaks shape what lxml sees)."""
    paragraphs = html_paragraphs(markup)
    for paragraph in paragraphs:
        if ("&" in paragraph or "<" in paragraph) and (
            _MARKUP_HINT.search(paragraph) or _LEFTOVER_ENTITY.search(paragraph)
        ):
            return clean_text(plain_text(markup))
    return clean_paragraphs(paragraphs)


@dataclass(frozen=True, slots=True)
class TitleAffixes:
    """A source's constant title parts: site names before or after every title."""

    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    bracket_keys: tuple[str, ...] = ()


def _suffix_of(title: str) -> str | None:
    matches = list(_TITLE_SEPARATORS.finditer(title))
    if not matches:
        return None
    last = matches[-1]
    tail = title[last.end() :].strip()
    return tail if tail and last.start() > 0 else None


def _bracket_key(title: str) -> str | None:
    match = _BRACKET_PREFIX.match(title)
    if not match:
        return None
    inner = (match.group(1) or match.group(2) or "").strip()
    words = inner.split()
    return words[0].lower() if words else None


def learn_title_affixes(titles: Sequence[str]) -> TitleAffixes:
    """The title parts a source repeats on many of its own titles (site name, section tag).

    Learned from the feed's titles, never from a list of site names: a tail after a separator
    (" | NVIDIA Technical Blog") or a bracketed lead ("[ITmedia News]") that recurs on at least
    three titles and 5 % of them is the source's, not the story's.
    """
    titles = [t.strip() for t in titles if t and t.strip()]
    if len(titles) < _MIN_AFFIX_COUNT:
        return TitleAffixes()
    needed = max(_MIN_AFFIX_COUNT, int(len(titles) * _MIN_AFFIX_SHARE + 0.999))
    suffixes = Counter(s for s in (_suffix_of(t) for t in titles) if s)
    keys = Counter(k for k in (_bracket_key(t) for t in titles) if k)
    return TitleAffixes(
        suffixes=tuple(
            sorted((s for s, n in suffixes.items() if n >= needed), key=len, reverse=True)
        ),
        bracket_keys=tuple(k for k, n in keys.items() if n >= needed),
    )


def clean_title(title: str, affixes: TitleAffixes | None = None) -> str:
    """A title without escaped markup and without its source's constant prefix or suffix."""
    title = " ".join(decode_markup(title).split()) if _MARKUP_HINT.search(title) else title
    title = " ".join(decode_entities(title).split())
    if affixes is None:
        return title
    original = title
    matches = list(_TITLE_SEPARATORS.finditer(title))
    if matches and matches[-1].start() > 0:
        tail = title[matches[-1].end() :].strip()
        if tail in affixes.suffixes:
            title = title[: matches[-1].start()].rstrip()
    key = _bracket_key(title)
    if key and key in affixes.bracket_keys:
        title = _BRACKET_PREFIX.sub("", title, count=1)
    title = title.strip()
    return title if len(title) >= _MIN_TITLE_CHARS else original

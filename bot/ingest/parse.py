"""Feed bytes → plain-text entries: fastfeedparser (lxml, fast) first, feedparser as fallback.

Only bytes are parsed, never URLs. Before either parser sees a document its DOCTYPE is removed,
so entity bombs, quadratic blow-ups and external entities have nothing to expand or fetch.
"""

from __future__ import annotations

import email.utils
import re
import time
import zlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import fastfeedparser
import feedparser

from bot.ingest.clean import clean_html, clean_title
from bot.ingest.sanitize import plain_text
from digest.models import MediaInfo

__all__ = ["ParsedEntry", "ParsedFeed", "gunzip_bounded", "http_link", "parse_date", "parse_feed"]

_GZIP_MAGIC = b"\x1f\x8b"
_DOCTYPE = re.compile(rb"<!DOCTYPE[^>\[]*(\[.*?\]\s*)?>", re.IGNORECASE | re.DOTALL)
_RISKY_SUBSET = re.compile(rb"[&%]|SYSTEM|PUBLIC", re.IGNORECASE)
_SMALL_SUBSET = 1024
_HEAD = 4096
_XML_ENCODING = re.compile(rb"<\?xml[^>]*encoding", re.IGNORECASE)
# Tried in order on undeclared, non-UTF-8 bodies; strict decoding rejects most wrong guesses.
_GUESSES = ("euc_jp", "cp932", "gb18030", "euc_kr", "cp1252")


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One feed item as plain text; `published` is None when the feed gave no usable date."""

    guid: str
    link: str
    title: str
    content: str
    published: datetime | None
    author: str = ""
    media: MediaInfo | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """The entries found, which parser found them, and why nothing was usable (if so)."""

    entries: list[ParsedEntry] = field(default_factory=list)
    title: str = ""
    lang: str = ""
    parser: str = ""
    error: str | None = None


def gunzip_bounded(body: bytes, cap: int) -> bytes:
    """Gunzip a body that starts with the gzip magic even without Content-Encoding; capped."""
    if not body.startswith(_GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        out = inflater.decompress(body, cap + 1)
    except zlib.error:
        return body
    return out[:cap]


def _defuse(body: bytes) -> bytes:
    """Drop a DOCTYPE whose internal subset could expand or fetch anything.

    A small subset of plain text entities (a feed's `<!ENTITY id "tag:...">`) is harmless and
    kept; nested references, parameter entities, external ids and large subsets are removed.
    """
    if b"<!" not in body[:_HEAD]:
        return body
    match = _DOCTYPE.search(body, 0, 1 << 20)
    if match is None or match.start() > _HEAD:
        return body
    subset = match.group(1) or b""
    if subset and len(subset) <= _SMALL_SUBSET and not _RISKY_SUBSET.search(subset):
        return body
    return body[: match.start()] + body[match.end() :]


def _repair_encoding(body: bytes) -> bytes:
    """Re-encode an undeclared, non-UTF-8 body (Shift_JIS, EUC-JP, ...) as UTF-8."""
    if _XML_ENCODING.search(body, 0, 200):
        return body
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return body
    for encoding in _GUESSES:
        try:
            return body.decode(encoding).encode("utf-8")
        except UnicodeDecodeError:
            continue
    return body


def parse_date(value: Any) -> datetime | None:
    """A feed date (ISO 8601, RFC 822, or time.struct_time) as an aware UTC datetime."""
    if not value:
        return None
    if isinstance(value, time.struct_time):
        try:
            return datetime(*value[:6], tzinfo=UTC)
        except ValueError:
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        result = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return result if result.year >= 1995 else None


# An absolute http(s) link that urljoin and urlsplit would hand back unchanged: a lower-case
# scheme, a plain host, a path of URL characters, no query, fragment or parameters (most
# feed links); it skips both parses.
_PLAIN_HTTP_LINK = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:/[A-Za-z0-9\-._~%!$&'()*+,=:@/]*)?"
)


def http_link(link: str | None, base_url: str) -> str:
    """An absolute http(s) link, resolved against the feed URL; anything else becomes ''."""
    if not link or not isinstance(link, str):
        return ""
    link = link.strip()
    if _PLAIN_HTTP_LINK.fullmatch(link):
        return link
    try:
        absolute = urljoin(base_url, link) if base_url else link
        parts = urlsplit(absolute)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return absolute


def _content_of(entry: dict[str, Any]) -> str:
    best = ""
    for block in entry.get("content") or ():
        value = block.get("value") if isinstance(block, dict) else None
        if isinstance(value, str) and len(value) > len(best):
            best = value
    for key in ("description", "summary"):
        value = entry.get(key)
        if isinstance(value, str) and len(value) > len(best):
            best = value
    return best


def _entry(raw: dict[str, Any], base_url: str) -> ParsedEntry | None:
    link = http_link(raw.get("link"), base_url)
    if not link:
        for candidate in raw.get("links") or ():
            if isinstance(candidate, dict) and candidate.get("rel", "alternate") == "alternate":
                link = http_link(candidate.get("href"), base_url)
                if link:
                    break
    title = clean_title(plain_text(raw.get("title") or "", single_line=True))
    content = clean_html(_content_of(raw))
    guid = str(raw.get("id") or raw.get("guid") or "").strip()[:2000]
    if not (title or content or link):
        return None
    published = None
    for key in ("published_parsed", "updated_parsed", "published", "updated", "created"):
        published = parse_date(raw.get(key))
        if published is not None:
            break
    author = plain_text(str(raw.get("author") or ""), single_line=True)[:500]
    return ParsedEntry(
        guid=guid, link=link, title=title, content=content, published=published, author=author
    )


def _entries(raw_entries: Any, base_url: str) -> list[ParsedEntry]:
    out: list[ParsedEntry] = []
    for raw in raw_entries or ():
        if isinstance(raw, dict):
            entry = _entry(raw, base_url)
            if entry is not None:
                out.append(entry)
    return out


def _fast(body: bytes, base_url: str) -> ParsedFeed:
    parsed = fastfeedparser.parse(
        body, include_tags=False, include_media=False, include_enclosures=False
    )
    feed = parsed.get("feed") or {}
    return ParsedFeed(
        entries=_entries(parsed.get("entries"), base_url),
        title=plain_text(str(feed.get("title") or ""), single_line=True),
        lang=str(feed.get("language") or ""),
        parser="fastfeedparser",
    )


def _fallback(body: bytes, base_url: str) -> ParsedFeed:
    parsed = feedparser.parse(
        body,
        sanitize_html=False,
        resolve_relative_uris=False,
        response_headers={"content-location": base_url} if base_url else None,
    )
    entries = _entries(parsed.get("entries"), base_url)
    error = None
    if not entries:
        problem = parsed.get("bozo_exception")
        error = f"no usable items ({type(problem).__name__}: {problem})" if problem else None
    feed = parsed.get("feed") or {}
    return ParsedFeed(
        entries=entries,
        title=plain_text(str(feed.get("title") or ""), single_line=True),
        lang=str(feed.get("language") or ""),
        parser="feedparser",
        error=error or (None if entries else "no items in the document"),
    )


def parse_feed(body: bytes, base_url: str = "", *, cap: int = 15 * 1024 * 1024) -> ParsedFeed:
    """Parse fetched bytes; good items of a broken feed are kept, `error` says when none were."""
    body = _repair_encoding(_defuse(gunzip_bounded(body, cap)))
    result = _parse_defused(body, base_url)
    if result.entries:
        from bot.ingest.media import attach_media  # video and tool metadata (bot/ingest/media.py)

        result = replace(result, entries=attach_media(body, result.entries))
    return result


def _parse_defused(body: bytes, base_url: str) -> ParsedFeed:
    if not body.strip():
        return ParsedFeed(error="empty body")
    fast_error = ""
    try:
        result = _fast(body, base_url)
        if result.entries:
            return result
    except Exception as exc:  # fastfeedparser raises plain ValueErrors and lxml errors alike
        fast_error = f"{type(exc).__name__}: {exc}"[:300]
    try:
        result = _fallback(body, base_url)
    except Exception as exc:  # a parser bug on hostile input is a feed error, never a crash
        return ParsedFeed(error=f"cannot parse feed: {fast_error or exc}"[:500])
    if not result.entries and fast_error:
        return ParsedFeed(parser=result.parser, error=f"not a usable feed: {fast_error}")
    return result

"""Video and tool metadata beside feed entries: what the generic parsers drop.

fastfeedparser runs without media support (it is the fast path), and neither parser reads
`yt:videoId`, `media:group` statistics or the star counts a trending feed writes into its summary.
This module reads the same defused bytes once more with lxml, only when the document looks like
it carries such metadata, and hands back one `MediaInfo` per entry key (GUID and link).
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lxml import etree

from digest.models import MediaInfo, ToolInfo, VideoInfo

if TYPE_CHECKING:
    from bot.ingest.parse import ParsedEntry

__all__ = ["attach_media", "extract_media", "tool_from_link", "tool_numbers"]

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
YT = "{http://www.youtube.com/xml/schemas/2015}"
_VIDEO_MARKER = b"youtube.com/xml/schemas"
_TOOL_MARKERS = (b"github.com/", b"huggingface.co/")
# What stands before a tool host where `_link_of` reads a link: an (atom:)link's href or a
# <link> element's text, then a scheme-relative URL up to the host ("https://www.", "//").
# A GitHub link in an item's text (<a href=…> in its HTML) is no entry link: such feeds are
# not parsed a second time for nothing.
_LINK_BEFORE_HOST = re.compile(
    rb"(?:<(?:[\w.-]+:)?link\b[^<>]*?\bhref\s*=\s*[\"']|<(?:[\w.-]+:)?link\b[^<>]*>"
    rb"(?:\s*<!\[CDATA\[)?)\s*(?:[a-zA-Z][\w+.-]*:)?//[^/\"'<>\s]*\Z",
    re.IGNORECASE,
)
_LINK_CONTEXT = 300
# A look costs about what parsing half a kilobyte does: a document naming a tool host more
# often than that budget allows is simply parsed, as it always was.
_BYTES_PER_LOOK = 512
_MAX_DESCRIPTION = 5000
# Hugging Face paths that are site sections, not an organisation's model.
_HF_RESERVED = frozenset(
    {"papers", "blog", "docs", "spaces", "datasets", "collections", "learn", "models", "api"}
)
_NUMBER = r"([\d][\d,\.]*)\s*([kKmM]?)"
_PATTERNS: dict[str, re.Pattern[str]] = {
    "stars_today": re.compile(_NUMBER + r"\s*stars?\s+(?:today|this week)", re.IGNORECASE),
    "stars": re.compile(r"(?:⭐\s*)?" + _NUMBER + r"\s*stars?\b(?!\s+(?:today|this))", re.I),
    "forks": re.compile(_NUMBER + r"\s*forks?\b", re.IGNORECASE),
    "downloads": re.compile(r"downloads?\s*[:：]\s*" + _NUMBER, re.IGNORECASE),
    "likes": re.compile(r"likes?\s*[:：]\s*" + _NUMBER, re.IGNORECASE),
}
_TASK = re.compile(r"(?:type|task|pipeline)\s*[:：]\s*([a-z0-9][a-z0-9-]{1,60})", re.IGNORECASE)
_LICENSE = re.compile(r"licen[cs]e\s*[:：]\s*([A-Za-z0-9][\w.+-]{0,40})", re.IGNORECASE)
_LANGUAGE = re.compile(r"💻\s*([\w#+.\- ]{1,30}?)\s*(?:$|<|\n)")


def _count(digits: str, suffix: str) -> int | None:
    try:
        value = float(digits.replace(",", ""))
    except ValueError:
        return None
    scale = {"k": 1_000, "m": 1_000_000}.get(suffix.lower(), 1)
    return int(value * scale)


def tool_numbers(text: str) -> dict[str, int | None]:
    """Stars, stars today, forks, downloads and likes written in a trending feed's summary."""
    found: dict[str, int | None] = {}
    for name, pattern in _PATTERNS.items():
        match = pattern.search(text)
        found[name] = _count(match.group(1), match.group(2)) if match else None
    return found


def tool_from_link(link: str) -> tuple[str, str, str] | None:
    """(key, name, kind) when a link is a GitHub repository or a Hugging Face model/dataset."""
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = [p for p in parts.path.split("/") if p]
    if host == "github.com" and len(path) == 2:
        name = f"{path[0]}/{path[1]}".removesuffix(".git")
        return f"github:{name.lower()}", name, "repo"
    if host == "huggingface.co":
        if len(path) == 3 and path[0] in ("datasets", "spaces"):
            name = f"{path[1]}/{path[2]}"
            kind = "dataset" if path[0] == "datasets" else "space"
            return f"hf-{kind}:{name.lower()}", name, kind
        if len(path) == 2 and path[0] not in _HF_RESERVED:
            name = f"{path[0]}/{path[1]}"
            return f"hf-model:{name.lower()}", name, "model"
    return None


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


def _int_attr(element: etree._Element | None, name: str) -> int | None:
    if element is None:
        return None
    raw = str(element.get(name) or "").strip()
    return int(raw) if raw.isdigit() else None


def _video(entry: etree._Element) -> tuple[VideoInfo, str] | None:
    video_id = _text(entry.find(f"{YT}videoId"))
    group = entry.find(f"{MEDIA}group")
    if not video_id:
        return None
    thumb = entry.find(f".//{MEDIA}thumbnail")
    content = entry.find(f".//{MEDIA}content")
    duration = _int_attr(content, "duration") or _int_attr(
        entry.find(f".//{YT}duration"), "seconds"
    )
    author = entry.find(f"{ATOM}author/{ATOM}name")
    info = VideoInfo(
        video_id=video_id[:64],
        thumbnail=str(thumb.get("url") or "")[:2000] if thumb is not None else "",
        channel=_text(author)[:200],
        duration_seconds=duration,
        views=_int_attr(entry.find(f".//{MEDIA}statistics"), "views"),
    )
    description = _text(group.find(f"{MEDIA}description")) if group is not None else ""
    return info, description[:_MAX_DESCRIPTION]


def _tool(link: str, summary: str, categories: list[str]) -> ToolInfo | None:
    found = tool_from_link(link)
    if found is None:
        return None
    key, name, kind = found
    text = html.unescape(summary).replace("<br/>", "\n").replace("<br>", "\n")
    numbers = tool_numbers(text)
    task = _TASK.search(text)
    licence = _LICENSE.search(text)
    language = _LANGUAGE.search(text)
    if kind == "repo":
        lang = language.group(1).strip() if language else (categories[0] if categories else "")
        task_name = ""
    else:
        lang = ""
        task_name = task.group(1).lower() if task else (categories[0] if categories else "")
    return ToolInfo(
        key=key[:300],
        name=name[:300],
        kind=kind,
        stars=numbers["stars"],
        stars_today=numbers["stars_today"],
        forks=numbers["forks"],
        downloads=numbers["downloads"],
        likes=numbers["likes"],
        license=licence.group(1)[:60] if licence else "",
        task=task_name[:60],
        language=lang[:40],
    )


def _link_of(entry: etree._Element) -> str:
    for link in entry.findall(f"{ATOM}link"):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link.get("href"))
    return _text(entry.find("link"))


def _may_hold_media(body: bytes) -> bool:
    """A video feed, or a tool host written as an entry's link somewhere in the document."""
    if _VIDEO_MARKER in body:
        return True
    looks, budget = 0, 16 + len(body) // _BYTES_PER_LOOK
    for marker in _TOOL_MARKERS:
        at = body.find(marker)
        while at >= 0:
            looks += 1
            if looks > budget or _LINK_BEFORE_HOST.search(body, max(0, at - _LINK_CONTEXT), at):
                return True
            at = body.find(marker, at + 1)
    return False


def extract_media(body: bytes) -> dict[str, tuple[MediaInfo, str]]:
    """Media per entry key (GUID and link) with the video description; {} when none."""
    if not _may_hold_media(body):
        return {}
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=True, load_dtd=False
    )
    try:
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError):
        return {}
    if root is None:
        return {}
    found: dict[str, tuple[MediaInfo, str]] = {}
    for entry in (*root.iter(f"{ATOM}entry"), *root.iter("item")):
        link = _link_of(entry)
        video = _video(entry)
        media: MediaInfo | None = None
        description = ""
        if video is not None:
            media, description = MediaInfo(video=video[0]), video[1]
        elif tool_from_link(link) is not None:  # the summary is read only for a tool
            summary = _text(entry.find(f"{ATOM}summary")) or _text(entry.find("description"))
            terms = [str(c.get("term") or "") for c in entry.findall(f"{ATOM}category")]
            terms += [_text(c) for c in entry.findall("category")]
            tool = _tool(link, summary, [t for t in terms if t])
            media = MediaInfo(tool=tool) if tool is not None else None
        if media is None:
            continue
        guid = _text(entry.find(f"{ATOM}id")) or _text(entry.find("guid"))
        for key in (guid, link):
            if key:
                found.setdefault(key, (media, description))
    return found


def attach_media(body: bytes, entries: list[ParsedEntry]) -> list[ParsedEntry]:
    """Entries with their media; a video without text is summarised from its description."""
    found = extract_media(body)
    if not found:
        return entries
    out: list[ParsedEntry] = []
    for entry in entries:
        hit = found.get(entry.guid) or found.get(entry.link)
        if hit is None:
            out.append(entry)
            continue
        media, description = hit
        content = entry.content
        if media.video is not None and len(description) > len(content):
            content = " ".join(description.split())
        out.append(replace(entry, media=media, content=content))
    return out

"""RSS 2.0 of the important stories, built with ElementTree so every text is escaped as XML."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from bot.config import Settings
from bot.links import article_permalink
from digest.models import DigestItem, StoryCandidate

# Characters XML 1.0 forbids even when escaped; a feed title carrying one would break readers.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
ATOM_NS = "http://www.w3.org/2005/Atom"


def xml_text(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def _child(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = xml_text(text)
    return element


def render_feed(
    settings: Settings,
    stories: Sequence[StoryCandidate | DigestItem],
    *,
    title: str,
    description: str,
    lang: str,
    built_at: datetime,
    self_path: str = "/feed.xml",
) -> bytes:
    """One RSS document; each item links to the story's permalink, newest first as given."""
    ET.register_namespace("atom", ATOM_NS)
    base = settings.web.base_url.rstrip("/")
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _child(channel, "title", title)
    _child(channel, "link", f"{base}/")
    _child(channel, "description", description)
    _child(channel, "language", lang)
    _child(channel, "lastBuildDate", format_datetime(built_at))
    _child(channel, "generator", "ainews")
    ET.SubElement(
        channel,
        f"{{{ATOM_NS}}}link",
        {"href": f"{base}{self_path}", "rel": "self", "type": "application/rss+xml"},
    )
    for story in stories:
        link = article_permalink(settings, story.article_id)
        item = ET.SubElement(channel, "item")
        _child(item, "title", story.title or link)
        _child(item, "link", link)
        _child(item, "guid", link, isPermaLink="true")
        _child(item, "pubDate", format_datetime(story.published_at))
        summary = story.tldr or story.title_translated
        if summary:
            _child(item, "description", summary)
        for tag in story.tags:
            _child(item, "category", tag)
    document: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return document

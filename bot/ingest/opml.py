"""OPML import and export of the source list (the format every feed reader speaks)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree as ET

from lxml import etree

__all__ = ["OpmlSource", "read_opml", "write_opml"]


@dataclass(frozen=True, slots=True)
class OpmlSource:
    name: str
    url: str
    lang: str = ""


def read_opml(data: bytes) -> list[OpmlSource]:
    """Feed outlines (any nesting) of an OPML document; entities and network stay off."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, recover=True
    )
    root = etree.fromstring(data, parser=parser)
    if root is None:
        raise ValueError("not an OPML document")
    found: list[OpmlSource] = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or "").strip()
        if not url.startswith(("http://", "https://")):
            continue
        name = (outline.get("title") or outline.get("text") or url).strip()
        found.append(OpmlSource(name=name, url=url, lang=(outline.get("language") or "").strip()))
    return found


def write_opml(sources: list[OpmlSource], title: str = "ainews sources") -> bytes:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for source in sources:
        attributes = {"type": "rss", "text": source.name, "title": source.name}
        attributes["xmlUrl"] = source.url
        if source.lang:
            attributes["language"] = source.lang
        ET.SubElement(body, "outline", attributes)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"

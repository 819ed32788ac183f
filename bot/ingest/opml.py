"""OPML import and export of the source list (the format every feed reader speaks)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree as ET

from lxml import etree

__all__ = ["OpmlSource", "read_opml", "write_opml"]


@dataclass(frozen=True, slots=True)
class OpmlSource:
    """One feed; `tags` are the folders it sits in, outermost first (exported back as folders)."""

    name: str
    url: str
    lang: str = ""
    tags: tuple[str, ...] = ()


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
        found.append(
            OpmlSource(
                name=name,
                url=url,
                lang=(outline.get("language") or "").strip(),
                tags=_folders(outline),
            )
        )
    return found


def _folders(outline: etree._Element) -> tuple[str, ...]:
    """The names of the folder outlines (no xmlUrl) around a feed, outermost first."""
    names: list[str] = []
    for parent in outline.iterancestors("outline"):
        if parent.get("xmlUrl"):
            continue
        name = (parent.get("title") or parent.get("text") or "").strip()
        if name:
            names.append(name[:100])
    return tuple(reversed(names))


def write_opml(sources: list[OpmlSource], title: str = "ainews sources") -> bytes:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    folders: dict[tuple[str, ...], ET.Element] = {(): body}

    def folder(path: tuple[str, ...]) -> ET.Element:
        if path not in folders:
            parent = folder(path[:-1])
            folders[path] = ET.SubElement(parent, "outline", {"text": path[-1], "title": path[-1]})
        return folders[path]

    for source in sources:
        attributes = {"type": "rss", "text": source.name, "title": source.name}
        attributes["xmlUrl"] = source.url
        if source.lang:
            attributes["language"] = source.lang
        ET.SubElement(folder(tuple(source.tags)), "outline", attributes)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"

"""OPML round trip: folders become source tags and come back as folders; an existing URL is
reported as present and keeps its name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from bot.ingest.opml import read_opml
from tests.cli.conftest import invoke

pytestmark = pytest.mark.usefixtures("english_cli")

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>reader</title></head><body>
  <outline text="AI">
    <outline text="Research">
      <outline type="rss" text="Lab Blog" xmlUrl="https://lab.test/feed.xml"/>
    </outline>
    <outline type="rss" text="Model News" xmlUrl="https://models.test/rss"/>
  </outline>
  <outline title="Blogs" text="Blogs">
    <outline type="rss" text="Existing Blog duplicate" xmlUrl="https://blog.test/atom.xml"/>
    <outline type="rss" text="Lab Blog duplicate" xmlUrl="https://lab.test/feed.xml"/>
  </outline>
  <outline type="rss" text="Loose" xmlUrl="https://loose.test/feed" language="en"/>
</body></opml>
"""


def _config(tmp_path: Path, name: str) -> list[str]:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / name}.db"\n', encoding="utf-8")
    return ["--config", str(path)]


def _listed(base: list[str]) -> dict[str, str]:
    ran = invoke(*base, "sources", "list", "--json")
    assert ran.code == 0, ran.err
    return {row["url"]: row["name"] for row in json.loads(ran.out)}


def test_import_keeps_existing_names_and_export_keeps_folders(tmp_path: Path) -> None:
    base = _config(tmp_path, "first")
    added = invoke(*base, "sources", "add", "Existing Blog", "https://blog.test/atom.xml")
    assert added.code == 0, added.err
    opml = tmp_path / "in.opml"
    opml.write_text(OPML, encoding="utf-8")

    ran = invoke(*base, "sources", "import-opml", str(opml))
    assert ran.code == 0, ran.err
    assert "present  Existing Blog <https://blog.test/atom.xml>" in ran.out
    assert "imported 3 sources" in ran.out and "1 already present" in ran.out
    names = _listed(base)
    assert names["https://blog.test/atom.xml"] == "Existing Blog"
    assert names["https://lab.test/feed.xml"] == "Lab Blog"  # first outline of a URL wins
    assert not any("duplicate" in name for name in names.values())

    again = invoke(*base, "sources", "import-opml", str(opml))
    assert "imported 0 sources" in again.out and "4 already present" in again.out

    exported = tmp_path / "out.opml"
    assert invoke(*base, "sources", "export-opml", str(exported)).code == 0
    tree = etree.fromstring(exported.read_bytes())
    research = tree.xpath('//outline[@text="AI"]/outline[@text="Research"]/outline/@xmlUrl')
    assert research == ["https://lab.test/feed.xml"]
    assert tree.xpath('//outline[@text="AI"]/outline[@xmlUrl]/@xmlUrl') == [
        "https://models.test/rss"
    ]
    assert tree.xpath("/opml/body/outline[@xmlUrl]/@xmlUrl") == [
        "https://blog.test/atom.xml",  # added by hand: no folder
        "https://loose.test/feed",
    ]

    by_url = {s.url: s.tags for s in read_opml(exported.read_bytes())}
    assert by_url == {
        "https://blog.test/atom.xml": (),
        "https://lab.test/feed.xml": ("AI", "Research"),
        "https://models.test/rss": ("AI",),
        "https://loose.test/feed": (),
    }
    fresh = _config(tmp_path, "second")
    assert invoke(*fresh, "sources", "import-opml", str(exported)).code == 0
    round_trip = tmp_path / "again.opml"
    assert invoke(*fresh, "sources", "export-opml", str(round_trip)).code == 0
    assert {s.url: s.tags for s in read_opml(round_trip.read_bytes())} == by_url

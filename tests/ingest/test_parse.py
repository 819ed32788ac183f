"""Parsing bytes into plain-text entries: real feeds, hostile feeds, encodings, sanitising."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from bot.ingest.parse import gunzip_bounded, http_link, parse_date, parse_feed
from bot.ingest.sanitize import plain_text

BASE = "https://feeds.example.test/feed.xml"


def _files(fixtures: Path, folder: str) -> list[Path]:
    return sorted(p for p in (fixtures / "feeds" / folder).iterdir() if p.is_file())


def test_every_real_feed_yields_items(fixtures_dir: Path) -> None:
    for path in _files(fixtures_dir, "real"):
        parsed = parse_feed(path.read_bytes(), BASE)
        assert parsed.entries, f"{path.name}: {parsed.error}"
        for entry in parsed.entries:
            assert "<script" not in entry.title.lower() and "<script" not in entry.content.lower()
            assert entry.link == "" or entry.link.startswith(("http://", "https://"))
            if entry.published is not None:
                assert entry.published.utcoffset() is not None


def test_every_malformed_feed_is_contained(fixtures_dir: Path) -> None:
    for path in _files(fixtures_dir, "malformed"):
        parsed = parse_feed(path.read_bytes(), BASE)
        assert parsed.entries or parsed.error, path.name


@pytest.mark.parametrize("name", ["xmlbomb.xml", "cyclic.xml", "quadratic.xml", "external.xml"])
def test_entity_attacks_are_inert(fixtures_dir: Path, name: str) -> None:
    """No expansion and no fetch; how fast that is belongs to bench/, not to a test."""
    body = (fixtures_dir / "feeds" / "malformed" / name).read_bytes()
    parsed = parse_feed(body, BASE)
    text = " ".join(e.title + e.content for e in parsed.entries)
    assert "lol" * 10 not in text and len(text) < 10_000
    assert "note" not in text.lower()  # the external entity was never fetched or inlined


def test_xxe_file_entity_is_not_read() -> None:
    body = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title>
<item><title>Leak &xxe;</title><link>https://a.test/1</link></item></channel></rss>"""
    parsed = parse_feed(body, BASE)
    assert all("root:" not in e.title + e.content for e in parsed.entries)


def test_hostile_html_becomes_plain_text(fixtures_dir: Path) -> None:
    for name in ("entry_title_crazy.xml", "item_description_crazy.xml"):
        parsed = parse_feed((fixtures_dir / "feeds" / "malformed" / name).read_bytes(), BASE)
        entry = parsed.entries[0]
        text = entry.title + entry.content
        assert "Did The Javascript Execute?" in text
        assert "alert(" not in text and "<" not in text and "onmouseover" not in text


def test_script_inline_is_dropped(fixtures_dir: Path) -> None:
    path = fixtures_dir / "feeds" / "malformed" / "entry_content_script_inline.xml"
    entry = parse_feed(path.read_bytes(), BASE).entries[0]
    assert entry.content == "safe description"


def test_gzip_body_without_content_encoding(fixtures_dir: Path) -> None:
    path = fixtures_dir / "feeds" / "malformed" / "invalid-characters-gzipped.xml"
    assert len(parse_feed(path.read_bytes(), BASE).entries) == 25


def test_gunzip_is_bounded() -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)
    assert len(gunzip_bounded(bomb, 1000)) == 1000


@pytest.mark.parametrize(
    ("name", "expected"),
    [("shiftjis.xml", "DrecomRSSに記事投稿が反映されない"), ("eucjp.xml", "ゲーム三昧な正月")],
)
def test_undeclared_japanese_encodings(fixtures_dir: Path, name: str, expected: str) -> None:
    path = fixtures_dir / "feeds" / "malformed" / name
    assert expected in parse_feed(path.read_bytes(), BASE).entries[0].title


def test_html_page_is_not_a_feed(fixtures_dir: Path) -> None:
    parsed = parse_feed((fixtures_dir / "feeds" / "malformed" / "notafeed.html").read_bytes())
    assert not parsed.entries and parsed.error


def test_saxerror_keeps_good_items(fixtures_dir: Path) -> None:
    parsed = parse_feed((fixtures_dir / "feeds" / "malformed" / "saxerror.xml").read_bytes())
    assert len(parsed.entries) == 3


def test_links_resolved_and_only_http() -> None:
    body = b"""<rss version="2.0"><channel><title>t</title>
<item><title>Relative</title><link>/posts/1</link></item>
<item><title>Script</title><link>javascript:alert(1)</link></item>
<item><title>Undated</title><link>https://other.test/x</link></item>
</channel></rss>"""
    entries = parse_feed(body, BASE).entries
    assert [e.link for e in entries] == [
        "https://feeds.example.test/posts/1",
        "",
        "https://other.test/x",
    ]
    assert all(e.published is None for e in entries)


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("Tue, 10 Jun 2003 04:00:00 GMT", "2003-06-10T04:00:00+00:00"),
        ("2026-02-17T20:20:02+09:00", "2026-02-17T11:20:02+00:00"),
        ("2026-02-17T11:20:02Z", "2026-02-17T11:20:02+00:00"),
        ("2026-02-17 11:20:02", "2026-02-17T11:20:02+00:00"),
        ("Τρι, 29 Ιον 2004 12:53:00 GMT", None),
        ("", None),
    ],
)
def test_parse_date(raw: str, iso: str | None) -> None:
    parsed = parse_date(raw)
    assert (parsed.isoformat() if parsed else None) == iso


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>Hello <b>world</b></p>", "Hello world"),
        ("&lt;b&gt;escaped&lt;/b&gt; twice &amp;amp; more", "escaped twice &amp; more"),
        ("<script>alert(1)</script>ok<style>p{}</style>", "ok"),
        ("a &lt; b and c &gt; d", "a < b and c > d"),
        ("x<!-- <script>bad</script> -->y", "x y"),
        ("line1<br>line2", "line1\nline2"),
    ],
)
def test_plain_text(markup: str, text: str) -> None:
    assert plain_text(markup) == text


def test_http_link_rejects_other_schemes() -> None:
    assert http_link("ftp://x.test/a", BASE) == ""
    assert http_link("//cdn.test/a", BASE) == "https://cdn.test/a"


def test_block_ends_are_paragraphs_and_br_a_line_break() -> None:
    """Stored text keeps paragraphs the way digest.text.split_paragraphs reads them."""
    from digest.text import split_paragraphs

    text = plain_text("<p>First <b>para</b> here.</p>\n<p>Second<br>line.</p><div>Third</div>")
    assert text == "First para here.\n\nSecond\nline.\n\nThird"
    assert split_paragraphs(text) == ["First para here.", "Second\nline.", "Third"]
    assert plain_text("<p>a</p><p>b</p>", single_line=True) == "a b"


def test_extracted_page_text_keeps_one_paragraph_per_line() -> None:
    from bot.ingest.sanitize import plain_paragraphs

    assert plain_paragraphs("Intro line.\n\n  Body &amp; more \nEnd\x07") == (
        "Intro line.\n\nBody & more\n\nEnd"
    )

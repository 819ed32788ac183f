"""One test per cleaning rule, on the real fixture text that needed it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.ingest.clean import (
    clean_html,
    clean_text,
    clean_title,
    decode_markup,
    learn_title_affixes,
    strip_credits,
    strip_urls,
)
from bot.ingest.parse import parse_feed
from bot.ingest.prepare import normalise_entries
from bot.ingest.sanitize import plain_text

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "feeds" / "real"


def entries(name: str) -> list:
    return parse_feed((REAL / name).read_bytes(), "https://example.test/").entries


def articles(name: str) -> list:
    parsed = parse_feed((REAL / name).read_bytes(), "https://example.test/")
    from datetime import UTC, datetime

    return normalise_entries(
        parsed.entries, source_lang="", feed_lang=parsed.lang, fetched_at=datetime.now(UTC)
    )


def test_double_escaped_markup_is_decoded_and_stripped() -> None:
    for entry in entries("my-tech-blog-rss-feed_ai_rss.xml"):
        assert "&lt;" not in entry.content and "<img" not in entry.content
        assert "wp-content" not in entry.content
    assert decode_markup('&amp;lt;img src="a.jpg"&amp;gt;Text &amp;amp; more') == "Text & more"


def test_appeared_first_on_is_dropped() -> None:
    text = "Real paragraph.\n\nThe post Skala 1.1 ships appeared first on Microsoft Research."
    assert clean_text(text) == "Real paragraph."
    for name in REAL.iterdir():
        for entry in entries(name.name):
            assert "appeared first on" not in entry.content


def test_reddit_submitted_by_and_link_comments_are_dropped() -> None:
    for entry in entries("feed-rs_atom_mediarss_reddit_1.xml"):
        assert "submitted by" not in entry.content
        assert "[link]" not in entry.content and "[comments]" not in entry.content


def test_photo_credits_run_into_text_are_dropped() -> None:
    contents = [
        e.content for e in entries("sample-feeds_theverge_90c654888cac5a6037d18431d480abbf.xml")
    ]
    assert not any(c.startswith(("Illustration by", "Image:", "Photo by")) for c in contents)
    assert strip_credits("Illustration by Alex Castro / The Verge On Tuesday, it rained.") == (
        "On Tuesday, it rained."
    )
    assert strip_credits("Image: Plex Plex's beta is out.") == "Plex's beta is out."


def test_listen_to_this_post_is_dropped() -> None:
    for entry in entries("fastfeedparser_stratechery_73c63ac29e5d1dc8.xml"):
        assert "Listen to this post" not in entry.content


def test_urls_run_into_text_are_removed() -> None:
    for entry in entries("fastfeedparser_kagi-blog_8ac7670d173bf93d.xml"):
        assert "https://" not in entry.content
    assert strip_urls("Kagi ( https://kagi.com ) has raised $670K.") == "Kagi has raised $670K."


def test_read_more_is_dropped() -> None:
    for entry in entries("colah_rss.xml"):
        assert not entry.content.rstrip().endswith("Read more.")


def test_paragraphs_are_kept() -> None:
    text = "First paragraph here.\n\nSecond paragraph here.\n\nThe post X appeared first on Y."
    assert clean_text(text) == "First paragraph here.\n\nSecond paragraph here."


@pytest.mark.parametrize(
    ("feed", "residue"),
    [
        ("my-tech-blog-rss-feed_ai_rss.xml", "| NVIDIA Technical Blog"),
        ("my-tech-blog-rss-feed_itmedia_rss.xml", "[ITmedia"),
        ("my-tech-blog-rss-feed_zenn_rss.xml", "Zennのトレンド"),
    ],
)
def test_a_sources_constant_title_affix_is_learned_and_removed(feed: str, residue: str) -> None:
    titles = [a.title for a in articles(feed)]
    assert titles and not any(residue in title for title in titles)


def test_affixes_are_learned_not_listed() -> None:
    titles = [f"Story {n} | Example Daily" for n in range(5)] + ["A - B", "Other"]
    affixes = learn_title_affixes(titles)
    assert affixes.suffixes == ("Example Daily",)
    assert clean_title("Story 9 | Example Daily", affixes) == "Story 9"
    assert clean_title("A - B", affixes) == "A - B"  # a one-off separator stays


def test_inline_math_is_flattened() -> None:
    assert clean_text("The training loss $L$ falls.") == "The training loss L falls."


def test_twice_escaped_entities_are_decoded() -> None:
    assert clean_text("Algorithms &amp;amp; Theory") == "Algorithms & Theory"
    assert clean_title("Design &amp;amp; Make Summit") == "Design & Make Summit"


# Pieces of real feed markup and residue that the one-pass body path must treat exactly as
# sanitising (`plain_text`) and then cleaning (`clean_text`) do.
_PIECES = [
    "<p>", "</p>", "</P >", "<br>", "<br/>", "<BR class='x'>", "<div>", "</div>", "</li>",
    "</h2>", "</tr>", "<b>", "</b>", "<script>x</script>", "<style>", "<!-- c -->", "<!--",
    "<![CDATA[", "]]>", "<?pi?>", "<!DOCTYPE x>", "&amp;", "&lt;", "&gt;", "&lt;b&gt;",
    "&amp;lt;img src=x&amp;gt;", "&amp;amp;", "&amp;quot;", "&#60;", "&nbsp;", "&#2;", "\x02",
    "\x01", "\u2424", "\x0b", "\xa0", "\u3000", " ", "  ", "\n", "\n\n", "\t", "word", "The",
    "The post X appeared first on Y.", "submitted by /u/bob", "[link]", "[comments]",
    "Read more", "continue reading", "[…]", "...", "(Photo by Jane)", "(İmage: x)",
    "Illustration by Alex / The Verge ", "Image: Plex Plex", "https://x.com/a", "www.y.org",
    "( https://k.com )", "$L$", "$", "Twitter: @a", "Advertisement", "<a href='h>'>", "a<b",
    "<", ">", "&", "\u200b", "\xad", "ſource: x", "Share this:", "listen to this post", "。",
]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_one_pass_body_equals_sanitise_then_clean(pieces: list[str]) -> None:
    markup = "".join(pieces)
    assert clean_html(markup) == clean_text(plain_text(markup))

"""Done-when of the editorial engine: on the real fixtures no TL;DR, key point, title or tag shows
feed residue (EDITORIAL.md, "Texts a reader must never see")."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings
from bot.enrich.offline import OfflineEnricher
from bot.ingest.extract import is_teaser
from bot.ingest.parse import parse_feed
from bot.ingest.prepare import normalise_entries
from bot.ports import EnrichmentInput
from digest.knowledge import knowledge
from digest.text import is_unreadable, repeats

RESIDUE = re.compile(
    r"&lt;|&gt;|&amp;|<img|<a |appeared first on|submitted by /u/|\[link\]|\[comments\]|"
    r"Listen to this post|Illustration by|wp-content|https?://|www\.|\\frac|\$\$",
    re.IGNORECASE,
)
FILE_OR_URL = re.compile(r"[/\\=?&]|\.(?:jpe?g|png|gif|webp|svg|html?|php)$|^\d")


def fixture_items(fixtures_dir: Path) -> list[tuple[str, EnrichmentInput]]:
    items: list[tuple[str, EnrichmentInput]] = []
    for folder in ("real", "tools"):
        for path in sorted((fixtures_dir / "feeds" / folder).iterdir()):
            parsed = parse_feed(path.read_bytes(), f"https://fixtures.test/{path.name}")
            articles = normalise_entries(
                parsed.entries,
                source_lang="",
                feed_lang=parsed.lang,
                fetched_at=datetime(2026, 11, 29, tzinfo=UTC),
            )
            for article in articles:
                items.append(
                    (
                        path.name,
                        EnrichmentInput(
                            article_id=len(items) + 1,
                            title=article.title,
                            content=article.content,
                            url=article.url,
                            source=path.name,
                            lang=article.lang,
                            teaser=is_teaser(article.content),
                        ),
                    )
                )
    return items


def test_no_residue_reaches_readers(fixtures_dir: Path) -> None:
    enricher = OfflineEnricher(Settings())
    stopwords = knowledge().stopwords
    items = fixture_items(fixtures_dir)
    assert len(items) > 800
    problems: list[str] = []
    for feed, item in items:
        e = enricher.enrich_now(item).enrichment
        for label, text in (
            ("title", item.title),
            ("tldr", e.tldr),
            *(("point", p) for p in e.key_points),
        ):
            if RESIDUE.search(text):
                problems.append(f"{feed}: {label} {text[:80]!r}")
        for point in e.key_points:
            if is_unreadable(point) or repeats(point, [e.tldr, item.title]):
                problems.append(f"{feed}: key point repeats or is code/LaTeX {point[:80]!r}")
        for tag in e.tags:
            if tag in stopwords or FILE_OR_URL.search(tag) or len(tag) < 2:
                problems.append(f"{feed}: tag {tag!r}")
    assert problems == [], "\n".join(problems)


def test_site_names_are_gone_from_titles(fixtures_dir: Path) -> None:
    titles = [item.title for _, item in fixture_items(fixtures_dir)]
    for residue in (
        "| NVIDIA Technical Blog",
        "| ITmedia 総合記事一覧",
        "| Zennのトレンド",
        "[ITmedia",
    ):
        assert not [t for t in titles if residue in t], residue

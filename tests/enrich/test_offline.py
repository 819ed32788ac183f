"""The offline engine on the real fixture corpus, English and Japanese, with no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.enrich.offline import OfflineEnricher
from bot.ingest.clean import clean_text
from bot.ports import EnrichmentInput
from digest.text import TLDR_MAX_CHARS, is_cjk_lang, repeats, split_sentences
from tests.enrich.conftest import ARTICLE_TEXT, Seed, feed_articles


def as_input(seed: Seed, index: int = 0) -> EnrichmentInput:
    return EnrichmentInput(
        article_id=index,
        title=seed.title,
        content=seed.content,
        url=seed.url,
        source="fixture",
        lang=seed.lang,
        source_count=seed.source_count,
    )


def corpus(fixtures_dir: Path) -> list[Seed]:
    seeds: list[Seed] = []
    for path in sorted((fixtures_dir / "feeds" / "real").iterdir()):
        seeds.extend(feed_articles(path))
    return seeds


async def test_importance_spreads_over_the_real_corpus(fixtures_dir: Path) -> None:
    enricher = OfflineEnricher(Settings())
    seeds = corpus(fixtures_dir)
    assert len(seeds) > 500
    results = [enricher.enrich_now(as_input(seed, i)) for i, seed in enumerate(seeds)]
    spread = {r.enrichment.importance for r in results}
    assert len(spread) >= 3, spread
    for result in results:
        e = result.enrichment
        assert len(e.tldr) <= TLDR_MAX_CHARS
        assert len(e.key_points) <= 7
        assert all(1 <= s["score"] <= 5 for s in e.scores.as_dict().values())
        assert all(s["reason"] for s in e.scores.as_dict().values())
        assert (e.impact, e.editorial, result.engine, result.tokens_in) == ("", "", "offline", 0)


@pytest.mark.parametrize(
    ("feed", "lang"),
    [
        ("my-tech-blog-rss-feed_zenn_rss.xml", "ja"),
        ("my-tech-blog-rss-feed_itmedia_rss.xml", "ja"),
        ("lilianweng_index.xml", "en"),
        ("my-tech-blog-rss-feed_ai_rss.xml", "en"),
    ],
)
def test_summaries_come_from_the_articles_own_sentences(
    fixtures_dir: Path, feed: str, lang: str
) -> None:
    enricher = OfflineEnricher(Settings())
    seeds = feed_articles(fixtures_dir / "feeds" / "real" / feed)
    for index, seed in enumerate(seeds[:15]):
        e = enricher.enrich_now(as_input(seed, index)).enrichment
        assert e.lang == lang
        assert e.tldr
        # Three points whenever the article has enough sentences; a teaser has fewer, never
        # its title or TL;DR again.
        if len(split_sentences(seed.content)) >= 10:
            assert len(e.key_points) >= 3, (seed.title, e.key_points)
        assert len(e.key_points) <= 7
        assert not any(repeats(point, [e.tldr, seed.title]) for point in e.key_points)
        source = f"{seed.title} {clean_text(seed.content)}"
        for point in e.key_points:
            assert point.rstrip("…") in source or any(
                point.rstrip("…") in s for s in split_sentences(source)
            )
        if is_cjk_lang(lang):
            assert any("\u3040" <= ch <= "\u9fff" for ch in e.tldr)


def test_zenn_moe_article_gets_hardware_and_inference_tags(fixtures_dir: Path) -> None:
    seeds = feed_articles(fixtures_dir / "feeds" / "real" / "my-tech-blog-rss-feed_zenn_rss.xml")
    moe = next(s for s in seeds if "FreeToken" in s.title)
    e = OfflineEnricher(Settings()).enrich_now(as_input(moe)).enrichment
    assert {"hardware", "inference"} <= set(e.tags)
    assert "freetoken" in e.tags


def test_scores_explain_themselves_on_a_rich_article() -> None:
    seed = Seed("OpenAI ships an open-source agent framework", ARTICLE_TEXT, source_count=3)
    e = OfflineEnricher(Settings()).enrich_now(as_input(seed)).enrichment
    assert {"openai", "agents", "open-source", "coding", "release"} <= set(e.tags)
    assert e.is_ai and e.kind == "news" and "openai" in e.entities
    assert "covered by 3 sources" in e.scores.relevance.reason
    assert "OpenAI" in e.scores.relevance.reason
    assert "OpenAI + release" in e.scores.practicality.reason
    assert e.importance >= 4


def test_taxonomy_from_config_adds_replaces_and_removes_tags() -> None:
    settings = Settings.model_validate(
        {"enrich": {"taxonomy": {"frameworks": ["framework"], "openai": [], "coding": ["python"]}}}
    )
    seed = Seed("OpenAI ships an open-source agent framework", ARTICLE_TEXT)
    tags = OfflineEnricher(settings).enrich_now(as_input(seed)).enrichment.tags
    assert "frameworks" in tags
    assert "openai" not in tags
    assert "coding" in tags  # "python" still matches


def test_interests_from_config_drive_relevance() -> None:
    seed = Seed(
        "Figure unveils a humanoid robot that folds laundry",
        "Figure showed a humanoid robot that folds laundry in a new demo.",
    )
    default = OfflineEnricher(Settings()).enrich_now(as_input(seed)).enrichment
    robotics = Settings.model_validate({"enrich": {"interests": ["robotics"]}})
    tuned = OfflineEnricher(robotics).enrich_now(as_input(seed)).enrichment
    assert tuned.scores.relevance.score > default.scores.relevance.score
    assert "robotics" in tuned.scores.relevance.reason

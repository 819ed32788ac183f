"""Editorial evaluation: does the offline engine rank what an editor would rank?

Runs the production path (feed parser → ingest normalisation and cleaning → offline enricher →
story clustering) over the fixture items that `tests/data/editorial/` labels by hand, and prints
Spearman correlation with the editor's importance, alert precision and recall at the alert
threshold, the share of non-AI items scored ≥ threshold, the is_ai accuracy, and story
clustering precision/recall against the labelled pairs.

Run: .venv/bin/python bench/editorial.py [--set dev|heldout|all] [--json] [--write]
(`--write` appends the figures to bench/RESULTS.md.)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.config import Settings  # noqa: E402
from bot.enrich.offline import OfflineEnricher  # noqa: E402
from bot.ingest.extract import is_teaser  # noqa: E402
from bot.ingest.parse import parse_feed  # noqa: E402
from bot.ingest.prepare import normalise_entries  # noqa: E402
from bot.ports import EnrichmentInput  # noqa: E402
from digest.dedup import StoryIndex, StoryKey  # noqa: E402
from digest.editorial import story_keys  # noqa: E402
from digest.models import Article, Enrichment  # noqa: E402

FIXTURES = REPO.parent / "shared" / "fixtures" / "feeds"
LABELS = REPO / "tests" / "data" / "editorial"
RESULTS = REPO / "bench" / "RESULTS.md"
FETCHED_AT = datetime(2026, 11, 29, tzinfo=UTC)
ALERT_THRESHOLD = 4


@dataclass(frozen=True, slots=True)
class Labelled:
    feed: str
    guid: str
    ai: bool
    importance: int
    kind: str


@dataclass(frozen=True, slots=True)
class Scored:
    label: Labelled
    article: Article
    enrichment: Enrichment


def read_labels(name: str) -> list[Labelled]:
    rows = [json.loads(line) for line in (LABELS / f"{name}.jsonl").read_text().splitlines()]
    return [
        Labelled(r["feed"], r["guid"], bool(r["ai"]), int(r["importance"]), r["kind"]) for r in rows
    ]


def feed_articles(feed: str) -> list[tuple[str, Article]]:
    """(guid, article) of one fixture feed, through the same parse and normalise as ingest."""
    parsed = parse_feed((FIXTURES / feed).read_bytes(), f"https://fixtures.test/{feed}")
    articles = normalise_entries(
        parsed.entries, source_lang="", feed_lang=parsed.lang, fetched_at=FETCHED_AT
    )
    return [(entry.guid, article) for entry, article in zip(parsed.entries, articles, strict=True)]


def score(labels: Sequence[Labelled], settings: Settings) -> list[Scored]:
    enricher = OfflineEnricher(settings)
    by_feed: dict[str, list[tuple[str, Article]]] = {}
    out: list[Scored] = []
    used: set[tuple[str, int]] = set()
    for label in labels:
        if label.feed not in by_feed:
            by_feed[label.feed] = feed_articles(label.feed)
        # guids can repeat or be empty within a feed: take the first unused match in order.
        position = next(
            (
                i
                for i, (guid, _) in enumerate(by_feed[label.feed])
                if guid == label.guid and (label.feed, i) not in used
            ),
            None,
        )
        if position is None:
            raise SystemExit(f"label not found in fixtures: {label.feed} {label.guid!r}")
        used.add((label.feed, position))
        article = by_feed[label.feed][position][1]
        item = EnrichmentInput(
            article_id=len(out) + 1,
            title=article.title,
            content=article.content,
            url=article.url,
            source=label.feed,
            lang=article.lang,
            teaser=is_teaser(article.content),
        )
        out.append(Scored(label, article, enricher.enrich_now(item).enrichment))
    return out


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Pearson correlation of the ranks (average ranks for ties)."""
    rx, ry = _ranks(xs), _ranks(ys)
    n = len(xs)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx) ** 0.5
    vy = sum((b - my) ** 2 for b in ry) ** 0.5
    return cov / (vx * vy) if vx and vy else 0.0


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def scoring_figures(scored: Sequence[Scored]) -> dict[str, Any]:
    predicted = [s.enrichment.importance for s in scored]
    labelled = [s.label.importance for s in scored]
    alerts = [s for s in scored if s.enrichment.importance >= ALERT_THRESHOLD]
    wanted = [s for s in scored if s.label.importance >= ALERT_THRESHOLD]
    non_ai = [s for s in scored if not s.label.ai]
    return {
        "items": len(scored),
        "spearman": round(spearman(predicted, labelled), 3),
        "alert_precision": _share(sum(s.label.importance >= 3 for s in alerts), len(alerts)),
        "alert_recall": _share(
            sum(s.enrichment.importance >= ALERT_THRESHOLD for s in wanted), len(wanted)
        ),
        "alerts": len(alerts),
        "labelled_4_5": len(wanted),
        "non_ai_at_alert": _share(
            sum(s.enrichment.importance >= ALERT_THRESHOLD for s in non_ai), len(non_ai)
        ),
        "is_ai_accuracy": _share(
            sum(s.enrichment.is_ai == s.label.ai for s in scored), len(scored)
        ),
        "distribution": {level: sum(p == level for p in predicted) for level in range(1, 6)},
    }


def clusters(scored: Sequence[Scored]) -> dict[tuple[str, str], int]:
    """Story ids assigned by the production clustering, items fed in publication order."""
    index = StoryIndex()
    assigned: dict[tuple[str, str], int] = {}
    order = sorted(scored, key=lambda s: (s.article.published_at, s.label.feed, s.label.guid))
    for item in order:
        article = item.article
        story = index.find(
            canonical=article.canonical_url,
            title=article.title,
            content=article.content,
            published_at=article.published_at,
            entities=story_keys(article.title, article.content),
        )
        if story is None:
            story = index.new_story_id()
        index.add(
            StoryKey(
                story,
                article.canonical_url,
                article.title,
                "",
                article.published_at,
                entities=story_keys(article.title, article.content),
            )
        )
        assigned.setdefault((item.label.feed, item.label.guid), index.resolve(story))
    return {key: index.resolve(story) for key, story in assigned.items()}


def clustering_figures(scored: Sequence[Scored], pairs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    story_of = clusters(scored)
    labelled: dict[frozenset[tuple[str, str]], bool] = {}
    for pair in pairs:
        a = (pair["a"]["feed"], pair["a"]["guid"])
        b = (pair["b"]["feed"], pair["b"]["guid"])
        if a in story_of and b in story_of and a != b:
            labelled[frozenset((a, b))] = bool(pair["same"])
    members: dict[int, list[tuple[str, str]]] = {}
    for key, story in story_of.items():
        members.setdefault(story, []).append(key)
    joined = {
        frozenset((x, y))
        for group in members.values()
        for i, x in enumerate(group)
        for y in group[i + 1 :]
    }
    # A joined pair nobody labelled counts as wrong: precision is never flattered.
    correct = sum(1 for pair in joined if labelled.get(pair) is True)
    same = [pair for pair, is_same in labelled.items() if is_same]
    return {
        "joined_pairs": len(joined),
        "unlabelled_joined": sum(1 for pair in joined if pair not in labelled),
        "cluster_precision": _share(correct, len(joined)),
        "cluster_recall": _share(sum(1 for pair in same if pair in joined), len(same)),
        "labelled_same_pairs": len(same),
    }


def evaluate(name: str, settings: Settings) -> dict[str, Any]:
    labels = read_labels(name)
    scored = score(labels, settings)
    figures = {"set": name, **scoring_figures(scored)}
    pairs_path = LABELS / "pairs.jsonl"
    if name == "dev" and pairs_path.exists():
        pairs = [json.loads(line) for line in pairs_path.read_text().splitlines()]
        figures.update(clustering_figures(scored, pairs))
    return figures


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["dev", "heldout", "all"], default="all")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", action="store_true", help="append to bench/RESULTS.md")
    parser.add_argument("--show", type=int, default=0, help="print N worst disagreements")
    args = parser.parse_args(argv)
    settings = Settings()
    names = ["dev", "heldout"] if args.set == "all" else [args.set]
    results = [evaluate(name, settings) for name in names]
    if args.show:
        for name in names:
            scored = score(read_labels(name), settings)
            worst = sorted(scored, key=lambda s: -abs(s.enrichment.importance - s.label.importance))
            for s in worst[: args.show]:
                reasons = s.enrichment.scores.as_dict()
                print(
                    f"[{name}] label {s.label.importance}{'A' if s.label.ai else 'n'} "
                    f"got {s.enrichment.importance}{'A' if s.enrichment.is_ai else 'n'} "
                    f"| {s.article.title[:90]}\n     "
                    + " / ".join(f"{k}={v['score']}:{v['reason'][:70]}" for k, v in reasons.items())
                )
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for figures in results:
            print(" ".join(f"{k}={_fmt(v)}" for k, v in figures.items()))
    if args.write:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = [f"\n### Editorial evaluation ({stamp}, `bench/editorial.py`)\n"]
        for figures in results:
            lines.append("- " + ", ".join(f"{k} {_fmt(v)}" for k, v in figures.items()))
        with RESULTS.open("a") as out:
            out.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

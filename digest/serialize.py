"""Digests to and from plain JSON-able dicts: the outbox payload and the `--format json` shape.

Kept pure and symmetric so a payload written by one replica renders identically on another.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from digest.models import Digest, DigestItem, DimensionScore, Scores


def scores_to_dict(scores: Scores | None) -> dict[str, dict[str, int | str]]:
    return scores.as_dict() if scores is not None else {}


def scores_from_dict(data: dict[str, Any] | None) -> Scores | None:
    if not data:
        return None
    return Scores(
        **{
            name: DimensionScore(int(data[name]["score"]), str(data[name].get("reason", "")))
            for name in ("depth", "relevance", "practicality", "innovation")
        }
    )


def item_to_dict(item: DigestItem) -> dict[str, Any]:
    return {
        "story_id": item.story_id,
        "article_id": item.article_id,
        "title": item.title,
        "url": item.url,
        "sources": list(item.sources),
        "importance": item.importance,
        "scores": scores_to_dict(item.scores),
        "tldr": item.tldr,
        "tags": list(item.tags),
        "alerted": item.alerted,
        "published_at": item.published_at.isoformat(),
        "points": item.points,
        "comments": item.comments,
        "title_translated": item.title_translated,
    }


def item_from_dict(data: dict[str, Any]) -> DigestItem:
    return DigestItem(
        story_id=int(data["story_id"]),
        article_id=int(data["article_id"]),
        title=str(data["title"]),
        url=str(data["url"]),
        sources=tuple(data.get("sources", ())),
        importance=int(data["importance"]),
        scores=scores_from_dict(data.get("scores")),
        tldr=str(data.get("tldr", "")),
        tags=tuple(data.get("tags", ())),
        alerted=bool(data.get("alerted", False)),
        published_at=datetime.fromisoformat(data["published_at"]),
        points=data.get("points"),
        comments=data.get("comments"),
        title_translated=str(data.get("title_translated", "")),
    )


def digest_to_dict(digest: Digest) -> dict[str, Any]:
    """The documented JSON shape of a digest (README, `ainews digest --format json`)."""
    return {
        "kind": digest.kind,
        "date": digest.day.isoformat(),
        "lang": digest.lang,
        "tag": digest.tag,
        "rising_tags": [[tag, delta] for tag, delta in digest.rising_tags],
        "items": [item_to_dict(item) for item in digest.items],
    }


def digest_from_dict(data: dict[str, Any]) -> Digest:
    return Digest(
        kind=data["kind"],
        day=date.fromisoformat(data["date"]),
        lang=str(data.get("lang", "")),
        items=tuple(item_from_dict(item) for item in data.get("items", ())),
        tag=data.get("tag"),
        rising_tags=tuple((str(t), int(d)) for t, d in data.get("rising_tags", ())),
    )

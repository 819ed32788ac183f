"""Digests to and from plain JSON-able dicts: the outbox payload and the `--format json` shape.

Kept pure and symmetric so a payload written by one replica renders identically on another.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from digest.models import Digest, DigestItem, DimensionScore, Scores, ToolStats, VideoInfo


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
        "kind": item.kind,
        **({"tool": tool_to_dict(item.tool)} if item.tool is not None else {}),
        **({"video": video_to_dict(item.video)} if item.video is not None else {}),
    }


def tool_to_dict(tool: ToolStats) -> dict[str, Any]:
    """`stars` and `downloads` are null when the feed does not say; `growth` is a fraction a day."""
    return {
        "key": tool.key,
        "name": tool.name,
        "type": tool.kind,
        "stars": tool.stars,
        "downloads": tool.downloads,
        "stars_today": tool.stars_today,
        "growth": tool.growth,
        "momentum": round(tool.momentum, 4),
        "license": tool.license,
        "task": tool.task,
        "language": tool.language,
    }


def tool_from_dict(data: dict[str, Any]) -> ToolStats:
    return ToolStats(
        key=str(data.get("key", "")),
        name=str(data.get("name", "")),
        kind=str(data.get("type", "")),
        stars=data.get("stars"),
        downloads=data.get("downloads"),
        stars_today=data.get("stars_today"),
        growth=data.get("growth"),
        momentum=float(data.get("momentum", 0.0)),
        license=str(data.get("license", "")),
        task=str(data.get("task", "")),
        language=str(data.get("language", "")),
    )


def video_to_dict(video: VideoInfo) -> dict[str, Any]:
    return {
        "video_id": video.video_id,
        "thumbnail": video.thumbnail,
        "channel": video.channel,
        "duration_seconds": video.duration_seconds,
        "views": video.views,
    }


def video_from_dict(data: dict[str, Any]) -> VideoInfo:
    return VideoInfo(
        video_id=str(data.get("video_id", "")),
        thumbnail=str(data.get("thumbnail", "")),
        channel=str(data.get("channel", "")),
        duration_seconds=data.get("duration_seconds"),
        views=data.get("views"),
    )


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
        kind=str(data.get("kind", "")),
        tool=tool_from_dict(data["tool"]) if data.get("tool") else None,
        video=video_from_dict(data["video"]) if data.get("video") else None,
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

"""Frozen value objects shared by every layer.

They carry no behaviour beyond derived properties, so that `bot` can build them from rows and
adapters can render them without either side knowing the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

RUBRIC_DIMENSIONS: tuple[str, ...] = ("depth", "relevance", "practicality", "innovation")
DigestKind = Literal["daily", "weekly", "hn", "tools", "videos"]
TranslationStatus = Literal["complete", "partial", "failed", "pending"]
ItemKind = Literal["news", "research", "tool", "analysis", "other"]
ITEM_KINDS: tuple[ItemKind, ...] = ("news", "research", "tool", "analysis", "other")


@dataclass(frozen=True, slots=True)
class DimensionScore:
    """One rubric dimension: a 1–5 score and the sentence a reader can check it against."""

    score: int
    reason: str


@dataclass(frozen=True, slots=True)
class Scores:
    """The four rubric dimensions of one article."""

    depth: DimensionScore
    relevance: DimensionScore
    practicality: DimensionScore
    innovation: DimensionScore

    def as_dict(self) -> dict[str, dict[str, int | str]]:
        return {
            name: {"score": dim.score, "reason": dim.reason}
            for name, dim in (
                ("depth", self.depth),
                ("relevance", self.relevance),
                ("practicality", self.practicality),
                ("innovation", self.innovation),
            )
        }


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """What a tool feed says about one repository, model card or dataset at one sighting.

    `key` names the thing across sources and days (`github:owner/repo`, `hf-model:org/name`), so
    a repo seen again updates one tool instead of becoming a new article."""

    key: str
    name: str
    kind: str  # repo | model | dataset
    stars: int | None = None
    stars_today: int | None = None
    forks: int | None = None
    downloads: int | None = None
    likes: int | None = None
    license: str = ""
    task: str = ""
    language: str = ""


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """A video entry's media facts; `duration_seconds`/`views` are None when the feed omits them."""

    video_id: str
    thumbnail: str = ""
    channel: str = ""
    duration_seconds: int | None = None
    views: int | None = None


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """Media metadata found beside a feed entry: a video, a tool, or neither."""

    video: VideoInfo | None = None
    tool: ToolInfo | None = None


@dataclass(frozen=True, slots=True)
class ToolStats:
    """A tool's numbers as digests show them: the latest counts and the growth behind them."""

    key: str
    name: str
    kind: str
    stars: int | None
    downloads: int | None
    stars_today: int | None = None
    growth: float | None = None
    momentum: float = 0.0
    license: str = ""
    task: str = ""
    language: str = ""


@dataclass(frozen=True, slots=True)
class RelatedStory:
    """Another story a reader of this one may want, with the reason it is related."""

    article_id: int
    story_id: int | None
    title: str
    published_at: datetime
    why: str


@dataclass(frozen=True, slots=True)
class Article:
    """A normalised feed item as ingestion hands it to the store (plain text, UTC dates)."""

    guid: str
    url: str
    canonical_url: str
    title: str
    content: str
    published_at: datetime
    author: str = ""
    lang: str = ""
    dated: bool = True
    points: int | None = None
    comments: int | None = None
    entities: tuple[str, ...] = ()
    media: MediaInfo | None = None


@dataclass(frozen=True, slots=True)
class Enrichment:
    """What an enricher says about one article; `lang` is the language the prose is written in."""

    tldr: str
    key_points: tuple[str, ...]
    tags: tuple[str, ...]
    scores: Scores
    importance: int
    lang: str
    title_translated: str = ""
    impact: str = ""
    editorial: str = ""
    # Editorial judgement both engines produce: whether the item is primarily about AI, what
    # kind of item it is, and the canonical slugs of the companies, models and tools it names.
    is_ai: bool = True
    kind: ItemKind = "other"
    entities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoryCandidate:
    """One story as digest building sees it: its best article plus what the store knows of it."""

    story_id: int
    article_id: int
    title: str
    url: str
    sources: tuple[str, ...]
    published_at: datetime
    importance: int
    scores: Scores | None
    tldr: str
    tags: tuple[str, ...]
    source_count: int = 1
    alerted: bool = False
    is_backlog: bool = False
    points: int | None = None
    comments: int | None = None
    title_translated: str = ""
    source_kind: str = "feed"


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One entry of a digest: a story, never an article, so five sources make one line."""

    story_id: int
    article_id: int
    title: str
    url: str
    sources: tuple[str, ...]
    importance: int
    scores: Scores | None
    tldr: str
    tags: tuple[str, ...]
    alerted: bool
    published_at: datetime
    points: int | None = None
    comments: int | None = None
    title_translated: str = ""
    kind: str = ""
    tool: ToolStats | None = None
    video: VideoInfo | None = None


@dataclass(frozen=True, slots=True)
class Digest:
    """A ranked selection for one window; `day` is the channel-local calendar date it covers."""

    kind: DigestKind
    day: date
    lang: str
    items: tuple[DigestItem, ...]
    tag: str | None = None
    rising_tags: tuple[tuple[str, int], ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class TranslationView:
    """A stored translation as readers see it; `status` says whether it may be shown as complete."""

    lang: str
    status: TranslationStatus
    title: str
    body: str
    chunks_total: int = 0
    chunks_done: int = 0


@dataclass(frozen=True, slots=True)
class ArticleCard:
    """Everything a summary view shows for one article."""

    article_id: int
    story_id: int | None
    title: str
    url: str
    source: str
    published_at: datetime
    lang: str
    reading_minutes: int
    tldr: str
    key_points: tuple[str, ...]
    tags: tuple[str, ...]
    scores: Scores | None
    importance: int | None
    title_translated: str = ""
    impact: str = ""
    editorial: str = ""
    summary_lang: str = ""
    translation: TranslationView | None = None
    related: tuple[tuple[int, str], ...] = ()
    content: str = ""
    related_stories: tuple[RelatedStory, ...] = ()
    kind: str = ""
    entities: tuple[str, ...] = ()

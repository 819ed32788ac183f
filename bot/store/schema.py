"""The one shared SQL schema (SQLAlchemy 2.0 typed ORM); every timestamp is stored as UTC.

Alembic migrations in `bot/store/migrations` create it; this module is their source of truth.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (naive storage) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Source(Base):
    """A feed or Hacker News; fetch state and the last error live on the row."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="feed")
    lang: Mapped[str] = mapped_column(String(16), default="")
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(200))
    body_hash: Mapped[str | None] = mapped_column(String(64))
    next_check_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_checked_at: Mapped[datetime | None] = mapped_column()
    last_success_at: Mapped[datetime | None] = mapped_column()
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    polled_once: Mapped[bool] = mapped_column(Boolean, default=False)
    # OPML folders the source was filed under; exported back as folders.
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Story(Base):
    """One real-world story; several articles from several sources may belong to it."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    source_count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleRow(Base):
    """One item of one source, stored as plain text with a UTC date."""

    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("source_id", "identity"),
        Index("ix_articles_source_canonical", "source_id", "canonical_url"),
        Index("ix_articles_published_at", "published_at"),
        Index("ix_articles_fetched_at", "fetched_at"),
        Index("ix_articles_canonical_url", "canonical_url"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id"), index=True)
    identity: Mapped[str] = mapped_column(String(64))
    guid: Mapped[str] = mapped_column(String(2000), default="")
    url: Mapped[str] = mapped_column(String(2000), default="")
    canonical_url: Mapped[str] = mapped_column(String(2000), default="")
    title: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(500), default="")
    lang: Mapped[str] = mapped_column(String(16), default="")
    published_at: Mapped[datetime] = mapped_column()
    dated: Mapped[bool] = mapped_column(Boolean, default=True)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    reading_minutes: Mapped[int] = mapped_column(Integer, default=1)
    full_text: Mapped[bool] = mapped_column(Boolean, default=False)
    is_backlog: Mapped[bool] = mapped_column(Boolean, default=False)
    points: Mapped[int | None] = mapped_column(Integer)
    comments: Mapped[int | None] = mapped_column(Integer)
    enrich_status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    enrich_error: Mapped[str | None] = mapped_column(Text)
    enrich_retry_at: Mapped[datetime | None] = mapped_column()
    enrich_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Gazetteer slugs found at ingest (title and lead): what story clustering compares.
    entities: Mapped[list[str]] = mapped_column(JSON, default=list)


class EnrichmentRow(Base):
    """The current enrichment of an article; replaced only when content, model or prompt change."""

    __tablename__ = "enrichments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), unique=True
    )
    tldr: Mapped[str] = mapped_column(Text, default="")
    key_points: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    depth: Mapped[int] = mapped_column(Integer)
    relevance: Mapped[int] = mapped_column(Integer)
    practicality: Mapped[int] = mapped_column(Integer)
    innovation: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    importance: Mapped[int] = mapped_column(Integer, index=True)
    lang: Mapped[str] = mapped_column(String(16), default="")
    title_translated: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    editorial: Mapped[str] = mapped_column(Text, default="")
    is_ai: Mapped[bool] = mapped_column(Boolean, default=True)
    kind: Mapped[str] = mapped_column(String(20), default="other")
    entities: Mapped[list[str]] = mapped_column(JSON, default=list)
    engine: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(200), default="")
    prompt_version: Mapped[str] = mapped_column(String(40), default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TranslationRow(Base):
    """One translation per (article, language); a partial one is never shown as complete."""

    __tablename__ = "translations"
    __table_args__ = (UniqueConstraint("article_id", "lang"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    chunks: Mapped[list[str]] = mapped_column(JSON, default=list)
    chunks_total: Mapped[int] = mapped_column(Integer, default=0)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    model: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who is translating it right now: replicas sharing the store never translate it twice.
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column()


class LLMUsage(Base):
    """Every LLM call's token use, so a daily budget can be enforced across replicas."""

    __tablename__ = "llm_usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(200))
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    article_id: Mapped[int | None] = mapped_column(Integer)


class LLMBudgetDay(Base):
    """Tokens reserved or spent per UTC day: one row every LLM call reserves against first.

    A conditional UPDATE of this one row is atomic on SQLite and PostgreSQL alike, so parallel
    calls and replicas can never reserve past `[llm] daily_token_budget` together.
    """

    __tablename__ = "llm_budget_days"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    tokens: Mapped[int] = mapped_column(BigInteger, default=0)


class Channel(Base):
    """A destination: platform + workspace/guild + channel, with its reading preferences."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("platform", "workspace", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    workspace: Mapped[str] = mapped_column(String(100), default="")
    channel: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200), default="")
    lang: Mapped[str] = mapped_column(String(16), default="")
    tz: Mapped[str] = mapped_column(String(64), default="")
    digest_time: Mapped[str] = mapped_column(String(5), default="")
    alert_threshold: Mapped[int | None] = mapped_column(Integer)
    alerts_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    weekly_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    hn_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="active")
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Subscription(Base):
    """A tag a channel follows; a channel with none follows everything."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("channel_id", "tag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """Outbox row: the database, not the scheduler, decides what is due and what was sent."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("channel_id", "key"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column()
    nonce: Mapped[str] = mapped_column(String(25), default="")
    # Platform ids of the parts already posted, in order: a retry sends only the parts after them.
    parts_sent: Mapped[list[str]] = mapped_column(JSON, default=list)
    platform_message_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class PlatformState(Base):
    """A platform whose token was refused: no call is made until the token changes or an
    operator resumes it. Only a fingerprint of the token is kept, never the token."""

    __tablename__ = "platform_states"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    token_fingerprint: Mapped[str | None] = mapped_column(String(64))
    paused_at: Mapped[datetime | None] = mapped_column()


class AppState(Base):
    """Small facts the service remembers between runs (e.g. the hash of the synced commands)."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SeenRequest(Base):
    """A platform request already handled (e.g. a Discord interaction id), shared by replicas.

    The primary key makes the first insert win; a replay, on any replica, finds the row.
    """

    __tablename__ = "seen_requests"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ArticleMedia(Base):
    """A video's media facts (thumbnail, channel, duration, views) beside its article."""

    __tablename__ = "article_media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), unique=True
    )
    video_id: Mapped[str] = mapped_column(String(64), default="")
    thumbnail: Mapped[str] = mapped_column(String(2000), default="")
    channel: Mapped[str] = mapped_column(String(200), default="")
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    views: Mapped[int | None] = mapped_column(Integer)


class ToolRow(Base):
    """One repository, model card or dataset across sources and days; `article_id` is the
    article that introduced it, and the numbers are the latest sighting's."""

    __tablename__ = "tools"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    stars: Mapped[int | None] = mapped_column(Integer)
    stars_today: Mapped[int | None] = mapped_column(Integer)
    forks: Mapped[int | None] = mapped_column(Integer)
    downloads: Mapped[int | None] = mapped_column(Integer)
    likes: Mapped[int | None] = mapped_column(Integer)
    license: Mapped[str] = mapped_column(String(60), default="")
    task: Mapped[str] = mapped_column(String(60), default="")
    language: Mapped[str] = mapped_column(String(40), default="")
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ToolSnapshot(Base):
    """A tool's numbers on one UTC day: the history growth and momentum are computed from."""

    __tablename__ = "tool_snapshots"
    __table_args__ = (UniqueConstraint("tool_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tool_id: Mapped[int] = mapped_column(ForeignKey("tools.id", ondelete="CASCADE"))
    day: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    stars: Mapped[int | None] = mapped_column(Integer)
    stars_today: Mapped[int | None] = mapped_column(Integer)
    downloads: Mapped[int | None] = mapped_column(Integer)
    likes: Mapped[int | None] = mapped_column(Integer)


class ChannelMute(Base):
    """Something a channel does not want pushed: a source (by id), a keyword or a tag."""

    __tablename__ = "channel_mutes"
    __table_args__ = (UniqueConstraint("channel_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedbackVote(Base):
    """One person's 👍 (+1) or 👎 (-1) on one pushed story in one channel; a later vote by the same
    person on the same story replaces theirs, so preferences count people, not clicks."""

    __tablename__ = "feedback_votes"
    __table_args__ = (UniqueConstraint("channel_id", "story_id", "user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    story_id: Mapped[int] = mapped_column(Integer)
    user: Mapped[str] = mapped_column(String(100))
    vote: Mapped[int] = mapped_column(Integer)
    # what the story was when voted on, so a preference survives retention pruning the article
    source_name: Mapped[str] = mapped_column(String(200), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    entities: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

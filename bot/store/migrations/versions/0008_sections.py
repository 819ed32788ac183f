"""sections: video media, tools and their daily number history

Revision ID: 0008_sections
Revises: 0006_front
Create Date: 2026-11-29 18:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_sections"
down_revision = "0006_front"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("video_id", sa.String(length=64), nullable=False),
        sa.Column("thumbnail", sa.String(length=2000), nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("views", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_media_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_media")),
        sa.UniqueConstraint("article_id", name=op.f("uq_article_media_article_id")),
    )
    op.create_table(
        "tools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=True),
        sa.Column("stars_today", sa.Integer(), nullable=True),
        sa.Column("forks", sa.Integer(), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=True),
        sa.Column("likes", sa.Integer(), nullable=True),
        sa.Column("license", sa.String(length=60), nullable=False),
        sa.Column("task", sa.String(length=60), nullable=False),
        sa.Column("language", sa.String(length=40), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_tools_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tools")),
        sa.UniqueConstraint("key", name=op.f("uq_tools_key")),
    )
    with op.batch_alter_table("tools") as batch:
        batch.create_index(batch.f("ix_tools_article_id"), ["article_id"], unique=False)
        batch.create_index(batch.f("ix_tools_last_seen_at"), ["last_seen_at"], unique=False)
    op.create_table(
        "tool_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tool_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=True),
        sa.Column("stars_today", sa.Integer(), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=True),
        sa.Column("likes", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["tools.id"],
            name=op.f("fk_tool_snapshots_tool_id_tools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tool_snapshots")),
        sa.UniqueConstraint("tool_id", "day", name=op.f("uq_tool_snapshots_tool_id_day")),
    )


def downgrade() -> None:
    op.drop_table("tool_snapshots")
    with op.batch_alter_table("tools") as batch:
        batch.drop_index(batch.f("ix_tools_last_seen_at"))
        batch.drop_index(batch.f("ix_tools_article_id"))
    op.drop_table("tools")
    op.drop_table("article_media")

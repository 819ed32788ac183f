"""ingest: index articles.fetched_at so the story index reads a cycle's window by range scans

Revision ID: 0007_ingest
Revises: 0008_sections
Create Date: 2026-11-29 18:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0007_ingest"
down_revision = "0008_sections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_articles_fetched_at", "articles", ["fetched_at"])


def downgrade() -> None:
    op.drop_index("ix_articles_fetched_at", table_name="articles")

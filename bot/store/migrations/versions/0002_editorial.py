"""editorial engine: is_ai, kind and entities on enrichments; ingest-time entities on articles

Revision ID: 0002_editorial
Revises: 0001_initial
Create Date: 2026-11-29 17:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_editorial"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("entities", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("enrichments") as batch:
        batch.add_column(sa.Column("is_ai", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(
            sa.Column("kind", sa.String(length=20), nullable=False, server_default="other")
        )
        batch.add_column(sa.Column("entities", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("enrichments") as batch:
        batch.drop_column("entities")
        batch.drop_column("kind")
        batch.drop_column("is_ai")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("entities")

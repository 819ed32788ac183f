"""LLM path v2: per-day token reservations and a translation lease

Revision ID: 0003_llm
Revises: 0002_editorial
Create Date: 2026-11-29 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_llm"
down_revision = "0002_editorial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "llm_budget_days",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_llm_budget_days")),
    )
    with op.batch_alter_table("translations") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("translations") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
    op.drop_table("llm_budget_days")

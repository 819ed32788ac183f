"""delivery: parts already posted per outbox row; platforms paused on a refused token

Revision ID: 0004_delivery
Revises: 0003_llm
Create Date: 2026-11-29 17:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_delivery"
down_revision = "0003_llm"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("parts_sent", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "platform_states",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("token_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("platform", name=op.f("pk_platform_states")),
    )
    # Rows skipped only because their channel was disabled wait again: re-enabling the channel
    # now resumes them instead of leaving them skipped for good.
    op.execute(
        "UPDATE deliveries SET status = 'pending' "
        "WHERE status = 'skipped' AND last_error LIKE 'channel disabled%'"
    )


def downgrade() -> None:
    op.drop_table("platform_states")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("parts_sent")

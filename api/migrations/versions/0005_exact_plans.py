"""Plans planned exactly: ``plans.exact`` (the leximin need stages in rational arithmetic).

Revision ID: 0005_exact
Revises: 0004_precise
Create Date: 2026-12-07 12:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0005_exact"
down_revision = "0004_precise"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE on both databases, as 0004: the plans already stored were not exact
    op.add_column(
        "plans",
        sa.Column("exact", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("plans", "exact")

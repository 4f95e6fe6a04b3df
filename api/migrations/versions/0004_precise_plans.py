"""Plans planned more exactly: ``plans.precise`` (weighted rounds with fixed faces, HiGHS only).

Revision ID: 0004_precise
Revises: 0003_courses
Create Date: 2026-12-07 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0004_precise"
down_revision = "0003_courses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE on both databases: the plans already stored were not precise (a
    # batch copy of plans on SQLite would have to drop a table that jobs, tallies... reference)
    op.add_column(
        "plans",
        sa.Column("precise", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("plans", "precise")

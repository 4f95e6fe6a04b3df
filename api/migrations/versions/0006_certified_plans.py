"""Exact plans proved leximin: ``plans.certify`` (asked for) and ``plans.certificate`` (its summary).

Revision ID: 0006_certify
Revises: 0005_exact
Create Date: 2026-12-08 12:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0006_certify"
down_revision = "0005_exact"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE on both databases, as 0004 and 0005: the plans already stored were
    # not certified (false), and have no certificate (null)
    op.add_column(
        "plans",
        sa.Column("certify", sa.Boolean(), server_default=sa.false(), nullable=True),
    )
    op.add_column("plans", sa.Column("certificate", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("plans", "certificate")
    op.drop_column("plans", "certify")

"""Reconciliations of infeasible plans and each assembly's decision on its part.

Revision ID: 0002_reconciliations
Revises: 0001
Create Date: 2026-12-02 10:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0002_reconciliations"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconciliations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("confederation", sa.String(length=100), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("edits", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reconciliations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reconciliations_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reconciliations_scenario_id"), ["scenario_id"], unique=False
        )
    op.create_table(
        "reconciliation_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reconciliation_id", sa.Integer(), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["reconciliation_id"], ["reconciliations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reconciliation_id", "municipality"),
    )
    with op.batch_alter_table("reconciliation_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reconciliation_decisions_reconciliation_id"),
            ["reconciliation_id"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("reconciliation_decisions")
    op.drop_table("reconciliations")

"""Courses of action: the options of a course-of-action request and each assembly's votes.

Revision ID: 0003_courses
Revises: 0002_reconciliations
Create Date: 2026-12-02 11:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0003_courses"
down_revision = "0002_reconciliations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course_sets",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("slack", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"]),
        sa.PrimaryKeyConstraint("plan_id"),
    )
    op.create_table(
        "course_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=False),
        sa.Column("votes", sa.JSON(), nullable=False),
        sa.Column("abstain", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "municipality"),
    )
    with op.batch_alter_table("course_votes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_votes_plan_id"), ["plan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("course_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_votes_plan_id"))
    op.drop_table("course_votes")
    op.drop_table("course_sets")

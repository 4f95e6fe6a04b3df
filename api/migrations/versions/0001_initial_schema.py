"""Initial schema: scenario tables, plans and jobs, delegates, tokens, append-only audit log.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25 07:25:22.209730
"""

from alembic import op
import sqlalchemy as sa


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("resource", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_resource"), ["resource"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_scenario_id"), ["scenario_id"], unique=False)

    op.create_table(
        "comparisons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("confederation", sa.String(length=100), nullable=False),
        sa.Column("input_hash", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("comparisons", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_comparisons_scenario_id"), ["scenario_id"], unique=False
        )

    op.create_table(
        "delegates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=False),
        sa.Column("confederation", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("named_at", sa.DateTime(), nullable=False),
        sa.Column("recalled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("delegates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delegates_confederation"), ["confederation"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_delegates_municipality"), ["municipality"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_delegates_scenario_id"), ["scenario_id"], unique=False)

    op.create_table(
        "scenarios",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("period", sa.String(length=500), nullable=False),
        sa.Column("description", sa.String(length=5000), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "capacities",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=False),
        sa.Column("process", sa.String(length=100), nullable=False),
        sa.Column("max_level", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("scenario_id", "municipality", "process"),
    )
    with op.batch_alter_table("capacities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_capacities_municipality"), ["municipality"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_capacities_scenario_id"), ["scenario_id"], unique=False
        )

    op.create_table(
        "confederations",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("parent", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("confederations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_confederations_scenario_id"), ["scenario_id"], unique=False
        )

    op.create_table(
        "endowments",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=False),
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("scenario_id", "municipality", "item"),
    )
    with op.batch_alter_table("endowments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_endowments_municipality"), ["municipality"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_endowments_scenario_id"), ["scenario_id"], unique=False
        )

    op.create_table(
        "items",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("unit", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("transportable", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("scenario_id", "id"),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_items_scenario_id"), ["scenario_id"], unique=False)

    op.create_table(
        "limits",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("cap", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("scenario_id", "item", "scope"),
    )
    with op.batch_alter_table("limits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_limits_scenario_id"), ["scenario_id"], unique=False)

    op.create_table(
        "links",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("from_municipality", sa.String(length=100), nullable=False),
        sa.Column("to_municipality", sa.String(length=100), nullable=False),
        sa.Column("labour_per_unit", sa.Float(), nullable=False),
        sa.Column("capacity", sa.Float(), nullable=True),
        sa.Column("loss", sa.Float(), nullable=True),
        sa.Column("both_ways", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("scenario_id", "from_municipality", "to_municipality"),
    )
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_links_scenario_id"), ["scenario_id"], unique=False)

    op.create_table(
        "mandates",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("scenario_id", "municipality", "kind", "target"),
    )
    with op.batch_alter_table("mandates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mandates_municipality"), ["municipality"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mandates_scenario_id"), ["scenario_id"], unique=False)

    op.create_table(
        "municipalities",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("confederation", sa.String(length=100), nullable=False),
        sa.Column("population", sa.Float(), nullable=False),
        sa.Column("labour_hours", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("municipalities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_municipalities_confederation"), ["confederation"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_municipalities_scenario_id"), ["scenario_id"], unique=False
        )

    op.create_table(
        "needs",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=False),
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("per_capita", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("scenario_id", "municipality", "item", "tier"),
    )
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_needs_municipality"), ["municipality"], unique=False)
        batch_op.create_index(batch_op.f("ix_needs_scenario_id"), ["scenario_id"], unique=False)

    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("confederation", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("comparison_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=40), nullable=True),
        sa.Column("solver", sa.String(length=40), nullable=False),
        sa.Column("time_limit", sa.Float(), nullable=False),
        sa.Column("input", sa.JSON(), nullable=False),
        sa.Column("input_hash", sa.String(length=64), nullable=False),
        sa.Column("software_version", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["comparison_id"],
            ["comparisons.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("created_by", "idempotency_key"),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_comparison_id"), ["comparison_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plans_confederation"), ["confederation"], unique=False)
        batch_op.create_index(batch_op.f("ix_plans_input_hash"), ["input_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_plans_scenario_id"), ["scenario_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plans_status"), ["status"], unique=False)

    op.create_table(
        "process_io",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("process", sa.String(length=100), nullable=False),
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("scenario_id", "process", "item"),
    )
    with op.batch_alter_table("process_io", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_process_io_scenario_id"), ["scenario_id"], unique=False
        )

    op.create_table(
        "processes",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("labour_hours", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("scenario_id", "id"),
    )
    with op.batch_alter_table("processes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processes_scenario_id"), ["scenario_id"], unique=False)

    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=True),
        sa.Column("confederation", sa.String(length=100), nullable=True),
        sa.Column("delegate_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delegate_id"],
            ["delegates.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("progress", sa.String(length=500), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_state"), ["state"], unique=False)

    op.create_table(
        "tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=False),
        sa.Column("yes", sa.Integer(), nullable=False),
        sa.Column("no", sa.Integer(), nullable=False),
        sa.Column("abstain", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "municipality"),
    )
    with op.batch_alter_table("tallies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tallies_plan_id"), ["plan_id"], unique=False)
    _audit_append_only()


def _audit_append_only() -> None:
    """The database itself refuses to change or delete audit entries."""
    if op.get_bind().dialect.name == "sqlite":
        for what in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{what.lower()} BEFORE {what} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    with op.batch_alter_table("tallies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tallies_plan_id"))

    op.drop_table("tallies")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_state"))
        batch_op.drop_index(batch_op.f("ix_jobs_plan_id"))

    op.drop_table("jobs")
    op.drop_table("tokens")
    with op.batch_alter_table("processes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processes_scenario_id"))

    op.drop_table("processes")
    with op.batch_alter_table("process_io", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_io_scenario_id"))

    op.drop_table("process_io")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_status"))
        batch_op.drop_index(batch_op.f("ix_plans_scenario_id"))
        batch_op.drop_index(batch_op.f("ix_plans_input_hash"))
        batch_op.drop_index(batch_op.f("ix_plans_confederation"))
        batch_op.drop_index(batch_op.f("ix_plans_comparison_id"))

    op.drop_table("plans")
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_needs_scenario_id"))
        batch_op.drop_index(batch_op.f("ix_needs_municipality"))

    op.drop_table("needs")
    with op.batch_alter_table("municipalities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_municipalities_scenario_id"))
        batch_op.drop_index(batch_op.f("ix_municipalities_confederation"))

    op.drop_table("municipalities")
    with op.batch_alter_table("mandates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mandates_scenario_id"))
        batch_op.drop_index(batch_op.f("ix_mandates_municipality"))

    op.drop_table("mandates")
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_links_scenario_id"))

    op.drop_table("links")
    with op.batch_alter_table("limits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_limits_scenario_id"))

    op.drop_table("limits")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_items_scenario_id"))

    op.drop_table("items")
    with op.batch_alter_table("endowments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endowments_scenario_id"))
        batch_op.drop_index(batch_op.f("ix_endowments_municipality"))

    op.drop_table("endowments")
    with op.batch_alter_table("confederations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_confederations_scenario_id"))

    op.drop_table("confederations")
    with op.batch_alter_table("capacities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_capacities_scenario_id"))
        batch_op.drop_index(batch_op.f("ix_capacities_municipality"))

    op.drop_table("capacities")
    op.drop_table("scenarios")
    with op.batch_alter_table("delegates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delegates_scenario_id"))
        batch_op.drop_index(batch_op.f("ix_delegates_municipality"))
        batch_op.drop_index(batch_op.f("ix_delegates_confederation"))

    op.drop_table("delegates")
    with op.batch_alter_table("comparisons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comparisons_scenario_id"))

    op.drop_table("comparisons")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_scenario_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_resource"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")

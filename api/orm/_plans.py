"""Plans, the job queue that makes them, comparisons and ratification tallies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, utcnow

ID = String(100)


class PlanRow(Base):
    """A plan: its input snapshot and stamps (fixed at request) and, once solved, its result.

    ``status`` is ``queued``/``running`` while the job works, then the SPEC
    status (``optimal``, ``shortfall``, ``infeasible``, ``time_limit``,
    ``error``) or ``cancelled``. Input and result never change once written.
    """

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("created_by", "idempotency_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = mapped_column(ID, index=True)
    confederation: Mapped[str] = mapped_column(ID, index=True)
    purpose: Mapped[str] = mapped_column(String(20), default="proposal")
    comparison_id: Mapped[int | None] = mapped_column(
        ForeignKey("comparisons.id"), nullable=True, index=True
    )
    rule: Mapped[str | None] = mapped_column(String(40), nullable=True)
    solver: Mapped[str] = mapped_column(String(40))
    time_limit: Mapped[float] = mapped_column(Float)
    # levels planned more exactly (planner.engine.PRECISE, as ``planner solve --precise``)
    precise: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # the need stages planned exactly, in rational arithmetic (as ``planner solve --exact``)
    exact: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # an exact plan proved leximin after it is made (as ``planner solve --exact --certify``),
    # and the proof's summary (api.worker.certificate_summary; null until then, or not asked)
    certify: Mapped[bool | None] = mapped_column(
        Boolean, nullable=True, default=False, server_default=false()
    )
    certificate: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    input: Mapped[dict] = mapped_column(JSON)
    input_hash: Mapped[str] = mapped_column(String(64), index=True)
    software_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(200), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_hash: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Job(Base):
    """One unit of work in the durable queue: solve one plan.

    A worker claims a ``queued`` job (``running``, ``worker``, ``attempts``
    + 1) and renews ``heartbeat_at`` while it works; a job whose heartbeat
    is stale (or whose worker process is gone) is queued again.
    """

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    progress: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Comparison(Base):
    """A rule comparison: one analysis plan per rule on the same input."""

    __tablename__ = "comparisons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = mapped_column(ID, index=True)
    confederation: Mapped[str] = mapped_column(ID)
    input_hash: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tally(Base):
    """One assembly's vote on a plan: yes, no, abstain (never more than its population)."""

    __tablename__ = "tallies"
    __table_args__ = (UniqueConstraint("plan_id", "municipality"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    municipality: Mapped[str] = mapped_column(ID)
    yes: Mapped[int] = mapped_column(Integer)
    no: Mapped[int] = mapped_column(Integer)
    abstain: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

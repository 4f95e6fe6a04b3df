"""Reconciliations: proposed edits of mandates and limits, and each assembly's decision on its part."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, utcnow

ID = String(100)


class Reconciliation(Base):
    """The least change of mandates and limits that makes an infeasible plan's scenario feasible.

    Proposed by a coordinator from an infeasible plan (its ``edits``: SPEC section 6
    ``reconciliation`` rows, each naming the assemblies that must approve it).
    ``state``: ``open`` while assemblies decide, ``applied`` once every concerned
    assembly approved (the edits are then made, audited with their old values),
    ``rejected`` as soon as one rejects.
    """

    __tablename__ = "reconciliations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = mapped_column(ID, index=True)
    confederation: Mapped[str] = mapped_column(ID)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    edits: Mapped[list] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), default="open")
    actor: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReconciliationDecision(Base):
    """One assembly's approval or rejection of its part of a reconciliation."""

    __tablename__ = "reconciliation_decisions"
    __table_args__ = (UniqueConstraint("reconciliation_id", "municipality"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(ForeignKey("reconciliations.id"), index=True)
    municipality: Mapped[str] = mapped_column(ID)
    decision: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

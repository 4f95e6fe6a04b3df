"""Processes with their coefficients (process_io), managed together."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.errors import Invalid
from api.orm import Process, ProcessIO
from api.security import Principal
from api.services import audit, rows
from api.services.kinds import KINDS

PROC = KINDS["processes"]


def coefficients(session: Session, scenario_id: str, process: str) -> list[dict]:
    """A process's coefficients as ``{item, quantity}`` (+ output, - input)."""
    q = select(ProcessIO).where(ProcessIO.scenario_id == scenario_id, ProcessIO.process == process)
    return [
        {"item": c.item, "quantity": c.quantity}
        for c in session.scalars(q.order_by(ProcessIO.item))
    ]


def public(session: Session, obj: Process) -> dict[str, Any]:
    """A process as the API shows it, coefficients included."""
    return {
        **rows.public(PROC, obj),
        "coefficients": coefficients(session, obj.scenario_id, obj.id),
    }


def _setter(principal: Principal, coeffs: list[dict] | None):
    """A hook that replaces a process's coefficients (and audits them)."""
    if coeffs is None:
        return None
    items = [c["item"] for c in coeffs]
    dupes = sorted({i for i in items if items.count(i) > 1})
    if dupes:
        raise Invalid(
            "each item may appear once among a process's coefficients",
            problems=[f"coefficients:0: item: {i!r} given more than once" for i in dupes],
        )

    def then(session: Session, obj: Process) -> None:
        before = coefficients(session, obj.scenario_id, obj.id)
        session.execute(
            delete(ProcessIO).where(
                ProcessIO.scenario_id == obj.scenario_id, ProcessIO.process == obj.id
            )
        )
        for c in coeffs:
            session.add(ProcessIO(scenario_id=obj.scenario_id, process=obj.id, **c))
        session.flush()
        if before != sorted(coeffs, key=lambda c: c["item"]):
            audit.record(
                session, principal, "replace", "process_io", obj.id, obj.scenario_id, before, coeffs
            )

    return then


def create(
    session: Session, principal: Principal, sid: str, data: dict, coeffs: list[dict]
) -> Process:
    """A new process with its coefficients."""
    return rows.create(session, principal, PROC, sid, data, then=_setter(principal, coeffs))


def update(
    session: Session, principal: Principal, obj: Process, changes: dict, coeffs: list[dict] | None
) -> Process:
    """Change a process; ``coeffs`` (when given) replaces its coefficients."""
    return rows.update(session, principal, PROC, obj, changes, then=_setter(principal, coeffs))


def remove(session: Session, principal: Principal, obj: Process) -> None:
    """Delete a process and its coefficients (422 while capacities or mandates name it)."""
    rows.remove(session, principal, PROC, obj, then=_setter(principal, []))

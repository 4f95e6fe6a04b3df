"""Reconciliation of an infeasible plan: the coordinator proposes, the assemblies concerned decide.

A coordinator of an infeasible plan's confederation proposes the plan's
``reconciliation`` (the least change of mandates and limits, SPEC section 6;
planner/conflicts.py). Each edit names the assemblies whose mandate or limit
it changes: a mandate's own municipality, every member of a limit's scope.
Each of those assemblies approves or rejects its part, with its own token
only (not a coordinator's, not an admin's: policy is made by assemblies).
One rejection rejects the proposal; once every assembly concerned has
approved, the edits are made in one transaction, each audited with its old
value, and the scenario is validated; a new plan can then be run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.errors import Conflict, Forbidden, Invalid, NotFound
from api.orm import Limit, Mandate, PlanRow, Reconciliation, ReconciliationDecision
from api.security import Principal
from api.services import audit, authz, scenarios
from api.services import plans as plan_service

DECISIONS = ("approve", "reject")


def propose(session: Session, principal: Principal, plan_id: int) -> Reconciliation:
    """Open a reconciliation from an infeasible plan (a coordinator of its confederation)."""
    plan = plan_service.get(session, plan_id)
    authz.require_writer(principal)
    authz.require_coordinator(session, principal, plan.confederation)
    edits = (plan.result or {}).get("reconciliation") or []
    if plan.status != "infeasible" or not edits:
        raise Conflict(
            f"plan {plan_id} is {plan.status} and has no reconciliation to propose"
            if plan.status != "infeasible"
            else f"no change of mandates and limits alone makes plan {plan_id}'s scenario feasible"
        )
    earlier = session.scalar(
        select(Reconciliation).where(
            Reconciliation.plan_id == plan_id, Reconciliation.state == "open"
        )
    )
    if earlier is not None:
        return earlier
    rec = Reconciliation(
        scenario_id=plan.scenario_id,
        confederation=plan.confederation,
        plan_id=plan_id,
        edits=edits,
        state="open",
        actor=principal.actor,
    )
    session.add(rec)
    session.flush()
    audit.record(
        session,
        principal,
        "propose",
        "reconciliations",
        str(rec.id),
        plan.scenario_id,
        None,
        {"plan_id": plan_id, "edits": edits},
    )
    session.commit()
    return rec


def get(session: Session, rec_id: int) -> Reconciliation:
    """A reconciliation or 404."""
    rec = session.get(Reconciliation, rec_id)
    if rec is None:
        raise NotFound(f"no reconciliation {rec_id}")
    return rec


def concerned(rec: Reconciliation) -> list[str]:
    """The assemblies that must approve, in order."""
    return sorted({m for e in rec.edits for m in e.get("municipalities", [])})


def _decisions(session: Session, rec_id: int) -> dict[str, ReconciliationDecision]:
    q = select(ReconciliationDecision).where(ReconciliationDecision.reconciliation_id == rec_id)
    return {d.municipality: d for d in session.scalars(q)}


def public(session: Session, rec: Reconciliation) -> dict[str, Any]:
    """A reconciliation as the API shows it: edits, and who has decided what."""
    got = _decisions(session, rec.id)
    return {
        "id": rec.id,
        "plan_id": rec.plan_id,
        "confederation": rec.confederation,
        "state": rec.state,
        "edits": [
            {**e, "decisions": {m: _decision(got.get(m)) for m in e.get("municipalities", [])}}
            for e in rec.edits
        ],
        "assemblies": {m: _decision(got.get(m)) for m in concerned(rec)},
        "actor": rec.actor,
        "created_at": rec.created_at,
        "decided_at": rec.decided_at,
    }


def _decision(d: ReconciliationDecision | None) -> str | None:
    return None if d is None else d.decision


def for_plan(session: Session, plan_id: int) -> list[Reconciliation]:
    """The reconciliations proposed from a plan, newest first."""
    q = select(Reconciliation).where(Reconciliation.plan_id == plan_id)
    return list(session.scalars(q.order_by(Reconciliation.id.desc())))


def open_for(session: Session, town: str) -> list[Reconciliation]:
    """Open reconciliations that ask ``town``'s assembly (for its page)."""
    q = select(Reconciliation).where(Reconciliation.state == "open")
    return [r for r in session.scalars(q.order_by(Reconciliation.id)) if town in concerned(r)]


def decide(
    session: Session, principal: Principal, rec_id: int, town: str, decision: str
) -> dict[str, Any]:
    """``town``'s assembly approves or rejects its part; the last approval applies the edits."""
    if decision not in DECISIONS:
        raise Invalid(
            "decision must be approve or reject",
            problems=[f"body:0: decision: {decision!r} is not one of approve, reject"],
        )
    rec = get(session, rec_id)
    if town not in concerned(rec):
        raise NotFound(f"reconciliation {rec_id} changes nothing of {town!r}")
    if principal.role != "assembly" or principal.municipality != town:
        raise Forbidden(f"only the assembly of {town!r} may decide on its part")
    scenarios.lock(session, rec.scenario_id)
    session.refresh(rec)
    if rec.state != "open":
        raise Conflict(f"reconciliation {rec_id} is {rec.state}: decisions are closed")
    got = _decisions(session, rec_id)
    d = got.get(town) or ReconciliationDecision(reconciliation_id=rec_id, municipality=town)
    before = None if town not in got else {"decision": d.decision}
    d.decision, d.actor, d.recorded_at = decision, principal.actor, utcnow()
    session.add(d)
    session.flush()
    audit.record(
        session,
        principal,
        decision,
        "reconciliations",
        f"{rec_id}/{town}",
        rec.scenario_id,
        before,
        {"decision": decision},
    )
    got[town] = d
    if decision == "reject":
        rec.state, rec.decided_at = "rejected", utcnow()
    elif all(m in got and got[m].decision == "approve" for m in concerned(rec)):
        _apply(session, principal, rec)
    session.commit()
    return public(session, rec)


def _apply(session: Session, principal: Principal, rec: Reconciliation) -> None:
    """Make every edit (audited with its old value), validate, mark applied."""
    sid = rec.scenario_id
    for e in rec.edits:
        w = e["where"]
        if e["kind"] == "mandate":
            row = session.scalar(
                select(Mandate).where(
                    Mandate.scenario_id == sid,
                    Mandate.municipality == w["municipality"],
                    Mandate.kind == w["kind"],
                    Mandate.target == (w.get("target") or ""),
                )
            )
            table, key = "mandates", f"{w['municipality']}/{w['kind']}/{w.get('target') or ''}"
        else:
            row = session.scalar(
                select(Limit).where(
                    Limit.scenario_id == sid, Limit.item == w["item"], Limit.scope == w["scope"]
                )
            )
            table, key = "limits", f"{w['item']}/{w['scope']}"
        if row is None:
            raise Conflict(f"{table} {key} is gone: the reconciliation can no longer be applied")
        field = "cap" if table == "limits" else "value"
        old = {field: getattr(row, field)}
        if e["field"] == "active":
            session.delete(row)
            new = None
        else:
            setattr(row, field, float(e["to"]))
            new = {field: float(e["to"])}
        audit.record(
            session,
            principal,
            "reconcile",
            table,
            key,
            sid,
            {**old, "reconciliation": rec.id},
            None if new is None else {**new, "reconciliation": rec.id},
        )
    session.flush()
    scenarios.validate(session, sid)
    rec.state, rec.decided_at = "applied", utcnow()


def plan_of(session: Session, rec: Reconciliation) -> PlanRow:
    """The infeasible plan a reconciliation was proposed from."""
    return plan_service.get(session, rec.plan_id)

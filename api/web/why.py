"""The plan page's "why": explanations of short needs, minimal conflicts, reconciliation.

``plan_context`` adds to the plan page what it shows of planner/why.py's keys
(SPEC section 6); ``pending`` lists on a municipality's page the
reconciliations waiting for its assembly. The handlers that propose and
decide are in ``api/web/routes/reconcile.py``.
"""

from __future__ import annotations

from typing import Any

from api.orm import PlanRow
from api.security import Principal
from api.services import plans as plan_service
from api.services import reconcile

KIND_NAMES = {
    "limit": "ecological limit",
    "mandate": "mandate",
    "labour": "labour hours",
    "resource": "resource",
    "stock": "stock",
    "link": "link capacity",
    "capacity": "capacity",
    "rule": "the rule",
    "stage": "an earlier stage",
    "reach": "nothing brings it",
}


def explanations(result: dict | None, town: str | None) -> list[dict]:
    """The town's short needs, lowest first, each with its constraints ready to show."""
    rows = [e for e in (result or {}).get("explanations") or [] if e["municipality"] == town]
    out = []
    for e in sorted(rows, key=lambda e: (e["tier"], e["ratio"])):
        limits = [
            {
                **c,
                "kind_name": KIND_NAMES.get(c["kind"], c["kind"]),
                "points_per_unit": 100 * c.get("gain", 0.0),
            }
            for c in e.get("limited_by", [])
        ]
        out.append({**e, "limits": limits})
    return out


def plan_context(session, principal: Principal, plan: PlanRow, town: str | None) -> dict[str, Any]:
    """What the plan page shows of explanations, conflicts and reconciliations."""
    from api.web.routes.common import may_run  # the same check as plans.request

    result = plan.result or {}
    ctx: dict[str, Any] = {
        "failure": plan_service.failure(plan),
        "why": explanations(result, town) if plan.status in ("optimal", "shortfall") else [],
    }
    if plan.status != "infeasible":
        return ctx
    found = result.get("conflict_set") or [
        {"where": c, "text": c, "member": True} for c in result.get("conflicts", [])
    ]
    proposals = [reconcile.public(session, r) for r in reconcile.for_plan(session, plan.id)]
    open_one = next((p for p in proposals if p["state"] == "open"), None)
    mine = principal.municipality if principal.role == "assembly" else None
    ctx.update(
        conflicts=[c for c in found if c.get("member", True)],
        structure=[c for c in found if not c.get("member", True)],
        reconciliation=result.get("reconciliation") or [],
        proposals=proposals,
        can_propose=(
            open_one is None
            and not any(p["state"] == "applied" for p in proposals)
            and bool(result.get("reconciliation"))
            and may_run(session, principal, plan.confederation)
        ),
        decide_as=(mine if open_one is not None and mine in open_one["assemblies"] else None),
        open_proposal=open_one,
        may_run=may_run(session, principal, plan.confederation),
    )
    return ctx


def pending(session, town: str) -> list[Any]:
    """Open reconciliations that wait for ``town``'s assembly (its municipality page)."""
    return reconcile.open_for(session, town)

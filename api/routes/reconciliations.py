"""Reconciliations of infeasible plans: proposed by a coordinator, decided by the assemblies concerned."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from api.deps import PrincipalDep, SessionDep
from api.schemas.common import ErrorOut
from api.schemas.plans import DecisionIn
from api.services import reconcile as service

router = APIRouter(tags=["reconciliations"], responses={422: {"model": ErrorOut}})


@router.post("/plans/{plan_id}/reconciliations", status_code=status.HTTP_201_CREATED)
def propose(plan_id: int, session: SessionDep, principal: PrincipalDep, response: Response) -> dict:
    """Propose an infeasible plan's reconciliation to the assemblies it concerns (a coordinator).

    The edits are the plan's ``reconciliation`` (SPEC section 6); an open proposal
    from the same plan is returned as it is.
    """
    rec = service.propose(session, principal, plan_id)
    response.headers["Location"] = f"/reconciliations/{rec.id}"
    return service.public(session, rec)


@router.get("/plans/{plan_id}/reconciliations")
def for_plan(plan_id: int, session: SessionDep, _p: PrincipalDep) -> list[dict[str, Any]]:
    """The reconciliations proposed from a plan, newest first."""
    return [service.public(session, r) for r in service.for_plan(session, plan_id)]


@router.get("/reconciliations/{rec_id}")
def get_reconciliation(rec_id: int, session: SessionDep, _p: PrincipalDep) -> dict[str, Any]:
    """The edits, the assemblies concerned and what each has decided."""
    return service.public(session, service.get(session, rec_id))


@router.post("/reconciliations/{rec_id}/decisions")
def decide(
    rec_id: int, body: DecisionIn, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    """An assembly approves or rejects its part (its own token only).

    One rejection rejects the proposal; the last approval applies every edit
    (audited, old values kept) and the state becomes ``applied``.
    """
    return service.decide(session, principal, rec_id, body.municipality, body.decision)

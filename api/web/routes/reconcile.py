"""Reconciliation from the pages: a coordinator proposes, each assembly concerned decides.

``api.services.reconcile`` checks who may: a coordinator of the plan's
confederation proposes; only an assembly's own token decides on its part.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Form
from fastapi.responses import Response

from api.deps import SessionDep
from api.services import reconcile
from api.web.auth import PREFIX, WebPrincipal
from api.web.pages import redirect
from api.web.routes.common import page_router

router = page_router()


@router.post("/plans/{plan_id}/reconciliations")
def propose(plan_id: int, session: SessionDep, principal: WebPrincipal) -> Response:
    """A coordinator proposes the plan's reconciliation to the assemblies it concerns."""
    reconcile.propose(session, principal, plan_id)
    return redirect(f"{PREFIX}/plans/{plan_id}?proposed=1#reconcile", 303)


@router.post("/reconciliations/{rec_id}/decide")
def decide(
    rec_id: int,
    session: SessionDep,
    principal: WebPrincipal,
    town: Annotated[str, Form()],
    decision: Annotated[str, Form()],
) -> Response:
    """An assembly approves or rejects its part (the service checks it is its own)."""
    out = reconcile.decide(session, principal, rec_id, town, decision)
    return redirect(f"{PREFIX}/plans/{out['plan_id']}?town={quote(town)}#reconcile", 303)

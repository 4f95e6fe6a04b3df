"""Plans: the list, one plan for one municipality beside everyone, its status, and the vote."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import JSONResponse, Response

from api.deps import SessionDep
from api.errors import Invalid
from api.security import Principal
from api.services import authz, ratification, rows
from api.services import plans as plan_service
from api.services.kinds import KINDS
from api.web import views
from api.web.auth import PREFIX, WebPrincipal
from api.web.pages import redirect, render
from api.web.routes.common import SOLVED, may_vote, page_router, plans_for, status_of

router = page_router()


def _visible_confs(session, principal: Principal) -> list[str] | None:
    """The confederations whose plans a role is shown first (None: all)."""
    if principal.role == "assembly" and principal.municipality:
        town = rows.find(session, KINDS["municipalities"], None, principal.municipality)
        return authz.ancestors(session, town.confederation)
    return None


@router.get("/plans")
def plan_list(request: Request, session: SessionDep, principal: WebPrincipal) -> Response:
    """Proposals, newest first (an assembly's: those of its confederations)."""
    confs = _visible_confs(session, principal)
    if confs is None:
        found, _ = plan_service.listing(session, 50, 0, purpose="proposal")
    else:
        found = plans_for(session, confs, 50)
    jobs = {p.id: plan_service.job_of(session, p.id) for p in found}
    return render(request, "plans.html", principal, plans=found, jobs=jobs)


@router.get("/plans/{plan_id}/status")
def plan_status(plan_id: int, session: SessionDep, principal: WebPrincipal) -> JSONResponse:
    """Polled by the pages while a plan is queued or running."""
    return JSONResponse(
        status_of(session, plan_service.get(session, plan_id)),
        headers={"Cache-Control": "no-store"},
    )


@router.get("/plans/{plan_id}")
def plan_page(
    plan_id: int,
    request: Request,
    session: SessionDep,
    principal: WebPrincipal,
    town: str | None = None,
) -> Response:
    """One plan for one municipality, beside everyone; ratification and the vote."""
    plan = plan_service.get(session, plan_id)
    doc = plan.input or {}
    town_names = views.names(doc, "municipalities")
    if town not in town_names:
        town = principal.municipality if principal.municipality in town_names else None
    if town is None and town_names:
        town = next(iter(town_names))
    result = plan.result if plan.status in SOLVED else None
    ctx: dict[str, Any] = {
        "plan": plan,
        "summary": plan_service.summary(plan),
        "status": status_of(session, plan),
        "town": town,
        "town_names": town_names,
        "units": views.units(doc),
        "item_names": views.names(doc, "items"),
        "result": result,
        "tier_names": views.TIER_NAMES,
    }
    if result:
        sat = views.satisfaction(result, town)
        ctx.update(
            satisfaction=sat,
            satisfaction_figure=views.satisfaction_figure(sat, town_names.get(town)),
            mine=views.town_plan(result, doc, town) if town else None,
            all_limits=views.limits_of(result, doc, town),
        )
    if plan.purpose == "proposal":
        tally = ratification.result(session, plan)
        mine = next((t for t in tally["tallies"] if t["municipality"] == town), None)
        ctx.update(
            ratification=tally,
            my_tally=mine,
            can_vote=tally["state"] == "open" and may_vote(principal, town),
            voted=request.query_params.get("voted") == "1",
        )
    return render(request, "plan.html", principal, charts=bool(result), **ctx)


def _count(value: str, name: str) -> int:
    try:
        n = int(value.strip() or "0")
    except ValueError:
        raise Invalid(
            f"{name}: give a whole number of voters",
            problems=[f"tally:0: {name}: not a whole number: {value!r}"],
        ) from None
    if n < 0:
        raise Invalid(
            f"{name}: cannot be negative", problems=[f"tally:0: {name}: must not be negative"]
        )
    return n


@router.post("/plans/{plan_id}/tally")
def record_tally(
    plan_id: int,
    session: SessionDep,
    principal: WebPrincipal,
    town: Annotated[str, Form()],
    yes: Annotated[str, Form()] = "0",
    no: Annotated[str, Form()] = "0",
    abstain: Annotated[str, Form()] = "0",
) -> Response:
    """The assembly records its citizens' votes (the service checks it is theirs and counts)."""
    ratification.record(
        session,
        principal,
        plan_id,
        town,
        _count(yes, "yes"),
        _count(no, "no"),
        _count(abstain, "abstain"),
    )
    return redirect(f"{PREFIX}/plans/{plan_id}?town={quote(town)}&voted=1#ratification", 303)

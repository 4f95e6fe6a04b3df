"""Plans: the list, one plan for one municipality beside everyone, its status, and the vote."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import JSONResponse, Response

from api.deps import SessionDep
from api.errors import Conflict, Invalid
from api.security import Principal
from api.services import authz, ratification, rows
from api.services import plans as plan_service
from api.services.kinds import KINDS
from api.web import views, why
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
    names = views.plans_unit_names(found)
    return render(request, "plans.html", principal, plans=found, jobs=jobs, unit_names=names)


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
    return _plan_page(request, session, principal, plan_id, town)


def _plan_page(
    request: Request,
    session,
    principal: Principal,
    plan_id: int,
    town: str | None,
    status_code: int = 200,
    vote: dict | None = None,
) -> Response:
    """The plan page; ``vote``: a refused tally (what was typed, and why) to show in its form."""
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
        "unit_names": views.unit_names(doc),
        "units": views.units(doc),
        "item_names": views.names(doc, "items"),
        "result": result,
        "tier_names": views.TIER_NAMES,
        "rule_help": views.rule_help(plan.rule),
        "input_current": plan_service.input_is_current(session, plan),
        "certificate": views.certificate(plan),
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
        recorded = {k: mine[k] for k in VOTES} if mine and mine["reported"] else {}
        ctx.update(
            ratification=tally,
            my_tally=mine,
            can_vote=tally["state"] == "open"
            and ctx["input_current"]
            and may_vote(principal, town),
            voted=request.query_params.get("voted") == "1",
            vote_values=(vote or {}).get("typed") or recorded,
            vote_problem=vote,
        )
    ctx.update(why.plan_context(session, principal, plan, town))  # explanations, conflicts
    return render(
        request, "plan.html", principal, status_code=status_code, charts=bool(result), **ctx
    )


VOTES = ("yes", "no", "abstain")


def _counts(typed: dict[str, str]) -> dict[str, int]:
    """The three counts as whole numbers, or ``Invalid`` naming every field that is not one."""
    out, problems = {}, []
    for name in VOTES:
        text = typed[name].strip() or "0"
        try:
            out[name] = int(text)
        except ValueError:
            problems.append(f"tally:0: {name}: not a whole number: {typed[name]!r}")
            continue
        if out[name] < 0:
            problems.append(f"tally:0: {name}: must not be negative (got {out[name]})")
    if problems:
        raise Invalid("give whole numbers of voters", problems=problems)
    return out


@router.post("/plans/{plan_id}/tally")
def record_tally(
    plan_id: int,
    request: Request,
    session: SessionDep,
    principal: WebPrincipal,
    town: Annotated[str, Form()],
    yes: Annotated[str, Form()] = "0",
    no: Annotated[str, Form()] = "0",
    abstain: Annotated[str, Form()] = "0",
) -> Response:
    """The assembly records its citizens' votes (the service checks it is theirs and counts).

    A refused count shows the plan page again with the numbers as typed and every problem.
    """
    typed = {"yes": yes, "no": no, "abstain": abstain}
    try:
        n = _counts(typed)
        ratification.record(session, principal, plan_id, town, n["yes"], n["no"], n["abstain"])
    except (Invalid, Conflict) as exc:
        session.rollback()
        vote = {"typed": typed, "detail": exc.detail, "problems": exc.problems or []}
        return _plan_page(request, session, principal, plan_id, town, exc.status, vote)
    return redirect(f"{PREFIX}/plans/{plan_id}?town={quote(town)}&voted=1#ratification", 303)

"""The courses-of-action pages: request them, see them side by side, vote among them.

``/web/confederations/{conf}/courses`` lists a confederation's requests, lets
its coordinators request more, and shows one (the latest by default): the
optimal plan and each course side by side, how each differs in words, what
each binding mandate costs the others, the what-ifs, and the vote (citizens
together decide, the town-by-town count beside it). Assemblies of member
towns record their citizens' votes there. All through ``api.services``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import Response

from api.deps import SessionDep, SettingsDep
from api.errors import Invalid, NotFound
from api.orm import PlanRow
from api.services import courses as service
from api.services import plans as plan_service
from api.web import views
from api.web.auth import PREFIX, WebPrincipal
from api.web.pages import redirect, render, templates
from api.web.routes.common import may_run, may_vote, page_router, shown_message, status_of

router = page_router()


def mandate_costs_for(request: Request, town: str, confederations: list[str]) -> dict | None:
    """What ``town``'s binding mandates cost the others, or None.

    From the latest solved courses request of one of its confederations:
    ``{"plan": id, "confederation": c, "costs": [...]}``.

    A template global, so the municipality page shows it without its handler knowing.
    """
    with request.app.state.sessions() as session:
        best = None
        for conf in confederations:
            found, _ = plan_service.listing(
                session, 5, 0, confederation=conf, purpose=service.PURPOSE
            )
            solved = next((p for p in found if p.result and p.result.get("optimal")), None)
            if solved is not None and (best is None or solved.id > best.id):
                best = solved
        if best is None:
            return None
        costs = [
            c for c in best.result.get("mandate_costs", []) if c["mandate"]["municipality"] == town
        ]
        return {"plan": best.id, "confederation": best.confederation, "costs": costs}


templates.env.globals["mandate_costs_for"] = mandate_costs_for


def _number(value: str, name: str, kind=int):
    try:
        n = kind(value.strip() or "0")
    except ValueError:
        raise Invalid(
            f"{name}: not a number", problems=[f"form:0: {name}: not a number: {value!r}"]
        ) from None
    if n < 0:
        raise Invalid(f"{name}: cannot be negative", problems=[f"form:0: {name}: negative"])
    return n


def _shown(session, conf_id: str, recent: list[PlanRow], plan: int | None) -> PlanRow | None:
    if plan is None:
        return next((p for p in recent if p.result), recent[0] if recent else None)
    shown = service.get(session, plan)
    if shown.confederation != conf_id:
        raise NotFound(f"plan {plan} is not a courses-of-action request of {conf_id!r}")
    return shown


def _rows(view: dict) -> list[dict]:
    """The side-by-side table: one row per stage, then the main figures."""
    courses = view["courses"]
    if not courses:
        return []
    out = []
    for i, s in enumerate(courses[0]["stages"]):
        kind = "hours" if s["name"] in ("min_labour", "min_transport") else "pct"
        vals = [c["stages"][i]["value"] if i < len(c["stages"]) else None for c in courses]
        out.append({"label": s["name"], "kind": kind, "values": vals})
    for key, label, kind in (
        ("mean_ratio", "mean share of need met", "pct"),
        ("gini", "Gini of the shares", "num"),
    ):
        vals = [(c.get("metrics") or {}).get(key) for c in courses]
        out.append({"label": label, "kind": kind, "values": vals})
    return out


@router.get("/confederations/{conf_id}/courses")
def courses_page(
    conf_id: str,
    request: Request,
    session: SessionDep,
    principal: WebPrincipal,
    plan: int | None = None,
) -> Response:
    """The coordinator's page of courses of action (and the assemblies' vote)."""
    recent, _ = plan_service.listing(session, 10, 0, confederation=conf_id, purpose=service.PURPOSE)
    shown = _shown(session, conf_id, recent, plan)
    ctx: dict[str, Any] = {
        "conf_id": conf_id,
        "recent": recent,
        "unit_names": views.plans_unit_names(recent),
        "statuses": {p.id: status_of(session, p) for p in recent},
        "can_run": may_run(session, principal, conf_id),
        "shown": shown,
        "voted": request.query_params.get("voted") == "1",
        "message": shown_message(shown.message) if shown is not None else "",
    }
    if shown is not None:
        view = service.view(session, shown)
        doc = shown.input or {}
        town = principal.municipality
        vote = view["vote"]
        mine = next((t for t in vote["tallies"] if t["municipality"] == town), None)
        ctx.update(
            view=view,
            status=status_of(session, shown),
            rows=_rows(view),
            town=town,
            town_names=views.names(doc, "municipalities"),
            my_tally=mine,
            can_vote=vote["state"] == "open" and mine is not None and may_vote(principal, town),
            my_costs=[c for c in view["mandate_costs"] if c["mandate"]["municipality"] == town],
        )
    return render(request, "courses.html", principal, **ctx)


@router.post("/confederations/{conf_id}/courses")
def request_courses(
    conf_id: str,
    session: SessionDep,
    principal: WebPrincipal,
    settings: SettingsDep,
    count: Annotated[str, Form()] = "3",
    slack: Annotated[str, Form()] = "2",
) -> Response:
    """Queue courses of action (the service checks the coordinator covers this confederation)."""
    n = _number(count, "count")
    pct = _number(slack, "slack", float)
    plan = service.request(session, principal, settings, conf_id, n, pct / 100.0)
    return redirect(f"{PREFIX}/confederations/{quote(conf_id)}/courses?plan={plan.id}", 303)


@router.post("/courses/{plan_id}/vote")
async def record_vote(
    plan_id: int, request: Request, session: SessionDep, principal: WebPrincipal
) -> Response:
    """The assembly records how many citizens chose each option (and abstained)."""
    form = await request.form()
    town = str(form.get("town", ""))
    plan = service.get(session, plan_id)
    n = len(service.options(plan))
    votes = [_number(str(form.get(f"option_{i}", "0")), f"option {i}") for i in range(n)]
    abstain = _number(str(form.get("abstain", "0")), "abstain")
    service.record(session, principal, plan_id, town, votes, abstain)
    conf = quote(plan.confederation)
    return redirect(f"{PREFIX}/confederations/{conf}/courses?plan={plan_id}&voted=1#vote", 303)

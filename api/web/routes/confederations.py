"""The confederation's page: satisfaction per municipality, flows, limits, jobs; run a plan."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import Response

import models
from api.deps import SessionDep, SettingsDep
from api.errors import Invalid, NotFound
from api.security import Principal
from api.services import authz, ratification, rows, scenarios, tree
from api.services import plans as plan_service
from api.services.kinds import KINDS
from api.web import views
from api.web.auth import PREFIX, WebPrincipal
from api.web.pages import redirect, render
from api.web.routes.common import SOLVED, may_compare, may_run, page_router, status_of

router = page_router()


@router.get("/confederations/{conf_id}")
def confederation(
    conf_id: str,
    request: Request,
    session: SessionDep,
    principal: WebPrincipal,
    plan: int | None = None,
) -> Response:
    """Satisfaction per municipality, flows, limits, jobs, and (coordinators) run a plan."""
    return _confederation_page(request, session, principal, conf_id, plan)


def _confederation_page(
    request: Request,
    session,
    principal: Principal,
    conf_id: str,
    plan: int | None = None,
    status_code: int = 200,
    refused: dict | None = None,
) -> Response:
    """The confederation's page; ``refused``: a refused plan request to show in its form.

    ``refused``: what was asked (rule, time limit, the boxes) and why it was refused.
    """
    conf = rows.find(session, KINDS["confederations"], None, conf_id)
    children = tree.children(session, conf.id)
    towns, _ = rows.listing(
        session, KINDS["municipalities"], conf.scenario_id, 10_000, 0, confederation=conf.id
    )
    recent, _ = plan_service.listing(session, 10, 0, confederation=conf.id, purpose="proposal")
    jobs = {p.id: plan_service.job_of(session, p.id) for p in recent}
    shown = None
    if plan is not None:
        shown = plan_service.get(session, plan)
        if shown.confederation != conf.id:
            raise NotFound(f"plan {plan} is not a plan of {conf.id!r}")
    else:
        shown = next((p for p in recent if p.status in SOLVED), None)
    ctx: dict[str, Any] = {
        "conf": conf,
        "ancestors": authz.ancestors(session, conf.id)[1:],
        "children": children,
        "towns": towns,
        "recent": recent,
        "jobs": jobs,
        "statuses": {p.id: status_of(session, p) for p in recent},
        "shown": shown,
        "can_run": may_run(session, principal, conf.id),
        "can_compare": may_compare(session, principal, conf.id),
        "rules": models.RULES,
        "default_rule": (scenarios.get(session, conf.scenario_id).policy or {}).get(
            "rule", "leximin"
        ),
        "idempotency_key": secrets.token_urlsafe(16),
        "requested": request.query_params.get("requested"),
        "unit_names": views.plans_unit_names(recent),
        "refused": refused,
    }
    charts = False
    if shown is not None and shown.status in SOLVED and shown.result:
        doc, result = shown.input, shown.result
        rows_ = views.per_municipality(result, doc)
        tiers = views.tiers_of(result)
        sankey, flow_items = views.sankey(result, doc)
        ctx.update(
            result=result,
            units=views.units(doc),
            item_names=views.names(doc, "items"),
            town_names=views.names(doc, "municipalities"),
            per_town=rows_,
            tiers=tiers,
            tier_names=views.TIER_NAMES,
            towns_figure=views.municipalities_figure(rows_, tiers),
            sankey_figure=sankey,
            flow_items=flow_items,
            all_flows=views.flows(result),
            limits=views.limits_of(result, doc, None),
            ratification=ratification.result(session, shown),
        )
        charts = True
    return render(
        request, "confederation.html", principal, status_code=status_code, charts=charts, **ctx
    )


@router.post("/confederations/{conf_id}/plans")
def run_plan(
    conf_id: str,
    request: Request,
    session: SessionDep,
    principal: WebPrincipal,
    settings: SettingsDep,
    rule: Annotated[str, Form()] = "",
    time_limit: Annotated[str, Form()] = "",
    precise: Annotated[str, Form()] = "",
    exact: Annotated[str, Form()] = "",
    certify: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form()] = "",
) -> Response:
    """Queue a plan (the service checks the coordinator covers this confederation).

    ``precise``: the checkbox "plan levels more exactly" (sent only when ticked);
    ``exact``: the checkbox "exact levels" (rational arithmetic; leximin only);
    ``certify``: the checkbox "prove it leximin" (exact plans only). A request refused
    (422) shows the page again, the problems in the form and the choices as they were.
    """
    asked = {
        "rule": rule,
        "time_limit": time_limit,
        "precise": _ticked(precise),
        "exact": _ticked(exact),
        "certify": _ticked(certify),
    }
    try:
        plan = _request_plan(session, principal, settings, conf_id, asked, idempotency_key)
    except Invalid as exc:
        session.rollback()
        refused = {**asked, "detail": exc.detail, "problems": exc.problems or []}
        return _confederation_page(request, session, principal, conf_id, None, 422, refused)
    return redirect(f"{PREFIX}/confederations/{quote(conf_id)}?requested={plan.id}#jobs", 303)


def _request_plan(session, principal, settings, conf_id: str, asked: dict, key: str):
    """The plan the form asks for (``plan_service.request``); Invalid when refused."""
    rule, time_limit = asked["rule"], asked["time_limit"]
    limit = None
    if time_limit.strip():
        try:
            limit = float(time_limit)
        except ValueError:
            raise Invalid(
                "time limit: give a number of seconds",
                problems=[f"form:0: time_limit: not a number: {time_limit!r}"],
            ) from None
    plan, _ = plan_service.request(
        session,
        principal,
        settings,
        conf_id,
        rule or None,
        "highs",
        limit,
        key[:200] or None,
        precise=asked["precise"],
        exact=asked["exact"],
        certify=asked["certify"],
    )
    return plan


def _ticked(box: str) -> bool:
    """Whether a checkbox was ticked (browsers send it only then, as its value)."""
    return box.strip().lower() in ("1", "on", "true", "yes")

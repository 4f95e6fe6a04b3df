"""Rule comparison: choose a confederation and rules, watch them solve, see them side by side."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

import models
from api.deps import SessionDep, SettingsDep
from api.services import compare, tree
from api.services import plans as plan_service
from api.web import views
from api.web.auth import PREFIX, WebPrincipal
from api.web.pages import redirect, render
from api.web.routes.common import SOLVED, may_compare, page_router

router = page_router()


def _comparisons(session, limit: int = 10) -> list[dict]:
    found, _ = plan_service.listing(session, 200, 0, purpose="analysis")
    seen: dict[int, dict] = {}
    for p in found:
        if p.comparison_id is None:
            continue
        entry = seen.setdefault(
            p.comparison_id,
            {
                "id": p.comparison_id,
                "confederation": p.confederation,
                "rules": [],
                "at": p.created_at,
            },
        )
        entry["rules"].append(p.rule)
    return sorted(seen.values(), key=lambda c: c["id"], reverse=True)[:limit]


def _default(principal, confs) -> str | None:
    """The form's first choice: a coordinator's own confederation, else the first root."""
    ids = {c.id for c in confs}
    if principal.confederation in ids:
        return principal.confederation
    return next((c.id for c in confs if not c.parent), next(iter(ids), None))


@router.get("/compare")
def compare_form(request: Request, session: SessionDep, principal: WebPrincipal) -> Response:
    """Choose a confederation and rules; recent comparisons."""
    confs = tree.confederations_for(session, principal)
    return render(
        request,
        "compare.html",
        principal,
        confederations=confs,
        default_confederation=_default(principal, confs),
        rules=models.RULES,
        can_compare=may_compare(session, principal),
        comparisons=_comparisons(session),
    )


@router.post("/compare")
async def request_comparison(
    request: Request, session: SessionDep, principal: WebPrincipal, settings: SettingsDep
) -> Response:
    """Queue one analysis plan per chosen rule (the service checks the role)."""
    form = await request.form()
    conf = str(form.get("confederation", ""))
    chosen = [str(r) for r in form.getlist("rules")]

    def run() -> Response:
        comp = compare.request_rules(session, principal, settings, conf, chosen or None)
        return redirect(f"{PREFIX}/comparisons/{comp.id}", 303)

    return await run_in_threadpool(run)


@router.get("/comparisons/{comp_id}/status")
def comparison_status(comp_id: int, session: SessionDep, principal: WebPrincipal) -> JSONResponse:
    """Polled while the rules are being solved."""
    view = compare.rules(session, compare.get(session, comp_id))
    return JSONResponse(
        {
            "id": comp_id,
            "final": view["state"] == "done",
            "status": view["state"],
            "rules": [{"rule": r["rule"], "status": r["status"]} for r in view["rules"]],
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/comparisons/{comp_id}")
def comparison(
    comp_id: int, request: Request, session: SessionDep, principal: WebPrincipal
) -> Response:
    """The rules side by side: lowest ratio per tier, metrics, worst-off per municipality."""
    comp = compare.get(session, comp_id)
    view = compare.rules(session, comp)
    solved = [r for r in view["rules"] if r["status"] in SOLVED]
    first = next((plan_service.get(session, r["plan_id"]) for r in view["rules"]), None)
    doc = first.input if first is not None else {}
    tiers = sorted(
        {int(t) for r in solved for t in ((r.get("metrics") or {}).get("min_ratio") or {})}
    )
    return render(
        request,
        "comparison.html",
        principal,
        charts=bool(solved),
        comp=comp,
        view=view,
        solved=solved,
        tiers=tiers,
        tier_names=views.TIER_NAMES,
        metrics=views.METRICS,
        figure=views.comparison_figure(view) if solved else None,
        towns_figure=views.comparison_towns_figure(
            view, views.names(doc, "municipalities"), tiers[-1]
        )
        if solved and tiers
        else None,
        town_names=views.names(doc, "municipalities"),
    )

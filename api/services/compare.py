"""Comparisons: two plans (what changed for whom) and rules side by side (for analysts)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import models
from api.config import Settings
from api.errors import Conflict, Forbidden, Invalid, NotFound
from api.orm import Comparison, PlanRow
from api.security import Principal
from api.services import audit, authz
from api.services import plans as plan_service

OK = ("optimal", "shortfall")
EPS = 1e-9


def _solved(plan: PlanRow) -> dict:
    if plan.status not in OK or not plan.result:
        raise Conflict(f"plan {plan.id} is {plan.status}: only solved plans can be compared")
    return plan.result


def plans(session: Session, a_id: int, b_id: int) -> dict[str, Any]:
    """What changed from plan ``a`` to plan ``b``, per municipality and need, and in the metrics."""
    a, b = plan_service.get(session, a_id), plan_service.get(session, b_id)
    ra, rb = _solved(a), _solved(b)
    da = {(d["municipality"], d["item"], d["tier"]): d for d in ra["deliveries"]}
    db = {(d["municipality"], d["item"], d["tier"]): d for d in rb["deliveries"]}
    la = {r["municipality"]: r for r in ra["labour"]}
    lb = {r["municipality"]: r for r in rb["labour"]}
    towns: dict[str, dict] = {}
    for key in sorted(set(da) | set(db)):
        town, item, tier = key
        x, y = da.get(key, {}), db.get(key, {})
        got_a, got_b = x.get("delivered", 0.0), y.get("delivered", 0.0)
        if abs(got_b - got_a) <= EPS * max(1.0, abs(got_a)) and x.get("need") == y.get("need"):
            continue
        t = towns.setdefault(
            town, {"municipality": town, "better": 0, "worse": 0, "deliveries": []}
        )
        ratio_a, ratio_b = x.get("ratio"), y.get("ratio")
        t["deliveries"].append(
            {
                "item": item,
                "tier": tier,
                "need_a": x.get("need"),
                "need_b": y.get("need"),
                "delivered_a": got_a,
                "delivered_b": got_b,
                "change": got_b - got_a,
                "ratio_a": ratio_a,
                "ratio_b": ratio_b,
            }
        )
        t["better" if got_b > got_a else "worse"] += 1
    for town in sorted(set(la) | set(lb)):
        ua, ub = la.get(town, {}).get("used", 0.0), lb.get(town, {}).get("used", 0.0)
        t = towns.setdefault(
            town, {"municipality": town, "better": 0, "worse": 0, "deliveries": []}
        )
        t["labour_a"], t["labour_b"], t["labour_change"] = ua, ub, ub - ua
        t["share_a"], t["share_b"] = la.get(town, {}).get("share"), lb.get(town, {}).get("share")
    metrics = []
    for name in sorted(set(ra.get("metrics", {})) | set(rb.get("metrics", {}))):
        va, vb = ra["metrics"].get(name), rb["metrics"].get(name)
        change = vb - va if isinstance(va, int | float) and isinstance(vb, int | float) else None
        metrics.append({"name": name, "a": va, "b": vb, "change": change})
    return {
        "a": plan_service.summary(a),
        "b": plan_service.summary(b),
        "same_input": a.input_hash == b.input_hash,
        "same_plan": bool(ra.get("hash")) and ra.get("hash") == rb.get("hash"),
        "metrics": metrics,
        "municipalities": [towns[k] for k in sorted(towns)],
    }


def require_may_compare(session: Session, principal: Principal, conf_id: str | None) -> None:
    """The one rule of who compares rules: analysts, admins, and coordinators of ``conf_id``.

    Without ``conf_id`` (the form, before a confederation is chosen) a
    coordinator passes: it may compare the confederations it covers.
    """
    if principal.role == "assembly":
        raise Forbidden("rule comparisons are for analysts and coordinators")
    if principal.role == "coordinator" and conf_id:
        authz.require_coordinator(session, principal, conf_id)


def request_rules(
    session: Session,
    principal: Principal,
    settings: Settings,
    conf_id: str,
    rules: list[str] | None,
    solver: str = "highs",
    time_limit: float | None = None,
    precise: bool | None = None,
    exact: bool = False,
) -> Comparison:
    """Queue one analysis plan per rule on the same input (analysts, coordinators, admins).

    ``precise``: every plan's levels planned more exactly (HiGHS only). ``exact``: every
    plan's need stages planned exactly (leximin only: another rule is a 422).
    """
    require_may_compare(session, principal, conf_id)
    rules = list(dict.fromkeys(rules or models.RULES))
    bad = [r for r in rules if r not in models.RULES]
    if bad:
        raise Invalid(
            "unknown rules",
            problems=[
                f"body:0: rules: unknown rule {r!r} (rules: {', '.join(models.RULES)})" for r in bad
            ],
        )
    plan_service.check_options(settings, None, solver, time_limit, precise, exact)
    if exact:
        other = [r for r in rules if r != plan_service.EXACT_RULE]
        if other:
            raise Invalid(
                "invalid comparison request",
                problems=[
                    f"body:0: exact: works with the {plan_service.EXACT_RULE} rule only, "
                    f"not {', '.join(map(repr, other))}"
                ],
            )
    precise = plan_service.precise_for(solver, precise)
    first = None
    comp = Comparison(scenario_id="", confederation=conf_id, input_hash="", actor=principal.actor)
    session.add(comp)
    session.flush()
    for rule in rules:
        plan, _ = plan_service.request(
            session,
            principal,
            settings,
            conf_id,
            rule,
            solver,
            time_limit,
            purpose="analysis",
            comparison_id=comp.id,
            commit=False,
            precise=precise,
            exact=exact,
        )
        first = first or plan
    comp.scenario_id, comp.input_hash = first.scenario_id, first.input_hash
    audit.record(
        session,
        principal,
        "compare",
        "comparisons",
        str(comp.id),
        comp.scenario_id,
        None,
        {"rules": rules, "precise": bool(precise), "exact": bool(exact)},
    )
    session.commit()
    return comp


def get(session: Session, comp_id: int) -> Comparison:
    """A comparison or 404."""
    comp = session.get(Comparison, comp_id)
    if comp is None:
        raise NotFound(f"no comparison {comp_id}")
    return comp


def rules(session: Session, comp: Comparison) -> dict[str, Any]:
    """The rules side by side: status and metrics, and per municipality the worst ratio per tier and the labour share."""
    members = list(
        session.scalars(
            select(PlanRow).where(PlanRow.comparison_id == comp.id).order_by(PlanRow.id)
        )
    )
    done = all(p.status in plan_service.FINAL for p in members)
    worst: dict[tuple[str, int], dict] = {}
    shares: dict[str, dict] = {}
    for p in members:
        if p.status not in OK or not p.result:
            continue
        for d in p.result["deliveries"]:
            if d["need"] <= 0:
                continue
            row = worst.setdefault(
                (d["municipality"], d["tier"]),
                {"municipality": d["municipality"], "tier": d["tier"], "ratios": {}},
            )
            row["ratios"][p.rule] = min(row["ratios"].get(p.rule, 1.0), d["ratio"])
        for r in p.result["labour"]:
            shares.setdefault(r["municipality"], {"municipality": r["municipality"], "shares": {}})[
                "shares"
            ][p.rule] = r["share"]
    return {
        "id": comp.id,
        "confederation": comp.confederation,
        "input_hash": comp.input_hash,
        "precise": bool(members) and all(p.precise for p in members),
        "exact": bool(members) and all(p.exact for p in members),
        "state": "done" if done else "running",
        "rules": [
            {
                "rule": p.rule,
                "plan_id": p.id,
                "status": p.status,
                "metrics": (p.result or {}).get("metrics"),
                "stages": (p.result or {}).get("stages"),
            }
            for p in members
        ],
        "worst_ratio": [worst[k] for k in sorted(worst)],
        "labour_share": [shares[k] for k in sorted(shares)],
    }

"""Build -> solve -> extract: one function that turns a scenario into a plan."""

from __future__ import annotations

import os
import time

import numpy as np

import solvers
from models import Scenario
from planner.engine import Engine, EngineResult, Progress
from planner.formulation import Formulation, build
from planner.plan import Plan, empty_tables, extract_tables, metrics
from planner.policy import Stage, stages_for
from solvers import Status

SHORTFALL_TOL = 1e-7


def scenario_ref(scenario: Scenario) -> dict:
    """How a plan names its input: name and content hash."""
    return {"name": scenario.meta.name, "hash": scenario.content_hash}


def solve(
    scenario: Scenario,
    rule: str | None = None,
    solver: str = "highs",
    time_limit: float | None = None,
    progress: Progress | None = None,
    stages: list[str] | None = None,
    tolerance: float | None = None,
    **options,
) -> Plan:
    """Plan ``scenario`` under a rule (default: the scenario's policy, else leximin).

    ``stages`` (a custom stage list) and ``tolerance`` override the scenario's
    policy. Infeasible scenarios give a plan with status ``infeasible`` and
    their ``conflicts`` in the scenario's own words; unmet needs give status
    ``shortfall``; a time limit gives ``time_limit``.
    """
    policy = scenario.meta.policy
    if rule is None and stages is None:
        rule, stages = policy.rule, policy.stages
    rule = rule or "leximin"
    tol = policy.tolerance if tolerance is None else tolerance
    plan_stages = stages_for(rule, stages)
    t0 = time.perf_counter()
    form = build(scenario)
    t_build = time.perf_counter() - t0
    return solve_formulation(
        scenario, form, plan_stages, rule, solver, tol, time_limit, progress, t_build, **options
    )


def solve_formulation(
    scenario: Scenario,
    form: Formulation,
    plan_stages: list[Stage],
    rule: str,
    solver: str = "highs",
    tolerance: float = 0.0,
    time_limit: float | None = None,
    progress: Progress | None = None,
    build_seconds: float = 0.0,
    **options,
) -> Plan:
    """Run the stages on an assembled formulation and extract the plan."""
    t0 = time.perf_counter()
    engine = Engine(form, solver, tolerance, time_limit, progress, **options)
    res = engine.run(plan_stages)
    timings = {
        "build": build_seconds,
        "load": engine.load_seconds,
        "solve": time.perf_counter() - t0 - engine.load_seconds,
        "variables": form.n,
        "rows": form.m,
        "nonzeros": int(form.lp.A.nnz),
        "lp_solves": engine.solves,
        "iterations": engine.iterations,
        "polish": engine.polish_seconds,
    }
    stages = [
        {
            "name": o.stage.name,
            "value": o.value,
            "solves": o.solves,
            "seconds": o.seconds,
            "iterations": o.iterations,
            "levels": o.levels,
        }
        for o in res.outcomes
    ]
    ref = scenario_ref(scenario)
    if res.failed is not None:
        return _failed_plan(scenario, form, engine, res, rule, solver, stages, timings, ref)
    tables = extract_tables(form, res)
    met = metrics(tables)
    d = tables["deliveries"]
    short = bool(((d["need"] - d["delivered"]) > SHORTFALL_TOL * np.maximum(1.0, d["need"])).any())
    plan = Plan(
        status="shortfall" if short else "optimal",
        scenario=ref,
        rule=rule,
        solver=solver,
        stages=stages,
        metrics=met,
        timings=timings,
        **tables,
    )
    if os.environ.get("COMMUNE_CHECK_PLANS"):
        _self_check(scenario, plan)
    return plan


def _self_check(scenario: Scenario, plan: Plan) -> None:
    """With COMMUNE_CHECK_PLANS set (the tests set it), refuse any plan the checker rejects."""
    from planner.check import check_plan

    problems = check_plan(scenario, plan.to_dict())
    if problems:
        raise AssertionError("plan violates SPEC constraints:\n" + "\n".join(problems[:50]))


def _failed_plan(
    scenario, form, engine, res: EngineResult, rule, solver, stages, timings, ref
) -> Plan:
    status = res.failed.result.status
    conflicts: list[str] = []
    message = f"stage {res.failed.stage.name}: {res.failed.result.message or status}"
    if status == Status.INFEASIBLE:
        conflicts = explain_infeasible(form, engine, res.failed.stage)
        out = "infeasible"
    elif status == Status.TIME_LIMIT:
        out = "time_limit"
    else:
        out = "error"
    return Plan(
        status=out,
        scenario=ref,
        rule=rule,
        solver=solver,
        stages=stages,
        metrics={},
        conflicts=conflicts,
        message=message,
        timings=timings,
        **empty_tables(),
    )


def explain_infeasible(form: Formulation, engine: Engine, stage: Stage) -> list[str]:
    """An irreducible set of conflicting constraints, in the scenario's own words."""
    out: list[str] = []
    if stage.kind == "full":
        unreachable = form.needs[(form.needs["reason"] == "unreachable")]
        for r in unreachable.head(50).itertuples():
            out.append(
                f"need {r.item} tier {r.tier} of {r.municipality} (nothing can bring it there)"
            )
    backend = engine.backend
    iis = None
    if "iis" in getattr(backend, "features", ()):
        try:
            iis = backend.iis()
        except Exception:  # noqa: BLE001 - fall back to the elastic filter
            iis = None
    if iis is None:
        iis = solvers.elastic_iis(backend.lp)
    if iis is None:
        return out or ["the solver reported infeasibility but no conflicting set was found"]
    rows, cols = iis
    m = form.m
    for r in np.asarray(rows, int):
        if r < m:
            out.append(str(form.rows["description"].iat[r]))
        else:
            out.append(f"hold of an earlier stage (row {r})")
    for c in np.asarray(cols, int):
        if c < form.n:
            d = str(form.cols["description"].iat[c])
            if form.cols["kind"].iat[c] == "r" and stage.kind == "full":
                d += " (met in full)"
            out.append(d)
    # keep order, drop repeats
    seen: set[str] = set()
    return [c for c in out if not (c in seen or seen.add(c))]

"""Courses of action: distinct near-optimal plans for the assemblies to deliberate on.

Modelling to generate alternatives (MGA, as in energy-system tools: PyPSA's
``optimize_mga``, Calliope's SPORES), for a needs-first plan:

1. The optimal plan of the scenario's policy (``planner.solve``).
2. The **near-optimal region**: the programme of SPEC section 3 with every
   stage held within ``slack`` S (relative, default 2%) of its optimum:

   * needs stages: each need's ratio >= (1 - S) x its ratio in the optimal
     plan (so each needs stage's levels drop by at most S; a need the
     optimal plan meets in full keeps at least 98% of it);
   * ``min_labour``: total labour <= (1 + S) x its optimum;
   * ``fair_burden``: every municipality's labour share <= (1 + S) x the
     optimal plan's highest share. We hold the most burdened level, not each
     municipality's own level: holding every share near its optimum would
     leave no room to move work between municipalities, which is one of the
     two things courses of action are meant to differ in; no one is asked to
     work a larger share than the most burdened municipality of the optimum
     (plus S);
   * ``min_transport``: labour spent moving goods <= (1 + S) x its optimum.

   Stages absent from the policy add nothing.
3. **Directions.** Plans are compared by *features*, linear in the plan:
   each municipality's gross production of each good, divided by the
   optimal plan's total production of that good, and each municipality's
   labour hours divided by the optimal total. Each candidate is one LP over
   the region: either *away* (minimise the overlap with the plans found so
   far: the centroid of their features as weights, Hop-Skip-Jump MGA) or a
   *random direction* (a seeded unit vector in feature space, maximised, as
   PyPSA samples directions on the sphere), or both mixed. Candidates come in
   rounds (round 1 away from the optimal plan and K - 1 random directions,
   round 2 away from everything round 1 found, mixed with new random
   directions); each round is a batch (:mod:`planner.batch`).
4. **Choice.** Of the candidates, K are picked greedily: each time the one
   farthest from the plans already chosen (the optimal one first).

The **distance** between two plans is the mean, over the goods either makes
and over labour, of the total-variation distance between their shares by
municipality (half the sum of absolute differences of shares): 0 for the
same division of production and work, 1 when every good is made elsewhere
and all work is done by others. ``distance`` on a course is its distance to
the optimal plan.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd
import scipy.sparse as sp

import solvers
from models import Scenario
from planner.batch import BatchError, Task, add_stats, new_stats, open_executor, run_batch, task_key
from planner.formulation import Formulation, build
from planner.plan import Plan, extract_tables, metrics, stamp
from solvers import LinearProgram, Status

DEFAULT_SLACK = 0.02
DEFAULT_COUNT = 3
SAME = 1e-3
DIRECTION_HOLD = 0.1  # the second solve keeps the direction's objective within 10% of its best
TIER_WORDS = {1: "vital", 2: "standard", 3: "desired"}


@dataclass(frozen=True)
class Region:
    """The near-optimal region's figures (small and picklable: sent with every task)."""

    slack: float
    floors: np.ndarray  # per need of form.needs: lowest ratio (NaN: not held)
    labour_cap: float | None
    share_cap: float | None
    transport_cap: float | None
    norms: dict  # item -> the optimal plan's gross production of it
    labour_norm: float  # the optimal plan's total labour
    rule: str
    solver: str = "highs"


# --------------------------------------------------------------------------- shares


def gross_production(scenario: Scenario, production: pd.DataFrame) -> pd.DataFrame:
    """item, municipality, amount: gross output of each good (positive process_io entries)."""
    items = scenario.items
    goods = set(items.loc[items["kind"] == "good", "id"])
    io = scenario.process_io
    io = io[(io["quantity"] > 0) & io["item"].isin(goods)]
    if production is None or len(production) == 0 or len(io) == 0:
        return pd.DataFrame({"item": [], "municipality": [], "amount": []})
    p = pd.DataFrame(production)[["municipality", "process", "level"]]
    e = p.merge(io[["process", "item", "quantity"]], on="process")
    e["amount"] = e["level"].astype(float) * e["quantity"].astype(float)
    return e.groupby(["item", "municipality"], as_index=False)["amount"].sum()


def shares(scenario: Scenario, plan: dict) -> dict[str, pd.Series]:
    """Block -> share by municipality: one block per good made (``item``), and ``labour``."""
    out: dict[str, pd.Series] = {}
    g = gross_production(scenario, pd.DataFrame(plan.get("production") or []))
    for item, grp in g.groupby("item"):
        tot = grp["amount"].sum()
        if tot > 1e-9:
            out[str(item)] = pd.Series(grp["amount"].to_numpy() / tot, index=grp["municipality"])
    lab = pd.DataFrame(plan.get("labour") or [])
    if len(lab) and lab["used"].sum() > 1e-9:
        out["labour"] = pd.Series(
            lab["used"].to_numpy(float) / lab["used"].sum(), index=lab["municipality"]
        )
    return out


def share_distance(a: dict[str, pd.Series], b: dict[str, pd.Series]) -> float:
    """Mean total-variation distance over the blocks either plan has (see the module text)."""
    blocks = sorted(set(a) | set(b))
    if not blocks:
        return 0.0
    tv = []
    for k in blocks:
        if k not in a or k not in b:
            tv.append(1.0)
            continue
        sa, sb = a[k].align(b[k], fill_value=0.0)
        tv.append(0.5 * float(np.abs(sa - sb).sum()))
    return float(np.mean(tv))


def distance(scenario: Scenario, a: dict, b: dict) -> float:
    """Distance between two plans (SPEC JSON) in production and labour shares, in [0, 1]."""
    return share_distance(shares(scenario, a), shares(scenario, b))


# --------------------------------------------------------------------------- region


def make_region(scenario: Scenario, form: Formulation, best: dict, slack: float) -> Region:
    """The near-optimal region around the optimal plan ``best`` (SPEC JSON)."""
    stages = {s["name"]: s.get("value") for s in best.get("stages") or []}
    needs = form.needs
    d = pd.DataFrame(best.get("deliveries") or [])
    floors = np.full(len(needs), np.nan)
    if len(d) and any(":tier" in n or n == "needs:full" for n in stages):
        key = ["municipality", "item", "tier"]
        got = needs[key].merge(d[[*key, "ratio"]], on=key, how="left")["ratio"].to_numpy(float)
        floors = np.maximum(0.0, (1.0 - slack) * got - 1e-9)

    def cap(name):
        v = stages.get(name)
        return None if v is None else (1.0 + slack) * float(v) + 1e-7 * max(1.0, abs(float(v)))

    g = gross_production(scenario, pd.DataFrame(best.get("production") or []))
    norms = {str(k): float(v) for k, v in g.groupby("item")["amount"].sum().items() if v > 1e-9}
    return Region(
        slack=float(slack),
        floors=floors,
        labour_cap=cap("min_labour"),
        share_cap=cap("fair_burden"),
        transport_cap=cap("min_transport"),
        norms=norms,
        labour_norm=float(best.get("metrics", {}).get("total_labour") or 1.0) or 1.0,
        rule=str(best.get("rule") or "leximin"),
        solver=str(best.get("solver") or "highs"),
    )


def region_lp(form: Formulation, region: Region, c: np.ndarray, sense: str) -> LinearProgram:
    """The formulation's programme restricted to the region, with objective ``c``."""
    lp = form.lp
    col_lower = lp.col_lower.copy()
    cols = form.needs["col"].to_numpy()
    held = (cols >= 0) & np.isfinite(region.floors)
    col_lower[cols[held]] = np.minimum(region.floors[held], lp.col_upper[cols[held]])
    row_upper = lp.row_upper.copy()
    if region.share_cap is not None:
        lab = form.row_index("labour")
        ids = pd.Index(form.municipalities["id"])
        where = ids.get_indexer(form.rows["municipality"].to_numpy()[lab])
        hours = form.municipalities["labour_hours"].to_numpy(float)[where]
        row_upper[lab] = np.minimum(row_upper[lab], region.share_cap * hours)
    extra, hi = [], []
    for coef, bound in (
        (form.labour_total, region.labour_cap),
        (form.transport_labour, region.transport_cap),
    ):
        if bound is not None:
            extra.append(sp.csr_array(coef.reshape(1, -1)))
            hi.append(bound)
    A = sp.vstack([lp.A, *extra], format="csr") if extra else lp.A
    return LinearProgram(
        c=c,
        A=A,
        row_lower=np.concatenate([lp.row_lower, np.full(len(hi), -np.inf)]),
        row_upper=np.concatenate([row_upper, np.asarray(hi, float)]),
        col_lower=col_lower,
        col_upper=lp.col_upper,
        sense=sense,
    )


def feature_matrix(scenario: Scenario, form: Formulation, region: Region) -> sp.csr_array:
    """Features x columns of the plan's production and labour (one row a feature).

    Production of each (good, municipality) over the optimal plan's total of the good,
    for the goods the optimal plan makes; then each municipality's labour over the total.
    """
    xs = form.col_index("x")
    cx = pd.DataFrame(
        {
            "col": xs,
            "process": np.asarray(form.cols["process"].to_numpy()[xs], dtype=object),
            "municipality": np.asarray(form.cols["municipality"].to_numpy()[xs], dtype=object),
        }
    )
    io = scenario.process_io
    io = io[(io["quantity"] > 0) & io["item"].isin(list(region.norms))]
    e = cx.merge(io[["process", "item", "quantity"]], on="process")
    e = e.sort_values(["item", "municipality", "col"], kind="stable")
    fid = e.groupby(["item", "municipality"], sort=True).ngroup().to_numpy()
    k = int(fid.max()) + 1 if len(fid) else 0
    norm = e["item"].map(region.norms).to_numpy(float)
    P = sp.csr_array(
        (e["quantity"].to_numpy(float) / norm, (fid, e["col"].to_numpy())), shape=(k, form.n)
    )
    L = form.municipalities["labour_hours"].to_numpy(float)
    lab = sp.csr_array(form.labour[np.flatnonzero(L > 0)]) / max(region.labour_norm, 1e-9)
    return sp.csr_array(sp.vstack([P, lab], format="csr"))


def direction_vector(k: int, direction: dict) -> np.ndarray:
    """Weights over the k features, to be maximised.

    Minus the (unit) centroid ``away`` of earlier plans' features, plus ``mix`` times a
    seeded random unit vector.
    """
    w = np.zeros(k)
    away = direction.get("away")
    if away is not None and len(away) == k:
        a = np.asarray(away, float)
        w -= a / max(np.linalg.norm(a), 1e-12)
    seed = direction.get("seed")
    if seed is not None:
        r = np.random.default_rng(int(seed)).standard_normal(k)
        w += float(direction.get("mix", 1.0)) * r / max(np.linalg.norm(r), 1e-12)
    return w


# --------------------------------------------------------------------------- one course


def course_binding(form: Formulation, x: np.ndarray) -> pd.DataFrame:
    """The scenario's hard constraints at their bound in a course (stage ``course``, no duals).

    Rows (labour, link, limit, mandate, resource balances) whose activity sits at a finite
    bound, and process levels at their capacity (or at 0 where a mandate forbids them).
    """
    lp = form.lp
    act = lp.A @ x
    scale = 1.0 + np.abs(act)
    at = (np.isfinite(lp.row_upper) & (np.abs(act - lp.row_upper) <= 1e-7 * scale)) | (
        np.isfinite(lp.row_lower) & (np.abs(act - lp.row_lower) <= 1e-7 * scale)
    )
    kinds = np.asarray(form.rows["kind"].to_numpy(), dtype=object).copy()
    kinds[form.resource_rows] = "resource"
    rs = np.flatnonzero(at & (kinds != "balance"))
    xs = form.col_index("x")
    ub = lp.col_upper[xs]
    cs = xs[np.isfinite(ub) & (np.abs(x[xs] - ub) <= 1e-7 * (1.0 + np.abs(ub)))]
    forb = form.cols["forbidden"].to_numpy()[cs]
    out = pd.DataFrame(
        {
            "stage": "course",
            "kind": np.concatenate([kinds[rs], np.where(forb, "mandate", "capacity")]),
            "where": np.concatenate([form.describe_rows(rs), form.describe_cols(cs)]),
            "municipality": np.concatenate(
                [form.rows["municipality"].to_numpy()[rs], form.cols["municipality"].to_numpy()[cs]]
            ),
            "item": np.concatenate(
                [form.rows["item"].to_numpy()[rs], form.cols["process"].to_numpy()[cs]]
            ),
            "dual": np.nan,
        }
    )
    out["where"] = out["where"].astype(str).str.replace(r"^mandate ", "", regex=True)
    return out


def _stage_values(form: Formulation, x: np.ndarray, tables: dict, best_stages: list) -> list:
    """Each stage of the optimal plan, its value in this plan beside its optimum.

    A course is one LP over the region, not a run of stages: each stage's ``solves`` and
    ``seconds`` (SPEC's keys) are 0, and the course's own are in its ``timings``.
    """
    d = tables["deliveries"]
    d = d[d["need"] > 0]
    lab = tables["labour"]
    worked = lab[lab["available"] > 0]
    figures = {
        "min_labour": float(form.labour_total @ x),
        "fair_burden": float(worked["share"].max()) if len(worked) else 0.0,
        "min_transport": float(form.transport_labour @ x),
    }
    out = []
    for s in best_stages:
        name = s["name"]
        if name in figures:
            value = figures[name]
        elif ":tier" in name:
            tier = int(name.rsplit("tier", 1)[1])
            sel = d[d["tier"] == tier]["ratio"]
            value = float(sel.min()) if len(sel) else None
        else:
            value = float(d["ratio"].min()) if len(d) else None
        out.append(
            {"name": name, "value": value, "optimum": s.get("value"), "solves": 0, "seconds": 0.0}
        )
    return out


def _solve_two_phase(form: Formulation, backend, c: np.ndarray):
    """Solve in the direction ``c``, then, holding it within DIRECTION_HOLD, serve needs best.

    The direction alone leaves every need at its floor (it does not care about them);
    the second solve raises ratios where the direction allows (tier 1 weighed most).
    Polished at the backend's tight tolerance where it has one. Returns (result,
    iterations, LP solves).
    """
    res = backend.solve()
    iterations = int(res.iterations or 0)
    if res.status != Status.OPTIMAL:
        return res, iterations, 1
    value = float(c @ res.x[: form.n])
    nz = np.flatnonzero(c)
    row = sp.csr_array((c[nz], (np.zeros(len(nz), int), nz)), shape=(1, len(c)))
    backend.add_rows(
        row, np.array([value - DIRECTION_HOLD * max(abs(value), 1e-9)]), np.array([np.inf])
    )
    w = np.zeros(len(c))
    r = form.col_index("r")
    tier = form.cols["tier"].to_numpy()[r].astype(int)
    w[r] = np.choose(np.clip(tier - 1, 0, 2), [100.0, 10.0, 1.0])
    backend.set_objective(w / max(1.0, len(r)), "max")
    second = backend.solve()
    solves = 2
    iterations += int(second.iterations or 0)
    if second.status == Status.OPTIMAL:
        res = second
    if hasattr(backend, "polish"):
        polished = backend.polish()
        solves += 1
        iterations += int(polished.iterations or 0)
        res = polished if polished.status == Status.OPTIMAL else res
    return res, iterations, solves


def solve_course(scenario: Scenario, region: Region, direction: dict, best_stages: list) -> dict:
    """One candidate: the LP over the region in ``direction``; its plan (SPEC JSON) and features."""
    form = build(scenario)
    Phi = feature_matrix(scenario, form, region)
    w = direction_vector(Phi.shape[0], direction)
    c = np.asarray(Phi.T @ w).ravel()
    c /= max(float(np.abs(c).max(initial=0.0)), 1e-12)
    lp = region_lp(form, region, c, "max")
    backend = solvers.get(region.solver)
    t0 = time.perf_counter()
    backend.load(lp)
    res, iterations, solves = _solve_two_phase(form, backend, c)
    seconds = time.perf_counter() - t0
    if res.status != Status.OPTIMAL:
        return {"status": str(res.status), "message": res.message, "iterations": iterations}
    x = res.x[: form.n]
    tables = extract_tables(form, SimpleNamespace(x=x, prices=None, outcomes=[]))
    tables["binding"] = course_binding(form, x)
    short = (tables["deliveries"]["ratio"] < 1.0 - 1e-7) & (tables["deliveries"]["need"] > 0)
    plan = Plan(
        status="shortfall" if short.any() else "optimal",
        scenario={"name": scenario.meta.name, "hash": scenario.content_hash},
        rule=region.rule,
        solver=region.solver,
        stages=_stage_values(form, x, tables, best_stages),
        metrics=metrics(tables),
        timings={
            "iterations": iterations,
            "solve": seconds,
            "lp_solves": solves,
            "variables": form.n,
            "rows": lp.num_rows,
        },
        **tables,
    ).to_dict()
    plan["slack"] = region.slack
    stamp(plan)
    if os.environ.get("COMMUNE_CHECK_PLANS"):
        from planner.check import check_plan

        problems = check_plan(scenario, plan)
        if problems:
            raise AssertionError("course violates SPEC constraints:\n" + "\n".join(problems[:50]))
    return {
        "status": "optimal",
        "plan": plan,
        "features": (Phi @ np.maximum(x, 0.0)).tolist(),
        "iterations": iterations,
    }


def solve_optimal(scenario: Scenario, rule, stages, tolerance, solver: str) -> dict:
    """The optimal plan (a batch task): SPEC JSON and its LP iterations."""
    from planner import solve

    plan = solve(scenario, rule=rule, stages=stages, tolerance=tolerance, solver=solver).to_dict()
    return {"plan": plan, "iterations": int(plan.get("timings", {}).get("iterations", 0))}


# --------------------------------------------------------------------------- words


def _names(scenario: Scenario) -> tuple[dict, dict]:
    m = scenario.municipalities
    i = scenario.items
    return (
        dict(zip(m["id"], m["name"].where(m["name"] != "", m["id"]), strict=True)),
        dict(zip(i["id"], i["name"].where(i["name"] != "", i["id"]).str.lower(), strict=True)),
    )


def _item_phrase(item: str, a: pd.Series, b: pd.Series, mname: dict, iname: dict) -> str:
    """How the making of one good moved from plan ``a`` (shares) to ``b``."""
    sa, sb = a.align(b, fill_value=0.0)
    delta = sb - sa
    up, down = str(delta.idxmax()), str(delta.idxmin())
    what = iname.get(item, item)
    if sa[up] < 0.05 and sb[down] < 0.05:
        return f"{mname.get(up, up)} makes the {what} instead of {mname.get(down, down)}"
    return (
        f"{mname.get(up, up)} makes {sb[up]:.0%} of the {what} (was {sa[up]:.0%}), "
        f"{mname.get(down, down)} {sb[down]:.0%} (was {sa[down]:.0%})"
    )


def _labour_phrases(best: dict, alt: dict, mname: dict, top: int = 2) -> list[str]:
    a = pd.DataFrame(best.get("labour") or []).set_index("municipality")["used"]
    b = pd.DataFrame(alt.get("labour") or []).set_index("municipality")["used"]
    a, b = a.align(b, fill_value=0.0)
    rel = (b - a) / a.where(a > 0, np.nan)
    rel = rel.dropna()
    rel = rel[rel.abs() >= 0.005]
    out = []
    for m in rel.abs().sort_values(ascending=False, kind="stable").index[:top]:
        word = "more" if rel[m] > 0 else "less"
        out.append(f"{mname.get(m, m)} works {abs(rel[m]):.0%} {word}")
    return out


def _needs_phrases(best: dict, alt: dict) -> list[str]:
    out = []
    a, b = best.get("metrics", {}).get("min_ratio", {}), alt.get("metrics", {}).get("min_ratio", {})
    for tier in sorted(a):
        if tier in b and b[tier] < a[tier] - 5e-4:
            word = TIER_WORDS.get(int(tier), f"tier-{tier}")
            out.append(f"{word} needs at worst {b[tier]:.1%} (optimum {a[tier]:.1%})")
    return out


def describe(scenario: Scenario, best: dict, alt: dict, top: int = 2) -> str:
    """A short account of how ``alt`` differs from ``best``.

    E.g. "Dunmore makes the electricity instead of Ashford; Elmstead works 6% less".
    """
    mname, iname = _names(scenario)
    sa, sb = shares(scenario, best), shares(scenario, alt)
    moved = []
    for k in sorted(set(sa) & set(sb) - {"labour"}):
        x, y = sa[k].align(sb[k], fill_value=0.0)
        moved.append((0.5 * float(np.abs(x - y).sum()), k))
    moved.sort(key=lambda t: (-t[0], t[1]))
    parts = [_item_phrase(k, sa[k], sb[k], mname, iname) for tv, k in moved[:top] if tv >= 0.05]
    parts += [f"the {iname.get(k, k)} is made too" for k in sorted(set(sb) - set(sa) - {"labour"})][
        :1
    ]
    parts += _labour_phrases(best, alt, mname, top)
    parts += _needs_phrases(best, alt)
    return "; ".join(parts) if parts else "the same division of work, other flows"


# --------------------------------------------------------------------------- the batch


@dataclass
class Courses:
    """The optimal plan and the courses of action (SPEC JSON each), with the batch's figures."""

    optimal: dict
    courses: list[dict]
    slack: float
    count: int
    candidates: int = 0
    batch: dict = field(default_factory=dict)
    message: str = ""

    def to_dict(self) -> dict:
        """JSON: ``optimal``, ``courses`` (each a plan with ``distance`` and ``description``)."""
        return {
            "slack": self.slack,
            "count": self.count,
            "candidates": self.candidates,
            "optimal": self.optimal,
            "courses": self.courses,
            "distances": self.distances(),
            "batch": self.batch,
            "message": self.message,
        }

    def distances(self) -> list[list[float]]:
        """Pairwise distances: the optimal plan first, then each course."""
        return [[float(v) for v in row] for row in self.batch.get("pairwise", [])]


def _directions(count: int, round_no: int, away: list[float], seed: int) -> list[dict]:
    """The directions of one round.

    Round 1: away from the optimal plan, then random directions; later rounds: away
    from everything found, then that mixed with new random directions.
    """
    out = []
    for j in range(count):
        s = seed + 1000 * round_no + j
        if round_no == 0:
            d = {"away": away} if j == 0 else {"seed": s}
        else:
            d = {"away": away} if j == 0 else {"away": away, "seed": s, "mix": 1.0}
        parts = (["away"] if "away" in d else []) + ([f"random {s}"] if "seed" in d else [])
        d["name"] = " + ".join(parts)
        out.append(d)
    return out


def _pick(scenario: Scenario, best: dict, found: list[dict], count: int):
    """Greedy farthest-point choice of ``count`` candidates; pairwise distances of the chosen."""
    pool = [shares(scenario, best)] + [shares(scenario, f["plan"]) for f in found]
    n = len(pool)
    D = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            D[i, j] = D[j, i] = share_distance(pool[i], pool[j])
    chosen = [0]
    while len(chosen) < count + 1:
        rest = [j for j in range(1, n) if j not in chosen]
        if not rest:
            break
        score = [D[j, chosen].min() for j in rest]
        k = int(np.argmax(score))
        if score[k] < SAME:
            break
        chosen.append(rest[k])
    return chosen, D[np.ix_(chosen, chosen)]


def courses_of_action(
    scenario: Scenario,
    count: int = DEFAULT_COUNT,
    slack: float = DEFAULT_SLACK,
    *,
    rule: str | None = None,
    stages: list[str] | None = None,
    tolerance: float | None = None,
    solver: str = "highs",
    rounds: int = 2,
    seed: int = 0,
    journal=None,
    executor=None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress=None,
    plan: dict | None = None,
) -> Courses:
    """The optimal plan and up to ``count`` courses of action within ``slack`` (module text).

    ``plan``: the optimal plan (SPEC JSON) when it is already solved under the same policy.

    Runs as batches (:func:`planner.batch.run_batch`): on local processes by
    default, on Dask with ``scheduler`` (or ``COMMUNE_DASK_SCHEDULER``);
    ``journal`` makes it resumable.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    if not 0 <= slack < 1:
        raise ValueError(f"slack must be in [0, 1), not {slack}")
    from planner.batch import configured_scheduler

    ex, _, close = open_executor(executor, workers, configured_scheduler(scheduler), count)
    try:
        return _courses(
            scenario,
            count,
            slack,
            rule,
            stages,
            tolerance,
            solver,
            rounds,
            seed,
            dict(journal=journal, executor=ex, progress=progress),
            plan,
        )
    finally:
        close()


def _courses(scenario, count, slack, rule, stages, tolerance, solver, rounds, seed, opts, best):
    h = scenario.content_hash
    stats = new_stats()
    if best is None:
        key0 = task_key("optimal", h, rule, stages, tolerance, solver)
        first = run_batch(
            [
                Task(
                    key0, solve_optimal, (scenario, rule, stages, tolerance, solver), "optimal plan"
                )
            ],
            label="optimal plan",
            **opts,
        )
        best = first.results[key0]["plan"]
        add_stats(stats, first, 1)
    if best.get("status") not in ("optimal", "shortfall"):
        best = stamp({**best, "course": 0, "distance": 0.0, "description": "the optimal plan"})
        why = "; ".join(best.get("conflicts") or []) or best.get("message", "")
        msg = f"no courses of action: the plan is {best.get('status')}" + (
            f" ({why})" if why else ""
        )
        return Courses(best, [], slack, count, batch=stats, message=msg)
    form = build(scenario)
    region = make_region(scenario, form, best, slack)
    Phi = feature_matrix(scenario, form, region)
    x0 = _plan_x(form, best)
    found: list[dict] = []
    feats = [Phi @ x0]
    for r in range(max(1, rounds)):
        away = np.mean(feats, axis=0).tolist()
        dirs = _directions(count, r, away, seed)
        tasks = [
            Task(
                task_key(
                    "course",
                    h,
                    region.floors,
                    region.labour_cap,
                    region.share_cap,
                    region.transport_cap,
                    slack,
                    d,
                ),
                solve_course,
                (scenario, region, d, best["stages"]),
                d["name"],
            )
            for d in dirs
        ]
        run = run_batch(tasks, label=f"courses, round {r + 1}", **opts)
        for t, d in zip(tasks, dirs, strict=True):
            res = run.results[t.key]
            if res.get("status") == "optimal":
                found.append({**res, "direction": d["name"]})
                feats.append(np.asarray(res["features"]))
        add_stats(stats, run, len(tasks))
    return _choose(scenario, best, found, count, slack, stats)


def _choose(scenario, best, found, count, slack, stats) -> Courses:
    chosen, D = _pick(scenario, best, found, count)
    courses = []
    for rank, j in enumerate(chosen[1:], start=1):
        f = found[j - 1]
        plan = dict(f["plan"])
        plan["course"] = rank
        plan["distance"] = float(D[0, rank])
        plan["description"] = describe(scenario, best, plan)
        plan["direction"] = f["direction"]
        courses.append(stamp(plan))
    best = stamp({**best, "course": 0, "distance": 0.0, "description": "the optimal plan"})
    stats["pairwise"] = D.tolist()
    msg = (
        ""
        if len(courses) == count
        else (f"only {len(courses)} distinct course(s) within {slack:.0%} of the optimum")
    )
    return Courses(best, courses, slack, count, candidates=len(found), batch=stats, message=msg)


def _plan_x(form: Formulation, plan: dict) -> np.ndarray:
    """The optimal plan's production levels and flows as a column vector of ``form``.

    Enough for the features: production columns and flow labour.
    """
    x = np.zeros(form.n)
    xs = form.col_index("x")
    key = pd.DataFrame(
        {
            "municipality": np.asarray(form.cols["municipality"].to_numpy()[xs], dtype=object),
            "process": np.asarray(form.cols["process"].to_numpy()[xs], dtype=object),
            "col": xs,
        }
    )
    p = pd.DataFrame(plan.get("production") or [])
    if len(p):
        m = key.merge(p, on=["municipality", "process"])
        x[m["col"].to_numpy()] = m["level"].to_numpy(float)
    fs = form.col_index("f")
    fk = pd.DataFrame(
        {
            "from": np.asarray(form.cols["municipality"].to_numpy()[fs], dtype=object),
            "to": np.asarray(form.cols["dest"].to_numpy()[fs], dtype=object),
            "item": np.asarray(form.cols["item"].to_numpy()[fs], dtype=object),
            "col": fs,
        }
    )
    fl = pd.DataFrame(plan.get("flows") or [])
    if len(fl):
        m = fk.merge(fl, on=["from", "to", "item"])
        x[m["col"].to_numpy()] = m["quantity"].to_numpy(float)
    return x


__all__ = ["BatchError", "Courses", "courses_of_action", "describe", "distance", "shares"]

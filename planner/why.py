"""Why a need is short: the stage that set its level and the constraints that stopped it there.

For every need not met in full (SPEC section 6, ``explanations``) a
*sensitivity programme* is solved, independent of how the engine reached the
plan: the programme of SPEC section 3 with

- every need of an earlier tier held at (at least) its plan ratio, and every
  earlier non-need stage held at its optimum (custom stage lists);
- every need of the same tier whose ratio is below this need's level held at
  its plan ratio;
- the need's *group* (the needs of its tier at the same level) raised
  together: maximise a common floor ``t <= r_j`` over the group and every
  need of the tier above it (the round of leximin that set the level).

Under leximin its optimum is the plan's level (the leximin certificate: no
need of the group can rise without lowering one at or below it). The rows and
column bounds with a non-zero dual are what stop the group there: labour,
capacity, link, limit, resource or stock, mandate. Each is measured by
re-solving the sensitivity programme with that constraint loosened a little,
so ``gain`` (the rise of the group's ratio per unit more of the constraint)
holds for a one-sided change even where the programme is degenerate.

Other rules are not leximin: there the programme raises the need alone with
every other need of its tier held at its plan ratio (a Pareto certificate); a
need that could still rise is held by the rule itself (``proportional``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

import solvers
from models import Scenario
from planner.edits import Words, fmt, pct
from planner.engine import FLOOR_WEIGHT
from planner.formulation import Formulation
from planner.plan import stamp
from solvers import LinearProgram, Status

log = logging.getLogger("commune.why")
TIER_WORDS = {1: "vital", 2: "standard", 3: "desired"}
SHORT = 1e-6  # a ratio this far below 1 is short
LEVEL = 1e-6  # ratios this close form one group
HOLD = 1e-9  # held ratios may sit this far below their plan value
STEP = 1e-3  # a constraint is loosened by this share of its size (at least STEP units)
MIN_IMPACT = 1e-3  # ratio gained by loosening 10% of the constraint, below which it is left out
MAX_CANDIDATES = 12
# the sensitivity optimum may exceed the plan's level by this much (a tenth of a point: the
# stage solves' tolerance on large plans) and still certify it; beyond, each need is
# explained alone (Pareto certificate)
CERTIFICATE = 1e-3
# the sensitivity programme's objective (its level) times this, duals divided back: the
# rounds' weight (planner.engine.FLOOR_WEIGHT, which says why)
WEIGHT = FLOOR_WEIGHT


@dataclass
class _Limiter:
    """One constraint that holds a group back, with what it would take to move it."""

    kind: str
    where: str
    owner: str
    used: float
    available: float
    dual: float
    index: int  # row or column of the programme
    is_col: bool
    lower: bool  # a lower bound (>= row): more of it means a lower bound
    edit: dict
    unit: str = ""
    gain: float = 0.0


class OutOfTime(Exception):
    """The time for explanations ran out (before, or during, a solve)."""


def time_left(deadline: float | None) -> float | None:
    """Seconds left until ``deadline`` (``time.monotonic()``); None for no deadline.

    Raises :class:`OutOfTime` once it has passed: checked before every solve.
    """
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise OutOfTime
    return left


def solve_within(be, deadline: float | None):
    """``be.solve()`` capped at what is left of ``deadline``; :class:`OutOfTime` past it."""
    left = time_left(deadline)
    res = be.solve(time_limit=left)
    if deadline is not None and res.status == Status.TIME_LIMIT:
        raise OutOfTime
    return res


def deadline_in(seconds: float | None) -> float | None:
    """The deadline ``seconds`` from now (None: none)."""
    return None if seconds is None else time.monotonic() + max(seconds, 0.0)


LATE = "not explained: the time for explanations ran out"


def is_late(e: dict) -> bool:
    """Whether an explanation only says that the time for explanations ran out."""
    return not e.get("limited_by") and LATE in e.get("text", "")


def explain_shortfalls(
    scenario: Scenario,
    form: Formulation,
    plan: dict,
    seconds: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    deadline: float | None = None,
) -> list[dict]:
    """One explanation per need not fully met in ``plan`` (the SPEC JSON of a solved plan).

    ``seconds`` (or ``deadline``, by ``time.monotonic()``): a budget, checked before every
    solve, so a need or group not finished by then says so (:func:`is_late`) instead of a
    reason; None: no limit. ``progress(done, total)`` is called as needs are explained.
    """
    if deadline is None:
        deadline = deadline_in(seconds)
    if plan.get("status") not in ("optimal", "shortfall"):
        return []
    needs = _plan_needs(form, plan)
    short = needs[(needs["need"] > 0) & (needs["ratio"] < 1 - SHORT)]
    if short.empty:
        return []
    stages = [s["name"] for s in plan.get("stages", [])]
    words = Words(scenario)
    out: list[dict] = []

    def add(rows: list[dict]) -> None:
        out.extend(rows)
        if progress is not None:
            progress(len(out), len(short))

    for tier, rows in short.groupby("tier", sort=True):
        stage, pos = _stage_of(stages, int(tier))
        unreachable = rows[rows["col"] < 0]
        stopped = _stopped_makers(scenario) if len(unreachable) else {}
        add([_unreachable(r, stage, words, stopped) for r in unreachable.itertuples()])
        rows = rows[rows["col"] >= 0]
        if rows.empty:
            continue
        if _passed(deadline):
            add([_late(r, stage, words) for r in rows.itertuples()])
            continue
        kind = _stage_kind(stage, plan.get("rule", "leximin"))
        probe = _Probe(scenario, form, needs, int(tier), _earlier_holds(form, plan, pos))
        probe.deadline = deadline
        for level, group in _groups(rows):
            if _passed(deadline):
                add([_late(r, stage, words) for r in group.itertuples()])
                continue
            probe.explain(group, level, stage, kind, words, add)
    return out


def _passed(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _need(r, words: Words) -> str:
    """The need in words, e.g. Ashford's desired electricity."""
    tier = int(r.tier)
    return f"{words.of(r.municipality)} {TIER_WORDS.get(tier, f'tier {tier}')} {words.item.get(r.item, r.item)}"


def _entry(r, stage: str, limited: list[dict], text: str) -> dict:
    """One row of ``explanations`` (SPEC section 6)."""
    return {
        "municipality": r.municipality,
        "item": r.item,
        "tier": int(r.tier),
        "ratio": float(r.ratio),
        "stage": stage,
        "limited_by": limited,
        "text": text,
    }


def _late(r, stage: str, words: Words) -> dict:
    text = (
        f"{_need(r, words)} is at {pct(r.ratio)} ({LATE}; more time explains it: a longer "
        f"time limit, or `planner solve --explain-seconds` with more seconds)."
    )
    return _entry(r, stage, [], text)


def _stopped_makers(scenario: Scenario) -> dict[tuple[str, str], list[tuple[str, bool]]]:
    """Processes that could make an item somewhere but cannot run there.

    (municipality, item) -> [(process, forbidden)]: a capacity row there, a positive net
    output of the item, and forbidden by the municipality's mandate or a capacity of 0.
    """
    io = scenario.process_io.groupby(["process", "item"], as_index=False)["quantity"].sum()
    makes = io[io["quantity"] > 0][["process", "item"]]
    cap = scenario.capacities[["municipality", "process", "max_level"]]
    md = scenario.mandates
    forb = md[md["kind"] == "forbid_process"][["municipality", "target"]]
    forb = forb.rename(columns={"target": "process"}).assign(forbidden=True)
    rows = cap.merge(makes, on="process").merge(forb, on=["municipality", "process"], how="left")
    rows["forbidden"] = rows["forbidden"].eq(True)
    rows = rows[rows["forbidden"] | (rows["max_level"] <= 0)]
    out: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    for m, item, proc, forbidden in rows[
        ["municipality", "item", "process", "forbidden"]
    ].itertuples(index=False):
        out.setdefault((m, item), []).append((proc, bool(forbidden)))
    return out


def _unreachable(r, stage: str, words: Words, stopped: dict | None = None) -> dict:
    """A need nothing can bring: no process there makes it, no link brings it, no stock.

    Where a process there could make it but cannot run (the municipality's own mandate
    forbids it, or its capacity is 0), the text says so and ``limited_by`` names it.
    """
    thing = words.item.get(r.item, r.item)
    place = words.place.get(r.municipality)
    reach = {"kind": "reach", "where": f"{r.item} at {r.municipality}", "used": 0.0}
    limited = [{**reach, "available": 0.0, "gain": 0.0}]
    why = []
    m = r.municipality
    for proc, forbidden in (stopped or {}).get((m, r.item), []):
        name = words.process.get(proc, proc)
        if forbidden:
            why.append(f"{words.of(m)} mandate forbids {name} there")
            ids = {"municipality": m, "kind": "forbid_process", "target": proc}
            kind, where, edit = "mandate", f"forbid_process {proc} of {m}", ("active", 1.0)
        else:
            why.append(f"{name} has a capacity of 0 there")
            ids = {"municipality": m, "process": proc}
            kind, where, edit = "capacity", f"capacity {proc} of {m}", ("max_level", 0.0)
        limited.append(
            {
                "kind": kind,
                "where": where,
                "whose": place,
                "owner": m,
                "used": 0.0,
                "available": 0.0,
                "unit": "units",
                "gain": 0.0,
                "edit": _edit(kind, ids, *edit),
            }
        )
    if why:
        text = (
            f"{_need(r, words)} is at {pct(r.ratio)}: nothing can bring {thing} to {place}: "
            f"{'; '.join(why)}; no other process there can make it, no stock of it is there "
            f"and no link brings it."
        )
    else:
        text = (
            f"{_need(r, words)} is at {pct(r.ratio)}: nothing can bring {thing} to {place}: no "
            f"process there can make it, no stock of it is there and no link brings it."
        )
    return _entry(r, stage, limited, text)


def enrich(
    scenario: Scenario,
    plan,
    form: Formulation | None = None,
    seconds: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """The plan's SPEC JSON with the keys of SPEC section 6.

    ``explanations`` for solved plans; minimal ``conflicts`` and a
    ``reconciliation`` for infeasible ones. ``seconds`` is the budget for all of it
    (None: no limit), checked before every solve: needs not explained by then say so
    (:func:`is_late`); should the minimal conflict or the reconciliation not be found
    in time, ``conflict_set`` or ``reconciliation`` is null (the solver's own
    ``conflicts`` stay). ``progress(done, total)``: needs explained so far.
    """
    from planner.formulation import build

    deadline = deadline_in(seconds)
    doc = plan.to_dict() if hasattr(plan, "to_dict") else dict(plan)
    if "explanations" in doc or doc.get("reconciliation") is not None:
        return stamp(doc)  # already explained (the planner may add them itself)
    form = form or build(scenario)
    if doc.get("status") in ("optimal", "shortfall"):
        doc["explanations"] = explain_shortfalls(
            scenario, form, doc, progress=progress, deadline=deadline
        )
    elif doc.get("status") == "infeasible":
        from planner.conflicts import conflict_texts, minimal_conflicts, reconcile

        full = _failed_full(doc)
        doc["conflict_set"] = doc["reconciliation"] = None  # null: not found in time
        try:
            found = minimal_conflicts(scenario, form, full_needs=full, deadline=deadline)
            doc["conflicts"] = conflict_texts(found) or doc.get("conflicts", [])
            doc["conflict_set"] = found
            doc["reconciliation"] = reconcile(scenario, form, full_needs=full, deadline=deadline)
        except OutOfTime:
            log.info("the time for explaining the infeasible plan of %s ran out", scenario.name)
    return stamp(doc)  # the hash covers the explanations too


def enrich_safely(
    scenario: Scenario,
    plan,
    seconds: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """:func:`enrich`, or the plan as it is should explaining fail (the error goes to the log)."""
    try:
        return enrich(scenario, plan, seconds=seconds, progress=progress)
    except Exception:  # noqa: BLE001 - a plan is never lost to its explanation
        log.exception("explaining plan of %s failed", scenario.name)
        return plan.to_dict() if hasattr(plan, "to_dict") else stamp(dict(plan))


FAILURES = {
    "infeasible": "The scenario's hard constraints cannot all hold",
    "time_limit": "The time limit ran out before the plan was made; ask for a longer time limit",
    "error": "The solver failed on this plan; the details are in the server's log",
    "cancelled": "The plan was cancelled",
}


def failure_message(status: str, message: str = "") -> str:
    """A failed plan in words: what happened, then the solver's own words (first line only).

    A solver error's message is already that sentence (the worker writes it so).
    """
    head = FAILURES.get(status, "The plan was not made")
    lines = (message or "").strip().splitlines()
    detail = lines[0].split("Traceback (most recent call last)")[0].strip() if lines else ""
    if status == "error" and detail:
        return detail[:1].upper() + detail[1:].rstrip(".") + "."
    return f"{head} ({detail})." if detail else f"{head}."


def _failed_full(doc: dict) -> bool:
    """Whether the failing stage required every need in full (``needs:full``)."""
    failed = [s["name"] for s in doc.get("stages", []) if s.get("value") is None]
    return bool(failed and failed[-1] == "needs:full") or "needs:full" in doc.get("message", "")


# --------------------------------------------------------------------------- plan and stages


def _plan_needs(form: Formulation, plan: dict) -> pd.DataFrame:
    """``form.needs`` with the plan's ratio of each need."""
    nd = form.needs[["municipality", "item", "tier", "need", "col"]].copy()
    d = pd.DataFrame(plan.get("deliveries") or [])
    if len(d) == len(nd) and (d["item"].to_numpy() == nd["item"].to_numpy()).all():
        nd["ratio"] = d["ratio"].to_numpy(float)
        return nd
    key = ["municipality", "item", "tier"]
    got = nd.merge(d[[*key, "ratio"]], on=key, how="left")
    got["ratio"] = got["ratio"].fillna(1.0)
    return got


def _stage_of(stages: list[str], tier: int) -> tuple[str, int]:
    """The stage that decided tier ``tier`` and its position (len(stages) if none)."""
    for i, name in enumerate(stages):
        if name.endswith(f":tier{tier}") or name == "needs:full":
            return name, i
    return "", len(stages)


def _stage_kind(stage: str, rule: str) -> str:
    head = stage.partition(":")[0]
    if head == "needs":
        return rule if stage != "needs:full" else "full"
    return head or rule


def _earlier_holds(form: Formulation, plan: dict, pos: int):
    """Rows holding the optima of the non-need stages before position ``pos``.

    Returns (rows, lower, upper, the stage each row holds).
    """
    blocks, lo, up, names = [], [], [], []
    for st in plan.get("stages", [])[:pos]:
        name, value = st["name"], st.get("value")
        if value is None or name not in ("min_labour", "min_transport", "fair_burden"):
            continue
        if name == "fair_burden":
            used = np.array([r["used"] for r in plan.get("labour", [])], float)
            blocks.append(sp.csr_array(form.labour))
            lo.append(np.full(len(used), -np.inf))
            up.append(used + 1e-7 * np.maximum(1.0, used))
        else:
            c = _labour_total(form)
            if name == "min_transport":  # labour of moving goods: the flow columns' part
                c = np.where(form.cols["kind"].to_numpy() == "f", c, 0.0)
            blocks.append(sp.csr_array(c.reshape(1, -1)))
            lo.append([-np.inf])
            up.append([value + 1e-7 * max(1.0, abs(value))])
        names += [name] * blocks[-1].shape[0]
    if not blocks:
        return sp.csr_array((0, form.lp.A.shape[1])), np.zeros(0), np.zeros(0), []
    return sp.vstack(blocks, format="csr"), np.concatenate(lo), np.concatenate(up), names


def _labour_total(form: Formulation) -> np.ndarray:
    """Objective coefficients of total labour hours (the min_labour stage)."""
    return np.asarray(form.labour.sum(axis=0)).ravel()


def _groups(rows: pd.DataFrame):
    """(level, needs) for each level of the tier's short needs, lowest first."""
    rows = rows.sort_values("ratio")
    r = rows["ratio"].to_numpy()
    cut = np.flatnonzero(np.diff(r) > LEVEL * np.maximum(1.0, r[1:])) + 1
    for part in np.split(np.arange(len(rows)), cut):
        g = rows.iloc[part]
        yield float(g["ratio"].min()), g


# --------------------------------------------------------------------------- the programme


class _Probe:
    """The sensitivity programme of one tier, on one warm HiGHS model."""

    def __init__(self, scenario, form: Formulation, needs: pd.DataFrame, tier: int, holds):
        self.form, self.scenario = form, scenario
        lp = form.lp
        col = needs["col"].to_numpy()
        ratio = needs["ratio"].to_numpy(float)
        tiers = needs["tier"].to_numpy()
        self.tier_need = np.flatnonzero((col >= 0) & (tiers == tier))
        self.col, self.ratio = col, ratio
        k, n, t = len(self.tier_need), form.lp.A.shape[1], form.t_col
        F = sp.csr_array(
            (
                np.r_[np.ones(k), -np.ones(k)],
                (np.r_[np.arange(k), np.arange(k)], np.r_[col[self.tier_need], np.full(k, t)]),
            ),
            shape=(k, n),
        )
        H, hlo, hup, self.hold_names = holds
        A = sp.vstack([lp.A, H, F], format="csr")
        self.floor0 = lp.A.shape[0] + H.shape[0]
        lower = lp.col_lower.copy()
        earlier = np.flatnonzero((col >= 0) & (tiers < tier))
        lower[col[earlier]] = np.maximum(0.0, ratio[earlier] - HOLD)
        c = np.zeros(n)
        c[t] = WEIGHT
        self.lp = LinearProgram(
            c,
            A,
            np.r_[lp.row_lower, hlo, np.full(k, -np.inf)],
            np.r_[lp.row_upper, hup, np.full(k, np.inf)],
            lower,
            lp.col_upper,
            sense="max",
        )
        self.be = solvers.get("highs")
        self.be.load(self.lp)
        self.base_lower = lower
        self.deadline: float | None = None  # time.monotonic(); past it every solve is refused
        self.done: list = []  # (members, level, keys of binding constraints) of groups explained

    def _setup(self, members: np.ndarray, level: float, hold_all: bool, ratio=None) -> None:
        """Floor rows on for the needs ``members``; hold the tier's other needs.

        Those below ``level`` (or all, ``hold_all``) are held at their ratio
        (``ratio``: the plan's unless given).
        """
        ratio = self.ratio if ratio is None else ratio
        idx = self.tier_need
        in_group = np.isin(idx, members)
        k = len(idx)
        held = ~in_group & ((self.ratio[idx] < level - LEVEL * max(1.0, level)) | hold_all)
        # the group and every need above it stay at or over the floor (leximin's round)
        lo = np.where(in_group | ~held & ~hold_all, 0.0, -np.inf)
        self.be.set_row_bounds(self.floor0 + np.arange(k), lo, np.full(k, np.inf))
        cols = self.col[idx]
        lower = np.where(held, np.maximum(0.0, ratio[idx] - HOLD), self.base_lower[cols])
        self.be.set_col_bounds(cols, lower, self.lp.col_upper[cols])

    def _solve(self) -> tuple[float, object]:
        res = solve_within(self.be, self.deadline)  # OutOfTime past the deadline
        if res.status != Status.OPTIMAL:
            return math.nan, res
        return float(res.x[self.form.t_col]), res

    def explain(self, group, level, stage, kind, words, add) -> None:
        """Explain each need of one group (groups of a tier come lowest first) to ``add``.

        Before each solve the deadline is checked: the needs not explained by then say so.
        """
        members = group.index.to_numpy()
        if kind == "leximin":
            try:
                time_left(self.deadline)
                self._setup(members, level, hold_all=False)
                top, res = self._solve()
                if math.isfinite(top) and top <= level + CERTIFICATE:
                    lim = self._limiters(res, top, words, (members, level))
                    self.done.append((members, level, {_key(c) for c in self._binding(res, words)}))
                    add([self._row(r, stage, lim, None, words) for r in group.itertuples()])
                    return
            except OutOfTime:
                add([_late(r, stage, words) for r in group.itertuples()])
                return
        rows = list(group.itertuples())
        for k, (i, r) in enumerate(zip(members, rows, strict=True)):
            # Pareto certificate: this need alone, every other held
            try:
                time_left(self.deadline)
                self._setup(np.array([i]), r.ratio, hold_all=True)
                top, res = self._solve()
                if math.isfinite(top) and top > r.ratio + CERTIFICATE:
                    add([self._row(r, stage, [], (kind, top), words)])
                else:
                    lim = self._limiters(res, top, words, (np.array([i]), r.ratio, True))
                    add([self._row(r, stage, lim, None, words)])
            except OutOfTime:
                add([_late(x, stage, words) for x in rows[k:]])
                return

    # ------------------------------------------------------------------ constraints

    def _limiters(self, res, top: float, words: Words, setup: tuple) -> list[_Limiter]:
        if not math.isfinite(top):
            return []
        cands = self._binding(res, words)[:MAX_CANDIDATES]
        for c in cands:
            time_left(self.deadline)  # OutOfTime: the need (or group) is not explained
            c.gain = self._measure(c, top, setup)
        keep = [c for c in cands if _impact(c) >= MIN_IMPACT]
        return sorted(keep, key=lambda c: (RANK.get(c.kind, 3), -_impact(c)))

    def _binding(self, res, words: Words) -> list[_Limiter]:
        """Scenario constraints with a dual that says more of them would raise the floor."""
        f, lp = self.form, self.form.lp
        m, n = lp.A.shape
        y = np.nan_to_num(res.row_duals[:m]) / WEIGHT
        d = np.nan_to_num(res.col_duals[:n]) / WEIGHT
        act = lp.A @ res.x[:n]
        out = []
        for i in np.flatnonzero(np.abs(y) > 1e-10):
            lim = _row_limiter(f, words, i, y[i], act[i])
            if lim is not None:
                out.append(lim)
        xs = f.col_index("x")
        for j in xs[d[xs] > 1e-10]:
            out.append(_col_limiter(f, words, j, d[j], res.x[j]))
        yh = np.nan_to_num(res.row_duals[m : self.floor0]) / WEIGHT
        for k in np.flatnonzero(yh > 1e-10):  # an earlier stage's optimum holds it
            name = self.hold_names[k]
            used = float((self.lp.A[[m + k]] @ res.x[:n])[0])
            edit = {"kind": "stage", "where": {"stage": name}, "field": "value", "from": used}
            out.append(
                _Limiter("stage", name, "", used, used, yh[k], m + k, False, False, edit, "h")
            )
        out.sort(key=lambda c: -abs(c.dual) * max(abs(c.available), 1.0))
        return out

    def _measure(self, c: _Limiter, top: float, setup: tuple) -> float:
        """The group's rise per unit of ``c``, re-solved with ``c`` loosened by a small step.

        As in the plan, the tier's lower groups that ``c`` also holds back rise first
        (leximin): each is raised again, lowest first, and held at its new level.
        """
        step = STEP * max(abs(c.available), 1.0)
        lp = self.be.lp
        if c.is_col:
            lo, up = lp.col_lower[c.index], lp.col_upper[c.index]
            self.be.set_col_bounds([c.index], [lo], [up + step])
        else:
            lo, up = lp.row_lower[c.index], lp.row_upper[c.index]
            self.be.set_row_bounds(
                [c.index], [lo - step if c.lower else lo], [up if c.lower else up + step]
            )
        ratio = self.ratio.copy()
        try:
            for members, level, keys in self.done:
                if _key(c) in keys:
                    self._setup(members, level, hold_all=False, ratio=ratio)
                    t, _ = self._solve()
                    ratio[members] = max(level, t) if math.isfinite(t) else level
            self._setup(*setup[:2], hold_all=len(setup) > 2, ratio=ratio)
            moved, _ = self._solve()
        finally:  # also when the time runs out
            (self.be.set_col_bounds if c.is_col else self.be.set_row_bounds)([c.index], [lo], [up])
        if not math.isfinite(moved):
            return 0.0
        gain = (moved - top) / step
        # the dual is exact where the programme is not degenerate: prefer it when they agree
        return abs(c.dual) if abs(gain - abs(c.dual)) <= 1e-3 * abs(c.dual) else max(gain, 0.0)

    # ------------------------------------------------------------------ words

    def _row(self, r, stage: str, limiters: list[_Limiter], held_by_rule, words: Words) -> dict:
        need = _need(r, words)
        if held_by_rule is None:
            limited = [_as_dict(c, words) for c in limiters]
            return _entry(r, stage, limited, _sentence(need, r.ratio, limiters, words))
        rule, top = held_by_rule
        if rule == "leximin":
            # leximin would have raised it: the plan's rounds stopped short (bench/NOTES.md)
            text = (
                f"{need} is at {pct(r.ratio)}: it could rise to {pct(top)} without lowering "
                "any other need; the planner stopped short of that (the solver's precision)."
            )
        else:
            text = (
                f"{need} is at {pct(r.ratio)}: the {rule} rule holds it there; it could rise "
                f"to {pct(top)} without lowering any other need."
            )
        held = {"kind": "rule", "where": rule, "used": r.ratio, "available": top, "gain": 0.0}
        return _entry(r, stage, [held], text)


RANK = {
    "stage": 0,
    "limit": 0,
    "mandate": 0,
    "labour": 1,
    "resource": 1,
    "stock": 1,
    "link": 2,
    "capacity": 2,
}


def _key(c: _Limiter) -> tuple[bool, int]:
    return (c.is_col, c.index)


def _impact(c: _Limiter) -> float:
    """The rise of the ratio were the constraint 10% larger (1 unit for one that is 0)."""
    return c.gain * max(abs(c.available), 10.0) * 0.1


def _as_dict(c: _Limiter, words: Words) -> dict:
    step, points = _step(c)
    return {
        "kind": c.kind,
        "where": c.where,
        "whose": words.place.get(c.owner, c.owner),
        "step": step,
        "points": points,
        "owner": c.owner,
        "used": float(c.used),
        "available": float(c.available),
        "unit": c.unit,
        "gain": float(c.gain),
        "dual": float(c.dual),
        "edit": c.edit,
    }


def _row_limiter(f: Formulation, words: Words, i: int, y: float, act: float) -> _Limiter | None:
    rows = f.rows
    kind = str(rows["kind"].iat[i])
    muni, item = str(rows["municipality"].iat[i]), str(rows["item"].iat[i])
    lo, up = f.lp.row_lower[i], f.lp.row_upper[i]
    where = str(f.describe_rows([i])[0]).removeprefix("mandate ")
    if kind == "balance":
        is_resource = words.kind.get(item) == "resource"
        if y >= 0 or not (lo < 0 or is_resource):
            return None  # a flow balance of a good with no stock: structural, not a limit
        res_kind = "resource" if is_resource else "stock"
        edit = _edit("endowment", {"municipality": muni, "item": item}, "quantity", -lo)
        return _Limiter(
            res_kind, where, muni, -act, -lo, y, i, False, True, edit, words.unit.get(item, "")
        )
    if kind == "mandate":
        return _mandate_limiter(f, words, i, y, act, where)
    if y <= 0:
        return None
    if kind == "labour":
        edit = _edit("municipality", {"id": muni}, "labour_hours", up)
        return _Limiter("labour", where, muni, act, up, y, i, False, False, edit, "h")
    if kind == "link":
        dest = str(rows["dest"].iat[i])
        edit = _edit("link", {"from": muni, "to": dest}, "capacity", up)
        return _Limiter("link", where, muni, act, up, y, i, False, False, edit)
    if kind == "limit":
        scope = str(rows["scope"].iat[i])
        edit = _edit("limit", {"item": item, "scope": scope}, "cap", up)
        return _Limiter(
            "limit", where, scope, act, up, y, i, False, False, edit, words.unit.get(item, "")
        )
    return None


def _mandate_limiter(f, words, i, y, act, where) -> _Limiter | None:
    rows = f.rows
    mk = str(rows["mandate"].iat[i])
    muni, item = str(rows["municipality"].iat[i]), str(rows["item"].iat[i])
    lo, up = f.lp.row_lower[i], f.lp.row_upper[i]
    src = int(rows["source_row"].iat[i])
    where_ids = {"municipality": muni, "kind": mk, "target": item}
    value = float(words.mandate_values[src]) if 0 <= src < len(words.mandate_values) else math.nan
    edit = _edit("mandate", where_ids, "value", value)
    if mk == "min_local_share":
        if y >= 0:
            return None
        return _Limiter(
            "mandate", where, muni, act, lo, y, i, False, True, edit, words.unit.get(item, "")
        )
    if y <= 0:
        return None
    unit = "h" if mk == "max_labour_share" else words.unit.get(item, "")
    return _Limiter("mandate", where, muni, act, up, y, i, False, False, edit, unit)


def _col_limiter(f: Formulation, words: Words, j: int, d: float, x: float) -> _Limiter:
    cols = f.cols
    muni, proc = str(cols["municipality"].iat[j]), str(cols["process"].iat[j])
    up = float(f.lp.col_upper[j])
    where = str(f.describe_cols([j])[0]).removeprefix("mandate ")
    if bool(cols["forbidden"].iat[j]):
        ids = {"municipality": muni, "kind": "forbid_process", "target": proc}
        edit = _edit("mandate", ids, "active", 1.0)
        return _Limiter("mandate", where, muni, x, up, d, j, True, False, edit, "units")
    edit = _edit("capacity", {"municipality": muni, "process": proc}, "max_level", up)
    return _Limiter("capacity", where, muni, x, up, d, j, True, False, edit, "units")


def _edit(kind: str, where: dict, field: str, value: float) -> dict:
    return {"kind": kind, "where": where, "field": field, "from": float(value)}


# --------------------------------------------------------------------------- sentences


def _phrase(c: _Limiter, words: Words) -> str:
    """What the constraint is and that it is used in full, in the scenario's words."""
    who = words.of(c.owner)
    w = c.edit["where"]
    if c.kind == "limit":
        return f"{who} {words.item.get(w['item'], w['item'])} cap ({words.qty(c.available, w['item'])}) is fully used"
    if c.kind == "labour":
        return f"{who} labour hours ({fmt(c.available)} h) are all in use"
    if c.kind == "capacity":
        return f"{who} {words.process.get(w['process'], w['process'])} runs at its capacity ({fmt(c.available)})"
    if c.kind == "link":
        return f"the link from {words.place.get(w['from'], w['from'])} to {words.place.get(w['to'], w['to'])} carries its most ({fmt(c.available)})"
    if c.kind == "stage":
        what = {
            "min_labour": "the least total labour",
            "min_transport": "the least transport",
            "fair_burden": "the fair spread of labour",
        }.get(c.where, c.where)
        return f"{what} ({fmt(c.available)} h) was settled in an earlier stage ({c.where})"
    if c.kind in ("resource", "stock"):
        stock = "stock of " if c.kind == "stock" else ""
        return f"{who} {stock}{words.item.get(w['item'], w['item'])} ({words.qty(c.available, w['item'])}) is all used"
    return _mandate_phrase(c, words, who, w)


def _mandate_phrase(c: _Limiter, words: Words, who: str, w: dict) -> str:
    item = words.item.get(w.get("target", ""), w.get("target", ""))
    k = w["kind"]
    if k == "max_export":
        return f"{who} mandate to export at most {words.qty(c.available, w['target'])} of {item} is reached"
    if k == "max_labour_share":
        share = pct(c.edit["from"]) if math.isfinite(c.edit["from"]) else "a share"
        return f"{who} mandate to give at most {share} of its labour hours ({fmt(c.available)} h) is reached"
    if k == "min_local_share":
        return f"{who} mandate to make at least {words.qty(c.available, w['target'])} of its {item} at home binds"
    return f"{who} ban on {words.process.get(w['target'], w['target'])} binds"


def _step(c: _Limiter) -> tuple[float, float]:
    """A round amount of the constraint worth about a point, and the points it gives."""
    amount = 10.0 ** round(math.log10(0.01 / c.gain)) if c.gain > 0 else 1.0
    if c.available >= 1:  # a step no larger than the constraint itself
        amount = min(amount, 10.0 ** math.floor(math.log10(c.available)))
    return amount, 100 * c.gain * amount


def _per(c: _Limiter, words: Words) -> str:
    """'each 100 t more would raise it by about 0.7 points'."""
    amount, points = _step(c)
    unit = f" {c.unit}" if c.unit and c.unit != "units" else ""
    if c.kind == "mandate" and c.edit["where"]["kind"] == "min_local_share":
        more = f"each {fmt(amount)}{unit} less required at home"
    elif c.kind == "mandate" and c.edit["field"] == "active":
        more = f"allowing {fmt(amount)} units of it"
    else:
        more = f"each {fmt(amount)}{unit} more"
    said = f"{points:.2g}"
    return f"{more} would raise it by about {said} {'point' if said == '1' else 'points'}"


def _sentence(need: str, ratio: float, limiters: list[_Limiter], words: Words) -> str:
    if not limiters:
        return (
            f"{need} is at {pct(ratio)}: raising it would lower needs that come first "
            f"(earlier tiers, or needs as short or shorter)."
        )
    first = f"{_phrase(limiters[0], words)}; {_per(limiters[0], words)}"
    also = ""
    if len(limiters) > 1:
        also = f"; also {_phrase(limiters[1], words)}"
        more = len(limiters) - 2
        also += f" (and {more} more in the details)" if more else ""
    return f"{need} is at {pct(ratio)}: {first}{also}."

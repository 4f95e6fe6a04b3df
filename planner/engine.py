"""The stage engine: lexicographic optimisation on one solver model, edited in place.

The formulation is loaded into the backend once. Each stage changes the
objective, adds the rows it needs (floor rows, holds) and tightens bounds;
the solver keeps its basis, so later solves warm-start.

Max-min stages use the *saturation method*: maximise a common floor ``t``
under ``w_j * r_j >= t`` for the needs still free; the needs whose floor rows
carry a non-zero dual (or that sit at their cap on the floor) cannot rise
above ``t*`` without lowering another: they are fixed at ``t*`` (a column
bound), their floor rows switched off, and the rest are raised again. One
round per distinct saturation level (plus a round for the rare degenerate
case where no dual separates them), never one per need.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

import solvers
from planner.formulation import Formulation
from planner.policy import Stage
from solvers import Result, Status

EPS = 1e-9  # feasibility slack added to every hold, in the held quantity's own scale
# Solvers reached through files (PuLP: CBC, GLPK) read numbers rounded to ~12 digits and
# apply looser tolerances; holds that tight made CBC call the next stage infeasible.
EPS_FILE = 1e-7
DUAL_TOL = 1e-9
REPAIR = 1e-7  # how far held lower bounds are loosened when holds turn a stage infeasible
# a reduced cost or dual above this (times the largest objective coefficient) fixes its
# column or row when a stage's optimum is held by complementary slackness
FACE_TOL = 1e-7

Progress = Callable[[str, int, float], None]


class StageFailed(Exception):
    """A stage could not be solved: infeasible, time limit or solver error."""

    def __init__(self, stage: Stage, result: Result):
        super().__init__(f"{stage.name}: {result.status} {result.message}")
        self.stage = stage
        self.result = result


@dataclass
class StageOutcome:
    """What one stage did: objective value, LP solves, seconds, and its binding rows."""

    stage: Stage
    value: float | None
    solves: int
    seconds: float
    iterations: int = 0
    binding: pd.DataFrame | None = None
    levels: list[float] = field(default_factory=list)


@dataclass
class EngineResult:
    """The outcome of a whole policy."""

    x: np.ndarray
    outcomes: list[StageOutcome]
    prices: np.ndarray | None  # balance-row duals of the min_labour stage (or None)
    status: Status
    failed: StageFailed | None = None
    load_seconds: float = 0.0


class Engine:
    """Runs a list of stages on one backend model."""

    def __init__(
        self,
        form: Formulation,
        solver: str = "highs",
        tolerance: float = 0.0,
        time_limit: float | None = None,
        progress: Progress | None = None,
        **options,
    ):
        self.form = form
        self.tolerance = float(tolerance)
        self.deadline = None if time_limit is None else time.perf_counter() + float(time_limit)
        self.progress = progress or (lambda stage, k, value: None)
        t0 = time.perf_counter()
        self.options = dict(options)
        self.rescues = 0
        self.backend = solvers.get(solver, **options)
        self.eps = EPS_FILE if self.backend.name == "pulp" else EPS
        self.has_duals = "duals" in self.backend.features
        self.backend.load(form.lp)
        self.load_seconds = time.perf_counter() - t0
        self.n = form.n
        self.col_lower = form.lp.col_lower.copy()
        self.col_upper = form.lp.col_upper.copy()
        self.last: Result | None = None
        self.prices: np.ndarray | None = None
        self.solves = 0
        self.iterations = 0
        self.polish_seconds = 0.0
        self.polish_iterations = 0

    # ------------------------------------------------------------------ plumbing

    def export_before(self, stage_name: str, path) -> None:
        """Write the programme to ``path`` (.mps or .lp) just before ``stage_name`` first solves."""
        self._export = (stage_name, path)

    def _solve(self, stage: Stage) -> Result:
        export = getattr(self, "_export", None)
        if export is not None and export[0] == stage.name:
            self.backend.write(export[1])
            self._export = None
            self.exported = export[1]
        limit = None
        if self.deadline is not None:
            limit = max(self.deadline - time.perf_counter(), 1e-3)
        res = self.backend.solve(time_limit=limit)
        if res.status == Status.ERROR:
            res = self._rescue(limit, res)
        if res.status == Status.INFEASIBLE and self.last is not None and self._relax_holds():
            res = self.backend.solve(time_limit=limit)
        self.solves += 1
        self.iterations += int(res.iterations or 0)
        if res.status != Status.OPTIMAL:
            raise StageFailed(stage, res)
        self.last = res
        return res

    def _relax_holds(self) -> bool:
        """Loosen the raised lower bounds of earlier holds by REPAIR (relative); up to 3 times.

        Each hold keeps the last solution feasible, but solutions are only feasible to
        the solver's tolerance, and many needs held at their levels to 1e-9 can add up
        to a programme that misses feasibility by about that much (seen: a generated
        30 x 60 scenario, tier 3, infeasible by 4e-10). Re-solved after this.
        """
        if getattr(self, "repaired", 0) >= 3:
            return False
        base = self.form.lp.col_lower
        cols = np.flatnonzero(self.col_lower > base)
        if len(cols) == 0:
            return False
        lo = self.col_lower[cols]
        new = np.maximum(base[cols], lo - REPAIR * np.maximum(1.0, np.abs(lo)))
        self._set_cols(cols, new, self.col_upper[cols])
        self.repaired = getattr(self, "repaired", 0) + 1
        return True

    def _rescue(self, limit, failed: Result) -> Result:
        """Solve afresh with interior point a programme that ended without a verdict.

        (HiGHS: "Unknown" on badly scaled stage programmes.) The programme as it stands
        goes into a fresh model; the engine continues on that model if it succeeds.
        """
        tries = [(self.backend.name, {**self.options, "method": "ipm"})]
        if self.backend.name == "highs":
            tries.append(("scipy", {}))  # linprog's own HiGHS set-up solved such cases
        for name, options in tries:
            fresh = solvers.get(name, **options)
            fresh.load(self.backend.lp)
            res = fresh.solve(time_limit=limit)
            if res.status == Status.OPTIMAL:
                self.backend = fresh
                self.rescues += 1
                return res
        return failed

    def _objective(self, c: np.ndarray, sense: str) -> None:
        self.backend.set_objective(c, sense)

    def _set_cols(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        if len(cols) == 0:
            return
        self.col_lower[cols] = lower
        self.col_upper[cols] = upper
        self.backend.set_col_bounds(cols, lower, upper)

    def _hold_linear(self, c: np.ndarray, value: float, sense: str) -> None:
        """Hold ``c x`` at its optimum ``value`` for the stages that follow.

        With tolerance 0 and duals, the optimal face itself is held, in place: by
        complementary slackness every optimal solution keeps each column with a
        non-zero reduced cost at its bound and each row with a non-zero dual at
        its active bound, so those columns and rows are fixed there (bounds only,
        no new row; the last solution stays feasible and the next solve starts
        from it). Otherwise ``c x >= value`` (max) or ``c x <= value`` (min) is
        added as a row, within the tolerance.
        """
        if self._hold_face(c):
            return
        nz = np.flatnonzero(c)
        if len(nz) == 0:
            return
        row = sp.csr_array((c[nz], (np.zeros(len(nz), int), nz)), shape=(1, self.n))
        slack = self.tolerance * abs(value) + self.eps * max(1.0, abs(value))
        if sense == "max":
            self.backend.add_rows(row, np.array([value - slack]), np.array([np.inf]))
        else:
            self.backend.add_rows(row, np.array([-np.inf]), np.array([value + slack]))

    def _hold_face(self, c: np.ndarray) -> bool:
        """Fix the optimal face of the last solve (see ``_hold_linear``); False if it cannot.

        ``c``: the objective just optimised (its scale sets the tolerance). The floor
        column ``t`` is never fixed (it is parked between stages).
        """
        res = self.last
        if self.tolerance > 0 or not self.has_duals or res is None:
            return False
        d, y = res.col_duals, res.row_duals
        if d is None or y is None or np.isnan(d).any() or np.isnan(y).any():
            return False
        n = self.n
        tol = FACE_TOL * max(1.0, float(np.abs(c).max(initial=0.0)))
        x = res.x[:n]
        cols = np.flatnonzero(np.abs(d[:n]) > tol)
        cols = cols[cols != self.form.t_col]
        lo, up = self.col_lower[cols], self.col_upper[cols]
        at = np.where(np.abs(x[cols] - lo) <= np.abs(x[cols] - up), lo, up)
        keep = np.isfinite(at) & (lo < up)
        self._set_cols(cols[keep], at[keep], at[keep])
        rows = np.flatnonzero(np.abs(y) > tol)
        if len(rows):
            lp = self.backend.lp
            rlo, rup = lp.row_lower[rows], lp.row_upper[rows]
            act = lp.A[rows] @ x
            at = np.where(np.abs(act - rlo) <= np.abs(act - rup), rlo, rup)
            keep = np.isfinite(at) & (rlo < rup)
            if keep.any():
                self.backend.set_row_bounds(rows[keep], at[keep], at[keep])
        self.face_fixed = getattr(self, "face_fixed", 0) + int(len(cols) + len(rows))
        return True

    def binding(self, stage: Stage, res: Result) -> pd.DataFrame:
        """Hard constraints of the scenario that hold with equality in ``res``."""
        f = self.form
        lp = f.lp
        act = lp.A @ res.x
        scale = 1.0 + np.abs(act)
        at_hi = np.isfinite(lp.row_upper) & (np.abs(act - lp.row_upper) <= 1e-7 * scale)
        at_lo = np.isfinite(lp.row_lower) & (np.abs(act - lp.row_lower) <= 1e-7 * scale)
        kinds = f.rows["kind"].to_numpy().copy()
        kinds[f.resource_rows] = "resource"
        hard = kinds != "balance"
        rsel = np.flatnonzero(hard & (at_hi | at_lo))
        duals = res.row_duals[: f.m] if res.row_duals is not None else np.full(f.m, np.nan)
        rows = pd.DataFrame(
            {
                "stage": stage.name,
                "kind": kinds[rsel],
                "where": f.describe_rows(rsel),
                "municipality": f.rows["municipality"].to_numpy()[rsel],
                "item": f.rows["item"].to_numpy()[rsel],
                "dual": duals[rsel],
            }
        )
        xs = f.col_index("x")
        ub = f.lp.col_upper[xs]
        xat = np.isfinite(ub) & (np.abs(res.x[xs] - ub) <= 1e-7 * (1.0 + np.abs(ub)))
        cs = xs[xat]
        cduals = res.col_duals[cs] if res.col_duals is not None else np.full(len(cs), np.nan)
        forb = f.cols["forbidden"].to_numpy()[cs]
        cols = pd.DataFrame(
            {
                "stage": stage.name,
                "kind": np.where(forb, "mandate", "capacity"),
                "where": f.describe_cols(cs),
                "municipality": f.cols["municipality"].to_numpy()[cs],
                "item": f.cols["process"].to_numpy()[cs],
                "dual": cduals,
            }
        )
        out = pd.concat([rows, cols], ignore_index=True)
        out["where"] = out["where"].str.replace(r"^mandate ", "", regex=True)
        return out

    # ------------------------------------------------------------------ stages

    def run(self, stages: list[Stage]) -> EngineResult:
        """Run every stage in order; stop at the first that fails."""
        outcomes: list[StageOutcome] = []
        failed = None
        for stage in stages:
            t0 = time.perf_counter()
            s0, it0 = self.solves, self.iterations
            self.progress(stage.name, 0, float("nan"))
            try:
                value, binding, levels = self._run_stage(stage)
            except StageFailed as exc:
                failed = exc
                outcomes.append(
                    StageOutcome(
                        stage,
                        None,
                        self.solves - s0,
                        time.perf_counter() - t0,
                        self.iterations - it0,
                    )
                )
                break
            outcomes.append(
                StageOutcome(
                    stage,
                    value,
                    self.solves - s0,
                    time.perf_counter() - t0,
                    self.iterations - it0,
                    binding,
                    levels,
                )
            )
            self.progress(stage.name, -1, value if value is not None else float("nan"))
        if failed is not None:
            status = failed.result.status
        else:
            status = Status.OPTIMAL
            self._polish(outcomes)
        x = self.last.x[: self.n] if self.last is not None else np.zeros(self.n)
        return EngineResult(x, outcomes, self.prices, status, failed, self.load_seconds)

    def _polish(self, outcomes: list[StageOutcome]) -> None:
        """Re-solve the final model at the backend's tight tolerance, if it has one.

        Stage solves run at the solver's default tolerance (fast and steady on badly
        scaled plans); the plan itself must meet every constraint to 1e-6 relative, so
        the last model, with every stage's holds, is solved once more from its own
        basis at the tight tolerance (counted in ``solves`` and ``iterations``, not in
        any stage's; its seconds are ``polish_seconds``). Kept only if optimal.
        """
        polish = getattr(self.backend, "polish", None)
        if polish is None or self.last is None or not outcomes:
            return
        t0 = time.perf_counter()
        limit = None if self.deadline is None else max(self.deadline - time.perf_counter(), 1e-3)
        res = polish(time_limit=limit)
        self.solves += 1
        self.iterations += int(res.iterations or 0)
        self.polish_seconds = time.perf_counter() - t0
        self.polish_iterations = int(res.iterations or 0)
        if res.status == Status.OPTIMAL:
            self.last = res

    def _run_stage(self, stage: Stage):
        f = self.form
        if hasattr(self.backend, "after_cap"):
            # HiGHS: a warm primal solve that runs out of iterations goes on with the
            # dual simplex in max-min rounds (their cold solves degenerate badly), and
            # is solved afresh after a new linear objective (a cold dual simplex took
            # min_labour of a 25k-column plan in 1.9 s where the continued warm solve
            # took 17 s); see bench/RESULTS.md
            linear = stage.kind in ("min_labour", "min_transport", "utilitarian", "full")
            self.backend.after_cap = "cold" if linear else "dual"
        if stage.kind in ("leximin", "equal_per_capita"):
            return self._maxmin_needs(stage)
        if stage.kind == "utilitarian":
            return self._utilitarian(stage)
        if stage.kind == "proportional":
            return self._proportional(stage)
        if stage.kind == "full":
            return self._full(stage)
        if stage.kind == "min_labour":
            c = f.labour_total
            self._objective(c, "min")
            res = self._solve(stage)
            value = float(c @ res.x[: self.n])
            self.prices = res.row_duals[: f.m].copy() if res.row_duals is not None else None
            self._note_forced(res)
            self._hold_linear(c, value, "min")
            return value, self.binding(stage, res), [value]
        if stage.kind == "min_transport":
            c = f.transport_labour
            self._objective(c, "min")
            res = self._solve(stage)
            value = float(c @ res.x[: self.n])
            self._hold_linear(c, value, "min")
            return value, self.binding(stage, res), [value]
        if stage.kind == "fair_burden":
            return self._fair_burden(stage)
        raise ValueError(f"unknown stage kind {stage.kind}")

    def _tier_cols(self, tier: int | None) -> np.ndarray:
        f = self.form
        r = f.col_index("r")
        if tier is None:
            return r
        return r[f.cols["tier"].to_numpy()[r] == tier]

    def _floor_rows(
        self, cols: np.ndarray, weights: np.ndarray, sense: str, equality: bool = False
    ):
        """Add rows ``w_j v_j - t >= 0`` (max) or ``<= 0`` (min), one per column."""
        k = len(cols)
        t = self.form.t_col
        data = np.concatenate([weights, -np.ones(k)])
        rr = np.concatenate([np.arange(k), np.arange(k)])
        cc = np.concatenate([cols, np.full(k, t)])
        A = sp.csr_array((data, (rr, cc)), shape=(k, self.n))
        if equality:
            lo, hi = np.zeros(k), np.zeros(k)
        elif sense == "max":
            lo, hi = np.zeros(k), np.full(k, np.inf)
        else:
            lo, hi = np.full(k, -np.inf), np.zeros(k)
        return self.backend.add_rows(A, lo, hi)

    def _t_bounds(self, lower: float, upper: float) -> None:
        """Bounds of the floor column ``t``.

        Between stages ``t`` is parked at 0 (its floor rows are all switched off by
        then), so the floor rows the next max-min stage adds, ``w_j v_j - t >= 0``,
        hold at the last solution and the warm solve starts feasible.
        """
        t = np.array([self.form.t_col])
        self._set_cols(t, np.array([lower]), np.array([upper]))

    def _t_objective(self, sense: str) -> None:
        c = np.zeros(self.n)
        c[self.form.t_col] = 1.0
        self._objective(c, sense)

    def _maxmin_needs(self, stage: Stage):
        """Leximin of ``w_j r_j`` over the tier's needs by the saturation method."""
        cols = self._tier_cols(stage.tier)
        if len(cols) == 0:
            return None, None, []
        w = self._weights(cols) if stage.kind == "equal_per_capita" else np.ones(len(cols))
        rows = self._floor_rows(cols, w, "max")
        self._t_bounds(0.0, np.inf)
        self._t_objective("max")
        free = np.ones(len(cols), bool)
        levels: list[float] = []
        first_binding = None
        while free.any():
            res = self._solve(stage)
            if first_binding is None:
                first_binding = self.binding(stage, res)
            t = float(res.x[self.form.t_col])
            r = res.x[cols]
            y = res.row_duals[rows] if res.row_duals is not None else np.zeros(len(rows))
            at_floor = w * r <= t + 1e-7 * max(1.0, t)
            at_cap = r >= self.col_upper[cols] - 1e-9
            if self.has_duals:
                blocked = free & at_floor & ((np.abs(y) > DUAL_TOL) | at_cap)
            else:
                blocked = (
                    free
                    & at_floor
                    & (
                        at_cap
                        | self._cannot_move(stage, cols, w, free & at_floor & ~at_cap, t, "max")
                    )
                )
            if not blocked.any():
                # degenerate duals: nothing separated; fix every need sitting on the floor
                blocked = free & at_floor
            if not blocked.any():  # pragma: no cover - numerical safety net
                blocked = free.copy()
            fix = np.flatnonzero(blocked)
            # held at the level, or at the need's own value where the solution (feasible
            # to the solver's tolerance) has it a hair below the floor: the last point
            # stays feasible and the warm start with it
            level = np.minimum(t, w[fix] * r[fix])
            lower = np.maximum(
                0.0, (level * (1 - self.tolerance) - self.eps * max(1.0, t)) / w[fix]
            )
            lower = np.minimum(lower, self.col_upper[cols[fix]])
            self._set_cols(cols[fix], lower, self.col_upper[cols[fix]])
            self.backend.set_row_bounds(
                rows[fix], np.full(len(fix), -np.inf), np.full(len(fix), np.inf)
            )
            free &= ~blocked
            if not levels or abs(t - levels[-1]) > 1e-9 * max(1.0, t):
                levels.append(t)
            self.progress(stage.name, len(levels), t)
        self._t_bounds(0.0, 0.0)
        self._objective(np.zeros(self.n), "min")
        return (levels[0] if levels else None), first_binding, levels

    def _cannot_move(
        self,
        stage,
        target,
        w,
        cand: np.ndarray,
        level: float,
        sense: str,
        t_fix: float | None = None,
        t_sense: str | None = None,
        t_upper: float = np.inf,
    ) -> np.ndarray:
        """Saturation test for backends without duals: one LP per candidate.

        With the floor held at ``level`` (``t`` fixed, at ``t_fix`` when the floor
        column measures it otherwise), candidate j is blocked when its own value
        cannot rise above (``max``) or fall below (``min``) the level. ``target`` is
        either the floor columns (weights ``w``) or a matrix of rows. Afterwards ``t``
        gets bounds [0, ``t_upper``] and the objective ``t_sense`` (default ``sense``) back.
        """
        t = self.form.t_col
        out = np.zeros(len(cand), bool)
        tv = level if t_fix is None else t_fix
        self.backend.set_col_bounds(np.array([t]), np.array([tv]), np.array([tv]))
        try:
            for j in np.flatnonzero(cand):
                if not sp.issparse(target):  # floor columns with weights w
                    c = np.zeros(self.n)
                    c[target[j]] = w[j]
                else:  # rows of a matrix, each divided by its scale w
                    c = np.asarray(sp.csr_array(target[[j]]).toarray()).ravel() / w[j]
                self._objective(c, sense)
                res = self._solve(stage)
                v = float(c @ res.x[: self.n])
                gap = 1e-7 * max(1.0, abs(level))
                out[j] = v <= level + gap if sense == "max" else v >= level - gap
        finally:
            self.backend.set_col_bounds(np.array([t]), np.array([0.0]), np.array([t_upper]))
            self._t_objective(t_sense or sense)
        return out

    def _weights(self, cols: np.ndarray) -> np.ndarray:
        """equal_per_capita: delivery per inhabitant relative to the item's mean need per inhabitant."""
        f = self.form
        nd = f.needs.iloc[f.cols["need"].to_numpy()[cols]]
        pop = (
            f.municipalities.set_index("id")["population"]
            .reindex(nd["municipality"])
            .to_numpy(float)
        )
        pop = np.maximum(pop, 1.0)
        need = nd["need"].to_numpy(float)
        frame = pd.DataFrame({"item": nd["item"].to_numpy(), "need": need, "pop": pop})
        tot = frame.groupby("item")[["need", "pop"]].transform("sum")
        mean_pc = tot["need"].to_numpy() / tot["pop"].to_numpy()
        return (need / pop) / mean_pc

    def _utilitarian(self, stage: Stage):
        cols = self._tier_cols(stage.tier)
        if len(cols) == 0:
            return None, None, []
        c = np.zeros(self.n)
        c[cols] = 1.0
        self._objective(c, "max")
        res = self._solve(stage)
        value = float(res.x[cols].sum())
        self._hold_linear(c, value, "max")
        return value, self.binding(stage, res), [value]

    def _proportional(self, stage: Stage):
        cols = self._tier_cols(stage.tier)
        if len(cols) == 0:
            return None, None, []
        rows = self._floor_rows(cols, np.ones(len(cols)), "max", equality=True)
        self._t_bounds(0.0, np.inf)
        self._t_objective("max")
        res = self._solve(stage)
        t = float(res.x[self.form.t_col])
        lo = np.full(len(cols), max(0.0, t * (1 - self.tolerance) - self.eps * max(1.0, t)))
        self._set_cols(cols, lo, np.full(len(cols), min(1.0, t + self.eps)))
        self.backend.set_row_bounds(rows, np.full(len(rows), -np.inf), np.full(len(rows), np.inf))
        self._t_bounds(0.0, 0.0)
        self._objective(np.zeros(self.n), "min")
        return t, self.binding(stage, res), [t]

    def _full(self, stage: Stage):
        cols = self._tier_cols(None)
        self._set_cols(cols, np.ones(len(cols)), np.ones(len(cols)))
        self._objective(np.zeros(self.n), "min")
        res = self._solve(stage)
        return 1.0, self.binding(stage, res), [1.0]

    def _max_share(self) -> float:
        """The highest labour share in the current solution."""
        f = self.form
        L = f.municipalities["labour_hours"].to_numpy(float)
        if self.last is None or not (L > 0).any():
            return 0.0
        used = np.asarray(f.labour @ self.last.x[: self.n]).ravel()
        return float((used[L > 0] / L[L > 0]).max())

    def _note_forced(self, res: Result) -> None:
        """Columns every least-labour plan shares: non-zero reduced cost in ``min_labour``.

        By complementary slackness such a column sits at the same bound in every
        optimal solution of that stage, and later stages only add restrictions. A
        municipality whose labour columns are all forced has a fixed labour share, so
        ``fair_burden`` need not spend a saturation round on it (leximin is separable:
        agents whose values cannot change do not alter the order among the rest).
        Only used with tolerance 0 (a looser hold lets those columns move).
        """
        if not self.has_duals or self.tolerance > 0 or res.col_duals is None:
            self.forced = None
            return
        rc = np.abs(np.nan_to_num(res.col_duals[: self.n]))
        fixed = self.col_lower >= self.col_upper
        self.forced = (rc > 1e-7) | fixed

    def _labour_duplicates(self, muni: np.ndarray, lab_row: np.ndarray):
        """Rows whose expression is a municipality's labour, with the municipality's position.

        Its labour row and its ``max_labour_share`` mandates: returns (row indices,
        position in ``muni`` of each).
        """
        f = self.form
        pos = pd.Index(f.municipalities["id"]).get_indexer(f.rows["municipality"].to_numpy())
        where = np.full(len(f.municipalities), -1)
        where[muni] = np.arange(len(muni))
        man = f.row_index("mandate")
        man = man[f.rows["mandate"].to_numpy()[man] == "max_labour_share"]
        rows = np.concatenate([lab_row[lab_row >= 0], man]).astype(np.int64)
        man_of = np.where(pos[man] >= 0, where[np.maximum(pos[man], 0)], -1)
        of = np.concatenate([np.flatnonzero(lab_row >= 0), man_of]).astype(np.int64)
        keep = of >= 0
        return rows[keep], of[keep]

    def _fair_burden(self, stage: Stage):
        """Leximin of labour shares, most burdened first: min-max by saturation."""
        f = self.form
        L = f.municipalities["labour_hours"].to_numpy(float)
        muni = np.flatnonzero((L > 0) & (np.diff(f.labour.indptr) > 0))
        forced = getattr(self, "forced", None)
        if forced is not None and len(muni):
            pattern = (f.labour[muni] != 0).astype(float)
            movable = np.asarray(pattern @ (~forced).astype(float)).ravel() > 0
            muni = muni[movable]
        # a municipality whose labour row an earlier hold fixed (lower = upper: the
        # min_labour optimum made it binding) has a fixed share as well
        lab_rows = f.row_index("labour")
        M_ids = pd.Index(f.municipalities["id"])
        lab_muni = M_ids.get_indexer(f.rows["municipality"].to_numpy()[lab_rows])
        row_of = np.full(len(L), -1)
        row_of[lab_muni] = lab_rows
        cur = self.backend.lp  # the rows' bounds as earlier stages left them
        if len(muni):
            r = row_of[muni]
            fixed_row = (r >= 0) & (
                cur.row_lower[np.maximum(r, 0)] >= cur.row_upper[np.maximum(r, 0)]
            )
            muni = muni[~fixed_row]
        if len(muni) == 0:
            return self._max_share(), None, []
        Lab = f.labour[muni]
        k = len(muni)
        t = f.t_col
        Lm = L[muni]
        # The floor t is the spare share 1 - u: rows  sum(labour) + L_m t <= L_m, maximise
        # t. Unscaled (dividing by L_m would make entries like 0.05 h / 3.3e7 h = 1.5e-9,
        # which HiGHS treats as zero: status "unknown" seen), and t = 0, where the last
        # stage left it, satisfies every row (labour <= hours), so the warm solve starts
        # feasible.
        A = Lab + sp.csr_array((Lm, (np.arange(k), np.full(k, t))), shape=(k, self.n))
        rows = self.backend.add_rows(A, np.full(k, -np.inf), Lm)
        self._t_bounds(0.0, 1.0)
        self._t_objective("max")
        # a saturated municipality is held in place on its labour row: used <= hold * L_m
        hold_row = row_of[muni]
        # rows that are positive multiples of a municipality's floor row's labour: its
        # labour row and its max_labour_share mandates. Where one is active at the level
        # it duplicates the floor row, and the dual may sit on either (seen: every
        # municipality whose labour is used in full, at level 1, took a round of its own)
        dup_rows, dup_of = self._labour_duplicates(muni, hold_row)
        hold_lo = np.where(hold_row >= 0, cur.row_lower[np.maximum(hold_row, 0)], -np.inf)
        hold_up = np.where(hold_row >= 0, cur.row_upper[np.maximum(hold_row, 0)], np.inf)
        free = np.ones(k, bool)
        levels: list[float] = []
        first_binding = None
        while free.any():
            res = self._solve(stage)
            if first_binding is None:
                first_binding = self.binding(stage, res)
            u = 1.0 - float(res.x[t])
            share = np.asarray(Lab @ res.x[: self.n]).ravel() / Lm
            y = res.row_duals[rows] if res.row_duals is not None else np.zeros(k)
            on_top = share >= u - 1e-7 * max(1.0, u)
            if self.has_duals:
                # by complementary slackness a row with a non-zero dual is active in every
                # optimum of this round: the floor row, or a row duplicating it
                yd = np.zeros(k)
                if len(dup_rows) and res.row_duals is not None:
                    np.add.at(yd, dup_of, np.abs(res.row_duals[dup_rows]))
                blocked = free & on_top & ((np.abs(y) > DUAL_TOL) | (yd > DUAL_TOL) | (u <= 1e-12))
            else:
                cand = free & on_top
                moves = self._cannot_move(
                    stage, Lab, Lm, cand, u, "min", t_fix=1.0 - u, t_sense="max", t_upper=1.0
                )
                blocked = free & on_top & ((u <= 1e-12) | moves)
            if not blocked.any():
                blocked = free & on_top
            if not blocked.any():  # pragma: no cover
                blocked = free.copy()
            fix = np.flatnonzero(blocked)
            hold = u * (1 + self.tolerance + self.eps)  # relative: shares are compared as such
            inplace = hold_row[fix] >= 0
            if inplace.any():
                j = fix[inplace]
                hold_up[j] = np.maximum(hold_lo[j], np.minimum(hold_up[j], hold * Lm[j]))
                self.backend.set_row_bounds(hold_row[j], hold_lo[j], hold_up[j])
            if (~inplace).any():
                out = fix[~inplace]
                self.backend.add_rows(Lab[out], np.full(len(out), -np.inf), hold * Lm[out])
            self.backend.set_row_bounds(
                rows[fix], np.full(len(fix), -np.inf), np.full(len(fix), np.inf)
            )
            free &= ~blocked
            if not levels or abs(u - levels[-1]) > 1e-9 * max(1.0, u):
                levels.append(u)
            self.progress(stage.name, len(levels), u)
        self._t_bounds(0.0, 0.0)
        self._objective(np.zeros(self.n), "min")
        return self._max_share(), first_binding, levels

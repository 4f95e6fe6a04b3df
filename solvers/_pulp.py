"""PuLP 3.3: LP/MPS export and the solvers PuLP drives (CBC, GLPK, HiGHS, ...).

The PuLP problem is built once from the arrays, one ``LpAffineExpression`` per row
from the row's CSR slice (PuLP offers no bulk constructor).  A row
``lo <= a x <= up`` becomes one equality constraint (lo == up) or one constraint per
finite side; a free row none.  Edits change the PuLP objects in place; an edit that
changes which sides of a row are finite marks the problem for a rebuild at the next
solve.  Measured with PuLP 3.3.2 (see tests/test_solvers.py):

* CBC (``PULP_CBC_CMD``, ``COIN_CMD``) reports ``pi``/``dj`` in the problem's own
  sense, as our convention wants;
* PuLP's ``HiGHS`` API reports them, for a max problem, with the opposite sign
  (they belong to ``min -c x``), so they are negated here;
* ``GLPK_CMD`` reports no duals at all (``pi`` and ``dj`` stay None): row and column
  duals are NaN and the instance's ``features`` lacks "duals"; its time limit is
  whole seconds (``--tmlim``), so it is rounded up;
* stopped by a time limit, CBC and HiGHS say "Optimal" with ``sol_status`` 2 and an
  unusable point, GLPK says "Undefined": all become ``TIME_LIMIT`` without x;
* GLPK's presolver ends infeasible and unbounded problems alike as "Undefined"
  (``--nopresol`` trips an assertion in PuLP's reader on unbounded ones), so an
  "Undefined" not explained by the time limit is settled by solving the feasibility
  problem (objective 0): feasible means unbounded;
* glpsol cannot read an LP file without rows, so such a problem gets a void row.

``method`` is ignored (PuLP has no such switch); ``threads`` goes to CBC and HiGHS.
"""

from __future__ import annotations

import functools
import math
import time

import numpy as np

from solvers._base import COMMON_OPTIONS, Backend, LinearProgram, Result, Status, file_names

# COIN_CMD first: PuLP 3.3 deprecates its bundled PULP_CBC_CMD
DEFAULT_ORDER = ("COIN_CMD", "PULP_CBC_CMD", "GLPK_CMD", "HiGHS")
_NO_DUALS = frozenset({"GLPK_CMD"})
_MAX_DUAL_SIGN = {"HiGHS": -1.0}
_THREADS = frozenset({"PULP_CBC_CMD", "COIN_CMD", "HiGHS"})


@functools.cache
def pulp_solvers() -> tuple[str, ...]:
    """Names of the PuLP solvers that run here (probed once)."""
    import pulp

    return tuple(pulp.listSolvers(onlyAvailable=True))


def _bound(v: float) -> float | None:
    return v if math.isfinite(v) else None


class PulpBackend(Backend):
    """PuLP with a solver named by the ``pulp_solver`` option (default: CBC, then GLPK).

    The default is the first of ``DEFAULT_ORDER`` that runs here: ``COIN_CMD`` (a cbc
    on PATH), PuLP's bundled CBC, ``GLPK_CMD``, PuLP's ``HiGHS``.
    """

    name = "pulp"
    # solvers reached through files read numbers rounded to ~12 digits and apply looser
    # tolerances; holds at 1e-9 made CBC call the next stage infeasible
    hold_slack = 1e-7
    features = frozenset({"edit", "duals", "time_limit", "write_mps", "write_lp"})
    option_names = COMMON_OPTIONS | {"pulp_solver"}

    @classmethod
    def _probe(cls) -> bool:
        return bool(pulp_solvers())

    def __init__(self, **options):
        """See :class:`Backend`; ``pulp_solver`` names a PuLP solver ("GLPK_CMD", ...)."""
        super().__init__(**options)
        import pulp

        here = pulp_solvers()
        name = options.get("pulp_solver") or next((s for s in DEFAULT_ORDER if s in here), None)
        if name not in pulp.listSolvers():
            raise ValueError(
                f"unknown PuLP solver {name!r}; valid: {', '.join(pulp.listSolvers())}"
            )
        if name not in here:
            raise RuntimeError(f"PuLP solver {name} is not available here; available: {here}")
        self.solver_name = name
        if name in _NO_DUALS:
            self.features = type(self).features - {"duals"}
        self._prob = None

    # -- building -----------------------------------------------------------------
    def _load(self, lp: LinearProgram) -> None:
        import pulp

        self._prob = pulp.LpProblem("commune", pulp.LpMinimize)
        self._one = None
        self._vars = [
            self._prob.add_variable(nm, _bound(lo), _bound(up))
            for nm, lo, up in zip(
                file_names(lp.col_names, lp.num_cols, "x"),
                lp.col_lower.tolist(),
                lp.col_upper.tolist(),
                strict=True,
            )
        ]
        self._set_objective(lp.c, lp.sense, lp.offset)
        self._rows: list[tuple] = []  # per row: (lower constraint, upper constraint)
        self._used: set[str] = set()
        self._dirty = False
        self._add_rows(lp.A, lp.row_lower, lp.row_upper, lp.row_names)

    def _name(self, i: int, name: str | None) -> str:
        """A constraint name not used yet, also with the ``_lo``/``_up`` suffixes."""
        for nm in (
            file_names([name], 1, "r")[0] if name else None,
            f"r{i}",
            f"r{i}_{len(self._used)}",
        ):
            if nm and not {nm, nm + "_lo", nm + "_up"} & self._used:
                self._used |= {nm, nm + "_lo", nm + "_up"}
                return nm
        raise RuntimeError("no free constraint name")  # pragma: no cover

    def _add_rows(self, R, lower, upper, names) -> None:
        import pulp

        V, add = self._vars, self._prob.addConstraint
        starts, idx, val = R.indptr.tolist(), R.indices.tolist(), R.data.tolist()
        m0 = len(self._rows)
        for i, (s, e, lo, up) in enumerate(
            zip(starts[:-1], starts[1:], lower.tolist(), upper.tolist(), strict=True)
        ):
            expr = pulp.LpAffineExpression(zip(map(V.__getitem__, idx[s:e]), val[s:e], strict=True))
            nm = self._name(m0 + i, names[i] if names else None)
            if lo == up:
                con = pulp.LpConstraint(expr, pulp.LpConstraintEQ, nm, lo)
                add(con)
                self._rows.append((con, con))
                continue
            both = math.isfinite(lo) and math.isfinite(up)
            cl = cu = None
            if math.isfinite(lo):
                add(cl := pulp.LpConstraint(expr, pulp.LpConstraintGE, nm + "_lo" * both, lo))
            if math.isfinite(up):
                add(cu := pulp.LpConstraint(expr, pulp.LpConstraintLE, nm + "_up" * both, up))
            self._rows.append((cl, cu))

    # -- edits ----------------------------------------------------------------------
    def _set_objective(self, c, sense, offset) -> None:
        import pulp

        objective = pulp.LpAffineExpression(
            zip(self._vars, c.tolist(), strict=True), constant=offset
        )
        if self._one is not None:  # a column PuLP knows must appear somewhere (see _write)
            objective[self._one] = 0.0
        self._prob.setObjective(objective)
        self._prob.sense = pulp.LpMaximize if sense == "max" else pulp.LpMinimize

    def _set_row_bounds(self, rows, lower, upper) -> None:
        for i, lo, up in zip(rows.tolist(), lower.tolist(), upper.tolist(), strict=True):
            cl, cu = self._rows[i]
            old = "eq" if cl is cu and cl is not None else (cl is not None, cu is not None)
            if old != ("eq" if lo == up else (math.isfinite(lo), math.isfinite(up))):
                self._dirty = True  # the row changes shape: rebuild before the next use
                continue
            if cl is not None:
                cl.constant = -lo
            if cu is not None and cu is not cl:
                cu.constant = -up

    def _set_col_bounds(self, cols, lower, upper) -> None:
        for j, lo, up in zip(cols.tolist(), lower.tolist(), upper.tolist(), strict=True):
            self._vars[j].lowBound, self._vars[j].upBound = _bound(lo), _bound(up)

    def _fresh(self):
        if self._dirty:
            self._load(self.lp)
        return self._prob

    # -- solving ----------------------------------------------------------------------
    def _solver(self, time_limit):
        import pulp

        kw = {"msg": self.verbose}
        if time_limit is not None:
            kw["timeLimit"] = (
                math.ceil(time_limit) if self.solver_name == "GLPK_CMD" else time_limit
            )
        if self.threads and self.solver_name in _THREADS:
            kw["threads"] = int(self.threads)
        if self.solver_name == "HiGHS":
            from solvers._highs import new_highs

            new_highs()  # swallows HiGHS's once-per-process banner
        return pulp.getSolver(self.solver_name, **kw)

    def _run(self, prob, time_limit) -> tuple[int, int, float]:
        """Solve; PuLP's (status, sol_status) and the seconds taken."""
        if not prob.get_constraint_by_name("no_rows") and not any(c for r in self._rows for c in r):
            import pulp  # glpsol cannot read an LP file without rows: give it a void one

            void = pulp.LpAffineExpression([(self._vars[0], 0.0)] if self._vars else [])
            prob.addConstraint(pulp.LpConstraint(void, pulp.LpConstraintLE, "no_rows", 1.0))
        start = time.perf_counter()
        prob.solve(self._solver(time_limit))
        return prob.status, prob.sol_status, time.perf_counter() - start

    def _classify(self, prob) -> Status:
        """Infeasible or unbounded, when the solver said only "undefined" (GLPK's presolver).

        Solves the feasibility problem (objective 0): feasible means unbounded.
        """
        import pulp

        objective = prob.objective
        prob.setObjective(pulp.LpAffineExpression([(v, 0.0) for v in objective]))
        try:
            st, _, _ = self._run(prob, None)
        finally:
            prob.setObjective(objective)
        return {1: Status.UNBOUNDED, -1: Status.INFEASIBLE, -3: Status.INFEASIBLE}.get(
            st, Status.ERROR
        )

    def _solve(self, time_limit, method) -> Result:
        prob = self._fresh()
        m, n = self._shape()
        try:
            st, ss, seconds = self._run(prob, time_limit)
            msg = f"{self.solver_name}: status {st}, sol_status {ss}"
            if st == 1 and ss == 1:
                status = Status.OPTIMAL
            elif st in (-1, -2):
                status = Status.INFEASIBLE if st == -1 else Status.UNBOUNDED
            elif time_limit is not None and (ss == 2 or seconds >= 0.9 * time_limit):
                status = Status.TIME_LIMIT  # CBC, HiGHS: "optimal" with sol_status 2
            elif st in (0, -3):
                status = self._classify(prob)
            else:
                status = Status.ERROR
        except Exception as exc:  # noqa: BLE001 - a solver failure is a result, not a crash
            return Result.empty(Status.ERROR, n, m, f"{self.solver_name}: {exc}")
        if status is not Status.OPTIMAL:
            return Result.empty(status, n, m, msg)
        nan = float("nan")
        x = np.array([nan if v.varValue is None else v.varValue for v in self._vars])
        sign = _MAX_DUAL_SIGN.get(self.solver_name, 1.0) if self._mirror.sense == "max" else 1.0
        if "duals" in self.features:
            rd = np.array([self._row_dual(cl, cu) for cl, cu in self._rows]) * sign
            cd = np.array([nan if v.dj is None else v.dj for v in self._vars]) * sign
        else:
            rd, cd = np.full(m, nan), np.full(n, nan)
        obj = float(self._mirror.c @ x + self._mirror.offset)
        return Result(status, obj, x, rd, cd, message=msg)

    @staticmethod
    def _row_dual(cl, cu) -> float:
        pis = [c.pi for c in {id(c): c for c in (cl, cu) if c is not None}.values()]
        if any(p is None for p in pis):
            return float("nan")
        return float(sum(pis))

    def _write(self, path, fmt) -> None:
        """Write with PuLP's writers.

        PuLP drops the objective's constant from both formats, so it is carried on a
        column fixed at 1.  That column stays in the problem with cost 0 afterwards:
        PuLP 3.3 writes every variable it has seen into BOUNDS but only those in the
        objective or a row into COLUMNS, which CBC rejects.
        """
        import pulp

        prob = self._fresh()
        objective = prob.objective
        if self._mirror.offset:
            if self._one is None:
                self._one = prob.add_variable("objective_offset", 1, 1)
                objective[self._one] = 0.0
            shifted = pulp.LpAffineExpression(objective)
            shifted[self._one], shifted.constant = self._mirror.offset, 0.0
            prob.setObjective(shifted)
        try:
            if fmt == "mps":
                prob.writeMPS(str(path), with_objsense=True)
            else:
                prob.writeLP(str(path))
        finally:
            prob.setObjective(objective)

"""scipy.optimize.linprog (method "highs"): a dependency-light second opinion.

Edits only update the stored programme; every solve starts from scratch.  Rows
``lo <= a x <= up`` become ``A_eq`` rows (lo == up), ``a x <= up`` rows and
``-a x <= -lo`` rows of ``A_ub``.  linprog minimises, so a max problem is passed as
``min -c x`` and its marginals (d objective / d right-hand side) are mapped back:

    row_dual = s * (marg[<= row] - marg[>= row as -a x <= -lo] + marg[eq row])
    col_dual = s * (lower.marginals + upper.marginals),   s = +1 (min) or -1 (max)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from solvers._base import Backend, LinearProgram, Result, Status

_LINPROG = {"choose": "highs", "simplex": "highs-ds", "ipm": "highs-ipm"}
_STATUS = {0: Status.OPTIMAL, 1: Status.TIME_LIMIT, 2: Status.INFEASIBLE, 3: Status.UNBOUNDED}


class ScipyBackend(Backend):
    """scipy's linprog; duals from its marginals.  ``threads`` is ignored."""

    name = "scipy"
    features = frozenset({"duals", "time_limit"})

    @classmethod
    def _probe(cls) -> bool:
        from scipy.optimize import linprog  # noqa: F401

        return True

    def _load(self, lp: LinearProgram) -> None:
        pass  # the base class keeps the programme; linprog reads it at each solve

    def _solve(self, time_limit, method) -> Result:
        from scipy.optimize import linprog

        lp = self.lp
        m, n = lp.num_rows, lp.num_cols
        if (lp.row_lower > lp.row_upper).any() or (lp.col_lower > lp.col_upper).any():
            return Result.empty(Status.INFEASIBLE, n, m, "a lower bound exceeds its upper bound")
        lo, up = lp.row_lower, lp.row_upper
        eq = lo == up
        le = np.isfinite(up) & ~eq
        ge = np.isfinite(lo) & ~eq
        A_ub = sp.vstack([lp.A[le], -lp.A[ge]], format="csr")
        b_ub = np.concatenate([up[le], -lo[ge]])
        s = 1.0 if lp.sense == "min" else -1.0
        options = {"disp": self.verbose}
        if time_limit is not None:
            options["time_limit"] = time_limit
        args = dict(
            A_ub=A_ub if A_ub.shape[0] else None,
            b_ub=b_ub if A_ub.shape[0] else None,
            A_eq=lp.A[eq] if eq.any() else None,
            b_eq=up[eq] if eq.any() else None,
            bounds=np.column_stack([lp.col_lower, lp.col_upper]),
            method=_LINPROG[method],
        )
        res = linprog(s * lp.c, options=options, **args)
        if _STATUS.get(res.status) is Status.INFEASIBLE:
            # presolve has called feasible planning programmes infeasible (the valley's
            # fair_burden stage, scaled); without it the verdict is the solver's own
            res = linprog(s * lp.c, options={**options, "presolve": False}, **args)
        status = _STATUS.get(res.status, Status.ERROR)
        extra = {"iterations": int(getattr(res, "nit", 0) or 0), "message": str(res.message)}
        if status is not Status.OPTIMAL:
            return Result.empty(status, n, m, **extra)
        rd = np.zeros(m)
        k = int(le.sum())
        if k or ge.any():
            marg = res.ineqlin.marginals
            rd[le] += marg[:k]
            rd[ge] -= marg[k:]
        if eq.any():
            rd[eq] += res.eqlin.marginals
        cd = res.lower.marginals + res.upper.marginals
        x = np.asarray(res.x, dtype=np.float64)
        return Result(status, lp.objective_value(x), x, s * rd, s * cd, **extra)

"""The HiGHS backend over a pool of columns kept across solves (solvers.get("highs-kept")).

Its HiGHS model holds only a pool of the programme's columns; every solve prices the
others exactly. So each solve must give the whole programme's optimum (the plain HiGHS
backend's objective, to 1e-7 relative), through every kind of edit the planner makes:
bounds on columns outside the pool, rows over them, new objectives.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import models
import planner
import solvers
from solvers import LinearProgram, Status


def _lp(seed: int, m: int = 25, n: int = 200) -> LinearProgram:
    """A feasible, bounded LP with many columns (rows around a known point)."""
    rng = np.random.default_rng(seed)
    A = sp.random_array((m, n), density=0.12, rng=rng, format="csr")
    A.data = rng.uniform(-1, 2, A.nnz)
    x0 = rng.uniform(0, 1, n) * (rng.uniform(size=n) < 0.3)
    ax = A @ x0
    lo = ax - rng.uniform(0, 1, m)
    up = ax + rng.uniform(0, 1, m)
    col_lo = np.zeros(n)
    col_lo[:3] = -1.0
    return LinearProgram(rng.normal(size=n), A, lo, up, col_lo, rng.uniform(1, 3, n))


class Pair:
    """The same edits on the plain backend and on the kept pool."""

    def __init__(self, lp: LinearProgram):
        self.whole, self.kept = solvers.get("highs"), solvers.get("highs-kept")
        for be in (self.whole, self.kept):
            be.load(lp)
        self.kept.set_poolable(np.arange(3, lp.num_cols))

    def __getattr__(self, name):
        def both(*args, **kw):
            getattr(self.whole, name)(*args, **kw)
            getattr(self.kept, name)(*args, **kw)

        return both

    def solve(self):
        a, b = self.whole.solve(), self.kept.solve()
        assert a.status is b.status is Status.OPTIMAL
        assert b.objective == pytest.approx(a.objective, rel=1e-7, abs=1e-9)
        lp = self.kept.lp
        x = b.x
        assert x.size == lp.num_cols
        ax = lp.A @ x
        assert (ax >= lp.row_lower - 1e-6).all() and (ax <= lp.row_upper + 1e-6).all()
        assert (x >= lp.col_lower - 1e-9).all() and (x <= lp.col_upper + 1e-9).all()
        out = np.setdiff1d(np.arange(lp.num_cols), self.kept.pool_columns)
        assert (x[out] == 0.0).all()
        # the reduced costs of the columns outside are theirs under the duals, and none
        # that may move improves the objective
        d = lp.c - lp.A.T @ b.row_duals
        np.testing.assert_allclose(b.col_duals[out], d[out], atol=1e-9)
        free = out[lp.col_upper[out] > lp.col_lower[out]]
        assert (d[free] >= -1e-9).all() if lp.sense == "min" else (d[free] <= 1e-9).all()
        return b


@pytest.mark.parametrize("seed", range(5))
def test_every_edit_keeps_the_whole_optimum(seed):
    lp = _lp(seed)
    n = lp.num_cols
    p = Pair(lp)
    p.solve()
    kept = p.kept
    assert kept.pool_columns.size < n  # the first optimum shrank the pool to its support
    out = np.setdiff1d(np.arange(n), kept.pool_columns)
    # a bound that no longer holds 0 brings a column in
    p.set_col_bounds(out[:2], [0.1, 0.2], [2.0, 2.0])
    assert np.isin(out[:2], kept.pool_columns).all()
    p.solve()
    # a row over columns outside the pool
    out = np.setdiff1d(np.arange(n), kept.pool_columns)
    R = np.zeros((1, n))
    R[0, out[:10]] = 1.0
    R[0, :3] = 1.0
    p.add_rows(R, [0.5], [np.inf])
    p.solve()
    # a new objective, both senses, then a bound back that holds 0 again
    rng = np.random.default_rng(100 + seed)
    p.set_objective(rng.normal(size=n), "max")
    p.solve()
    p.set_objective(rng.normal(size=n), "min")
    p.set_col_bounds(out[2:6], 0.0, 0.0)
    b = p.solve()
    assert kept.kept["pricing_rounds"] > 0
    assert b.iterations >= 0


def test_a_generated_plan_by_the_kept_pool_passes_the_checker():
    """Generated 15 x 30, seed 4: the plan passes the checker (conftest checks every plan)
    and tier 1 reaches the same level as the plain backend."""
    s = models.generate(15, 30, 4)
    a = planner.solve(s)
    b = planner.solve(s, solver="highs-kept")
    assert b.ok and planner.check_plan(s, b.to_dict()) == []
    assert b.stages[0]["value"] == pytest.approx(a.stages[0]["value"], abs=1e-7)

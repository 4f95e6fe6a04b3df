"""Scaling a programme's rows and columns (solvers.equilibrate) and plans made scaled."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import models
import planner
import solvers
from planner.check import check_plan


def _badly_scaled(seed: int = 2) -> solvers.LinearProgram:
    """A small LP whose rows and columns span ten orders of magnitude."""
    rng = np.random.default_rng(seed)
    m, n = 12, 20
    rows = np.power(10.0, rng.uniform(-3, 3, m))
    cols = np.power(10.0, rng.uniform(-2, 2, n))
    A = sp.csr_array(sp.random(m, n, density=0.5, random_state=seed, data_rvs=rng.random))
    A = sp.csr_array(sp.diags(rows) @ (A + sp.eye(m, n)) @ sp.diags(cols))
    return solvers.LinearProgram(
        c=rng.uniform(0.5, 1.5, n) * cols,
        A=A,
        row_lower=np.full(m, -np.inf),
        row_upper=rows * 10.0,
        col_lower=np.zeros(n),
        col_upper=10.0 / cols,
        sense="max",
    )


def test_balanced_rows_are_the_joint_scalings_rows_and_columns_keep_their_units():
    lp = _badly_scaled()
    joint = solvers.equilibrate(lp)
    balanced = solvers.equilibrate(lp, keep_columns=True)
    alone = solvers.equilibrate(lp, columns=False)
    assert np.array_equal(balanced.r, joint.r)
    assert np.array_equal(balanced.c, np.ones(lp.num_cols))
    assert not np.array_equal(alone.r, joint.r)  # rows alone scale differently
    spread = lambda M: np.log10(abs(M).data.max() / abs(M).data.min())  # noqa: E731
    assert spread(balanced.programme(lp).A) < spread(lp.A)


@pytest.mark.parametrize("how", ["joint", "balanced", "rows"])
def test_a_scaled_programme_solves_to_the_same_optimum_in_the_original_units(how):
    lp = _badly_scaled()
    scaling = {
        "joint": solvers.equilibrate(lp),
        "balanced": solvers.equilibrate(lp, keep_columns=True),
        "rows": solvers.equilibrate(lp, columns=False),
    }[how]
    plain = solvers.get("highs")
    plain.load(lp)
    ref = plain.solve()
    be = solvers.get("highs")
    be.load(scaling.programme(lp))
    res = scaling.result(be.solve())
    assert ref.status == res.status == solvers.Status.OPTIMAL
    assert res.objective == pytest.approx(ref.objective, rel=1e-9)
    assert lp.c @ res.x == pytest.approx(ref.objective, rel=1e-9)
    act = lp.A @ res.x
    assert (act <= lp.row_upper * (1 + 1e-9) + 1e-9).all()


def test_a_plan_made_with_balanced_rows_matches_the_default():
    """A small generated plan, scaled ``balanced`` and not: both pass the checker and
    every need's ratio agrees to 1e-6."""
    s = models.generate(8, 16, 3)
    default = planner.solve(s).to_dict()
    balanced = planner.solve(s, scale="balanced").to_dict()
    for plan in (default, balanced):
        assert plan["status"] in ("optimal", "shortfall")
        assert check_plan(s, plan) == []
    a = {(d["municipality"], d["item"], d["tier"]): d["ratio"] for d in default["deliveries"]}
    b = {(d["municipality"], d["item"], d["tier"]): d["ratio"] for d in balanced["deliveries"]}
    assert a.keys() == b.keys()
    assert max(abs(a[k] - b[k]) for k in a) <= 1e-6

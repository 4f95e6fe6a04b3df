"""Irreducible infeasible subsets: HiGHS's own, and the elastic filter on every backend."""

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from test_solvers import PARAMS, backend_factory, random_lp

import solvers
from solvers import LinearProgram, Status

pytestmark = pytest.mark.filterwarnings("ignore:PULP_CBC_CMD is deprecated:DeprecationWarning")
INF = np.inf


@pytest.fixture(params=PARAMS)
def make(request):
    """One backend case as a factory (see test_solvers.CASES)."""
    return backend_factory(request.param)


def three():
    """x + y <= 1 with x >= 1 and y >= 1: the row and both column bounds are the IIS."""
    return LinearProgram([0, 0], [[1, 1]], [-INF], [1], [1, 1], [INF, INF])


def rows_only():
    """x + y >= 3, x <= 1, y <= 1 are the IIS; z <= 5, x + z >= -10 and x, y >= 0 are not."""
    A = [[1, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1]]
    return LinearProgram(
        [0, 0, 0], A, [3, -INF, -INF, -INF, -10], [INF, 1, 1, 5, INF], [0] * 3, [INF] * 3
    )


def buried(seed=4):
    """A feasible random LP with the three-constraint conflict added on two of its columns."""
    lp = random_lp(seed, m=8, n=10)
    j, k = 2, 5
    row = sp.csr_array(([1.0, 1.0], ([0, 0], [j, k])), shape=(1, lp.num_cols))
    lo, up = lp.col_lower.copy(), lp.col_upper.copy()
    lo[[j, k]], up[[j, k]] = 1.0, INF
    cap = 1.0
    return replace(
        lp, A=sp.vstack([lp.A, row], format="csr"), row_lower=np.r_[lp.row_lower, -INF],
        row_upper=np.r_[lp.row_upper, cap], col_lower=lo, col_upper=up,
    )  # fmt: skip


def feasible(lp, rows, cols) -> bool:
    """Whether the programme made of only these rows and column bounds is feasible."""
    keep_r, keep_c = np.isin(np.arange(lp.num_rows), rows), np.isin(np.arange(lp.num_cols), cols)
    sub = replace(
        lp, c=np.zeros(lp.num_cols), offset=0.0,
        row_lower=np.where(keep_r, lp.row_lower, -INF), row_upper=np.where(keep_r, lp.row_upper, INF),
        col_lower=np.where(keep_c, lp.col_lower, -INF), col_upper=np.where(keep_c, lp.col_upper, INF),
    )  # fmt: skip
    be = solvers.get("highs")
    be.load(sub)
    return be.solve().status is Status.OPTIMAL


def assert_irreducible(lp, found):
    assert found is not None
    rows, cols = found
    assert not feasible(lp, rows, cols), "the set is feasible"
    for i in rows:
        assert feasible(lp, rows[rows != i], cols), f"row {i} is not needed"
    for j in cols:
        assert feasible(lp, rows, cols[cols != j]), f"bound of column {j} is not needed"


class TestIIS:
    """be.iis() (native on HiGHS, elastic elsewhere) and elastic_iis with the same backend."""

    @pytest.mark.parametrize("how", ["backend", "elastic"])
    def test_three(self, make, how):
        lp = three()
        rows, cols = make(lp).iis() if how == "backend" else elastic(make, lp)
        assert list(rows) == [0] and list(cols) == [0, 1]

    @pytest.mark.parametrize("how", ["backend", "elastic"])
    def test_rows_only(self, make, how):
        lp = rows_only()
        rows, cols = make(lp).iis() if how == "backend" else elastic(make, lp)
        assert list(rows) == [0, 1, 2] and list(cols) == []

    @pytest.mark.parametrize("how", ["backend", "elastic"])
    def test_buried_conflict_is_irreducible(self, make, how):
        lp = buried()
        assert make(lp).solve().status is Status.INFEASIBLE
        found = make(lp).iis() if how == "backend" else elastic(make, lp)
        assert_irreducible(lp, found)

    @pytest.mark.parametrize("how", ["backend", "elastic"])
    def test_feasible_has_none(self, make, how):
        lp = random_lp(1)
        assert (make(lp).iis() if how == "backend" else elastic(make, lp)) is None

    def test_crossed_bounds(self, make):
        lp = LinearProgram([0, 0], [[1, 1], [1, -1]], [-INF, 2], [5, 1], [0, 0], [1, 1])
        rows, cols = elastic(make, lp)
        assert list(rows) == [1] and list(cols) == []
        assert make(lp).solve().status is Status.INFEASIBLE


def elastic(make, lp):
    name, options = make.case
    return solvers.elastic_iis(lp, name, **options)


def test_highs_native_iis_is_irreducible_on_random_conflicts():
    for seed in range(5, 10):
        lp = buried(seed)
        be = solvers.get("highs")
        be.load(lp)
        native = be.iis()
        assert_irreducible(lp, native)
        assert_irreducible(lp, solvers.elastic_iis(lp, "highs"))

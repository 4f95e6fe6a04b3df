"""The same tests against every backend that is installed (pulp/tests/solver_common.py style).

Shared cases live here; test_solvers_iis.py and test_solvers_io.py import them.
"""

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

import solvers
from solvers import LinearProgram, Status
from solvers._pulp import pulp_solvers

pytestmark = pytest.mark.filterwarnings("ignore:PULP_CBC_CMD is deprecated:DeprecationWarning")
INF = np.inf
CASES = [
    ("highs", {}),
    ("highs", {"method": "ipm"}),
    ("scipy", {}),
    ("highs-kept", {}),
    ("pulp", {"pulp_solver": "PULP_CBC_CMD"}),
    ("pulp", {"pulp_solver": "COIN_CMD"}),
    ("pulp", {"pulp_solver": "GLPK_CMD"}),
    ("pulp", {"pulp_solver": "HiGHS"}),
]


def _missing(name, options):
    if not solvers.backend_class(name).is_available():
        return f"{name} is not installed"
    wanted = options.get("pulp_solver")
    if wanted and wanted not in pulp_solvers():
        return f"PuLP solver {wanted} is not installed"
    return None


PARAMS = [
    pytest.param(
        case,
        id="-".join([case[0], *map(str, case[1].values())]),
        marks=pytest.mark.skipif(_missing(*case) is not None, reason=str(_missing(*case))),
    )
    for case in CASES
]


def backend_factory(case):
    """make(lp=None, **options) -> a backend of this case, loaded with lp."""
    name, options = case

    def make(lp=None, **more):
        be = solvers.get(name, **{**options, **more})
        if lp is not None:
            be.load(lp)
        return be

    make.case = case
    return make


@pytest.fixture(params=PARAMS)
def make(request):
    """One backend case (see CASES) as a factory."""
    return backend_factory(request.param)


def wyndor(sense="max"):
    """Hillier & Lieberman's Wyndor Glass LP, reshaped to use every kind of row and column.

    max 3x + 5y + 2w + 10      columns: x in [0, 4], y >= 0, s free, w in [0, 1]
    r0: 3x + 2y + s + w = 18   (equality)
    r1: s >= 0                 (one-sided row on the free column)
    r2: 0 <= 2y <= 12          (range row)
    r3: x + y free             (free row)

    r0 and r1 give 3x + 2y + w <= 18, a capacity of 18.  Per unit of capacity y earns
    5/2 but 2y <= 12 stops it at y = 6 (12 units); w earns 2, up to w = 1 (1 unit);
    x earns 1 and takes the remaining 5 units: x = 5/3 < 4.  Objective 5 + 30 + 2 + 10
    = 47.  One more unit of capacity goes to x: dual(r0) = 1; raising s's lower bound
    takes capacity away: dual(r1) = -1; one more unit on 2y's cap earns 5/2 - 1 = 3/2:
    dual(r2) = 1.5; r3 is free: 0.  Column w sits at its upper bound: 2 - 1 = 1; x and
    y are strictly inside their bounds and s is free: 0.  Every non-basic reduced cost
    is non-zero, so the optimum is unique and non-degenerate.  The min version negates
    c and the offset, hence the objective and every dual.
    """
    sign = 1.0 if sense == "max" else -1.0
    A = sp.csr_array(np.array([[3, 2, 1, 1], [0, 0, 1, 0], [0, 2, 0, 0], [1, 1, 0, 0.0]]))
    lp = LinearProgram(
        sign * np.array([3.0, 5, 0, 2]), A, [18, 0, 0, -INF], [18, INF, 12, INF],
        [0, 0, -INF, 0], [4, INF, INF, 1], sense=sense, offset=sign * 10,
        col_names=["x", "y", "s", "w"], row_names=["capacity", "slack", "y cap", "free"],
    )  # fmt: skip
    expected = {
        "objective": sign * 47,
        "x": [5 / 3, 6, 0, 1],
        "row_duals": sign * np.array([1, -1, 1.5, 0]),
        "col_duals": sign * np.array([0, 0, 0, 1.0]),
    }
    return lp, expected


def random_lp(seed, m=6, n=8, sense="max"):
    """A feasible, bounded LP around a random point, with every kind of row."""
    rng = np.random.default_rng(seed)
    A = sp.random(m, n, density=0.5, random_state=rng, format="csr") * 10
    x0 = rng.uniform(-2, 2, n)
    act = A @ x0
    kind = rng.integers(0, 4, m)  # 0 <=, 1 >=, 2 range, 3 equality
    lo = np.where(kind == 0, -INF, act - rng.uniform(0.5, 2, m))
    up = np.where(kind == 1, INF, act + rng.uniform(0.5, 2, m))
    lo[kind == 3] = up[kind == 3] = act[kind == 3]
    c = rng.normal(size=n)
    improving = c if sense == "max" else -c
    one_sided = rng.random(n) < 0.3
    cl = np.where(one_sided & (improving > 0), -INF, x0 - rng.uniform(0.5, 3, n))
    cu = np.where(one_sided & (improving < 0), INF, x0 + rng.uniform(0.5, 3, n))
    return LinearProgram(c, A, lo, up, cl, cu, sense=sense, offset=rng.normal())


def has_duals(be):
    return "duals" in be.features


def check_duals_by_perturbation(make, lp, res, h=1e-2, tol=1e-4):
    """Compare every dual with (objective(bound + h) - objective) / h; returns the count.

    A bound where the forward and backward differences disagree (a degenerate kink)
    is left out; an inactive row or column must have dual 0.  h is large enough for
    the CMD solvers, which print their solutions with 8 significant digits.
    """
    checked = 0

    def fd(field_lo, field_hi, i, which):
        vals = {}
        for step in (h, -h):
            lo, hi = getattr(lp, field_lo).copy(), getattr(lp, field_hi).copy()
            if which in ("lower", "both"):
                lo[i] += step
            if which in ("upper", "both"):
                hi[i] += step
            r = make(replace(lp, **{field_lo: lo, field_hi: hi})).solve()
            assert r.status is Status.OPTIMAL
            vals[step] = (r.objective - res.objective) / step
        return vals[h], vals[-h]

    for kind, act, duals in (("row", lp.A @ res.x, res.row_duals), ("col", res.x, res.col_duals)):
        lows, highs = getattr(lp, f"{kind}_lower"), getattr(lp, f"{kind}_upper")
        for i, (a, lo, hi, d) in enumerate(zip(act, lows, highs, duals, strict=True)):
            which = (
                "both" if lo == hi
                else "lower" if abs(a - lo) < 1e-6
                else "upper" if abs(a - hi) < 1e-6
                else None
            )  # fmt: skip
            if which is None:
                assert d == pytest.approx(0, abs=tol), (kind, i)
                continue
            forward, backward = fd(f"{kind}_lower", f"{kind}_upper", i, which)
            if abs(forward - backward) > tol:
                continue  # degenerate: the objective has a kink here
            assert d == pytest.approx(forward, abs=tol), (kind, i, which)
            checked += 1
    return checked


class TestBackend:
    """Every backend, the same questions."""

    @pytest.mark.parametrize("sense", ["max", "min"])
    def test_known_optimum(self, make, sense):
        lp, want = wyndor(sense)
        be = make(lp)
        res = be.solve()
        assert res.status is Status.OPTIMAL and res.ok
        assert res.objective == pytest.approx(want["objective"])
        assert res.x == pytest.approx(want["x"], abs=1e-7)
        assert res.seconds > 0
        if has_duals(be):
            assert res.row_duals == pytest.approx(want["row_duals"], abs=1e-7)
            assert res.col_duals == pytest.approx(want["col_duals"], abs=1e-7)
        else:  # GLPK_CMD through PuLP reports no duals
            assert np.isnan(res.row_duals).all() and np.isnan(res.col_duals).all()

    @pytest.mark.parametrize("sense", ["max", "min"])
    def test_duals_by_perturbation(self, make, sense):
        lp, _ = wyndor(sense)
        res = make(lp).solve()
        if not has_duals(make()):
            assert np.isnan(res.row_duals).all()
            return
        assert check_duals_by_perturbation(make, lp, res) >= 4  # r0, r1, r2 and w's bound

    @pytest.mark.parametrize("seed", [1, 2, 3])
    @pytest.mark.parametrize("sense", ["max", "min"])
    def test_random_duals_by_perturbation(self, make, seed, sense):
        lp = random_lp(seed, sense=sense)
        res = make(lp).solve()
        assert res.status is Status.OPTIMAL
        assert res.objective == pytest.approx(lp.objective_value(res.x))
        assert (lp.A @ res.x >= lp.row_lower - 1e-6).all() and (
            lp.A @ res.x <= lp.row_upper + 1e-6
        ).all()
        if has_duals(make()):
            assert check_duals_by_perturbation(make, lp, res) >= 1

    @pytest.mark.parametrize("seed", [1, 2])
    def test_primal_method_after_a_new_objective(self, make, seed):
        """``method="primal"`` (a cold solve after failed warm attempts by the primal
        simplex; backends without it choose) reaches the optimum a fresh load reaches."""
        lp = random_lp(seed)
        be = make(lp)
        assert be.solve().status is Status.OPTIMAL
        c = -np.asarray(lp.c, float)
        be.set_objective(c, "min", offset=lp.offset)
        res = be.solve(method="primal")
        want = make(replace(lp, c=c, sense="min")).solve()
        assert res.status is Status.OPTIMAL
        assert res.objective == pytest.approx(want.objective, abs=1e-6)

    def test_infeasible(self, make):
        # x + y <= 1 with x >= 1 and y >= 1 (column bounds)
        lp = LinearProgram([1, 1], [[1, 1]], [-INF], [1], [1, 1], [INF, INF])
        res = make(lp).solve()
        assert res.status is Status.INFEASIBLE and not res.ok
        assert np.isnan(res.objective) and np.isnan(res.x).all() and res.x.shape == (2,)

    def test_infeasible_rows(self, make):
        lp = LinearProgram(
            [0, 0], [[1, 1], [1, 0], [0, 1]], [3, -INF, -INF], [INF, 1, 1], [-INF] * 2, [INF] * 2
        )
        assert make(lp).solve().status is Status.INFEASIBLE

    def test_unbounded(self, make):
        # max x + y with x - y <= 1, x, y >= 0: y grows without end
        lp = LinearProgram([1, 1], [[1, -1]], [-INF], [1], [0, 0], [INF, INF], sense="max")
        assert make(lp).solve().status is Status.UNBOUNDED

    def test_no_rows_and_offset(self, make):
        lp = LinearProgram([1, -2], sp.csr_array((0, 2)), [], [], [1, -INF], [5, 3], offset=4)
        res = make(lp).solve()
        assert res.status is Status.OPTIMAL
        assert res.objective == pytest.approx(1 - 6 + 4)
        assert res.x == pytest.approx([1, 3])

    def test_time_limit(self, make, hard_lp):
        res = make(hard_lp).solve(time_limit=0.01)
        assert res.status is Status.TIME_LIMIT, res.message
        assert res.x.shape == (hard_lp.num_cols,)

    def test_edits_match_a_fresh_load(self, make):
        """Each in-place edit gives what a fresh load of the edited programme gives."""
        lp, _ = wyndor("max")
        R = np.array([[1, 1, 0, 0], [0, 1, 0, -1.0]])
        # the programme after each edit, built independently of the backend
        s1 = replace(
            lp,
            A=sp.vstack([lp.A, sp.csr_array(R)], format="csr"),
            row_lower=np.r_[lp.row_lower, -INF, 2],
            row_upper=np.r_[lp.row_upper, 7, 2],
            row_names=(*lp.row_names, "x+y", "y-w"),
        )
        s2 = replace(s1, c=np.array([1, -1, 0, 3.0]), sense="min", offset=2.5)
        s3 = replace(
            s2, row_lower=np.r_[10, s2.row_lower[1:5], 1], row_upper=np.r_[20, s2.row_upper[1:5], 1]
        )
        s4 = replace(
            s3,
            col_lower=np.r_[1, s3.col_lower[1:3], 0.5],
            col_upper=np.r_[2, s3.col_upper[1:3], 0.5],
        )
        # fmt: skip
        be = make(lp)
        assert be.solve().ok
        edits = [
            lambda: be.add_rows(sp.csr_array(R), [-INF, 2], [7, 2], names=["x+y", "y-w"]),
            lambda: be.set_objective([1, -1, 0, 3], "min", 2.5),
            lambda: be.set_row_bounds([0, 5], [10, 1], [20, 1]),
            lambda: be.set_col_bounds([0, 3], [1, 0.5], [2, 0.5]),
        ]
        for edit, want in zip(edits, [s1, s2, s3, s4], strict=True):
            out = edit()
            got, fresh = be.solve(), make(want).solve()
            assert got.status is fresh.status is Status.OPTIMAL
            assert got.objective == pytest.approx(fresh.objective, abs=1e-7)
            assert got.objective == pytest.approx(want.objective_value(got.x), abs=1e-7)
            assert_same_lp(be.lp, want)
        assert out is None

    def test_edit_changing_row_shape(self, make):
        lp, want = wyndor("max")
        be = make(lp)
        be.solve()
        be.set_row_bounds([2, 3], [-INF, -INF], [12, 100])  # range -> one-sided, free -> one-sided
        assert be.solve().objective == pytest.approx(want["objective"])
        be.set_row_bounds([3], [7.5], [7.5])  # x + y = 7.5 pins x to 1.5 at y = 6
        res = be.solve()
        assert res.objective == pytest.approx(make(be.lp).solve().objective)
        assert res.x[0] + res.x[1] == pytest.approx(7.5)

    def test_solve_before_load(self, make):
        with pytest.raises(RuntimeError, match="load"):
            make().solve()


def assert_same_lp(a: LinearProgram, b: LinearProgram):
    assert (a.A != b.A).nnz == 0 and a.A.shape == b.A.shape
    for f in ("c", "row_lower", "row_upper", "col_lower", "col_upper"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    assert (a.sense, a.offset, a.col_names, a.row_names) == (
        b.sense,
        b.offset,
        b.col_names,
        b.row_names,
    )


@pytest.fixture(scope="session")
def hard_lp():
    """A random LP that takes HiGHS several seconds (and glpsol more than its 1 s minimum)."""
    m = n = 4000
    rng = np.random.default_rng(0)
    rows, cols = np.repeat(np.arange(m), 11), rng.integers(0, n, 11 * m)
    cols[::11] = np.arange(m)  # a diagonal, so every row binds something
    A = sp.csr_array((rng.uniform(0.1, 1, 11 * m), (rows, cols)), shape=(m, n))
    return LinearProgram(
        -rng.uniform(1, 10, n),
        A,
        np.full(m, -INF),
        rng.uniform(1, 10, m),
        np.zeros(n),
        np.full(n, INF),
    )


def test_highs_dual_tolerance_option_sets_stage_solves_and_survives_polish():
    """``dual_tolerance`` tightens HiGHS's dual feasibility tolerance of stage solves; the
    polish (FINAL_TOLERANCE) keeps the tighter of the two, and both come back after it."""
    from solvers._highs import STAGE_DUAL_TOLERANCE, STAGE_TOLERANCE

    b = solvers.get("highs", dual_tolerance=1e-10)

    def opt(name, h=b._h):
        return h.getOptionValue(name)[1]

    assert opt("dual_feasibility_tolerance") == 1e-10
    assert opt("primal_feasibility_tolerance") == STAGE_TOLERANCE
    lp = solvers.LinearProgram(
        c=[1.0], A=[[1.0]], row_lower=[1.0], row_upper=[2.0], col_lower=[0.0], col_upper=[5.0]
    )
    b.load(lp)
    assert b.polish().ok
    assert opt("dual_feasibility_tolerance") == 1e-10
    assert opt("primal_feasibility_tolerance") == STAGE_TOLERANCE
    default = solvers.get("highs")._h
    assert opt("dual_feasibility_tolerance", default) == min(STAGE_TOLERANCE, STAGE_DUAL_TOLERANCE)


def test_highs_primal_cold_steps_below_the_interior_point_rows():
    """After a new objective with a basis, ``method="primal"`` plans a capped warm primal
    attempt and then the primal simplex cold (capped), interior point last; without a
    basis it is the first solve's own way (the dual simplex)."""
    from solvers._highs import _PRIMAL

    b = solvers.get("highs")
    b.load(random_lp(1))
    assert b._cold_method("primal") == "simplex"  # no basis yet
    assert b.solve().ok
    assert b._cold_method("primal") == "primal"
    steps = b._steps("primal", True, "primal")
    assert steps[0][0] == _PRIMAL and steps[0][1] is not None  # the capped warm attempt
    assert [s[2] for s in steps[-2:]] == ["primal", "ipm"]
    assert steps[-2][0] is None and steps[-2][1] is not None


def test_highs_refine_keeps_the_optimum_and_restores_the_tolerances():
    """``refine`` re-solves from the last basis at a tight tolerance, once, capped; the
    stage tolerances come back after it; without a basis there is nothing to refine."""
    from solvers._highs import STAGE_DUAL_TOLERANCE, STAGE_TOLERANCE

    b = solvers.get("highs")

    def opt(name):
        return b._h.getOptionValue(name)[1]

    lp = random_lp(2)
    b.load(lp)
    assert b.refine(1e-10, 100) is None
    first = b.solve()
    res = b.refine(1e-10, 100)
    assert res.status is Status.OPTIMAL
    assert res.objective == pytest.approx(first.objective, abs=1e-9)
    assert opt("primal_feasibility_tolerance") == STAGE_TOLERANCE
    assert opt("dual_feasibility_tolerance") == min(STAGE_TOLERANCE, STAGE_DUAL_TOLERANCE)
    assert b.solve().objective == pytest.approx(first.objective, abs=1e-9)

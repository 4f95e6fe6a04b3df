"""Column generation over a pool of columns (solvers.solve_pooled): same optimum as the
whole programme, and duals that certify it (every column priced)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import solvers
from solvers import BackendPool, LinearProgram, Status, solve_pooled

REL = 1e-7


def full_solve(lp: LinearProgram) -> solvers.Result:
    be = solvers.get("highs")
    be.load(lp)
    return be.solve()


def kkt_gaps(lp: LinearProgram, x: np.ndarray, y: np.ndarray) -> dict:
    """Largest violations of the optimality conditions of (x, y), written out here.

    HiGHS's convention: d = c - A.T y; in a min problem a column at its lower bound
    needs d >= 0, at its upper bound d <= 0, in between d = 0, and a row dual y > 0
    needs the row at its lower bound, y < 0 at its upper (signs flip for max).
    """
    s = 1.0 if lp.sense == "min" else -1.0
    A = sp.csr_array(lp.A)
    ax = A @ x
    d = s * (lp.c - A.T @ y)
    sy = s * y
    scale = 1.0 + np.abs(x)
    at_lo = x <= lp.col_lower + 1e-7 * scale
    at_up = x >= lp.col_upper - 1e-7 * scale
    col = np.where(at_lo & at_up, 0.0, np.where(at_lo, -d, np.where(at_up, d, np.abs(d))))
    rs = 1.0 + np.abs(ax)
    r_lo = ax <= lp.row_lower + 1e-6 * rs
    r_up = ax >= lp.row_upper - 1e-6 * rs
    row = np.where(r_lo & r_up, 0.0, np.where(r_lo, -sy, np.where(r_up, sy, np.abs(sy))))
    primal = max(
        np.max(lp.row_lower - ax, initial=0.0),
        np.max(ax - lp.row_upper, initial=0.0),
        np.max(lp.col_lower - x, initial=0.0),
        np.max(x - lp.col_upper, initial=0.0),
    )
    return {
        "col": float(col.max(initial=0.0)),
        "row": float(row.max(initial=0.0)),
        "primal": primal,
    }


def random_lp(seed: int, m: int = 30, n: int = 120, sense: str = "min"):
    """A feasible, bounded LP with many columns: rows around a known point, boxes on columns.

    Returns the LP and the support of the known point: a start pool whose
    restricted LP is feasible.
    """
    rng = np.random.default_rng(seed)
    A = sp.random_array((m, n), density=0.15, rng=rng, format="csr")
    A.data = rng.uniform(-1, 2, A.nnz)
    x0 = rng.uniform(0, 1, n) * (rng.uniform(size=n) < 0.3)
    ax = A @ x0
    lo = np.where(rng.uniform(size=m) < 0.5, ax - rng.uniform(0, 1, m), -np.inf)
    up = np.where(np.isfinite(lo) & (rng.uniform(size=m) < 0.5), np.inf, ax + rng.uniform(0, 1, m))
    col_up = rng.uniform(1, 3, n)
    col_lo = np.zeros(n)
    col_lo[:3] = -1.0  # not poolable: always in the pool
    c = rng.normal(size=n)
    return LinearProgram(c, A, lo, up, col_lo, col_up, sense=sense), np.flatnonzero(x0)


def assert_certified(lp: LinearProgram, pooled, full) -> None:
    res = pooled.result
    assert res.status is Status.OPTIMAL, res.message
    assert abs(res.objective - full.objective) <= REL * max(1.0, abs(full.objective))
    gaps = kkt_gaps(lp, res.x, res.row_duals)
    assert gaps["primal"] <= 1e-6, gaps
    assert gaps["col"] <= 1e-6, gaps
    assert gaps["row"] <= 1e-6, gaps
    out = np.setdiff1d(np.arange(lp.num_cols), pooled.pool)
    assert np.all(res.x[out] == 0.0)
    # the reduced costs returned for the columns left out are theirs under the duals
    d = lp.c - sp.csr_array(lp.A).T @ res.row_duals
    np.testing.assert_allclose(res.col_duals[out], d[out], atol=1e-12)


@pytest.mark.parametrize("sense", ["min", "max"])
@pytest.mark.parametrize("seed", range(6))
def test_random_lps_match_the_whole_solve(seed, sense):
    lp, start = random_lp(seed, sense=sense)
    full = full_solve(lp)
    assert full.status is Status.OPTIMAL
    pooled = solve_pooled(lp, start=start, batch=5)
    assert_certified(lp, pooled, full)
    assert not pooled.fallback and pooled.rounds > 1  # the start pool is feasible, not optimal
    assert pooled.rounds == len(pooled.iterations) == len(pooled.added) + 1
    assert pooled.result.iterations == sum(pooled.iterations)
    # a guide objective grows the pool differently but the answer is the same
    guide = np.random.default_rng(seed).normal(size=lp.num_cols)
    guided = solve_pooled(lp, start=start, guide=guide)
    assert_certified(lp, guided, full)


def test_pricing_brings_in_the_column_the_optimum_needs():
    """The start pool's own optimum is worse: only pricing finds the cheap column."""
    # min x0 + 10 x1 + x2   s.t.  x0 + x1 >= 1,  x1 + x2 >= 1;  x >= 0
    A = sp.csr_array(np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]))
    lp = LinearProgram([1.0, 10.0, 1.0], A, [1.0, 1.0], [np.inf, np.inf], 0.0, np.inf)
    pooled = solve_pooled(lp, start=[1])  # x1 alone is feasible at cost 10
    assert pooled.result.objective == pytest.approx(2.0, rel=REL)
    assert pooled.rounds >= 2 and sum(pooled.added) == 2
    assert set(pooled.pool.tolist()) == {0, 1, 2}
    np.testing.assert_allclose(pooled.result.x, [1.0, 0.0, 1.0], atol=1e-9)
    assert not pooled.fallback


def test_tiny_reduced_costs_still_enter():
    """Reduced costs below the solver's dual tolerance can carry most of the optimum.

    max t  s.t.  t <= 1e-8 (x1 + x2),  x1 <= 1e3, x2 <= 1e4: from the pool {t, x1}
    the level is 1e-5; x2's reduced cost is 1e-8 and the optimum is 1.1e-4.
    """
    A = sp.csr_array(np.array([[1.0, -1e-8, -1e-8]]))
    lp = LinearProgram([1.0, 0.0, 0.0], A, [-np.inf], [0.0], 0.0, [np.inf, 1e3, 1e4], sense="max")
    full = full_solve(lp)
    assert full.objective == pytest.approx(1.1e-4, rel=1e-9)
    pooled = solve_pooled(lp, start=[0, 1])
    assert 2 in pooled.pool
    assert_certified(lp, pooled, full)
    # pricing at the solver's own dual tolerance (1e-7) would have stopped at 1e-5
    loose = solve_pooled(lp, start=[0, 1], price_tol=1e-7)
    assert loose.result.objective == pytest.approx(1e-5, rel=1e-9)


def test_columns_out_of_the_pool_are_priced_not_assumed():
    """A column priced out stays at 0 and its reduced cost is reported."""
    A = sp.csr_array(np.array([[1.0, 1.0, 1.0]]))
    lp = LinearProgram([3.0, 1.0, 2.0], A, [1.0], [np.inf], 0.0, np.inf)
    pooled = solve_pooled(lp, start=[1])
    assert pooled.rounds == 1 and pooled.pool.tolist() == [1]
    assert pooled.result.objective == pytest.approx(1.0)
    np.testing.assert_allclose(pooled.result.col_duals, [2.0, 0.0, 1.0], atol=1e-9)


def test_infeasible_start_pool_falls_back_to_every_column():
    A = sp.csr_array(np.array([[1.0, 1.0]]))
    lp = LinearProgram([1.0, 2.0], A, [1.0], [1.0], 0.0, [0.5, 2.0])
    pooled = solve_pooled(lp, start=[0])  # x0 <= 0.5 cannot reach 1 alone
    assert pooled.fallback
    assert pooled.result.status is Status.OPTIMAL
    assert pooled.result.objective == pytest.approx(0.5 + 2 * 0.5)


def test_infeasible_and_unbounded_programmes():
    A = sp.csr_array(np.array([[1.0, 1.0]]))
    bad = LinearProgram([1.0, 1.0], A, [3.0], [3.0], 0.0, 1.0)
    assert solve_pooled(bad, start=[0]).result.status is Status.INFEASIBLE
    free = LinearProgram([-1.0, 0.0], A, [0.0], [np.inf], 0.0, np.inf)
    assert solve_pooled(free, start=[0, 1]).result.status is Status.UNBOUNDED


def test_columns_with_another_lower_bound_are_always_in():
    lp, _ = random_lp(3)
    pooled = solve_pooled(lp, start=[], poolable=np.arange(lp.num_cols))
    assert {0, 1, 2} <= set(pooled.pool.tolist())
    assert_certified(lp, pooled, full_solve(lp))


def test_bad_arguments_are_named():
    lp, _ = random_lp(1)
    with pytest.raises(ValueError, match="first"):
        solve_pooled(lp, first="barrier")
    with pytest.raises(ValueError, match="guide"):
        solve_pooled(lp, guide=np.ones(3))
    with pytest.raises(ValueError, match="after_guide"):
        solve_pooled(lp, after_guide="cold")
    with pytest.raises(ValueError, match="start: column indices must be in 0..119"):
        solve_pooled(lp, start=[5, 120])
    with pytest.raises(ValueError, match="poolable: a mask must have 120 entries"):
        solve_pooled(lp, poolable=np.ones(7, dtype=bool))
    with pytest.raises(ValueError, match="start: give column indices"):
        solve_pooled(lp, start=[1.5])


def test_masks_and_indices_mean_the_same():
    lp, _ = random_lp(4)
    mask = np.zeros(lp.num_cols, dtype=bool)
    mask[10:20] = True
    a = solve_pooled(lp, start=mask)
    b = solve_pooled(lp, start=np.arange(10, 20))
    assert a.rounds == b.rounds and np.array_equal(a.pool, b.pool)
    assert a.result.objective == b.result.objective


@pytest.fixture(scope="module")
def stage():
    from bench.pool import stage_lp

    return stage_lp(20, 30, 3)


@pytest.mark.parametrize("guided", [False, True])
def test_stage_lp_of_a_generated_scenario(stage, guided):
    """needs:tier2's first LP of a generated 20 x 30 scenario, pooled over its flows."""
    lp = stage["lp"]
    full = full_solve(lp)
    assert full.status is Status.OPTIMAL
    pooled = solve_pooled(
        lp,
        start=stage["start"],
        poolable=stage["poolable"],
        guide=stage["guide"] if guided else None,
    )
    assert_certified(lp, pooled, full)
    flows = np.flatnonzero(stage["poolable"])
    assert pooled.pool.size < lp.num_cols  # some flows were never needed
    assert np.isin(flows, pooled.pool).sum() < flows.size
    # the start pool alone is not enough: pricing had to add flows
    assert pooled.rounds > 1 and sum(pooled.added) > 0


@pytest.mark.parametrize("sense", ["min", "max"])
@pytest.mark.parametrize("seed", range(4))
def test_backend_pool_matches_the_whole_solve(seed, sense):
    """The pool kept by bounds on a loaded backend, as an engine would use it."""
    lp, start = random_lp(seed, sense=sense)
    full = full_solve(lp)
    be = solvers.get("highs")
    be.load(lp)
    pool = BackendPool(be, poolable=np.arange(lp.num_cols), start=start, batch=5)
    res = pool.solve()
    assert res.status is Status.OPTIMAL
    assert pool.rounds > 1 and sum(pool.added) > 0
    assert abs(res.objective - full.objective) <= REL * max(1.0, abs(full.objective))
    gaps = kkt_gaps(lp, res.x, res.row_duals)
    assert max(gaps.values()) <= 1e-6, gaps
    out = np.setdiff1d(np.arange(lp.num_cols), pool.pool)
    assert np.all(res.x[out] == 0.0)
    d = lp.c - sp.csr_array(lp.A).T @ res.row_duals
    np.testing.assert_allclose(res.col_duals[out], d[out], atol=1e-12)


@pytest.mark.parametrize("sense", ["min", "max"])
@pytest.mark.parametrize("seed", range(4))
def test_backend_pool_stops_pricing_after_max_rounds(seed, sense):
    """Past ``max_rounds`` every column enters at once: the whole programme decides."""
    lp, start = random_lp(seed, sense=sense)
    full = full_solve(lp)
    # uncapped, these pools price several times (batch=5 enters few columns a round)
    free = BackendPool(_loaded(lp), poolable=np.arange(lp.num_cols), start=start, batch=5)
    assert free.solve().status is Status.OPTIMAL and len(free.added) > 1 and free.capped == 0
    be = _loaded(lp)
    pool = BackendPool(be, poolable=np.arange(lp.num_cols), start=start, batch=5, max_rounds=1)
    res = pool.solve()
    assert res.status is Status.OPTIMAL
    assert pool.capped == 1 and len(pool.added) == 1  # one pricing round, then every column
    assert pool.pool.size == lp.num_cols
    np.testing.assert_array_equal(be.lp.col_upper, lp.col_upper)  # nothing held at 0 now
    assert abs(res.objective - full.objective) <= REL * max(1.0, abs(full.objective))
    assert max(kkt_gaps(lp, res.x, res.row_duals).values()) <= 1e-6


def test_backend_pool_max_rounds_is_checked():
    lp, start = random_lp(0)
    for bad in (0, -3, True):
        with pytest.raises(ValueError, match="max_rounds"):
            BackendPool(_loaded(lp), poolable=np.arange(lp.num_cols), max_rounds=bad)


def _loaded(lp: LinearProgram):
    be = solvers.get("highs")
    be.load(lp)
    return be


def test_backend_pool_follows_bound_edits():
    """A column out of the pool whose lower bound rises enters; its own upper bound is kept."""
    lp, start = random_lp(5)
    be = solvers.get("highs")
    be.load(lp)
    pool = BackendPool(be, poolable=np.arange(lp.num_cols), start=start)
    first = pool.solve()
    out = np.setdiff1d(np.arange(lp.num_cols), pool.pool)
    j = int(out[0])
    assert be.lp.col_upper[j] == 0.0  # held at 0 in the backend
    pool.set_col_bounds([j], 0.25, lp.col_upper[j])
    assert j in pool.pool and be.lp.col_upper[j] == lp.col_upper[j]
    res = pool.solve()
    assert res.x[j] >= 0.25 - 1e-9
    lower = lp.col_lower.copy()
    lower[j] = 0.25
    edited = LinearProgram(lp.c, lp.A, lp.row_lower, lp.row_upper, lower, lp.col_upper)
    assert res.objective == pytest.approx(full_solve(edited).objective, rel=REL)
    assert res.objective >= first.objective - 1e-9  # min: a tighter bound cannot help


def test_backend_pool_shrinks_to_the_support_and_polishes():
    lp, start = random_lp(2)
    full = full_solve(lp)
    be = solvers.get("highs")
    be.load(lp)
    pool = BackendPool(be, poolable=np.arange(lp.num_cols))  # every column in
    first = pool.solve()
    dropped = pool.shrink(first.x)
    assert dropped.size and np.all(first.x[dropped] == 0.0)
    assert np.all(be.lp.col_upper[dropped] == 0.0)
    rounds = pool.rounds
    again = pool.solve(polish=True)
    assert pool.rounds == rounds + 1  # the support prices out at once
    assert again.objective == pytest.approx(full.objective, rel=REL)
    assert max(kkt_gaps(lp, again.x, again.row_duals).values()) <= 1e-6
    # a new objective: the dropped columns are priced and enter where they pay
    be.set_objective(-lp.c)
    other = pool.solve()
    flipped = LinearProgram(-lp.c, lp.A, lp.row_lower, lp.row_upper, lp.col_lower, lp.col_upper)
    assert other.objective == pytest.approx(full_solve(flipped).objective, rel=REL)
    assert max(kkt_gaps(flipped, other.x, other.row_duals).values()) <= 1e-6


def test_backend_pool_on_a_stage_lp(stage):
    lp = stage["lp"]
    full = full_solve(lp)
    be = solvers.get("highs")
    be.load(lp)
    pool = BackendPool(be, poolable=stage["poolable"], start=stage["start"])
    res = pool.solve()
    assert res.status is Status.OPTIMAL
    assert abs(res.objective - full.objective) <= REL * max(1.0, abs(full.objective))
    assert max(kkt_gaps(lp, res.x, res.row_duals).values()) <= 1e-6
    assert pool.pool.size < lp.num_cols and pool.rounds > 1
    # a stage's first LP from an earlier support: pricing tails off (a few columns a
    # round); capped, the whole programme decides, with the same optimum
    assert pool.rounds > 20 and pool.capped == 0
    capped = BackendPool(_loaded(lp), stage["poolable"], stage["start"], max_rounds=20)
    res = capped.solve()
    assert res.status is Status.OPTIMAL and capped.capped == 1
    assert capped.rounds == 21 and capped.pool.size == lp.num_cols
    assert abs(res.objective - full.objective) <= REL * max(1.0, abs(full.objective))
    assert max(kkt_gaps(lp, res.x, res.row_duals).values()) <= 1e-6


def test_bench_pool_measures_every_method_on_a_tiny_size():
    """bench.pool runs (it asserts nothing about speed): every method, the same optimum."""
    from bench import pool as bench_pool

    rows = bench_pool.measure("tiny", 60.0, None, log=lambda msg: None)
    labels = [r["method"] for r in rows]
    assert labels[:3] == [label for label, _ in bench_pool.COLD]
    assert any("kept pool" in label for label in labels) and any(
        "guided" in label for label in labels
    )
    ok = [r for r in rows if r["status"] == "optimal"]
    assert len(ok) == len(rows)
    best = ok[0]["objective"]
    assert all(abs(r["objective"] - best) <= 1e-7 * max(1.0, abs(best)) for r in ok)
    table = bench_pool.table(rows)
    assert table.count("\n") == len(rows) + 1


@pytest.fixture
def always_pool(monkeypatch):
    """Warm attempts capped at 0 iterations: every re-solve that has work to do goes pooled."""
    from solvers import _highs

    monkeypatch.setattr(_highs, "WARM_MIN_ITERATIONS", 0)
    monkeypatch.setattr(_highs, "POOL_WARM", 0.0)


@pytest.mark.parametrize("sense", ["min", "max"])
@pytest.mark.parametrize("seed", range(4))
def test_cold_resolves_start_from_the_last_support(always_pool, seed, sense):
    """HighsBackend(pool="resolve"): after an edit, a warm attempt that fails is followed
    by a cold solve over the last optimum's support, priced exactly, then confirmed on
    the whole programme: the same optimum as a fresh solve, with duals certifying it."""
    lp, _ = random_lp(seed, sense=sense)
    be = solvers.get("highs", pool="resolve")
    be.load(lp)
    be.set_poolable(lp.col_lower == 0.0)
    first = be.solve()
    assert first.status is Status.OPTIMAL and be.pooled == []  # a first solve is cold
    # cut off the old point: two basic columns (strictly inside their bounds) halved
    inside = (first.x > lp.col_lower + 0.05) & (first.x < lp.col_upper - 0.05)
    cols = np.flatnonzero(inside)[:2]
    assert cols.size == 2
    lower = lp.col_lower.copy()
    upper = lp.col_upper.copy()
    upper[cols] = first.x[cols] / 2
    be.set_col_bounds(cols, lower[cols], upper[cols])
    res = be.solve()
    edited = LinearProgram(lp.c, lp.A, lp.row_lower, lp.row_upper, lower, upper, sense=sense)
    full = full_solve(edited)
    if full.status is not Status.OPTIMAL:
        assert res.status is full.status
        return
    assert res.status is Status.OPTIMAL, res.message
    assert [e["status"] for e in be.pooled] == ["optimal"]
    entry = be.pooled[0]
    assert entry["start"] < entry["columns"]  # the pool started from a support, not everything
    assert abs(res.objective - full.objective) <= REL * max(1.0, abs(full.objective))
    assert max(kkt_gaps(edited, res.x, res.row_duals).values()) <= 1e-6
    # the columns outside the pool are back at their own bounds in the backend
    np.testing.assert_array_equal(be.lp.col_upper, upper)
    np.testing.assert_array_equal(be.lp.col_lower, lower)


def test_pool_option_is_checked_and_off_by_choice():
    with pytest.raises(ValueError, match="pool must be one of"):
        solvers.get("highs", pool="sometimes")
    lp, _ = random_lp(1)
    be = solvers.get("highs", pool="off")
    be.load(lp)
    be.set_poolable(np.arange(lp.num_cols))
    be.solve()
    be.set_col_bounds([5], 0.0, 0.01)
    assert be.solve().status is Status.OPTIMAL and be.pooled == []


@pytest.mark.parametrize("seed", [4, 6])
def test_plans_with_every_resolve_pooled_match(always_pool, seed):
    """A generated 15 x 30 plan with every failed warm re-solve pooled over its flows,
    saturation verified at a tight dual tolerance: passes the checker and the leximin
    certificate, and its levels are those of the plan solved without pools."""
    import models
    import planner
    from planner.certificate import failures, leximin_levels

    s = models.generate(15, 30, seed)
    # the verified rounds (--precise until 2026-12-06), on the classic rounds
    precise = {"dual_tolerance": 1e-10, "verify": True, "precise": False}
    pooled = planner.solve(s, pool="resolve", **precise).to_dict()
    plain = planner.solve(s, pool="off", **precise).to_dict()
    assert planner.check_plan(s, pooled) == []
    assert failures(leximin_levels(s, pooled["deliveries"])) == []
    for a, b in zip(pooled["stages"], plain["stages"], strict=True):
        assert a["name"] == b["name"]
        if a["name"].startswith("needs"):
            assert a["levels"] == pytest.approx(b["levels"], abs=1e-6), a["name"]
    assert pooled["timings"]["pooled"] > 0


@pytest.mark.parametrize("sense", ["min", "max"])
@pytest.mark.parametrize("seed", range(4))
def test_a_new_objective_with_method_pool_goes_to_a_pool_after_the_warm_attempt(
    always_pool, seed, sense
):
    """``solve(method="pool")`` after a new objective (the last optimum still feasible): a
    failed warm attempt is followed by a cold solve over that optimum's support, priced
    exactly; the optimum is the whole programme's. Without ``method="pool"`` a new
    objective is never pooled (the default ``pool="resolve"``)."""
    lp, _ = random_lp(seed, sense=sense)
    c2 = np.random.default_rng(100 + seed).normal(size=lp.num_cols)
    other = LinearProgram(c2, lp.A, lp.row_lower, lp.row_upper, lp.col_lower, lp.col_upper, sense)
    full = full_solve(other)
    for method, pools in (("pool", 1), (None, 0)):
        be = solvers.get("highs")
        be.load(lp)
        be.set_poolable(lp.col_lower == 0.0)
        assert be.solve().status is Status.OPTIMAL
        be.set_objective(c2, sense)
        res = be.solve(method=method)
        assert res.status is Status.OPTIMAL, res.message
        assert len(be.pooled) == pools
        if pools:
            assert be.pooled[0]["status"] == "optimal"
            assert be.pooled[0]["start"] < be.pooled[0]["columns"]
        assert abs(res.objective - full.objective) <= REL * max(1.0, abs(full.objective))
        assert max(kkt_gaps(other, res.x, res.row_duals).values()) <= 1e-6
        np.testing.assert_array_equal(be.lp.col_upper, lp.col_upper)


def test_method_pool_is_choose_where_a_backend_has_no_pools():
    lp, _ = random_lp(3)
    full = full_solve(lp)
    be = solvers.get("scipy")
    be.load(lp)
    res = be.solve(method="pool")
    assert res.status is Status.OPTIMAL
    assert res.objective == pytest.approx(full.objective, rel=REL)


@pytest.mark.parametrize("seed", [4, 6])
def test_linear_stages_pooled_after_a_failed_warm_attempt_match(always_pool, monkeypatch, seed):
    """min_labour and min_transport with ``linear_pool=True``: where the warm attempt
    fails, a pool from the last optimum's support; the plan passes the checker and every
    stage's value is the one without (``linear_pool=False``, the default)."""
    import models
    import planner
    from solvers import _highs

    steps = _highs.HighsBackend._steps

    def one_warm_iteration(self, mode, fresh, cold_method):
        out = steps(self, mode, fresh, cold_method)
        if fresh and out and out[0][0] is not None:
            out[0] = (out[0][0], 1, out[0][2])  # a new objective's warm attempt fails
        return out

    monkeypatch.setattr(_highs.HighsBackend, "_steps", one_warm_iteration)
    s = models.generate(15, 30, seed)
    pooled = planner.solve(s, linear_pool=True).to_dict()
    plain = planner.solve(s).to_dict()
    assert planner.check_plan(s, pooled) == [] and planner.check_plan(s, plain) == []
    assert pooled["timings"]["pooled"] > plain["timings"]["pooled"]
    for a, b in zip(pooled["stages"], plain["stages"], strict=True):
        assert a["name"] == b["name"]
        assert a["value"] == pytest.approx(b["value"], rel=1e-9, abs=1e-9), a["name"]

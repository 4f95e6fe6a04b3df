"""How a pool of flows is entered and left: ``pool_warm`` and ``pool_retry``.

``pool_warm="timed"``: the warm primal attempt before a pool stops after as long as the
recent pools took (at least POOL_WARM_SECONDS). ``pool_retry=True``: a pool whose cold
dual simplex gives no verdict is solved again by interior point with crossover before
the whole programme is (solvers/_highs.py; measured in bench/NOTES.md).
"""

from __future__ import annotations

import highspy
import numpy as np
import pytest

import solvers
from solvers import Status, _highs
from tests.test_pool import REL, full_solve, kkt_gaps, random_lp


def test_the_options_are_checked():
    with pytest.raises(ValueError, match="pool_warm must be one of"):
        solvers.get("highs", pool_warm="sometimes")
    be = solvers.get("highs", pool_warm="timed", pool_retry=True)
    assert be.pool_warm == "timed" and be.pool_retry is True
    be = solvers.get("highs")
    assert be.pool_warm == _highs.POOL_WARM_DEFAULT
    assert be.pool_retry is _highs.POOL_RETRY_DEFAULT


def test_a_timed_warm_attempt_gets_the_recent_pools_time():
    """The cap is the median of the last POOL_RECENT optimal pools (failed ones do not
    count), at least POOL_WARM_SECONDS, and never beyond the caller's time left; before
    any pool, or with ``pool_warm="capped"``, there is none."""
    be = solvers.get("highs", pool_warm="timed")
    assert be._caps(1, _highs._PRIMAL, 100, np.inf, before_pool=True) == (False, False, np.inf)
    be.pooled = [{"status": "optimal", "seconds": s} for s in (9.0, 2.0, 3.0, 4.0, 5.0, 6.0)]
    be.pooled.append({"status": "time_limit", "seconds": 100.0})
    assert be._caps(1, _highs._PRIMAL, 100, np.inf, before_pool=True) == (True, False, 4.0)
    assert be._caps(1, _highs._PRIMAL, 100, 2.5, before_pool=True) == (True, False, 2.5)
    be.pooled = [{"status": "optimal", "seconds": 0.01}]
    assert be._caps(1, _highs._PRIMAL, 100, np.inf, before_pool=True)[2] == (
        _highs.POOL_WARM_SECONDS
    )
    for mode in ("capped", "inside", "paced", "cold"):
        other = solvers.get("highs", pool_warm=mode)
        other.pooled = be.pooled
        assert other._caps(1, _highs._PRIMAL, 100, np.inf, before_pool=True)[2] == np.inf
    # "patient": POOL_PATIENCE times as long
    patient = solvers.get("highs", pool_warm="patient")
    patient.pooled = [{"status": "optimal", "seconds": s} for s in (9.0, 2.0, 3.0, 4.0, 5.0, 6.0)]
    assert patient._caps(1, _highs._PRIMAL, 100, np.inf, before_pool=True) == (
        True, False, _highs.POOL_PATIENCE * 4.0,
    )  # fmt: skip


def _forced(monkeypatch, seed: int, pool_cold_simplex, pool_cold_ipm, **options):
    """Solve a random LP, then cut off its optimum and solve again with every capped warm
    attempt failing at its cap and a pool's cold solves (dual simplex, interior point)
    ending as given (None: HiGHS runs). Returns (backend, result, edited LP, runs), a run
    being (in a pool, warm, solver); the edited LP's reference solve is not recorded."""
    monkeypatch.setattr(_highs, "WARM_MIN_ITERATIONS", 0)
    monkeypatch.setattr(_highs, "POOL_WARM", 0.0)
    lp, _ = random_lp(seed, sense="max")
    be = solvers.get("highs", **options)
    be.load(lp)
    be.set_poolable(lp.col_lower == 0.0)
    first = be.solve()
    assert first.status is Status.OPTIMAL
    real_once = _highs.HighsBackend._run_once
    runs = []

    def run_once(self):
        warm, solver = self._h.getBasis().valid, self._set.get("solver")
        runs.append((self._pooling, warm, solver))
        if warm and self._set.get("simplex_iteration_limit") != _highs._NO_LIMIT:
            return highspy.HighsModelStatus.kIterationLimit  # a capped warm attempt
        forced = pool_cold_ipm if solver == "ipm" else pool_cold_simplex
        if self._pooling and not warm and forced is not None:
            return forced
        return real_once(self)

    monkeypatch.setattr(_highs.HighsBackend, "_run_once", run_once)
    inside = (first.x > lp.col_lower + 0.05) & (first.x < lp.col_upper - 0.05)
    cols = np.flatnonzero(inside)[:2]
    upper = lp.col_upper.copy()
    upper[cols] = first.x[cols] / 2
    be.set_col_bounds(cols, lp.col_lower[cols], upper[cols])
    res = be.solve()
    monkeypatch.setattr(_highs.HighsBackend, "_run_once", real_once)
    edited = solvers.LinearProgram(
        lp.c, lp.A, lp.row_lower, lp.row_upper, lp.col_lower, upper, sense="max"
    )
    return be, res, edited, runs


def _whole_cold(runs) -> bool:
    return any(not pooled and not warm for pooled, warm, _ in runs)


@pytest.mark.parametrize("seed", range(3))
def test_a_pool_whose_dual_simplex_fails_is_retried_by_interior_point(monkeypatch, seed):
    """Every warm attempt and every cold dual simplex inside a pool forced to fail (HiGHS
    not run for them): with ``pool_retry`` the pool is solved by interior point with
    crossover, priced exactly and confirmed, and the whole programme is never solved cold;
    the optimum is a fresh solve's, certified by its duals."""
    limit = highspy.HighsModelStatus.kIterationLimit
    be, res, edited, runs = _forced(monkeypatch, seed, limit, None, pool_retry=True)
    full = full_solve(edited)
    assert res.status is Status.OPTIMAL, res.message
    assert abs(res.objective - full.objective) <= REL * max(1.0, abs(full.objective))
    assert max(kkt_gaps(edited, res.x, res.row_duals).values()) <= 1e-6
    assert (True, False, "ipm") in runs  # the retry, inside the pool
    assert not _whole_cold(runs)
    assert [e["status"] for e in be.pooled] == ["optimal"]


def test_without_retry_a_failed_pool_gives_way_to_the_whole_programme(monkeypatch):
    limit = highspy.HighsModelStatus.kIterationLimit
    # (pool_stall=True: a pool stopped at its caps is no stall, as with "capped" it would be)
    be, res, edited, runs = _forced(monkeypatch, 0, limit, limit, pool_retry=False, pool_stall=True)
    assert res.status is Status.OPTIMAL
    assert not any(pooled and solver == "ipm" for pooled, _, solver in runs)
    assert _whole_cold(runs)
    assert [e["status"] for e in be.pooled] != ["optimal"]


_UNKNOWN, _LIMIT = highspy.HighsModelStatus.kUnknown, highspy.HighsModelStatus.kIterationLimit


@pytest.mark.parametrize(
    "ending, pool_stall, stalls",
    [(_UNKNOWN, True, True), (_UNKNOWN, False, False), (_UNKNOWN, "capped", True),
     (_LIMIT, "capped", True), (_LIMIT, True, False)],
)  # fmt: skip
def test_a_pool_without_verdict_is_a_stall(monkeypatch, ending, pool_stall, stalls):
    """Every cold solve of a pool (dual simplex, then the retry by interior point; HiGHS
    run for neither) ending "Unknown", or stopped at its own cap: with ``pool_stall`` (the
    default) a pool without verdict is STALLED at once, for the caller to loosen its holds;
    with ``pool_stall="capped"`` one stopped at its caps is too; otherwise the whole
    programme is solved cold and decides."""
    seed = 2 if ending is _UNKNOWN else 1
    be, res, edited, runs = _forced(monkeypatch, seed, ending, ending, pool_stall=pool_stall)
    assert [e["status"] for e in be.pooled] != ["optimal"]
    if stalls:
        assert res.status is Status.ERROR and res.message == solvers.STALLED
        assert not _whole_cold(runs)
    else:
        assert res.status is Status.OPTIMAL and _whole_cold(runs)
        full = full_solve(edited)
        assert abs(res.objective - full.objective) <= REL * max(1.0, abs(full.objective))


@pytest.mark.parametrize("mode", ["timed", "inside"])
def test_inside_a_pool_a_timed_warm_attempt_gets_pool_warm_seconds(mode):
    be = solvers.get("highs", pool_warm=mode)
    be._pooling = True
    assert be._caps(0, _highs._PRIMAL, 1000, np.inf) == (True, False, _highs.POOL_WARM_SECONDS)
    assert be._caps(0, _highs._PRIMAL, 1000, 0.25) == (True, False, 0.25)
    # the pool's cold step keeps its own cap
    assert be._caps(1, None, 1000, np.inf)[2] == _highs.POOL_COLD_SECONDS
    be = solvers.get("highs", pool_warm="capped")
    be._pooling = True
    assert be._caps(0, _highs._PRIMAL, 1000, np.inf) == (False, False, np.inf)


def test_switch_makes_later_pools_interior_point_first():
    """``pool_retry="switch"``: a retry by interior point that solved a pool turns the
    pools' cold method to interior point; a retry that failed, or ``pool_retry=True``,
    does not."""
    ok, bad = highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit
    steps = [(_highs._PRIMAL, 1000, "simplex"), (None, 5000, "simplex"), (None, None, "ipm")]
    for retry, status, method in [("switch", ok, "ipm"), ("switch", bad, "simplex"),
                                  (True, ok, "simplex")]:  # fmt: skip
        be = solvers.get("highs", pool_retry=retry)
        be._pooling = True
        be._switch(steps, 2, status)
        assert be.pool_cold == method
        be._switch(steps, 1, ok)  # the dual simplex's own success changes nothing
        assert be.pool_cold == method
    be = solvers.get("highs", pool_retry="switch")
    with pytest.raises(ValueError, match="pool_retry must be one of"):
        solvers.get("highs", pool_retry="sometimes")
    assert be._pool_cold(100) == [(None, 400, "simplex"), (None, None, "ipm")]
    be.pool_cold = "ipm"
    assert be._pool_cold(100) == [(None, 400, "ipm")]


def test_pool_stall_modes_are_checked():
    with pytest.raises(ValueError, match="pool_stall must be one of"):
        solvers.get("highs", pool_stall="sometimes")
    assert solvers.get("highs", pool_stall="capped").pool_stall == "capped"
    assert solvers.get("highs").pool_stall is _highs.POOL_STALL


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("mode", ["cold", "timed_cold"])
def test_a_cold_pool_makes_no_warm_attempt_once_columns_enter(monkeypatch, seed, mode):
    """``pool_warm="cold"``: after columns enter a pool, it is solved cold again at once
    (no warm primal attempt over every column); the optimum is a fresh solve's, certified
    by its duals, and the pool did take columns in (so the re-solve happened)."""
    be, res, edited, runs = _forced(monkeypatch, seed, None, None, pool_warm=mode)
    full = full_solve(edited)
    assert res.status is Status.OPTIMAL, res.message
    assert abs(res.objective - full.objective) <= REL * max(1.0, abs(full.objective))
    assert max(kkt_gaps(edited, res.x, res.row_duals).values()) <= 1e-6
    assert not any(pooled and warm for pooled, warm, _ in runs)
    pooled_cold = sum(1 for pooled, warm, _ in runs if pooled and not warm)
    assert pooled_cold == be.pooled[0]["rounds"] >= 2


@pytest.mark.parametrize("mode", ["paced", "timed_paced", "patient"])
def test_a_paced_warm_attempt_inside_a_pool_gets_the_pools_last_cold_solve(mode):
    """``pool_warm="paced"``: inside a pool the warm attempt stops after as long as the
    pool's last cold solve took (at least POOL_PACE_SECONDS, never beyond the time left);
    outside a pool, and for the pool's own cold steps, nothing changes."""
    be = solvers.get("highs", pool_warm=mode)
    be._pooling = True
    assert be._caps(0, _highs._PRIMAL, 1000, np.inf) == (True, False, _highs.POOL_WARM_SECONDS)
    be._pool_cold_seconds.extend([9.0, 2.5])
    assert be._caps(0, _highs._PRIMAL, 1000, np.inf) == (True, False, 2.5)
    assert be._caps(0, _highs._PRIMAL, 1000, 1.5) == (True, False, 1.5)
    be._pool_cold_seconds.append(0.001)
    assert be._caps(0, _highs._PRIMAL, 1000, np.inf)[2] == _highs.POOL_PACE_SECONDS
    assert be._caps(1, None, 1000, np.inf)[0] is True  # the pool's cold step: its own cap
    be._pooling = False
    assert be._caps(0, _highs._PRIMAL, 1000, np.inf) == (False, False, np.inf)


def test_paced_pools_reach_the_optimum(monkeypatch):
    """Paced warm attempts inside a pool (forced to their cap here) still end at a fresh
    solve's optimum, certified by its duals."""
    for seed in range(3):
        be, res, edited, runs = _forced(monkeypatch, seed, None, None, pool_warm="paced")
        full = full_solve(edited)
        assert res.status is Status.OPTIMAL, res.message
        assert abs(res.objective - full.objective) <= REL * max(1.0, abs(full.objective))
        assert max(kkt_gaps(edited, res.x, res.row_duals).values()) <= 1e-6


def test_a_quick_retry_is_capped_by_the_recent_pools():
    """The retry's interior point (no iteration cap): with ``pool_retry="quick"`` it gets
    3x the recent pools' cold solves (at least POOL_COLD_SECONDS), as the dual simplex
    before it; with ``pool_retry=True``, 3x the longest cold solve of all."""
    for retry, expected in [("quick", 6.0), (True, 90.0)]:
        be = solvers.get("highs", pool_retry=retry)
        be._pooling = True
        be._cold_seconds = 30.0
        be._pool_cold_seconds.extend([1.0, 2.0, 3.0])
        assert be._caps(2, None, None, np.inf) == (True, False, expected)
        assert be._caps(1, None, 5000, np.inf) == (True, False, 6.0)  # the dual simplex
        assert be._caps(2, None, None, 4.0)[2] == 4.0  # never beyond the time left


def test_after_a_stalled_pool_the_next_solve_starts_from_a_pool(monkeypatch):
    """A pool without verdict ends the solve STALLED (its basis cleared); the caller's next
    solve (after loosening its holds, which keeps the last point feasible) is a pool
    again, not the whole programme cold, and ends at a fresh solve's optimum."""
    be, res, edited, runs = _forced(monkeypatch, 2, _UNKNOWN, _UNKNOWN, pool_stall=True)
    assert res.message == solvers.STALLED and not be._basis
    real_once = _highs.HighsBackend._run_once
    after = []

    def run_once(self):
        if self is be:  # not the reference solve below
            after.append((self._pooling, self._h.getBasis().valid))
        return real_once(self)

    monkeypatch.setattr(_highs.HighsBackend, "_run_once", run_once)
    again = be.solve()
    full = full_solve(edited)
    assert again.status is Status.OPTIMAL
    assert abs(again.objective - full.objective) <= REL * max(1.0, abs(full.objective))
    assert after[0] == (True, False)  # the pool's cold solve comes first
    assert not any(not pooled and not warm for pooled, warm in after)
    assert be.pooled[-1]["status"] == "optimal"


def test_pool_warm_max_caps_the_warm_attempt_before_a_pool(monkeypatch):
    """``pool_warm_max``: the warm primal attempt before a pool stops after at most that
    many iterations (never fewer than WARM_MIN_ITERATIONS; 8,000 by default); with None the
    cap is POOL_WARM iterations per row alone. Bad values are refused by name."""
    monkeypatch.setattr(_highs, "WARM_MIN_ITERATIONS", 200)
    monkeypatch.setattr(_highs, "POOL_WARM", 100.0)  # 30 rows: 3,000 iterations
    lp, _ = random_lp(0, sense="max")
    caps = {}
    for most in (None, 500, 10):
        be = solvers.get("highs", pool_warm_max=most)
        be.load(lp)
        be.set_poolable(lp.col_lower == 0.0)
        assert be.solve().status is Status.OPTIMAL
        steps = be._steps("primal", False, "simplex")
        assert steps[1] == (None, None, "pool")
        caps[most] = steps[0][1]
    assert caps == {None: 100 * lp.num_rows, 500: 500, 10: 200}
    assert solvers.get("highs").pool_warm_max == _highs.POOL_WARM_MAX == 8000
    for bad in (0, -5, 2.5, True, "many"):
        with pytest.raises(ValueError, match="pool_warm_max must be a positive integer"):
            solvers.get("highs", pool_warm_max=bad)

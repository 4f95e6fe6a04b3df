"""A solve that stalls under the solver's own caps, and the holds' slack as an option.

A whole-programme cold solve after failed warm attempts gets a time cap
(``solvers._highs.STALL_SECONDS``); past it the solve ends ``Status.ERROR`` with the
message ``solvers.STALLED``, and the engine loosens its holds by ``STALL_SLACK`` and solves
again (a generated 60 x 120 plan's tier-3 round stalled for 522 s; with the held needs 1e-8
lower it solved in 4.1 s: bench/NOTES.md).
"""

from __future__ import annotations

import numpy as np
import pytest

import models
import planner
import solvers
from planner import engine as engine_mod
from planner.check import check_plan
from solvers import _highs


@pytest.fixture
def engines(monkeypatch):
    made = []
    real = engine_mod.Engine.__init__

    def keep(self, *args, **kwargs):
        real(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(engine_mod.Engine, "__init__", keep)
    return made


@pytest.mark.parametrize("mode", [True, "rate"])
def test_a_stalled_solve_is_repeated_with_looser_holds(monkeypatch, engines, mode):
    """Warm attempts forced to fail (HiGHS not run for them) after the plan's first
    solves, and the cold solves after them stopped at once (a time cap of no time at all,
    or a rate watch that finds every window too slow): each such solve stalls, the engine
    loosens its holds by STALL_SLACK and solves again (up to STALLS times, then its rescue
    decides); the plan is whole and passes the checker."""
    import highspy

    monkeypatch.setattr(_highs, "STALL_SECONDS", 0.0)
    monkeypatch.setattr(_highs, "STALL_FACTOR", 0.0)
    monkeypatch.setattr(_highs, "RATE_MIN_SECONDS", 0.0)
    monkeypatch.setattr(_highs, "RATE_WINDOW", 0.0)
    monkeypatch.setattr(_highs, "RATE_FACTOR", 0.0)
    real_once = _highs.HighsBackend._run_once
    seen = {"runs": 0, "warm_forced": 0, "stalled": 0}

    def run_once(self):
        seen["runs"] += 1
        warm = self._h.getBasis().valid and self._set.get("solver") == "simplex"
        capped = self._set.get("simplex_iteration_limit") not in (None, _highs._NO_LIMIT)
        if seen["runs"] > 4 and warm and capped and seen["warm_forced"] < 6:
            seen["warm_forced"] += 1
            return highspy.HighsModelStatus.kIterationLimit  # a warm attempt at its cap
        status = real_once(self)
        if status.name in ("kTimeLimit", "kInterrupt"):
            seen["stalled"] += 1
        return status

    monkeypatch.setattr(_highs.HighsBackend, "_run_once", run_once)
    scenario = models.generate(15, 30, 4)
    plan = planner.solve(scenario, pool="off", stall=mode).to_dict()
    assert plan["status"] in ("optimal", "shortfall") and not plan.get("partial")
    assert check_plan(scenario, plan) == []
    assert seen["warm_forced"] > 0 and seen["stalled"] > 0
    eng = engines[-1]
    assert 1 <= eng.stalls <= engine_mod.STALLS
    # the plan says how far its held levels were loosened (stalls and repairs): its ratios
    # can sit that far below its rounds' levels
    t = plan["timings"]
    assert (t["stalls"], t["repairs"]) == (eng.stalls, eng.repairs)
    steps = np.diff(np.r_[0.0, engine_mod.REPAIRS])[: eng.repairs].sum()
    assert t["hold_loosening"] == pytest.approx(eng.stalls * engine_mod.STALL_SLACK + steps)


def test_a_plan_without_stalls_or_repairs_reports_no_loosening():
    """Nothing stalled, nothing repaired: the plan's held levels were never loosened."""
    plan = planner.solve(models.generate(6, 10, 1)).to_dict()
    t = plan["timings"]
    assert (t["stalls"], t["repairs"], t["hold_loosening"]) == (0, 0, 0.0)


def _fail_warm(monkeypatch, be, lp):
    """Load and solve ``lp``, then make every warm attempt fail (HiGHS not run for it);
    returns the real ``_run_once``."""
    import highspy

    be.load(lp)
    assert be.solve().status == solvers.Status.OPTIMAL
    real_once = _highs.HighsBackend._run_once

    def run_once(self):
        if self._h.getBasis().valid:
            return highspy.HighsModelStatus.kIterationLimit  # a warm attempt at its cap
        return real_once(self)

    monkeypatch.setattr(_highs.HighsBackend, "_run_once", run_once)
    return real_once


def test_a_stall_is_an_error_with_its_own_message(monkeypatch):
    """At the backend: the last step of a solve after warm attempts ending at its own
    time cap is reported as STALLED (Status.ERROR), not as the caller's time limit."""
    monkeypatch.setattr(_highs, "STALL_SECONDS", 0.0)
    monkeypatch.setattr(_highs, "STALL_FACTOR", 0.0)
    be = solvers.get("highs", stall=True)
    rng = np.random.default_rng(3)
    n, m = 40, 25
    A = rng.uniform(0.1, 1.0, (m, n))
    lp = solvers.LinearProgram(
        c=rng.uniform(1, 2, n),
        A=A,
        row_lower=np.full(m, -np.inf),
        row_upper=np.full(m, 10.0),
        col_lower=np.zeros(n),
        col_upper=np.full(n, 5.0),
        sense="max",
    )
    real_once = _fail_warm(monkeypatch, be, lp)
    be.set_col_bounds(np.array([0]), np.array([1.0]), np.array([5.0]))
    res = be.solve()
    assert res.status == solvers.Status.ERROR and res.message == solvers.STALLED
    # the next solve starts cold and has the cap too (capped at no time, it stalls again);
    # with time to run, it decides
    monkeypatch.setattr(_highs.HighsBackend, "_run_once", real_once)
    assert be.solve().message == solvers.STALLED
    monkeypatch.setattr(_highs, "STALL_SECONDS", 30.0)
    assert be.solve().status == solvers.Status.OPTIMAL


@pytest.mark.parametrize("options", [{}, {"stall": False}, {"stall": "rate"}])
def test_only_stall_true_caps_cold_solves_by_time(monkeypatch, options):
    """By default (the rate watch), with ``stall="rate"`` or ``stall=False``: no time cap
    of its own on the cold solves after warm attempts."""
    monkeypatch.setattr(_highs, "STALL_SECONDS", 0.0)
    monkeypatch.setattr(_highs, "STALL_FACTOR", 0.0)
    be = solvers.get("highs", **options)
    lp = solvers.LinearProgram(
        c=np.array([1.0, 1.0]),
        A=np.array([[1.0, 2.0]]),
        row_lower=np.array([-np.inf]),
        row_upper=np.array([4.0]),
        col_lower=np.zeros(2),
        col_upper=np.full(2, 3.0),
        sense="max",
    )
    _fail_warm(monkeypatch, be, lp)
    be.set_col_bounds(np.array([0]), np.array([1.0]), np.array([3.0]))
    res = be.solve()
    assert res.status == solvers.Status.OPTIMAL
    assert res.objective == pytest.approx(3.5)


def test_hold_slack_is_an_option_of_the_highs_backend(engines):
    """``hold_slack``: the engine holds each level that much (relative) short of it."""
    assert solvers.get("highs").hold_slack == 1e-9
    assert solvers.get("highs", hold_slack=1e-8).hold_slack == 1e-8
    with pytest.raises(ValueError, match="hold_slack must be in"):
        solvers.get("highs", hold_slack=0.5)
    scenario = models.generate(6, 10, 1)
    plan = planner.solve(scenario, hold_slack=1e-8).to_dict()
    assert engines[-1].slack == 1e-8
    assert check_plan(scenario, plan) == []


class _Out:
    def __init__(self, it: int):
        self.simplex_iteration_count = it
        self.ipm_iteration_count = 0


class _In:
    user_interrupt = False


def _feed(monkeypatch, points) -> bool:
    """Run a rate watch over (seconds, simplex iterations); whether it interrupted."""
    import time

    import highspy

    clock = {"now": 0.0}
    monkeypatch.setattr(time, "perf_counter", lambda: clock["now"])
    watch = _highs._RateWatch()
    watch.start()
    inp = _In()
    for t, it in points:
        clock["now"] = t
        watch(highspy.cb.HighsCallbackType.kCallbackSimplexInterrupt, "", _Out(it), inp, None)
        if inp.user_interrupt:
            break
    return watch.hit and inp.user_interrupt


def test_the_rate_watch_stops_a_solve_whose_iterations_collapse(monkeypatch):
    """The stalled tier-3 programme's shape (bench/NOTES.md): 0.2-0.5 ms an iteration for
    6 s, then windows of hundreds of ms an iteration: stopped at the first such window."""
    steady = [(0.5 * k, 2500 * k) for k in range(13)]  # 0.2 ms an iteration for 6 s
    assert _feed(monkeypatch, [*steady, (8.0, 30_000 + 5)])
    # the same slowdown within RATE_MIN_SECONDS is not judged yet
    assert not _feed(monkeypatch, [(0.0, 0), (1.0, 5000), (3.5, 5002)])


def test_the_rate_watch_leaves_long_steady_solves_alone(monkeypatch):
    """A long solve at a steady rate, or one slowing down gradually (3x over a minute),
    is never interrupted."""
    assert not _feed(monkeypatch, [(0.5 * k, 1200 * k) for k in range(400)])
    slowing, it = [], 0
    for k in range(120):
        it += int(2000 / (1 + k / 60))
        slowing.append((0.5 * k, it))
    assert not _feed(monkeypatch, slowing)


def test_a_bad_stall_mode_is_refused():
    with pytest.raises(ValueError, match="stall must be one of"):
        solvers.get("highs", stall="sometimes")


def test_the_rate_watch_is_the_default_and_changes_no_plan_that_does_not_stall(engines):
    """The default backend watches the rate; on a small plan nothing stalls, and the
    plan is the one made without any watch."""
    assert solvers.get("highs").stall == "rate"
    scenario = models.generate(8, 16, 3)
    plan = planner.solve(scenario).to_dict()
    assert check_plan(scenario, plan) == []
    assert engines[-1].stalls == 0
    unwatched = planner.solve(scenario, stall=False).to_dict()
    ratios = [d["ratio"] for d in plan["deliveries"]]
    assert ratios == [d["ratio"] for d in unwatched["deliveries"]]


def test_a_solve_the_watch_stopped_does_not_stop_the_next(monkeypatch):
    """HiGHS keeps a callback's interrupt flag from one solve to the next: a solve the rate
    watch stopped left it set, and the next watched solve of the same model stopped at its
    first callback ("Interrupted by user"). The watch clears it at each call."""
    import dataclasses

    from planner.formulation import build

    form = build(models.generate(8, 16, 3))
    c = np.zeros(form.n)
    c[form.col_index("r")] = 1.0  # as much of every need as the economy gives
    be = solvers.get("highs")
    be.load(dataclasses.replace(form.lp, c=c, sense="max"))
    real = _highs._RateWatch.__call__
    calls = {"n": 0}

    def first_call_stops(self, kind, message, out, inp, user):
        calls["n"] += 1
        real(self, kind, message, out, inp, user)
        if calls["n"] == 1:  # as when the watch finds a window too slow
            self.hit = True
            inp.user_interrupt = True

    monkeypatch.setattr(_highs._RateWatch, "__call__", first_call_stops)
    be._option("solver", "simplex")
    be._watch_on(True)
    try:
        assert be._run_once().name == "kInterrupt"
        be._h.clearSolver()
        be._watch.start()
        assert be._run_once().name == "kOptimal"
        assert calls["n"] > 1
    finally:
        be._watch_on(False)

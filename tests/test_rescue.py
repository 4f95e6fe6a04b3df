"""Rescues: a solve HiGHS leaves without a verdict is solved afresh, as often as it happens."""

from __future__ import annotations

import pytest

import planner
from planner.check import check_plan
from solvers import Result, Status
from solvers._highs import HighsBackend
from solvers._scipy import ScipyBackend
from tests.models_fixtures import valley


@pytest.fixture
def failing(monkeypatch):
    """HiGHS ends every solve in an error; a scipy backend solves once, then errs too.

    So every stage's first solve needs a rescue, and from the second on the backend
    being rescued is the scipy one the previous rescue left.
    """
    calls = {"rescued": 0}

    def highs_error(self, time_limit=None, method=None):
        m, n = self.lp.num_rows, self.lp.num_cols
        return Result.empty(Status.ERROR, n, m, message="forced")

    real = ScipyBackend.solve

    def scipy_once(self, time_limit=None, method=None):
        if getattr(self, "_solved_once", False):
            m, n = self.lp.num_rows, self.lp.num_cols
            return Result.empty(Status.ERROR, n, m, message="forced")
        self._solved_once = True
        calls["rescued"] += 1
        return real(self, time_limit, method)

    monkeypatch.setattr(HighsBackend, "solve", highs_error)
    monkeypatch.setattr(ScipyBackend, "solve", scipy_once)
    return calls


def test_every_rescue_starts_from_the_solver_asked_for(failing):
    # HiGHS-only options (dual_tolerance, pool) must not reach the scipy rescue: the
    # second rescue used to build it from the first rescue's backend and crashed
    scenario = valley()
    plan = planner.solve(scenario, dual_tolerance=1e-9, pool="off")
    assert plan.status in ("optimal", "shortfall")
    assert failing["rescued"] >= 2
    assert check_plan(scenario, plan.to_dict()) == []


@pytest.mark.parametrize("name", ["kSolveError", "kUnknown"])
def test_a_run_without_verdict_is_repeated_without_presolve(monkeypatch, name):
    """HiGHS ending "Solve error" (seen on a pool of the README's tour, after 13 s of
    presolve, by both methods) or "Unknown" is run again without presolve, which decides."""
    import highspy
    import numpy as np

    import solvers

    lp = solvers.LinearProgram(
        c=np.array([1.0, 2.0]),
        A=np.array([[1.0, 1.0]]),
        row_lower=np.array([-np.inf]),
        row_upper=np.array([3.0]),
        col_lower=np.zeros(2),
        col_upper=np.full(2, 2.0),
        sense="max",
    )
    be = solvers.get("highs")
    be.load(lp)
    h = be._h
    real_run, real_status = h.run, h.getModelStatus
    presolve = []  # the presolve option of each run

    def run():
        presolve.append(h.getOptionValue("presolve")[1])
        return real_run()

    def status():
        return getattr(highspy.HighsModelStatus, name) if presolve[-1] != "off" else real_status()

    monkeypatch.setattr(h, "run", run)
    monkeypatch.setattr(h, "getModelStatus", status)
    res = be.solve()
    assert res.status is Status.OPTIMAL and res.objective == pytest.approx(5.0)
    assert presolve[0] != "off" and "off" in presolve

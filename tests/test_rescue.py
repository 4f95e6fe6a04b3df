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

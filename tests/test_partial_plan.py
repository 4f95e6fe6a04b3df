"""A time limit inside a stage returns the plan of the stages completed so far."""

from __future__ import annotations

import pytest

import models
import planner
import solvers
from planner.check import check_plan
from solvers import Result, Status

VALLEY = models.load(models.__path__[0] + "/../data/valley")


@pytest.mark.parametrize("stop_at", [2, 5])
def test_time_limit_gives_the_plan_of_the_stages_done(monkeypatch, stop_at):
    """The solver "runs out of time" at its ``stop_at``-th solve (deterministic, no clock)."""
    calls = {"n": 0}
    real = solvers.HighsBackend.solve

    def solve(self, time_limit=None, method=None):
        calls["n"] += 1
        if calls["n"] == stop_at:
            m, n = self.lp.num_rows, self.lp.num_cols
            return Result.empty(Status.TIME_LIMIT, n, m, message="Time limit reached")
        return real(self, time_limit=time_limit, method=method)

    monkeypatch.setattr(solvers.HighsBackend, "solve", solve)
    plan = planner.solve(VALLEY)
    doc = plan.to_dict()
    assert doc["status"] == "time_limit"
    stopped = doc["partial"]["stopped_in"]
    names = [s["name"] for s in doc["stages"]]
    assert names[-1] == stopped
    assert doc["partial"]["completed"] == names[:-1]
    assert doc["deliveries"], "the tables of the last feasible point are given"
    assert stopped in doc["message"]
    assert check_plan(VALLEY, doc) == []


def test_job_progress_reads_like_the_command_line():
    from api.worker import progress_text

    assert progress_text("needs:tier2", 3, 0.92651, 12.34) == (
        "stage needs:tier2 · round 3 · level 0.9265 · 12.3 s"
    )
    assert progress_text("min_labour", 0, float("nan"), 1.0) == "stage min_labour · 1.0 s"

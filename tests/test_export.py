"""planner export: names from the scenario, the programme as held, and nothing solved after."""

from __future__ import annotations

from pathlib import Path

import highspy

import models
import planner
import solvers
from planner.export import export_stage

VALLEY = Path(__file__).resolve().parent.parent / "data" / "valley"


def test_export_names_rows_and_columns_and_leaves_switched_off_rows_out(tmp_path, monkeypatch):
    s = models.load(VALLEY)
    calls = {"n": 0}
    real = solvers.HighsBackend.solve

    def counted(self, time_limit=None, method=None):
        calls["n"] += 1
        return real(self, time_limit=time_limit, method=method)

    monkeypatch.setattr(solvers.HighsBackend, "solve", counted)
    path = tmp_path / "t3.mps"
    lp = export_stage(s, "needs:tier3", path)
    text = path.read_text()
    assert "balance[bread@ashford]" in text
    assert "flow[bread:ashford>birchwood]" in text
    assert "need[electricity:t3@ashford]" in text
    assert "labour[ashford]" in text
    # the earlier stages' floor rows were switched off: not written
    assert "floor[needs:tier1" not in text and "floor[needs:tier2" not in text
    assert "floor[needs:tier3#0]" in text
    assert all(not n.startswith("floor[needs:tier1") for n in lp.row_names)
    # nothing is solved for the exported stage: only tiers 1 and 2 ran
    calls_export = calls["n"]
    calls["n"] = 0
    plan = planner.solve(s, stages=["needs:tier1", "needs:tier2"])
    assert calls_export == sum(st["solves"] for st in plan.stages)  # the polish is in none


def test_exported_stage_solves_to_the_plans_value(tmp_path):
    s = models.load(VALLEY)
    for suffix in ("mps", "lp"):
        path = tmp_path / f"t3.{suffix}"
        export_stage(s, "needs:tier3", path)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.readModel(str(path))
        h.run()
        value = h.getInfo().objective_function_value
        plan = planner.solve(s)
        t3 = next(st for st in plan.stages if st["name"] == "needs:tier3")
        assert abs(value - t3["value"]) < 1e-6

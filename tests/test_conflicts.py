"""Minimal conflicts and reconciliations of infeasible scenarios (SPEC section 6)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import models
import planner
import solvers
from planner.conflicts import conflict_groups, minimal_conflicts, reconcile
from planner.edits import apply_edits
from planner.why import enrich
from tests.planner_cases import link, towns

VALLEY = Path(__file__).resolve().parents[1] / "data" / "valley"


def elmstead_conflict():
    """The valley, where Elmstead's assembly gives at most 0.1% of its labour hours (560 h)
    yet wants half its vegetables (49 t, 20 h a tonne: 980 h) grown at home."""
    s = models.load(VALLEY)
    m = s.mandates
    m.loc[m["kind"] == "max_labour_share", "value"] = 0.001
    extra = {"municipality": "elmstead", "kind": "min_local_share", "target": "vegetables"}
    return s.replace(mandates=pd.concat([m, pd.DataFrame([{**extra, "value": 0.5}])]))


def without(s, member: dict):
    """The scenario without one mandate (``where`` as the conflicts name it)."""
    m = s.mandates
    desc = "mandate " + m["kind"] + np.where(m["target"] == "", "", " " + m["target"]) + " of "
    keep = (desc + m["municipality"]) != member["where"]
    assert (~keep).sum() == 1
    return s.replace(mandates=m[keep])


def test_two_mandates_of_elmstead_and_nothing_else():
    s = elmstead_conflict()
    plan = planner.solve(s)
    assert plan.status == "infeasible" and len(plan.conflicts) > 20  # the engine's raw set
    found = minimal_conflicts(s, planner.build(s))
    members = [c for c in found if c["member"]]
    assert [c["where"] for c in members] == [
        "mandate min_local_share vegetables of elmstead",
        "mandate max_labour_share of elmstead",
    ]
    assert (
        members[1]["text"] == "Elmstead's mandate to give at most 0.1% of its labour hours (560 h)"
    )
    for c in members:  # dropping either makes the scenario feasible: re-solved
        assert planner.solve(without(s, c)).status in ("optimal", "shortfall")


def test_irreducible_on_the_valley_under_min_labour_full():
    """Every need in full: the set found is infeasible by itself and each member, dropped,
    leaves a feasible programme (checked by a second solver, independently)."""
    s = models.load(VALLEY)
    form = planner.build(s)
    groups, members, lp = conflict_groups(s, form, full_needs=True)
    assert 2 <= len(members) < 10
    kinds = {groups[k].kind for k in members}
    assert "need" in kinds and "mandate" in kinds

    def feasible(on: set) -> bool:
        lo, up = lp.row_lower.copy(), lp.row_upper.copy()
        clo, cup = lp.col_lower.copy(), lp.col_upper.copy()
        for k, g in enumerate(groups):
            if k in on:
                continue
            lo[g.rows], up[g.rows] = -np.inf, np.inf
            for j, (a, b) in zip(g.cols, g.col_relaxed, strict=True):
                clo[j], cup[j] = a, b
        be = solvers.get("scipy")
        be.load(solvers.LinearProgram(np.zeros(lp.num_cols), lp.A, lo, up, clo, cup))
        return be.solve().status == solvers.Status.OPTIMAL

    assert not feasible(set(members))
    for k in members:
        assert feasible(set(members) - {k}), groups[k].where
    found = minimal_conflicts(s, form, full_needs=True)
    structure = [c["text"] for c in found if not c["member"]]
    assert "nothing can bring child care to Elmstead from elsewhere" in " | ".join(structure)
    assert not any(c["where"].startswith("flow ") for c in found)


def test_reconciliation_of_the_elmstead_conflict_makes_the_plan_feasible():
    s = elmstead_conflict()
    form = planner.build(s)
    edits = reconcile(s, form)
    assert len(edits) == 1
    (e,) = edits
    assert e["where"] == {"municipality": "elmstead", "kind": "max_labour_share", "target": ""}
    assert (e["kind"], e["field"], e["from"]) == ("mandate", "value", 0.001)
    # 49 t of vegetables at 20 h = 980 h of 560,000 h: 0.00175
    assert e["to"] == pytest.approx(0.00175)
    assert e["municipalities"] == ["elmstead"]
    assert e["text"] == "raise Elmstead's max_labour_share from 0.001 to 0.00175"
    fixed = apply_edits(s, edits)
    plan = planner.solve(fixed)
    assert plan.status in ("optimal", "shortfall")
    assert planner.check_plan(fixed, plan.to_dict()) == []


def test_reconciliation_lowers_a_share_that_cannot_be_met_at_all():
    """b must make all its grain at home but has no farm: only lowering the share helps."""
    s = towns(
        endowments=[("a", "grain", 80)],
        needs=[("a", "grain", 1, 60), ("b", "grain", 1, 40)],
        links=[link("a", "b")],
        mandates=[("b", "min_local_share", "grain", 1.0)],
    )
    edits = reconcile(s, planner.build(s))
    assert [(e["where"]["kind"], e["from"], e["to"]) for e in edits] == [
        ("min_local_share", 1.0, 0.0)
    ]
    assert planner.solve(apply_edits(s, edits)).status == "shortfall"


def test_a_limit_is_reconciled_and_all_its_members_approve():
    """Every need in full (min_labour_full): a's 10 t of grain emit 10 t CO2 against a
    confederation cap of 4 t: the cap is raised to 10, and both towns of the
    confederation are asked."""
    s = towns(
        items=(("grain", "good"), ("co2", "emission")),
        processes=(("farm", 1),),
        io=(("farm", "grain", 1), ("farm", "co2", 1)),
        capacities=(("a", "farm", ""),),
        needs=(("a", "grain", 1, 10),),
        limits=(("co2", "c", 4),),
    )
    assert planner.solve(s, rule="min_labour_full").status == "infeasible"
    edits = reconcile(s, planner.build(s), full_needs=True)
    (e,) = edits
    assert (e["kind"], e["field"], e["from"], e["to"]) == ("limit", "cap", 4.0, 10.0)
    assert e["municipalities"] == ["a", "b"]
    assert e["text"] == "raise the c's co2 cap from 4 to 10"
    assert planner.solve(apply_edits(s, edits), rule="min_labour_full").status == "optimal"


def test_enrich_an_infeasible_plan():
    s = elmstead_conflict()
    doc = enrich(s, planner.solve(s))
    assert doc["conflicts"] == [
        "mandate min_local_share vegetables of elmstead",
        "mandate max_labour_share of elmstead",
    ]
    assert doc["reconciliation"][0]["to"] == pytest.approx(0.00175)


def test_lifting_a_ban_when_it_is_the_cheapest():
    """a must grow all its 10 t of grain at home, has no land for organic farming, and bans
    the intensive farm (capacity 1,000): lifting the ban costs 10 (10 t at 1 per unit:
    10 x 100 / 1,000), lowering the share from 100% to 0 costs 100 points."""
    s = towns(
        names=("a",),
        items=(("grain", "good"), ("land", "resource")),
        processes=(("organic", 3), ("intensive", 1)),
        io=(("organic", "grain", 1), ("organic", "land", -1), ("intensive", "grain", 1)),
        capacities=(("a", "organic", ""), ("a", "intensive", 1000)),
        needs=(("a", "grain", 1, 10),),
        mandates=(("a", "min_local_share", "grain", 1.0), ("a", "forbid_process", "intensive", "")),
    )
    form = planner.build(s)
    members = [c["where"] for c in minimal_conflicts(s, form) if c["member"]]
    # (organic farming has no land to run on: the programme has no such column at all)
    assert set(members) == {
        "mandate min_local_share grain of a",
        "mandate forbid_process intensive of a",
    }
    (e,) = reconcile(s, form)
    assert (e["field"], e["from"], e["to"]) == ("active", 1.0, 0.0)
    assert e["text"] == "lift a's ban on intensive"
    fixed = apply_edits(s, [e])
    assert len(fixed.mandates) == 1
    assert planner.solve(fixed).status == "optimal"


def test_an_infeasible_plan_whose_conflicts_cannot_be_found_still_comes_back(monkeypatch):
    """The elastic filter can stall in numerical trouble (seen on a generated 30 x 60 plan
    with rows scaled "balanced"); the plan is still the infeasible verdict, with a message."""

    def stalled(lp):
        raise RuntimeError("elastic filter stalled (numerical trouble?)")

    def no_iis(self):
        return None

    monkeypatch.setattr(solvers, "elastic_iis", stalled)
    monkeypatch.setattr(solvers.HighsBackend, "iis", no_iis)
    plan = planner.solve(elmstead_conflict())
    assert plan.status == "infeasible" and plan.conflicts == []
    assert "no conflicting set found: elastic filter stalled" in plan.message

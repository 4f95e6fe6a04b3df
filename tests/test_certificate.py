"""The leximin certificate: passes on the examples' leximin plans, fails on a plan that
is not leximin (so it can tell)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from planner_cases import link, towns

import models
import planner
from planner.certificate import LOOSEN, RESOLUTION, failures, leximin_levels, unexplained

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.mark.parametrize("name", ["valley", "vermont"])
def test_examples_are_leximin(name):
    s = models.load(DATA / name)
    plan = planner.solve(s)
    levels = leximin_levels(s, plan.to_dict()["deliveries"])
    assert levels, "a plan with shortfalls has levels below 1"
    assert failures(levels) == []


def test_a_utilitarian_plan_fails_the_certificate():
    """80 t for needs of 60 (a) and 40 (b): utilitarian gives b 1 and a 2/3; leximin would
    give both 0.8, so a (at 2/3) can rise by lowering b (above it), b kept at or above
    2/3: 60 r_a + 40 (2/3) <= 80 gives r_a up to 8/9, a rise of 8/9 - 2/3 = 2/9."""
    s = towns(
        endowments=[("a", "grain", 80)],
        needs=[("a", "grain", 1, 60), ("b", "grain", 1, 40)],
        links=[link("a", "b")],
    )
    plan = planner.solve(s, rule="utilitarian")
    levels = leximin_levels(s, plan.to_dict()["deliveries"], tiers=(1,))
    bad = failures(levels)
    assert len(bad) == 1
    assert bad[0].level == pytest.approx(2 / 3, abs=1e-7)
    assert bad[0].rise == pytest.approx(2 / 9, abs=1e-6)
    # the plan's last digits account for none of it: a and b are held with reduced costs
    # of 1 at most (one unit of ratio for one), so 1e-9 each explains 2e-9 or less
    assert bad[0].explained <= 2 * RESOLUTION + 1e-12
    assert unexplained(levels) == bad
    leximin = planner.solve(s)
    assert failures(leximin_levels(s, leximin.to_dict()["deliveries"], tiers=(1,))) == []


def test_levels_within_the_gap_are_checked_once():
    """Ratios 0.5 and 0.5 + 5e-8 are one level (gap 1e-7); 0.5 + 2e-7 is the next."""
    from planner.certificate import _clusters

    values = np.array([0.5 + 2e-7, 0.5, 0.5 + 5e-8, 1.0, 0.2])
    assert _clusters(values, 1e-7) == [0.2, 0.5, 0.5 + 2e-7]


@pytest.mark.parametrize("seed", [4, 6])
def test_generated_plans_are_leximin_at_a_tight_dual_tolerance(seed):
    """Generated 15 x 30 confederations whose plans failed the certificate before (worst
    rise per need 0.0128 and 0.0132 with duals trusted unverified at HiGHS's dual
    tolerance 1e-7): with every saturation verified by LP and stage solves at a dual
    tolerance of 1e-10, no need fixed at a level can rise."""
    s = models.generate(15, 30, seed)
    plan = planner.solve(s, dual_tolerance=1e-10, verify=True, precise=False).to_dict()
    assert planner.check_plan(s, plan) == []
    levels = leximin_levels(s, plan["deliveries"])
    assert len(levels) >= 4
    assert failures(levels) == []


def test_what_remains_of_a_precise_plan_is_its_last_digits_amplified():
    """Generated 25 x 50, seed 12, planned with verified saturation at a dual tolerance of
    1e-10: where the certificate finds a rise (measured 2026-12-06, the certificate LP in
    the scenario's units: 3 of 13 levels, the largest 7 needs at 3.7e-6 rising by 0.0098
    together), the certificate LP's own reduced costs times 1e-9 on each held need
    account for it (0.037 there; that economy trades a unit of one need's ratio for up to
    4e5 of another's). A plan with a need fixed too low keeps its rise (the utilitarian
    case above)."""
    s = models.generate(25, 50, 12)
    plan = planner.solve(s, dual_tolerance=1e-10, verify=True, precise=False).to_dict()
    assert planner.check_plan(s, plan) == []
    levels = leximin_levels(s, plan["deliveries"])
    assert len(levels) >= 8
    assert unexplained(levels) == []
    for lv in failures(levels):
        assert lv.rise / lv.needs < 2e-3  # small, and explained


@pytest.fixture(scope="module")
def m_plan():
    """The benchmark's M: generated 60 x 120, seed 0, by the classic rounds; its certificate.

    Not by the default (precise levels): that plan's certificate takes about 18 minutes
    (its LPs at exact levels end in solver errors and are repeated looser, each capped;
    bench/NOTES.md, 2026-12-06), and it fails too (12 of 67 levels, 1 undecided).
    """
    s = models.generate(60, 120, 0)
    plan = planner.solve(s, precise=False).to_dict()
    return s, plan, leximin_levels(s, plan["deliveries"])


def test_the_m_plan_passes_the_checker_and_every_level_is_checked(m_plan):
    """At M size the certificate runs on every level of every tier (one LP each)."""
    s, plan, levels = m_plan
    assert planner.check_plan(s, plan) == []
    assert len(levels) >= 50
    assert {lv.tier for lv in levels} == {2, 3}  # tier 1 is met in full there
    assert all(np.isfinite(lv.best_sum) and lv.best_sum >= lv.plan_sum - 1e-6 for lv in levels)


@pytest.mark.xfail(
    strict=True,
    reason="issue 14, not met: the classic rounds' plan of generated 60 x 120 (seed 0) has 4 of 62 "
    "levels where the needs could rise together (certificate in the scenario's units, "
    "2026-12-06: worst 0.67 per need; tier 2 at 0.92725, tier 3 at 0.0037, 0.427, 0.818): "
    "a round's reduced costs sit under HiGHS's 1e-7, so it stops short and its duals fix "
    "needs that can rise (all 4 levels 'short' of their max-min); weighted rounds with fixed "
    "faces (precise levels, the default since 2026-12-06) plan M in 9.9 s, but that plan is not leximin either "
    "(2026-12-06, capped certificate: 12 of 67 levels failing, 1 undecided; 45 needs at "
    "0.98123 reach 1 with every need at or below held 1e-11 looser); bench/NOTES.md. "
    "The exact path (planner solve --exact) is leximin at M: its plan passes the certificate "
    "held at its exact levels, every rise exactly 0 (tests/test_exact.py, "
    "test_the_m_plan_planned_exactly_is_leximin_by_its_exact_certificate)",
)
def test_the_m_plan_is_leximin(m_plan):
    """The issue's goal: no need fixed at a level of M's plan can rise (1e-6 per need)."""
    _, _, levels = m_plan
    assert failures(levels) == []


def test_a_level_the_solver_cannot_decide_in_time_fails_undecided(monkeypatch):
    """Each certificate LP has a time cap; a level without an optimum at any loosening
    within it is reported undecided (``best_sum`` NaN) and counted among the failures,
    where it used to stop the certificate with an error (or run for minutes: a --precise
    plan of generated 60 x 120 spent 85.8 s on one LP before an error). The other
    levels keep the verdicts of the uncapped certificate."""
    import solvers
    from solvers import Result, Status

    s = models.generate(25, 50, 11)
    plan = planner.solve(s, precise=False).to_dict()  # calibrated on the classic rounds
    full = leximin_levels(s, plan["deliveries"])
    assert all(np.isfinite(lv.best_sum) for lv in full)
    # a real cap of a microsecond: every LP stops on it, none raises
    capped = leximin_levels(s, plan["deliveries"], level_seconds=1e-6)
    assert [(lv.tier, lv.level) for lv in capped] == [(lv.tier, lv.level) for lv in full]
    assert all(np.isnan(lv.best_sum) for lv in capped)
    assert all(lv.undecided for lv in capped) and not any(lv.undecided for lv in full)
    assert failures(capped) == capped
    # the third level's LP stops on its cap at every loosening (6 solves), the fourth's
    # held exactly only (solved 1e-12 looser, which it says), the rest solve
    get, calls = solvers.get, {"objectives": 0, "refused": 0, "fourth": 0}

    class Capped:
        def __init__(self, backend):
            self._b = backend

        def __getattr__(self, name):
            return getattr(self._b, name)

        def set_objective(self, *a, **k):
            calls["objectives"] += 1
            return self._b.set_objective(*a, **k)

        def solve(self, **k):
            lp = self._b.lp
            if calls["objectives"] == 3:
                calls["refused"] += 1
                return Result.empty(Status.TIME_LIMIT, lp.num_cols, lp.num_rows)
            if calls["objectives"] == 4 and not calls["fourth"]:
                calls["fourth"] += 1
                return Result.empty(Status.TIME_LIMIT, lp.num_cols, lp.num_rows)
            return self._b.solve(**k)

    monkeypatch.setattr(solvers, "get", lambda name, **o: Capped(get(name, **o)))
    one = leximin_levels(s, plan["deliveries"])
    assert calls["refused"] == 6  # held exactly, then each of LOOSEN
    assert np.isnan(one[2].best_sum) and one[2] in failures(one)
    assert one[2].loosened == LOOSEN[-1] and one[3].loosened == LOOSEN[0]
    assert [lv.loosened for i, lv in enumerate(one) if i not in (2, 3)] == [0.0] * (len(one) - 2)
    assert all(lv.loosened == 0.0 for lv in full)
    for i, (a, b) in enumerate(zip(one, full, strict=True)):
        if i != 2:
            assert a.best_sum == pytest.approx(b.best_sum, abs=1e-6 * max(1, b.needs))

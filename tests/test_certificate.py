"""The leximin certificate: passes on the examples' leximin plans, fails on a plan that
is not leximin (so it can tell)."""

from __future__ import annotations

from pathlib import Path

import pytest
from planner_cases import link, towns

import models
import planner
from planner.certificate import failures, leximin_levels

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
    leximin = planner.solve(s)
    assert failures(leximin_levels(s, leximin.to_dict()["deliveries"], tiers=(1,))) == []

"""equal_per_capita gives the same plan in any population unit (issue: populations in
thousands were clamped to 1)."""

from __future__ import annotations

import pytest
from planner_cases import link, ratios, towns

import planner


@pytest.mark.parametrize("unit", [1.0, 1e-3, 1e3])
def test_equal_per_capita_is_the_same_in_any_population_unit(unit):
    """a: 500 people need 10 t, b: 250 people need 5 t (tier 1); 6 t at a, free transport.

    Need per head is 0.02 t in both, the item's mean need per head 15 / 750 = 0.02, so
    the weights are 1 and 1: leximin of r_a, r_b under 10 r_a + 5 r_b <= 6 gives
    r = 0.4, a gets 4 t and b 2 t: equal shares per head (0.008 t each), whatever unit
    the populations are in (people, thousands: 0.5 and 0.25, or millions of... x 1e3).
    Clamping populations below 1 to 1 gave 3 t and 3 t in thousands.
    """
    s = towns(
        population={"a": 500 * unit, "b": 250 * unit},
        endowments=[("a", "grain", 6)],
        needs=[("a", "grain", 1, 10), ("b", "grain", 1, 5)],
        links=[link("a", "b")],
    )
    plan = planner.solve(s, rule="equal_per_capita")
    d = plan.deliveries.set_index("municipality")["delivered"]
    assert d["a"] == pytest.approx(4, abs=1e-6)
    assert d["b"] == pytest.approx(2, abs=1e-6)
    r = ratios(plan)
    assert r[("a", "grain", 1)] == pytest.approx(0.4, abs=1e-7)

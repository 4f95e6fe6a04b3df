"""Published results replayed through the planner.

1. Transportation problem: the P&T Company example of Hillier & Lieberman,
   *Introduction to Operations Research*, chapter "The Transportation and
   Assignment Problems", the prototype example:
   three canneries (supplies 75, 125, 100 truckloads) ship peas to four
   warehouses (allocations 80, 65, 70, 85) at the shipping costs below; the
   published optimum costs $152,535. In Commune's terms a cost is labour per
   unit moved: tier-1 needs are the allocations, endowments the supplies, and
   the ``min_labour`` stage is the transportation problem.

2. Leontief input-output: Miller & Blair, *Input-Output Analysis* (2nd ed.,
   2009), section 2.3 numerical example: A = [[.15, .25], [.20, .05]]; for the
   new final demand f = (600, 1500) the book gives x = L f = (1247.52,
   1841.58). With labour (value added) per unit of output as the labour
   coefficient, 650/1000 and 1400/2000 from the book's transactions table
   (z11=150, z12=500, z21=200, z22=100, x=(1000, 2000)), the price model of
   section 2.6 gives base-year prices of exactly 1: the labour values (duals of
   the goods balances in min_labour) must be 1.0 and total labour must equal
   total final demand, 2100.
"""

import pytest

import planner
from tests.planner_cases import towns

COST = {
    ("c1", "w1"): 464,
    ("c1", "w2"): 513,
    ("c1", "w3"): 654,
    ("c1", "w4"): 867,
    ("c2", "w1"): 352,
    ("c2", "w2"): 416,
    ("c2", "w3"): 690,
    ("c2", "w4"): 791,
    ("c3", "w1"): 995,
    ("c3", "w2"): 682,
    ("c3", "w3"): 388,
    ("c3", "w4"): 685,
}
SUPPLY = {"c1": 75, "c2": 125, "c3": 100}
DEMAND = {"w1": 80, "w2": 65, "w3": 70, "w4": 85}


def test_hillier_lieberman_transportation_problem():
    s = towns(
        names=(*SUPPLY, *DEMAND),
        labour={**{c: 1e6 for c in SUPPLY}, **{w: 0 for w in DEMAND}},
        items=(("peas", "good"),),
        endowments=[(c, "peas", q) for c, q in SUPPLY.items()],
        needs=[(w, "peas", 1, q) for w, q in DEMAND.items()],
        links=[(c, w, cost, "", 0.0, False) for (c, w), cost in COST.items()],
    )
    plan = planner.solve(s)
    assert plan.status == "optimal"
    stage = {x["name"]: x for x in plan.stages}
    assert stage["min_labour"]["value"] == pytest.approx(152_535, rel=1e-8)
    shipped = plan.flows.groupby("to")["quantity"].sum().to_dict()
    assert shipped == pytest.approx({w: float(q) for w, q in DEMAND.items()})


def test_miller_blair_leontief_quantities_and_labour_values():
    s = towns(
        names=("r",),
        labour={"r": 1e6},
        items=(("g1", "good"), ("g2", "good")),
        processes=(("p1", 0.65), ("p2", 0.70)),
        io=(("p1", "g1", 0.85), ("p1", "g2", -0.20), ("p2", "g1", -0.25), ("p2", "g2", 0.95)),
        capacities=(("r", "p1", ""), ("r", "p2", "")),
        needs=(("r", "g1", 1, 600), ("r", "g2", 1, 1500)),
    )
    plan = planner.solve(s)
    assert plan.status == "optimal"
    level = plan.production.set_index("process")["level"]
    assert level["p1"] == pytest.approx(1247.52, abs=0.005)
    assert level["p2"] == pytest.approx(1841.58, abs=0.005)
    price = plan.prices.set_index("item")["labour_value"]
    assert price["g1"] == pytest.approx(1.0, rel=1e-6)
    assert price["g2"] == pytest.approx(1.0, rel=1e-6)
    assert plan.metrics["total_labour"] == pytest.approx(2100, rel=1e-9)

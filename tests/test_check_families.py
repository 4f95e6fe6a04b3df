"""The plan checker finds a broken constraint of each SPEC section 3 family.

A valid plan of the valley is broken one way at a time; the checker must name
that family's problem (and the untouched plan has none).
"""

import copy
import json
from pathlib import Path

import pytest

import models
import planner
from planner.check import check_plan

VALLEY = Path(__file__).resolve().parent.parent / "data" / "valley"


@pytest.fixture(scope="module")
def valley():
    s = models.load(VALLEY)
    return s, json.loads(planner.solve(s).to_json())


def _rows(plan, key, **match):
    return [r for r in plan[key] if all(r[k] == v for k, v in match.items())]


def _negative_level(s, p):
    p["production"][0]["level"] = -1.0


def _no_capacity_row(s, p):
    cap = s.capacities
    have = set(cap.loc[cap["municipality"] == "ashford", "process"])
    other = next(q for q in s.processes["id"] if q not in have)
    p["production"].append({"municipality": "ashford", "process": other, "level": 1.0})


def _over_capacity(s, p):
    r = s.capacities.dropna(subset=["max_level"]).iloc[0]
    p["production"].append(
        {"municipality": r.municipality, "process": r.process, "level": 10 * r.max_level + 1}
    )


def _forbidden(s, p):
    p["production"].append({"municipality": "elmstead", "process": "grain_intensive", "level": 5})


def _off_the_links(s, p):
    p["flows"].append({"from": "ashford", "to": "ashford", "item": "bread", "quantity": 1.0})


def _resource_moves(s, p):
    p["flows"].append({"from": "ashford", "to": "birchwood", "item": "land", "quantity": 1.0})


def _link_over_capacity(s, p):
    p["flows"].append({"from": "ashford", "to": "dunmore", "item": "bread", "quantity": 1e6})


def _overdelivered(s, p):
    d = p["deliveries"][0]
    d["delivered"], d["need"] = 1e9, 1e9


def _misreported_labour(s, p):
    p["labour"][0]["used"] += 1000.0


def _over_labour(s, p):
    for r in _rows(p, "production", municipality="ashford"):
        r["level"] *= 1e4


def _over_limit(s, p):
    for r in p["production"]:
        r["level"] *= 100


def _missing_delivery(s, p):
    p["deliveries"].pop(0)


def _more_than_needed(s, p):
    d = next(d for d in p["deliveries"] if d["need"] > 0)
    d["delivered"] = 2 * d["need"]
    d["ratio"] = 2.0


def _wrong_ratio(s, p):
    next(d for d in p["deliveries"] if d["need"] > 0)["ratio"] = 0.123


def _exports_too_much(s, p):
    p["flows"].append({"from": "birchwood", "to": "ashford", "item": "timber", "quantity": 5000})


def _not_made_at_home(s, p):
    p["production"] = [
        r for r in p["production"] if r["municipality"] != "dunmore" or r["level"] < 0
    ]


def _over_labour_share(s, p):
    for r in _rows(p, "production", municipality="elmstead"):
        r["level"] *= 3


CASES = [
    (_negative_level, "production: negative level"),
    (_no_capacity_row, "without a capacity row"),
    (_over_capacity, "capacity: "),
    (_forbidden, "mandate forbid_process grain_intensive of elmstead"),
    (_off_the_links, "flow bread ashford -> ashford on no link"),
    (_resource_moves, "flow of land, which cannot move"),
    (_link_over_capacity, "link ashford -> dunmore: "),
    (_overdelivered, "balance "),
    (_misreported_labour, "labour of ashford: reported"),
    (_over_labour, "labour of ashford: "),
    (_over_limit, "limit co2 in "),
    (_missing_delivery, "missing from the plan"),
    (_more_than_needed, "> need"),
    (_wrong_ratio, "ratio 0.123 != delivered/need"),
    (_exports_too_much, "mandate max_export timber of birchwood"),
    (_not_made_at_home, "mandate min_local_share electricity of dunmore"),
    (_over_labour_share, "mandate max_labour_share of elmstead"),
]


def test_the_valid_plan_has_no_problem(valley):
    s, plan = valley
    assert check_plan(s, plan) == []


@pytest.mark.parametrize(("breaks", "problem"), CASES, ids=[c[0].__name__ for c in CASES])
def test_each_family_is_checked(valley, breaks, problem):
    s, plan = valley
    broken = copy.deepcopy(plan)
    breaks(s, broken)
    problems = check_plan(s, broken)
    assert any(problem in m for m in problems), problems

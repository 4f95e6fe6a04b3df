"""Courses of action, mandate costs and what-ifs (planner.alternatives, planner.costs, planner.batch)."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import models
import planner
import planner.batch as batch
from planner.alternatives import SAME, courses_of_action, distance
from planner.batch import BatchError
from planner.check import check_plan
from planner.cli import app
from planner.costs import mandate_costs, what_ifs
from planner.plan import plan_hash

SLACK = 0.02
TOL = 1e-6


def _transport(scenario, plan: dict) -> float:
    links = scenario.links
    lpu = {}
    for r in links.itertuples(index=False):
        lpu[(r[0], r[1])] = r.labour_per_unit
        if r.both_ways:
            lpu[(r[1], r[0])] = r.labour_per_unit
    return sum(f["quantity"] * lpu[(f["from"], f["to"])] for f in plan["flows"])


def _assert_within_slack(scenario, best: dict, plan: dict, slack: float) -> None:
    key = ["municipality", "item", "tier"]
    a = pd.DataFrame(best["deliveries"]).set_index(key)["ratio"]
    b = pd.DataFrame(plan["deliveries"]).set_index(key)["ratio"]
    assert (b >= (1 - slack) * a - TOL).all()
    mb, mp = best["metrics"], plan["metrics"]
    assert mp["total_labour"] <= (1 + slack) * mb["total_labour"] * (1 + TOL)
    assert mp["max_share"] <= (1 + slack) * mb["max_share"] + TOL
    assert _transport(scenario, plan) <= (1 + slack) * _transport(scenario, best) * (1 + TOL) + TOL


@pytest.fixture(scope="module", params=["data/valley", "data/vermont"])
def courses(request):
    s = planner.load(request.param)
    return s, courses_of_action(s, count=3, slack=SLACK, workers=0)


def test_three_distinct_courses_within_slack(courses):
    s, c = courses
    assert len(c.courses) == 3, c.message
    best = c.optimal
    assert best["distance"] == 0.0
    for p in c.courses:
        assert check_plan(s, p) == []
        _assert_within_slack(s, best, p, SLACK)
        assert p["distance"] > 0.05
        assert p["distance"] == pytest.approx(distance(s, best, p))
        assert p["description"] and p["description"] != "the optimal plan"
    D = np.asarray(c.distances())
    off = D[~np.eye(len(D), dtype=bool)]
    assert (off > SAME).all()
    descriptions = [p["description"] for p in c.courses]
    assert len(set(descriptions)) == 3


def test_every_course_names_its_content_with_its_hash(courses):
    s, c = courses
    plans = [c.optimal, *c.courses]
    for p in plans:  # the hash covers what courses add to a plan (course, distance, description)
        assert p["hash"] == plan_hash(p) and check_plan(s, p) == []
        # SPEC's keys on every stage; a course is one region LP solved in two phases and
        # polished (its timings), not a run of stages
        for st in p["stages"]:
            assert {"name", "value", "solves", "seconds"} <= set(st), st
    for p in c.courses:
        assert all(st["solves"] == 0 and st["seconds"] == 0.0 for st in p["stages"])
        assert p["timings"]["lp_solves"] == 3 and p["timings"]["solve"] > 0
    assert len({p["hash"] for p in plans}) == len(plans)


def test_the_optimal_plan_is_the_plan():
    s = planner.load("data/valley")
    c = courses_of_action(s, count=1, workers=0)
    plan = planner.solve(s).to_dict()
    assert c.optimal["deliveries"] == plan["deliveries"]


def test_a_tighter_slack_keeps_courses_closer():
    s = planner.load("data/valley")
    tight = courses_of_action(s, count=2, slack=0.002, workers=0)
    loose = courses_of_action(s, count=2, slack=0.05, workers=0)
    for p in tight.courses:
        _assert_within_slack(s, tight.optimal, p, 0.002)
    assert max(p["distance"] for p in tight.courses) < max(p["distance"] for p in loose.courses)


def test_bad_count_and_slack_are_refused():
    s = planner.load("data/valley")
    with pytest.raises(ValueError, match="count"):
        courses_of_action(s, count=0, workers=0)
    with pytest.raises(ValueError, match="slack"):
        courses_of_action(s, count=1, slack=1.5, workers=0)


# --------------------------------------------------------------------------- by hand


def _two_towns(cap: float = 100.0, max_export: float | None = 30.0):
    """A makes grain (1 h a tonne, up to ``cap``); A needs 20 t (vital), B 50 t (standard)."""
    mandates = (
        [{"municipality": "a", "kind": "max_export", "target": "grain", "value": max_export}]
        if max_export is not None
        else []
    )
    return models.from_tables(
        {"name": "two towns"},
        {
            "confederations": [{"id": "c", "name": "C", "parent": ""}],
            "municipalities": [
                {
                    "id": "a",
                    "name": "Ayton",
                    "confederation": "c",
                    "population": 100,
                    "labour_hours": 1000,
                },
                {
                    "id": "b",
                    "name": "Beeton",
                    "confederation": "c",
                    "population": 100,
                    "labour_hours": 1000,
                },
            ],
            "items": [{"id": "grain", "name": "Grain", "kind": "good"}],
            "processes": [{"id": "farm", "name": "Farm", "labour_hours": 1}],
            "process_io": [{"process": "farm", "item": "grain", "quantity": 1}],
            "capacities": [{"municipality": "a", "process": "farm", "max_level": cap}],
            "needs": [
                {"municipality": "a", "item": "grain", "tier": 1, "quantity": 20},
                {"municipality": "b", "item": "grain", "tier": 2, "quantity": 50},
            ],
            "links": [{"from": "a", "to": "b", "labour_per_unit": 0.1}],
            "mandates": mandates,
        },
    )


def test_mandate_cost_derived_by_hand():
    # with the mandate B gets the 30 t A may export (60%); without it all 50 t (100%)
    s = _two_towns()
    doc = mandate_costs(s, workers=0)
    assert [c["mandate"]["where"] for c in doc["costs"]] == ["max_export grain of a"]
    cost = doc["costs"][0]
    b = [n for n in cost["needs"] if n["municipality"] == "b"]
    assert b[0]["ratio_before"] == pytest.approx(0.6)
    assert b[0]["ratio_after"] == pytest.approx(1.0)
    assert cost["text"][0] == "Ayton's max_export of grain costs Beeton 40 points of standard grain"
    assert check_plan(_two_towns(max_export=None), cost["plan"]) == []
    # A works 20 more hours (and moves 20 t more) without it
    lab = {r["municipality"]: r["change"] for r in cost["labour"]}
    assert lab["a"] == pytest.approx(20 + 0.1 * 20)


def test_an_infeasible_scenario_has_no_courses_and_says_why(tmp_path):
    # Beeton must make all its grain at home, and nothing can make grain there
    s = _two_towns(max_export=None).replace(
        mandates=[{"municipality": "b", "kind": "min_local_share", "target": "grain", "value": 1}]
    )
    c = courses_of_action(s, count=2, workers=0)
    assert c.optimal["status"] == "infeasible" and c.courses == []
    assert "mandate min_local_share grain of b" in c.message
    models.save(s, tmp_path / "s")
    r = CliRunner().invoke(app, ["alternatives", str(tmp_path / "s"), "--workers", "0", "-q"])
    assert r.exit_code == 3
    assert "no courses of action: the plan is infeasible" in r.output
    assert "Traceback" not in r.output


def test_no_binding_mandate_no_cost():
    doc = mandate_costs(_two_towns(max_export=None), workers=0)
    assert doc["costs"] == []


def test_what_if_derived_by_hand():
    # capacity 60 for 70 t of need: A's vital 20 t first, B gets 40 of its 50 t (80%);
    # 10% more capacity (6 t) all goes to B: 46/50; one unit more: 41/50
    s = _two_towns(cap=60.0, max_export=None)
    doc = what_ifs(s, workers=0)
    assert doc["worst_off"]["municipality"] == "b"
    assert doc["worst_off"]["ratio"] == pytest.approx(0.8)
    top = doc["what_ifs"][0]
    assert top["where"] == "capacity farm of a"
    assert top["step"] == pytest.approx(6.0)
    assert top["worst_off_gain"] == pytest.approx(46 / 50 - 0.8)
    assert "checked by re-solve" in top["text"]
    unit = what_ifs(s, step=1, unit=True, workers=0)["what_ifs"][0]
    assert unit["worst_off_gain"] == pytest.approx(41 / 50 - 0.8)


# --------------------------------------------------------------------------- batches


def test_journal_resumes_without_solving_again(tmp_path):
    s = planner.load("data/valley")
    j = tmp_path / "courses.jsonl"
    first = courses_of_action(s, count=2, workers=0, journal=j)
    assert first.batch["solved"] == first.batch["tasks"]
    lines = j.read_text().splitlines()
    assert all(json.loads(line)["key"] for line in lines)
    again = courses_of_action(s, count=2, workers=0, journal=j)
    assert again.batch["solved"] == 0 and again.batch["reused"] == again.batch["tasks"]
    assert [p["distance"] for p in again.courses] == [p["distance"] for p in first.courses]


def test_an_interrupted_batch_solves_only_what_is_missing(tmp_path):
    s = planner.load("data/valley")
    j = tmp_path / "costs.jsonl"
    first = mandate_costs(s, workers=0, journal=j)
    lines = j.read_text().splitlines()
    assert len(lines) == 5  # the plan and four mandates
    j.write_text("\n".join(lines[:3]) + "\n" + lines[3][:20])  # killed while writing line 4
    again = mandate_costs(s, workers=0, journal=j)
    assert again["batch"]["solved"] == 2 and again["batch"]["reused"] == 3
    assert [c["text"] for c in again["costs"]] == [c["text"] for c in first["costs"]]


def test_progress_is_reported():
    seen = []
    courses_of_action(
        planner.load("data/valley"), count=2, workers=0, progress=lambda *a: seen.append(a)
    )
    assert seen[-1][0] == seen[-1][1]
    assert any(label.startswith("courses") for _, _, label in seen)


def test_dask_cluster_gives_the_same_courses_and_costs():
    from distributed import LocalCluster

    s = planner.load("data/valley")
    local = courses_of_action(s, count=2, workers=0)
    local_costs = mandate_costs(s, workers=0)
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        remote = courses_of_action(s, count=2, scheduler=cluster.scheduler_address)
        remote_costs = mandate_costs(s, scheduler=cluster.scheduler_address)
    for a, b in zip(local.courses, remote.courses, strict=True):
        assert a["distance"] == pytest.approx(b["distance"], abs=1e-9)
        assert a["description"] == b["description"]
    assert [c["text"] for c in local_costs["costs"]] == [c["text"] for c in remote_costs["costs"]]


def test_local_processes_give_the_same_courses():
    s = planner.load("data/valley")
    inline = courses_of_action(s, count=2, workers=0)
    pooled = courses_of_action(s, count=2, workers=2)
    assert [p["description"] for p in inline.courses] == [p["description"] for p in pooled.courses]


def test_unreachable_scheduler_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(batch, "CONNECT_TIMEOUT", 0.5)
    with pytest.raises(BatchError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        courses_of_action(planner.load("data/valley"), scheduler="tcp://127.0.0.1:9")
    monkeypatch.setenv("COMMUNE_DASK_SCHEDULER", "tcp://127.0.0.1:9")
    r = CliRunner().invoke(app, ["alternatives", "data/valley", "-q"])
    assert r.exit_code == 1
    assert "cannot reach the Dask scheduler" in r.output
    assert "Traceback" not in r.output


# --------------------------------------------------------------------------- CLI


def test_cli_shows_courses_side_by_side():
    r = CliRunner().invoke(
        app,
        ["alternatives", "data/valley", "--count", "3", "--workers", "0", "-q"],
        env={"COLUMNS": "200"},
    )
    assert r.exit_code == 0, r.output
    for head in ("optimal", "course 1", "course 2", "course 3", "distance", "needs:tier1"):
        assert head in r.output
    assert r.output.count("course ") >= 6


def test_cli_json_and_bad_options(tmp_path):
    out = tmp_path / "c.json"
    r = CliRunner().invoke(
        app,
        [
            "alternatives",
            "data/valley",
            "--count",
            "1",
            "--workers",
            "0",
            "--json",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert doc["courses"][0]["distance"] > 0
    r = CliRunner().invoke(app, ["alternatives", "data/valley", "--slack", "-1", "-q"])
    assert r.exit_code == 2 and "slack" in r.output


def test_cli_mandate_costs_and_what_if():
    r = CliRunner().invoke(app, ["mandate-costs", "data/valley", "--workers", "0", "-q"])
    assert r.exit_code == 0, r.output
    assert "Birchwood's max_export of timber costs" in r.output
    r = CliRunner().invoke(app, ["what-if", "data/valley", "--workers", "0", "-q"])
    assert r.exit_code == 0, r.output
    assert "1. " in r.output and "checked by re-solve" in r.output

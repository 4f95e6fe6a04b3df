"""The command line explains shortfalls, names minimal conflicts and proposes a reconciliation."""

import json
from pathlib import Path

from typer.testing import CliRunner

import models
from planner.cli import app
from tests.test_conflicts import elmstead_conflict

VALLEY = Path(__file__).resolve().parents[1] / "data" / "valley"
runner = CliRunner()


def test_summary_explains_every_short_need():
    r = runner.invoke(app, ["solve", str(VALLEY)], env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    assert "31 needs not fully met, and why" in r.output
    assert (
        "Ashford's desired electricity is at 34%: the Lower Valley District's CO2 cap "
        "(7,000 t) is fully used; each 100 t more would raise it by about 0.67 points"
    ) in r.output
    assert (
        "Elmstead's desired child care is at 18%: Elmstead's mandate to give at most 8.5%"
        in r.output
    )


def test_json_has_explanations():
    r = runner.invoke(app, ["solve", str(VALLEY), "--json"])
    doc = json.loads(r.stdout)
    assert len(doc["explanations"]) == 31
    e = doc["explanations"][0]
    assert {"municipality", "item", "tier", "ratio", "stage", "limited_by", "text"} <= e.keys()


def test_infeasible_prints_the_minimal_conflict_and_a_reconciliation(tmp_path):
    path = tmp_path / "s.json"
    models.save(elmstead_conflict(), path)
    r = runner.invoke(app, ["solve", str(path)], env={"COLUMNS": "400"})
    assert r.exit_code == 3
    lines = [x for x in r.output.splitlines() if x.strip().startswith("conflict:")]
    assert len(lines) == 2
    assert "raise Elmstead's max_labour_share from 0.001 to 0.00175  (asks elmstead)" in r.output
    assert "flow " not in r.output
    doc = json.loads(runner.invoke(app, ["solve", str(path), "--json"]).stdout)
    assert doc["reconciliation"][0]["field"] == "value"


def test_time_limit_is_said_in_words(tmp_path):
    from models.generator import generate

    path = tmp_path / "big"
    models.save(generate(municipalities=60, goods=40, seed=3), path)
    r = runner.invoke(app, ["solve", str(path), "--time-limit", "0.0001", "--quiet"])
    assert r.exit_code == 4, r.output
    assert (
        "The time limit ran out before the plan was made; ask for a longer time limit" in r.output
    )
    assert "Traceback" not in r.output

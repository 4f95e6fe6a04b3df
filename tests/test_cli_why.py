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


def test_needs_sharing_a_level_and_a_reason_are_told_once():
    """Where the needs do not fit the summary's lines, it says a reason once for every need
    at the same level it limits (a generated 60 x 120 plan: 205 desired needs at 32%, one
    capacity), naming the first three; needs without a reason found, or alone with theirs,
    keep their own line. (The valley's 31 fit: one line each, above.)"""
    from planner.cli import _grouped_reasons

    def e(name, ratio, reason, limited=True, tier=3):
        return {
            "tier": tier,
            "ratio": ratio,
            "limited_by": [{"kind": "capacity"}] if limited else [],
            "text": f"{name} is at {ratio:.0%}: {reason}",
        }

    cap = "Town 52's making product 33 runs at its capacity (18,000)."
    rows = [e(f"Town {k}'s desired product {k}", 0.32, cap) for k in range(5)]
    rows.insert(2, e("Town 9's desired service 1", 0.32, "the water cap is fully used."))
    rows.append(e("Town 7's desired tea", 0.32, cap, limited=False))
    rows.append(e("Town 8's standard bread", 0.32, cap, tier=2))
    lines = _grouped_reasons(rows)
    assert lines[0] == (
        "5 needs at 32% (Town 0's desired product 0, Town 1's desired product 1, Town 2's "
        f"desired product 2 and 2 more): {cap}",
        5,
    )
    assert lines[1] == ("Town 9's desired service 1 is at 32%: the water cap is fully used.", 1)
    assert [n for _, n in lines] == [5, 1, 1, 1]
    assert sum(n for _, n in lines) == len(rows)


def test_the_summary_says_how_many_needs_the_planner_stopped_short_of_and_the_remedy(tmp_path):
    """On the generated 25 x 50 confederation (seed 11) the classic rounds' plan
    (--no-precise) has explanations that say of 136 needs that they could rise without
    lowering any other (measured 2026-12-06; tests/test_why.py); the summary counts them
    and names --precise, whose plan (the default: weighted rounds with fixed faces,
    docs/WHY.md) has none: it says nothing then. The valley has none, and no such line."""
    models.save(models.generate(25, 50, 11), tmp_path / "s.json")
    classic = ["solve", str(tmp_path / "s.json"), "--no-precise"]
    r = runner.invoke(app, classic, env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    doc = json.loads(runner.invoke(app, [*classic, "--json"]).stdout)
    short = [e for e in doc["explanations"] if "stopped short" in e["text"]]
    assert len(short) >= 10
    assert (
        f"{len(short)} needs could rise without lowering any other: the solver's precision "
        "stopped the planner short of them; run with --precise to plan levels more exactly."
    ) in r.output
    precise = runner.invoke(
        app, ["solve", str(tmp_path / "s.json"), "--precise"], env={"COLUMNS": "400"}
    )
    assert precise.exit_code == 0, precise.output
    assert "stopped the planner short" not in precise.output
    default = runner.invoke(app, ["solve", str(tmp_path / "s.json")], env={"COLUMNS": "400"})
    assert default.exit_code == 0 and "stopped the planner short" not in default.output
    valley = runner.invoke(app, ["solve", str(VALLEY)], env={"COLUMNS": "400"})
    assert "--precise" not in valley.output


def test_the_stopped_short_note_names_precise_only_when_not_used_and_not_for_other_rules():
    from planner.cli import _short_of

    held = {"kind": "rule", "where": "leximin"}
    doc = {"rule": "leximin", "explanations": [{"limited_by": [held]}, {"limited_by": []}]}
    assert _short_of(doc, precise=False) == (
        "1 need could rise without lowering any other: the solver's precision stopped the "
        "planner short of them; run with --precise to plan levels more exactly"
    )
    assert "--precise" not in _short_of(doc, precise=True)
    other = {"kind": "rule", "where": "proportional"}
    prop = {"rule": "proportional", "explanations": [{"limited_by": [other]}]}
    assert _short_of(prop, precise=False) == ""

"""The time for explanations: checked inside a group of needs too, given by `planner solve`
by default (``--explain-seconds``), and what it left out said in words."""

import io
import json
import time
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import models
import planner
import planner.cli as cli
from planner import why
from planner.cli import app
from tests.test_conflicts import elmstead_conflict

VALLEY = Path(__file__).resolve().parents[1] / "data" / "valley"
runner = CliRunner()
WIDE = {"COLUMNS": "400"}
BUDGET = 1.0  # seconds: far more than the valley needs before its first solve


@pytest.fixture(scope="module")
def valley():
    return models.load(VALLEY)


LATE = "not explained: the time for explanations ran out"


def late(e: dict) -> bool:
    return LATE in e["text"] and not e["limited_by"]


def count_solves(monkeypatch, slow: float = 0.0) -> list:
    """Count the sensitivity programme's solves; ``slow``: the first takes this long more."""
    calls: list = []
    solve = why._Probe._solve

    def counted(self):
        calls.append(1)
        res = solve(self)
        if len(calls) == 1:
            time.sleep(slow)
        return res

    monkeypatch.setattr(why._Probe, "_solve", counted)
    return calls


def short_needs(plan) -> int:
    d = plan.deliveries
    return int(((d["need"] > 0) & (d["ratio"] < 1 - 1e-6)).sum())


@pytest.mark.parametrize("rule", ["leximin", "proportional"])
def test_the_time_running_out_inside_a_group_leaves_its_needs_unexplained(
    valley, monkeypatch, rule
):
    """The time runs out during a group's first solve: no further probe is solved, and every
    need not explained by then (the whole group under leximin; all but the first need under
    proportional, whose first need the rule itself holds) says so instead of a reason."""
    plan = planner.solve(valley, rule=rule)
    assert planner.check_plan(valley, plan.to_dict()) == []
    calls = count_solves(monkeypatch, slow=BUDGET + 0.1)  # the first solve outlasts the budget
    exs = why.explain_shortfalls(valley, planner.build(valley), plan.to_dict(), seconds=BUDGET)
    assert len(exs) == short_needs(plan) > 1
    assert len(calls) == 1  # the first solve only: each later one was checked first
    unexplained = [e for e in exs if late(e)]
    assert all(why.is_late(e) for e in unexplained)
    if rule == "leximin":  # one group's solve, then its limiters would need more solves
        assert len(unexplained) == len(exs) == 31
    else:  # one group of 36 needs, one probe each: the first says its rule holds it
        assert len(unexplained) == len(exs) - 1 == 35
        (first,) = [e for e in exs if not late(e)]
        assert first["limited_by"][0]["kind"] == "rule"


@pytest.mark.parametrize("rule", ["leximin", "proportional"])
def test_without_a_budget_every_need_gets_a_reason(valley, monkeypatch, rule):
    plan = planner.solve(valley, rule=rule)
    calls = count_solves(monkeypatch)
    exs = why.explain_shortfalls(valley, planner.build(valley), plan.to_dict())
    assert len(exs) == short_needs(plan) and len(calls) > len(exs) // 2
    assert not any(late(e) for e in exs)
    assert all(e["limited_by"] for e in exs)


def test_a_budget_that_suffices_changes_nothing(valley):
    """Each solve is capped at what is left of the budget: with time to spare, the same."""
    plan = planner.solve(valley).to_dict()
    form = planner.build(valley)
    assert why.explain_shortfalls(valley, form, plan, seconds=600) == why.explain_shortfalls(
        valley, form, plan
    )


def test_an_infeasible_plan_out_of_time_keeps_the_solvers_conflicts():
    s = elmstead_conflict()
    plan = planner.solve(s)
    doc = why.enrich(s, plan, seconds=0.0)
    assert doc["conflict_set"] is None and doc["reconciliation"] is None
    assert doc["conflicts"] == plan.conflicts and len(doc["conflicts"]) > 20
    full = why.enrich(s, doc)  # not worked out yet: with time, it is
    assert full["reconciliation"][0]["to"] == pytest.approx(0.00175)


# --------------------------------------------------------------------------- the command line


def spy_budget(monkeypatch) -> list:
    """The ``seconds`` each explanation of the command line was given."""
    given: list = []
    enrich = why.enrich_safely

    def spied(s, plan, seconds=None, **kw):
        given.append(seconds)
        return enrich(s, plan, seconds=seconds, **kw)

    monkeypatch.setattr(why, "enrich_safely", spied)
    return given


def test_by_default_a_small_plan_is_explained_in_full_within_a_minute(valley, monkeypatch):
    given = spy_budget(monkeypatch)
    r = runner.invoke(app, ["solve", str(VALLEY)], env=WIDE)
    assert r.exit_code == 0, r.output
    assert given == [60.0]  # a minute (planner.cli.EXPLAIN_SECONDS)
    assert cli.EXPLAIN_SECONDS == 60.0
    assert "31 needs not fully met, and why (lowest first):" in r.output
    assert "not explained" not in r.output and "--explain-seconds" not in r.output
    doc = json.loads(runner.invoke(app, ["solve", str(VALLEY), "--json"]).stdout)
    assert len(doc["explanations"]) == 31 and not any(late(e) for e in doc["explanations"])
    assert planner.check_plan(valley, doc) == []


def test_a_longer_time_limit_leaves_the_explanations_what_is_left_of_it(monkeypatch):
    given = spy_budget(monkeypatch)
    r = runner.invoke(app, ["solve", str(VALLEY), "--time-limit", "600", "--json"])
    assert r.exit_code == 0, r.output
    (seconds,) = given
    assert seconds is not None and 500 < seconds < 600


def test_explain_seconds_0_skips_explanations_and_says_so(valley, monkeypatch):
    calls = count_solves(monkeypatch)
    r = runner.invoke(app, ["solve", str(VALLEY), "--explain-seconds", "0"], env=WIDE)
    assert r.exit_code == 0, r.output
    assert calls == []
    assert "and why" not in r.output
    assert "31 needs not fully met (lowest first; 10 of 31 shown, 21 more):" in r.output
    assert (
        "The needs not fully met were not explained (--explain-seconds 0); run without it to "
        "explain them."
    ) in r.output
    j = runner.invoke(app, ["solve", str(VALLEY), "--explain-seconds", "0", "--json"])
    doc = json.loads(j.stdout)
    assert "explanations" not in doc and doc["status"] == "shortfall"
    assert planner.check_plan(valley, doc) == []


def test_a_budget_that_runs_out_is_said_in_words(valley):
    args = ["solve", str(VALLEY), "--explain-seconds", "0.000001"]
    r = runner.invoke(app, args, env=WIDE)
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output
    assert (
        "31 needs were not explained within 1e-06 s; run with --explain-seconds 600 to explain "
        "them all."
    ) in r.output
    j = runner.invoke(app, [*args, "--json"])
    doc = json.loads(j.stdout)  # stdout is the JSON alone; the note goes to stderr
    assert len(doc["explanations"]) == 31 and all(late(e) for e in doc["explanations"])
    assert "note: 31 needs were not explained within 1e-06 s" in j.stderr
    assert planner.check_plan(valley, doc) == []


def test_an_infeasible_scenario_out_of_time_says_so(tmp_path):
    path = tmp_path / "s.json"
    models.save(elmstead_conflict(), path)
    r = runner.invoke(app, ["solve", str(path), "--explain-seconds", "0.000001"], env=WIDE)
    assert r.exit_code == 3, r.output
    assert "Traceback" not in r.output
    assert "  conflict: mandate max_labour_share of elmstead" in r.output  # the solver's list
    assert (
        "The least set of conflicting constraints was not found within 1e-06 s (the solver's "
        "own list is shown); run with --explain-seconds 600 to have it and a reconciliation."
    ) in r.output
    doc = json.loads(
        runner.invoke(app, ["solve", str(path), "--json", "--explain-seconds", "0"]).stdout
    )
    assert "conflict_set" not in doc and "reconciliation" not in doc


def test_a_terminal_shows_the_explanations_progress(monkeypatch):
    screen = io.StringIO()
    tty = Console(file=screen, force_terminal=True, width=200)
    monkeypatch.setattr(cli, "err", tty)
    r = runner.invoke(app, ["solve", str(VALLEY)], env=WIDE)
    assert r.exit_code == 0, r.output
    assert "explaining 31 needs not fully met…" in screen.getvalue()
    assert "(at most 60 s)" in screen.getvalue()
    assert "explaining" not in r.stdout


def test_piped_output_shows_no_progress(monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=screen, force_terminal=False))
    r = runner.invoke(app, ["solve", str(VALLEY)], env=WIDE)
    assert r.exit_code == 0, r.output
    assert screen.getvalue() == "" and r.stderr == ""
    assert "explaining" not in r.stdout
    j = runner.invoke(app, ["solve", str(VALLEY), "--json"])
    assert screen.getvalue() == "" and j.stderr == ""
    json.loads(j.stdout)  # the JSON alone

"""bench.trace: every HiGHS run of a plan recorded, grouped and written; pools' cold method."""

import json

import pytest

import models
import planner
from bench import trace
from planner import check_plan


@pytest.fixture
def traced(monkeypatch):
    """Record every run in this process (the engine and backend wrapped, then restored)."""
    from planner import engine as engine_mod
    from solvers import _highs

    monkeypatch.setattr(_highs.HighsBackend, "_run_once", _highs.HighsBackend._run_once)
    monkeypatch.setattr(engine_mod.Engine, "_solve", engine_mod.Engine._solve)
    runs: list[dict] = []
    trace._install(runs, ["(none)"])
    return runs


def test_every_run_is_recorded_with_its_stage_and_grouped(traced):
    s = models.generate(15, 30, 4)
    plan = planner.solve(s).to_dict()
    assert check_plan(s, plan) == []
    stages = {st["name"] for st in plan["stages"]}
    assert {r["stage"] for r in traced} <= stages
    assert "needs:tier1" in {r["stage"] for r in traced}
    # at least one run per LP solve (a solve may take several: warm attempt, cold, pool)
    assert len(traced) >= plan["timings"]["lp_solves"] - 1  # polish counts as a solve
    first = traced[0]
    assert first["cold"] and first["status"] == "Optimal" and first["simplex"] > 0
    g = trace.groups(traced)
    assert sum(x["runs"] for x in g) == len(traced)
    assert sum(x["simplex"] for x in g) == sum(r["simplex"] for r in traced)
    assert g == sorted(g, key=lambda x: -x["seconds"])


@pytest.mark.parametrize("pool_cold,solver", [(None, "simplex"), ("ipm", "ipm")])
def test_a_pools_cold_solves_run_by_the_method_asked_for(traced, monkeypatch, pool_cold, solver):
    """Warm attempts capped at 0 send every re-solve to a pool; its cold solves run by
    the dual simplex by default, by interior point (with crossover) with
    ``pool_cold="ipm"``; the plan passes the checker either way."""
    from solvers import _highs

    monkeypatch.setattr(_highs, "WARM_MIN_ITERATIONS", 0)
    monkeypatch.setattr(_highs, "POOL_WARM", 0.0)
    s = models.generate(15, 30, 6)
    options = {} if pool_cold is None else {"pool_cold": pool_cold}
    plan = planner.solve(s, **options).to_dict()
    assert check_plan(s, plan) == []
    cold = [r for r in traced if r["pooled"] and r["cold"]]
    assert cold, "no pool was solved cold"
    assert {r["solver"] for r in cold} == {solver}
    if solver == "ipm":
        assert all(r["run_crossover"] for r in cold) and sum(r["ipm"] for r in cold) > 0
    else:
        assert {r["strategy"] for r in cold} == {_highs._DUAL}


def test_a_bad_pool_cold_method_is_refused():
    import solvers

    with pytest.raises(ValueError, match="pool_cold must be one of"):
        solvers.get("highs", pool_cold="barrier")


def test_command_line_writes_the_trace(tmp_path):
    trace.main(["15x30:4", "--modes", "default,pool_ipm", "--limit", "120", "--out", str(tmp_path)])
    rows = json.loads((tmp_path / "trace.json").read_text())
    assert [r["mode"] for r in rows] == ["default", "pool_ipm"]
    for r in rows:
        assert r["status"] in ("optimal", "shortfall") and r["check"] == 0
        assert r["runs"] and sum(x["seconds"] for x in r["runs"]) <= r["seconds"]
    text = (tmp_path / "TRACE.md").read_text()
    assert "## 15x30:4, pool_ipm" in text and "| needs:tier1 | cold dual simplex |" in text


def test_an_unknown_mode_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        trace.main(["15x30:4", "--modes", "fastest", "--out", str(tmp_path)])
    assert "unknown mode(s) ['fastest']" in capsys.readouterr().err


def test_a_size_name_plans_the_scenario_make_bench_plans():
    """``tour`` is the README's tour (seed 1, as bench.measure.SEEDS and `make bench`):
    until 2026-12-06 bench.trace and bench.exactness generated it with seed 0. A seed after
    a colon wins; other sizes default to 0."""
    from bench.exactness import _scenario
    from bench.measure import load_scenario

    assert _scenario("tour").content_hash == models.generate(200, 100, 1).content_hash
    assert _scenario("tour").content_hash == load_scenario("tour").content_hash
    assert _scenario("tour:0").content_hash == models.generate(200, 100, 0).content_hash
    assert _scenario("30x60:1").content_hash == models.generate(30, 60, 1).content_hash
    assert _scenario("S").content_hash == load_scenario("S").content_hash

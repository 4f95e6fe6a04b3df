"""What-if sweeps: axes, variants, executors (local processes, Dask) and resuming."""

import json
import os
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

import planner.sweep as sw
from planner.sweep import (
    SweepError,
    journal_path,
    parse_axis,
    read_journal,
    read_results,
    sweep,
    variant,
)
from tests.lab_cases import harvest

APPROX = {"rel": 1e-6, "abs": 1e-7}
VARY = ["limit.co2=0.5,1", "needs.tier1=1,1.2"]
RULES = ["leximin", "utilitarian"]
N_TASKS = 2 * 2 * 2


@pytest.fixture(scope="module")
def base():
    return harvest()


@pytest.fixture(scope="module")
def local(base):
    """The reference: the grid solved in this process."""
    return sweep(base, VARY, RULES, workers=0)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        a.drop(columns=["seconds"]).reset_index(drop=True),
        b.drop(columns=["seconds"]).reset_index(drop=True),
    )


def test_parse_axis():
    assert parse_axis("labour=0.8:1.2:5").values == (0.8, 0.9, 1.0, 1.1, 1.2)
    assert parse_axis("limit.co2=0.5,1").values == (0.5, 1.0)
    assert parse_axis("needs.tier3=1.5").values == (1.5,)
    assert parse_axis("endowment.grain=0.6:1:3").name == "endowment.grain"
    for bad in ("labour", "labour=", "labour=1:2", "labour=a", "labour=-1", "labour=1,1",
                "needs.tier4=1", "population=1", "labour=1:2:0"):  # fmt: skip
        with pytest.raises(SweepError):
            parse_axis(bad)


def test_axes_must_change_the_scenario(base):
    with pytest.raises(SweepError, match="no limit on 'water'"):
        sweep(base, ["limit.water=1,2"], workers=0)
    with pytest.raises(SweepError, match="no tier2 needs"):
        sweep(base, ["needs.tier2=1,2"], workers=0)
    with pytest.raises(SweepError, match="endowment of 'co2'"):
        sweep(base, ["endowment.co2=1,2"], workers=0)
    with pytest.raises(SweepError, match="varied twice"):
        sweep(base, ["labour=1", "labour=2"], workers=0)


def test_variant_scales_what_it_names(base):
    v = variant(base, {"labour": 0.5, "limit.co2": 2, "needs.tier1": 1.5, "endowment.grain": 3})
    assert v.municipalities["labour_hours"].tolist() == [500.0] * 3
    assert v.limits["cap"].tolist() == [140.0]
    n = v.needs.set_index(["municipality", "tier"])["quantity"]
    assert n[("a", 1)] == 90 and n[("a", 3)] == 50  # tier 3 untouched
    e = v.endowments.set_index(["municipality", "item"])["quantity"]
    assert e[("b", "grain")] == 30 and e[("a", "land")] == 120
    assert base.limits["cap"].tolist() == [70.0]  # the base scenario is unchanged
    assert variant(base, {}) is base


def test_grid_rows_and_known_answers(local):
    assert len(local) == N_TASKS
    assert list(local.columns[:5]) == ["point", "limit.co2", "needs.tier1", "rule", "status"]
    assert local.attrs["solved"] == N_TASKS and local.attrs["complete"]
    # half the CO2: 35 t allows 70 t farmed + 10 in store = 80 < 130 vital: leximin shares it
    r = local[
        (local["limit.co2"] == 0.5) & (local["needs.tier1"] == 1) & (local["rule"] == "leximin")
    ]
    assert r["min_ratio_tier1"].iat[0] == pytest.approx(80 / 130, **APPROX)
    assert r["min_ratio_tier3"].iat[0] == pytest.approx(0, abs=1e-7)
    assert r["emissions:co2@all"].iat[0] == pytest.approx(35, **APPROX)
    # the base point reproduces the comparison
    r = local[(local["limit.co2"] == 1) & (local["needs.tier1"] == 1)].set_index("rule")
    assert r.at["leximin", "min_ratio_tier3"] == pytest.approx(0.2, **APPROX)
    assert r.at["utilitarian", "mean_ratio"] == pytest.approx(4 / 6, **APPROX)


@pytest.mark.timeout(120)
def test_process_pool_matches_in_process(base, local, tmp_path):
    out = tmp_path / "grid.csv"
    df = sweep(base, VARY, RULES, workers=2, out=out)
    _same(df, local)
    assert len(read_results(out)) == N_TASKS
    assert len(read_journal(journal_path(out))) == N_TASKS


def test_any_executor(base, local):
    with ThreadPoolExecutor(1) as ex:
        df = sweep(base, VARY[:1], RULES[:1], executor=ex)
    ref = local[(local["needs.tier1"] == 1) & (local["rule"] == "leximin")]
    _same(df.drop(columns="point"), ref.drop(columns=["point", "needs.tier1"]))


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_dask_cluster_gives_the_same_results(base, local, tmp_path):
    from distributed import Client, LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        with Client(cluster) as client:
            # workers inherit the environment: every plan they make is checked too
            env = client.run(lambda: os.environ.get("COMMUNE_CHECK_PLANS"))
            assert list(env.values()) == ["1", "1"]
        out = tmp_path / "grid.parquet"
        df = sweep(base, VARY, RULES, scheduler=cluster.scheduler_address, out=out)
    _same(df, local)
    _same(read_results(out), local)
    assert df.attrs["solved"] == N_TASKS


def _counting(monkeypatch) -> list:
    """Record every (point, rule) the sweep solves in this process."""
    calls = []
    real = sw.solve_point

    def counted(scenario, point, rules, *args, **kwargs):
        calls.extend((tuple(point.items()), r) for r in rules)
        return real(scenario, point, rules, *args, **kwargs)

    monkeypatch.setattr(sw, "solve_point", counted)
    return calls


def test_limited_sweep_resumes_without_redoing_points(base, local, tmp_path, monkeypatch):
    out = tmp_path / "grid.parquet"
    calls = _counting(monkeypatch)
    part = sweep(base, VARY, RULES, workers=0, out=out, limit=3)
    assert len(calls) == 3 and len(part) == 3 and not part.attrs["complete"]
    assert len(read_results(out)) == 3
    calls.clear()
    full = sweep(base, VARY, RULES, workers=0, out=out)
    assert len(calls) == N_TASKS - 3
    assert full.attrs["reused"] == 3 and full.attrs["solved"] == N_TASKS - 3
    _same(full, local)
    calls.clear()
    again = sweep(base, VARY, RULES, workers=0, out=out)  # all done: nothing solved
    assert calls == [] and again.attrs["reused"] == N_TASKS
    # a new rule reuses the finished points of the others
    more = sweep(base, VARY[:1], [*RULES, "proportional"], workers=0, out=out)
    assert len(calls) == 2 and len(more) == 2 * 3


def test_interrupted_sweep_keeps_finished_points(base, local, tmp_path, monkeypatch):
    out = tmp_path / "grid.parquet"
    seen = []

    def stop_after_three(row):
        seen.append(row)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(base, VARY, RULES, workers=0, out=out, on_result=stop_after_three)
    journal = journal_path(out)
    kept = len(read_journal(journal))
    assert 3 <= kept < N_TASKS  # rows reported, and points that finished while stopping
    with journal.open("a") as fh:  # the process was killed while writing a line
        fh.write('{"key": "abc", "row": {"sta')
    calls = _counting(monkeypatch)
    df = sweep(base, VARY, RULES, workers=0, out=out)
    assert len(calls) == N_TASKS - kept
    assert df.attrs["reused"] == kept
    _same(df, local)


def test_failed_tasks_are_reported_and_retried(base, tmp_path, monkeypatch):
    out = tmp_path / "grid.csv"

    def broken(*args, **kwargs):
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(sw, "solve", broken)
    df = sweep(base, ["labour=1,2"], ["leximin"], workers=0, out=out)
    assert df["status"].tolist() == ["error", "error"]
    assert df["message"].str.contains("solver crashed").all()
    assert df.attrs["failed"] == 2
    assert not journal_path(out).exists() or read_journal(journal_path(out)) == {}
    monkeypatch.undo()
    df = sweep(base, ["labour=1,2"], ["leximin"], workers=0, out=out)
    assert df["status"].tolist() == ["shortfall", "shortfall"]
    assert df.attrs["solved"] == 2


def test_journal_lines_are_json_and_fresh_forgets_them(base, tmp_path, monkeypatch):
    out = tmp_path / "grid.csv"
    sweep(base, ["labour=1"], ["leximin"], workers=0, out=out)
    lines = journal_path(out).read_text().splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert set(rec) == {"key", "row"} and rec["row"]["status"] == "shortfall"
    calls = _counting(monkeypatch)
    sweep(base, ["labour=1"], ["leximin"], workers=0, out=out, resume=False)
    assert len(calls) == 1
    assert len(journal_path(out).read_text().splitlines()) == 1

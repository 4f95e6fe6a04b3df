"""The benchmark code works (on a tiny size); it never asserts anything about speed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bench import measure, report


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    work = tmp_path_factory.mktemp("bench")
    return measure.measure(
        "4x5",
        budget=120,
        workdir=work,
        out=work / "rec.json",
        settings=True,
        warm_settings=True,
        settings_limit=30,
        exact=True,
        log=lambda msg: None,
    )


def test_record_has_every_measurement(record):
    for key in (
        "variables",
        "rows",
        "nonzeros",
        "assembly_s",
        "assembly_peak_bytes",
        "assembly_kept_bytes",
        "transfer_s",
        "stages",
        "policy_s",
        "planner_s",
        "lp_solves",
        "iterations",
        "check",
        "floor",
        "pulp",
        "pruning",
        "settings_cold",
        "settings_warm",
        "exact",
    ):
        assert key in record, key
    # the plan made exactly, checked, and certified at its exact levels
    ex = record["exact"]
    assert ex["status"] in ("optimal", "shortfall") and ex["check"] == "pass"
    assert ex["exact_rounds"] >= 1 and ex["cpu_s"] > 0
    assert ex["certificate"]["not_zero"] == 0
    assert record["status"] == "done"
    assert record["plan_status"] in ("optimal", "shortfall")
    assert record["check"] == "pass"
    assert record["floor"]["status"] == "Optimal"
    # the floor solves the very LP of our first solve: the same optimum
    # (the written LP's objective is the level times the engine's floor weight)
    floor_value = record["floor"]["objective"] / record["floor_weight"]
    assert floor_value == pytest.approx(record["first_value"], rel=1e-6, abs=1e-9)
    assert record["pulp"]["build_s"] > 0 and record["pulp"]["build_affine_s"] > 0
    pulp_value = record["pulp"]["solve_objective"] / record["floor_weight"]  # the same LP
    assert pulp_value == pytest.approx(record["first_value"], rel=1e-6, abs=1e-9)
    names = [s["name"] for s in record["stages"]]
    assert names[:3] == ["needs:tier1", "needs:tier2", "needs:tier3"]
    for s in record["stages"]:
        assert {"solves", "levels", "seconds", "iterations"} <= set(s)
    # every stage that solved has its first LP solved cold as well, to the same optimum
    # as the stage's first solve for the first stage
    cold = record["stage_floors"]
    assert set(cold) == {s["name"] for s in record["stages"] if s["solves"]}
    assert all(c["status"] == "Optimal" for c in cold.values())
    assert all(c["primal"]["status"] == "Optimal" for c in cold.values())
    for c in cold.values():  # the same LP by both methods: the same optimum
        assert c["primal"]["objective"] == pytest.approx(c["objective"], rel=1e-6, abs=1e-9)
    assert record["highs_first_instance_s"] > 0
    stage1 = cold[names[0]]["objective"] / record["floor_weight"]
    assert stage1 == pytest.approx(record["first_value"], rel=1e-6, abs=1e-9)


def test_results_markdown_has_every_column(record, tmp_path):
    out = tmp_path / "RESULTS.md"
    report.write(
        [record], out, "python -m bench --sizes 4x5", 120, tmp_path / "scaling.png", ["notes"]
    )
    text = out.read_text()
    for header in (
        "variables",
        "rows",
        "non-zeros",
        "assembly s",
        "transfer s",
        "µs/nnz",
        "peak B/nnz",
        "LP solves",
        "iterations",
        "policy s",
        "total s",
        "floor s",
        "total / floor",
        "(asm+transfer) / solve",
        "PuLP build s",
        "PuLP / ours",
        "check",
        "its first LP, cold (plain highspy)",
    ):
        assert f"| {header}" in text or f" {header} |" in text, header
    for section in (
        "## Targets",
        "## Stages",
        "## Solver floor",
        "## PuLP reference",
        "## Memory",
        "## Solver settings",
        "## Exact plans and their exact certificates",
    ):
        assert section in text, section
    assert "4x5" in text
    assert (tmp_path / "scaling.png").exists()


def test_command_line_writes_results(tmp_path):
    """`python -m bench` end to end on a tiny size, in its child processes."""
    import subprocess

    out = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--sizes",
            "3x4",
            "--examples",
            "none",
            "--budget",
            "60",
            "--settings",
            "none",
            "--exact",
            "3x4",
            "--out",
            str(out),
            "--workdir",
            str(tmp_path / "w"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = json.loads((tmp_path / "results.json").read_text())
    assert [r["name"] for r in records] == ["3x4"]
    assert records[0]["status"] == "done"
    assert records[0]["exact"]["check"] == "pass"
    assert "| 3x4 (3×4)" in out.read_text()


def test_budget_exceeded_is_reported(tmp_path):
    """A scenario that overruns its budget is reported as such, not left out."""
    rec = {
        "name": "XL",
        "kind": "generated",
        "municipalities": 400,
        "goods": 800,
        "status": "budget",
        "phase": "policy",
        "nonzeros": 10,
    }
    out = tmp_path / "RESULTS.md"
    report.write([rec], out, "python -m bench", 1, None)
    assert "budget exceeded" in out.read_text()


def test_cold_sum_takes_the_faster_method_and_flags_time_limits():
    ok = {"status": "Optimal", "seconds": 2.0, "primal": {"status": "Optimal", "seconds": 1.5}}
    slow = {
        "status": "TimeLimit",
        "seconds": 60.0,
        "primal": {"status": "Optimal", "seconds": 40.0},
    }
    assert report.cold_sum({"a": ok, "b": slow}) == (1.5 + 40.0, False)
    stuck = {
        "status": "TimeLimit",
        "seconds": 60.0,
        "primal": {"status": "TimeLimit", "seconds": 61.0},
    }
    assert report.cold_sum({"a": ok, "c": stuck}) == (1.5 + 61.0, True)


def test_size_names_carry_their_seed():
    """The README's tour is generated with --seed 1; "M:3" asks for seed 3 of M."""
    from bench.measure import seed_of, size_of

    assert size_of("tour") == (200, 100) and seed_of("tour", 0) == 1
    assert size_of("M:3") == (60, 120) and seed_of("M:3", 0) == 3
    assert size_of("25x50:11") == (25, 50) and seed_of("25x50:11", 0) == 11
    assert seed_of("M", 7) == 7 and size_of("valley") is None

"""Inputs a planner can trust (issue 15): own use, magnitudes, no tracebacks, whole lines.

Own use, a known answer: Miller & Blair, *Input-Output Analysis* (2nd ed.,
2009), section 2.3 numerical example, written as an input-output table
prints it: each sector's gross output (1 per unit of activity) and its own
use of its own good (a11 = 0.15, a22 = 0.05) as two entries.

    A = [[.15, .25],        L = (I - A)^-1 = 1/0.7575 [[0.95, 0.25],
         [.20, .05]]                                   [0.20, 0.85]]

For the final demand f = (600, 1500):

    x1 = (0.95 * 600 + 0.25 * 1500) / 0.7575 =  945 / 0.7575 = 1247.5247...
    x2 = (0.20 * 600 + 0.85 * 1500) / 0.7575 = 1395 / 0.7575 = 1841.5841...

(the book prints 1247.52 and 1841.58). With every need met (tier 1 at ratio
1) the ``min_labour`` stage makes exactly that much: any more costs labour.
The rows add up to the net coefficients 0.85 (p1, g1) and 0.95 (p2, g2);
before, the second row of each pair was refused as a duplicate.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

import models
import planner
from planner.cli import app

runner = CliRunner()

MILLER_BLAIR = {
    "scenario.yaml": "name: miller-blair\n",
    "confederations.csv": "id,parent\nc,\n",
    "municipalities.csv": "id,confederation,population,labour_hours\nr,c,1,1000000\n",
    "items.csv": "id,kind\ng1,good\ng2,good\n",
    "processes.csv": "id,labour_hours\np1,0.65\np2,0.70\n",
    "process_io.csv": "process,item,quantity\n"
    "p1,g1,1\np1,g1,-0.15\np1,g2,-0.20\np2,g1,-0.25\np2,g2,1\np2,g2,-0.05\n",
    "capacities.csv": "municipality,process,max_level\nr,p1,\nr,p2,\n",
    "needs.csv": "municipality,item,tier,quantity\nr,g1,1,600\nr,g2,1,1500\n",
}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_own_use_rows_add_up_to_the_net_coefficient(tmp_path):
    s = models.load(write(tmp_path / "mb", MILLER_BLAIR))
    io_ = s.process_io.set_index(["process", "item"])["quantity"]
    assert len(io_) == 4
    assert io_[("p1", "g1")] == pytest.approx(0.85) and io_[("p2", "g2")] == pytest.approx(0.95)
    assert models.own_use_count(s) == 2
    plan = planner.solve(s)
    assert plan.status == "optimal"
    level = plan.production.set_index("process")["level"]
    assert level["p1"] == pytest.approx(945 / 0.7575, rel=1e-7)  # 1247.52 in the book
    assert level["p2"] == pytest.approx(1395 / 0.7575, rel=1e-7)  # 1841.58 in the book
    assert round(level["p1"], 2) == 1247.52 and round(level["p2"], 2) == 1841.58


def test_validate_notes_own_use_and_prints_the_coefficient_range(tmp_path):
    r = runner.invoke(app, ["validate", str(write(tmp_path / "mb", MILLER_BLAIR))])
    assert r.exit_code == 0, r.output
    assert "note: 2 processes use some of their own output; net coefficients used" in r.output
    assert "coefficients 0.2 .. 1,500 (within the advised 1e-6 .. 1e6" in r.output


def test_own_use_rows_with_an_error_still_name_the_cell(tmp_path):
    files = {**MILLER_BLAIR}
    files["process_io.csv"] = files["process_io.csv"].replace("p1,g1,-0.15", "p1,g1,lots")
    with pytest.raises(models.ScenarioError) as exc:
        models.load(write(tmp_path / "bad", files))
    assert [str(p) for p in exc.value.errors] == [
        "process_io.csv:3: quantity: not a number: 'lots'"
    ]


@pytest.mark.parametrize("population", ["1e17", "1e20"])
def test_a_population_too_large_is_refused_with_its_cell(tmp_path, population):
    files = {**MILLER_BLAIR}
    files["municipalities.csv"] = f"id,confederation,population,labour_hours\nr,c,{population},1\n"
    r = runner.invoke(app, ["validate", str(write(tmp_path / "big", files))])
    assert r.exit_code == 2, r.output
    assert (
        f"municipalities.csv:2: population: too large: {float(population):g} (at most 1e+12; "
        "use a larger unit)"
    ) in r.output
    assert "Traceback" not in r.output


def errors_of(folder: Path, **changed: str) -> list[str]:
    """The errors of Miller & Blair's scenario with some files changed."""
    with pytest.raises(models.ScenarioError) as exc:
        models.load(write(folder, {**MILLER_BLAIR, **changed}))
    return [str(p) for p in exc.value.errors]


def test_need_per_head_times_population_too_large_is_refused(tmp_path):
    assert errors_of(
        tmp_path / "big",
        **{
            "municipalities.csv": "id,confederation,population,labour_hours\nr,c,1e9,1\n",
            "needs.csv": "municipality,item,tier,per_capita\nr,g1,1,10000\n",
        },
    ) == [
        "needs.csv:2: per_capita: per_capita x population is 10000000000000, too large "
        "(at most 1e+12; use a larger unit)"
    ]


def test_a_coefficient_below_the_solvers_resolution_is_refused_and_a_wide_spread_warned(
    tmp_path,
):
    files = {**MILLER_BLAIR}
    assert errors_of(
        tmp_path / "tiny", **{"processes.csv": "id,labour_hours\np1,1e-10\np2,0.70\n"}
    ) == [
        "processes.csv:2: labour_hours: coefficient 1e-10 is below the solver's resolution "
        "(1e-09: it would be read as 0); change the unit"
    ]
    files["processes.csv"] = "id,labour_hours\np1,1e-8\np2,0.70\n"
    files["needs.csv"] = "municipality,item,tier,quantity\nr,g1,1,600\nr,g2,1,1e9\n"
    s = models.load(write(tmp_path / "wide", files))
    assert any(
        "coefficients span 1e-08 .. 1e+09" in str(w) and "change some units" in str(w)
        for w in s.warnings
    )


def test_a_solver_failure_is_one_line_and_exit_5(tmp_path, monkeypatch):
    import planner.core

    def broken(*args, **kwargs):
        raise RuntimeError("highs: passModel failed\n  more detail")

    monkeypatch.setattr(planner.core, "solve", broken)
    log = tmp_path / "planner.log"
    monkeypatch.setenv("COMMUNE_LOG", str(log))
    r = runner.invoke(app, ["solve", str(write(tmp_path / "mb", MILLER_BLAIR))])
    assert r.exit_code == 5
    assert "Traceback" not in r.output
    lines = [x for x in r.output.splitlines() if x.startswith("error")]
    assert lines == [f"error: the solver failed: highs: passModel failed; details in {log}"]
    assert "Traceback" in log.read_text() and "passModel failed" in log.read_text()


def test_piped_output_keeps_whole_lines(tmp_path):
    files = {**MILLER_BLAIR}
    long_id = "a_municipality_with_a_very_long_identifier_that_goes_on_and_on"
    files["needs.csv"] = f"municipality,item,tier,quantity\n{long_id},g1,1,600\n"
    r = runner.invoke(app, ["validate", str(write(tmp_path / "bad", files))])
    assert r.exit_code == 2
    assert f"needs.csv:2: municipality: unknown municipality '{long_id}'" in r.output.splitlines()


def test_help_shows_no_internal_notes_or_bool_metavars():
    from api.cli import app as cli_app  # the console script's app: planner's and the service's

    for args in (["--help"], ["solve", "--help"], ["sweep", "--help"], ["serve", "--help"]):
        r = runner.invoke(cli_app, args, env={"COLUMNS": "200"})
        assert r.exit_code == 0, (args, r.output)
        assert "<bool>" not in r.output and "BOOLEAN" not in r.output, r.output
    top = runner.invoke(cli_app, ["--help"], env={"COLUMNS": "200"}).output
    assert "``" not in top and "api/" not in top


def test_solve_json_keeps_stdout_clean_of_notes(tmp_path):
    r = runner.invoke(app, ["solve", str(write(tmp_path / "mb", MILLER_BLAIR)), "--json"])
    assert r.exit_code == 0
    import json

    assert json.load(io.StringIO(r.stdout))["status"] == "optimal"


def _valley_solution():
    from planner.engine import Engine
    from planner.formulation import build
    from planner.policy import stages_for

    s = models.load(Path(__file__).resolve().parents[1] / "data" / "valley")
    form = build(s)
    res = Engine(form, "highs").run(stages_for("leximin", None))
    return s, form, res


def test_dust_levels_and_flows_are_reported_as_zero_and_the_plan_still_checks():
    import numpy as np

    from planner.check import check_plan
    from planner.plan import DUST, extract_tables, snap_dust

    s, form, res = _valley_solution()
    x = np.maximum(res.x, 0.0)
    kind = form.cols["kind"].to_numpy()
    # dust where the solver left 0: a flow and a level each a millionth of DUST of their rows
    spare = np.flatnonzero(np.isin(kind, ("x", "f")) & (x == 0))[:8]
    dusty = x.copy()
    dusty[spare] = 1e-12
    snapped = snap_dust(form, dusty)
    assert (snapped[spare] == 0).all()
    kept = np.setdiff1d(np.arange(len(x)), spare)
    changed = np.flatnonzero(snapped[kept] != x[kept])
    # only real dust of the solution itself may go too: each below DUST of its item's largest row
    assert len(changed) <= 4, changed
    res.x = dusty
    tables = extract_tables(form, res)
    assert (tables["flows"]["quantity"] > 1e-9).all() and (
        tables["production"]["level"] > 1e-9
    ).all()
    plan = {"status": "shortfall", **{k: v.to_dict(orient="records") for k, v in tables.items()}}
    assert check_plan(s, plan) == []
    assert DUST < 1e-6  # below the checker's tolerance


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (153.674999846, "153.675"),
        (1.0000000000000004, "1"),
        (5093.2, "5,093.2"),
        (28000, "28,000"),
        (1.56e-9, "1.56e-9"),
        (0.000704, "7.04e-4"),
        (1081416.765819886, "1,081,417"),
    ],
)
def test_printed_numbers_are_rounded_sensibly(value, text):
    from planner.report import num

    assert num(value) == text


def test_solve_prints_no_float_noise(tmp_path):
    import re

    r = runner.invoke(app, ["solve", str(Path(__file__).resolve().parents[1] / "data" / "valley")])
    assert r.exit_code == 0, r.output
    assert not re.search(r"\d\.\d{7,}", r.output), r.output  # no 1.0000000000000004
    assert "e+0" not in r.output and "e-0" not in r.output  # no 2.8e+04 beside 5,093
    assert "31 needs not fully met (lowest first; 10 of 31 shown, 21 more)" in r.output


def test_an_unreachable_dask_scheduler_is_one_line_and_exit_6(tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    valley = Path(__file__).resolve().parents[1] / "data" / "valley"
    args = ["sweep", str(valley), "--vary", "labour=1", "--scheduler", f"tcp://127.0.0.1:{port}"]
    r = runner.invoke(app, [*args, "--out", str(tmp_path / "s.parquet")])
    assert r.exit_code == 6, r.output
    assert "Traceback" not in r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert lines == [
        f"error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}: Connection refused"
    ]


def test_the_report_figures_print_numbers_without_exponents(tmp_path):
    from planner.lab import compare
    from planner.report import figures

    s = models.load(write(tmp_path / "mb", MILLER_BLAIR))
    figs = figures(compare(s, rules=["leximin", "utilitarian"]))
    templates = [t.hovertemplate or "" for t in figs["satisfaction"].data]
    templates += [t.link.hovertemplate or "" for t in figs["flows"].data if t.type == "sankey"]
    assert templates and not any(".4g" in t for t in templates), templates
    assert any(",.4~r" in t for t in templates)

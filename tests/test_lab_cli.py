"""``planner compare`` and ``planner sweep`` on the command line."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs
from typer.testing import CliRunner

import models
from planner.cli import app
from planner.sweep import journal_path, read_journal, read_results
from tests.lab_cases import harvest

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
PLANNER = Path(sys.executable).with_name("planner")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("harvest") / "harvest"
    models.save(harvest(), path)
    return path


def test_commands_are_registered():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    assert "compare" in res.output and "sweep" in res.output


def test_compare_prints_a_table_and_writes_a_report(folder, tmp_path):
    report = tmp_path / "report.html"
    csv = tmp_path / "metrics.csv"
    res = runner.invoke(
        app,
        ["compare", str(folder), "--rules", "leximin,utilitarian,equal_per_capita",
         "--out", str(report), "--csv", str(csv)],
        env={"COLUMNS": "160"},
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    for word in (
        "leximin",
        "utilitarian",
        "equal_per_capita",
        "lowest ratio, tier 3",
        "Gini",
        "co2 in all",
    ):
        assert word in res.output
    assert re.search(r"lowest ratio, tier 3\s+│\s+20\.0%\s+│\s+0\.0%\s+│\s+16\.7%", res.output)
    html = report.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)
    assert get_plotlyjs() in html
    assert csv.read_text().startswith("rule,status,min_ratio_tier1")


def test_compare_refuses_unknown_rules(folder):
    res = runner.invoke(app, ["compare", str(folder), "--rules", "leximin,fairest"])
    assert res.exit_code == 2
    assert "fairest" in res.output


def test_compare_reports_invalid_input(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "scenario.yaml").write_text("name: bad\n")
    res = runner.invoke(app, ["compare", str(bad)])
    assert res.exit_code == 2


def test_sweep_writes_results_and_resumes(folder, tmp_path):
    out = tmp_path / "grid.csv"
    args = ["sweep", str(folder), "--vary", "labour=0.5,1", "--vary", "endowment.grain=0,1",
            "--rules", "leximin,utilitarian", "--out", str(out), "--workers", "0", "-q"]  # fmt: skip
    res = runner.invoke(app, [*args, "--limit", "3"], env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    assert "3 solved now, 0 reused" in res.output and "5 tasks left" in res.output
    res = runner.invoke(app, args, env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    assert "8 tasks: 5 solved now, 3 reused" in res.output
    df = read_results(out)
    assert len(df) == 8
    assert list(df.columns[:5]) == ["point", "labour", "endowment.grain", "rule", "status"]
    # no grain in store at b: the harvest still covers the vital 130 t, desired needs get 10 t less
    r = df[(df["labour"] == 1) & (df["rule"] == "leximin")].set_index("endowment.grain")
    assert r.at[0, "min_ratio_tier3"] == pytest.approx(0.1, rel=1e-6)
    assert r.at[1, "min_ratio_tier3"] == pytest.approx(0.2, rel=1e-6)


def test_sweep_refuses_bad_axes(folder, tmp_path):
    for vary in ("labour", "limit.water=1,2", "colour=1"):
        res = runner.invoke(
            app, ["sweep", str(folder), "--vary", vary, "--out", str(tmp_path / "x.csv")]
        )
        assert res.exit_code == 2, vary
        assert "error" in res.output
    res = runner.invoke(
        app, ["sweep", str(folder), "--vary", "labour=1", "--out", str(tmp_path / "x.txt")]
    )
    assert res.exit_code == 2 and ".parquet or .csv" in res.output


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_interrupted_sweep_resumes(folder, tmp_path):
    """Ctrl-C stops a sweep on local processes; the rerun solves only what was not finished."""
    out = tmp_path / "grid.parquet"
    journal = journal_path(out)
    args = [str(PLANNER), "sweep", str(folder), "--vary", "labour=0.5:1.5:40",
            "--rules", "leximin,utilitarian", "--out", str(out), "-q"]  # fmt: skip
    # the child gets Ctrl-C's default handling, as from a shell: a SIGINT ignored by this
    # process (some earlier test or runner may leave it so) would be inherited, and Python
    # then installs no KeyboardInterrupt handler
    proc = subprocess.Popen(
        [*args, "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(read_journal(journal)) < 2 and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out_text, err = proc.communicate(timeout=60)
    # 80 tasks: far more than can finish between the second journal entry and the signal
    assert proc.returncode == 130, (proc.returncode, out_text[-2000:], err[-2000:])
    assert "run the same command to resume" in err
    kept = len(read_journal(journal))
    assert 2 <= kept < 80
    res = subprocess.run([*args, "--workers", "0"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert f"80 tasks: {80 - kept} solved now, {kept} reused" in res.stdout
    assert len(read_results(out)) == 80

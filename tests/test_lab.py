"""The analysts' lab: rule comparison as tidy frames, and its HTML report.

Known answers for the harvest case are derived in ``tests/lab_cases.harvest``.
"""

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from plotly.offline import get_plotlyjs

import planner
from planner.lab import Comparison, compare, lorenz, parse_rules, plan_metrics
from planner.report import figures, flow_links
from tests.lab_cases import harvest
from tests.planner_cases import towns

APPROX = {"rel": 1e-6, "abs": 1e-7}
RULES = ["leximin", "proportional", "utilitarian", "equal_per_capita"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    return compare(harvest(), rules=RULES)


def test_metrics_one_row_per_rule_with_known_answers(comparison):
    m = comparison.metrics.set_index("rule")
    assert list(m.index) == RULES
    assert (m["status"] == "shortfall").all()
    assert m["min_ratio_tier1"].tolist() == pytest.approx([1, 1, 1, 1], **APPROX)
    assert m["min_ratio_tier2"].isna().all()  # no tier-2 needs
    assert m.at["leximin", "min_ratio_tier3"] == pytest.approx(0.2, **APPROX)
    assert m.at["proportional", "min_ratio_tier3"] == pytest.approx(0.2, **APPROX)
    assert m.at["utilitarian", "min_ratio_tier3"] == pytest.approx(0.0, **APPROX)
    assert m.at["equal_per_capita", "min_ratio_tier3"] == pytest.approx(1 / 6, **APPROX)
    # mean of six ratios: three vital at 1 and the desired ones
    assert m.at["leximin", "mean_ratio"] == pytest.approx((3 + 0.6) / 6, **APPROX)
    assert m.at["utilitarian", "mean_ratio"] == pytest.approx((3 + 1) / 6, **APPROX)
    assert m["unmet_tier1"].tolist() == pytest.approx([0] * 4, abs=1e-6)
    assert m["emissions:co2@all"].tolist() == pytest.approx([70] * 4, **APPROX)
    # 140 t farmed at 2 h: 280 h, plus transport to b at 0.1 h a tonne
    assert m.at["leximin", "total_labour"] == pytest.approx(280 + 0.1 * 34, rel=1e-6)
    assert m.at["utilitarian", "total_labour"] == pytest.approx(280 + 0.1 * 50, rel=1e-6)
    assert (m["share_spread"] == m["max_share"] - m["min_share"]).all()


def test_metrics_agree_with_each_plan(comparison):
    for rule, plan in comparison.plans.items():
        row = comparison.metrics.set_index("rule").loc[rule]
        assert row["gini"] == pytest.approx(planner.gini(plan.deliveries["ratio"]))
        assert row["atkinson"] == pytest.approx(planner.atkinson(plan.deliveries["ratio"]))
        assert row["max_share"] == pytest.approx(plan.labour["share"].max())
        assert plan.to_dict()["rule"] == rule


def test_municipality_outcomes_are_tidy(comparison):
    mu = comparison.municipalities
    assert len(mu) == 4 * 3
    assert not mu.duplicated(["rule", "municipality"]).any()
    tier3 = comparison.pivot("mean_ratio_tier3")
    assert list(tier3.columns) == RULES
    assert tier3.loc["b", "utilitarian"] == pytest.approx(1.0, **APPROX)
    assert tier3.loc["a", "utilitarian"] == pytest.approx(0.0, abs=1e-6)
    assert tier3.loc[["a", "b", "c"], "equal_per_capita"].tolist() == pytest.approx(
        [10 / 50, (10 / 3) / 20, (20 / 3) / 30], **APPROX
    )
    share = comparison.pivot("labour_share")
    assert share.loc["b"].tolist() == pytest.approx([0, 0, 0, 0], abs=1e-9)  # b farms nothing
    sat = comparison.satisfaction
    assert set(sat.columns) >= {"rule", "municipality", "tier", "mean_ratio", "min_ratio", "need"}
    assert len(sat) == 4 * 3 * 2  # rules x towns x tiers present
    long = comparison.long()
    assert set(long.columns) == {"rule", "metric", "value"}
    assert (long["metric"] == "gini").sum() == 4


def test_failed_rule_keeps_its_row():
    c = compare(harvest(), rules="leximin,min_labour_full")
    m = c.metrics.set_index("rule")
    assert m.at["min_labour_full", "status"] == "infeasible"
    assert np.isnan(m.at["min_labour_full", "mean_ratio"])
    assert "emissions:co2@all" in m.columns
    assert any("min_labour_full: infeasible" in n for n in c.notes)
    html = c.to_html()  # the report draws the rules that were solved
    assert "min_labour_full: infeasible" in html


def test_parse_rules():
    assert parse_rules("leximin, utilitarian") == ["leximin", "utilitarian"]
    assert parse_rules(None) == RULES
    with pytest.raises(ValueError, match="twice"):
        parse_rules("leximin,leximin")


def test_plan_metrics_of_a_scenario_without_labour_or_limits():
    s = towns(endowments=[("a", "grain", 5)], needs=[("a", "grain", 1, 10)])
    row = plan_metrics(planner.solve(s))
    assert row["min_ratio_tier1"] == pytest.approx(0.5, **APPROX)
    assert row["max_share"] == 0 and row["share_spread"] == 0
    assert not any(k.startswith("emissions:") for k in row)


def test_lorenz_area_gives_the_gini():
    v = np.array([0.0, 0.2, 0.5, 1.0, 1.0])
    x, y = lorenz(v)
    assert x[0] == y[0] == 0 and x[-1] == y[-1] == 1
    area = np.sum((y[1:] + y[:-1]) / 2 * np.diff(x))
    assert 1 - 2 * area == pytest.approx(planner.gini(v))
    assert lorenz([0, 0])[1].tolist() == [0, 0.5, 1]


def test_figures_draw_every_rule(comparison):
    figs = figures(comparison)
    assert set(figs) == {"satisfaction", "needs", "lorenz", "labour", "flows"}
    assert {t.name for t in figs["labour"].data} == set(RULES)
    assert len([t for t in figs["lorenz"].data if t.name.startswith("leximin")]) == 1
    assert [t.type for t in figs["flows"].data] == ["sankey"] * 4
    assert [t.visible for t in figs["flows"].data] == [True, False, False, False]
    # vital needs are met under every rule: only the desired tier gets a panel
    assert {t.name for t in figs["satisfaction"].data} == set(RULES)
    assert "tier 1" in figs["satisfaction"].layout.title.text
    one = figures(comparison, flows_rule="utilitarian")["flows"]
    assert len(one.data) == 1 and one.data[0].name == "utilitarian"
    with pytest.raises(ValueError, match="not in the comparison"):
        figures(comparison, flows_rule="min_labour_full")


def test_flows_valued_in_labour_hours(comparison):
    f = flow_links(comparison, "utilitarian")
    assert set(zip(f["from"], f["to"], strict=True)) == {("a", "b"), ("c", "b")}
    assert f["arrived"].sum() == pytest.approx(50, rel=1e-6)
    assert (f["labour_value"] > 0).all()
    assert f["hours"].tolist() == pytest.approx((f["arrived"] * f["labour_value"]).tolist())


def _report_is_self_contained(html: str) -> None:
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I), "no external scripts"
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?https?:", html, re.I)
    assert get_plotlyjs() in html, "plotly's JavaScript is embedded from the installed package"
    assert html.count("Plotly.newPlot") == 5


def test_html_report_is_self_contained(comparison, tmp_path):
    path = tmp_path / "report.html"
    html = comparison.to_html(path)
    assert path.read_text(encoding="utf-8") == html
    _report_is_self_contained(html)
    for rule in RULES:
        assert rule in html
    assert "Lorenz" in html and "Sankey" not in html.split("<script")[0]  # captions speak plainly


CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_report_renders_in_headless_chromium(comparison, tmp_path):
    """The report opens from disk with no server and no network, and the charts are drawn."""
    from PIL import Image

    path = tmp_path / "report.html"
    comparison.to_html(path)
    png = tmp_path / "report.png"
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
        "--window-size=1200,2400", "--virtual-time-budget=5000", path.as_uri(),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=90)
    img = np.asarray(Image.open(png).convert("RGB"))
    assert img.shape[:2] == (2400, 1200)
    non_white = (img < 245).any(axis=2).mean()
    assert non_white > 0.05, "the page is blank"
    # the charts draw the rules in their colours; the tables above them use none
    leximin = np.array([0x1B, 0x6C, 0xA8])
    utilitarian = np.array([0x3A, 0x9E, 0x5C])
    for colour in (leximin, utilitarian):
        assert (np.abs(img.astype(int) - colour).sum(axis=2) < 30).sum() > 500


VALLEY = ROOT / "data" / "valley"


def test_valley_rules_differ_visibly():
    """The example's report must show four different pictures: who gains and who loses."""
    c = compare(VALLEY, rules=RULES)
    assert (c.metrics["status"] != "infeasible").all()
    tier3 = c.pivot("mean_ratio_tier3")
    for i, a in enumerate(RULES):
        for b in RULES[i + 1 :]:
            gap = (tier3[a] - tier3[b]).abs().max()
            assert gap > 0.05, f"{a} and {b} give the same desired-need satisfaction"
    m = c.metrics.set_index("rule")
    assert m["gini"].round(3).nunique() == 4
    assert m["mean_ratio"].round(3).nunique() == 4

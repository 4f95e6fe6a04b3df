"""The example scenarios in data/: they load cleanly and show what they claim."""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

import models

DATA = Path(__file__).resolve().parent.parent / "data"
EXAMPLES = sorted(p for p in DATA.iterdir() if (p / "scenario.yaml").exists())


def _connected(s: models.Scenario) -> bool:
    ids = {m: k for k, m in enumerate(s.municipalities["id"])}
    a = s.links["from"].map(ids).to_numpy()
    b = s.links["to"].map(ids).to_numpy()
    g = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(len(ids), len(ids)))
    return connected_components(g, directed=False)[0] == 1


def _alternatives(s: models.Scenario) -> set[str]:
    io = s.process_io
    outputs = io[io["quantity"] > 0].merge(s.items[["id", "kind"]], left_on="item", right_on="id")
    per_good = outputs[outputs["kind"] == "good"].groupby("item")["process"].nunique()
    return set(per_good[per_good >= 2].index)


def test_there_are_examples():
    names = {p.name for p in EXAMPLES}
    assert {"valley", "vermont"} <= names


@pytest.mark.parametrize("folder", EXAMPLES, ids=lambda p: p.name)
def test_example_loads_without_problems(folder):
    s = models.load(folder)
    assert s.warnings == []
    assert (folder / "README.md").exists()
    assert s.meta.description
    assert _connected(s)
    # every municipality declares needs, the tree has one root
    assert set(s.needs["municipality"]) == set(s.municipalities["id"])
    assert (s.confederations["parent"] == "").sum() == 1


@pytest.mark.parametrize("folder", EXAMPLES, ids=lambda p: p.name)
def test_example_coefficients_are_well_scaled(folder):
    s = models.load(folder)
    q = s.process_io["quantity"].abs()
    assert ((q >= 1e-6) & (q <= 1e6)).all()
    lab = s.processes["labour_hours"]
    assert ((lab == 0) | ((lab >= 1e-6) & (lab <= 1e6))).all()


@pytest.mark.parametrize("folder", EXAMPLES, ids=lambda p: p.name)
def test_example_min_local_share_can_be_met_at_home(folder):
    s = models.load(folder)
    io = s.process_io
    cap = s.capacities
    for m in s.mandates[s.mandates["kind"] == "min_local_share"].itertuples():
        makers = set(io[(io["item"] == m.target) & (io["quantity"] > 0)]["process"])
        here = cap[(cap["municipality"] == m.municipality) & cap["process"].isin(makers)]
        assert len(here), f"{m.municipality} cannot make {m.target}"


def test_valley_has_the_features_it_advertises():
    s = models.load(DATA / "valley")
    assert len(s.municipalities) == 6
    conf = s.confederations
    root = conf.loc[conf["parent"] == "", "id"].item()
    districts = conf.loc[conf["parent"] == root, "id"]
    assert len(districts) == 2
    assert set(s.municipalities["confederation"]) == set(districts)
    goods = s.items[s.items["kind"] == "good"]
    assert 10 <= len(goods) <= 15
    assert {"land", "water"} <= set(s.items.loc[s.items["kind"] == "resource", "id"])
    assert set(s.needs["tier"]) == {1, 2, 3}
    assert s.needs["per_capita"].notna().sum() > len(s.needs) / 2
    assert s.mandates["kind"].nunique() >= 2
    assert set(s.mandates["kind"]) == set(models.MANDATE_KINDS)
    assert {"electricity", "grain", "vegetables"} <= _alternatives(s)
    lim = s.limits
    assert ((lim["item"] == "co2") & (lim["scope"] == root)).any()
    assert ((lim["item"] == "co2") & lim["scope"].isin(districts)).any()
    links = s.links
    assert (~links["both_ways"]).any() and links["both_ways"].any()
    assert links["capacity"].notna().any()
    assert (links["loss"] > 0).any()
    pop = s.municipalities["population"]
    assert ((pop >= 100) & (pop <= 10_000)).all()
    ratio = s.municipalities["labour_hours"] / pop
    assert ((ratio > 600) & (ratio < 1000)).all()


def test_vermont_has_towns_in_counties():
    s = models.load(DATA / "vermont")
    assert 35 <= len(s.municipalities) <= 45
    conf = s.confederations
    root = conf.loc[conf["parent"] == "", "id"].item()
    counties = set(conf.loc[conf["parent"] == root, "id"])
    assert len(counties) >= 5
    assert set(s.municipalities["confederation"]) <= counties
    assert set(s.needs["tier"]) == {1, 2, 3}
    assert ((s.limits["item"] == "co2") & (s.limits["scope"] == root)).any()
    assert s.mandates["kind"].nunique() >= 2
    assert len(_alternatives(s)) >= 3
    assert "illustrative" in s.meta.description


def _solve(folder, rule):
    import planner

    plan = planner.solve(models.load(DATA / folder), rule=rule)
    return plan.to_dict(), plan.deliveries


def _tier_ratios(deliveries, tier):
    return deliveries.loc[deliveries["tier"] == tier, "ratio"].to_numpy()


def test_valley_plans_differ_by_rule():
    """Vital and standard needs are met; the desired tier is short, shared differently."""
    plans = {r: _solve("valley", r) for r in ("leximin", "proportional", "utilitarian")}
    for _, deliveries in plans.values():
        assert _tier_ratios(deliveries, 1).min() == pytest.approx(1, abs=1e-6)
        assert _tier_ratios(deliveries, 2).min() == pytest.approx(1, abs=1e-6)
    lex = _tier_ratios(plans["leximin"][1], 3)
    pro = _tier_ratios(plans["proportional"][1], 3)
    uti = _tier_ratios(plans["utilitarian"][1], 3)
    assert lex.min() < 0.5  # scarce
    assert lex.min() == pytest.approx(pro.min(), abs=1e-6)  # same worst-off ...
    assert lex.mean() > pro.mean() + 0.2  # ... but leximin serves the others further
    assert np.ptp(pro) == pytest.approx(0, abs=1e-6)  # one common ratio
    assert uti.min() < lex.min() - 0.1  # utilitarian leaves some need unserved
    assert uti.sum() >= lex.sum() - 1e-6


def test_vermont_meets_vital_and_standard_needs():
    plan, deliveries = _solve("vermont", "leximin")
    assert plan["status"] == "shortfall"
    assert _tier_ratios(deliveries, 1).min() == pytest.approx(1, abs=1e-6)
    assert _tier_ratios(deliveries, 2).min() == pytest.approx(1, abs=1e-6)
    assert _tier_ratios(deliveries, 3).min() < 0.9
    limits = {(r["item"], r["scope"]): r for r in plan["limits"]}
    root = limits[("co2", "vermont")]
    assert root["amount"] <= root["cap"] * (1 + 1e-6)

"""The Scenario object: canonical tables, immutability, hashing, resolved needs."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from models_fixtures import META, MINIMAL, minimal, tables, valley

import models


def test_public_names_resolve_inside_the_repository():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    assert Path(models.__file__).resolve().is_relative_to(root)
    for name in models.__all__:
        assert hasattr(models, name), name


def test_schema_as_data_describes_every_column():
    assert list(models.TABLES) == [
        "confederations",
        "municipalities",
        "items",
        "processes",
        "process_io",
        "capacities",
        "endowments",
        "needs",
        "links",
        "limits",
        "mandates",
    ]
    assert models.MANDATORY == ("municipalities", "items", "needs")
    for schema in models.TABLES.values():
        assert schema.key and all(k in schema for k in schema.key)
        for col in schema.columns:
            assert col.type in ("id", "ref", "text", "float", "int", "bool")
            assert col.description
            if col.type == "ref":
                assert col.refers
    assert models.TABLES["links"]["loss"].default == 0.0
    assert models.TABLES["links"]["both_ways"].default is True
    assert models.TABLES["needs"]["tier"].required


def test_canonical_columns_dtypes_and_order():
    s = valley()
    for name, schema in models.TABLES.items():
        t = s.table(name)
        assert list(t.columns) == schema.names
        assert list(t.index) == list(range(len(t)))
        for col in schema.columns:
            dtype = t[col.name].dtype
            if col.is_text:
                assert pd.api.types.is_string_dtype(dtype), (name, col.name, dtype)
            elif col.type == "int":
                assert dtype == np.int64
            elif col.type == "bool":
                assert pd.api.types.is_bool_dtype(dtype)
            else:
                assert dtype == np.float64
        key = list(schema.key)
        assert t[key].equals(t[key].sort_values(key).reset_index(drop=True))
    assert s.needs["municipality"].tolist() == ["ashford", "brook", "carden", "carden"]
    assert s.needs["item"].tolist() == ["bread", "bread", "bread", "grain"]


def test_defaults_and_missing_values():
    s = valley()
    items = s.items.set_index("id")
    assert items.loc["grain", "transportable"]
    assert not items.loc["bread", "transportable"]
    assert not items.loc["water", "transportable"] and not items.loc["co2", "transportable"]
    assert items.loc["co2", "kind"] == "emission"
    caps = s.capacities.set_index(["municipality", "process"])["max_level"]
    assert caps[("ashford", "farm")] == 500 and math.isnan(caps[("brook", "bake")])
    links = s.links.set_index(["from", "to"])
    assert links.loc[("ashford", "brook"), "both_ways"]
    assert not links.loc[("brook", "carden"), "both_ways"]
    assert links.loc[("brook", "carden"), "loss"] == 0.0
    assert math.isnan(links.loc[("brook", "carden"), "capacity"])
    mandates = s.mandates.set_index(["municipality", "kind"])
    assert mandates.loc[("brook", "max_labour_share"), "target"] == ""
    assert math.isnan(mandates.loc[("carden", "forbid_process"), "value"])
    assert s.confederations.set_index("id").loc["valley", "parent"] == ""
    needs = s.needs
    assert (needs["quantity"].isna() ^ needs["per_capita"].isna()).all()


def test_resolved_needs_multiplies_per_capita_by_population():
    r = valley().resolved_needs()
    assert list(r.columns) == ["municipality", "item", "tier", "need"]
    got = {(m, i, t): n for m, i, t, n in r.itertuples(index=False)}
    assert got == {
        ("ashford", "bread", 1): pytest.approx(120.0),  # 0.1 x 1200
        ("brook", "bread", 1): 70.0,
        ("carden", "bread", 3): pytest.approx(25.0),  # 0.05 x 500
        ("carden", "grain", 2): 0.0,  # zero needs are kept
    }
    assert r["tier"].dtype == np.int64 and r["need"].dtype == np.float64


def test_scenario_is_frozen_and_tables_are_copies():
    s = valley()
    with pytest.raises(AttributeError):
        s.meta = None
    with pytest.raises(TypeError):
        models.Scenario()
    t = s.needs
    t.loc[0, "quantity"] = 1e9
    t["tier"] = 3
    assert s.needs["tier"].tolist() == [1, 1, 3, 2]
    assert s.table("needs").equals(s.needs)
    with pytest.raises(KeyError, match="tables are"):
        s.table("nope")
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error
        s.meta.name = "x"


def test_meta_and_policy():
    s = valley()
    assert s.name == "valley" and s.meta.period == "2025"
    assert s.meta.policy == models.Policy(rule="leximin", tolerance=0.01)
    assert s.meta.policy.stages is None
    p = models.Policy(stages="needs:tier1, min_labour")
    assert p.stages == ["needs:tier1", "min_labour"]
    assert (
        models.from_tables({"name": "x", "policy": "utilitarian"}, MINIMAL).meta.policy.rule
        == "utilitarian"
    )
    assert models.from_tables({"name": "x", "period": 2025}, MINIMAL).meta.period == "2025"


def test_content_hash_is_stable_and_sensitive():
    a, b = valley(), valley()
    assert a.content_hash == b.content_hash and a == b and hash(a) == hash(b)
    assert len(a.content_hash) == 64
    shuffled = {k: list(reversed(v)) for k, v in tables().items()}
    assert models.from_tables(META, shuffled).content_hash == a.content_hash
    changed = tables()
    changed["needs"][1]["quantity"] = 70.000001
    assert models.from_tables(META, changed).content_hash != a.content_hash
    assert models.from_tables({**META, "description": "x"}, tables()).content_hash != a.content_hash


def test_hash_treats_int_float_and_negative_zero_alike():
    t = tables()
    t["endowments"][1]["quantity"] = 12.5
    t["needs"][1]["quantity"] = 70.0
    t["process_io"][0]["quantity"] = 1.0
    t["needs"][2]["quantity"] = -0.0
    t["links"][1]["loss"] = 0
    u = tables()
    u["needs"][1]["quantity"] = "70"
    u["needs"][2]["quantity"] = "0"
    assert models.from_tables(META, t) == models.from_tables(META, u) == valley()


def test_dataframes_and_row_dicts_are_the_same_input():
    s = valley()
    again = models.from_tables(s.meta, s.tables())
    assert again == s
    frames = {k: pd.DataFrame(v) for k, v in tables().items()}
    assert models.from_tables(META, frames) == s


def test_replace_revalidates():
    s = valley()
    needs = s.needs
    needs.loc[needs["municipality"] == "brook", "quantity"] = 80.0
    s2 = s.replace(needs=needs)
    assert s2 != s and s2.needs["quantity"].iloc[1] == 80.0
    assert s.needs["quantity"].iloc[1] == 70.0
    with pytest.raises(models.ScenarioError):
        s.replace(needs=[{"municipality": "nowhere", "item": "grain", "tier": 1, "quantity": 1}])
    assert s.replace(meta={"name": "other"}).name == "other"


def test_pickles():
    s = valley()
    t = pickle.loads(pickle.dumps(s))
    assert t == s and t.needs.equals(s.needs)


def test_minimal_implies_the_root_confederation():
    s = minimal()
    assert s.confederations.to_dict("records") == [{"id": "root", "name": "", "parent": ""}]
    for name in ("processes", "links", "mandates", "limits"):
        assert len(s.table(name)) == 0
        assert list(s.table(name).columns) == models.TABLES[name].names
    assert s.warnings == []

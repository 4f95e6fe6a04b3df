"""Small scenarios for the models tests, built by hand (not a conftest: import it)."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import models

META = {
    "name": "valley",
    "period": "2025",
    "description": "Three villages in a valley",
    "policy": {"rule": "leximin", "tolerance": 0.01},
}

TABLES = {
    "confederations": [
        {"id": "valley", "name": "Valley", "parent": ""},
        {"id": "north", "name": "North bank", "parent": "valley"},
    ],
    "municipalities": [
        {
            "id": "ashford",
            "name": "Ashford",
            "confederation": "north",
            "population": 1200,
            "labour_hours": 900000,
        },
        {
            "id": "brook",
            "name": "Brook",
            "confederation": "north",
            "population": 800,
            "labour_hours": 600000,
        },
        {
            "id": "carden",
            "name": "Carden",
            "confederation": "valley",
            "population": 500,
            "labour_hours": 0,
        },
    ],
    "items": [
        {"id": "grain", "name": "Grain", "unit": "t", "kind": "good"},
        {"id": "bread", "name": "Bread", "unit": "t", "kind": "good", "transportable": False},
        {"id": "water", "name": "Water", "unit": "m3", "kind": "resource"},
        {"id": "co2", "name": "CO2", "unit": "t", "kind": "emission"},
    ],
    "processes": [
        {"id": "farm", "name": "Farming", "labour_hours": 120},
        {"id": "bake", "name": "Baking", "labour_hours": 40.5},
    ],
    "process_io": [
        {"process": "farm", "item": "grain", "quantity": 1},
        {"process": "farm", "item": "water", "quantity": -300},
        {"process": "farm", "item": "co2", "quantity": 0.25},
        {"process": "bake", "item": "grain", "quantity": -1.1},
        {"process": "bake", "item": "bread", "quantity": 1},
    ],
    "capacities": [
        {"municipality": "ashford", "process": "farm", "max_level": 500},
        {"municipality": "brook", "process": "farm", "max_level": None},
        {"municipality": "brook", "process": "bake"},
    ],
    "endowments": [
        {"municipality": "ashford", "item": "water", "quantity": 200000},
        {"municipality": "brook", "item": "grain", "quantity": 12.5},
    ],
    "needs": [
        {"municipality": "ashford", "item": "bread", "tier": 1, "per_capita": 0.1},
        {"municipality": "brook", "item": "bread", "tier": 1, "quantity": 70},
        {"municipality": "carden", "item": "grain", "tier": 2, "quantity": 0},
        {"municipality": "carden", "item": "bread", "tier": 3, "per_capita": 0.05},
    ],
    "links": [
        {"from": "ashford", "to": "brook", "labour_per_unit": 2, "capacity": 100, "loss": 0.01},
        {"from": "brook", "to": "carden", "labour_per_unit": 3.5, "both_ways": False},
    ],
    "limits": [
        {"item": "co2", "scope": "valley", "cap": 100},
        {"item": "water", "scope": "ashford", "cap": 150000},
    ],
    "mandates": [
        {"municipality": "ashford", "kind": "max_export", "target": "grain", "value": 50},
        {"municipality": "brook", "kind": "min_local_share", "target": "bread", "value": 0.5},
        {"municipality": "brook", "kind": "max_labour_share", "value": 0.8},
        {"municipality": "carden", "kind": "forbid_process", "target": "farm"},
    ],
}

MINIMAL = {
    "municipalities": [
        {"id": "a", "confederation": "root", "population": 10, "labour_hours": 100},
        {"id": "b", "confederation": "root", "population": 5, "labour_hours": 50},
    ],
    "items": [{"id": "grain", "kind": "good"}],
    "needs": [
        {"municipality": "a", "item": "grain", "tier": 1, "quantity": 3},
        {"municipality": "b", "item": "grain", "tier": 1, "per_capita": 2},
    ],
}


def tables(**changes) -> dict[str, list[dict]]:
    """A deep copy of the full fixture's tables, with some replaced."""
    out = copy.deepcopy(TABLES)
    out.update(copy.deepcopy(changes))
    return out


def valley(**changes) -> models.Scenario:
    """The full fixture as a Scenario (every table non-empty)."""
    return models.from_tables(copy.deepcopy(META), tables(**changes))


def minimal() -> models.Scenario:
    """Only the mandatory tables."""
    return models.from_tables({"name": "minimal"}, copy.deepcopy(MINIMAL))


def write_folder(path: Path, files: dict[str, str]) -> Path:
    """Write text files (name -> content) into a new folder."""
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).write_text(text, encoding="utf-8")
    return path


MINIMAL_FILES = {
    "scenario.yaml": "name: minimal\n",
    "municipalities.csv": "id,confederation,population,labour_hours\na,root,10,100\nb,root,5,50\n",
    "items.csv": "id,kind\ngrain,good\n",
    "needs.csv": "municipality,item,tier,quantity,per_capita\na,grain,1,3,\nb,grain,1,,2\n",
}


def messages(excinfo) -> list[str]:
    """The problems of a ScenarioError as strings."""
    return [str(p) for p in excinfo.value.problems]


def errors_of(meta, tables_, source=None) -> list[str]:
    """The error strings from_tables raises for this input (fails if it does not raise)."""
    try:
        models.from_tables(meta, tables_, source)
    except models.ScenarioError as e:
        return [str(p) for p in e.problems if p.is_error]
    raise AssertionError("expected a ScenarioError")


def same_frames(a: models.Scenario, b: models.Scenario) -> bool:
    """Table by table equality, NaN equal to NaN, dtypes included."""
    for name in models.TABLES:
        x, y = a.table(name), b.table(name)
        if list(x.columns) != list(y.columns) or list(x.dtypes) != list(y.dtypes):
            return False
        for c in x.columns:
            for u, v in zip(x[c].tolist(), y[c].tolist(), strict=True):
                both_nan = (
                    isinstance(u, float)
                    and isinstance(v, float)
                    and math.isnan(u)
                    and math.isnan(v)
                )
                if not both_nan and u != v:
                    return False
    return a.meta == b.meta

"""Small scenarios with answers derived by hand (the derivations are in the tests)."""

from __future__ import annotations

import models


def towns(
    names=("a", "b"),
    population=None,
    labour=None,
    items=(("grain", "good"),),
    processes=(),
    io=(),
    capacities=(),
    endowments=(),
    needs=(),
    links=(),
    limits=(),
    mandates=(),
    policy=None,
    confederations=None,
):
    """Build a scenario from short tuples; every municipality in one confederation ``c``."""
    population = population or {}
    labour = labour or {}
    meta = {"name": "case"}
    if policy:
        meta["policy"] = policy
    tables = {
        "confederations": confederations or [{"id": "c", "parent": ""}],
        "municipalities": [
            {
                "id": m,
                "confederation": "c" if confederations is None else confederations[-1]["id"],
                "population": population.get(m, 100),
                "labour_hours": labour.get(m, 1000),
            }
            for m in names
        ],
        "items": [{"id": i, "kind": k} for i, k in items],
        "processes": [{"id": p, "labour_hours": h} for p, h in processes],
        "process_io": [{"process": p, "item": i, "quantity": q} for p, i, q in io],
        "capacities": [{"municipality": m, "process": p, "max_level": c} for m, p, c in capacities],
        "endowments": [{"municipality": m, "item": i, "quantity": q} for m, i, q in endowments],
        "needs": [{"municipality": m, "item": i, "tier": t, "quantity": q} for m, i, t, q in needs],
        "links": [
            {
                "from": a,
                "to": b,
                "labour_per_unit": h,
                "capacity": cap,
                "loss": loss,
                "both_ways": both,
            }
            for a, b, h, cap, loss, both in links
        ],
        "limits": [{"item": i, "scope": s, "cap": c} for i, s, c in limits],
        "mandates": [
            {"municipality": m, "kind": k, "target": t, "value": v} for m, k, t, v in mandates
        ],
    }
    return models.from_tables(meta, tables)


def link(a, b, labour=0.0, capacity="", loss=0.0, both=True):
    """A link tuple for :func:`towns`."""
    return (a, b, labour, capacity, loss, both)


def ratios(plan) -> dict:
    """(municipality, item, tier) -> satisfaction ratio."""
    d = plan.deliveries
    return {(r.municipality, r.item, int(r.tier)): float(r.ratio) for r in d.itertuples()}

"""Edits to a scenario's hard constraints, and the words that name them.

An *edit* is one change to one row of a scenario table, in the shape of
SPEC section 6 (``reconciliation``)::

    {"kind": "mandate", "where": {"municipality": "elmstead",
     "kind": "max_labour_share", "target": ""}, "field": "value",
     "from": 0.001, "to": 0.034}

``kind`` says which table (``mandate``, ``limit``, ``capacity``, ``link``,
``endowment``, ``municipality``), ``where`` the row's ids, ``field`` the
column changed. A ``forbid_process`` mandate is lifted with field ``active``
from true to false (the row is dropped). :func:`apply_edits` makes the changed
scenario; :func:`edit_text` says an edit in a sentence; :class:`Words` names
municipalities, confederations, items and processes as the scenario does.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from models import Scenario

# kind of edit -> (table, columns of ``where``)
TABLES = {
    "mandate": ("mandates", ("municipality", "kind", "target")),
    "limit": ("limits", ("item", "scope")),
    "capacity": ("capacities", ("municipality", "process")),
    "link": ("links", ("from", "to")),
    "endowment": ("endowments", ("municipality", "item")),
    "municipality": ("municipalities", ("id",)),
}


class EditError(ValueError):
    """An edit that names no row of the scenario, or a field it cannot change."""


def _match(table: pd.DataFrame, where: dict, keys: tuple[str, ...]) -> np.ndarray:
    hit = np.ones(len(table), bool)
    for k in keys:
        hit &= table[k].astype(str).to_numpy() == str(where.get(k, "") or "")
    return hit


def apply_edits(scenario: Scenario, edits: list[dict]) -> Scenario:
    """The scenario with every edit made (a new, revalidated scenario)."""
    tables: dict[str, pd.DataFrame] = {}
    for e in edits:
        if e.get("kind") not in TABLES:
            raise EditError(f"unknown edit kind {e.get('kind')!r}")
        name, keys = TABLES[e["kind"]]
        t = tables.get(name)
        t = scenario.table(name).copy() if t is None else t
        hit = _match(t, e.get("where") or {}, keys)
        if e["kind"] == "link" and not hit.any():  # a both-ways link named from its other end
            w = e["where"]
            hit = _match(t, {"from": w.get("to"), "to": w.get("from")}, keys)
        if not hit.any() and e["kind"] == "endowment":  # a resource with no stock yet
            t = pd.concat([t, pd.DataFrame([{**e["where"], "quantity": 0.0}])], ignore_index=True)
            hit = _match(t, e["where"], keys)
        if not hit.any():
            raise EditError(f"no {name} row with {e.get('where')}")
        field = e.get("field")
        if field == "active":
            t = t[~hit] if not e.get("to") else t
        elif field in t.columns:
            t.loc[hit, field] = float(e["to"])
        else:
            raise EditError(f"{name} has no column {field!r}")
        tables[name] = t.reset_index(drop=True)
    return scenario.replace(**tables)


def loosen(limit: dict, amount: float, scenario: Scenario) -> dict:
    """The edit giving ``amount`` more of an explanation's constraint (its ``limited_by`` row).

    ``amount`` is in the constraint's own unit (``used``/``available``): hours for
    labour and ``max_labour_share``, the item's unit for limits, stocks, exports and
    ``min_local_share`` (less required at home), units of activity for capacities.
    """
    e = dict(limit["edit"])
    w = e["where"]
    if e["field"] == "active":
        return {**e, "to": 0.0}
    start = e["from"]
    if e["kind"] == "mandate" and w["kind"] == "max_labour_share":
        hours = scenario.municipalities.set_index("id")["labour_hours"]
        return {**e, "to": start + amount / float(hours[w["municipality"]])}
    if e["kind"] == "mandate" and w["kind"] == "min_local_share":
        need = scenario.resolved_needs()
        tot = need[(need["municipality"] == w["municipality"]) & (need["item"] == w["target"])]
        return {**e, "to": max(0.0, start - amount / float(tot["need"].sum()))}
    return {**e, "to": start + amount}


def fmt(v: float, digits: int = 4) -> str:
    """A quantity for a committee: thousands separated, a few significant digits."""
    if v is None or not math.isfinite(v):
        return "unlimited"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a == 0:
        return "0"
    return f"{v:,.{digits}g}"


def pct(r: float) -> str:
    """A ratio as a percentage: whole points from 10 %, one decimal below."""
    p = 100 * r
    return f"{p:.0f}%" if p >= 9.95 or p == 0 else f"{p:.1f}%"


class Words:
    """Names of a scenario's things as its assemblies wrote them."""

    def __init__(self, scenario: Scenario):
        m, c = scenario.municipalities, scenario.confederations
        self.place = dict(zip(m["id"], _names(m), strict=True))
        self.place.update(dict(zip(c["id"], _names(c), strict=True)))
        self.munis = set(m["id"])
        self.labour = dict(zip(m["id"], m["labour_hours"].astype(float), strict=True))
        it = scenario.items
        self.item = {i: _lower(n) for i, n in zip(it["id"], _names(it), strict=True)}
        self.unit = dict(zip(it["id"], it["unit"].fillna("").astype(str), strict=True))
        self.kind = dict(zip(it["id"], it["kind"], strict=True))
        p = scenario.processes
        self.process = {i: _lower(n) for i, n in zip(p["id"], _names(p), strict=True)}
        self.mandate_values = scenario.mandates["value"].to_numpy(float)

    def of(self, where: str) -> str:
        """Possessive: "Ashford's", "the Lower Valley District's"."""
        name = self.place.get(where, where)
        return f"{name}'s" if where in self.munis else f"the {name}'s"

    def qty(self, v: float, item: str) -> str:
        """``v`` with the item's unit."""
        u = self.unit.get(item, "")
        return f"{fmt(v)} {u}".strip()


def _names(t: pd.DataFrame) -> list[str]:
    names = t["name"].fillna("").astype(str) if "name" in t.columns else t["id"]
    return [n or i for n, i in zip(names, t["id"], strict=True)]


def _lower(name: str) -> str:
    """Lower-case a name unless it is an acronym ("CO2" stays)."""
    return name if sum(ch.isupper() for ch in name) > 1 else name[:1].lower() + name[1:]


def edit_text(e: dict, words: Words) -> str:
    """One edit in a sentence: "raise Elmstead's max_labour_share from 0.001 to 0.034"."""
    w = e.get("where") or {}
    if e.get("field") == "active":
        return (
            f"lift {words.of(w.get('municipality', ''))} ban on "
            f"{words.process.get(w.get('target', ''), w.get('target', ''))}"
        )
    verb = "raise" if float(e["to"]) > float(e["from"]) else "lower"
    if e["kind"] == "mandate":
        tgt = f" {w['target']}" if w.get("target") else ""
        what = f"{words.of(w['municipality'])} {w['kind']}{tgt}"
    elif e["kind"] == "limit":
        what = f"{words.of(w['scope'])} {w['item']} cap"
    elif e["kind"] == "link":
        what = f"the capacity of the link {w['from']} -> {w['to']}"
    elif e["kind"] == "municipality":
        what = f"{words.of(w['id'])} labour hours"
    else:
        what = f"{words.of(w['municipality'])} {e['field']} of {w.get('process') or w.get('item')}"
    return f"{verb} {what} from {fmt(float(e['from']))} to {fmt(float(e['to']))}"

"""What the plan, confederation and comparison pages show, computed from the SPEC plan JSON.

Pure functions over a plan's stored result and input snapshot (no
database, no business rules): grouping, sums and the plotly figures.
"""

from __future__ import annotations

import json
from collections import defaultdict
from statistics import fmean
from typing import Any

from api.web import format as fmt

TIER_NAMES = {1: "vital", 2: "standard", 3: "desired"}
TIER_COLOURS = {1: "#0b5394", 2: "#b45f06", 3: "#38761d"}
RULE_COLOURS = ["#0b5394", "#b45f06", "#38761d", "#741b47", "#5b5b5b", "#a61c00"]
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13}


def names(doc: dict, table: str) -> dict[str, str]:
    """Id -> name (or the id) of a table of a scenario document."""
    return {r["id"]: (r.get("name") or r["id"]) for r in doc.get(table, [])}


def unit_names(doc: dict) -> dict[str, str]:
    """Confederation and municipality id -> name (to name who requested a plan)."""
    return {**names(doc, "confederations"), **names(doc, "municipalities")}


def plans_unit_names(plans: list) -> dict[str, str]:
    """Confederation and municipality names from several plans' input snapshots."""
    out: dict[str, str] = {}
    for p in plans:
        out.update(unit_names(p.input or {}))
    return out


RULE_HELP = {
    "leximin": "The lowest share is what leximin raises first: no share can rise without "
    "lowering one that is already lower or equal.",
    "utilitarian": "This plan follows the utilitarian rule: it serves as much need in total as "
    "it can, whoever it serves, so the lowest share is not protected.",
    "proportional": "This plan follows the proportional rule: every need of a tier gets the same "
    "share, the largest such common share, even where that leaves goods undelivered.",
    "equal_per_capita": "This plan follows the equal-per-capita rule: per tier and item, "
    "deliveries per inhabitant are made as equal as possible (measured against the item's mean "
    "need per head), never above a declared need.",
    "min_labour_full": "This plan follows the min_labour_full rule: every need met in full, "
    "then the least labour.",
}
"""What the satisfaction table means under each rule (the plan page's help line)."""


def rule_help(rule: str) -> str:
    """The satisfaction table's help line for a plan made by ``rule``."""
    return RULE_HELP.get(rule, f"This plan follows the scenario's own stages ({rule}).")


def units(doc: dict) -> dict[str, str]:
    """Item id -> unit."""
    return {r["id"]: (r.get("unit") or "") for r in doc.get("items", [])}


EPS = 1e-6
"""Flows smaller than this (solver residue) are not shown."""


def flows(result: dict) -> list[dict]:
    """The plan's flows, without solver residue."""
    return [f for f in result.get("flows", []) if f["quantity"] > EPS]


def ancestors(doc: dict, town: str) -> list[str]:
    """The confederations a municipality belongs to, nearest first (from the input snapshot)."""
    parent = {c["id"]: c.get("parent") or "" for c in doc.get("confederations", [])}
    conf = next((m["confederation"] for m in doc.get("municipalities", []) if m["id"] == town), "")
    out: list[str] = []
    while conf and conf not in out:
        out.append(conf)
        conf = parent.get(conf, "")
    return out


def _tier_stats(rows: list[dict]) -> dict[str, Any]:
    ratios = [r["ratio"] for r in rows if r["need"] > 0]
    if not ratios:
        return {"count": 0, "min": None, "mean": None, "met": 0}
    return {
        "count": len(ratios),
        "min": min(ratios),
        "mean": fmean(ratios),
        "met": sum(1 for x in ratios if x >= 1 - 1e-6),
    }


def satisfaction(result: dict, town: str | None) -> list[dict]:
    """Per tier: the town's and everyone's lowest and mean ratio, and how many needs were met in full."""
    by_tier: dict[int, list[dict]] = defaultdict(list)
    for d in result.get("deliveries", []):
        by_tier[int(d["tier"])].append(d)
    out = []
    for tier in sorted(by_tier):
        rows = by_tier[tier]
        out.append(
            {
                "tier": tier,
                "name": TIER_NAMES.get(tier, f"tier {tier}"),
                "town": _tier_stats([r for r in rows if r["municipality"] == town])
                if town
                else None,
                "everyone": _tier_stats(rows),
            }
        )
    return out


def per_municipality(result: dict, doc: dict) -> list[dict]:
    """One row per municipality: lowest and mean ratio per tier, labour used, share, free time."""
    labour = {r["municipality"]: r for r in result.get("labour", [])}
    by_town: dict[str, list[dict]] = defaultdict(list)
    for d in result.get("deliveries", []):
        by_town[d["municipality"]].append(d)
    town_names = names(doc, "municipalities")
    population = {m["id"]: m["population"] for m in doc.get("municipalities", [])}
    tiers = sorted({int(d["tier"]) for d in result.get("deliveries", [])})
    out = []
    for town in town_names:
        rows = by_town.get(town, [])
        lab = labour.get(town, {})
        out.append(
            {
                "id": town,
                "name": town_names[town],
                "population": population.get(town),
                "tiers": {t: _tier_stats([r for r in rows if int(r["tier"]) == t]) for t in tiers},
                "used": lab.get("used"),
                "available": lab.get("available"),
                "share": lab.get("share"),
                "free_time": lab.get("free_time"),
            }
        )
    return out


def tiers_of(result: dict) -> list[int]:
    """The tiers that have needs."""
    return sorted({int(d["tier"]) for d in result.get("deliveries", [])})


def town_plan(result: dict, doc: dict, town: str) -> dict[str, Any]:
    """What one municipality receives, makes, sends, works, and what bound it."""
    item_names, proc_names = names(doc, "items"), names(doc, "processes")
    deliveries = sorted(
        (d for d in result.get("deliveries", []) if d["municipality"] == town),
        key=lambda d: (d["tier"], d["item"]),
    )
    flows_in = [f for f in flows(result) if f["to"] == town]
    flows_out = [f for f in flows(result) if f["from"] == town]
    production = [p for p in result.get("production", []) if p["municipality"] == town]
    labour = next((r for r in result.get("labour", []) if r["municipality"] == town), None)
    population = next(
        (m["population"] for m in doc.get("municipalities", []) if m["id"] == town), None
    )
    prices = sorted(
        (p for p in result.get("prices", []) if p["municipality"] == town),
        key=lambda p: p["item"],
    )
    return {
        "deliveries": deliveries,
        "flows_in": sorted(flows_in, key=lambda f: (f["item"], f["from"])),
        "flows_out": sorted(flows_out, key=lambda f: (f["item"], f["to"])),
        "production": sorted(production, key=lambda p: p["process"]),
        "labour": labour,
        "population": population,
        "prices": prices,
        "mandates": mandates_of(result, doc, town),
        "limits": limits_of(result, doc, town),
        "other_binding": other_binding(result, town),
        "item_names": item_names,
        "process_names": proc_names,
    }


def _stage_duals(entries: list[dict]) -> list[dict]:
    return [{"stage": b["stage"], "dual": b.get("dual")} for b in entries]


def mandates_of(result: dict, doc: dict, town: str) -> list[dict]:
    """The town's mandates, each with the stages in which it held with equality (and its dual)."""
    binding = [
        b for b in result.get("binding", []) if b["kind"] == "mandate" and b["municipality"] == town
    ]
    out = []
    for m in doc.get("mandates", []):
        if m["municipality"] != town:
            continue
        hits = [
            b
            for b in binding
            if b["where"].split(" ")[0] == m["kind"]
            and (b.get("item") or "") == (m["target"] or "")
        ]
        out.append({**m, "binding": _stage_duals(hits)})
    return out


def limits_of(result: dict, doc: dict, town: str | None) -> list[dict]:
    """Every limit: amount against cap, whether it covers the town, and where it was binding."""
    covering = set(ancestors(doc, town)) | {town} if town else set()
    binding: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for b in result.get("binding", []):
        if b["kind"] == "limit":
            scope = b["where"].rsplit(" in ", 1)[-1]
            binding[(b.get("item") or "", scope)].append(b)
    out = []
    for lim in result.get("limits", []):
        cap = lim.get("cap") or 0
        out.append(
            {
                **lim,
                "used": (lim["amount"] / cap) if cap else None,
                "covers_town": lim["scope"] in covering,
                "binding": _stage_duals(binding.get((lim["item"], lim["scope"]), [])),
            }
        )
    return out


def other_binding(result: dict, town: str) -> list[dict]:
    """The town's other binding constraints (labour, capacity, link, resource), grouped by place."""
    grouped: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for b in result.get("binding", []):
        if b["municipality"] == town and b["kind"] not in ("mandate", "limit"):
            grouped[(b["kind"], b["where"])].append(b)
    return [
        {"kind": kind, "where": where, "binding": _stage_duals(entries)}
        for (kind, where), entries in sorted(grouped.items())
    ]


# -- figures --------------------------------------------------------------------------------


def _layout(**extra: Any) -> dict:
    base = {
        "font": FONT,
        "margin": {"l": 56, "r": 16, "t": 36, "b": 48},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "y": -0.22, "x": 0},
        "autosize": True,
    }
    base.update(extra)
    return base


def figure_json(data: list[dict], layout: dict) -> str:
    """A figure as the JSON ``Plotly.newPlot`` takes (``<`` escaped: it sits in a script tag)."""
    return json.dumps({"data": data, "layout": layout}).replace("<", "\\u003c")


def satisfaction_figure(rows: list[dict], town_name: str | None) -> str:
    """Mean satisfaction per tier: the town beside everyone."""
    x = [f"Tier {r['tier']}<br>{r['name']}" for r in rows]
    data = []
    if town_name:
        data.append(
            {
                "type": "bar",
                "name": town_name,
                "x": x,
                "y": [r["town"]["mean"] if r["town"] else None for r in rows],
                "marker": {"color": "#0b5394"},
                "hovertemplate": "%{y:.1%}<extra>" + town_name + "</extra>",
            }
        )
    data.append(
        {
            "type": "bar",
            "name": "everyone",
            "x": x,
            "y": [r["everyone"]["mean"] for r in rows],
            "marker": {"color": "#9aa5b1"},
            "hovertemplate": "%{y:.1%}<extra>everyone</extra>",
        }
    )
    layout = _layout(
        barmode="group",
        yaxis={
            "title": {"text": "mean share of need met"},
            "tickformat": ".0%",
            "range": [0, 1.05],
        },
        title={"text": "Satisfaction per tier", "x": 0},
    )
    return figure_json(data, layout)


def municipalities_figure(rows: list[dict], tiers: list[int]) -> str:
    """The lowest ratio per tier in every municipality."""
    data = [
        {
            "type": "bar",
            "name": f"tier {t} ({TIER_NAMES.get(t, '')})",
            "x": [r["name"] for r in rows],
            "y": [r["tiers"][t]["min"] for r in rows],
            "marker": {"color": TIER_COLOURS.get(t, "#555555")},
            "hovertemplate": "%{x}: %{y:.1%}<extra>tier " + str(t) + "</extra>",
        }
        for t in tiers
    ]
    layout = _layout(
        barmode="group",
        yaxis={
            "title": {"text": "lowest share of need met"},
            "tickformat": ".0%",
            "range": [0, 1.05],
        },
        title={"text": "Worst-met need per municipality and tier", "x": 0},
    )
    return figure_json(data, layout)


def sankey(result: dict, doc: dict) -> tuple[str, list[dict]]:
    """Flows as a Sankey, one trace per item (shipped from the left, arriving on the right).

    Returns the figure and the items (id, name, unit, total) in trace order;
    only the first trace is visible: the page's item selector switches.
    """
    town_names = names(doc, "municipalities")
    item_names, item_units = names(doc, "items"), units(doc)
    towns = list(town_names)
    labels = [f"{town_names[t]} (sends)" for t in towns] + [
        f"{town_names[t]} (receives)" for t in towns
    ]
    index = {t: i for i, t in enumerate(towns)}
    by_item: dict[str, list[dict]] = defaultdict(list)
    for f in flows(result):
        if f["from"] in index and f["to"] in index:
            by_item[f["item"]].append(f)
    order = sorted(by_item, key=lambda i: (-len(by_item[i]), i))
    data, items = [], []
    for k, item in enumerate(order):
        moved = by_item[item]
        unit = item_units.get(item, "")
        data.append(
            {
                "type": "sankey",
                "visible": k == 0,
                "name": item_names.get(item, item),
                "arrangement": "snap",
                "valueformat": ",.1f",
                "valuesuffix": f" {unit}" if unit else "",
                "node": {
                    "label": labels,
                    "pad": 12,
                    "thickness": 14,
                    "color": ["#0b5394"] * len(towns) + ["#38761d"] * len(towns),
                },
                "link": {
                    "source": [index[f["from"]] for f in moved],
                    "target": [len(towns) + index[f["to"]] for f in moved],
                    "value": [f["quantity"] for f in moved],
                    "color": "rgba(11, 83, 148, 0.35)",
                },
            }
        )
        items.append(
            {
                "id": item,
                "name": item_names.get(item, item),
                "unit": unit,
                "total": sum(f["quantity"] for f in moved),
                "count": len(moved),
            }
        )
    layout = _layout(margin={"l": 8, "r": 8, "t": 16, "b": 16})
    return figure_json(data, layout), items


def comparison_figure(view: dict) -> str:
    """The lowest ratio per tier under each rule."""
    rules = [r for r in view["rules"] if r.get("metrics")]
    tiers = sorted({int(t) for r in rules for t in (r["metrics"].get("min_ratio") or {})})
    data = [
        {
            "type": "bar",
            "name": r["rule"],
            "x": [f"Tier {t}<br>{TIER_NAMES.get(t, '')}" for t in tiers],
            "y": [(r["metrics"].get("min_ratio") or {}).get(str(t)) for t in tiers],
            "marker": {"color": RULE_COLOURS[k % len(RULE_COLOURS)]},
            "hovertemplate": "%{y:.1%}<extra>" + r["rule"] + "</extra>",
        }
        for k, r in enumerate(rules)
    ]
    layout = _layout(
        barmode="group",
        yaxis={
            "title": {"text": "lowest share of need met"},
            "tickformat": ".0%",
            "range": [0, 1.05],
        },
        title={"text": "Worst-off need per tier, by rule", "x": 0},
    )
    return figure_json(data, layout)


def comparison_towns_figure(view: dict, town_names: dict[str, str], tier: int) -> str:
    """Each municipality's worst-met need of one tier, under each rule."""
    rules = [r["rule"] for r in view["rules"] if r.get("metrics")]
    rows = [w for w in view.get("worst_ratio", []) if int(w["tier"]) == tier]
    data = [
        {
            "type": "bar",
            "name": rule,
            "x": [town_names.get(w["municipality"], w["municipality"]) for w in rows],
            "y": [w["ratios"].get(rule) for w in rows],
            "marker": {"color": RULE_COLOURS[k % len(RULE_COLOURS)]},
            "hovertemplate": "%{x}: %{y:.1%}<extra>" + rule + "</extra>",
        }
        for k, rule in enumerate(rules)
    ]
    layout = _layout(
        barmode="group",
        yaxis={
            "title": {"text": "lowest share of need met"},
            "tickformat": ".0%",
            "range": [0, 1.05],
        },
        title={
            "text": f"Tier {tier} ({TIER_NAMES.get(tier, '')}): worst-met need, by rule",
            "x": 0,
        },
    )
    return figure_json(data, layout)


METRICS = [
    ("mean_ratio", "Mean share of need met", "pct"),
    ("gini", "Gini of ratios (0 = equal)", "num"),
    ("total_labour", "Total labour", "hours"),
    ("max_share", "Largest labour share", "pct"),
    ("unmet_tier1", "Vital need unmet", "num"),
]
"""The comparison table's rows after the per-tier minima: key, label, filter."""


WAITING = ("queued", "running")
MADE = ("optimal", "shortfall")


def certificate(plan) -> dict[str, Any] | None:
    """The plan page's words for a plan's leximin certificate (None: not asked for).

    ``state``: ``passed``, ``failed`` (some level failed or was undecided), ``error`` (no
    certificate could be made), ``waiting`` (the plan is not made yet) or ``none`` (the
    plan was not made); ``headline``, ``lines`` (one per level that did not pass, or the
    error) and ``note``, in plain words.
    """
    if not plan.certify:
        return None
    cert = plan.certificate
    if plan.status in WAITING:
        return _said("waiting", "The proof comes once the plan is made.")
    if plan.status not in MADE:
        return _said("none", "Not proved: the plan was not made, so there is nothing to prove.")
    if cert is None:
        return _said("none", "Not proved: no certificate was kept with this plan.")
    if "error" in cert:
        return _said(
            "error",
            "Not proved: the certificate could not be made.",
            [cert["error"]],
            "The plan itself is not affected; request it again to try once more.",
        )
    n, seconds = cert["levels"], cert["seconds"]
    took = f"Checked in {fmt.number(seconds) if seconds >= 0.01 else 'under 0.01'} s."
    if cert["passed"]:
        if n == 0:
            return _said("passed", "Proved fair (leximin): every need is met in full.", [], took)
        return _said(
            "passed",
            f"Proved fair (leximin): at each of the {n} level{_s(n)} checked in exact "
            "arithmetic, no need can rise without lowering a need at or below it.",
            [],
            "No share of a need could be raised without taking from a need met as little "
            f"or less. {took}",
        )
    failed, undecided = cert["failed"], cert["undecided"]
    said = []
    if failed:
        said.append(
            f"at {len(failed)} of the {n} levels, needs can rise without lowering a need "
            "at or below them"
        )
    if undecided:
        said.append(f"{len(undecided)} of the {n} levels could not be decided in time")
    lines = [_failed_line(lv) for lv in failed] + [_undecided_line(lv) for lv in undecided]
    note = took
    if undecided:
        note = f"A longer time limit gives each level more time. {took}"
    return _said("failed", f"Not proved fair (leximin): {' and '.join(said)}.", lines, note)


def _said(state: str, headline: str, lines: list[str] | None = None, note: str = "") -> dict:
    return {"state": state, "headline": headline, "lines": lines or [], "note": note}


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _where(lv: dict) -> str:
    tier = lv["tier"]
    name = TIER_NAMES.get(tier)
    return f"Tier {tier}{f' ({name})' if name else ''} at {fmt.percent(lv['level'])}"


def _failed_line(lv: dict) -> str:
    n, points = lv["needs"], 100 * lv["rise"]
    if points < 0:
        return (
            f"{_where(lv)}: its {n} need{_s(n)} cannot all be held there (short by "
            f"{-points:.3g} percentage points together)."
        )
    return (
        f"{_where(lv)}: its {n} need{_s(n)} could rise by {points:.3g} percentage points "
        "together without lowering any need at or below them."
    )


def _undecided_line(lv: dict) -> str:
    n = lv["needs"]
    return (
        f"{_where(lv)}: undecided; the exact solver found no answer for its {n} need{_s(n)} "
        "within the level's time."
    )

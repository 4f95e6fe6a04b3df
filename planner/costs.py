"""What each mandate costs the others, and what one more unit of each binding constraint would do.

**Mandate costs.** For each mandate binding in a plan (the plan's ``binding``
rows of kind ``mandate``), the plan of the same scenario without that mandate
(every row of it: same municipality, kind and target), solved under the same
policy, and the difference every municipality would see: each need's ratio
(per tier) and each municipality's labour hours. Said in words for the
others: "Birchwood's max_export of timber costs Ashford 4 points of standard
bread".

**What-ifs.** For each labour, process capacity, link capacity and limit that
is binding in the plan (used in full: labour share 1, level at max_level, a
link direction at its capacity, a limit at its cap), the plan with a stated
step more of it (default: 10% more of the current bound; ``unit=True``: that
many units), checked by a re-solve, ranked by what it does for the worst-off
need (the need with the lowest ratio in the plan), then by the lowest ratio
of each tier.

Both are batches of plans (:mod:`planner.batch`): local processes by default,
a Dask cluster with a scheduler address, resumable with a journal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models import Scenario
from planner.alternatives import TIER_WORDS, _names, solve_optimal
from planner.batch import Task, add_stats, batch_executor, new_stats, run_batch, task_key

REL = 1e-6  # used in full: within this (relative) of the bound
POINT = 0.005  # effects smaller than half a point of a ratio are not worth a sentence


# --------------------------------------------------------------------------- edits


def apply_edit(scenario: Scenario, edit: dict) -> Scenario:
    """The scenario with one edit.

    ``drop_mandate`` (kind, municipality, target: every such row goes) or ``raise``
    (table, row, column, by: ``by`` is added to that cell).
    """
    if edit["op"] == "drop_mandate":
        m = scenario.mandates
        same = (
            (m["kind"] == edit["kind"])
            & (m["municipality"] == edit["municipality"])
            & (m["target"].fillna("") == edit["target"])
        )
        return scenario.replace(mandates=m[~same].reset_index(drop=True))
    t = scenario.table(edit["table"]).copy()
    col = edit["column"]
    t[col] = t[col].astype(float)
    t.loc[t.index[int(edit["row"])], col] += float(edit["by"])
    return scenario.replace(**{edit["table"]: t})


def solve_edit(scenario: Scenario, edit: dict, rule, stages, tolerance, solver: str) -> dict:
    """One task: the plan (SPEC JSON) of the edited scenario."""
    return solve_optimal(apply_edit(scenario, edit), rule, stages, tolerance, solver)


# --------------------------------------------------------------------------- effects


def effects(base: dict, alt: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(needs, labour): each need's ratio and each municipality's labour, before and after."""
    key = ["municipality", "item", "tier"]
    a = pd.DataFrame(base.get("deliveries") or [], columns=[*key, "need", "ratio"])
    b = pd.DataFrame(alt.get("deliveries") or [], columns=[*key, "need", "ratio"])
    needs = a[a["need"] > 0][[*key, "ratio"]].merge(
        b[[*key, "ratio"]], on=key, how="left", suffixes=("_before", "_after")
    )
    needs["change"] = needs["ratio_after"] - needs["ratio_before"]
    la = pd.DataFrame(base.get("labour") or [], columns=["municipality", "used"])
    lb = pd.DataFrame(alt.get("labour") or [], columns=["municipality", "used"])
    labour = la.merge(lb, on="municipality", how="left", suffixes=("_before", "_after"))
    labour["change"] = labour["used_after"] - labour["used_before"]
    return needs, labour


def worst_off(base: dict) -> dict | None:
    """The need with the lowest ratio in ``base`` (lowest tier first among equals)."""
    d = pd.DataFrame(base.get("deliveries") or [])
    if not len(d):
        return None
    d = d[d["need"] > 0].sort_values(["ratio", "tier"], kind="stable")
    return None if not len(d) else d.iloc[0][["municipality", "item", "tier", "ratio"]].to_dict()


def _tier_mins(plan: dict) -> dict:
    return {str(k): float(v) for k, v in (plan.get("metrics", {}).get("min_ratio") or {}).items()}


# --------------------------------------------------------------------------- batches


@dataclass
class Edits:
    """The base plan and one plan per edit, with the batch's figures."""

    base: dict
    plans: dict[str, dict]  # edit key -> plan (SPEC JSON)
    batch: dict = field(default_factory=dict)


def run_edits(
    scenario: Scenario,
    edits: dict[str, dict],
    *,
    plan: dict | None = None,
    rule=None,
    stages=None,
    tolerance=None,
    solver: str = "highs",
    journal=None,
    executor=None,
    progress=None,
    label: str = "edits",
) -> Edits:
    """Solve the base plan (unless given) and one plan per edit, as batches on ``executor``."""
    h = scenario.content_hash
    pol = (rule, stages, tolerance, solver)
    opts = dict(journal=journal, executor=executor, progress=progress)
    stats = new_stats()
    if plan is None:
        k0 = task_key("optimal", h, *pol)
        run = run_batch([Task(k0, solve_optimal, (scenario, *pol), "plan")], label="plan", **opts)
        plan = run.results[k0]["plan"]
        add_stats(stats, run, 1)
    tasks = [
        Task(task_key("edit", h, e, *pol), solve_edit, (scenario, e, *pol), name)
        for name, e in edits.items()
    ]
    run = run_batch(tasks, label=label, **opts)
    add_stats(stats, run, len(tasks))
    plans = {name: run.results[t.key]["plan"] for name, t in zip(edits, tasks, strict=True)}
    return Edits(plan, plans, stats)


# --------------------------------------------------------------------------- mandate costs


def binding_mandates(plan: dict) -> list[dict]:
    """The mandates binding in ``plan`` (any stage), once each: kind, municipality, target, where."""
    b = pd.DataFrame(plan.get("binding") or [])
    if not len(b):
        return []
    b = b[b["kind"] == "mandate"].drop_duplicates("where")
    out = []
    for r in b.itertuples():
        kind = str(r.where).split()[0]
        target = "" if kind == "max_labour_share" else str(r.item or "")
        out.append(
            {
                "kind": kind,
                "municipality": str(r.municipality),
                "target": target,
                "where": str(r.where),
            }
        )
    return out


def _mandate_name(m: dict, mname: dict, iname: dict, pname: dict) -> str:
    owner = mname.get(m["municipality"], m["municipality"])
    if not m["target"]:
        return f"{owner}'s {m['kind']}"
    what = pname.get(m["target"]) or iname.get(m["target"], m["target"])
    return f"{owner}'s {m['kind']} of {what}"


def _need_words(g, iname: dict) -> str:
    tier = int(g["tier"])
    return f"{TIER_WORDS.get(tier, f'tier {tier}')} {iname.get(g['item'], g['item'])}"


def _town_sentences(name: str, who: str, mine: pd.DataFrame, lab: pd.DataFrame, iname) -> list:
    out = []
    if len(mine) and mine["change"].max() >= POINT:
        g = mine.sort_values(["change", "tier"], ascending=[False, True]).iloc[0]
        out.append(f"{name} costs {who} {100 * g['change']:.0f} points of {_need_words(g, iname)}")
    elif len(mine) and mine["change"].min() <= -POINT:
        g = mine.sort_values(["change", "tier"]).iloc[0]
        out.append(
            f"without {name}, {who} would lose {-100 * g['change']:.0f} points of "
            f"{_need_words(g, iname)}"
        )
    if len(lab) and lab["used_before"].iloc[0] > 0:
        rel = lab["change"].iloc[0] / lab["used_before"].iloc[0]
        if abs(rel) >= 0.01:
            word = "less" if rel < 0 else "more"
            out.append(f"without {name}, {who} would work {abs(rel):.0%} {word}")
    return out


def cost_sentences(scenario: Scenario, m: dict, needs: pd.DataFrame, labour: pd.DataFrame):
    """One sentence per municipality the mandate costs (or spares) something; its own last."""
    mname, iname = _names(scenario)
    pname = dict(zip(scenario.processes["id"], scenario.processes["name"], strict=True))
    name = _mandate_name(m, mname, iname, pname)
    out, own = [], []
    for town in scenario.municipalities["id"]:
        mine = needs[needs["municipality"] == town].dropna(subset=["change"])
        lab = labour[labour["municipality"] == town]
        who = mname.get(town, town)
        if town == m["municipality"]:
            own = _town_sentences(name, f"{who} itself", mine, lab, iname)
        else:
            out += _town_sentences(name, who, mine, lab, iname)
    if not out:
        out = [f"{name} costs the others nothing in this plan"]
    return out + own


def _split(batch: dict) -> tuple[dict, dict]:
    """(executor arguments, the rest) of a batch's keyword arguments."""
    ex = {k: batch.pop(k) for k in ("executor", "workers", "scheduler") if k in batch}
    return ex, batch


def _base_and_edits(scenario: Scenario, plan: dict | None, edits, label: str, batch: dict):
    """The base plan (solved unless given) and the plans of ``edits(base)``, on one executor.

    Returns (base, Edits) with the figures of both batches together.
    """
    ex_args, batch = _split(dict(batch))
    stats = None
    with batch_executor(**ex_args, jobs=8) as ex:
        if plan is None:
            first = run_edits(scenario, {}, executor=ex, **batch)
            plan, stats = first.base, first.batch
        res = run_edits(scenario, edits(plan), plan=plan, executor=ex, label=label, **batch)
    if stats is not None:
        res.batch = {k: stats[k] + res.batch[k] for k in res.batch}
    return plan, res


def mandate_costs(scenario: Scenario, plan: dict | None = None, **batch) -> dict:
    """Each binding mandate's cost to the others (module text): JSON with ``costs`` and ``plan``.

    ``batch``: rule, stages, tolerance, solver (the policy), journal, progress, and
    executor, workers or scheduler (where the plans are solved).
    """
    found: list[dict] = []

    def edits(base: dict) -> dict:
        found.extend(binding_mandates(base))
        return {m["where"]: _drop(m) for m in found}

    plan, res = _base_and_edits(scenario, plan, edits, "mandate costs", batch)
    out = []
    for m in found:
        alt = res.plans[m["where"]]
        needs, labour = effects(plan, alt)
        out.append(
            {
                "mandate": m,
                "status": alt.get("status"),
                "text": cost_sentences(scenario, m, needs, labour),
                "needs": _records(needs[needs["change"].abs() >= 1e-6]),
                "labour": _records(labour[labour["change"].abs() >= 1e-6]),
                "min_ratio": {"with": _tier_mins(plan), "without": _tier_mins(alt)},
                "plan": alt,
            }
        )
    return {"plan": plan, "costs": out, "batch": res.batch}


def _drop(m: dict) -> dict:
    return {
        "op": "drop_mandate",
        "kind": m["kind"],
        "municipality": m["municipality"],
        "target": m["target"],
    }


def _records(df: pd.DataFrame) -> list[dict]:
    from planner.plan import _records as rec

    return rec(df)


# --------------------------------------------------------------------------- what-ifs


def _near(used, bound) -> np.ndarray:
    used, bound = np.asarray(used, float), np.asarray(bound, float)
    return np.isfinite(bound) & (bound > 0) & (used >= bound - REL * np.maximum(1.0, bound))


def _labour_edits(scenario: Scenario, plan: dict) -> list[dict]:
    lab = pd.DataFrame(plan.get("labour") or [], columns=["municipality", "used", "available"])
    full = lab[_near(lab["used"], lab["available"])]
    ids = pd.Index(scenario.municipalities["id"])
    return [
        {
            "kind": "labour",
            "where": f"labour of {m}",
            "table": "municipalities",
            "row": int(ids.get_loc(m)),
            "column": "labour_hours",
            "value": float(v),
        }
        for m, v in zip(full["municipality"], full["available"], strict=True)
    ]


def _capacity_edits(scenario: Scenario, plan: dict) -> list[dict]:
    cap = scenario.capacities.reset_index(drop=True)
    cap["row"] = np.arange(len(cap))
    p = pd.DataFrame(plan.get("production") or [], columns=["municipality", "process", "level"])
    j = cap.merge(p, on=["municipality", "process"])
    j = j[_near(j["level"], j["max_level"])]
    return [
        {
            "kind": "capacity",
            "where": f"capacity {r.process} of {r.municipality}",
            "table": "capacities",
            "row": int(r.row),
            "column": "max_level",
            "value": float(r.max_level),
        }
        for r in j.itertuples()
    ]


def _link_edits(scenario: Scenario, plan: dict) -> list[dict]:
    links = scenario.links.reset_index(drop=True)
    f = pd.DataFrame(plan.get("flows") or [], columns=["from", "to", "quantity"])
    moved = f.groupby(["from", "to"])["quantity"].sum()
    out = []
    for i, r in enumerate(links.itertuples(index=False)):
        cap = float(r.capacity)
        ways = [(r[0], r[1])] + ([(r[1], r[0])] if r.both_ways else [])
        for a, b in ways:
            if _near([moved.get((a, b), 0.0)], [cap])[0]:
                out.append(
                    {
                        "kind": "link",
                        "where": f"link {a} -> {b}",
                        "table": "links",
                        "row": i,
                        "column": "capacity",
                        "value": cap,
                    }
                )
                break
    return out


def _limit_edits(scenario: Scenario, plan: dict) -> list[dict]:
    lim = scenario.limits.reset_index(drop=True)
    lim["row"] = np.arange(len(lim))
    a = pd.DataFrame(plan.get("limits") or [], columns=["item", "scope", "amount"])
    j = lim.merge(a, on=["item", "scope"])
    j = j[_near(j["amount"], j["cap"])]
    return [
        {
            "kind": "limit",
            "where": f"limit {r.item} in {r.scope}",
            "table": "limits",
            "row": int(r.row),
            "column": "cap",
            "value": float(r.cap),
        }
        for r in j.itertuples()
    ]


def binding_bounds(scenario: Scenario, plan: dict) -> list[dict]:
    """Labour, capacities, links and limits used in full in ``plan``, with their bounds."""
    return [
        *_labour_edits(scenario, plan),
        *_capacity_edits(scenario, plan),
        *_link_edits(scenario, plan),
        *_limit_edits(scenario, plan),
    ]


def _what_if_row(scenario: Scenario, b: dict, base: dict, alt: dict, worst: dict | None) -> dict:
    needs, labour = effects(base, alt)
    gain = 0.0
    if worst is not None:
        w = needs[
            (needs["municipality"] == worst["municipality"])
            & (needs["item"] == worst["item"])
            & (needs["tier"] == worst["tier"])
        ]
        gain = float(w["change"].iloc[0]) if len(w) and pd.notna(w["change"].iloc[0]) else 0.0
    before, after = _tier_mins(base), _tier_mins(alt)
    tiers = {t: after.get(t, np.nan) - before.get(t, np.nan) for t in before}
    return {
        **{k: b[k] for k in ("kind", "where", "value")},
        "step": b["by"],
        "status": alt.get("status"),
        "worst_off_gain": gain,
        "min_ratio_gain": tiers,
        "mean_ratio_gain": float(
            alt.get("metrics", {}).get("mean_ratio", np.nan)
            - base.get("metrics", {}).get("mean_ratio", np.nan)
        ),
        "labour_change": float(labour["change"].sum()),
        "needs": _records(needs[needs["change"].abs() >= 1e-6]),
    }


def what_ifs(
    scenario: Scenario, plan: dict | None = None, step: float = 0.1, unit: bool = False, **batch
) -> dict:
    """One step more of each binding bound, re-solved and ranked (module text).

    ``step``: a fraction of the bound (default 10% more) or, with ``unit``, a
    number of units. JSON: ``plan``, ``worst_off`` and ``what_ifs`` (best first).
    """
    if step <= 0:
        raise ValueError(f"step must be positive, not {step}")
    bounds: list[dict] = []

    def edits(base: dict) -> dict:
        bounds.extend(binding_bounds(scenario, base))
        for b in bounds:
            b["by"] = float(step) if unit else float(step) * b["value"]
        keys = ("table", "row", "column", "by")
        return {b["where"]: {k: b[k] for k in keys} | {"op": "raise"} for b in bounds}

    plan, res = _base_and_edits(scenario, plan, edits, "what-ifs", batch)
    worst = worst_off(plan)
    rows = [_what_if_row(scenario, b, plan, res.plans[b["where"]], worst) for b in bounds]

    def rank(r):
        t = r["min_ratio_gain"]
        gains = [
            r["worst_off_gain"],
            *(t.get(k, 0.0) for k in ("1", "2", "3")),
            r["mean_ratio_gain"],
        ]
        return (*(-round(float(np.nan_to_num(g)), 9) for g in gains), r["where"])

    rows.sort(key=rank)
    for r in rows:
        r["text"] = what_if_sentence(scenario, r, worst, unit)
    return {"plan": plan, "worst_off": worst, "what_ifs": rows, "batch": res.batch}


def what_if_sentence(scenario: Scenario, r: dict, worst: dict | None, unit: bool) -> str:
    """E.g. "10% more labour of elmstead (+56,000): the worst-off need ... 18.2% -> 19.0%"."""
    mname, iname = _names(scenario)
    amount = f"{r['step']:,.6g} more" if unit else f"{r['step'] / r['value']:.0%} more"
    head = f"{amount} of {r['where']} (+{r['step']:,.6g})"
    if worst is None:
        return head
    who = f"{mname.get(worst['municipality'], worst['municipality'])}'s " + (
        f"{TIER_WORDS.get(int(worst['tier']), '')} {iname.get(worst['item'], worst['item'])}"
    )
    before = float(worst["ratio"])
    gain = round(100 * r["worst_off_gain"], 1) + 0.0  # no "-0.0" for a gain of -1e-16
    mean = round(100 * float(np.nan_to_num(r["mean_ratio_gain"])), 1) + 0.0
    return (
        f"{head}: the worst-off need ({who}) {before:.1%} -> {before + r['worst_off_gain']:.1%} "
        f"({gain:+.1f} points), mean ratio {mean:+.1f} points; checked by re-solve"
    )

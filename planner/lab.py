"""The analysts' lab: compare allocation rules on one scenario, as tidy DataFrames.

A notebook session::

    from planner.lab import compare
    c = compare("data/valley", rules=["leximin", "proportional", "utilitarian", "equal_per_capita"])
    c.metrics              # one row per rule: min ratio per tier, Gini, labour, emissions...
    c.municipalities       # one row per rule and municipality: satisfaction per tier, labour share
    c.satisfaction         # one row per rule, municipality and tier
    c.plans["leximin"]     # the Plan itself (deliveries, production, flows, ... + to_dict())
    c.to_html("report.html")   # self-contained report with plotly charts (planner.report)

Metric columns (also the columns of every sweep result, :mod:`planner.sweep`):

================== ============================================================
``min_ratio_tierN`` lowest satisfaction ratio d/need of tier N (NaN: no need of that tier)
``mean_ratio``      mean ratio over every need
``gini``            Gini coefficient of the ratios (0 = all equal)
``atkinson``        Atkinson index of the ratios, aversion 0.5
``unmet_tier1``     vital quantity not delivered (sum over needs, in their own units)
``total_labour``    hours of labour the plan uses
``max_share``       highest labour share (used / labour_hours) of a municipality
``min_share``       lowest labour share
``share_spread``    ``max_share - min_share``: how unevenly the work is spread
``emissions:I@S``   amount of limited item I over scope S (one column per limit)
================== ============================================================

Municipalities with no labour hours are left out of the share figures, as
they are of the ``fair_burden`` stage. A rule whose plan failed (e.g.
``min_labour_full`` on a scenario whose needs cannot all be met) keeps its
row, with its ``status`` and NaN figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import models
from models import Scenario
from planner.core import solve
from planner.plan import Plan

DEFAULT_RULES = ("leximin", "proportional", "utilitarian", "equal_per_capita")
TIERS = (1, 2, 3)
METRIC_COLUMNS = [
    *(f"min_ratio_tier{t}" for t in TIERS),
    "mean_ratio",
    "gini",
    "atkinson",
    "unmet_tier1",
    "total_labour",
    "max_share",
    "min_share",
    "share_spread",
]
METRIC_LABELS = {
    "status": "status",
    "min_ratio_tier1": "lowest ratio, tier 1 (vital)",
    "min_ratio_tier2": "lowest ratio, tier 2",
    "min_ratio_tier3": "lowest ratio, tier 3",
    "mean_ratio": "mean ratio",
    "gini": "Gini of ratios",
    "atkinson": "Atkinson (ε=0.5)",
    "unmet_tier1": "unmet vital quantity",
    "total_labour": "total labour (h)",
    "max_share": "highest labour share",
    "min_share": "lowest labour share",
    "share_spread": "labour share spread",
}


def as_scenario(scenario: Scenario | str | Path) -> Scenario:
    """A scenario, or one read from a folder / .xlsx / .json / .zip path."""
    if isinstance(scenario, Scenario):
        return scenario
    return models.load(scenario)


def parse_rules(rules: str | Iterable[str] | None) -> list[str]:
    """Rules from a list or a comma-separated string; default the four need rules."""
    if rules is None:
        return list(DEFAULT_RULES)
    if isinstance(rules, str):
        rules = rules.split(",")
    out = [r.strip() for r in rules if r.strip()]
    if not out:
        raise ValueError("no rule given")
    dup = sorted({r for r in out if out.count(r) > 1})
    if dup:
        raise ValueError(f"rule listed twice: {', '.join(dup)}")
    return out


def plan_metrics(plan: Plan, limits: pd.DataFrame | None = None) -> dict:
    """One flat row of a plan's figures (the columns listed in the module docstring).

    ``limits`` (the scenario's limits table) names the emission columns of a
    plan that failed, so that every row of a comparison or sweep has them.
    """
    row: dict = {"status": plan.status}
    for col in METRIC_COLUMNS:
        row[col] = np.nan
    if limits is not None:
        for r in limits.itertuples():
            row[f"emissions:{r.item}@{r.scope}"] = np.nan
    if not plan.ok:
        return row
    m = plan.metrics
    for t in TIERS:
        v = m["min_ratio"].get(str(t))
        row[f"min_ratio_tier{t}"] = np.nan if v is None else float(v)
    for k in ("mean_ratio", "gini", "atkinson", "unmet_tier1", "total_labour"):
        row[k] = float(m[k])
    lab = plan.labour
    worked = lab[lab["available"] > 0]["share"]
    if len(worked):
        row["max_share"] = float(worked.max())
        row["min_share"] = float(worked.min())
        row["share_spread"] = row["max_share"] - row["min_share"]
    for r in plan.limits.itertuples():
        row[f"emissions:{r.item}@{r.scope}"] = float(r.amount)
    return row


def satisfaction_table(plan: Plan) -> pd.DataFrame:
    """Satisfaction per municipality and tier: needs, need, delivered, mean and lowest ratio."""
    cols = ["municipality", "tier", "needs", "need", "delivered", "mean_ratio", "min_ratio"]
    d = plan.deliveries
    if d.empty:
        return pd.DataFrame(columns=cols)
    d = d[d["need"] > 0]
    g = d.groupby(["municipality", "tier"], sort=True)
    out = g.agg(
        needs=("ratio", "size"),
        need=("need", "sum"),
        delivered=("delivered", "sum"),
        mean_ratio=("ratio", "mean"),
        min_ratio=("ratio", "min"),
    ).reset_index()
    out["tier"] = out["tier"].astype("int64")
    return out[cols]


def municipality_table(scenario: Scenario, plan: Plan) -> pd.DataFrame:
    """One row per municipality: population, labour and satisfaction per tier."""
    muni = scenario.municipalities[["id", "population", "labour_hours"]].rename(
        columns={"id": "municipality", "labour_hours": "labour_available"}
    )
    out = muni.copy()
    lab = plan.labour.set_index("municipality") if not plan.labour.empty else None
    out["labour_used"] = (
        np.nan if lab is None else out["municipality"].map(lab["used"]).astype(float)
    )
    out["labour_share"] = (
        np.nan if lab is None else out["municipality"].map(lab["share"]).astype(float)
    )
    out.loc[out["labour_available"] <= 0, "labour_share"] = np.nan
    d = plan.deliveries
    d = d[d["need"] > 0] if not d.empty else d
    for t in TIERS:
        dt = d[d["tier"] == t] if not d.empty else d
        g = dt.groupby("municipality")["ratio"] if not dt.empty else None
        out[f"mean_ratio_tier{t}"] = np.nan if g is None else out["municipality"].map(g.mean())
        out[f"min_ratio_tier{t}"] = np.nan if g is None else out["municipality"].map(g.min())
    if d.empty:
        out["mean_ratio"] = np.nan
        out["unmet_tier1"] = np.nan
    else:
        out["mean_ratio"] = out["municipality"].map(d.groupby("municipality")["ratio"].mean())
        t1 = d[d["tier"] == 1]
        unmet = (t1["need"] - t1["delivered"]).clip(lower=0).groupby(t1["municipality"]).sum()
        out["unmet_tier1"] = out["municipality"].map(unmet).fillna(0.0)
    return out.reset_index(drop=True)


@dataclass
class Comparison:
    """Several rules solved on one scenario, their figures as tidy DataFrames.

    ``metrics``: one row per rule; ``municipalities``: one row per rule and
    municipality; ``satisfaction``: one row per rule, municipality and tier;
    ``plans``: rule -> :class:`~planner.plan.Plan`.
    """

    scenario: Scenario
    rules: list[str]
    plans: dict[str, Plan]
    metrics: pd.DataFrame
    municipalities: pd.DataFrame
    satisfaction: pd.DataFrame
    solver: str = "highs"
    notes: list[str] = field(default_factory=list)

    @property
    def emission_columns(self) -> list[str]:
        """The ``emissions:ITEM@SCOPE`` columns of :attr:`metrics`."""
        return [c for c in self.metrics.columns if c.startswith("emissions:")]

    def long(self) -> pd.DataFrame:
        """The metrics in long form: rule, metric, value (numbers only)."""
        cols = METRIC_COLUMNS + self.emission_columns
        return self.metrics.melt(id_vars=["rule"], value_vars=cols, var_name="metric")

    def pivot(self, value: str = "mean_ratio_tier3") -> pd.DataFrame:
        """One municipality column per rule: who gains and who loses, e.g. ``pivot("labour_share")``."""
        return self.municipalities.pivot(index="municipality", columns="rule", values=value)[
            self.rules
        ]

    def figures(self, flows_rule: str | None = None) -> dict:
        """The report's plotly figures by name (see :mod:`planner.report`)."""
        from planner.report import figures

        return figures(self, flows_rule=flows_rule)

    def to_html(self, path: str | Path | None = None, flows_rule: str | None = None) -> str:
        """The self-contained HTML report; written to ``path`` when given."""
        from planner.report import html_report

        text = html_report(self, flows_rule=flows_rule)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def _repr_html_(self) -> str:
        return self.metrics.set_index("rule").T.to_html(float_format=lambda v: f"{v:.4g}")


def _solve_rule(scenario: Scenario, rule: str, solver: str, time_limit: float | None) -> Plan:
    return solve(scenario, rule=rule, solver=solver, time_limit=time_limit)


def compare(
    scenario: Scenario | str | Path,
    rules: str | Sequence[str] | None = None,
    solver: str = "highs",
    time_limit: float | None = None,
    workers: int = 1,
) -> Comparison:
    """Solve ``scenario`` under each rule and gather the figures that tell them apart.

    ``rules``: a list or comma-separated string (default leximin, proportional,
    utilitarian, equal_per_capita); ``workers`` > 1 solves the rules in that
    many processes.
    """
    s = as_scenario(scenario)
    rules = parse_rules(rules)
    if workers > 1 and len(rules) > 1:
        with ProcessPoolExecutor(min(workers, len(rules))) as ex:
            futs = {r: ex.submit(_solve_rule, s, r, solver, time_limit) for r in rules}
            plans = {r: f.result() for r, f in futs.items()}
    else:
        plans = {r: _solve_rule(s, r, solver, time_limit) for r in rules}
    return comparison_of(s, plans, solver)


def comparison_of(scenario: Scenario, plans: dict[str, Plan], solver: str = "highs") -> Comparison:
    """A :class:`Comparison` of plans already made (rule -> plan) on one scenario."""
    rows, munis, sats, notes = [], [], [], []
    for rule, plan in plans.items():
        rows.append({"rule": rule, **plan_metrics(plan, scenario.limits)})
        m = municipality_table(scenario, plan)
        m.insert(0, "rule", rule)
        munis.append(m)
        st = satisfaction_table(plan)
        st.insert(0, "rule", rule)
        sats.append(st)
        if not plan.ok:
            why = "; ".join(plan.conflicts[:3]) or plan.message
            notes.append(f"{rule}: {plan.status}" + (f" ({why})" if why else ""))
    metrics = pd.DataFrame(rows)
    return Comparison(
        scenario=scenario,
        rules=list(plans),
        plans=dict(plans),
        metrics=metrics,
        municipalities=pd.concat(munis, ignore_index=True),
        satisfaction=pd.concat([x for x in sats if len(x)] or sats[:1], ignore_index=True),
        solver=solver,
        notes=notes,
    )


def lorenz(values: Iterable[float]) -> tuple[np.ndarray, np.ndarray]:
    """Lorenz curve of non-negative values: cumulative share of items, cumulative share of the total.

    Both arrays start at 0 and end at 1; the Gini coefficient is one minus twice
    the area under the curve. An all-zero set gives the diagonal.
    """
    v = np.sort(np.asarray(list(values), float))
    n = len(v)
    x = np.linspace(0.0, 1.0, n + 1)
    if n == 0 or v.sum() <= 0:
        return x, x.copy()
    y = np.concatenate([[0.0], np.cumsum(v) / v.sum()])
    return x, y

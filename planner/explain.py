"""Explanation of a solved policy in the scenario's words: binding constraints, prices, conflicts.

Reads the engine's results (:class:`planner.engine.EngineResult`) and the
formulation's labels; changes neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import solvers
from planner.engine import EngineResult
from planner.formulation import Formulation
from solvers import Backend, Result

BIND_TOL = 1e-7  # relative: a row this close to a bound holds with equality


@dataclass
class StageBinding:
    """One stage's binding constraints (a frame with the plan's ``binding`` columns)."""

    name: str
    binding: pd.DataFrame | None


@dataclass
class Explained:
    """What the plan's tables need from a solved policy: the point, prices, binding rows."""

    x: np.ndarray
    prices: np.ndarray | None  # balance-row duals of the stage that keeps them (min_labour)
    outcomes: list[StageBinding] = field(default_factory=list)


def binding(form: Formulation, stage: str, res: Result) -> pd.DataFrame:
    """Hard constraints of the scenario that hold with equality in ``res``, with their duals."""
    lp = form.lp
    x = res.x[: form.n]
    act = lp.A @ x
    scale = 1.0 + np.abs(act)
    at_hi = np.isfinite(lp.row_upper) & (np.abs(act - lp.row_upper) <= BIND_TOL * scale)
    at_lo = np.isfinite(lp.row_lower) & (np.abs(act - lp.row_lower) <= BIND_TOL * scale)
    kinds = form.rows["kind"].to_numpy().astype(object)
    kinds[form.resource_rows] = "resource"
    rsel = np.flatnonzero((kinds != "balance") & (at_hi | at_lo))
    duals = res.row_duals[: form.m] if res.row_duals is not None else np.full(form.m, np.nan)
    rows = pd.DataFrame(
        {
            "stage": stage,
            "kind": kinds[rsel],
            "where": form.describe_rows(rsel),
            "municipality": form.rows["municipality"].to_numpy()[rsel],
            "item": form.rows["item"].to_numpy()[rsel],
            "dual": duals[rsel],
        }
    )
    xs = form.col_index("x")
    ub = lp.col_upper[xs]
    xat = np.isfinite(ub) & (np.abs(x[xs] - ub) <= BIND_TOL * (1.0 + np.abs(ub)))
    cs = xs[xat]
    cd = res.col_duals[cs] if res.col_duals is not None else np.full(len(cs), np.nan)
    forb = form.cols["forbidden"].to_numpy()[cs]
    cols = pd.DataFrame(
        {
            "stage": stage,
            "kind": np.where(forb, "mandate", "capacity"),
            "where": form.describe_cols(cs),
            "municipality": form.cols["municipality"].to_numpy()[cs],
            "item": form.cols["process"].to_numpy()[cs],
            "dual": cd,
        }
    )
    out = pd.concat([rows, cols], ignore_index=True)
    out["where"] = out["where"].str.replace(r"^mandate ", "", regex=True)
    return out


def explained(form: Formulation, res: EngineResult) -> Explained:
    """The plan's inputs from a solved policy: point, prices and each stage's binding rows."""
    stages = [
        StageBinding(o.name, binding(form, o.name, o.first) if o.first is not None else None)
        for o in res.outcomes
    ]
    prices = res.duals[: form.m] if res.duals is not None else None
    return Explained(res.x, prices, stages)


def conflicts(form: Formulation, backend: Backend, needs_in_full: bool) -> list[str]:
    """An irreducible set of conflicting constraints, in the scenario's own words.

    ``backend``: holding the infeasible programme as the engine left it;
    ``needs_in_full``: the failing stage required every need met in full.
    """
    out: list[str] = []
    if needs_in_full:
        unreachable = form.needs[form.needs["reason"] == "unreachable"]
        for r in unreachable.head(50).itertuples():
            out.append(
                f"need {r.item} tier {r.tier} of {r.municipality} (nothing can bring it there)"
            )
    iis = None
    if "iis" in backend.features:
        try:
            iis = backend.iis()
        except Exception:  # noqa: BLE001 - fall back to the elastic filter
            iis = None
    if iis is None:
        iis = solvers.elastic_iis(backend.lp)
    if iis is None:
        return out or ["the solver reported infeasibility but no conflicting set was found"]
    rows, cols = iis
    for r in np.asarray(rows, int):
        if r < form.m:
            out.append(str(form.describe_rows(np.array([r]))[0]))
        else:
            out.append(f"hold of an earlier stage (row {r})")
    for c in np.asarray(cols, int):
        if c < form.n:
            d = str(form.describe_cols(np.array([c]))[0])
            if form.cols["kind"].iat[c] == "r" and needs_in_full:
                d += " (met in full)"
            out.append(d)
    seen: set[str] = set()
    return [c for c in out if not (c in seen or seen.add(c))]

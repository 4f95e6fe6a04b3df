"""The plan: tables of what to make, move and deliver, and the SPEC section 5 JSON.

A :class:`Plan` is separate from the scenario (nothing downstream changes an
upstream object) and is named by the scenario's content hash, the rule and
the solver, so the same input always names the same plan.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.formulation import Formulation

VERSION = "0.1.0"
ZERO = 1e-9
SNAP = 1e-8
DUST = 1e-7
"""A level or flow whose every entry is at most this share of its constraint rows' size is dust:
below what the solver resolves (HiGHS's tolerances are ~1e-7 on scaled rows), reported as 0.
The rows it touches may lose at most this share in all (the checker allows 1e-6)."""


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = all equal); 0 for an empty or all-zero set."""
    v = np.sort(np.asarray(values, float))
    n = len(v)
    if n == 0 or v.sum() <= 0:
        return 0.0
    cum = np.cumsum(v)
    return float((n + 1 - 2 * (cum.sum() / cum[-1])) / n)


def atkinson(values: np.ndarray, epsilon: float = 0.5) -> float:
    """Atkinson index of inequality with aversion ``epsilon`` (0 = all equal)."""
    v = np.asarray(values, float)
    if len(v) == 0 or v.mean() <= 0:
        return 0.0
    if epsilon == 1:
        if (v <= 0).any():
            return 1.0
        return float(1 - np.exp(np.log(v).mean()) / v.mean())
    return float(1 - (np.mean(v ** (1 - epsilon))) ** (1 / (1 - epsilon)) / v.mean())


@dataclass
class Plan:
    """A solved (or failed) plan with its tables as pandas DataFrames."""

    status: str
    scenario: dict
    rule: str
    solver: str
    stages: list[dict]
    deliveries: pd.DataFrame
    production: pd.DataFrame
    flows: pd.DataFrame
    labour: pd.DataFrame
    limits: pd.DataFrame
    prices: pd.DataFrame
    binding: pd.DataFrame
    metrics: dict
    conflicts: list[str] = field(default_factory=list)
    message: str = ""
    timings: dict = field(default_factory=dict)
    partial: dict | None = None  # time limit: {"stopped_in": stage, "completed": [stages]}
    # an exact plan's need levels as rationals, (municipality, item, tier) -> Fraction, for
    # its exact certificate (planner.certificate.exact_levels_certificate); not in the JSON
    exact_levels: dict | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The SPEC section 5 JSON object (key names are a contract), with its ``hash``."""
        out = {
            "status": self.status,
            "scenario": self.scenario,
            "rule": self.rule,
            "solver": self.solver,
            "version": VERSION,
            "stages": self.stages,
            "deliveries": _records(self.deliveries),
            "production": _records(self.production),
            "flows": _records(self.flows),
            "labour": _records(self.labour),
            "limits": _records(self.limits),
            "prices": _records(self.prices),
            "binding": _records(self.binding),
            "metrics": self.metrics,
            "timings": self.timings,
        }
        if self.conflicts or self.status == "infeasible":
            out["conflicts"] = list(self.conflicts)
        if self.message:
            out["message"] = self.message
        if self.partial is not None:
            out["partial"] = self.partial
        return stamp(_clean(out))

    def to_json(self, indent: int | None = 2) -> str:
        """The plan as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @property
    def ok(self) -> bool:
        """True when the plan was solved (optimal or with shortfalls)."""
        return self.status in ("optimal", "shortfall")


TIMED = (
    "build",
    "load",
    "solve",
    "polish",
    "exact_seconds",
    "exact_rational_seconds",
    "exact_rational_parts",
)
"""The entries of a plan's ``timings`` that are wall-clock seconds; the others count work
(variables, rows, LP solves, iterations), which the same input always repeats."""


def without_timings(doc: dict) -> dict:
    """A copy of the plan JSON ``doc`` with every wall-clock time null.

    Those are ``stages[].seconds`` and the seconds in ``timings`` (``TIMED``);
    every other field of a plan is decided by its input, rule and solver, so two
    runs of the same input give the same document once these are null.
    """
    out = dict(doc)
    if isinstance(out.get("stages"), list):
        out["stages"] = [
            {**s, "seconds": None} if isinstance(s, dict) and "seconds" in s else s
            for s in out["stages"]
        ]
    if isinstance(out.get("timings"), dict):
        out["timings"] = {k: None if k in TIMED else v for k, v in out["timings"].items()}
    return out


def plan_hash(doc: dict) -> str:
    """The plan's content hash: sha256 of its canonical JSON without timings.

    Canonical: ``without_timings(doc)`` less its own ``hash``, as
    ``json.dumps(..., sort_keys=True, separators=(",", ":"))`` (ASCII). The
    same input, rule and solver give the same hash however long they took.
    """
    body = {k: v for k, v in without_timings(doc).items() if k != "hash"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stamp(doc: dict) -> dict:
    """``doc`` with its ``hash`` set (:func:`plan_hash`): for whatever adds to a plan's JSON."""
    doc["hash"] = plan_hash(doc)
    return doc


def _clean(obj):
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return None if not math.isfinite(f) else f
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _records(df: pd.DataFrame) -> list[dict]:
    if df is None or df.empty:
        return []
    return _clean(df.to_dict(orient="records"))


DELIVERY_COLS = ["municipality", "item", "tier", "need", "delivered", "ratio"]
PRODUCTION_COLS = ["municipality", "process", "level"]
FLOW_COLS = ["from", "to", "item", "quantity", "arrived"]
LABOUR_COLS = ["municipality", "used", "available", "share", "free_time"]
LIMIT_COLS = ["item", "scope", "amount", "cap"]
PRICE_COLS = ["municipality", "item", "labour_value"]
BINDING_COLS = ["stage", "kind", "where", "municipality", "item", "dual"]


def empty_tables() -> dict[str, pd.DataFrame]:
    """Empty tables with the plan's columns (for plans that were not solved)."""
    cols = {
        "deliveries": DELIVERY_COLS,
        "production": PRODUCTION_COLS,
        "flows": FLOW_COLS,
        "labour": LABOUR_COLS,
        "limits": LIMIT_COLS,
        "prices": PRICE_COLS,
        "binding": BINDING_COLS,
    }
    return {k: pd.DataFrame(columns=v) for k, v in cols.items()}


def _row_sizes(A: sp.csr_array, lo: np.ndarray, hi: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Each row's size: its terms' magnitudes and its bound's, as the checker measures it."""
    bound = np.maximum(
        np.where(np.isfinite(lo), np.abs(lo), 0.0), np.where(np.isfinite(hi), np.abs(hi), 0.0)
    )
    return abs(A) @ np.abs(x) + bound


def _violation(A: sp.csr_array, lo: np.ndarray, hi: np.ndarray, x: np.ndarray) -> np.ndarray:
    act = A @ x
    return np.maximum(np.maximum(lo - act, act - hi), 0.0)


def snap_dust(form: Formulation, x: np.ndarray) -> np.ndarray:
    """``x`` with dust levels and flows set to 0 (see ``DUST``); every constraint still holds.

    A level or flow is dust when each of its terms is at most ``DUST`` of
    its rows' scale: for a balance row, the largest balance row of the same
    item; for other rows, the largest row of their kind. Dropping dust may
    not take any row further than ``DUST`` of its own size past its bound
    beyond where the solver left it: the dust of such rows is kept.
    """
    A = sp.csr_array(form.lp.A)
    lo, hi = form.lp.row_lower, form.lp.row_upper
    if A.shape[0] == 0 or not len(x):
        return x
    rows = form.rows
    size = _row_sizes(A, lo, hi, x)
    group = np.where(
        rows["kind"].to_numpy() == "balance",
        "b:" + rows["item"].astype(str),
        rows["kind"].astype(str),
    )
    scale = pd.Series(size).groupby(group).transform("max").to_numpy()
    inv = np.divide(1.0, scale, out=np.zeros_like(scale), where=scale > 0)
    share = sp.csr_array(sp.diags_array(inv) @ abs(A) @ sp.diags_array(x))
    movable = np.isin(form.cols["kind"].to_numpy(), ("x", "f")) & (x > 0)
    worst = share.max(axis=0).toarray().ravel() if share.nnz else np.zeros(len(x))
    dust = movable & (worst <= DUST)
    before = _violation(A, lo, hi, x)
    while dust.any():
        snapped = np.where(dust, 0.0, x)
        budget = DUST * np.maximum(1.0, _row_sizes(A, lo, hi, snapped))
        over = np.flatnonzero(_violation(A, lo, hi, snapped) > before + budget)
        if not len(over):
            return snapped
        dust &= ~(abs(A[over]).sum(axis=0) > 0)
    return x


def _deliveries(form: Formulation, x: np.ndarray, cap: np.ndarray | None = None) -> pd.DataFrame:
    """One row per need: its satisfaction ratio (snapped at 0 and 1) and what it delivers.

    ``cap`` (one per need, or None): the most each ratio may be, applied last (an exact
    plan's levels: a float solver's last digits above them are not the plan's).
    """
    needs = form.needs
    need = needs["need"].to_numpy(float)
    ratio = np.zeros(len(needs))
    has = needs["col"].to_numpy() >= 0
    ratio[has] = np.clip(x[needs["col"].to_numpy()[has]], 0.0, 1.0)
    # holds keep each optimum with a slack of ~1e-10 (engine.EPS): a need met but for that
    # slack is met (the checker's tolerance, 1e-6, covers the difference)
    ratio[ratio > 1.0 - SNAP] = 1.0
    ratio[ratio < SNAP] = 0.0  # a delivery below the solver's resolution: less is always feasible
    if cap is not None:
        ratio = np.minimum(ratio, cap)
    ratio[need <= 0] = 1.0
    deliveries = pd.DataFrame(
        {
            "municipality": needs["municipality"].to_numpy(),
            "item": needs["item"].to_numpy(),
            "tier": needs["tier"].to_numpy(int),
            "need": need,
            "delivered": need * ratio,
            "ratio": ratio,
        }
    )
    return deliveries


def extract_tables(form: Formulation, result, ratio_cap=None) -> dict[str, pd.DataFrame]:
    """Turn a solved policy (``planner.explain.Explained``) into the plan's tables.

    Dust is reported as 0. ``ratio_cap``: see ``_deliveries``.
    """
    x = snap_dust(form, np.maximum(result.x, 0.0))
    cols = form.cols
    kind = cols["kind"].to_numpy()

    deliveries = _deliveries(form, x, ratio_cap)

    xs = np.flatnonzero((kind == "x") & (x > ZERO))
    production = pd.DataFrame(
        {
            "municipality": cols["municipality"].to_numpy()[xs],
            "process": cols["process"].to_numpy()[xs],
            "level": x[xs],
        }
    )

    fs = np.flatnonzero((kind == "f") & (x > ZERO))
    loss = form.arcs["loss"].to_numpy(float)[cols["arc"].to_numpy()[fs]]
    flows = pd.DataFrame(
        {
            "from": cols["municipality"].to_numpy()[fs],
            "to": cols["dest"].to_numpy()[fs],
            "item": cols["item"].to_numpy()[fs],
            "quantity": x[fs],
            "arrived": x[fs] * (1.0 - loss),
        }
    )

    muni = form.municipalities
    avail = muni["labour_hours"].to_numpy(float)
    used = np.asarray(form.labour @ x).ravel()
    share = np.divide(used, avail, out=np.zeros_like(used), where=avail > 0)
    labour = pd.DataFrame(
        {
            "municipality": muni["id"].to_numpy(),
            "used": used,
            "available": avail,
            "share": share,
            "free_time": avail - used,
        }
    )

    lim_rows = form.row_index("limit")
    amount = np.asarray(form.lp.A[lim_rows] @ x).ravel() if len(lim_rows) else np.zeros(0)
    limits = pd.DataFrame(
        {
            "item": form.rows["item"].to_numpy()[lim_rows],
            "scope": form.rows["scope"].to_numpy()[lim_rows],
            "amount": amount,
            "cap": form.lp.row_upper[lim_rows],
        }
    )

    bal = form.row_index("balance")
    if result.prices is not None:
        prices = pd.DataFrame(
            {
                "municipality": form.rows["municipality"].to_numpy()[bal],
                "item": form.rows["item"].to_numpy()[bal],
                "labour_value": result.prices[bal] + 0.0,
            }
        )
    else:
        prices = pd.DataFrame(columns=PRICE_COLS)

    frames = [o.binding for o in result.outcomes if o.binding is not None and not o.binding.empty]
    binding = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=BINDING_COLS)
    return {
        "deliveries": deliveries,
        "production": production,
        "flows": flows,
        "labour": labour,
        "limits": limits,
        "prices": prices,
        "binding": binding[BINDING_COLS],
    }


def metrics(tables: dict[str, pd.DataFrame]) -> dict:
    """The plan's summary figures (SPEC section 5)."""
    d = tables["deliveries"]
    real = d[d["need"] > 0]
    ratios = real["ratio"].to_numpy(float)
    min_ratio = {str(int(t)): float(g["ratio"].min()) for t, g in real.groupby("tier")}
    lab = tables["labour"]
    worked = lab[lab["available"] > 0]
    t1 = real[real["tier"] == 1]
    return {
        "min_ratio": min_ratio,
        "mean_ratio": float(ratios.mean()) if len(ratios) else 1.0,
        "gini": gini(ratios),
        "atkinson": atkinson(ratios),
        "total_labour": float(lab["used"].sum()) if len(lab) else 0.0,
        "max_share": float(worked["share"].max()) if len(worked) else 0.0,
        "unmet_tier1": float((t1["need"] - t1["delivered"]).clip(lower=0).sum()),
        "emissions": {
            str(r.item) + "@" + str(r.scope): float(r.amount) for r in tables["limits"].itertuples()
        },
    }

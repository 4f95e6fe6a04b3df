"""Stage kinds as data: each is a plain function from the formulation to a :class:`StageSpec`.

A stage spec says what to optimise and nothing about how: a linear objective
(``Linear``), max-min floor groups (``MaxMin``: leximin of quantities
``q_k = (A_k v) / scale_k``, raised from the lowest (``sense="max"``) or lowered
from the highest (``"min"``)), or columns to fix (``Fix``). The engine
(:mod:`planner.engine`) solves and holds each kind the same way whatever the
domain. Rules are presets of stages (``models.stage_list``); every kind is in
:data:`REGISTRY`:

======================  ==========================================================
``leximin``             leximin of the tier's satisfaction ratios r_j
``equal_per_capita``    leximin of delivery per head relative to the item's mean
                        need per head: q_j = r_j (need_j / pop_j) / (N_i / P_i),
                        N_i, P_i the item's total need and the population of the
                        municipalities needing it (the same in any population unit)
``proportional``        one common ratio for the tier's needs, the largest
``utilitarian``         the largest sum of the tier's ratios
``full``                every need met in full (r_j = 1)
``min_labour``          least total labour hours; its balance duals are the prices
``fair_burden``         leximin of labour shares (used / hours), highest first
``min_transport``       least labour hours spent moving goods
======================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models import StageRef
from planner.formulation import Formulation


@dataclass(frozen=True)
class Linear:
    """Optimise ``c @ v`` (``sense`` "min" or "max"); held at its optimum afterwards."""

    c: np.ndarray
    sense: str


@dataclass(frozen=True)
class MaxMin:
    """Leximin of ``q_k = (A_k v) / scale_k``: raise the lowest (max) or lower the highest (min).

    ``common``: one common level for every quantity, the best (one round,
    floor rows as equalities). Each quantity is held at its level once fixed.
    """

    A: sp.csr_array
    scale: np.ndarray
    sense: str
    common: bool = False


@dataclass(frozen=True)
class Fix:
    """Columns (and rows) fixed within bounds (a hard requirement); one feasibility solve."""

    cols: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    rows: np.ndarray | None = None  # programme rows, with their bounds (original units)
    row_lower: np.ndarray | None = None
    row_upper: np.ndarray | None = None


@dataclass(frozen=True)
class StageSpec:
    """One stage: its name, objective, what to report as its value, and what to keep."""

    name: str
    objective: Linear | MaxMin | Fix | None
    report: Callable[[np.ndarray], float] | None = None  # value shown, from the solution
    keep_duals: bool = False  # keep this stage's row duals (prices)
    meta: dict = field(default_factory=dict)


def _tier_cols(form: Formulation, tier: int | None) -> np.ndarray:
    r = form.col_index("r")
    return r if tier is None else r[form.cols["tier"].to_numpy()[r] == tier]


def _unit_rows(form: Formulation, cols: np.ndarray, weights: np.ndarray) -> sp.csr_array:
    k = len(cols)
    return sp.csr_array((weights, (np.arange(k), cols)), shape=(k, form.n))


def per_capita_weights(form: Formulation, cols: np.ndarray) -> np.ndarray:
    """equal_per_capita: (need_j / pop_j) / (N_i / P_i) for each need column.

    N_i: total need of the item over the tier's needs; P_i: total population of the
    municipalities holding those needs. Populations may be in any positive unit:
    the weights do not change when every population is multiplied by one factor.
    """
    nd = form.needs.iloc[form.cols["need"].to_numpy()[cols]]
    pop = form.municipalities.set_index("id")["population"]
    pop = pop.reindex(nd["municipality"]).to_numpy(float)
    need = nd["need"].to_numpy(float)
    frame = pd.DataFrame({"item": nd["item"].to_numpy(), "need": need, "pop": pop})
    tot = frame.groupby("item")[["need", "pop"]].transform("sum")
    return (need / pop) / (tot["need"].to_numpy() / tot["pop"].to_numpy())


def leximin(form: Formulation, ref: StageRef) -> StageSpec:
    """Leximin of the tier's satisfaction ratios."""
    cols = _tier_cols(form, ref.tier)
    return StageSpec(
        ref.name,
        MaxMin(_unit_rows(form, cols, np.ones(len(cols))), np.ones(len(cols)), "max")
        if len(cols)
        else None,
    )


def equal_per_capita(form: Formulation, ref: StageRef) -> StageSpec:
    """Leximin of delivery per head relative to the item's mean need per head."""
    cols = _tier_cols(form, ref.tier)
    if not len(cols):
        return StageSpec(ref.name, None)
    w = per_capita_weights(form, cols)
    return StageSpec(ref.name, MaxMin(_unit_rows(form, cols, w), np.ones(len(cols)), "max"))


def proportional(form: Formulation, ref: StageRef) -> StageSpec:
    """One common ratio for every need of the tier, the largest."""
    cols = _tier_cols(form, ref.tier)
    if not len(cols):
        return StageSpec(ref.name, None)
    ones = np.ones(len(cols))
    return StageSpec(ref.name, MaxMin(_unit_rows(form, cols, ones), ones, "max", common=True))


def utilitarian(form: Formulation, ref: StageRef) -> StageSpec:
    """The largest sum of the tier's ratios."""
    cols = _tier_cols(form, ref.tier)
    if not len(cols):
        return StageSpec(ref.name, None)
    c = np.zeros(form.n)
    c[cols] = 1.0
    return StageSpec(ref.name, Linear(c, "max"))


def full(form: Formulation, ref: StageRef) -> StageSpec:
    """Every need met in full."""
    cols = _tier_cols(form, None)
    one = np.ones(len(cols))
    return StageSpec(ref.name, Fix(cols, one, one), report=lambda x: 1.0)


def min_labour(form: Formulation, ref: StageRef) -> StageSpec:
    """Least total labour hours; its balance duals are the labour values (prices)."""
    return StageSpec(ref.name, Linear(form.labour_total, "min"), keep_duals=True)


def fair_burden(form: Formulation, ref: StageRef) -> StageSpec:
    """Leximin of labour shares, most burdened first (municipalities with hours and labour)."""
    L = form.municipalities["labour_hours"].to_numpy(float)
    muni = np.flatnonzero((L > 0) & (np.diff(form.labour.indptr) > 0))
    report = _max_share(form)
    if not len(muni):
        return StageSpec(ref.name, None, report=report)
    spec = MaxMin(sp.csr_array(form.labour[muni]), L[muni], "min")
    return StageSpec(ref.name, spec, report=report, meta={"municipalities": muni})


def _max_share(form: Formulation) -> Callable[[np.ndarray], float]:
    L = form.municipalities["labour_hours"].to_numpy(float)
    has = L > 0

    def value(x: np.ndarray) -> float:
        if not has.any():
            return 0.0
        used = np.asarray(form.labour @ x).ravel()
        return float((used[has] / L[has]).max())

    return value


def min_transport(form: Formulation, ref: StageRef) -> StageSpec:
    """Least labour hours spent moving goods."""
    return StageSpec(ref.name, Linear(form.transport_labour, "min"))


REGISTRY: dict[str, Callable[[Formulation, StageRef], StageSpec]] = {
    "leximin": leximin,
    "equal_per_capita": equal_per_capita,
    "proportional": proportional,
    "utilitarian": utilitarian,
    "full": full,
    "min_labour": min_labour,
    "fair_burden": fair_burden,
    "min_transport": min_transport,
}
"""Every stage kind of ``models.StageRef.kind``, by name."""


def specs(form: Formulation, refs: list[StageRef]) -> list[StageSpec]:
    """The stage specs of a policy's stages, in order."""
    return [REGISTRY[r.kind](form, r) for r in refs]

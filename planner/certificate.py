"""A certificate that a plan's need stages are leximin: no need can rise without lowering one.

For each need tier of a leximin policy and each distinct level ``l`` of its
ratios below 1, one LP over the scenario's programme:

    maximise  sum of r_j over the tier's needs at level l
    s.t.      the programme of SPEC section 3,
              r_k >= ratio_k  for every need of an earlier tier,
              r_k >= min(ratio_k, l)  for every need of this tier.

The plan is leximin at that level when the optimum does not exceed the sum of
the plan's ratios there (within ``tol`` per need): no need fixed at l can rise
without lowering a need at or below it (or pushing one above it below it,
which would lower the sorted vector at l too). Later tiers' needs are free. This is
independent of how the plan was found (engine, solve path, tolerances).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import solvers
from models import Scenario
from planner.formulation import build


@dataclass(frozen=True)
class Level:
    """One checked level: tier, level, needs at it, their sum in the plan and the best sum."""

    tier: int
    level: float
    needs: int
    plan_sum: float
    best_sum: float

    @property
    def rise(self) -> float:
        """How far the needs at this level could rise together (≈ 0 when certified)."""
        return self.best_sum - self.plan_sum


def leximin_levels(
    scenario: Scenario,
    deliveries,
    tiers=(1, 2, 3),
    gap: float = 1e-7,
    solver: str = "highs",
    slack: float = 0.0,
) -> list[Level]:
    """Check every level of ``deliveries`` (the plan's table, as records or a DataFrame).

    ``gap``: ratios within it of a level belong to it. ``slack``: holds are loosened
    by it (default 0: the plan's own values). Generated economies can amplify a
    loosening enormously (a 25 x 50 one: holding every ratio 1e-9 lower let 159
    needs at one level rise by 0.108 in total), so a certificate with slack measures
    that amplification, not the plan. Should the plan's own values be infeasible to
    the solver (they are feasible only to its tolerance), the LP is repeated with the
    holds loosened by 1e-12, then 1e-10, 1e-8 and 1e-7 (a plan whose ratios near 1 were
    reported as 1).
    """
    import pandas as pd

    d = pd.DataFrame(deliveries)
    form = build(scenario)
    needs = form.needs
    col = needs["col"].to_numpy()
    key = pd.MultiIndex.from_frame(needs[["municipality", "item", "tier"]].astype(str))
    dkey = pd.MultiIndex.from_frame(d[["municipality", "item", "tier"]].astype(str))
    ratio = pd.Series(d["ratio"].to_numpy(float), index=dkey).groupby(level=[0, 1, 2]).min()
    ratio = ratio.reindex(key).to_numpy()
    tier = needs["tier"].to_numpy()
    has = col >= 0
    # solved scaled (solvers.equilibrate): unscaled, HiGHS's absolute tolerances let a
    # max-min level of a generated 25 x 50 plan come out 1e-3 too low
    scaling = solvers.equilibrate(form.lp)
    cs = scaling.c
    backend = solvers.get(solver)
    backend.load(scaling.programme(form.lp))
    lower = form.lp.col_lower.copy()
    out: list[Level] = []
    for t in tiers:
        mine = has & (tier == t)
        for level in _clusters(ratio[mine], gap):
            at = mine & (np.abs(ratio - level) <= gap)
            level = float(ratio[at].max())  # the plan's own value, not a rounded one
            lo = lower.copy()
            before = has & (tier < t)
            lo[col[before]] = np.maximum(ratio[before] - slack, 0.0)
            lo[col[mine]] = np.maximum(np.minimum(ratio[mine], level) - slack, 0.0)
            backend.set_col_bounds(np.arange(form.n), lo / cs, form.lp.col_upper / cs)
            c = np.zeros(form.n)
            c[col[at]] = 1.0
            backend.set_objective(c * cs, "max")
            res = backend.solve()
            for loosen in (1e-12, 1e-10, 1e-8, 1e-7):
                if res.ok:
                    break
                backend.set_col_bounds(
                    np.arange(form.n), np.maximum(lo - loosen, lower) / cs, form.lp.col_upper / cs
                )
                res = backend.solve()
            if not res.ok:
                raise RuntimeError(f"certificate LP at tier {t}, level {level}: {res.status}")
            best = float(scaling.result(res).x @ c)
            out.append(Level(t, float(level), int(at.sum()), float(ratio[at].sum()), best))
    return out


def _clusters(values: np.ndarray, gap: float) -> list[float]:
    """One representative per group of values within ``gap`` of the group's lowest, below 1."""
    out: list[float] = []
    for v in np.sort(values):
        if v >= 1 - gap:
            break
        if not out or v > out[-1] + gap:
            out.append(float(v))
    return out


def failures(levels: list[Level], tol: float = 1e-6) -> list[Level]:
    """The levels where the needs could rise together by more than ``tol`` per need."""
    return [lv for lv in levels if lv.rise > tol * max(1, lv.needs)]

"""Scratch, as run: re-solve each failing certificate LP of a saved plan (``cert.py 25x50:11
plan.json [tight]``) and report the rise and how far its point misses the programme's rows
(relative) and the held bounds; ``tight``: HiGHS primal and dual tolerances at 1e-9."""

import json
import sys

import numpy as np
import pandas as pd

import solvers
from bench.exactness import _scenario
from planner.certificate import _clusters
from planner.formulation import build

spec, path = sys.argv[1], sys.argv[2]
tight = len(sys.argv) > 3
sc = _scenario(spec)
plan = json.load(open(path))
d = pd.DataFrame(plan["deliveries"])
form = build(sc)
needs = form.needs
col = needs["col"].to_numpy()
key = pd.MultiIndex.from_frame(needs[["municipality", "item", "tier"]].astype(str))
dkey = pd.MultiIndex.from_frame(d[["municipality", "item", "tier"]].astype(str))
ratio = (
    pd.Series(d["ratio"].to_numpy(float), index=dkey)
    .groupby(level=[0, 1, 2])
    .min()
    .reindex(key)
    .to_numpy()
)
tier = needs["tier"].to_numpy()
has = col >= 0
lp = form.lp
sc_ = solvers.equilibrate(lp)
cs = sc_.c
opts = dict(primal_feasibility_tolerance=1e-9, dual_feasibility_tolerance=1e-9) if tight else {}
be = solvers.get("highs")
be.load(sc_.programme(lp))
if tight:
    for k, v in opts.items():
        be._h.setOptionValue(k, v)
lower = lp.col_lower.copy()
A = sp = None
for t in (2, 3):
    mine = has & (tier == t)
    for level in _clusters(ratio[mine], 1e-7):
        at = mine & (np.abs(ratio - level) <= 1e-7)
        level = float(ratio[at].max())
        lo = lower.copy()
        before = has & (tier < t)
        lo[col[before]] = ratio[before]
        lo[col[mine]] = np.minimum(ratio[mine], level)
        lo = np.minimum(lo, lp.col_upper)
        be.set_col_bounds(np.arange(form.n), lo / cs, lp.col_upper / cs)
        c = np.zeros(form.n)
        c[col[at]] = 1.0
        be.set_objective(c * cs, "max")
        res = be.solve()
        if not res.ok:
            print("fail", t, level, res.status)
            continue
        x = sc_.result(res).x[: form.n]
        rise = x @ c - ratio[at].sum()
        if rise <= 1e-6 * max(1, at.sum()):
            continue
        ax = lp.A @ x
        rv = np.maximum(np.maximum(lp.row_lower - ax, ax - lp.row_upper), 0) / np.maximum(
            1,
            np.maximum(
                np.abs(np.nan_to_num(lp.row_lower, posinf=0, neginf=0)),
                np.abs(np.nan_to_num(lp.row_upper, posinf=0, neginf=0)),
            ),
        )
        cv = np.maximum(np.maximum(lo - x, x - lp.col_upper), 0) / np.maximum(1, np.abs(lo))
        print(
            f"tier {t} level {level:.7f} n {at.sum()} rise {rise:.4g} /need {rise / at.sum():.3g} maxrowviol {rv.max():.2e} maxcolviol {cv.max():.2e} it {res.iterations}"
        )

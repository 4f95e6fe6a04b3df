"""Flow columns ``f[i, a]`` and link capacity rows.

    f[i, a] >= 0                 units of good i moved along arc a per period
    sum_i f[i, a] <= capacity_a  (units per period), for each arc with a capacity

A both-ways link is two arcs, each with the link's labour per unit, capacity
and loss. A flow column exists only for a transportable good that can be at
the arc's origin and is wanted at or beyond its destination.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.formulation._context import INF, Block, Coded, Columns
from planner.formulation._index import codes, directed_arcs


def usable_arcs(c: Coded) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Directed arcs that can carry anything (labour to move goods, capacity > 0)."""
    arcs = directed_arcs(c.scenario)
    a_o, a_d = codes(arcs["origin"], c.M), codes(arcs["dest"], c.M)
    usable = ~((c.L[a_o] <= 0) & (arcs["labour_per_unit"].to_numpy() > 0))
    usable &= ~(arcs["capacity"].to_numpy() <= 0)
    return arcs[usable].reset_index(drop=True), a_o[usable], a_d[usable]


def flow_columns(
    c: Coded, a_o: np.ndarray, a_d: np.ndarray, have: np.ndarray, forward: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(item, arc) of each flow column."""
    t_items = np.flatnonzero(c.transportable)
    if not len(a_o) or not len(t_items):
        return np.zeros(0, int), np.zeros(0, int)
    ok = have[np.ix_(t_items, a_o)] & forward[np.ix_(t_items, a_d)]
    fi, fa = np.nonzero(ok)
    return t_items[fi], fa


def link_rows(c: Coded, cols: Columns) -> Block:
    """``sum_i f[i, a] <= capacity_a`` for each arc with a finite capacity (units/period)."""
    a_cap = cols.arcs["capacity"].to_numpy(float)
    capped = np.flatnonzero(np.isfinite(a_cap))
    cap_row = np.full(len(a_cap), -1)
    cap_row[capped] = np.arange(len(capped))
    sel = cap_row[cols.f_arc] >= 0
    A = sp.csr_array(
        (np.ones(int(sel.sum())), (cap_row[cols.f_arc][sel], cols.f0 + np.flatnonzero(sel))),
        shape=(len(capped), cols.n),
    )
    labels = {
        "municipality": cols.a_o[capped],
        "dest": cols.a_d[capped],
        "source_row": cols.arcs["link"].to_numpy()[capped],
    }
    return Block(A, np.full(len(capped), -INF), a_cap[capped], labels)

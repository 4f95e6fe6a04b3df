"""Mandate rows: the binding instructions of an assembly, on its own municipality m.

    max_export (item i, value v):       sum_{a out of m} f[i, a] <= v          (units)
    min_local_share (item i, share s):  sum_p max(q[p, i], 0) x[p, m]
                                            >= s * (total need of i at m)      (units)
    max_labour_share (share s):         labour used at m <= s * labour_hours[m] (hours)

``forbid_process`` is a column bound (see :mod:`planner.formulation.activity`).
Each mandate gets its own row, even when two share a municipality and target.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.formulation._context import INF, Block, Coded, Columns
from planner.formulation._index import codes, select_rows
from planner.formulation._labels import categories


def max_export_rows(c: Coded, cols: Columns, me: np.ndarray) -> Block:
    """Flows of the target item leaving the municipality, at most the value."""
    me_i = codes(c.mtarget[me], c.I)
    A = select_rows(
        keys_rows=c.mm[me].astype(np.int64) * c.nI + me_i,
        keys_entries=cols.a_o[cols.f_arc].astype(np.int64) * c.nI + cols.f_item,
        cols=cols.f0 + np.arange(cols.nf),
        vals=np.ones(cols.nf),
        n=cols.n,
    )
    return Block(A, np.full(len(me), -INF), c.mval[me])


def min_local_share_rows(c: Coded, cols: Columns, ms: np.ndarray) -> Block:
    """Gross production of the item at home, at least the share of its total need there."""
    ms_i = codes(c.mtarget[ms], c.I)
    prod = cols.e_q > 0
    ms_key = c.mm[ms].astype(np.int64) * c.nI + ms_i
    A = select_rows(
        keys_rows=ms_key,
        keys_entries=(cols.e_m.astype(np.int64) * c.nI + cols.e_i)[prod],
        cols=cols.e_col[prod],
        vals=cols.e_q[prod],
        n=cols.n,
    )
    nd_key = c.nd_m.astype(np.int64) * c.nI + c.nd_i
    uk, inv = np.unique(nd_key, return_inverse=True)
    tot_need = np.bincount(inv, weights=c.need_q, minlength=len(uk))
    if len(uk):
        at = np.minimum(np.searchsorted(uk, ms_key), len(uk) - 1)
        ms_need = np.where(uk[at] == ms_key, tot_need[at], 0.0)
    else:
        ms_need = np.zeros(len(ms))
    return Block(A, c.mval[ms] * ms_need, np.full(len(ms), INF))


def max_labour_share_rows(c: Coded, lab: sp.csr_array, ml: np.ndarray) -> Block:
    """Labour used at most the share of the municipality's labour hours."""
    return Block(lab[c.mm[ml]], np.full(len(ml), -INF), c.mval[ml] * c.L[c.mm[ml]])


def mandate_rows(c: Coded, cols: Columns, lab: sp.csr_array) -> Block:
    """Every row mandate: max_export, then min_local_share, then max_labour_share."""
    me = np.flatnonzero(c.mk == "max_export")
    ms = np.flatnonzero(c.mk == "min_local_share")
    ml = np.flatnonzero(c.mk == "max_labour_share")
    parts = [max_export_rows(c, cols, me), min_local_share_rows(c, cols, ms)]
    parts.append(max_labour_share_rows(c, lab, ml))
    src = np.concatenate([me, ms, ml])
    kinds = categories(pd.unique(np.asarray(c.mk, dtype=object)))
    labels = {
        "municipality": c.mm[src],
        "item": codes(c.mtarget[src], c.I),
        "mandate": codes(pd.Series(c.mk[src]), kinds[:-1]),
        "source_row": src,
    }
    return Block(
        sp.vstack([p.A for p in parts], format="csr"),
        np.concatenate([p.lower for p in parts]),
        np.concatenate([p.upper for p in parts]),
        labels,
        {"mandate": kinds},
    )

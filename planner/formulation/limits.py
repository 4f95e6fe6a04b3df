"""Limit rows: an ecological or resource cap over a scope (units of the item per period).

    sum_{m in scope} sum_p a[p, i] x[p, m] <= cap

where ``a`` is a process's net output of an emission, or its gross use of a
resource (the input, counted positive). A confederation scope includes every
municipality under it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.formulation._context import INF, Block, Coded, Columns
from planner.formulation._index import codes, scope_matrix
from planner.formulation._labels import categories


def limit_rows(c: Coded, cols: Columns) -> Block:
    """One row per limit of the scenario, in its order."""
    lim = c.scenario.limits
    k, n = len(lim), cols.n
    lim_i = codes(lim["item"], c.I)
    e_i, e_m, e_q = cols.e_i, cols.e_m, cols.e_q
    if k:
        amount = np.where(c.is_emission[e_i], e_q, np.where(e_q < 0, -e_q, 0.0))
        S = scope_matrix(c.scenario, lim["scope"])  # limits x municipalities
        Litem = sp.csr_array((np.ones(k), (np.arange(k), lim_i)), shape=(k, c.nI))
        ne = len(e_i)
        Ei = sp.csr_array((np.ones(ne), (e_i, np.arange(ne))), shape=(c.nI, ne))
        Em = sp.csr_array((np.ones(ne), (e_m, np.arange(ne))), shape=(c.nM, ne))
        member = (Litem @ Ei).multiply(S @ Em)  # limits x entries
        Ent = sp.csr_array((amount, (np.arange(ne), cols.e_col)), shape=(ne, n))
        A = sp.csr_array(member @ Ent)
    else:
        A = sp.csr_array((0, n))
    scopes = categories(pd.unique(np.asarray(lim["scope"].to_numpy(), dtype=object)))
    labels = {
        "item": lim_i,
        "scope": codes(lim["scope"], scopes[:-1]),
        "source_row": np.arange(k),
    }
    return Block(A, np.full(k, -INF), lim["cap"].to_numpy(float), labels, {"scope": scopes})

"""Balance rows, per municipality m and good or resource i (units of i per period).

    endowment[i, m] + sum_p q[p, i] x[p, m] + sum_{a into m} (1 - loss_a) f[i, a]
        - sum_{a out of m} f[i, a] - sum_{j: need of i at m} need_j r[j]  >=  0

written as ``A v >= -endowment``. Only pairs from which something is taken
(a negative entry: an input, an outflow or a delivery) get a row; emissions
enter no balance; resources never flow.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from planner.formulation._context import INF, Block, Coded, Columns


def balance_rows(c: Coded, cols: Columns) -> Block:
    """The balance rows and their lower bounds (minus the endowments)."""
    nI, nf, nr = c.nI, cols.nf, cols.nr
    keep = ~c.is_emission[cols.e_i]
    loss = cols.arcs["loss"].to_numpy(float)
    r = cols.r_need
    bm = np.concatenate([cols.e_m[keep], cols.a_o[cols.f_arc], cols.a_d[cols.f_arc], c.nd_m[r]])
    bi = np.concatenate([cols.e_i[keep], cols.f_item, cols.f_item, c.nd_i[r]])
    fcols = cols.f0 + np.arange(nf)
    bc = np.concatenate([cols.e_col[keep], fcols, fcols, cols.r0 + np.arange(nr)])
    bv = np.concatenate([cols.e_q[keep], -np.ones(nf), 1.0 - loss[cols.f_arc], -c.need_q[r]])
    key = bm.astype(np.int64) * nI + bi
    # row_of: a table over all municipality x item pairs (4 bytes each), -1 for no row
    taken = np.zeros(c.nM * nI, dtype=bool)
    taken[key[bv < 0]] = True
    takes = np.flatnonzero(taken)
    del taken
    row_of = np.full(c.nM * nI, -1, dtype=np.int32)
    row_of[takes] = np.arange(len(takes), dtype=np.int32)
    rk = row_of[key]
    inrow = rk >= 0
    A = sp.csr_array((bv[inrow], (rk[inrow], bc[inrow])), shape=(len(takes), cols.n))
    del bm, bi, bc, bv, key, rk, inrow  # the largest temporaries: free them early
    endow = np.zeros(len(takes))
    if len(c.en_q):
        pos = row_of[c.en_m.astype(np.int64) * nI + c.en_i]
        hit = pos >= 0
        np.add.at(endow, pos[hit], c.en_q[hit])
    bal_i = takes % nI
    labels = {
        "municipality": takes // nI,
        "item": bal_i,
        "is_resource": c.kind[bal_i] == "resource",
    }
    return Block(A, -endow, np.full(len(takes), INF), labels)

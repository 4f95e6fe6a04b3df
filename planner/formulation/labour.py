"""Labour rows, per municipality m (hours per period).

    sum_p labour_p x[p, m] + sum_{a out of m} labour_per_unit_a sum_i f[i, a]
        <= labour_hours[m]

Only municipalities that can use labour get a row. :func:`labour_matrix` is
the same left-hand side for every municipality (``Formulation.labour``), used
by the stages (total labour, labour shares) and the plan.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from planner.formulation._context import INF, Block, Coded, Columns


def labour_matrix(c: Coded, cols: Columns) -> sp.csr_array:
    """Municipalities x columns: hours of labour each column's unit takes there."""
    lpu = cols.arcs["labour_per_unit"].to_numpy(float)
    rows = np.concatenate([cols.xm, cols.a_o[cols.f_arc]])
    cc = np.concatenate([np.arange(cols.nx), cols.f0 + np.arange(cols.nf)])
    vals = np.concatenate([c.proc_lab[cols.xp], lpu[cols.f_arc]])
    nz = vals != 0
    return sp.csr_array((vals[nz], (rows[nz], cc[nz])), shape=(c.nM, cols.n))


def labour_rows(c: Coded, lab: sp.csr_array) -> Block:
    """One row per municipality whose labour some column uses."""
    used = np.flatnonzero(np.diff(lab.indptr) > 0)
    return Block(lab[used], np.full(len(used), -INF), c.L[used], {"municipality": used})

"""An irreducible infeasible subset (IIS) for any backend: elastic then deletion filter.

Following Chinneck (Feasibility and Infeasibility in Optimization, 2008, ch. 6):

1. Elastic filter.  Every constraint with a finite bound (rows, and column bounds
   turned into rows ``lo_j <= x_j <= up_j`` over free columns) gets two elastic
   columns ``p, q >= 0``:  ``lo <= a x + p - q <= up``, and we minimise
   ``sum(p + q)``.  Objective 0 means the programme is feasible.  Otherwise the
   constraints whose elastics are positive are made hard (``p = q = 0``) and the
   elastic programme is solved again, until it is infeasible: the hardened set H is
   then infeasible by itself, as every other constraint can still stretch.
2. Deletion filter.  Over the programme made only of H (other column bounds free),
   drop each member in turn; if what is left is still infeasible the member goes
   for good, otherwise it is put back.  What remains is irreducible.

Cost: the elastic programme has ``m + k`` rows and ``n + 2(m + k)`` columns (k =
columns with a finite bound), built in one go with sparse blocks; it is solved
``E + 1`` times, E <= |H| (each pass hardens at least one constraint, usually many;
with HiGHS the re-solves are warm).  Then one solve of the H-only programme per
member of H, ``|H|`` small solves.  So it is a handful of full-size LP solves plus
|H| tiny ones: fine for diagnosing a model, not for a hot loop.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from solvers._base import Backend, LinearProgram, Status

_INF = np.inf


def _backend(backend, options) -> Backend:
    if isinstance(backend, str):
        from solvers._registry import get

        return get(backend, **options)
    return backend(**options)


def _infeasible(be: Backend) -> bool:
    res = be.solve()
    if res.status not in (Status.OPTIMAL, Status.INFEASIBLE, Status.UNBOUNDED):
        raise RuntimeError(f"IIS filter: a solve ended {res.status}: {res.message}")
    return res.status is Status.INFEASIBLE


def _elastic(
    lp: LinearProgram,
) -> tuple[LinearProgram, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The elastic programme, the rows and columns it covers, and each one's (p, q) columns."""
    n = lp.num_cols
    rows = np.flatnonzero(np.isfinite(lp.row_lower) | np.isfinite(lp.row_upper))
    cols = np.flatnonzero(np.isfinite(lp.col_lower) | np.isfinite(lp.col_upper))
    r, k = rows.size, cols.size
    E = sp.csr_array((np.ones(k), (np.arange(k), cols)), shape=(k, n))
    I_r, I_k = sp.identity(r, format="csr"), sp.identity(k, format="csr")
    top = sp.hstack([lp.A[rows], I_r, -I_r, sp.csr_array((r, 2 * k))])
    bottom = sp.hstack([E, sp.csr_array((k, 2 * r)), I_k, -I_k])
    A = sp.vstack([top, bottom], format="csr")
    e = 2 * (r + k)
    elastic = LinearProgram(
        np.r_[np.zeros(n), np.ones(e)], A,
        np.r_[lp.row_lower[rows], lp.col_lower[cols]], np.r_[lp.row_upper[rows], lp.col_upper[cols]],
        np.r_[np.full(n, -_INF), np.zeros(e)], np.full(n + e, _INF),
    )  # fmt: skip
    P = n + np.r_[np.arange(r), 2 * r + np.arange(k)]
    Q = P + np.r_[np.full(r, r), np.full(k, k)]
    return elastic, rows, cols, P, Q


def elastic_iis(lp: LinearProgram, backend="highs", tol: float = 1e-7, **options):
    """Rows and columns (whose bounds take part) of an IIS of ``lp``; None if feasible.

    ``backend`` is a registered name or a Backend class, ``options`` its options.
    See the module docstring for the method and its cost.
    """
    bad = np.flatnonzero(lp.row_lower > lp.row_upper)
    if bad.size:  # a row whose own bounds cross is an IIS by itself
        return bad[:1], np.array([], dtype=np.int64)
    bad = np.flatnonzero(lp.col_lower > lp.col_upper)
    if bad.size:
        return np.array([], dtype=np.int64), bad[:1]

    elastic, rows, cols, P, Q = _elastic(lp)
    be = _backend(backend, options)
    be.load(elastic)
    hard = np.zeros(P.size, dtype=bool)
    while True:
        res = be.solve()
        if res.status is Status.INFEASIBLE:
            break
        if res.status is not Status.OPTIMAL:
            raise RuntimeError(f"elastic filter: a solve ended {res.status}: {res.message}")
        new = (res.x[P] + res.x[Q] > tol) & ~hard
        if not new.any():
            if hard.any():
                raise RuntimeError("elastic filter stalled (numerical trouble?)")
            return None  # nothing needs to stretch: the programme is feasible
        hard |= new
        be.set_col_bounds(np.r_[P[new], Q[new]], 0.0, 0.0)

    r = rows.size
    cand_rows, cand_cols = rows[np.flatnonzero(hard[:r])], cols[np.flatnonzero(hard[r:])]
    return _deletion_filter(lp, cand_rows, cand_cols, _backend(backend, options))


def _deletion_filter(lp: LinearProgram, rows: np.ndarray, cols: np.ndarray, be: Backend):
    """Shrink the infeasible set (rows, column bounds of cols) to an irreducible one."""
    A = lp.A[rows]
    used = np.union1d(A.indices, cols)
    pos = np.searchsorted(used, cols)
    lo, up = np.full(used.size, -_INF), np.full(used.size, _INF)
    lo[pos], up[pos] = lp.col_lower[cols], lp.col_upper[cols]
    sub = LinearProgram(
        np.zeros(used.size), A[:, used], lp.row_lower[rows], lp.row_upper[rows], lo, up
    )
    be.load(sub)
    if not _infeasible(be):
        raise RuntimeError("deletion filter: the candidate set is feasible (numerical trouble?)")
    keep_rows = np.ones(rows.size, dtype=bool)
    for i in range(rows.size):
        be.set_row_bounds([i], -_INF, _INF)
        if _infeasible(be):
            keep_rows[i] = False
        else:
            be.set_row_bounds([i], sub.row_lower[i], sub.row_upper[i])
    keep_cols = np.ones(cols.size, dtype=bool)
    for t, j in enumerate(pos):
        be.set_col_bounds([j], -_INF, _INF)
        if _infeasible(be):
            keep_cols[t] = False
        else:
            be.set_col_bounds([j], lo[j], up[j])
    return rows[keep_rows], cols[keep_cols]

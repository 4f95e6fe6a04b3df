"""Reference (b): the same stage-1 model built term by term with PuLP.

This is what a user would otherwise write: one ``LpVariable`` per column and one
constraint per row, each an ``lpSum`` of coefficient * variable terms. It is
built here from the rows of the very matrix the planner assembled, which is the
least work PuLP can be given for that model (code written from the scenario's
tables would also spend time on dictionary look-ups and joins), so the ratio
reported against our build is a lower bound.

Two idioms are timed: ``lpSum(a * x[j] for ...)`` (the usual one) and
``LpAffineExpression(zip(vars, coefs))`` (the fastest PuLP offers).
"""

from __future__ import annotations

import math
import time

import numpy as np


def stage_lp_from_mps(path):
    """The LP in an MPS file as arrays: c, A (CSR), row and column bounds, sense."""
    import highspy
    import scipy.sparse as sp

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(path))
    lp = h.getLp()
    a = lp.a_matrix_
    shape = (lp.num_row_, lp.num_col_)
    start, index, value = np.asarray(a.start_), np.asarray(a.index_), np.asarray(a.value_)
    if a.format_ == highspy.MatrixFormat.kRowwise:
        A = sp.csr_array((value, index, start), shape=shape)
    else:
        A = sp.csc_array((value, index, start), shape=shape).tocsr()
    A.sort_indices()
    sense = "max" if lp.sense_ == highspy.ObjSense.kMaximize else "min"
    return {
        "c": np.asarray(lp.col_cost_, float),
        "A": A,
        "row_lower": np.asarray(lp.row_lower_, float),
        "row_upper": np.asarray(lp.row_upper_, float),
        "col_lower": np.asarray(lp.col_lower_, float),
        "col_upper": np.asarray(lp.col_upper_, float),
        "sense": sense,
    }


def _bound(v: float):
    return float(v) if math.isfinite(v) else None


def build(lp: dict, idiom: str = "lpsum"):
    """Build ``lp`` in PuLP term by term; returns (problem, seconds)."""
    import pulp

    c, A = lp["c"], lp["A"]
    m, n = A.shape
    indptr = A.indptr.tolist()
    indices = A.indices.tolist()
    data = A.data.tolist()
    col_lower, col_upper = lp["col_lower"].tolist(), lp["col_upper"].tolist()
    row_lower, row_upper = lp["row_lower"].tolist(), lp["row_upper"].tolist()
    cost = c.tolist()
    t0 = time.perf_counter()
    prob = pulp.LpProblem("stage1", pulp.LpMaximize if lp["sense"] == "max" else pulp.LpMinimize)
    if hasattr(
        prob, "add_variable"
    ):  # PuLP >= 3.3: the documented way (LpVariable() is deprecated)
        x = [
            prob.add_variable(f"x{j}", _bound(col_lower[j]), _bound(col_upper[j])) for j in range(n)
        ]
    else:
        x = [pulp.LpVariable(f"x{j}", _bound(col_lower[j]), _bound(col_upper[j])) for j in range(n)]
    for i in range(m):
        s, e = indptr[i], indptr[i + 1]
        if idiom == "lpsum":
            expr = pulp.lpSum(data[k] * x[indices[k]] for k in range(s, e))
        else:
            expr = pulp.LpAffineExpression([(x[indices[k]], data[k]) for k in range(s, e)])
        lo, up = row_lower[i], row_upper[i]
        if lo == up:
            prob += (expr == lo, f"r{i}")
            continue
        if math.isfinite(lo):
            prob += (expr >= lo, f"r{i}_lo")
        if math.isfinite(up):
            prob += (expr <= up, f"r{i}_up")
    if idiom == "lpsum":
        prob += pulp.lpSum(cost[j] * x[j] for j in range(n) if cost[j] != 0.0)
    else:
        prob += pulp.LpAffineExpression([(x[j], cost[j]) for j in range(n) if cost[j] != 0.0])
    return prob, time.perf_counter() - t0


def solve(prob, time_limit: float | None = None) -> tuple[str, float, float]:
    """Solve a PuLP problem with PuLP's HiGHS interface: (status, objective, seconds)."""
    import pulp

    solver = pulp.HiGHS(msg=False, timeLimit=time_limit)
    t0 = time.perf_counter()
    prob.solve(solver)
    return (
        pulp.LpStatus[prob.status],
        float(pulp.value(prob.objective) or 0.0),
        time.perf_counter() - t0,
    )

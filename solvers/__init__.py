"""Solver backends behind one interface (see docs/INTERNALS.md, "solvers/").

    import solvers
    be = solvers.get("highs", time_limit=60)     # or "scipy", "pulp" (pulp_solver="GLPK_CMD")
    be.load(solvers.LinearProgram(c, A, row_lower, row_upper, col_lower, col_upper, sense="max"))
    res = be.solve()                               # solvers.Result: status, objective, x, duals
    be.add_rows(A_new, lo, up); be.set_objective(c2); res2 = be.solve()   # warm start on HiGHS

Backends: ``highs`` (default; in-place edits, warm starts, native IIS), ``scipy``
(linprog), ``pulp`` (CBC, GLPK, ... and LP/MPS export).  ``elastic_iis`` finds an
irreducible infeasible subset with any of them.  ``ExactLP`` solves exactly, in rational
arithmetic (HiGHS's basis checked by QSopt_ex's ``esolver``).  ``solve_pooled`` solves an LP by
column generation over a pool of its columns, with exact pricing (HiGHS);
``BackendPool`` does the same on a loaded backend, by bounds.  This
package imports nothing of ours.
"""

from solvers._base import Backend, LinearProgram, Result, Status
from solvers._exact import (
    CHECK_GIVE_UP,
    ExactLP,
    ExactResult,
    ExactUnavailable,
    float_side,
    written,
)
from solvers._highs import STALLED, HighsBackend
from solvers._iis import elastic_iis
from solvers._pool import BackendPool, Pooled, highs_model, solve_pooled
from solvers._pulp import PulpBackend
from solvers._registry import DEFAULT, add, available, backend_class, get, list
from solvers._scaling import Scaling, equilibrate, identity
from solvers._scipy import ScipyBackend

__all__ = [
    "CHECK_GIVE_UP",
    "DEFAULT",
    "Backend",
    "BackendPool",
    "ExactLP",
    "ExactResult",
    "ExactUnavailable",
    "HighsBackend",
    "LinearProgram",
    "Pooled",
    "PulpBackend",
    "Result",
    "Scaling",
    "STALLED",
    "ScipyBackend",
    "Status",
    "add",
    "available",
    "backend_class",
    "elastic_iis",
    "equilibrate",
    "float_side",
    "written",
    "get",
    "highs_model",
    "identity",
    "list",
    "solve_pooled",
]

"""Column generation with exact pricing: solve an LP over a pool of its columns.

Many columns of a planning programme (transport flows between municipalities)
are zero at an optimum and tie with each other; an LP restricted to the columns
an optimum uses solves many times faster. :func:`solve_pooled` solves

    min or max  c @ x   s.t.  row_lower <= A @ x <= row_upper,  col bounds

over a *pool*: every column that is not poolable, plus the poolable ones (lower
bound 0) of a start set. Columns outside the pool sit at 0, their lower bound.
After each solve of the restricted LP (HiGHS, warm from the last basis after
columns are added), every column outside the pool is priced with the restricted
row duals ``y``: ``d = c - A.T @ y``. A column at its lower bound is optimal when
``d >= 0`` (min) or ``d <= 0`` (max), up to the rounding error of computing ``d``
(see PRICE_TOLERANCE: not the solver's dual tolerance); the most violated columns
enter (in batches) and the LP is solved again. When no column outside the pool violates
the test, ``y`` is dual feasible for the whole programme (every column priced),
so the restricted optimum is an optimum of the whole programme.

If the restricted LP is infeasible (a start set too small), every remaining
column enters and the whole programme decides. A restricted LP that is
unbounded makes the whole programme unbounded (its feasible set is a face of
the whole one).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from solvers._base import LinearProgram, Result, Status
from solvers._highs import _DUAL, _PRIMAL, STAGE_TOLERANCE, STATUS, HighsBackend, _check, _i32

FIRST = ("dual", "primal", "ipm")
"""How the first restricted LP is solved: dual or primal simplex, or interior point
with crossover (re-solves after columns enter are warm primal simplex)."""
PRICE_TOLERANCE = 0.0
"""A column outside the pool enters when its reduced cost misses optimality by more
(besides the rounding error of computing it, NOISE times the magnitude of its terms).
Not the solver's dual tolerance: in a max-min stage of a generated 60 x 120 plan the
level is 2e-3 and the flows that raise it have reduced costs below 1e-9; pricing at
1e-7 accepted a level of 9.8e-4, at 1e-9 1.89e-3, against 2.08e-3 by the whole LP."""
NOISE = 1e-13
BATCH_MIN = 200
"""At least this many violated columns enter per round (all of them if fewer)."""
POOL_ROUNDS = 200
"""A :class:`BackendPool` solve prices at most this many times; then every column still
outside enters and the backend solves the whole programme from the pool's basis. Exact
pricing of a max-min round can tail off (its duals name only the bottleneck, so a few
columns enter each time): a generated 400 x 800 plan's first tier-2 round priced 3,004
times in 2,000 s, still missing (bench/NOTES.md, tenth session). In the traces of the
README's tour and of 60 x 120 and 150 x 300 plans on the defaults no pool made more than 23
HiGHS runs; a generated 25 x 50 plan's (seed 12) priced 76 times (a cap of 50 gave it
another plan)."""


@dataclass(frozen=True, eq=False)
class Pooled:
    """What :func:`solve_pooled` returns.

    ``result`` covers every column of the programme (those outside the final pool
    at 0, with their priced reduced costs in ``col_duals``); ``rounds`` is the
    number of restricted solves (pricing rounds); ``pool`` the columns of the
    final restricted LP; ``added`` how many columns entered at each round;
    ``iterations`` the simplex (and interior point) iterations of each solve.
    """

    result: Result
    rounds: int
    pool: np.ndarray
    added: list[int] = field(default_factory=list)
    iterations: list[int] = field(default_factory=list)
    fallback: bool = False
    """True when the restricted LP was infeasible and every column entered."""


def price(A, c, y, out, lower, upper, sense: str, price_tol: float = PRICE_TOLERANCE, absA=None):
    """Price columns ``out``, held at 0 (their lower bound), with row duals ``y``.

    Returns their reduced costs ``d = (c - A.T @ y)[out]`` (HiGHS's sign convention,
    for min and max alike) and by how much each misses optimality beyond
    ``price_tol`` and the rounding error of computing it (NOISE times the magnitude
    of its terms): a column with ``miss > 0`` should enter. A column fixed by its
    bounds (``upper <= lower``) never misses. ``absA``: ``abs(A)``, when kept.
    """
    d_out = (c - A.T @ y)[out]
    v = -d_out if sense == "min" else d_out
    v = np.where(upper[out] > lower[out], v, -np.inf)
    absA = abs(A) if absA is None else absA
    size = (np.abs(c) + absA.T @ np.abs(y))[out]
    return d_out, v - (price_tol + NOISE * size)


def entering(out: np.ndarray, miss: np.ndarray, most: int) -> np.ndarray:
    """The columns of ``out`` that miss (``miss > 0``), at most ``most``, most missed first; sorted."""
    bad = np.flatnonzero(miss > 0)
    if bad.size > most:
        bad = bad[np.argpartition(-miss[bad], most - 1)[:most]]
    return np.sort(out[bad])


def _mask(n: int, cols, what: str) -> np.ndarray:
    """A boolean mask of n columns from indices or a mask (None: no column)."""
    mask = np.zeros(n, dtype=bool)
    if cols is None:
        return mask
    arr = np.asarray(cols)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"{what}: a mask must have {n} entries, not {arr.size}")
        return arr.copy()
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{what}: give column indices (integers) or a boolean mask")
    arr = arr.astype(np.int64).ravel()
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{what}: column indices must be in 0..{n - 1}")
    mask[arr] = True
    return mask


def restricted(lp: LinearProgram, cols=None, c=None) -> LinearProgram:
    """``lp`` over columns ``cols`` only (all when None), with costs ``c`` (n of them) if given."""
    cols = np.arange(lp.num_cols) if cols is None else np.asarray(cols, dtype=np.int64)
    return LinearProgram(
        c=(lp.c if c is None else np.asarray(c, dtype=np.float64))[cols],
        A=lp.A[:, cols] if cols.size < lp.num_cols else lp.A,
        row_lower=lp.row_lower,
        row_upper=lp.row_upper,
        col_lower=lp.col_lower[cols],
        col_upper=lp.col_upper[cols],
        sense=lp.sense,
        offset=lp.offset,
    )


def add_columns(h, csc, new: np.ndarray, c, lower, upper) -> None:
    """Append columns ``new`` of matrix ``csc`` (all its rows) to the HiGHS model ``h``.

    Costs ``c[new]``, bounds ``lower[new]`` and ``upper[new]`` (each n long).
    """
    C = sp.csc_array(csc[:, new])
    C.sort_indices()
    f64 = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    _check(
        h.addCols(
            int(new.size),
            f64(c[new]),
            f64(lower[new]),
            f64(upper[new]),
            int(C.nnz),
            _i32(C.indptr[:-1]),
            _i32(C.indices),
            f64(C.data),
        ),
        "addCols",
    )


def highs_model(lp: LinearProgram, cols=None, c=None, tol: float = STAGE_TOLERANCE, **options):
    """A loaded :class:`HighsBackend` holding :func:`restricted` ``(lp, cols, c)``.

    Primal and dual feasibility tolerance ``tol``; ``options`` go to the backend
    (threads, verbose). Its ``highs`` attribute is the ``highspy.Highs`` itself.
    """
    be = HighsBackend(**options)
    be._tolerance(tol)
    be.load(restricted(lp, cols, c))
    be.highs = be._h
    return be


class _Restricted:
    """The restricted LP in a HiGHS backend; columns enter with ``addCols``.

    Solves go through the backend's ``_run_once`` (its retries: a new thread pool,
    an infeasible or unbounded verdict confirmed without presolve, "Unknown" after
    postsolve solved again without presolve), with the method set here.
    """

    def __init__(self, lp: LinearProgram, cols: np.ndarray, threads, verbose, tol, c=None):
        self.lp = lp
        self.csc = sp.csc_array(lp.A)
        self.be = highs_model(lp, cols, c, tol, threads=threads, verbose=verbose)
        self.h = self.be.highs
        self.cols = cols.copy()

    def set_costs(self, c: np.ndarray) -> None:
        cols = self.cols
        _check(self.h.changeColsCost(cols.size, _i32(np.arange(cols.size)), c[cols]), "costs")

    def add(self, new: np.ndarray, c: np.ndarray) -> None:
        lp = self.lp
        add_columns(self.h, self.csc, new, c, lp.col_lower, lp.col_upper)
        self.cols = np.concatenate([self.cols, new])

    def run(self, how: str, time_limit: float | None) -> tuple[str, int]:
        be, h = self.be, self.h
        be._option("time_limit", np.inf if time_limit is None else h.getRunTime() + time_limit)
        be._option("solver", "ipm" if how == "ipm" else "simplex")
        be._option("simplex_strategy", _PRIMAL if how == "primal" else _DUAL)
        status = be._run_once()
        info = h.getInfo()
        its = sum(
            max(0, int(k))
            for k in (
                info.simplex_iteration_count,
                info.ipm_iteration_count,
                info.crossover_iteration_count,
            )
        )
        return status.name, its


def solve_pooled(
    lp: LinearProgram,
    start=None,
    poolable=None,
    *,
    tol: float = STAGE_TOLERANCE,
    price_tol: float = PRICE_TOLERANCE,
    batch: int | None = None,
    first: str = "dual",
    guide=None,
    after_guide: str = "primal",
    time_limit: float | None = None,
    threads: int | None = None,
    verbose: bool = False,
) -> Pooled:
    """Solve ``lp`` by column generation over its poolable columns; see the module docstring.

    ``start``: columns (indices or a boolean mask) of the first pool, besides those
    that are not poolable, e.g. ``np.flatnonzero(x)`` of a feasible point (then the
    first restricted LP is feasible). ``poolable``: the columns that may stay out
    (indices or mask; default every column with lower bound 0; a column with another
    lower bound is always in). ``tol``: HiGHS's primal and dual feasibility tolerance;
    ``price_tol``: see PRICE_TOLERANCE.
    ``batch``: most columns entering per round (default: the larger of BATCH_MIN and
    a quarter of the pool). ``first``: see FIRST.

    ``guide``: another objective (n coefficients, same sense) whose pooled optimum
    grows the pool first; then the pool is priced with ``lp``'s own objective until
    no column misses optimality, so the answer does not depend on it. A max-min
    programme's duals name only its bottleneck, so exact pricing adds a few columns
    per round for hundreds of rounds; a guide that rewards every quantity under the
    floor prices what all of them need at once. ``after_guide``: "primal" (warm from
    the guide's basis) or "dual" (cold) for the first solve with the own objective.
    """
    if first not in FIRST:
        raise ValueError(f"first must be one of {FIRST}, not {first!r}")
    if after_guide not in ("primal", "dual"):
        raise ValueError(f"after_guide must be 'primal' or 'dual', not {after_guide!r}")
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + float(time_limit)
    n, m = lp.num_cols, lp.num_rows
    pool_ok = lp.col_lower == 0.0
    if poolable is not None:
        pool_ok &= _mask(n, poolable, "poolable")
    inside = ~pool_ok | _mask(n, start, "start")
    phases = [lp.c]
    if guide is not None:
        g = np.asarray(guide, dtype=np.float64).ravel()
        if g.size != n or not np.isfinite(g).all():
            raise ValueError(f"guide must have {n} finite coefficients")
        phases.insert(0, g)
    rl = _Restricted(lp, np.flatnonzero(inside), threads, verbose, tol, phases[0])
    run = _Run(lp, rl, inside, price_tol, batch, deadline)
    how = first
    for k, c in enumerate(phases):
        if k:
            rl.set_costs(lp.c)
            how = after_guide
            if how == "dual":
                rl.h.clearSolver()
        status = run.generate(c, how)
        if status is not Status.OPTIMAL:
            res = Result.empty(status, n, m, message=run.message, iterations=sum(run.iterations))
            return run.pooled(_timed(res, t0))
    sol, y, out, d_out = run.last
    x = np.zeros(n)
    x[rl.cols] = sol.col_value
    cd = np.zeros(n)
    cd[rl.cols] = sol.col_dual
    cd[out] = d_out
    info = rl.h.getInfo()
    res = Result(
        Status.OPTIMAL,
        float(info.objective_function_value),
        x,
        y,
        cd,
        iterations=sum(run.iterations),
        message=rl.h.modelStatusToString(rl.h.getModelStatus()),
    )
    return run.pooled(_timed(res, t0))


class _Run:
    """The rounds of one :func:`solve_pooled` call: solve, price, add, until no column misses."""

    def __init__(self, lp, rl: _Restricted, inside, tol, batch, deadline):
        self.lp, self.rl, self.inside = lp, rl, inside
        self.tol, self.batch, self.deadline = tol, batch, deadline
        self.absA = abs(lp.A)
        self.added: list[int] = []
        self.iterations: list[int] = []
        self.fallback = False
        self.message = ""
        self.last = None

    def pooled(self, res: Result) -> Pooled:
        rl = self.rl
        return Pooled(
            res, len(self.iterations), rl.cols, self.added, self.iterations, self.fallback
        )

    def _add(self, new: np.ndarray, c: np.ndarray) -> None:
        self.rl.add(new, c)
        self.inside[new] = True
        self.added.append(int(new.size))

    def generate(self, c: np.ndarray, how: str) -> Status:
        """Rounds with objective ``c`` until every column outside the pool prices out."""
        lp, rl, inside = self.lp, self.rl, self.inside
        while True:
            left = None if self.deadline is None else self.deadline - time.perf_counter()
            if left is not None and left <= 0:
                self.message = "time limit"
                return Status.TIME_LIMIT
            name, its = rl.run(how, left)
            self.iterations.append(its)
            how = "primal"  # columns entering keep the basis primal feasible
            if name in ("kInfeasible", "kUnboundedOrInfeasible") and not inside.all():
                # too small a start set: the whole programme decides
                self._add(np.flatnonzero(~inside), c)
                self.fallback = True
                how = "dual"
                rl.h.clearSolver()
                continue
            status = STATUS.get(name, Status.ERROR)
            if status is not Status.OPTIMAL:
                self.message = name
                return status
            sol = rl.h.getSolution()
            y = np.asarray(sol.row_dual, dtype=np.float64)
            out = np.flatnonzero(~inside)
            d_out, miss = price(
                lp.A, c, y, out, lp.col_lower, lp.col_upper, lp.sense, self.tol, self.absA
            )
            new = entering(out, miss, self.batch or max(BATCH_MIN, rl.cols.size // 4))
            if new.size == 0:
                self.last = (sol, y, out, d_out)
                return Status.OPTIMAL
            self._add(new, c)


def _timed(res: Result, t0: float) -> Result:
    return replace(res, seconds=time.perf_counter() - t0)


class BackendPool:
    """Column generation on a loaded backend: columns outside the pool held at 0 by bounds.

    The way into a caller that edits its programme in place (rows, bounds,
    objectives) and re-solves warm: every edit still goes to the same backend, and
    :meth:`solve` replaces ``backend.solve``. Columns outside the pool have bounds
    [0, 0] in the backend (HiGHS's presolve drops them on a cold solve; measured on
    a generated 60 x 120 plan's tier-2 LP, as fast as leaving them out); their own
    bounds are kept here, so column bound edits must go through
    :meth:`set_col_bounds`. After each solve every column outside the pool is priced
    (see :func:`price`); those that miss enter (their own bounds restored) and the
    backend re-solves from its basis, until none misses. A column whose lower bound
    is raised above 0 enters at once.
    """

    def __init__(
        self,
        backend,
        poolable,
        start=None,
        price_tol=PRICE_TOLERANCE,
        batch=None,
        max_rounds: int | None = POOL_ROUNDS,
    ):
        """``poolable``, ``start``: columns (indices or mask), as in :func:`solve_pooled`.

        ``max_rounds``: pricing rounds per :meth:`solve` before every column enters
        (POOL_ROUNDS; None: no cap).
        """
        if max_rounds is not None and (isinstance(max_rounds, bool) or int(max_rounds) < 1):
            raise ValueError(f"max_rounds must be a positive integer or None, not {max_rounds!r}")
        lp = backend.lp
        n = lp.num_cols
        self.backend = backend
        self.lower, self.upper = lp.col_lower.copy(), lp.col_upper.copy()
        self.poolable = _mask(n, poolable, "poolable")
        self.inside = ~(self.poolable & (self.lower == 0.0)) | _mask(n, start, "start")
        self.price_tol, self.batch = float(price_tol), batch
        self.max_rounds = None if max_rounds is None else int(max_rounds)
        self.capped = 0  # solves whose pricing reached max_rounds (every column entered)
        self.rounds = 0  # solves, over every call of solve()
        self.added: list[int] = []  # columns entering, per pricing round that added some
        out = np.flatnonzero(~self.inside)
        if out.size:
            backend.set_col_bounds(out, 0.0, 0.0)

    @property
    def pool(self) -> np.ndarray:
        """The columns in the pool."""
        return np.flatnonzero(self.inside)

    def set_col_bounds(self, cols, lower, upper) -> None:
        """Set columns' own bounds; in the backend only for those in the pool."""
        cols = np.asarray(cols, dtype=np.int64).ravel()
        lo = np.broadcast_to(np.asarray(lower, dtype=np.float64), cols.shape)
        up = np.broadcast_to(np.asarray(upper, dtype=np.float64), cols.shape)
        self.lower[cols], self.upper[cols] = lo, up
        self.inside[cols[lo != 0.0]] = True  # held at 0 no longer fits
        keep = self.inside[cols]
        if keep.any():
            self.backend.set_col_bounds(cols[keep], lo[keep], up[keep])

    def _enter(self, cols: np.ndarray) -> None:
        self.inside[cols] = True
        self.backend.set_col_bounds(cols, self.lower[cols], self.upper[cols])
        self.added.append(int(cols.size))

    def shrink(self, x: np.ndarray) -> np.ndarray:
        """Take out of the pool the poolable columns at 0 in ``x`` (lower bound 0); returns them.

        Between stages: the next solve starts from the support of the last point
        (measured, a generated 200 x 100 plan's tier-2 LP: 1.9 s from the support of
        its optimum against 42 s by the whole LP cold). ``x`` must be the backend's
        last point: it stays feasible, the columns taken out being at 0 already.
        """
        x = np.asarray(x, dtype=np.float64)
        drop = np.flatnonzero(self.inside & self.poolable & (self.lower == 0.0) & (x == 0.0))
        if drop.size:
            self.inside[drop] = False
            self.backend.set_col_bounds(drop, 0.0, 0.0)
        return drop

    def solve(self, time_limit=None, method=None, polish: bool = False) -> Result:
        """``backend.solve`` with pricing rounds; the result covers every column.

        Iterations and seconds add up over the rounds; ``col_duals`` of the columns
        outside the pool are their priced reduced costs. ``polish``: each round is
        ``backend.polish`` (the final solve at a tighter tolerance) instead. After
        ``max_rounds`` pricing rounds that still find columns missing, every column
        outside enters at once (the whole programme, from the pool's basis).
        """
        be = self.backend
        t0 = time.perf_counter()
        deadline = None if time_limit is None else t0 + float(time_limit)
        its = 0
        priced = 0
        while True:
            left = None if deadline is None else max(deadline - time.perf_counter(), 1e-3)
            res = be.polish(time_limit=left) if polish else be.solve(left, method)
            self.rounds += 1
            its += int(res.iterations or 0)
            out = np.flatnonzero(~self.inside)
            if res.status is Status.INFEASIBLE and out.size:
                self._enter(out)  # the pool alone is infeasible: the whole programme decides
                continue
            if res.status is not Status.OPTIMAL or not out.size:
                break
            lp = be.lp
            y = res.row_duals
            d_out, miss = price(
                lp.A, lp.c, y, out, self.lower, self.upper, lp.sense, self.price_tol
            )
            new = entering(out, miss, self.batch or max(BATCH_MIN, int(self.inside.sum()) // 4))
            if new.size == 0:
                cd = res.col_duals.copy()
                cd[out] = d_out
                res = replace(res, col_duals=cd)
                break
            priced += 1
            if self.max_rounds is not None and priced >= self.max_rounds:
                new = out  # tailing off: the whole programme decides, warm from here
                self.capped += 1
            self._enter(new)
            if deadline is not None and time.perf_counter() >= deadline:
                m, n = be.lp.num_rows, be.lp.num_cols
                res = Result.empty(Status.TIME_LIMIT, n, m, message="time limit")
                break
        return replace(res, iterations=its, seconds=time.perf_counter() - t0)

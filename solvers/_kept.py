"""HiGHS over a pool of columns kept from solve to solve: column generation that lasts.

:class:`KeptPoolBackend` (``solvers.get("highs-kept")``) is the HiGHS backend
whose HiGHS model holds only a *pool* of the programme's columns: every column
that is not poolable (see ``set_poolable``) and the poolable ones an optimum
has used. The rest sit at 0, their lower bound, in this backend's mirror of the
whole programme alone. Every solve is HiGHS's (warm from its basis, the
cascade of :class:`solvers.HighsBackend`) over the pool, then every column
outside it is priced exactly with the row duals (``d = c - A.T @ y``, see
:func:`solvers._pool.price`); those that miss optimality enter (``addCols``:
the basis stays valid and primal feasible, the new columns at 0) and HiGHS
goes on from its basis, until none misses. Then the pool's optimum is an
optimum of the whole programme, and the result covers every column (those
outside at 0, with their priced reduced costs).

Where :meth:`HighsBackend._pooled <solvers.HighsBackend>` builds a pool for
one cold re-solve and gives it up, this one keeps it: later warm solves of a
plan's max-min rounds iterate over the pool, not over every flow of the
economy (a warm primal iteration over the README's tour cost 2-8 ms over all
its flows, against 0.1-0.6 ms for a pool's; bench/NOTES.md). After an
optimal solve and at each new objective (not one marked ``near``), the pool
is shrunk to its support when more than half its poolable columns sit at 0
outside the basis.

Edits keep their meaning: a column outside the pool whose bounds no longer
hold 0 enters first; rows added carry their entries for every column (kept
here, entering with the column); objective coefficients of columns outside
the pool count in their prices.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from solvers._base import LinearProgram, Result, Status
from solvers._highs import HighsBackend, _check, _i32
from solvers._pool import BATCH_MIN, PRICE_TOLERANCE, add_columns, entering, price

SHRINK = 0.5
"""The pool is shrunk when more than this share of its poolable columns are at 0, nonbasic."""


class KeptPoolBackend(HighsBackend):
    """HiGHS over a pool of columns kept across solves (see the module docstring)."""

    name = "highs-kept"

    def __init__(self, **options):
        options = {**options, "pool": "off"}  # the one-off pools of HighsBackend: not here
        super().__init__(**options)
        self._cols: np.ndarray | None = None  # pool position -> column; None: every column
        self._pos: np.ndarray | None = None  # column -> pool position, -1 outside
        self._keep_poolable: np.ndarray | None = None
        self._csc: sp.csc_array | None = None  # the whole matrix by columns, when current
        self._abs: sp.csc_array | None = None  # and its absolute values (for pricing)
        self.kept = {"entered": 0, "pricing_rounds": 0, "shrinks": 0, "dropped": 0}

    # -- the pool ------------------------------------------------------------------
    def set_poolable(self, cols) -> None:
        """Columns (indices or mask) that may stay out of the pool; None: none may."""
        from solvers._pool import _mask

        self._keep_poolable = None if cols is None else _mask(self._shape()[1], cols, "poolable")

    @property
    def pool_columns(self) -> np.ndarray:
        """The columns in HiGHS's model (every column before the first shrink)."""
        return np.arange(self._shape()[1]) if self._cols is None else self._cols.copy()

    def _whole_csc(self) -> sp.csc_array:
        if self._csc is None:
            mr = self._require()
            A = mr.blocks[0] if len(mr.blocks) == 1 else sp.vstack(mr.blocks, format="csr")
            mr.blocks = [A]
            self._csc = sp.csc_array(A)
            self._abs = abs(self._csc)
        return self._csc

    def _outside(self) -> np.ndarray:
        return np.zeros(0, np.int64) if self._pos is None else np.flatnonzero(self._pos < 0)

    def _enter(self, new: np.ndarray) -> None:
        """Add columns ``new`` (outside the pool) to HiGHS's model, with the mirror's data."""
        if not new.size:
            return
        mr = self._require()
        add_columns(self._h, self._whole_csc(), new, mr.c, mr.col_lower, mr.col_upper)
        self._pos[new] = len(self._cols) + np.arange(new.size)
        self._cols = np.concatenate([self._cols, new])
        self.kept["entered"] += int(new.size)

    def _shrink(self) -> None:
        """Drop the poolable columns at 0 outside the basis, if they are many (SHRINK)."""
        if self._keep_poolable is None:
            return
        mr = self._require()
        n = self._shape()[1]
        if self._cols is None:
            self._cols, self._pos = np.arange(n), np.arange(n)
        h = self._h
        sol, basis = h.getSolution(), h.getBasis()
        if not basis.valid:
            return
        x = np.asarray(sol.col_value, dtype=np.float64)
        status = np.array([int(s) for s in basis.col_status])
        import highspy

        basic = status == int(highspy.HighsBasisStatus.kBasic)
        cols = self._cols
        able = self._keep_poolable[cols] & (mr.col_lower[cols] == 0.0)
        drop = able & ~basic & (x == 0.0)
        if drop.sum() <= SHRINK * max(1, able.sum()):
            return
        gone = np.flatnonzero(drop)
        _check(h.deleteCols(int(gone.size), _i32(gone)), "deleteCols")
        self._pos[cols[gone]] = -1
        self._cols = cols[~drop]
        self._pos[self._cols] = np.arange(self._cols.size)
        self.kept["shrinks"] += 1
        self.kept["dropped"] += int(gone.size)

    # -- edits ---------------------------------------------------------------------
    def _load(self, lp: LinearProgram) -> None:
        super()._load(lp)
        self._cols = self._pos = None
        self._keep_poolable = None
        self._csc = None

    def _add_rows(self, R, lower, upper, names) -> None:
        self._csc = None
        if self._cols is not None:
            R = sp.csr_array(sp.csc_array(R)[:, self._cols])
            R.sort_indices()
        super()._add_rows(R, lower, upper, names)

    def _set_objective(self, c, sense, offset) -> None:
        if self._cols is not None and not getattr(self, "objective_near", False):
            self._shrink()  # a new stage: the pool starts again from the last support
        super()._set_objective(c if self._cols is None else c[self._cols], sense, offset)

    def _set_col_bounds(self, cols, lower, upper) -> None:
        if self._cols is None:
            return super()._set_col_bounds(cols, lower, upper)
        pos = self._pos[cols]
        out = pos < 0
        if out.any():
            # a column outside the pool sits at 0: bounds that still hold it change nothing
            # until it enters; bounds that do not hold 0 make it enter first
            away = out & ((lower > 0.0) | (upper < 0.0))
            if away.any():
                self._enter(np.unique(cols[away]))
                pos = self._pos[cols]
        inside = pos >= 0
        if inside.any():
            super()._set_col_bounds(pos[inside], lower[inside], upper[inside])

    # -- solving -------------------------------------------------------------------
    def _solve(self, time_limit, method) -> Result:
        import time

        t0 = time.perf_counter()
        deadline = None if time_limit is None else t0 + time_limit
        its = 0
        while True:
            left = None if deadline is None else max(deadline - time.perf_counter(), 1e-3)
            res = super()._solve(left, method)
            its += int(res.iterations or 0)
            if res.status is not Status.OPTIMAL or self._keep_poolable is None:
                return self._whole(res, its)
            if self._cols is None:
                self._shrink()  # the first optimum: the pool becomes its support
                return self._whole(res, its)
            out = self._outside()
            mr = self._require()
            y = np.nan_to_num(res.row_duals)
            A = self._whole_csc()
            d_out, miss = price(
                A, mr.c, y, out, mr.col_lower, mr.col_upper, mr.sense, PRICE_TOLERANCE, self._abs
            )
            self.kept["pricing_rounds"] += 1
            new = entering(out, miss, max(BATCH_MIN, self._cols.size // 4))
            if new.size == 0:
                return self._whole(res, its, out, d_out)
            self._enter(new)
            method = None if method == "interior" else method

    def _whole(self, res: Result, its: int, out=None, d_out=None) -> Result:
        """``res`` of the pool over every column (outside: x at 0, their priced duals)."""
        m, n = self._shape()
        if self._cols is None or res.x.size == n:
            return Result(
                res.status, res.objective, res.x, res.row_duals, res.col_duals,
                its, res.seconds, res.message,
            )  # fmt: skip
        x = np.zeros(n)
        cd = np.full(n, np.nan)
        x[self._cols] = res.x[: self._cols.size]
        cd[self._cols] = res.col_duals[: self._cols.size]
        if out is not None:
            cd[out] = d_out
        return Result(res.status, res.objective, x, res.row_duals, cd, its, 0.0, res.message)

    # -- the whole programme ---------------------------------------------------------
    def _whole_backend(self) -> HighsBackend:
        be = HighsBackend(**{k: v for k, v in self.options.items() if k != "pool"})
        be.load(self.lp)
        return be

    def iis(self):
        """HiGHS's IIS of the whole programme (a fresh model of it)."""
        return self._whole_backend().iis()

    def _write(self, path, fmt) -> None:
        self._whole_backend()._write(path, fmt)

"""Neutral types shared by every backend: the programme, the result, the backend class.

A :class:`LinearProgram` is

    min or max  c @ x + offset
    subject to  row_lower <= A @ x <= row_upper
                col_lower <=   x   <= col_upper

with ``A`` a CSR matrix (m x n) and bounds that may be +-inf.  Equality rows have
``row_lower == row_upper``; free rows have both bounds infinite.

Dual convention, the same for every backend: ``row_duals[i]`` is the derivative of
the optimal objective with respect to the active bound of row ``i``, in the
programme's own sense (so for a max problem a binding ``<=`` row has a dual >= 0,
and for a min problem a binding ``>=`` row has a dual >= 0).  ``col_duals[j]`` is
the same for the bounds of column ``j`` (the reduced cost).  An inactive row or
column has dual 0.
"""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

METHODS = ("choose", "simplex", "ipm", "interior", "primal", "pool")
"""``interior``: interior point without crossover (backends without it use ``ipm``).
``pool``: as ``choose``, but after a new objective a warm attempt that fails is followed
by a cold solve over a pool of columns before the whole programme is solved cold
(backends with the "pool" feature; the others use ``choose``)."""
COMMON_OPTIONS = frozenset({"threads", "method", "time_limit", "verbose"})


def _vector(values, size: int, what: str) -> np.ndarray:
    """A read-only float64 copy of ``values`` broadcast to ``size`` entries."""
    out = np.array(np.broadcast_to(np.asarray(values, dtype=np.float64), (size,)))
    if np.isnan(out).any():
        raise ValueError(f"{what} contains NaN")
    out.flags.writeable = False
    return out


def as_csr(A, n: int | None = None) -> sp.csr_array | sp.csr_matrix:
    """``A`` as a canonical float64 CSR matrix; no copy when it already is one."""
    if not sp.issparse(A):
        A = sp.csr_array(np.atleast_2d(np.asarray(A, dtype=np.float64)))
    if A.format != "csr" or A.dtype != np.float64:
        A = A.tocsr().astype(np.float64)
    if not A.has_canonical_format:  # never reorder the caller's arrays in place
        A = A.copy()
        A.sum_duplicates()
    if n is not None and A.shape[1] != n:
        raise ValueError(f"matrix has {A.shape[1]} columns, the programme has {n}")
    return A


def _names(names, size: int, what: str) -> tuple[str, ...] | None:
    if names is None:
        return None
    names = tuple(str(s) for s in names)
    if len(names) != size:
        raise ValueError(f"{what} has {len(names)} entries, expected {size}")
    return names


LP_NAME = str.maketrans({"[": "(", "]": ")", ">": "~", ":": ";"})
"""CPLEX LP names take no brackets, ``>`` or ``:``: ``balance(grain@a)``, ``flow(grain;a~b)``."""


def file_names(names, size: int, prefix: str, fmt: str = "mps") -> list[str]:
    """Names safe for MPS/LP files: ``names`` with odd characters replaced by ``_``.

    Falls back to ``prefix0, prefix1, ...`` when no names are given or the cleaned
    names are not unique.
    """
    if names is not None:
        clean = [re.sub(r"[^A-Za-z0-9_.\[\]@:>#]", "_", s)[:100] or "_" for s in names]
        if fmt == "lp":
            clean = [s.translate(LP_NAME) for s in clean]
        clean = [s if not s[0].isdigit() and s[0] != "." else "_" + s for s in clean]
        if len(set(clean)) == size:
            return clean
    width = len(str(max(size - 1, 0)))
    return [f"{prefix}{i:0{width}d}" for i in range(size)]


@dataclass(frozen=True, eq=False)
class LinearProgram:
    """An LP in row-bounded form; see the module docstring.

    Vectors are copied into read-only float64 arrays; ``A`` is kept as given when it is
    already canonical float64 CSR (models reach millions of non-zeros), so do not
    mutate it afterwards.
    """

    c: np.ndarray
    A: sp.csr_array | sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    sense: str = "min"
    offset: float = 0.0
    col_names: tuple[str, ...] | None = None
    row_names: tuple[str, ...] | None = None

    def __post_init__(self):
        """Coerce and check shapes, senses and bounds."""
        c = np.asarray(self.c, dtype=np.float64).ravel()
        n = c.size
        A = as_csr(self.A, n) if sp.issparse(self.A) or np.size(self.A) else sp.csr_array((0, n))
        m = A.shape[0]
        if self.sense not in ("min", "max"):
            raise ValueError(f"sense must be 'min' or 'max', not {self.sense!r}")
        if not np.isfinite(c).all() or not np.isfinite(self.offset):
            raise ValueError("objective coefficients and offset must be finite")
        values = {
            "c": _vector(c, n, "c"),
            "A": A,
            "row_lower": _vector(self.row_lower, m, "row_lower"),
            "row_upper": _vector(self.row_upper, m, "row_upper"),
            "col_lower": _vector(self.col_lower, n, "col_lower"),
            "col_upper": _vector(self.col_upper, n, "col_upper"),
            "offset": float(self.offset),
            "col_names": _names(self.col_names, n, "col_names"),
            "row_names": _names(self.row_names, m, "row_names"),
        }
        lows, highs = (
            (values["row_lower"], values["col_lower"]),
            (values["row_upper"], values["col_upper"]),
        )
        if any((lo == np.inf).any() for lo in lows) or any((hi == -np.inf).any() for hi in highs):
            raise ValueError("a lower bound is +inf or an upper bound is -inf")
        for key, value in values.items():
            object.__setattr__(self, key, value)

    @property
    def num_rows(self) -> int:
        """m, the number of rows."""
        return self.A.shape[0]

    @property
    def num_cols(self) -> int:
        """n, the number of columns."""
        return self.A.shape[1]

    def objective_value(self, x: np.ndarray) -> float:
        """``c @ x + offset``."""
        return float(self.c @ x + self.offset)


class Status(StrEnum):
    """How a solve ended."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    ERROR = "error"


@dataclass(frozen=True, eq=False)
class Result:
    """What a solve returns.

    ``x``, ``row_duals`` and ``col_duals`` always have length n, m, n; they hold NaN
    where the backend has no value (no solution, or a solver without duals).
    ``objective`` includes the offset, in the programme's own sense; NaN when unknown.
    """

    status: Status
    objective: float
    x: np.ndarray
    row_duals: np.ndarray
    col_duals: np.ndarray
    iterations: int = 0
    seconds: float = 0.0
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when the status is optimal."""
        return self.status is Status.OPTIMAL

    @classmethod
    def empty(cls, status: Status, n: int, m: int, message: str = "", **kw) -> Result:
        """A result without solution values."""
        x, rd, cd = np.full(n, np.nan), np.full(m, np.nan), np.full(n, np.nan)
        return cls(status, np.nan, x, rd, cd, message=message, **kw)


_KEPT = ("c", "sense", "offset", "row_lower", "row_upper", "col_lower", "col_upper", "col_names")


@dataclass
class _Mirror:
    """The programme as edited, kept by the base class (row blocks stacked lazily)."""

    c: np.ndarray
    sense: str
    offset: float
    blocks: list
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    col_names: tuple | None
    row_names: list | None


class Backend(ABC):
    """A solver behind one interface.

    Subclasses set ``name`` and ``features`` and implement ``_probe``, ``_load`` and
    ``_solve``; the edit hooks (``_add_rows``, ``_set_objective``, ``_set_row_bounds``,
    ``_set_col_bounds``) default to nothing, for backends that read ``self.lp`` anew at
    each solve.  The public methods check arguments, keep ``self.lp`` up to date and
    time the solve.

    Features: "edit" (edits go into the solver's model in place), "warm_start",
    "iis" (native IIS; others use the elastic filter), "duals", "time_limit",
    "write_mps", "write_lp", "polish" (``polish()`` re-solves at a tighter tolerance),
    "interior" (``method="interior"``: interior point without crossover, a solution
    in the relative interior of the optimal face), "primal" (``method="primal"``: a
    cold solve after failed warm attempts is the primal simplex; others choose).
    """

    name: ClassVar[str]
    features: ClassVar[frozenset[str]] = frozenset()
    hold_slack: ClassVar[float] = 1e-9
    """Slack a caller should leave on a held optimum (relative): the solver's resolution."""
    rescue_with: ClassVar[tuple[str, ...]] = ()
    """Other backends that may solve a programme this one ended without a verdict on."""
    option_names: ClassVar[frozenset[str]] = COMMON_OPTIONS

    def __init__(self, **options):
        """Options: threads, method ("ipm", "simplex", "choose"), time_limit (s), verbose."""
        unknown = set(options) - self.option_names
        if unknown:
            raise ValueError(
                f"{self.name}: unknown option(s) {sorted(unknown)}; valid: {sorted(self.option_names)}"
            )
        self.options = dict(options)
        self.threads = options.get("threads")
        self.method = self._check_method(options.get("method") or "choose")
        self.time_limit = options.get("time_limit")
        self.verbose = bool(options.get("verbose", False))
        self._mirror: _Mirror | None = None
        self._lp: LinearProgram | None = None

    # -- availability -------------------------------------------------------------
    @classmethod
    def is_available(cls) -> bool:
        """Whether the solver can run here; probed once per class and cached."""
        if "_available" not in cls.__dict__:
            try:
                cls._available = bool(cls._probe())
            except Exception:  # noqa: BLE001 - any failure means "not here"
                cls._available = False
        return cls._available

    @classmethod
    @abstractmethod
    def _probe(cls) -> bool:
        """Check, once, that the solver's library or program is installed."""

    # -- the programme ------------------------------------------------------------
    @property
    def lp(self) -> LinearProgram:
        """The programme as it stands after every edit."""
        mr = self._require()
        if self._lp is None:
            A = mr.blocks[0] if len(mr.blocks) == 1 else sp.vstack(mr.blocks, format="csr")
            mr.blocks = [A]
            rows = None if mr.row_names is None else tuple(mr.row_names)
            kept = {f: getattr(mr, f) for f in _KEPT}
            self._lp = LinearProgram(A=A, row_names=rows, **kept)
        return self._lp

    def _require(self) -> _Mirror:
        if self._mirror is None:
            raise RuntimeError(f"{self.name}: load() a LinearProgram first")
        return self._mirror

    def _shape(self) -> tuple[int, int]:
        """(m, n) of the current programme, without stacking row blocks."""
        mr = self._require()
        return mr.row_lower.size, mr.c.size

    def load(self, lp: LinearProgram) -> None:
        """Replace the solver's programme by ``lp`` (drops any basis)."""
        if not isinstance(lp, LinearProgram):
            raise TypeError("load() takes a solvers.LinearProgram")
        self._load(lp)
        rows = None if lp.row_names is None else list(lp.row_names)
        self._mirror = _Mirror(blocks=[lp.A], row_names=rows, **{f: getattr(lp, f) for f in _KEPT})
        self._lp = lp

    def add_rows(self, A_rows, lower, upper, names=None) -> np.ndarray:
        """Append rows ``lower <= A_rows @ x <= upper``; returns their indices."""
        mr = self._require()
        R = as_csr(A_rows, mr.c.size)
        k, m = R.shape[0], mr.row_lower.size
        lo, up = _vector(lower, k, "lower"), _vector(upper, k, "upper")
        names = _names(names, k, "names")
        self._add_rows(R, lo, up, names)
        mr.blocks.append(R)
        mr.row_lower = np.concatenate([mr.row_lower, lo])
        mr.row_upper = np.concatenate([mr.row_upper, up])
        if names is not None or mr.row_names is not None:
            mr.row_names = mr.row_names or [f"r{i}" for i in range(m)]
            mr.row_names += names or [f"r{i}" for i in range(m, m + k)]
        self._lp = None
        return np.arange(m, m + k)

    def set_objective(self, c, sense="min", offset=0.0, near: bool = False) -> None:
        """Replace the objective ``c @ x + offset`` and its sense.

        ``near``: its optimum is expected near the last point (a short excursion and
        back, as a verification LP), so a warm re-solve should be kept going rather
        than abandoned for a cold one (see the HiGHS backend's re-solve path).
        """
        mr = self._require()
        self.objective_near = bool(near)
        c = _vector(c, mr.c.size, "c")
        if sense not in ("min", "max"):
            raise ValueError(f"sense must be 'min' or 'max', not {sense!r}")
        self._set_objective(c, sense, float(offset))
        mr.c, mr.sense, mr.offset = c, sense, float(offset)
        self._lp = None

    def set_row_bounds(self, rows, lower, upper) -> None:
        """Set the bounds of rows ``rows`` (scalars broadcast)."""
        mr = self._require()
        mr.row_lower, mr.row_upper = self._bounds(
            rows, lower, upper, mr.row_lower, mr.row_upper, self._set_row_bounds
        )

    def set_col_bounds(self, cols, lower, upper) -> None:
        """Set the bounds of columns ``cols`` (scalars broadcast)."""
        mr = self._require()
        mr.col_lower, mr.col_upper = self._bounds(
            cols, lower, upper, mr.col_lower, mr.col_upper, self._set_col_bounds
        )

    def _bounds(self, idx, lower, upper, old_lo, old_up, hook):
        idx = np.asarray(idx, dtype=np.int64).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= old_lo.size):
            raise IndexError(f"index out of range 0..{old_lo.size - 1}")
        lo, up = _vector(lower, idx.size, "lower"), _vector(upper, idx.size, "upper")
        hook(idx, lo, up)
        new_lo, new_up = old_lo.copy(), old_up.copy()
        new_lo[idx], new_up[idx] = lo, up
        self._lp = None
        return new_lo, new_up

    # -- solving ------------------------------------------------------------------
    def solve(self, time_limit=None, method=None) -> Result:
        """Solve the current programme; arguments override the constructor's options."""
        self._require()
        limit = self.time_limit if time_limit is None else time_limit
        method = self._check_method(method or self.method)
        if method == "interior" and "interior" not in self.features:
            method = "ipm"
        if method in ("primal", "pool") and method not in self.features:
            method = "choose"
        start = time.perf_counter()
        result = self._solve(None if limit is None else float(limit), method)
        if not result.seconds:
            result = replace(result, seconds=time.perf_counter() - start)
        return result

    def iis(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Rows and columns (whose bounds take part) of an irreducible infeasible set.

        None when the programme is feasible.  This default runs the elastic/deletion
        filter (:func:`solvers.elastic_iis`) with this backend; see its cost there.
        """
        from solvers._iis import elastic_iis

        return elastic_iis(self.lp, type(self), **self.options)

    def write(self, path) -> None:
        """Write the programme to ``path``; the format (.mps or .lp) goes by suffix."""
        self._require()
        path = Path(path)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("mps", "lp"):
            raise ValueError(f"cannot write {path.name}: use a .mps or .lp suffix")
        if f"write_{fmt}" not in self.features:
            raise NotImplementedError(f"{self.name} cannot write .{fmt} files")
        self._write(path, fmt)

    # -- hooks ----------------------------------------------------------------------
    @abstractmethod
    def _load(self, lp: LinearProgram) -> None: ...

    @abstractmethod
    def _solve(self, time_limit: float | None, method: str) -> Result: ...

    def _add_rows(self, R, lower, upper, names) -> None:  # noqa: B027 - optional hook
        pass

    def _set_objective(self, c, sense, offset) -> None:  # noqa: B027
        pass

    def _set_row_bounds(self, rows, lower, upper) -> None:  # noqa: B027
        pass

    def _set_col_bounds(self, cols, lower, upper) -> None:  # noqa: B027
        pass

    def _write(self, path: Path, fmt: str) -> None:
        raise NotImplementedError

    def _check_method(self, method: str) -> str:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {method!r}")
        return method

    def __repr__(self) -> str:
        """Name and options."""
        return f"<{type(self).__name__} {self.name!r} {self.options}>"

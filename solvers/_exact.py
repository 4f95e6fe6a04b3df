"""Exact rational LP: HiGHS finds a basis, QSopt_ex proves it optimal in rational arithmetic.

HiGHS solves in floating point: its optimum is optimal to tolerances (1e-7), and a
programme whose levels amplify a hold's last digits a thousandfold cannot be decided
that way (bench/NOTES.md, twelfth session). QSopt_ex (Applegate, Cook, Dash and
Espinoza, "Exact solutions to linear programming problems", Operations Research
Letters 35, 2007; Debian's ``qsopt-ex``, its ``esolver``) solves an LP exactly: it
reads every number of an MPS file as the rational it spells, runs its simplex in
double precision, then checks the basis in rational arithmetic and, where it is not
optimal, goes on in ever higher precision until it is. Started from HiGHS's optimal
basis it only checks (0.4 s on a held 60 x 120 programme of 7,204 rows and 32,748
columns, against 34 s cold).

:class:`ExactLP` keeps one HiGHS model (warm between solves after bound edits) and
answers each :meth:`ExactLP.solve` with an :class:`ExactResult`: status, the objective
and every primal value, row dual and reduced cost as ``fractions.Fraction``. Bounds
can be given exactly (``Fraction``); they are written to QSopt_ex as the rationals they
are (``p/q``) and handed to HiGHS as the nearest float on the loose side (a lower bound
rounded down, an upper bound up). Floats are written as the shortest decimal that reads
back as the same float (the scenario's own decimals, for numbers read from its files).
This module imports nothing of ours.

For measurements (bench/NOTES.md), three environment variables: COMMUNE_EXACT_KEEP (a
folder: every solve's MPS, basis and esolver log kept there), COMMUNE_EXACT_OPTIONS (extra
esolver options, e.g. ``-p 2`` for Devex pricing) and COMMUNE_EXACT_WARM (HiGHS's
simplex after bound edits: 4 primal, the default, or 1 dual).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from solvers._base import LinearProgram

ESOLVER = "esolver"
_INF = 1e30
# HiGHS's primal and dual feasibility tolerances when its basis at the default (1e-7)
# fails QSopt_ex's rational check. Measured on the generated 60 x 120 (seed 0), tier 2's
# round of 293 tied needs: the default basis sent QSopt_ex into multi-precision for 155-210
# s; HiGHS at 1e-10 gave a basis that passed the check at once (0.43 s)
TIGHT = 1e-10
# With multi-precision allowed, failed tight re-solves in a row after which a failed check
# goes cold at once (the tight re-solve is tried again every TIGHT_RETRY-th time). The
# README's 200 x 100's certificate: none of 34 tight re-solves rescued a basis, and each
# cost a second rational check that failed (68 failed checks there, 1,764 s; skipping
# them took the first 48 levels from 2,042 s to 999 s; bench/NOTES.md)
TIGHT_GIVE_UP = 3
TIGHT_RETRY = 10
# ExactLP(check_give_up=...) (off unless given; the exact certificate gives CHECK_GIVE_UP): after
# that many failed first checks of HiGHS's basis in a row, QSopt_ex solves cold at once,
# without checking it (the check is tried again every CHECK_RETRY-th solve). At the
# README's 200 x 100's certificate its levels 24-87 failed the first check 50 times in 64
# (1,604 s of failed checks, 2.8-115 s each), and a cold run there took about as long as
# a check that passed (bench/NOTES.md, eighteenth session)
CHECK_GIVE_UP = 3
CHECK_RETRY = 4
WARM_CAP = 30.0


class _Streak:
    """A step skipped after ``after`` misses in a row, but tried every ``retry``-th time."""

    def __init__(self, after: int | None, retry: int):
        self.after, self.retry = after, retry
        self.misses = 0  # misses in a row
        self.skips_in_row = 0

    def skip(self, allowed: bool = True) -> bool:
        if allowed and self.after and self.misses >= self.after:
            if self.skips_in_row < self.retry - 1:
                self.skips_in_row += 1
                return True
        self.skips_in_row = 0
        return False

    def record(self, missed: bool) -> None:
        self.misses = self.misses + 1 if missed else 0


class ExactUnavailable(RuntimeError):
    """QSopt_ex's esolver is not installed (Debian: ``apt-get install qsopt-ex``)."""


@dataclass
class ExactResult:
    """An exact solve: ``status`` is QSopt_ex's word ("optimal", "infeasible", ...)."""

    status: str
    objective: Fraction | None = None
    x: list[Fraction] = field(default_factory=list)
    row_duals: list[Fraction] = field(default_factory=list)
    col_duals: list[Fraction] = field(default_factory=list)
    highs_iterations: int = 0
    highs_seconds: float = 0.0
    exact_seconds: float = 0.0  # QSopt_ex's run that gave this answer
    rejected_seconds: float = 0.0  # QSopt_ex's checks of HiGHS's bases that failed first
    warm: bool = False  # QSopt_ex started from HiGHS's basis
    message: str = ""
    # QSopt_ex's simplex iterations, per precision it ran in ("dbl", "mpf", ...; the
    # rational check itself is no iteration): 0 where HiGHS's basis was optimal
    iterations: dict = field(default_factory=dict)
    tightened: bool = False  # HiGHS solved again at TIGHT tolerances for this answer
    # where exact_seconds went: "write" (our MPS and basis files), "esolver" (its run, of
    # which "check" is its rational basis checks, from its log) and "solution" (our
    # reading of its solution file)
    parts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "optimal"

    def x_float(self) -> np.ndarray:
        return np.array([float(v) for v in self.x])


def available() -> bool:
    """True when QSopt_ex's ``esolver`` is on the PATH."""
    return shutil.which(ESOLVER) is not None


def decimal(v) -> str:
    """``v`` as an MPS number QSopt_ex reads exactly.

    A float: its shortest round-trip decimal (the scenario's own decimals, for numbers
    read from its files). A Fraction: itself, as a terminating decimal where it has one
    and as ``p/q`` otherwise (QSopt_ex reads both as the rational they spell).
    """
    if isinstance(v, Fraction):
        d = v.denominator
        twos = (d & -d).bit_length() - 1
        rest = d >> twos
        fives = 0
        while rest % 5 == 0:
            rest //= 5
            fives += 1
        if rest != 1:
            return f"{v.numerator}/{d}"
        places = max(twos, fives)
        n = v.numerator * 10**places // d  # exact: d divides 10**places
        sign = "-" if n < 0 else ""
        whole, frac = divmod(abs(n), 10**places)
        frac_s = str(frac).rjust(places, "0").rstrip("0") if places else ""
        return f"{sign}{whole}" + (f".{frac_s}" if frac_s else "")
    return np.format_float_positional(float(v), unique=True, trim="-")


def float_side(v: Fraction, direction: int) -> float:
    """The float nearest ``v`` on the side ``direction`` (-1 below, +1 above)."""
    f = float(v)
    if direction < 0 and Fraction(f) > v:
        f = math.nextafter(f, -math.inf)
    elif direction > 0 and Fraction(f) < v:
        f = math.nextafter(f, math.inf)
    return f


def _bound(v: float, exact: Fraction | None) -> str:
    return decimal(exact) if exact is not None else decimal(v)


class _Writer:
    """Free MPS with columns ``c{j}`` and rows ``r{i}``; the matrix's text made once.

    Rows free on both sides are left out (a floor row switched off, say).
    """

    def __init__(self, A: sp.csc_matrix):
        self.A = A
        rows, cols = A.indices, np.repeat(np.arange(A.shape[1]), np.diff(A.indptr))
        text = [decimal(v) for v in A.data]
        self.entries = np.array(
            [f" c{j} r{i} {v}" for j, i, v in zip(cols, rows, text, strict=True)], dtype=object
        )
        self.entry_row, self.entry_col = rows, cols
        self.objective: tuple | None = None

    def set_objective(self, c: np.ndarray) -> None:
        nz = np.flatnonzero(c)
        obj = np.array([f" c{j} obj {decimal(c[j])}" for j in nz], dtype=object)
        allcol = np.concatenate([nz, self.entry_col])
        order = np.argsort(allcol, kind="stable")  # a column's objective entry first
        lines = np.concatenate([obj, self.entries])[order]
        is_obj = np.concatenate([np.ones(len(nz), bool), np.zeros(len(self.entries), bool)])[order]
        row = np.concatenate([np.full(len(nz), -1), self.entry_row])[order]
        self.objective = (lines, is_obj, row, allcol[order])

    def write(
        self, path, sense, col_lower, col_upper, row_lower, row_upper, exact_lower, exact_upper
    ):
        lo_fin, up_fin = row_lower > -_INF, row_upper < _INF
        live_mask = lo_fin | up_fin
        live = np.flatnonzero(live_mask)
        eq = lo_fin & up_fin & (row_lower == row_upper)
        ranged = lo_fin & up_fin & ~eq
        # a ranged row is a G row with its RANGES entry: [rhs, rhs + range]
        kind = np.where(eq, "E", np.where(lo_fin, "G", "L"))
        out = ["NAME commune", "OBJSENSE", "  MAX" if sense == "max" else "  MIN", "ROWS", " N obj"]
        out += [f" {kind[i]} r{i}" for i in live]
        if not len(live):  # QSopt_ex reads no programme without a row: 0 >= -1
            out.append(" G none")
        out.append("COLUMNS")
        lines, is_obj, row, col = self.objective
        keep = is_obj | live_mask[np.maximum(row, 0)]
        out.extend(lines[keep].tolist())
        n = self.A.shape[1]
        empty = np.flatnonzero(np.bincount(col[keep], minlength=n) == 0)
        out += [f" c{j} obj 0" for j in empty]
        out.append("RHS")
        if not len(live):
            out.append(" rhs none -1")
        out += [
            f" rhs r{i} {decimal(row_lower[i] if kind[i] != 'L' else row_upper[i])}" for i in live
        ]
        if ranged.any():
            out.append("RANGES")
            out += [
                f" rng r{i} {decimal(written(row_upper[i]) - written(row_lower[i]))}"
                for i in np.flatnonzero(ranged)
            ]
        out.append("BOUNDS")
        special = set(np.flatnonzero((col_lower != 0) | (col_upper < _INF)).tolist())
        special |= set(exact_lower) | set(exact_upper)
        for j in sorted(special):
            lo, up = col_lower[j], col_upper[j]
            el, eu = exact_lower.get(j), exact_upper.get(j)
            if lo <= -_INF and up >= _INF:
                out.append(f" FR bnd c{j}")
                continue
            if el is None and eu is None and lo == up:
                out.append(f" FX bnd c{j} {decimal(lo)}")
                continue
            if lo <= -_INF:
                out.append(f" MI bnd c{j}")
            elif lo != 0 or el is not None:
                out.append(f" LO bnd c{j} {_bound(lo, el)}")
            if up < _INF:
                out.append(f" UP bnd c{j} {_bound(up, eu)}")
        out.append("ENDATA")
        path.write_text("\n".join(out) + "\n")
        return live, ranged


def written(v: float) -> Fraction:
    """The rational a float stands for in QSopt_ex's file: its shortest decimal (:func:`decimal`).

    Not the float's binary value (``Fraction(0.1)`` is not 1/10): a coefficient or bound
    read from the scenario's files means the decimal it was written as.
    """
    return Fraction(decimal(v))


def write_basis(path: Path, col_status, row_status, live: np.ndarray, ranged: np.ndarray) -> bool:
    """Write HiGHS's basis in MPS basis format for the rows written; False if not a basis.

    QSopt_ex takes a nonbasic row at its lower side except for ranged rows (XU there).
    HiGHS's statuses: 0 lower, 1 basic, 2 upper, 3 zero (free), 4 nonbasic.
    """
    cs = np.asarray([int(s) for s in col_status])
    rs = np.asarray([int(s) for s in row_status])[live]
    basic = np.flatnonzero(cs == 1)
    nonbasic_rows = np.flatnonzero(rs != 1)
    if len(basic) != len(nonbasic_rows):
        return False
    out = ["NAME commune"]
    for j, k in zip(basic, nonbasic_rows, strict=True):
        i = live[k]
        tag = "XU" if (rs[k] == 2 and ranged[i]) else "XL"
        out.append(f" {tag} c{j} r{i}")
    out += [f" UL c{j}" for j in np.flatnonzero(cs == 2)]
    out.append("ENDATA")
    path.write_text("\n".join(out) + "\n")
    return True


def _released(basis, pairs: dict[int, int]):
    """HiGHS's statuses with each nonbasic freed row basic and its basic column at lower."""
    cs = [int(v) for v in basis.col_status]
    rs = [int(v) for v in basis.row_status]
    for i, j in pairs.items():
        if rs[i] != 1 and cs[j] == 1:
            rs[i], cs[j] = 1, 0
    return cs, rs


def _number(s: str) -> Fraction:
    return Fraction(s.strip())


def read_solution(path: Path, n: int, m: int) -> tuple[str, Fraction | None, list, list, list]:
    """Status, objective, x (n), row duals (m, by original row), reduced costs (n)."""
    status, value = "error", None
    x = [Fraction(0)] * n
    pi = [Fraction(0)] * m
    rc = [Fraction(0)] * n
    section = None
    for line in path.read_text().splitlines():
        s = line.strip()
        if not s:
            continue
        if s.startswith("status "):
            status = s.split()[-1].lower()
            continue
        if s.startswith("Value ="):
            value = _number(s.split("=", 1)[1])
            continue
        if s in ("VARS:", "REDUCED COST:", "PI:", "SLACK:"):
            section = s
            continue
        if "=" not in s or section is None:
            continue
        name, val = (p.strip() for p in s.split("=", 1))
        if section == "VARS:" and name.startswith("c"):
            x[int(name[1:])] = _number(val)
        elif section == "REDUCED COST:" and name.startswith("c"):
            rc[int(name[1:])] = _number(val)
        elif section == "PI:" and name.startswith("r"):
            pi[int(name[1:])] = _number(val)
    return status, value, x, pi, rc


_PHASES = re.compile(r"starting (\w+)_ILLsimplex|pI = (\d+), pII = (\d+), dI = (\d+), dII = (\d+)")


def _iterations(log: str) -> dict[str, int]:
    """QSopt_ex's simplex iterations per precision, from esolver's log."""
    out: dict[str, int] = {}
    kind = "dbl"
    for m in _PHASES.finditer(log):
        if m.group(1):
            kind = m.group(1)
        else:
            out[kind] = out.get(kind, 0) + sum(int(g) for g in m.groups()[1:])
    return out


_CHECKED = re.compile(r"check done in ([0-9.]+) seconds")


def _log_parts(log: str) -> dict[str, float]:
    """The seconds of the rational basis checks esolver reports in its log.

    (Its "Time for SOLVER_READ_MPQ" is no measure of its reading: 0.00 where the reading
    took 0.13 s by the time its log lines came.)
    """
    return {"check": sum(float(v) for v in _CHECKED.findall(log))}


def _add(total: dict, more: dict) -> None:
    for k, v in more.items():
        total[k] = total.get(k, 0) + v


_REJECTED = object()
_STRANDED = object()
_CHECK = "Performing Rational Basic Solve"
_MPF = "Trying mpf"


def _run(cmd: list[str], env: dict, timeout: float | None, check_only: bool, stop_stranded=True):
    """Run esolver: its completed process, None on the time limit, _REJECTED or _STRANDED.

    _REJECTED: ``check_only``, and its rational check of the starting basis says "not
    optimal" (esolver is stopped there). _STRANDED: its rational check found a basis
    exactly optimal and it still went on to its multi-precision simplex (stopped there).
    QSopt_ex 2.5.10 does that when its double-precision pass calls the programme
    infeasible (``QSexact_solver`` outputs a solution after that check only when the
    double pass said "optimal"): the README's tour had a certificate level whose exactly
    optimal basis its 128-bit simplex then took for over 17 minutes (bench/NOTES.md).
    That basis's solution is then read from QSopt_ex's library (:func:`_basic_solution`).
    """
    started = time.monotonic()
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    ) as proc:
        lines: list[str] = []
        proven = False  # a rational check said "optimal"
        for line in proc.stdout:  # esolver flushes its log line by line
            lines.append(line)
            if _CHECK in line:
                proven = "RAT_optimal" in line
                if check_only and not proven:
                    proc.kill()
                    proc.wait()
                    return _REJECTED
            elif proven and stop_stranded and _MPF in line:
                proc.kill()
                proc.wait()
                return _STRANDED
            if timeout is not None and time.monotonic() - started > timeout:
                proc.kill()
                proc.wait()
                return None
        proc.wait()
    return subprocess.CompletedProcess(cmd, proc.returncode, "".join(lines), "")


def _basic_solution(d: Path, env: dict, timeout: float | None):
    """The exact solution of the basis in ``d`` (lp.mps, lp.bas), written to lp.sol.

    By :mod:`solvers._qslib` (QSopt_ex's library, in a child process): its completed
    process, None on the time limit, or _REJECTED when the basis is not exactly optimal
    (esolver's check had tested the basis its double pass ended at, not this one).
    """
    cmd = [sys.executable, str(Path(__file__).with_name("_qslib.py"))]
    cmd += [str(d / "lp.mps"), str(d / "lp.bas"), str(d / "lp.sol")]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return _REJECTED if done.returncode == 3 else done


class ExactLP:
    """One programme solved exactly, again and again after bound edits (see module doc)."""

    def __init__(
        self, lp: LinearProgram, time_limit: float | None = None,
        check_give_up: int | None = None,
    ):  # fmt: skip
        if not available():
            raise ExactUnavailable(
                "exact solving needs QSopt_ex's esolver (Debian package qsopt-ex; "
                "`make install` installs it)"
            )
        import highspy

        from solvers._highs import new_highs

        self.lp = lp
        self.time_limit = time_limit
        self.col_lower = lp.col_lower.copy()
        self.col_upper = lp.col_upper.copy()
        self.row_lower = lp.row_lower.copy()
        self.row_upper = lp.row_upper.copy()
        self.exact_lower: dict[int, Fraction] = {}
        self.exact_upper: dict[int, Fraction] = {}
        self.solves = 0
        self.warm_solves = 0
        self.highs_iterations = 0
        self.exact_seconds = 0.0
        self.exact_iterations: dict[str, int] = {}
        self.exact_parts: dict[str, float] = {}  # ExactResult.parts, summed
        self._pairs: dict[int, int] = {}  # freed row -> its column (release)
        self.tightened = 0  # solves whose HiGHS basis failed the check and was sharpened
        self.restarts = 0  # warm HiGHS runs stopped at the cap and solved cold
        self.stranded = 0  # esolver runs stopped at an exactly optimal basis (see _run)
        self.cold = 0  # solves left to QSopt_ex from scratch after failed checks
        self.tight_skipped = 0  # failed checks sent cold without a tight re-solve
        # tight re-solves in a row whose basis failed the check too (TIGHT_GIVE_UP)
        self._tight = _Streak(TIGHT_GIVE_UP, TIGHT_RETRY)
        self.check_skipped = 0  # solves sent cold without checking HiGHS's basis
        self._check = _Streak(check_give_up, CHECK_RETRY)  # failed first checks in a row
        # HiGHS's simplex after bound edits: 4 primal (the engine's choice, solvers/_highs.py
        # WARM), 1 dual
        self.warm = int(os.environ.get("COMMUNE_EXACT_WARM", "4"))
        self._first: float | None = None
        # quiet (no banner in a JSON written to stdout); HiGHS's threads left alone: its
        # thread pool is set once per process, and a second count makes every run fail
        h = new_highs(False)
        A = sp.csc_matrix(lp.A)
        model = highspy.HighsLp()
        model.num_col_, model.num_row_ = lp.num_cols, lp.num_rows
        model.col_cost_ = lp.c
        model.col_lower_, model.col_upper_ = self.col_lower, self.col_upper
        model.row_lower_, model.row_upper_ = self.row_lower, self.row_upper
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.start_ = A.indptr
        model.a_matrix_.index_ = A.indices
        model.a_matrix_.value_ = A.data
        model.sense_ = (
            highspy.ObjSense.kMaximize if lp.sense == "max" else highspy.ObjSense.kMinimize
        )
        h.passModel(model)
        self._h = h
        self._writer = _Writer(A)
        self._writer.set_objective(lp.c)

    def set_objective(self, c: np.ndarray, sense: str) -> None:
        import highspy

        c = np.asarray(c, float)
        self.lp = LinearProgram(
            c, self.lp.A, self.lp.row_lower, self.lp.row_upper, self.lp.col_lower,
            self.lp.col_upper, sense=sense,
        )  # fmt: skip
        self._writer.set_objective(c)
        n = len(c)
        self._h.changeColsCost(n, np.arange(n, dtype=np.int32), c)
        self._h.changeObjectiveSense(
            highspy.ObjSense.kMaximize if sense == "max" else highspy.ObjSense.kMinimize
        )

    def set_col_bounds(self, cols, lower, upper) -> None:
        """Bounds of ``cols``: floats, or Fractions (kept exact for QSopt_ex)."""
        cols = np.asarray(cols, dtype=np.int64)
        lo_f, up_f = np.empty(len(cols)), np.empty(len(cols))
        for k, (j, lo, up) in enumerate(zip(cols, lower, upper, strict=True)):
            j = int(j)
            self.exact_lower.pop(j, None)
            self.exact_upper.pop(j, None)
            if isinstance(lo, Fraction):
                self.exact_lower[j] = lo
                lo = float_side(lo, -1)
            if isinstance(up, Fraction):
                self.exact_upper[j] = up
                up = float_side(up, +1)
            lo_f[k], up_f[k] = lo, up
        self.col_lower[cols], self.col_upper[cols] = lo_f, up_f
        self._h.changeColsBounds(len(cols), cols.astype(np.int32), lo_f, up_f)

    def release(self, rows, cols) -> None:
        """Rows just made free, each with a column that now holds what it held.

        HiGHS keeps such a row (a need's floor row, the need now held by its column's
        lower bound) nonbasic until a pivot moves it, and a basis with a nonbasic free
        row cannot be written for QSopt_ex (the row is left out of its file): QSopt_ex
        then solved from scratch (30 s a round on a 200 x 100). Where that happens the
        row is written basic and its column, basic at its new lower bound, nonbasic.
        """
        for i, j in zip(rows, cols, strict=True):
            self._pairs[int(i)] = int(j)

    def set_row_bounds(self, rows, lower, upper) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        self.row_lower[rows], self.row_upper[rows] = lower, upper
        self._h.changeRowsBounds(
            len(rows), rows.astype(np.int32), np.asarray(lower, float), np.asarray(upper, float)
        )

    def solve(self, multi_precision: bool = True) -> ExactResult:
        """HiGHS (warm), then QSopt_ex from HiGHS's basis (cold if HiGHS gives none).

        Where the basis fails QSopt_ex's rational check, QSopt_ex would go on in
        multi-precision from scratch (minutes on a 60 x 120 programme); instead it is
        stopped there, HiGHS solves again warm at TIGHT tolerances, and QSopt_ex checks
        that basis (with ``multi_precision``, not after TIGHT_GIVE_UP such re-solves in a
        row failed, but for every TIGHT_RETRY-th); if it fails too, QSopt_ex solves the programme on its own from
        scratch (its double-precision simplex, whose basis it checks, and multi-precision
        only if that fails), or, without ``multi_precision``, the answer is status
        "rejected" (an LP whose answer is worth a check but not minutes). On levels of
        the README's 200 x 100's certificate whose HiGHS basis failed both checks,
        QSopt_ex from that basis took 21,000 multi-precision iterations (230-400 s);
        cold, its double pass gave an exactly optimal basis in 73 s (bench/NOTES.md).
        With ``check_give_up`` set, after that many failed first checks in a row QSopt_ex
        solves cold at once, HiGHS's basis unchecked, but for every CHECK_RETRY-th solve.
        """
        t0, e0 = time.perf_counter(), self.exact_seconds
        h = self._h
        it, basis = self._highs()
        if basis is None and not multi_precision:
            res = ExactResult("rejected", message="HiGHS gave no basis")
        elif basis is not None and self._check.skip(allowed=multi_precision):
            # first checks keep failing: QSopt_ex cold, HiGHS's basis not checked
            self.check_skipped += 1
            self.cold += 1
            res = self._exact(None)
        else:
            res = self._exact(basis, check_only=basis is not None)
            if basis is not None:
                self._check.record(missed=res is None)
        if res is None:  # HiGHS's basis is optimal in floating point only
            self.tightened += 1
            # after TIGHT_GIVE_UP misses in a row the tight re-solve is skipped, but for
            # every TIGHT_RETRY-th time (a programme's later solves may differ)
            if self._tight.skip(allowed=multi_precision):
                self.tight_skipped += 1
            else:
                for key in ("primal_feasibility_tolerance", "dual_feasibility_tolerance"):
                    h.setOptionValue(key, TIGHT)
                more, basis = self._highs()
                it += more
                for key in ("primal_feasibility_tolerance", "dual_feasibility_tolerance"):
                    h.setOptionValue(key, 1e-7)
                res = self._exact(basis, check_only=True)
                self._tight.record(missed=res is None)
            if res is None and multi_precision:  # QSopt_ex on its own, from scratch
                self.cold += 1
                res = self._exact(None)
            if res is None:
                res = ExactResult(
                    "rejected", message="HiGHS's basis is optimal in floating point only"
                )
            res.tightened = True
        # the failed checks are added to self.exact_seconds as they happen (_exact)
        res.rejected_seconds = self.exact_seconds - e0
        res.highs_iterations = it
        res.highs_seconds = time.perf_counter() - t0 - res.exact_seconds - res.rejected_seconds
        self.solves += 1
        self.warm_solves += res.warm
        self.exact_seconds += res.exact_seconds
        _add(self.exact_iterations, res.iterations)
        return res

    def _highs(self):
        """One HiGHS run: its simplex iterations and basis (None when it has none).

        A warm run longer than WARM_CAP (30 s, or 10x the first run) is stopped and the
        programme solved cold by the dual simplex: on the generated 60 x 120 (seed 0), the
        warm primal run after the round of 293 tied needs, from the basis HiGHS found at
        TIGHT tolerances, ran for over 9 minutes.
        """
        import highspy

        h = self._h
        cap = max(WARM_CAP, 10 * self._first) if self._first else None
        # HiGHS compares time_limit with its run clock, which adds up every run of the model
        h.setOptionValue("time_limit", h.getRunTime() + cap if cap is not None else float("inf"))
        t0 = time.perf_counter()
        h.run()
        info = h.getInfo()
        it = int(info.simplex_iteration_count)
        if h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit:
            self.restarts += 1
            h.clearSolver()
            h.setOptionValue("simplex_strategy", 1)
            h.setOptionValue("time_limit", float("inf"))
            h.run()
            info = h.getInfo()
            it += int(info.simplex_iteration_count)
        if self._first is None:
            self._first = time.perf_counter() - t0
        # later solves start from this basis after bound edits
        h.setOptionValue("simplex_strategy", self.warm)
        self.highs_iterations += it
        return it, (h.getBasis() if info.basis_validity == 1 else None)

    def _exact(self, basis, check_only: bool = False) -> ExactResult | None:
        """QSopt_ex on the programme as it stands, from ``basis``.

        With ``check_only``: None as soon as its rational check finds the basis not optimal.
        """
        t0 = time.perf_counter()
        n, m = self.lp.num_cols, self.lp.num_rows
        parts: dict[str, float] = {}
        with tempfile.TemporaryDirectory(prefix="commune-exact-") as tmp:
            d = Path(tmp)
            live, ranged = self._writer.write(
                d / "lp.mps", self.lp.sense, self.col_lower, self.col_upper, self.row_lower,
                self.row_upper, self.exact_lower, self.exact_upper,
            )  # fmt: skip
            cmd = [ESOLVER, "-O", str(d / "lp.sol")]
            warm = basis is not None and write_basis(
                d / "lp.bas", basis.col_status, basis.row_status, live, ranged
            )
            if basis is not None and not warm and self._pairs:
                cs, rs = _released(basis, self._pairs)
                warm = write_basis(d / "lp.bas", cs, rs, live, ranged)
            if warm:
                cmd += ["-B", str(d / "lp.bas")]
            if self.time_limit is not None:
                cmd += ["-R", str(max(1, int(self.time_limit)))]
            cmd.append(str(d / "lp.mps"))
            cmd[1:1] = os.environ.get("COMMUNE_EXACT_OPTIONS", "").split()
            env = dict(os.environ, OMP_NUM_THREADS="1")
            timeout = None if self.time_limit is None else self.time_limit + 30
            t1 = time.perf_counter()
            parts["write"] = t1 - t0
            # a stranded basis is read from the library only when it is ours (lp.bas):
            # cold, esolver goes on by itself
            out = _run(cmd, env, timeout, check_only and warm, stop_stranded=warm)
            if out is _STRANDED:  # the basis's exact solution from QSopt_ex's library
                self.stranded += 1
                left = None if timeout is None else timeout - (time.perf_counter() - t1)
                out = _basic_solution(d, env, left)
                if out is _REJECTED:
                    # esolver's check had found another basis optimal, not ours: QSopt_ex
                    # cold (from ours, esolver strands again and then goes on in 128-bit
                    # floats from scratch: a level of the README's tour's certificate ran
                    # out of its 245 s there; cold runs there took 20-100 s)
                    self.cold += 1
                    warm = False
                    b = cmd.index("-B")
                    cold = cmd[:b] + cmd[b + 2 :]
                    left = None if timeout is None else timeout - (time.perf_counter() - t1)
                    out = _run(cold, env, left, False, stop_stranded=False)
            parts["esolver"] = time.perf_counter() - t1
            if out is None:
                return ExactResult("time_limit", exact_seconds=time.perf_counter() - t0)
            if out is _REJECTED:
                self.exact_seconds += time.perf_counter() - t0
                _add(self.exact_parts, parts)
                return None
            done = out
            keep = os.environ.get("COMMUNE_EXACT_KEEP")  # a folder: keep each solve's files
            if keep:
                dest = Path(keep) / f"{self.solves:04d}"
                dest.mkdir(parents=True, exist_ok=True)
                for f in d.iterdir():
                    shutil.copy(f, dest / f.name)
                (dest / "esolver.log").write_text(done.stdout + done.stderr)
            sol = d / "lp.sol"
            if not sol.exists():
                tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
                # a stopped esolver (a signal, memory) ends like a failed one: say which
                rc = done.returncode
                how = f"stopped by signal {-rc}" if rc < 0 else f"exit status {rc}"
                return ExactResult(
                    "error", exact_seconds=time.perf_counter() - t0, warm=warm,
                    message=f"QSopt_ex's esolver wrote no solution ({how}); its log ends: "
                    + "; ".join(tail),
                )  # fmt: skip
            t2 = time.perf_counter()
            status, value, x, pi, rc = read_solution(sol, n, m)
            parts["solution"] = time.perf_counter() - t2
        parts.update(_log_parts(done.stdout + done.stderr))
        _add(self.exact_parts, parts)
        return ExactResult(
            status, value, x, pi, rc, exact_seconds=time.perf_counter() - t0, warm=warm,
            iterations=_iterations(done.stdout + done.stderr), parts=parts,
        )  # fmt: skip

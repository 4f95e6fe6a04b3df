"""Exact leximin of the need tiers, in rational arithmetic (``planner solve --exact``).

Each round is the max-min LP of SPEC section 4 over the tier's needs not yet fixed:

    maximise t   s.t.  the programme of SPEC section 3,
                       r_j >= t          for every free need j of the tier,
                       r_k >= level_k    for every need already fixed (this tier or earlier),

solved by HiGHS and then exactly by QSopt_ex from HiGHS's basis
(:class:`solvers.ExactLP`): the optimum ``t*`` and the duals ``y`` are rationals.
Every free need whose floor row has a dual other than 0 is fixed at ``t*``; at
``t* = 1`` every free need is. That is exact, not a tolerance: the duals prove

    sum_j y_j r_j  <=  t*  +  sum_k mu_k (level_k - r_k)        (y >= 0, sum y = 1, mu >= 0)

for every plan the programme allows, so a need with ``y_j > 0`` rises above ``t*``
only if another free need falls below ``t*`` or a fixed need below its level: "no
need can rise without lowering one at or below it". The optimum's primal values show
``t*`` is reached. A need with ``y_j = 0`` stays free (it may still end at ``t*`` in a
later round: the level is then repeated, and the round's duals prove it there).

Held levels are the rationals found, written to the exact solver as the rationals
they are (``p/q``) and to HiGHS as the float just below.

After each round its optimal face is fixed (``face``, :func:`_fix_face`): every
column whose exact reduced cost is not 0 at its value, every programme row whose
exact dual is not 0 at its bound. By complementary slackness every optimum of the
round lies on that face, and every later round's optimum is an optimum of this round,
so the fixes change no level (tested: the same rationals with and without them). They
make the bottlenecks found explicit equalities: on the generated 60 x 120 (seed 0),
after a round that fixed 293 tied needs, the next six rounds took 1-176 s each without
them (HiGHS's warm runs stopped at their cap and solved again cold) and 1-4 s with them.
A free need whose column a face fixed at the round's level is at that level in every
later optimum and is fixed too.

A round at a level of 0 often proves one need by its duals while hundreds sit at 0;
:func:`_settle_ties` proves them together with one more exact LP (``ties``).

The rounds' count is one per distinct dual support (and settled ties); each round
costs a warm HiGHS solve and an exact check of its basis. The first exact stage of a
plan hands the later stages every hold and every face (:func:`exact_specs`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import scipy.sparse as sp

from planner.engine import FLOOR_WEIGHT
from planner.formulation import Formulation
from solvers import ExactLP, LinearProgram, float_side, written

# the round's objective, max WEIGHT * t: the same optimum, but HiGHS's reduced costs lifted
# above its tolerances, so its basis is more often exactly optimal (the engine's rounds, for
# the same reason: planner.engine.FLOOR_WEIGHT). Measured on three rounds of generated
# 25 x 50 confederations whose HiGHS basis failed the rational check at weight 1: two then
# passed it (0.13 s against 7-10 s of QSopt_ex's multi-precision simplex); rounds at a
# level of 0 gained nothing
WEIGHT = FLOOR_WEIGHT


class ExactFailed(RuntimeError):
    """A round had no exact optimum (solver error, time limit)."""


@dataclass
class ExactRound:
    tier: int
    level: Fraction
    fixed: int
    highs_iterations: int
    seconds: float
    warm: bool


@dataclass
class ExactLevels:
    """The tiers' exact levels: ``level[k]`` for each need row of ``form.needs`` (None: no column)."""

    level: list[Fraction | None]
    rounds: list[ExactRound] = field(default_factory=list)
    x: list[Fraction] = field(default_factory=list)  # the last round's exact point
    seconds: float = 0.0
    exact_seconds: float = 0.0
    highs_iterations: int = 0
    # QSopt_ex's simplex iterations by precision (double, then multi-precision "mpf"
    # where HiGHS's basis was optimal in floating point only)
    exact_iterations: dict = field(default_factory=dict)
    # where QSopt_ex's seconds went (solvers.ExactResult.parts, summed over the rounds)
    exact_parts: dict = field(default_factory=dict)
    face_fixed: int = 0  # columns and rows fixed on the rounds' optimal faces
    tie_solves: int = 0  # exact LPs that settled needs tied at a round's level
    tied: int = 0  # needs they fixed
    # the programme's columns and rows the rounds fixed (faces and holds), as floats on
    # their loose side: (cols, lower, upper, rows, row_lower, row_upper)
    face: tuple | None = None

    def tier_levels(self, tier: int) -> list[float]:
        """The tier's distinct levels, lowest first, as floats."""
        return sorted({float(r.level) for r in self.rounds if r.tier == tier})


def exact_levels(
    form: Formulation,
    tiers: list[int],
    time_limit: float | None = None,
    on_round=None,
    face: bool = True,
    ties: bool = True,
) -> ExactLevels:
    """Fix every need of ``tiers`` (in order) at its exact leximin level; see the module doc."""
    t0 = time.perf_counter()
    needs = form.needs
    col = needs["col"].to_numpy()
    tier = needs["tier"].to_numpy()
    n, t_col = form.n, form.t_col
    idx = np.flatnonzero(np.isin(tier, tiers) & (col >= 0))
    F = sp.csr_matrix(
        (
            np.concatenate([np.ones(len(idx)), -np.ones(len(idx))]),
            (
                np.concatenate([np.arange(len(idx))] * 2),
                np.concatenate([col[idx], np.full(len(idx), t_col)]),
            ),
        ),
        shape=(len(idx), n),
    )
    lp = form.lp
    c = np.zeros(n)
    c[t_col] = WEIGHT
    m0 = lp.A.shape[0]
    big = LinearProgram(
        c, sp.vstack([lp.A, F], format="csr"),
        np.concatenate([lp.row_lower, np.full(len(idx), -np.inf)]),
        np.concatenate([lp.row_upper, np.full(len(idx), np.inf)]),
        lp.col_lower, lp.col_upper, sense="max",
    )  # fmt: skip
    ex = ExactLP(big, time_limit=time_limit)
    floor_row = {int(k): m0 + p for p, k in enumerate(idx)}
    level: list[Fraction | None] = [None] * len(needs)
    out = ExactLevels(level)
    x: list[Fraction] = []
    for t in tiers:
        free = [int(k) for k in idx if tier[k] == t]
        if not free:
            continue
        rows = [floor_row[k] for k in free]
        ex.set_row_bounds(rows, np.zeros(len(rows)), np.full(len(rows), np.inf))
        while free:
            r0 = time.perf_counter()
            if time_limit is not None:  # the whole of the exact rounds, not each
                left = time_limit - (r0 - t0)
                if left <= 0:
                    raise ExactFailed(
                        f"time limit reached in the exact rounds of tier {t} "
                        f"({len(out.rounds)} rounds done)"
                    )
                ex.time_limit = left
            res = ex.solve()
            if not res.ok:
                raise ExactFailed(
                    f"tier {t}: the exact round ended {res.status} {res.message}".rstrip()
                )
            level_t = res.objective / Fraction(WEIGHT)  # a Fraction (a float would round)
            x = res.x
            up = [written(lp.col_upper[col[k]]) for k in free]
            fix = [
                k for k, u in zip(free, up, strict=True)
                if res.row_duals[floor_row[k]] != 0 or level_t >= u
            ]  # fmt: skip
            if not fix:  # the duals of a max-min sum to 1: some floor row is binding
                raise ExactFailed(f"tier {t}: an exact round at {float(level_t)} fixed no need")
            cols = [int(col[k]) for k in fix]
            lows = [min(level_t, written(lp.col_upper[j])) for j in cols]
            ex.set_col_bounds(cols, lows, lp.col_upper[cols])
            _switch_off(ex, fix, floor_row, col)
            for k, lv in zip(fix, lows, strict=True):
                level[k] = lv
            fixed = set(fix)
            if face:
                out.face_fixed += _fix_face(ex, res, lp, m0, t_col, set(cols))
                # a free need whose column the faces fixed at this level has it in every
                # later optimum: it is at its level now (its column stays fixed)
                more = [k for k in free if k not in fixed and _fixed_at(ex, col[k]) == level_t]
                _switch_off(ex, more, floor_row, col)
                for k in more:
                    level[k] = level_t
                fix += more
                fixed.update(more)
            if ties and level_t == 0:
                # free needs the optimum leaves at 0 though their duals are 0: at a level of
                # 0 they are many (a degenerate optimum's duals name one bottleneck); above
                # it the sum LP cost more than the rounds it saved (200 x 100: 110 s for
                # tier 2's first; 60 x 120: 172 s against 80 s in all)
                cand = [k for k in free if k not in fixed and x[col[k]] == 0]
                if cand:
                    tied = _settle_ties(ex, lp, col, cand, level_t, t_col, c, m0, face, out)
                    lv = [min(level_t, written(lp.col_upper[col[k]])) for k in tied]
                    loose = [i for i, k in enumerate(tied) if _fixed_at(ex, col[k]) is None]
                    ex.set_col_bounds(
                        [int(col[tied[i]]) for i in loose], [lv[i] for i in loose],
                        lp.col_upper[[int(col[tied[i]]) for i in loose]],
                    )  # fmt: skip
                    _switch_off(ex, tied, floor_row, col)
                    for k, v in zip(tied, lv, strict=True):
                        level[k] = v
                    fix += tied
                    fixed.update(tied)
            free = [k for k in free if k not in fixed]
            rd = ExactRound(
                t, level_t, len(fix), res.highs_iterations, time.perf_counter() - r0, res.warm
            )
            out.rounds.append(rd)
            if on_round is not None:
                on_round(rd)
    out.x = x
    cols = np.flatnonzero((ex.col_lower != lp.col_lower) | (ex.col_upper != lp.col_upper))
    cols = cols[cols != t_col]
    rows = np.flatnonzero((ex.row_lower[:m0] != lp.row_lower) | (ex.row_upper[:m0] != lp.row_upper))
    out.face = (
        cols, ex.col_lower[cols].copy(), ex.col_upper[cols].copy(),
        rows, ex.row_lower[rows].copy(), ex.row_upper[rows].copy(),
    )  # fmt: skip
    out.seconds = time.perf_counter() - t0
    out.exact_seconds = ex.exact_seconds
    out.highs_iterations = ex.highs_iterations
    out.exact_iterations = dict(ex.exact_iterations)
    out.exact_parts = {k: round(v, 3) for k, v in ex.exact_parts.items()}
    return out


def _switch_off(ex: ExactLP, ks, floor_row, col) -> None:
    """Free the floor rows of needs ``ks`` (now held by their columns' lower bounds)."""
    if not len(ks):
        return
    rows = [floor_row[k] for k in ks]
    ex.set_row_bounds(rows, np.full(len(rows), -np.inf), np.full(len(rows), np.inf))
    ex.release(rows, [int(col[k]) for k in ks])


def _settle_ties(ex, lp, col, cand, level_t, t_col, c_round, m0, face, out) -> list[int]:
    """The needs of ``cand`` at ``level_t`` in every optimum of the round, proven exactly.

    ``cand``: free needs the round's optimum has exactly at ``level_t``, their duals 0.
    The proof is the LP

        maximise the sum of r_k over k in C   s.t. the round's programme with t = level_t,

    whose optimum is |C| * level_t only if each r_k in C is at level_t in every plan the
    programme allows with the free needs at least there. Where the optimum is higher,
    the needs it raises are free and the rest are tried again (each pass drops one at
    least). A round at a level of 0 leaves hundreds of such needs on a 200 x 100 (one
    fixed a round by its duals). Every later optimum is an optimum of this LP too, so
    its face is fixed like a round's.
    """
    n = len(c_round)
    lo_t, up_t = ex.col_lower[t_col], ex.col_upper[t_col]
    ex.set_col_bounds([t_col], [level_t], [level_t])
    tied: list[int] = []
    C = list(cand)
    try:
        while C:
            obj = np.zeros(n)
            obj[[int(col[k]) for k in C]] = WEIGHT  # reduced costs above HiGHS's tolerances
            ex.set_objective(obj, "max")
            res = ex.solve(multi_precision=False)
            out.tie_solves += 1
            if res.status == "rejected":  # not worth QSopt_ex's minutes: the rounds go on
                break
            if not res.ok:
                raise ExactFailed(f"settling tied needs: the exact LP ended {res.status}")
            if res.objective == len(C) * level_t * WEIGHT:
                tied = C
                if face:
                    out.face_fixed += _fix_face(ex, res, lp, m0, t_col, set())
                break
            C = [k for k in C if res.x[col[k]] == level_t]
    finally:
        ex.set_col_bounds([t_col], [lo_t], [up_t])
        ex.set_objective(c_round, "max")
    out.tied += len(tied)
    return tied


def _fixed_at(ex: ExactLP, j) -> Fraction | None:
    """The exact value column ``j`` is fixed at (lower = upper), or None."""
    j = int(j)
    lo = ex.exact_lower.get(j)
    if lo is not None or j in ex.exact_upper:
        return lo if lo is not None and lo == ex.exact_upper.get(j) else None
    return written(ex.col_lower[j]) if ex.col_lower[j] == ex.col_upper[j] else None


def _fix_face(ex: ExactLP, res, lp, m0: int, t_col: int, held: set) -> int:
    """Fix the round's optimal face; returns how many columns and rows it fixed.

    The face: every column whose exact reduced cost is not 0, at its value; every
    programme row whose exact dual is not 0, at the side it is on. Complementary slackness with the round's exact duals: every optimal plan of the
    round has these values, and every later round's optimum is an optimal plan of this
    round (its free needs are at least this level, its fixed needs at their levels), so
    the fixes cut no later optimum. They turn the bottleneck the round found, which the
    holds leave tight only implicitly, into equalities (and drop the columns priced out),
    so the later rounds' programmes are not degenerate around it.
    """
    xs, rc, pi = res.x, res.col_duals, res.row_duals
    lo, up = ex.col_lower, ex.col_upper
    cols = [
        j for j in np.flatnonzero(lo < up).tolist()
        if rc[j] != 0 and j != t_col and j not in held
        and not (j in ex.exact_lower and ex.exact_lower[j] == ex.exact_upper.get(j))
    ]  # fmt: skip
    vals = []
    for j in cols:
        v = xs[j]
        fv = float(v)
        vals.append(fv if written(fv) == v else v)  # the file says decimal(fv)
    if cols:
        ex.set_col_bounds(cols, vals, vals)
    rlo, rup = ex.row_lower[:m0], ex.row_upper[:m0]
    rows = [i for i in np.flatnonzero(rlo < rup).tolist() if pi[i] != 0]
    at = []
    for i in rows:
        if not np.isfinite(rlo[i]):
            at.append(rup[i])
        elif not np.isfinite(rup[i]):
            at.append(rlo[i])
        else:  # ranged: the side its exact activity is on
            a = lp.A.getrow(i)
            act = sum(written(v) * xs[j] for j, v in zip(a.indices, a.data, strict=True))
            at.append(rlo[i] if act == written(rlo[i]) else rup[i])
    if rows:
        ex.set_row_bounds(rows, np.array(at), np.array(at))
    return len(cols) + len(rows)


def exact_specs(
    form: Formulation, refs, spec_list, tolerance: float, time_limit=None, progress=None
):
    """The policy's leading leximin need stages planned exactly, as ``Fix`` stages.

    Returns (specs, levels): each leading ``needs:tierN`` stage becomes a stage that
    holds its needs at their exact levels (the float just below; the policy's
    ``tolerance`` below that, relative), reported as the tier's lowest ratio; the
    later stages (min_labour, ...) run on the engine as usual. Without a tolerance
    the first of them fixes every exact tier's needs and the rounds' faces at once
    (the others then only report). ValueError when the
    policy does not start with leximin need stages (a stage before them would change
    what the levels are).
    """
    from planner.stages import Fix, StageSpec

    lead = 0
    while lead < len(refs) and refs[lead].kind == "leximin" and refs[lead].tier is not None:
        lead += 1
    if lead == 0:
        raise ValueError(
            "exact planning works on leximin need stages (needs:tier1..3) at the start of "
            "the policy; this policy starts with " + refs[0].name
        )
    tiers = [int(r.tier) for r in refs[:lead]]
    name = {int(r.tier): r.name for r in refs[:lead]}
    count: dict[int, int] = {}

    def on_round(r: ExactRound) -> None:  # the CLI's and the API's progress: stage, round, level
        count[r.tier] = count.get(r.tier, 0) + 1
        if progress is not None:
            progress(name[r.tier], count[r.tier], float(r.level))

    if progress is not None:
        progress(name[tiers[0]], 0, float("nan"))
    levels = exact_levels(form, tiers, time_limit=time_limit, on_round=on_round)
    needs = form.needs
    col = needs["col"].to_numpy()
    tier = needs["tier"].to_numpy()
    up = form.lp.col_upper
    out = list(spec_list)
    for p, t in enumerate(tiers):
        ks = np.flatnonzero((tier == t) & (col >= 0))
        cols = col[ks]
        lower = np.array([float_side(levels.level[k], -1) for k in ks]) if len(ks) else np.zeros(0)
        lower = np.minimum(lower * (1.0 - tolerance), up[cols])

        def report(x, cols=cols):
            return float(x[cols].min()) if len(cols) else None

        fix = Fix(cols, lower, up[cols].copy()) if len(cols) else None
        whole = levels.face is not None and tolerance == 0
        if whole and p > 0:
            fix = None  # the first exact stage fixed every tier's needs already
        if whole and p == 0:
            # the first exact stage fixes every exact tier's holds and the rounds' faces:
            # every leximin plan lies on them, and the programme is then not degenerate
            # around the bottlenecks (tier 2's holds alone stalled HiGHS on a 60 x 120 and
            # were loosened by 1e-8). A policy's tolerance lets the later stages leave
            # the levels: holds only, tier by tier
            fc, flo, fup, fr, frlo, frup = levels.face
            lo_all, up_all = form.lp.col_lower.copy(), form.lp.col_upper.copy()
            lo_all[cols], up_all[cols] = lower, up[cols]
            lo_all[fc], up_all[fc] = flo, fup
            every = np.union1d(cols, fc).astype(np.int64)
            fix = Fix(every, lo_all[every], up_all[every], fr, frlo, frup)
        rounds = [r for r in levels.rounds if r.tier == t]
        meta = {
            "exact": True,
            "levels": levels.tier_levels(t),
            "rounds": len(rounds),
            "seconds": sum(r.seconds for r in rounds),
            "iterations": sum(r.highs_iterations for r in rounds),
        }
        out[p] = StageSpec(
            refs[p].name,
            fix,
            report,
            meta=meta,
        )
    return out, levels

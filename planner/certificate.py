"""A certificate that a plan's need stages are leximin: no need can rise without lowering one.

For each need tier of a leximin policy and each distinct level ``l`` of its
ratios below 1, one LP over the scenario's programme:

    maximise  sum of r_j over the tier's needs at level l
    s.t.      the programme of SPEC section 3,
              r_k >= ratio_k  for every need of an earlier tier,
              r_k >= min(ratio_k, l)  for every need of this tier.

The LP is solved in the scenario's units, its objective weighted (WEIGHT).
The plan is leximin at that level when the optimum does not exceed the sum of
the plan's ratios there (within ``tol`` per need): no need fixed at l can rise
without lowering a need at or below it (or pushing one above it below it,
which would lower the sorted vector at l too). Later tiers' needs are free. This is
independent of how the plan was found (engine, solve path, tolerances).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import scipy.sparse as sp

import solvers
from models import Scenario
from planner.engine import FLOOR_WEIGHT
from planner.formulation import build

# the resolution of a plan's ratios: the solver's final tolerance (solvers/_highs.py) and
# the slack the engine leaves on a held level (planner/engine.py) are both 1e-9
RESOLUTION = 1e-9

# the certificate LP's objective, times this: the rounds' weight (planner.engine.FLOOR_WEIGHT,
# which says why); the optimum itself is unchanged
WEIGHT = FLOOR_WEIGHT

# a failing level (a rise above this per need) also gets its max-min's shortfall (Level.short)
SHORT_AFTER = 1e-6

# the holds' loosenings, in turn, when the plan's own values leave the LP without an optimum
# (they are feasible only to the solver's tolerance). 1e-9 is RESOLUTION: a --precise plan
# of a generated 60 x 120 confederation (seed 0) held exactly ended "Unknown" after 2.9 s
# at a level of 0.99076 and was optimal 1e-9 looser, with no rise (bench/NOTES.md)
LOOSEN = (1e-12, 1e-10, 1e-9, 1e-8, 1e-7)

# each certificate LP's time cap: LEVEL_FACTOR x the first (cold) LP's seconds, at least
# LEVEL_SECONDS; a capped solve counts as no optimum (the next loosening follows). Warm
# from the previous level, an LP held at a --precise plan's exact levels can run for
# minutes before the solver gives up (a generated 60 x 120 plan, seed 0: 85.8 s to an
# error, and over 8 minutes on the next level, where the first LP took 1.1 s)
LEVEL_FACTOR = 10.0
LEVEL_SECONDS = 10.0

# the exact certificate's cap per level (exact_levels_certificate): EXACT_LEVEL_FACTOR x the
# first level's seconds, at least EXACT_LEVEL_SECONDS. M's levels took 0.4-8 s after a first
# of 1.3 s; the tour's first four 24, 4, 4 and 14 s (bench/NOTES.md, fifteenth session)
EXACT_LEVEL_FACTOR = 10.0
EXACT_LEVEL_SECONDS = 60.0


@dataclass(frozen=True)
class Level:
    """One checked level: tier, level, needs at it, their sum in the plan and the best sum."""

    tier: int
    level: float
    needs: int
    plan_sum: float
    best_sum: float
    explained: float = float("nan")  # of the rise, what the plan's last digits account for
    # failing levels only (see ``short_bound``): how far the level lies under the best
    # max-min of its tier's needs at or above it, and the smallest dual share by which
    # that max-min holds a need at this level
    short: float = float("nan")
    least_dual: float = float("nan")
    # how much the holds were loosened for the LP's optimum (0: held at the plan's values;
    # else one of LOOSEN, after a solver error or the time cap): a rise found only then
    # may be that loosening amplified (a generated 40 x 80 --precise plan: a tier-3 level
    # whose LP held exactly stopped at the cap "rose" by 0.038 loosened, uncapped by nothing)
    loosened: float = 0.0

    @property
    def undecided(self) -> bool:
        """No optimum within the time cap, even at the loosest hold (``best_sum`` NaN)."""
        return bool(np.isnan(self.best_sum))

    @property
    def rise(self) -> float:
        """How far the needs at this level could rise together (≈ 0 when certified)."""
        return self.best_sum - self.plan_sum

    @property
    def short_bound(self) -> float:
        """The most the level's needs can rise together because the level is ``short``.

        The max-min LP of the tier's needs at or above the level (those below it and
        earlier tiers held) has the optimum ``t*`` and floor duals ``y`` (sum 1), so
        every allocation the certificate allows has ``sum y_i (r_i - level) <= t* -
        level``: the needs at the level rise together by at most ``short / least_dual``.
        A rise within it is the level's own shortfall, amplified by needs the max-min
        holds weakly (a generated 40 x 80 plan's tier 1: a level 1.96e-7 short, a need
        held by 5.9e-6 of the duals, a rise of 0.0331 where the certificate found
        0.0331); one beyond it is a need fixed though free (its dual is 0: the bound is
        infinite, or the level's max-min is not short). NaN unless failing.
        """
        if not np.isfinite(self.short):
            return float("nan")
        if self.least_dual <= 0:
            return float("inf")
        return max(self.short, 0.0) / self.least_dual

    @property
    def cause(self) -> str:
        """Why a failing level fails ("" when it was not diagnosed, i.e. not failing).

        ``"short"``: the level itself lies more than SHORT_AFTER under the max-min of its
        tier's needs at or above it (a round stopped short, or a hold was loosened);
        ``"free"``: a need fixed at it has no share of that max-min's duals (it can rise
        on its own: fixed though free); ``"amplified"``: the level is right to
        SHORT_AFTER and the rise within ``short_bound`` (the level's last digits, through
        a need the max-min holds weakly).
        """
        if not np.isfinite(self.short):
            return ""
        if self.short > SHORT_AFTER:
            return "short"
        if not self.least_dual > 0 or self.rise > self.short_bound * (1 + 1e-6) + 1e-12:
            return "free"
        return "amplified"

    @property
    def unexplained(self) -> float:
        """The rise less what RESOLUTION on each held need accounts for, to first order.

        nan when not computed; see :func:`leximin_levels`.
        """
        return self.rise - self.explained


def leximin_levels(
    scenario: Scenario,
    deliveries,
    tiers=(1, 2, 3),
    gap: float = 1e-7,
    solver: str = "highs",
    slack: float = 0.0,
    level_seconds: float | None = None,
    exact: bool = False,
) -> list[Level]:
    """Check every level of ``deliveries`` (the plan's table, as records or a DataFrame).

    ``gap``: ratios within it of a level belong to it. ``slack``: holds are loosened
    by it (default 0: the plan's own values; a negative slack raises them, each at most
    to its column's upper bound). Generated economies can amplify a
    loosening enormously (a 25 x 50 one: holding every ratio 1e-9 lower let 159
    needs at one level rise by 0.108 in total), so a certificate with slack measures
    that amplification, not the plan. Should the plan's own values be infeasible to
    the solver (they are feasible only to its tolerance), the LP is repeated with the
    holds loosened by 1e-12, then 1e-10, 1e-9, 1e-8 and 1e-7 (LOOSEN; a plan whose
    ratios near 1 were reported as 1). Each solve is capped at ``level_seconds`` (by
    default LEVEL_FACTOR x the first LP's, at least LEVEL_SECONDS); a level with no
    optimum even at the loosest hold is reported undecided (``best_sum`` NaN: it fails).

    Each level also gets ``explained``: how much of the rise the plan's last digits
    account for, to first order: the certificate LP's reduced costs on the held needs
    (this tier's and earlier ones', less than fully met) times RESOLUTION each. Generated
    economies trade one unit of a large need's ratio for up to 4e5 units of a small one's
    (a 25 x 50 one, seed 12), so 1e-9 of slack on a level's other needs lets one need rise
    by 1e-3: a rise with ``unexplained`` near 0 is that amplification, one that stays is a
    need fixed too low. It is a diagnosis, not a pass: the plan's ratios raised by
    RESOLUTION are often infeasible, so no bound follows from it.

    ``exact``: every LP is solved exactly (QSopt_ex from HiGHS's basis,
    :class:`solvers.ExactLP`), each hold the plan's float itself (rounded down to 40
    places): a rise is then the programme's, not the solver's tolerance (a float
    certificate's optimum may break a hold by HiGHS's 1e-7, which a level amplifies).
    """
    import pandas as pd

    d = pd.DataFrame(deliveries)
    form = build(scenario)
    needs = form.needs
    col = needs["col"].to_numpy()
    key = pd.MultiIndex.from_frame(needs[["municipality", "item", "tier"]].astype(str))
    dkey = pd.MultiIndex.from_frame(d[["municipality", "item", "tier"]].astype(str))
    ratio = pd.Series(d["ratio"].to_numpy(float), index=dkey).groupby(level=[0, 1, 2]).min()
    ratio = ratio.reindex(key).to_numpy()
    tier = needs["tier"].to_numpy()
    has = col >= 0
    # solved in the scenario's units with a weighted objective (WEIGHT). Scaled
    # (solvers.equilibrate, as before 2026-12-06) the solver's tolerance is looser on rows
    # scaled down, and its optimum can be a point the scenario's rows do not allow: a
    # generated 30 x 60 plan (seed 1) had 5 needs at 0.0101 "rise" by 3.2 together where
    # the unscaled LP, at 1e-7 and at 1e-9, finds none (0.0507 against 0.0507)
    backend = _ExactBackend() if exact else solvers.get(solver)
    backend.load(form.lp)
    lower = form.lp.col_lower.copy()
    cap = [level_seconds]  # set by the first solve unless given
    out: list[Level] = []
    for t in tiers:
        mine = has & (tier == t)
        for level in _clusters(ratio[mine], gap):
            at = mine & (np.abs(ratio - level) <= gap)
            level = float(ratio[at].max())  # the plan's own value, not a rounded one
            lo = lower.copy()
            before = has & (tier < t)
            lo[col[before]] = np.maximum(ratio[before] - slack, 0.0)
            lo[col[mine]] = np.maximum(np.minimum(ratio[mine], level) - slack, 0.0)
            lo = np.minimum(lo, form.lp.col_upper)  # a negative slack raises a need, not past 1
            c = np.zeros(form.n)
            c[col[at]] = 1.0
            backend.set_objective(c * WEIGHT, "max")
            res, loosened = _solve_held(backend, lo, lower, form.lp.col_upper, cap)
            if not res.ok:  # undecided: it fails (no rise shown, none ruled out)
                out.append(
                    Level(
                        t,
                        float(level),
                        int(at.sum()),
                        float(ratio[at].sum()),
                        np.nan,
                        loosened=loosened,
                    )
                )
                continue
            best = float(res.x @ c)
            duals = np.asarray(res.col_duals, float) / WEIGHT
            explained = -_first_order(duals, col, before | mine, at, lo, form)
            short, least = float("nan"), float("nan")
            if best - float(ratio[at].sum()) > SHORT_AFTER * max(1, int(at.sum())):
                above = mine & (ratio >= level - gap)
                held = lo.copy()  # all but the needs at or above the level
                held[col[above]] = lower[col[above]]
                short, least = _max_min(form, held, col, above, at, solver, cap, exact)
                short -= float(level)
            out.append(
                Level(
                    t, float(level), int(at.sum()), float(ratio[at].sum()), best, explained,
                    short, least, loosened,
                )
            )  # fmt: skip
    return out


def exact_levels_certificate(
    scenario: Scenario,
    deliveries,
    held: dict | None = None,
    tiers=(1, 2, 3),
    faces: bool = True,
    on_level=None,
    level_seconds: float | None = None,
) -> list[Level]:
    """The certificate of an exact plan, every LP solved exactly at the plan's exact levels.

    ``deliveries``: the plan's table (records or a DataFrame), or the exact
    :class:`planner.plan.Plan` itself (its deliveries and levels). ``held``: the plan's
    exact levels (``Plan.exact_levels``: (municipality, item, tier) -> Fraction), each
    within RESOLUTION of the ratio the plan delivers (ValueError otherwise: they are not
    this plan's). ``on_level(level, done, total)``, if given, is called after each level. For each tier and each distinct
    level ``l`` below 1, the LP of :func:`leximin_levels`, held at those rationals
    (earlier tiers at their levels, this tier's needs at ``min(level, l)``), is solved
    exactly (:class:`solvers.ExactLP`); the level passes when its optimum is exactly the
    sum of its needs' levels (``rise`` exactly 0).

    ``faces``: each passed level's optimal face is fixed from its own exact duals
    (:func:`planner.exact._fix_face`: columns of nonzero reduced cost at their values,
    rows of nonzero dual at their sides). Every later LP's bounds are at least as tight
    (its needs at that level held there), so each of its plans sums exactly to the
    passed level's optimum, is optimal there and lies on that face (complementary
    slackness): the fixes cut no plan of a later LP, whatever other levels gave, and use
    nothing the plan's rounds found, only what this certificate has proved. A level
    that does not pass fixes nothing. Without faces the generated 60 x 120 (seed 0)
    stalled at its level of 293 tied needs (HiGHS 104 s, QSopt_ex's multi-precision
    simplex 33 s; the next levels each stalled again); with them, all 63 levels in 74 s
    (bench/NOTES.md).

    ``level_seconds``: each level's exact solve is capped (by default EXACT_LEVEL_FACTOR
    x the first level's seconds, at least EXACT_LEVEL_SECONDS); a level without an
    answer within it is undecided (``best_sum`` NaN: it fails). The README's tour has
    levels whose HiGHS basis fails the rational check even at tight tolerances; QSopt_ex
    then solves them cold (:meth:`solvers.ExactLP.solve`; up to about 4.5 minutes
    each there), and after three such levels in a row the next go cold unchecked
    (``check_give_up``): all 122 levels decided in one run of 80 minutes, every rise
    exactly 0 (bench/NOTES.md, eighteenth session).
    """
    import pandas as pd

    from planner.exact import _fix_face
    from planner.plan import Plan
    from solvers import CHECK_GIVE_UP, ExactLP

    if isinstance(deliveries, Plan):
        held = deliveries.exact_levels if held is None else held
        deliveries = deliveries.deliveries
    if not held:
        raise ValueError("not an exact plan: it has no exact levels (plan it with exact=True)")
    d = pd.DataFrame(deliveries)
    form = build(scenario)
    needs = form.needs
    col = needs["col"].to_numpy()
    names = needs[["municipality", "item", "tier"]].astype(str).itertuples(index=False)
    keys = [tuple(k) for k in names]
    dkey = pd.MultiIndex.from_frame(d[["municipality", "item", "tier"]].astype(str))
    ratio = pd.Series(d["ratio"].to_numpy(float), index=dkey).groupby(level=[0, 1, 2]).min()
    tier = needs["tier"].to_numpy()
    exact = {tuple(str(v) for v in k): Fraction(v) for k, v in held.items()}
    level: list[Fraction | None] = [None] * len(keys)
    far = []
    for i, k in enumerate(keys):
        if col[i] < 0 or int(tier[i]) not in tiers:
            continue
        if k not in exact:
            raise ValueError(f"no exact level for the need {k}")
        level[i] = exact[k]
        if abs(float(ratio.get(k, np.nan)) - float(exact[k])) > RESOLUTION:
            far.append(k)
    if far:
        raise ValueError(
            f"{len(far)} exact levels are not the plan's ratios (within {RESOLUTION}), "
            f"first {far[0]}"
        )
    lp = form.lp
    # failed first checks in a row: later levels go cold at once (solvers._exact)
    ex = ExactLP(lp, check_give_up=CHECK_GIVE_UP)
    m0 = lp.A.shape[0]
    up = lp.col_upper
    out: list[Level] = []
    cap = level_seconds
    total = len({(int(tier[i]), v) for i, v in enumerate(level) if v is not None and v < 1})
    for t in tiers:
        mine = [i for i in range(len(keys)) if level[i] is not None and int(tier[i]) == t]
        before = [i for i in range(len(keys)) if level[i] is not None and int(tier[i]) < t]
        for lv in sorted({level[i] for i in mine if level[i] < 1}):
            if on_level is not None and out:
                on_level(out[-1], len(out), total)
            at = [i for i in mine if level[i] == lv]
            cols = [int(col[i]) for i in before + mine]
            lows = [level[i] for i in before] + [min(level[i], lv) for i in mine]
            ex.set_col_bounds(cols, [v if v > 0 else 0.0 for v in lows], up[cols])
            c = np.zeros(form.n)
            c[[int(col[i]) for i in at]] = WEIGHT
            ex.set_objective(c, "max")
            ex.time_limit = cap
            s0 = time.perf_counter()
            res = ex.solve()
            if cap is None:
                cap = max(EXACT_LEVEL_SECONDS, EXACT_LEVEL_FACTOR * (time.perf_counter() - s0))
            plan_sum = sum((level[i] for i in at), Fraction(0))
            if not res.ok:  # undecided (time limit, solver error): it fails
                out.append(Level(t, float(lv), len(at), float(plan_sum), np.nan))
                continue
            best = res.objective / Fraction(WEIGHT)
            # the rise itself rounded, not the two sums: a rise of 1e-20 shows
            rise = float(best - plan_sum)
            out.append(Level(t, float(lv), len(at), float(plan_sum), float(plan_sum) + rise))
            if faces and best == plan_sum:
                _fix_face(ex, res, lp, m0, -1, set())
    if on_level is not None and out:
        on_level(out[-1], len(out), total)
    return out


def _max_min(
    form, lower, col, free, at, solver: str, cap: list, exact: bool = False
) -> tuple[float, float]:
    """The best common floor of the ``free`` needs (columns held at ``lower``) by LP.

    Returns the floor and the least share of the floor rows' duals (they sum to 1) on a
    need in ``at``. Weighted like the certificate LP (WEIGHT), in the scenario's units.
    """
    lp = form.lp
    n, cols = form.n, col[free]
    k = len(cols)
    rows = np.arange(k)
    F = sp.csr_array(
        (np.r_[np.ones(k), -np.ones(k)], (np.r_[rows, rows], np.r_[cols, np.full(k, n)])),
        shape=(k, n + 1),
    )
    A = sp.vstack([sp.hstack([lp.A, sp.csr_array((lp.A.shape[0], 1))]), F], format="csr")
    c = np.zeros(n + 1)
    c[n] = WEIGHT
    prog = solvers.LinearProgram(
        c=c,
        A=A,
        row_lower=np.r_[lp.row_lower, np.zeros(k)],
        row_upper=np.r_[lp.row_upper, np.full(k, np.inf)],
        col_lower=np.r_[lower, 0.0],
        col_upper=np.r_[lp.col_upper, 1.0],
        sense="max",
    )
    backend = _ExactBackend() if exact else solvers.get(solver)
    backend.load(prog)
    res, _ = _solve_held(backend, prog.col_lower, np.r_[lp.col_lower, 0.0], prog.col_upper, cap)
    if not res.ok:
        return float("nan"), float("nan")
    y = np.abs(np.nan_to_num(np.asarray(res.row_duals, float)[lp.A.shape[0] :]))
    y = y / max(float(y.sum()), 1e-300)
    share = y[np.isin(cols, col[at])]
    return float(res.x[n]), float(share.min()) if len(share) else float("nan")


class _ExactBackend:
    """The few backend calls the certificate makes, answered by exact LP (solvers._exact)."""

    _STATUS = {
        "optimal": solvers.Status.OPTIMAL,
        "infeasible": solvers.Status.INFEASIBLE,
        "unbounded": solvers.Status.UNBOUNDED,
        "time_limit": solvers.Status.TIME_LIMIT,
    }

    def load(self, lp) -> None:
        from solvers import ExactLP

        self.ex = ExactLP(lp)
        self.m, self.n = lp.A.shape

    def set_objective(self, c, sense: str) -> None:
        self.ex.set_objective(c, sense)

    def set_col_bounds(self, cols, lower, upper) -> None:
        # a hold is the plan's float itself (its exact binary value, written in
        # full), not the shortest decimal that prints it, which may lie above it and
        # above what the programme allows (an exact 30 x 60 plan's holds were then
        # infeasible at every level, and loosened by 1e-12 its rises were that amplified)
        # only the columns whose bounds changed since the last call (the certificate
        # passes every column at each level; the holds are a few hundred of them)
        cols = np.asarray(cols)
        lower, upper = np.asarray(lower, float), np.asarray(upper, float)
        moved = (lower != self.ex.col_lower[cols]) | (upper != self.ex.col_upper[cols])
        cols, lower, upper = cols[moved], lower[moved], upper[moved]
        base = self.ex.lp.col_lower[cols]
        held = [
            Fraction(float(v)) if v != b and np.isfinite(v) else v
            for v, b in zip(lower, base, strict=True)
        ]
        self.ex.set_col_bounds(cols, held, upper)

    def solve(self, time_limit=None):
        self.ex.time_limit = time_limit
        r = self.ex.solve()
        status = self._STATUS.get(r.status, solvers.Status.ERROR)
        if status is not solvers.Status.OPTIMAL:
            return solvers.Result.empty(
                status,
                self.n,
                self.m,
                r.message,
                seconds=r.highs_seconds + r.exact_seconds + r.rejected_seconds,
            )
        return solvers.Result(
            status,
            float(r.objective),
            r.x_float(),
            np.array([float(v) for v in r.row_duals]),
            np.array([float(v) for v in r.col_duals]),
            r.highs_iterations,
            r.highs_seconds + r.exact_seconds + r.rejected_seconds,
        )


def _solve_held(backend, lo: np.ndarray, base: np.ndarray, up: np.ndarray, cap: list):
    """Solve with columns held in ``[lo, up]``, then, while no optimum, ``lo`` less LOOSEN[i].

    ``base``: the columns' own lower bounds, never passed. ``cap[0]``: each solve's time
    cap; None: set here from the first solve (LEVEL_FACTOR x its seconds, at least
    LEVEL_SECONDS). Returns the last result and the loosening it was solved at.
    """
    cols = np.arange(len(lo))
    backend.set_col_bounds(cols, lo, up)
    res = backend.solve(time_limit=cap[0])
    if cap[0] is None:
        cap[0] = max(LEVEL_SECONDS, LEVEL_FACTOR * res.seconds)
    loosened = 0.0
    for loosen in LOOSEN:
        if res.ok:
            break
        backend.set_col_bounds(cols, np.maximum(lo - loosen, base), up)
        res, loosened = backend.solve(time_limit=cap[0]), loosen
    return res, loosened


def _first_order(duals, col, held, at, lo, form) -> float:
    """``sum(d * RESOLUTION)`` over held needs below their upper bound, less it on ``at``.

    The change of the certificate LP's optimum, to first order, were those needs all
    RESOLUTION higher (``d <= 0`` on a held need), against the ``at`` needs' own sum
    raised as much.
    """
    up = form.lp.col_upper[col]
    can = held & (lo[col] + RESOLUTION <= up)
    d = np.nan_to_num(duals[col[can]])
    return RESOLUTION * (float(np.minimum(d, 0.0).sum()) - int((at & can).sum()))


def _clusters(values: np.ndarray, gap: float) -> list[float]:
    """One representative per group of values within ``gap`` of the group's lowest, below 1."""
    out: list[float] = []
    for v in np.sort(values):
        if v >= 1 - gap:
            break
        if not out or v > out[-1] + gap:
            out.append(float(v))
    return out


def failures(levels: list[Level], tol: float = 1e-6) -> list[Level]:
    """The levels where the needs could rise together by more than ``tol`` per need.

    An undecided level (no optimum within the time cap, ``rise`` NaN) is among them.
    """
    return [lv for lv in levels if not lv.rise <= tol * max(1, lv.needs)]


def exact_verdict(levels: list[Level]) -> tuple[list[Level], list[Level]]:
    """An exact certificate's levels that did not pass: (risen, undecided).

    Risen: an answer whose rise is not exactly 0; undecided: no answer within the level's
    cap. The plan is proved leximin when both are empty.
    """
    undecided = [lv for lv in levels if lv.undecided]
    return [lv for lv in levels if not lv.undecided and lv.rise != 0], undecided


def unexplained(levels: list[Level], tol: float = 1e-6) -> list[Level]:
    """Failing levels whose rise the plan's last digits do not account for (``Level.unexplained``)."""
    return [lv for lv in failures(levels, tol) if not lv.unexplained <= tol * max(1, lv.needs)]

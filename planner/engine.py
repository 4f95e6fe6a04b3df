"""Lexicographic optimisation of stage specs on one solver model, edited in place.

The engine knows a :class:`solvers.LinearProgram`, a list of
:class:`planner.stages.StageSpec` and the backend's declared features (duals,
warm start, polish, hold slack, rescue backends); it knows nothing of needs,
labour or municipalities. The programme is loaded once; each stage changes
the objective, adds the rows it needs and tightens bounds, so the solver keeps
its basis and later solves start warm.

Holds. A linear stage's optimum is held by complementary slackness when the
backend gives duals and the tolerance is 0 (columns with a non-zero reduced
cost and rows with a non-zero dual are fixed at their active bound: every
optimal solution has them there), otherwise by a row ``c v <= value`` (or
``>=``) with the tolerance plus the backend's hold slack.

Max-min stages (:class:`planner.stages.MaxMin`) use the saturation method with
one routine for every sense: maximise a common floor ``t`` under
``A_k v - scale_k t >= 0`` (or ``<=`` for min) for the quantities still free;
a quantity alone on the floor or at its columns' best is fixed at the level;
floor rows with a normalised dual above ``DUAL_MIN`` propose others, which a
verification LP confirms when ``verify`` (with the floor held, push the candidates'
capped distances beyond it; those that move are free, the rest are fixed). Without
proposals (degenerate optima, a backend without duals, or ``exact``) every
quantity on the floor is verified; when all of them can move, the level itself
can rise and the round is solved again (see :meth:`Engine._blocked`).

Precise levels (``PRECISE``; the default with HiGHS since 2026-12-06, ``precise=False``
or ``planner solve --no-precise`` for the classic rounds, CLASSIC): each round's objective
weighted (``floor_weight=FLOOR_WEIGHT``: a level in [0, 1] is worth little per unit of
a good, and unweighted the solver's dual tolerance hides the flows that would raise
it), levels under ZERO_BELOW held at 0, and each round's optimal face fixed by
complementary slackness (``face_rounds``: later rounds then meet the face's implicit
equalities as bounds, not as a thin programme that stalls). Exact on the generated
25 x 50 confederations, not yet at every size: a generated 60 x 120 plan still has 12
failing certificate levels (bench/NOTES.md, 2026-12-06, seventh session). A round's
first result (``StageOutcome.first``: binding rows, duals) is reported per unit of the
level, not weighted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

import solvers
from planner.stages import Fix, Linear, MaxMin, StageSpec
from solvers import LinearProgram, Result, Status

GAP = 1e-7  # relative: a quantity this close to the level sits on the floor
MOVE = 1e-5  # relative: a candidate that moves this far beyond the level is free
# a max-min round's objective weight for exact levels (``Engine(floor_weight=FLOOR_WEIGHT)``): a level in [0, 1]
# is worth little per unit of a good, so reduced costs that would raise it sit under the
# solver's absolute dual tolerance (1e-7) and a round stops short (a generated 30 x 60
# plan, seed 1: a round's LP stopped at 0.0008936 warm, 0.0014668 cold; 0.0014795 cold
# with the objective times 1e3 to 1e9, primal and dual simplex alike)
FLOOR_WEIGHT = 1e6
ZERO_BELOW = 1e-8  # max-stage levels below this are the solver's noise, held at 0
# face_rounds: reduced costs and duals above this times the solver's dual tolerance (on the
# weighted objective) fix a round's face (10 and 1e3 alike on generated 30 x 60 and 40 x 80
# plans; 1e5 left more levels short: bench/NOTES.md)
FACE_DUAL = 10.0
# the engine options of exact levels (planner solve --precise; docs/PLANNING.md)
PRECISE = {"floor_weight": FLOOR_WEIGHT, "zero_below": ZERO_BELOW, "face_rounds": True}
# the rounds before them (planner solve --no-precise; the default until 2026-12-06)
CLASSIC = {"floor_weight": 1.0, "zero_below": 0.0, "face_rounds": False}
DUAL_MIN = 1e-6  # interior rounds: a floor row's dual (times its scale) above this binds
CAP = 1e-4  # relative: how far a verification LP pushes each candidate at most
# how far held lower bounds are loosened, in turn, when holds leave a stage infeasible
# or without a verdict (loosening amplifies: see planner/certificate.py)
REPAIRS = (1e-12, 1e-10, 1e-8, 1e-7)
# a solve that stalled (solvers.STALLED) is repeated with the holds this much (relative)
# looser, at most STALLS times a plan (1e-7 in all, a tenth of the plans' tolerance): a
# generated 60 x 120 plan's tier-3 round, stalled for 522 s, solved in 4.1 s with its held
# needs' lower bounds 1e-8 lower (bench/NOTES.md)
STALL_SLACK = 1e-8
STALLS = 10
# ``Engine(verify_rest=k)``: a round at a level of 0 (within ZERO_BELOW) whose duals fix some of
# the quantities on its floor verifies the others at once when at least k are left. On the
# README's tour (200 x 100) 128 of tier 3's 164 rounds were at a level of 0, each fixing one
# need on its dual; with k = 8, 334 LP solves against 457 and 192 s CPU against 209 s, but on
# generated 25 x 50 (seed 12) and 40 x 80 (seed 2) plans the certificate's worst rise grew
# (1.1e-4 against 8.7e-6 per need; 0.472 against 0.316): not the default (bench/NOTES.md)
VERIFY_REST = None
# a linear stage's (min_labour, min_transport) first LP, where the warm primal attempt from the
# last basis fails: a cold solve over a pool (the flows the last optimum uses, the others
# priced exactly) before the whole programme cold (interior point on large plans). The
# README's tour (200 x 100, seed 1), one run each way: min_labour 5.6 s against 12.6 s, the
# same value; but on a generated 40 x 80 plan (seed 2) the other optimum it reaches fixes
# another face, the final polish then loosens holds twice, and the plan's certificate fails
# 15 levels, 7 unexplained, worst 0.98 per need, against 11, 1 and 0.32: not the default
# (bench/NOTES.md, eleventh session)
LINEAR_POOL = False
# max-min stages (of sense max) that start with a zero pass (Engine._zero_pass): every
# quantity that cannot leave 0 is fixed there by one verification LP (repeated on those that
# did not move), so the first LP is at a positive level and no round at 0 follows. Measured
# on the desired tier (``zero_pass=("needs:tier3",)``), which comes after the vital and
# standard needs are held: the README's tour took 335 LP solves against 457 and 175 s CPU
# against 192 s (a first version of the pass), M's tier 3 21 LP solves against 72, both with
# the same ratios to 1e-7; but on generated 25 x 50 plans (seed 11, weighted rounds without
# faces) a round after the pass stalled, the holds were loosened and the certificate then
# failed tier-2 levels, and on M's tier 2 (no such need there) the rounds after the pass
# took 108,097 iterations against 18,418. Not the default (bench/NOTES.md, eleventh session)
ZERO_PASS = None
AGAIN = 2  # a round whose every quantity on the floor can move is solved again, at most so often
# the dual tolerance of those solves, in turn (see Engine._sharpen): at HiGHS's 1e-7 a round
# of a generated 60 x 120 plan solved again stopped at the same level, and the fallback
# fixed 404 needs of which many could rise
SHARP = (1e-9, 1e-10)
LINEAR_AFTER = 2  # steps of REPAIRS the levels take in the final polish before linear holds
REFINE = 1e-10  # the tolerance of ``Engine(refine=REFINE)``: rounds' optima refined (_refined)
REFINE_MIN_ITERATIONS = 5000
FACE_TOL = 1e-7  # reduced costs and duals above this (times max |c|) fix a linear optimum

Progress = Callable[[str, int, float], None]


class StageFailed(Exception):
    """A stage could not be solved: infeasible, time limit or solver error."""

    def __init__(self, stage: str, result: Result):
        super().__init__(f"{stage}: {result.status} {result.message}")
        self.stage = stage
        self.result = result


@dataclass
class Round:
    """One saturation round: the level reached and the quantities fixed at it."""

    level: float
    fixed: np.ndarray
    how: str  # alone | bounds | dual | verified | common | fallback (see Engine._blocked)


@dataclass
class StageOutcome:
    """What one stage did: value, LP solves, seconds, iterations, rounds and its first solve."""

    name: str
    value: float | None
    solves: int
    seconds: float
    iterations: int = 0
    levels: list[float] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)
    first: Result | None = None  # the stage's first optimal solve (binding rows, duals)


@dataclass
class EngineResult:
    """The outcome of a whole policy."""

    x: np.ndarray
    outcomes: list[StageOutcome]
    duals: np.ndarray | None  # row duals of the stage that asked to keep them
    status: Status
    failed: StageFailed | None = None
    load_seconds: float = 0.0
    partial: bool = False  # a time limit stopped it; x is the last feasible point


@dataclass
class _LinearHold:
    """How a linear stage holds its optimum, so that it can give way (see Engine._repair).

    A row on its objective (``rows``, held at ``bound``: the lower for max, the upper for
    min), or a face: columns ``face_cols`` and rows ``face_rows`` fixed at ``face_at`` and
    ``face_row_at``, their bounds before in ``face_was``.
    """

    name: str
    sense: str
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    bound: np.ndarray = field(default_factory=lambda: np.zeros(0))
    face_cols: np.ndarray | None = None
    face_at: np.ndarray | None = None
    face_rows: np.ndarray | None = None
    face_row_at: np.ndarray | None = None
    face_was: tuple | None = None


class Engine:
    """Runs a list of stage specs on one backend model.

    ``floor``: the index of a column with no matrix entries, used as the floor
    ``t`` of max-min stages (parked at 0 otherwise).
    """

    def __init__(
        self,
        lp: LinearProgram,
        floor: int,
        solver: str = "highs",
        tolerance: float = 0.0,
        time_limit: float | None = None,
        progress: Progress | None = None,
        scale: str | None = None,
        rounds: str = "simplex",
        exact: bool = False,
        verify: bool = False,
        poolable: np.ndarray | None = None,
        first_cold: str = "dual",
        refine: float | None = None,
        floor_weight: float | None = None,
        zero_below: float | None = None,
        face_rounds: bool | None = None,
        face_dual: float = FACE_DUAL,
        precise: bool | None = None,
        verify_rest: int | None = VERIFY_REST,
        linear_pool: bool = LINEAR_POOL,
        zero_pass: tuple[str, ...] | None = ZERO_PASS,
        **options,
    ):
        self.options = dict(options)
        # exact levels (PRECISE) unless asked otherwise: by default with HiGHS alone (the
        # other backends were not measured with them); ``precise=False`` gives the classic
        # rounds (weight 1, no zero levels, no faces). Each option given explicitly wins.
        self.precise = (solver == "highs") if precise is None else bool(precise)
        base = PRECISE if self.precise else CLASSIC
        floor_weight = base["floor_weight"] if floor_weight is None else floor_weight
        zero_below = base["zero_below"] if zero_below is None else zero_below
        face_rounds = base["face_rounds"] if face_rounds is None else face_rounds
        # a max-min round's and verification LP's objective times this (FLOOR_WEIGHT: exact
        # levels where 1, the default, stops short; see PRECISE and docs/PLANNING.md)
        if not (np.isfinite(floor_weight) and floor_weight > 0):
            raise ValueError(f"floor_weight must be a positive number, not {floor_weight!r}")
        self.weight = float(floor_weight)
        # levels (of max stages) below this are held at 0: noise of the solver's tolerance
        # that a later stage would otherwise pay for (a plan reports ratios below 1e-8 as 0)
        if not (np.isfinite(zero_below) and zero_below >= 0):
            raise ValueError(f"zero_below must be a number >= 0, not {zero_below!r}")
        self.zero_below = float(zero_below)
        # after each max-min round, fix its optimal face in the scenario's columns and rows
        # (complementary slackness, as a linear stage's): later rounds then see as explicit
        # bounds what they would otherwise meet as implicit equalities (a thin programme)
        self.face_rounds = bool(face_rounds)
        if rounds not in ("simplex", "interior"):
            raise ValueError(f"rounds must be simplex or interior, not {rounds!r}")
        if rounds == "interior" and self.face_rounds:
            # an interior point has no basis, and its reduced costs are not exact: the
            # faces it fixed on a generated 25 x 50 (seed 11) left tier 2 at a level of 1
            # with needs at 0 (2026-12-07)
            raise ValueError("rounds='interior' cannot fix faces: use precise=False with it")
        if not (np.isfinite(face_dual) and face_dual > 0):
            raise ValueError(f"face_dual must be a positive number, not {face_dual!r}")
        self.face_dual = float(face_dual)
        # columns a cold re-solve may start without (a plan's flows; see HighsBackend._pooled)
        self.poolable = None if poolable is None else np.asarray(poolable)
        self.solver = solver
        self.backend = solvers.get(solver, **options)
        # scaled only where the backend polishes the final point at a tight tolerance:
        # the solver's tolerance on a row scaled by r is 1/r of it in the scenario's units
        if scale and "polish" in self.backend.features:
            self.scaling = solvers.equilibrate(
                lp, columns=scale == "both", keep_columns=scale == "balanced"
            )
        else:
            self.scaling = solvers.identity(lp)
        self.scaling.c[int(floor)] = 1.0  # the floor keeps its meaning (a level)
        self.original = lp
        self.lp = self.scaling.programme(lp)
        self.n = lp.num_cols  # the caller's columns
        self.N = self.n  # with the spare columns of the verification LPs (see _load)
        self.m = lp.num_rows
        self.floor = int(floor)
        self.tolerance = float(tolerance)
        self.time_limit = time_limit
        # how max-min rounds are solved: "simplex" (warm, from the last basis) or
        # "interior" (interior point without crossover: a point inside the optimal face)
        self.rounds = rounds
        # a max-min stage's first LP after earlier stages: "primal" asks the backend for the
        # primal simplex should its warm attempts fail ("dual", the default: the backend's own
        # way; "primal" is faster over six generated 60 x 120 plans but gives other plans,
        # no more leximin: bench/NOTES.md)
        if first_cold not in ("primal", "dual"):
            raise ValueError(f"first_cold must be primal or dual, not {first_cold!r}")
        self.first_cold = first_cold
        # each max-min round's optimum re-solved from its basis at this tolerance (primal and
        # dual), one capped primal simplex run, before its level and duals are used; None: not
        self.refine = refine
        self.refines = 0  # rounds whose refined level differed
        self.face_fixed = 0  # columns and rows fixed by face_rounds
        # saturation decided by verification LPs in every round (not by duals first)
        self.exact = bool(exact)
        # duals only propose saturated quantities, verification LPs confirm them, and a
        # round whose every quantity on the floor can move is solved again (exact, but
        # slower: bench/EXACTNESS.md); otherwise duals above DUAL_MIN decide alone
        self.verify = bool(verify or exact)
        # duals fix some quantities on a round's floor: the rest verified at once from this many
        if verify_rest is not None and (isinstance(verify_rest, bool) or int(verify_rest) < 1):
            raise ValueError(f"verify_rest must be a positive integer or None, not {verify_rest!r}")
        self.verify_rest = None if verify_rest is None else int(verify_rest)
        # a linear stage's first LP: after a failed warm attempt, a pool of flows before the
        # whole programme cold (backends with pools; see LINEAR_POOL)
        self.linear_pool = bool(linear_pool)
        # need stages that first fix, in one verification LP, every need that cannot leave 0
        if isinstance(zero_pass, str):
            raise ValueError(f"zero_pass must be a list of stage names or None, not {zero_pass!r}")
        self.zero_pass = frozenset(zero_pass or ())
        self.deadline: float | None = None
        self.progress = progress or (lambda stage, k, value: None)
        self.slack = float(self.backend.hold_slack)
        self.has_duals = "duals" in self.backend.features
        self.col_lower = self.lp.col_lower.copy()
        self.col_upper = self.lp.col_upper.copy()
        self.load_seconds = 0.0
        self.last: Result | None = None  # the last optimal solve
        self.duals: np.ndarray | None = None
        self.solves = 0
        self.iterations = 0
        self.repairs = 0
        self.stalls = 0  # solves that stalled and were repeated with looser holds
        # how far (relative, summed over steps) held levels were loosened by stalls and
        # repairs: a plan's ratios can sit that far below the levels its rounds found, and a
        # certificate of them sees the loosening amplified (bench/NOTES.md, twelfth session)
        self.loosened = 0.0
        self.rescues = 0
        self.verifications = 0
        self.polish_seconds = 0.0
        self.polish_iterations = 0
        self._dual_tolerance: float | None = None  # the backend's own, while sharpened
        self.ceiling = np.inf  # the floor's upper bound in a max-min stage (_set_ceiling)
        self.stop_before: str | None = None  # a stage: raise ExportDone before its first solve
        self.row_names: list[str] = []  # names of the rows the engine added, in order
        self.linear_holds: list[_LinearHold] = []  # how the linear stages hold their optima
        self.polishing = False  # in the final polish, where linear holds give way (_repair)
        self.linear_gave = False  # they did

    # ------------------------------------------------------------------ plumbing

    def _load(self, spare: int) -> None:
        """Load the scaled programme with ``spare`` extra columns (bounds [0, 0], no entries).

        Spare column ``j`` sits in the floor row of quantity ``j`` of a max-min stage
        (``A_j v - s_j t - s_j u_j >= 0``); fixed at 0 it changes nothing, and a
        verification LP frees the candidates' ones (see :meth:`_verify`).
        """
        t0 = time.perf_counter()
        lp = self.lp
        if spare:
            z = np.zeros(spare)
            lp = solvers.LinearProgram(
                c=np.concatenate([lp.c, z]),
                A=sp.hstack([lp.A, sp.csr_array((lp.num_rows, spare))], format="csr"),
                row_lower=lp.row_lower,
                row_upper=lp.row_upper,
                col_lower=np.concatenate([lp.col_lower, z]),
                col_upper=np.concatenate([lp.col_upper, z]),
                sense=lp.sense,
            )
        self.N = self.n + spare
        self.col_lower = lp.col_lower.copy()
        self.col_upper = lp.col_upper.copy()
        self.backend.load(lp)
        if self.poolable is not None and "pool" in self.backend.features:
            mask = np.zeros(self.N, bool)
            mask[self.poolable] = True
            self.backend.set_poolable(mask)
        self._set_cols(np.array([self.floor]), np.zeros(1), np.zeros(1))
        self.load_seconds = time.perf_counter() - t0

    def _left(self) -> float | None:
        return None if self.deadline is None else max(self.deadline - time.perf_counter(), 1e-3)

    def _solve(self, stage: str, method: str | None = None) -> Result:
        if self.stop_before == stage:
            raise ExportDone(stage)
        self.polishing = False
        res = self.backend.solve(time_limit=self._left(), method=method)
        while _stalled(res) and self.last is not None and self._unstall():
            res = self.backend.solve(time_limit=self._left(), method=method)
        if res.status == Status.ERROR:
            res = self._rescue(res)
        while (
            res.status in (Status.INFEASIBLE, Status.ERROR)
            and self.last is not None
            and self._repair()
        ):
            res = self.backend.solve(time_limit=self._left())
        self.solves += 1
        self.iterations += int(res.iterations or 0)
        if res.status != Status.OPTIMAL:
            raise StageFailed(stage, res)
        self.last = res
        return res

    def _repair(self) -> bool:
        """One step of repair of holds that miss feasibility at the solver's tolerance.

        Stages are solved to the stage tolerance, so a linear stage can leave a held
        level short by about that much (it gave a need held at a ratio of 3e-8 nothing,
        to save labour), and its own hold then contradicts the level at the tight
        tolerance of the final polish. Loosening the levels there by up to 1e-7 let a
        tier-1 need fall 1e-7, and the 3e-6 of a link's capacity it freed went unused
        where a tier-2 need at 0 could have had it. So in the final polish the raised
        bounds give way by the first LINEAR_AFTER steps of REPAIRS (relative, see
        :meth:`_relax_holds`), then the linear stages' holds (faces and rows on their
        objectives) by the last step at once, then the raised bounds by the rest.
        Every failed polish costs a solve that confirms it (4 to 17 s on a generated
        40 x 80 plan, seed 2, which the first two steps repair): the linear holds first
        took that plan 24.6 s against 7.5 s, and every stage in turn, latest first,
        42.7 s. Within the policy only the raised bounds give way.
        """
        ready = self.polishing and self.repairs >= LINEAR_AFTER
        if ready and not self.linear_gave and self.linear_holds:
            self.linear_gave = True
            for h in self.linear_holds:
                self._give(h, REPAIRS[-1])
            return True
        return self._relax_holds()

    def _give(self, h: _LinearHold, step: float) -> None:
        """Loosen one linear hold by ``step`` (relative): its row out, its face off its bound.

        Of a face's columns only those held at 0 that could be above it (a flow the
        stage chose not to use) move: loosening every column of a face (thousands, into
        boxes of 2e-7) left a generated 40 x 80 plan's polish without a verdict after
        18 s. Never past the bounds before the hold.
        """

        def out(v):
            return step * np.maximum(1.0, np.abs(v))

        if len(h.rows):
            inf = np.full(len(h.rows), np.inf)
            if h.sense == "max":
                self.backend.set_row_bounds(h.rows, h.bound - out(h.bound), inf)
            else:
                self.backend.set_row_bounds(h.rows, -inf, h.bound + out(h.bound))
        if h.face_cols is not None and len(h.face_cols):
            c, at, (lo, up, _, _) = h.face_cols, h.face_at, h.face_was
            z = (at == 0.0) & (lo == 0.0) & (up > 0.0)
            self._set_cols(c[z], lo[z], np.minimum(up[z], out(at[z])))
        if h.face_rows is not None and len(h.face_rows):
            r, at, (_, _, rlo, rup) = h.face_rows, h.face_row_at, h.face_was
            self.backend.set_row_bounds(
                r, np.maximum(rlo, at - out(at)), np.minimum(rup, at + out(at))
            )

    def _relax_holds(self) -> bool:
        """Loosen raised column lower bounds by the next step of REPAIRS (relative).

        Solutions are feasible only to the solver's tolerance, and many quantities
        held at their levels can add up to a programme that misses feasibility by
        about that much (seen: a generated 30 x 60 scenario, infeasible by 4e-10).
        """
        if self.repairs >= len(REPAIRS):
            return False
        step = REPAIRS[self.repairs] - (REPAIRS[self.repairs - 1] if self.repairs else 0.0)
        if not self._loosen(step):
            return False
        self.repairs += 1
        return True

    def _unstall(self) -> bool:
        """Loosen the holds by STALL_SLACK after a solve stalled (at most STALLS times)."""
        if self.stalls >= STALLS or not self._loosen(STALL_SLACK):
            return False
        self.stalls += 1
        return True

    def _loosen(self, step: float) -> bool:
        """Raised column lower bounds ``step`` lower (relative); False when there are none."""
        base = self.lp.col_lower
        cols = np.flatnonzero(self.col_lower[: self.n] > base)
        if len(cols) == 0:
            return False
        lo = self.col_lower[cols]
        new = np.maximum(base[cols], lo - step * np.maximum(1.0, np.abs(lo)))
        self._set_cols(cols, new, self.col_upper[cols])
        self.loosened += step
        return True

    def _rescue(self, failed: Result) -> Result:
        """Solve afresh, by interior point or a rescue backend, a programme left without verdict."""
        # from the backend asked for, not the one the last rescue left (a scipy backend
        # takes none of HiGHS's options: seen as a crash on a second rescue)
        tries = [(self.solver, {**self.options, "method": "ipm"})]
        tries += [(name, {}) for name in solvers.backend_class(self.solver).rescue_with]
        for name, options in tries:
            fresh = solvers.get(name, **options)
            fresh.load(self.backend.lp)
            res = fresh.solve(time_limit=self._left())
            if res.status == Status.OPTIMAL:
                self.backend = fresh
                self.rescues += 1
                return res
        return failed

    def _set_cols(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        if len(cols) == 0:
            return
        self.col_lower[cols] = lower
        self.col_upper[cols] = upper
        self.backend.set_col_bounds(cols, lower, upper)

    def _floor_objective(
        self, sense: str, lower: float = 0.0, upper: float = np.inf, near: bool = False
    ) -> None:
        c = np.zeros(self.N)
        c[self.floor] = self.weight
        self.backend.set_objective(c, sense, near=near)
        if sense == "max":
            upper = min(upper, self.ceiling)
        self._set_cols(np.array([self.floor]), np.array([lower]), np.array([upper]))

    def _set_ceiling(self, A, s, sense: str, free: np.ndarray) -> None:
        """Bound a max floor by the least best its free quantities' columns allow.

        ``t <= q_k <= best_k`` for every free k, so the optimum is unchanged; unbounded,
        the floor made HiGHS's cold dual simplex (and the crossover after interior
        point) lose its way: a generated 60 x 120 plan's tier-2 round ran 60 s to an
        objective of 58 with infinite infeasibility, where the primal simplex took
        0.3 s (the level is 0.937).
        """
        if sense != "max":
            return
        best = self._best(A, s, sense)[free]
        best = best[np.isfinite(best)]
        lower = float(self.col_lower[self.floor])
        self.ceiling = max(float(best.min()) if best.size else np.inf, lower)
        self._set_cols(np.array([self.floor]), np.array([lower]), np.array([self.ceiling]))

    def _park_floor(self) -> None:
        """Floor column back at 0, objective cleared (its rows are all switched off by then)."""
        self.ceiling = np.inf
        self._set_cols(np.array([self.floor]), np.zeros(1), np.zeros(1))
        self.backend.set_objective(np.zeros(self.N), "min")

    # ------------------------------------------------------------------ stages

    def run(self, specs: list[StageSpec]) -> EngineResult:
        """Load the programme, then run every stage in order; stop at the first that fails."""
        start = time.perf_counter()
        if self.time_limit is not None:
            self.deadline = start + float(self.time_limit)
        spare = max(
            (s.objective.A.shape[0] for s in specs if isinstance(s.objective, MaxMin)), default=0
        )
        self._load(spare)
        outcomes: list[StageOutcome] = []
        failed = None
        for spec in specs:
            t0, s0, it0 = time.perf_counter(), self.solves, self.iterations
            out = StageOutcome(spec.name, None, 0, 0.0)
            self.progress(spec.name, 0, float("nan"))
            try:
                self._run_stage(spec, out)
            except StageFailed as exc:
                failed = exc
            out.solves, out.iterations = self.solves - s0, self.iterations - it0
            out.seconds = time.perf_counter() - t0
            outcomes.append(out)
            if failed is not None:
                break
            self.progress(spec.name, -1, out.value if out.value is not None else float("nan"))
        partial = failed is not None and failed.result.status == Status.TIME_LIMIT
        if failed is None or partial:
            self._polish(final=failed is None)
        status = Status.OPTIMAL if failed is None else failed.result.status
        x = self._x()
        return EngineResult(
            x,
            outcomes,
            self.duals,
            status,
            failed,
            self.load_seconds,
            partial and self.last is not None,
        )

    def _scaled(self, obj):
        """A stage objective in the scaled programme's columns."""
        cs = self.scaling.c
        if isinstance(obj, Linear):
            return Linear(obj.c * cs, obj.sense)
        if isinstance(obj, MaxMin):
            A = sp.csr_array(sp.csr_array(obj.A) @ sp.diags(cs))
            return MaxMin(A, obj.scale, obj.sense, obj.common)
        if isinstance(obj, Fix):
            if obj.rows is None or not len(obj.rows):
                return Fix(obj.cols, obj.lower / cs[obj.cols], obj.upper / cs[obj.cols])
            rs = self.scaling.r[obj.rows]
            return Fix(
                obj.cols, obj.lower / cs[obj.cols], obj.upper / cs[obj.cols],
                obj.rows, obj.row_lower * rs, obj.row_upper * rs,
            )  # fmt: skip
        return obj

    def _pad(self, v: np.ndarray) -> np.ndarray:
        """A vector over the caller's columns, zero on the spare ones."""
        return np.concatenate([v, np.zeros(self.N - len(v))])

    def _x(self) -> np.ndarray:
        """The last solution in the original units."""
        if self.last is None:
            return np.zeros(self.n)
        return self.last.x[: self.n] * self.scaling.c

    def _run_stage(self, spec: StageSpec, out: StageOutcome) -> None:
        obj = self._scaled(spec.objective)
        if isinstance(obj, Linear):
            out.value = self._linear(spec.name, spec.keep_duals, obj, out)
        elif isinstance(obj, MaxMin):
            self._saturate(spec.name, obj, out)
            out.value = out.levels[0] if out.levels else None
        elif isinstance(obj, Fix):
            self._set_cols(obj.cols, obj.lower, obj.upper)
            if obj.rows is not None and len(obj.rows):
                self.backend.set_row_bounds(obj.rows, obj.row_lower, obj.row_upper)
            self.backend.set_objective(np.zeros(self.N), "min")
            out.first = self._solve(spec.name)
        if spec.report is not None:
            out.value = spec.report(self._x())
        if out.first is not None:
            out.first = self.scaling.result(_trim(out.first, self.n))

    def _polish(self, final: bool) -> None:
        """Re-solve the last model at the backend's tight tolerance ("polish" feature).

        Stage solves run at the solver's default tolerance; the plan must meet every
        constraint to 1e-6 relative, so the model with every hold is solved once more
        from its own basis (its solves and iterations count in the totals, not in any
        stage's). Kept only if optimal. After a time limit it gets a short allowance.
        """
        if "polish" not in self.backend.features or self.last is None:
            return
        t0 = time.perf_counter()
        limit = self._left() if final else 10.0
        self.polishing, self.linear_gave = True, False
        res = self.backend.polish(time_limit=limit)
        self.solves += 1
        self.iterations += int(res.iterations or 0)
        while res.status in (Status.INFEASIBLE, Status.ERROR) and self._repair():
            # the holds, met to the stage tolerance, can miss the tight one: loosened a hair
            res = self.backend.polish(time_limit=self._left() if final else 10.0)
            self.solves += 1
            self.iterations += int(res.iterations or 0)
        self.polish_seconds = time.perf_counter() - t0
        self.polish_iterations = int(res.iterations or 0)
        if res.status == Status.OPTIMAL:
            self.last = res

    # ------------------------------------------------------------------ linear stages

    def _linear(self, stage: str, keep_duals: bool, obj: Linear, out: StageOutcome) -> float:
        self.backend.set_objective(self._pad(obj.c), obj.sense)
        res = self._solve(stage, method="pool" if self.linear_pool else None)
        out.first = res
        value = float(obj.c @ res.x[: self.n])
        if keep_duals:
            unscaled = self.scaling.result(res)
            self.duals = unscaled.row_duals[: self.m].copy() if self.has_duals else None
        if not self._hold_face(obj.c, res, stage, obj.sense):
            self._hold_row(stage, obj.c, value, obj.sense)
        self.backend.set_objective(np.zeros(self.N), "min")
        out.levels = [value]
        return value

    def _hold_row(self, stage: str, c: np.ndarray, value: float, sense: str) -> None:
        """``c v >= value`` (max) or ``<= value`` (min), within tolerance and hold slack."""
        nz = np.flatnonzero(c)
        if len(nz) == 0:
            return
        row = sp.csr_array((c[nz], (np.zeros(len(nz), int), nz)), shape=(1, self.N))
        slack = self.tolerance * abs(value) + self.slack * max(1.0, abs(value))
        bound = value - slack if sense == "max" else value + slack
        lo, hi = (bound, np.inf) if sense == "max" else (-np.inf, bound)
        h = _LinearHold(stage, sense)
        self.linear_holds.append(h)
        h.rows = np.atleast_1d(
            self._add_rows(row, np.array([lo]), np.array([hi]), [f"hold[{stage}]"])
        )
        h.bound = np.array([bound])

    def _hold_face(self, c: np.ndarray, res: Result, stage: str, sense: str) -> bool:
        """Fix the optimal face of ``res`` by complementary slackness; False if it cannot.

        Every optimal solution keeps each column with a non-zero reduced cost at its
        bound and each row with a non-zero dual at its active bound, so those are
        fixed there (bounds only: the solution stays feasible, the next solve warm).
        """
        if self.tolerance > 0 or not self.has_duals:
            return False
        d, y = res.col_duals, res.row_duals
        if d is None or y is None or np.isnan(d).any() or np.isnan(y).any():
            return False
        tol = FACE_TOL * max(1.0, float(np.abs(c).max(initial=0.0)))
        cols = np.flatnonzero(np.abs(d[: self.n]) > tol)
        self._fix_face(stage, sense, res.x, cols, np.flatnonzero(np.abs(y) > tol))
        return True

    def _fix_face(self, stage: str, sense: str, x, cols: np.ndarray, rows: np.ndarray) -> int:
        """Fix ``cols`` and ``rows`` at the bound ``x`` is nearest (a face, as a linear hold).

        The floor column is never fixed. Returns how many columns and rows were fixed.
        """
        cols = cols[cols != self.floor]
        lo, up = self.col_lower[cols], self.col_upper[cols]
        at = np.where(np.abs(x[cols] - lo) <= np.abs(x[cols] - up), lo, up)
        keep = np.isfinite(at) & (lo < up)
        h = _LinearHold(stage, sense)
        self.linear_holds.append(h)
        h.face_cols, h.face_at = cols[keep], at[keep].copy()
        was = [lo[keep].copy(), up[keep].copy(), np.zeros(0), np.zeros(0)]
        self._set_cols(cols[keep], at[keep], at[keep])
        fixed = int(keep.sum())
        h.face_rows = np.zeros(0, int)
        if len(rows):
            lp = self.backend.lp
            rlo, rup = lp.row_lower[rows], lp.row_upper[rows]
            act = lp.A[rows] @ x
            at = np.where(np.abs(act - rlo) <= np.abs(act - rup), rlo, rup)
            keep = np.isfinite(at) & (rlo < rup)
            if keep.any():
                h.face_rows, h.face_row_at = rows[keep], at[keep].copy()
                was[2:] = [rlo[keep].copy(), rup[keep].copy()]
                self.backend.set_row_bounds(rows[keep], at[keep], at[keep])
                fixed += int(keep.sum())
        h.face_was = tuple(was)
        return fixed

    def _hold_round_face(self, stage: str, res: Result, sense: str) -> None:
        """Fix a max-min round's optimal face over the programme's own columns and rows.

        Columns (but the floor and spare ones) whose reduced cost, and rows (but floor and
        hold rows) whose dual, exceed ``face_dual`` times the solver's dual tolerance (on the
        round's weighted objective) are fixed at their active bound: every optimum of the
        round has them there. Recorded as a linear hold, so a repair can give way. Not
        under a policy tolerance (later stages may then leave the round's optimum).
        """
        if self.tolerance > 0:  # a policy's tolerance lets later stages leave the face
            return
        d, y = res.col_duals, res.row_duals
        if d is None or y is None or np.isnan(d[: self.n]).any() or np.isnan(y[: self.m]).any():
            return
        tol = self.face_dual * float(getattr(self.backend, "dual_tolerance", 1e-7))
        cols = np.flatnonzero(np.abs(d[: self.n]) > tol)
        rows = np.flatnonzero(np.abs(y[: self.m]) > tol)
        self.face_fixed += self._fix_face(stage, sense, res.x, cols, rows)

    # ------------------------------------------------------------------ max-min stages

    def _add_rows(self, A, lower, upper, names: list[str]) -> np.ndarray:
        if A.shape[1] < self.N:
            A = sp.hstack([A, sp.csr_array((A.shape[0], self.N - A.shape[1]))], format="csr")
        self.row_names += names
        return self.backend.add_rows(A, lower, upper)

    def _floor_rows(self, stage: str, A: sp.csr_array, scale: np.ndarray, sense: str, equal: bool):
        """Add ``A_k v - s_k t - s_k u_k >= 0`` (max), ``A_k v - s_k t + s_k u_k <= 0`` (min).

        (``= 0`` without ``u`` when ``equal``.) ``u_k`` is spare column ``k``, at 0
        but in verification LPs: how far quantity k gets beyond the level.
        """
        k = A.shape[0]
        A = sp.hstack([A, sp.csr_array((k, self.N - A.shape[1]))], format="csr")
        ones = np.arange(k)
        T = sp.csr_array((-scale, (ones, np.full(k, self.floor))), shape=(k, self.N))
        U = sp.csr_array(
            ((-scale if sense == "max" else scale), (ones, self.n + ones)), shape=(k, self.N)
        )
        zero, inf = np.zeros(k), np.full(k, np.inf)
        if equal:
            lo, hi, U = zero, zero, sp.csr_array((k, self.N))
        elif sense == "max":
            lo, hi = zero, inf
        else:
            lo, hi = -inf, zero
        M = sp.csr_array(A + T + U)
        rho = _row_scale(M)  # the rows' bounds are 0: scaling them is free
        names = [f"floor[{stage}#{j}]" for j in range(k)]
        return self._add_rows(sp.csr_array(sp.diags(rho) @ M), lo, hi, names), rho

    def _constant(self, A: sp.csr_array) -> np.ndarray:
        """Quantities whose every column is fixed (lower = upper): nothing can move them."""
        fixed = (self.col_lower[: self.n] >= self.col_upper[: self.n]).astype(float)
        pattern = A.copy()
        pattern.data = np.ones_like(pattern.data)
        nnz = np.diff(pattern.indptr)
        return np.asarray(pattern @ fixed).ravel() >= nnz

    def _saturate(self, stage: str, spec: MaxMin, out: StageOutcome) -> None:
        A, s, sense = sp.csr_array(spec.A), np.asarray(spec.scale, float), spec.sense
        k = A.shape[0]
        free = ~self._constant(A) if not spec.common else np.ones(k, bool)
        free0 = free.copy()
        rows, rho = self._floor_rows(stage, A, s, sense, spec.common)
        off = np.flatnonzero(~free)
        self.backend.set_row_bounds(
            rows[off], np.full(len(off), -np.inf), np.full(len(off), np.inf)
        )
        self._floor_objective(sense)
        if stage in self.zero_pass and sense == "max" and not spec.common and free.any():
            free &= ~self._zero_pass(stage, spec, A, s, rows, free, out)
        again = 0
        while free.any():
            self._set_ceiling(A, s, sense, free)
            method = "interior" if self.rounds == "interior" and not spec.common else None
            if method is None and out.first is None and self.last is not None:
                method = "primal" if self.first_cold == "primal" else None
            res = self._solve(stage, method=method)
            if out.first is None:
                out.first = _unweighted(res, self.weight)  # duals per unit of the level
            res = self._refined(stage, res)
            t = float(res.x[self.floor])
            q = (A @ res.x[: self.n]) / s
            gap = GAP * max(1.0, abs(t))
            on = free & ((q <= t + gap) if sense == "max" else (q >= t - gap))
            if spec.common:
                blocked, how = free.copy(), "common"
            else:
                blocked, how = self._blocked(stage, spec, res, rows, rho, on, q, t)
            if not blocked.any() and self.verify and again < AGAIN:
                # every quantity on the floor moved off it, each in some verification LP:
                # by convexity the level can rise; solved again from there (the floor
                # kept at t), the level rises (generated 25 x 50: 0.92227 -> 0.92491).
                # The solve stopped short: its optimality test could not see the rise
                # (reduced costs below the dual tolerance), so the next one is sharper
                self._raise_floor(sense, t)
                again += 1
                self._sharpen(again)
                continue
            self._sharpen(0)
            if not blocked.any():
                # still: the level rises by less than the solver resolves; fix the lowest
                # (of the free, should none sit within GAP of the level: an interior point)
                near = on if on.any() else free
                low = q[near].min() if sense == "max" else q[near].max()
                blocked, how = near & (np.abs(q - low) <= gap), "fallback"
            again = 0
            fix = np.flatnonzero(blocked)
            if self.face_rounds:
                self._hold_round_face(stage, res, sense)
            self._hold_quantities(stage, A, s, sense, fix, q[fix], t)
            self._close_floor(rows, fix)
            free &= ~blocked
            self._record(stage, out, t, fix, how)
        self._park_floor()
        self._constant_levels(A, s, sense, ~free0, out)

    def _constant_levels(self, A, s, sense, const: np.ndarray, out: StageOutcome) -> None:
        """Merge into ``out.levels`` the levels of quantities no round saw.

        Those are the quantities whose every column was fixed before the stage. The
        stage's value (its lowest level, its highest for a minimum) then counts every
        quantity: which columns earlier stages fix depends on the solver's path (a
        property test renamed two municipalities of a plan and the same two unmet
        desired needs, at 0, went from fixed to rounds: the stage's value from 0.75 to 0).
        """
        if not const.any():
            return
        q = (A[np.flatnonzero(const)] @ self.col_lower[: self.n]) / s[const]
        levels = list(out.levels)
        for v in np.unique(q[np.isfinite(q)]):
            if all(abs(v - u) > 1e-9 * max(1.0, abs(v)) for u in levels):
                levels.append(float(v))
        out.levels = sorted(levels, reverse=sense != "max")

    def _zero_pass(self, stage, spec: MaxMin, A, s, rows, free, out: StageOutcome) -> np.ndarray:
        """Fix at 0 the quantities that cannot leave it; returns their mask.

        One verification LP (:meth:`_verify` at a level of 0: each free quantity pushed
        above 0 by at most CAP, repeated on those that did not move): by convexity every
        quantity that can leave 0 on its own moves in it, so those that stay cannot rise
        in any plan that keeps the earlier stages. Their floor rows are switched off and
        the round recorded at 0 ("zero"); the stage's first LP then starts above 0.
        """
        stuck = self._verify(stage, A, s, spec.sense, free.copy(), 0.0)
        fix = np.flatnonzero(stuck)
        if fix.size:
            q = (A @ self.last.x[: self.n]) / s
            self._hold_quantities(stage, A, s, spec.sense, fix, q[fix], 0.0)
            self._close_floor(rows, fix)
            self._record(stage, out, 0.0, fix, "zero")
        return stuck

    def _refined(self, stage: str, res: Result) -> Result:
        """A round's optimum re-solved from its own basis at the tolerance ``refine``.

        At HiGHS's 1e-7 a round of a generated 30 x 60 plan (seed 1) stopped at a level
        of 0.7561650 where the optimum is 0.7564310 (1e-10, primal and dual, agreed by the
        scaled and unscaled programme): reduced costs under the tolerance on columns of
        1e5 units. From the round's basis, 15-42 primal simplex iterations found it. The
        refined point is kept only if optimal; otherwise the round's own.
        """
        if self.refine is None or "refine" not in self.backend.features:
            return res
        rows = self.backend.lp.num_rows
        out = self.backend.refine(self.refine, max(REFINE_MIN_ITERATIONS, rows), self._left())
        if out is None:
            return res
        self.solves += 1
        self.iterations += int(out.iterations or 0)
        if out.status != Status.OPTIMAL:
            return res
        t0, t1 = float(res.x[self.floor]), float(out.x[self.floor])
        if abs(t1 - t0) > GAP * max(1.0, abs(t0)):
            self.refines += 1
        self.last = out
        return out

    def _blocked(self, stage, spec: MaxMin, res: Result, rows, rho, on, q, t):
        """Quantities on the floor that cannot move off it: (mask, how it was decided).

        One quantity alone on the floor is the bottleneck (were it able to move, the
        level could rise); a quantity at the best its columns' bounds allow cannot
        move. Floor rows whose dual (times its scale; they add up to 1) is above
        DUAL_MIN propose quantities tight in every optimum (complementary slackness),
        but only to the solver's tolerance (a need that can still rise by ``d`` may
        carry a dual ``y`` with ``y d`` under it: y = 1e-3 on a need that could rise
        by 3e-5 on a generated 25 x 50 plan), so a verification LP (:meth:`_verify`)
        keeps those that cannot move (``verify=True``; otherwise the proposals are
        fixed as they are). Without a confirmed proposal, every quantity on the floor
        is verified; ``exact=True`` skips the proposals. Returns an empty mask when
        every quantity on the floor can move (the caller solves again or falls back).
        """
        A, s = spec.A, np.asarray(spec.scale, float)
        gap = GAP * max(1.0, abs(t))
        if on.sum() <= 1:
            return on.copy(), "alone"
        best = on & self._at_best(A, s, spec.sense, q, gap)
        moved = np.zeros_like(on)
        if not self.exact and self.has_duals:
            # the duals propose; a verification LP of the proposed alone disposes (a
            # simplex dual at the solver's tolerance is no proof: seen fixing needs of a
            # generated 25 x 50 plan that could rise from 0.930 to 1)
            y = s * rho * np.abs(np.nan_to_num(res.row_duals[rows])) / self.weight
            proposed = on & ~best & (y > DUAL_MIN)
            if not self.verify and (best | proposed).any():
                if self.verify_rest is not None and abs(t) <= ZERO_BELOW:
                    # at a level of 0, many more on the floor than the duals name (a
                    # degenerate optimum: one need a round): those that cannot move, fixed now
                    rest = on & ~best & ~proposed
                    if rest.sum() >= self.verify_rest:
                        kept = self._verify(stage, A, s, spec.sense, rest, t)
                        if kept.any():
                            return best | proposed | kept, "verified"
                return best | proposed, "dual"
            if proposed.any():
                kept = self._verify(stage, A, s, spec.sense, proposed, t)
                if kept.any() or best.any():
                    return best | kept, "dual"
                moved = proposed
        rest = on & ~best & ~moved
        if not rest.any():
            return best, "bounds"
        blocked = best | self._verify(stage, A, s, spec.sense, rest, t)
        return blocked, "verified"

    def _sharpen(self, again: int) -> None:
        """Dual tolerance of a round solved again: SHARP[again - 1]; the backend's own at 0.

        Only for backends that can set it (``set_dual_tolerance``) and only tighter
        than what the caller asked for.
        """
        set_tol = getattr(self.backend, "set_dual_tolerance", None)
        if set_tol is None:
            return
        if self._dual_tolerance is None:
            self._dual_tolerance = float(self.backend.dual_tolerance)
        tol = self._dual_tolerance if again == 0 else min(self._dual_tolerance, SHARP[again - 1])
        if tol != self.backend.dual_tolerance:
            set_tol(tol)

    def _held_floor(self, sense: str, t: float) -> float:
        """``t`` less the hold slack (more, for min), where a round holds the floor.

        A level found to the solver's tolerance, held exactly, can leave the programme
        infeasible by about that much (seen on a generated 60 x 120 plan: rounds ending
        "Unknown" with primal infeasibilities of 1e-4 to 7e3, interior point included).
        """
        slack = self.slack * max(1.0, abs(t))
        return t - slack if sense == "max" else t + slack

    def _raise_floor(self, sense: str, t: float) -> None:
        """Keep the floor at or beyond ``t``, for a round solved again."""
        if sense == "max":
            self._floor_objective(sense, lower=self._held_floor(sense, t), near=True)
        else:
            self._floor_objective(sense, lower=0.0, upper=self._held_floor(sense, t), near=True)

    def _close_floor(self, rows: np.ndarray, fix: np.ndarray) -> None:
        """Switch off the floor rows of fixed quantities."""
        inf = np.full(len(fix), np.inf)
        self.backend.set_row_bounds(rows[fix], -inf, inf)

    def _record(self, stage: str, out: StageOutcome, t: float, fix: np.ndarray, how: str) -> None:
        if not out.levels or abs(t - out.levels[-1]) > 1e-9 * max(1.0, abs(t)):
            out.levels.append(t)
        out.rounds.append(Round(t, fix, how))
        self.progress(stage, len(out.rounds), t)

    def _best(self, A, s, sense) -> np.ndarray:
        """The best value each quantity's columns' bounds allow (nan or inf when none)."""
        pos = A.copy()
        pos.data = np.maximum(pos.data, 0.0)
        neg = A.copy()
        neg.data = np.minimum(neg.data, 0.0)
        hi, lo = self.col_upper[: self.n], self.col_lower[: self.n]
        with np.errstate(invalid="ignore"):
            if sense == "max":
                return (pos @ hi + neg @ lo) / s
            return (pos @ lo + neg @ hi) / s

    def _at_best(self, A, s, sense, q: np.ndarray, gap: float) -> np.ndarray:
        """Quantities at the best value their columns' bounds allow (they cannot move on)."""
        best = self._best(A, s, sense)
        if sense == "max":
            return np.isfinite(best) & (q >= best - gap)
        return np.isfinite(best) & (q <= best + gap)

    def _verify(self, stage, A, s, sense, cand: np.ndarray, t: float) -> np.ndarray:
        """Which candidates on the floor cannot move off it without lowering another.

        With the floor held at ``t``, maximise the sum of the candidates' distances
        beyond it, each capped at CAP (the spare columns ``u``). By convexity, when
        each of several candidates can move by at least 2 CAP on its own, they can
        move together by CAP each, so one LP finds them all; those that moved by more
        than MOVE are free, and the LP is repeated on the rest until none moves: they
        then sit at ``t`` in every solution that keeps the floor (to MOVE), so they
        are blocked, whatever the duals say. May return none.
        """
        self.verifications += 1
        cand = cand.copy()
        scale = max(1.0, abs(t))
        held = self._held_floor(sense, t)
        self._set_cols(np.array([self.floor]), np.array([held]), np.array([held]))
        try:
            while cand.any():
                idx = np.flatnonzero(cand)
                self._set_cols(self.n + idx, np.zeros(len(idx)), np.full(len(idx), CAP * scale))
                c = np.zeros(self.N)
                c[self.n + idx] = self.weight
                self.backend.set_objective(c, "max", near=True)
                res = self._refined(stage, self._solve(stage))
                self._set_cols(self.n + idx, np.zeros(len(idx)), np.zeros(len(idx)))
                moved = np.zeros(len(cand), bool)
                moved[idx] = res.x[self.n + idx] > MOVE * scale
                if not moved.any():
                    return cand
                cand &= ~moved
            return cand
        finally:
            self._floor_objective(sense, near=True)

    def _hold_quantities(self, stage, A, s, sense, fix, q: np.ndarray, t: float) -> None:
        """Hold quantities ``fix`` at the level: a column bound where one column makes it.

        Held at the level or, where the solution (feasible to the solver's tolerance)
        has it a hair beyond, at its own value, so the last point stays feasible.
        """
        if not len(fix):
            return
        level = np.minimum(t, q) if sense == "max" else np.maximum(t, q)
        if sense == "max" and self.zero_below:
            level = np.where(np.abs(level) < self.zero_below, 0.0, level)
        slack = self.tolerance * np.abs(level) + self.slack * np.maximum(1.0, np.abs(level))
        bound = (level - slack if sense == "max" else level + slack) * s[fix]
        sub = sp.csr_array(A[fix])
        single = np.diff(sub.indptr) == 1
        j = np.flatnonzero(single)
        col = sub.indices[sub.indptr[j]]
        v = bound[j] / sub.data[sub.indptr[j]]
        below = (sense == "max") == (sub.data[sub.indptr[j]] > 0)  # v bounds the column below
        c, vb = col[below], v[below]
        lo = np.minimum(np.maximum(vb, self.lp.col_lower[c]), self.col_upper[c])
        # a quantity at its column's bound (a need met in full) is held there exactly
        tol = 4 * self.slack * np.maximum(1.0, np.abs(self.col_upper[c]))
        lo = np.where(self.col_upper[c] - lo <= tol, self.col_upper[c], lo)
        self._set_cols(c, lo, self.col_upper[c])
        c, va = col[~below], v[~below]
        up = np.maximum(np.minimum(va, self.col_upper[c]), self.col_lower[c])
        self._set_cols(c, self.col_lower[c], up)
        many = np.flatnonzero(~single)
        if len(many):
            inf = np.full(len(many), np.inf)
            names = [f"hold[{stage}#{j}]" for j in fix[many]]
            if sense == "max":
                self._add_rows(sub[many], bound[many], inf, names)
            else:
                self._add_rows(sub[many], -inf, bound[many], names)

    # ------------------------------------------------------------------ after the stages

    def held(self) -> LinearProgram:
        """The programme as the engine holds it, scaled, over the caller's columns."""
        lp = self.backend.lp
        n = self.n
        c = np.asarray(lp.c[:n], float)
        if c[self.floor] != 0:  # a max-min round's objective, weighted: per unit of the level
            c = c / self.weight
        return LinearProgram(
            c=c,
            A=sp.csr_array(lp.A)[:, :n],
            row_lower=lp.row_lower,
            row_upper=lp.row_upper,
            col_lower=lp.col_lower[:n],
            col_upper=lp.col_upper[:n],
            sense=lp.sense,
            offset=lp.offset,
        )

    def optimise(self, c: np.ndarray, sense: str = "min") -> Result:
        """Optimise another objective over the programme as the stages left it (their holds)."""
        self.backend.set_objective(self._pad(np.asarray(c, float) * self.scaling.c), sense)
        try:
            res = self.backend.solve(time_limit=self._left())
            return self.scaling.result(_trim(res, self.n))
        finally:
            self.backend.set_objective(np.zeros(self.N), "min")


def _row_scale(M: sp.csr_array) -> np.ndarray:
    """Powers of 2 bringing each row's largest and smallest entries around 1."""
    a = abs(M)
    mx = a.max(axis=1).toarray().ravel()
    inv = a.copy()
    inv.data = 1.0 / inv.data
    mn = 1.0 / np.maximum(inv.max(axis=1).toarray().ravel(), 1e-300)
    g = np.sqrt(np.maximum(mx, 1e-300) * np.maximum(mn, 1e-300))
    return np.exp2(-np.round(np.log2(np.where(mx > 0, g, 1.0))))


def _trim(res: Result, n: int) -> Result:
    """A result over the first ``n`` columns only."""
    return Result(
        res.status, res.objective, res.x[:n], res.row_duals, res.col_duals[:n],
        res.iterations, res.seconds, res.message,
    )  # fmt: skip


def _unweighted(res: Result, weight: float) -> Result:
    """A max-min round's result with its objective and duals per unit of the level.

    A round's objective is the floor times ``floor_weight``, so its objective and duals
    are that many times what one more unit of a constraint is worth to the level.
    """
    if weight == 1.0:
        return res

    def per(v):
        return None if v is None else np.asarray(v, float) / weight

    return Result(
        res.status, res.objective / weight, res.x, per(res.row_duals), per(res.col_duals),
        res.iterations, res.seconds, res.message,
    )  # fmt: skip


class ExportDone(Exception):
    """The engine stopped just before the first solve of ``Engine.stop_before``."""


def _stalled(res: Result) -> bool:
    """Whether a solve gave no verdict within the solver's own caps (solvers.STALLED)."""
    return res.status == Status.ERROR and res.message == solvers.STALLED

"""HiGHS through highspy: the default backend.

The whole CSR matrix goes to HiGHS in one ``passModel`` call; edits go into the
HiGHS model in place (``addRows``, ``changeColsCost``, ``changeRowsBounds``,
``changeColsBounds``, ``changeObjectiveSense``/``Offset``), so HiGHS keeps its basis
and the next simplex solve starts warm.  An infeasible or unbounded verdict is
confirmed by a second solve without presolve.  HiGHS reports duals already in the
convention of :mod:`solvers._base` (d objective / d bound in the problem's own
sense, for min and max alike), so they pass through unchanged.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque

import numpy as np

from solvers._base import COMMON_OPTIONS, Backend, LinearProgram, Result, Status, file_names

_banner = threading.Lock()
_banner_shown = False
_CONFIRM = frozenset({"kInfeasible", "kUnbounded", "kUnboundedOrInfeasible"})
# a cold solve that ends with one of these has decided; others (kUnknown, ...) are retried
_VERDICT = frozenset(
    {"kOptimal", "kInfeasible", "kUnbounded", "kModelEmpty", "kTimeLimit", "kInterrupt"}
)
# a warm solve that ends infeasible or unbounded is confirmed cold: on badly scaled
# planning models a warm primal simplex has called feasible stages infeasible
_FINAL = frozenset({"kOptimal", "kModelEmpty", "kTimeLimit", "kInterrupt"})
_DUAL, _PRIMAL = 1, 4  # HiGHS simplex_strategy: serial dual simplex, primal simplex
_ROWWISE = 2  # HiGHS MatrixFormat::kRowwise
_NO_LIMIT = 2_147_483_647
WARM = ("primal", "dual", "off")  # re-solve after bound and row edits
RESTART = ("primal", "dual", "cold")  # re-solve after a new objective
RESTART_DEFAULT = "primal"
WARM_MIN_ITERATIONS = 1000
WARM_UNCAPPED = True  # warm primal re-solves after bound edits run without a cap (measured: M 88,891 -> 59,186 iterations)
IPM_ROWS = 20_000  # from this many rows, a cold re-solve uses interior point (see _run)
POOL_WARM = 0.5  # pooling: warm primal attempts capped at this many iterations per row
POOL_WARM_MAX = 8000
"""At most this many iterations for that warm attempt before a pool (option
``pool_warm_max``; None: POOL_WARM per row alone, the default before 2026-12-05). It binds
only on programmes of more than 16,000 rows. On the README's tour (200 x 100, 18,040 rows: a
cap of 11,591) tier 3's attempts that failed at that cap took 481 s of its 788 s; with 8,000
the tour took the same path as with 5,000 (the same pools, iteration for iteration) and was
planned whole in 757.3 s (691.4 s CPU, beside the test suite), where without the cap it
stopped at its limit of 900 s beside another tour (804.7 s beside the test suite the day
before). 5,000 planned it in 632.5 s and 651.4 s, but on L (150 x 300) sent a round that
the warm primal simplex solves in 6,834 iterations to a pool whose cold dual simplex ran
412 s to its cap (L stopped at 900 s, against 525.5 s); with 8,000, L takes the default's
path, solve for solve and iteration for iteration (494.4 s). 3,000 and 2,000 took a worse
path on the tour (6 tier-3 rounds in 900 s). Generated 60 x 120 and smaller plans are
below it. bench/runs/2026-12-05-warm-cap."""
POOL_COLD = True  # within a pool, a failed warm attempt goes cold over the pool at once
POOL_COLD_METHOD = "simplex"
POOL_COLD_METHODS = ("ipm", "simplex")
"""How a pool's cold solves run (option ``pool_cold``): the dual simplex (the default) or
interior point with crossover (a basis and duals for the pricing). Ten pooled cold solves
written from a generated 60 x 120 plan's tier 3 (seed 1), solved by plain highspy: interior
point 0.33-0.67 s each; the dual simplex 0.19-0.77 s but 7.9 s on one, and no verdict in
30 s on three written from another run (presolve left it at 10 ms an iteration). That whole
plan, both ways in one run: 34.5 s with interior point against 56.9 s
(bench/runs/2026-12-03-trace). Not the default: the plans differ, and on a generated 25 x 50
plan (seed 12) interior point's is worse (second-lowest tier-2 ratio 0.70162 against 0.70272;
bench/NOTES.md)."""
POOL = ("off", "resolve", "all")  # when a cold re-solve starts from a pool of columns (_pooled)
# "resolve": after edits that keep the last point feasible (a generated 60 x 120 plan, seed
# 1: 36-69 s against more than 700 s without); "all" also after a new objective, where
# exact pricing from the last support tails off (same plan: tier 2's first LP took 545
# pricing rounds, 13 s, against 2.1 s cold over everything)
POOL_DEFAULT = "resolve"
POOL_COLD_SECONDS = 5.0  # a pool's cold solve gives up after this, or 3x the longest cold solve
POOL_STALL = True
"""Option ``pool_stall`` (True; "capped" also counts caps, below): a pool whose
every cold solve ended without a verdict (HiGHS's "Unknown" or "Solve error", not a cap),
with stalls watched (``stall``), is a stalled solve
(see STALLED): the caller loosens its holds and solves again, rather than solving the whole
programme. On the README's tour (200 x 100) such a round's pool ended "Unknown" by the dual
simplex (14.8 s) and by interior point (26.9 s), and the whole programme's interior point
then ran 224-236 s to "Unknown" as well (bench/NOTES.md)."""
_NO_VERDICT = frozenset({"kUnknown", "kSolveError"})
POOL_STALL_MODES = (False, True, "capped")
"""``pool_stall="capped"``: a pool whose cold solves all stop at their own caps (time or
iterations; see ``_caps``) is a stalled solve too, not only one without a verdict: on the
README's tour (200 x 100) such a pool (its dual simplex stopped at 5 s, interior point at
107 s) went to the whole programme, whose interior point the rate watch stopped after 306 s,
and the solve after the holds were loosened took 23 s (bench/NOTES.md)."""
POOL_WARM_RULES = {  # mode: (the warm attempt before a pool, the one inside it), see below
    "capped": ("capped", "capped"),
    "inside": ("capped", "timed"),
    "timed": ("timed", "timed"),
    "cold": ("capped", "none"),
    "timed_cold": ("timed", "none"),
    "paced": ("capped", "paced"),
    "timed_paced": ("timed", "paced"),
    "patient": ("patient", "paced"),
}
POOL_WARM_MODES = tuple(POOL_WARM_RULES)
"""The warm primal attempt before a pool (option ``pool_warm``): capped at POOL_WARM
iterations per row ("capped"), or also in time ("timed"): it gives up after as long as the
recent pools took (the median of the last POOL_RECENT, at least POOL_WARM_SECONDS), since a
pool would by then have solved the round. On the README's tour (200 x 100) tier 3's capped
attempts failed 12 times in 220 s (18 s each) where its pools took 3.4 s. With "timed" or
"inside", the warm attempt inside a pool after columns enter is timed too, at
POOL_WARM_SECONDS (there the tour's took 4-6 s for 1,000 iterations, and failed). With "cold"
(before a pool as "capped") and "timed_cold" (as "timed"), a pool makes no warm attempt once
columns have entered: it is solved cold again at once (the tour's tier 3: a pool's cold dual
simplex took 1-2 s for 8,000-12,000 iterations, since presolve drops the flows held at 0,
where the warm attempt costs 3-5 ms an iteration over every flow). With "paced" (before a
pool as "capped") and "timed_paced" (as "timed"), the warm attempt inside a pool is timed at
what the pool's last cold solve took (at least POOL_PACE_SECONDS): it never costs more than
solving the pool cold again would. "patient" is "paced" inside a pool, and before one the
warm attempt stops after POOL_PATIENCE times what the recent pools took (the median of the
last POOL_RECENT, at least POOL_WARM_SECONDS): on the tour such attempts failed after 22-102 s
where pools took 5-10 s, while on a generated 60 x 120 plan stopping them at once ("timed")
cost more in pools than it saved (bench/NOTES.md)."""
POOL_PACE_SECONDS = 0.05
POOL_PATIENCE = 3.0
# "patient" with pool_stall="capped" and pool_retry="quick" (bench mode patient_quick;
# bench/runs/2026-12-04-paced): the README's tour planned whole within 900 s in one run
# (826.6 s) and 19 rounds of tier 3 in another, where these defaults completed tier 3
# (30 rounds, 821 s) and reached 28 rounds; 60 x 120 seed 1 in 44.8 s against 36.4 s. Not
# the default: no better on the tour over two runs, and slower at 60 x 120
POOL_WARM_DEFAULT = "capped"
POOL_WARM_SECONDS = 1.0
POOL_RECENT = 5
POOL_RETRY_DEFAULT = True
POOL_RETRY_MODES = (False, True, "switch", "quick")
"""Option ``pool_retry``: a pool whose cold dual simplex gives no verdict (capped at 3x what
the recent pools' cold solves took, at least POOL_COLD_SECONDS) is solved again by interior
point with crossover (capped as a pool's cold solve was), before the whole programme is;
with "switch", once such a retry has solved a pool, later pools' cold solves are interior
point first (``pool_cold="ipm"``). The default (measured in one run, bench/NOTES.md): a
generated 60 x 120 plan (seed 1) in 45.1 s against 56.2 s, the same plan and certificate;
60 x 120 seed 0, 25 x 50 seeds 11 and 12, 15 x 30 seed 4: the same solves and iterations.
With "quick", the retry's interior point is capped as the dual simplex was (3x the recent
pools' cold solves, at least POOL_COLD_SECONDS) rather than at 3x the longest cold solve
(on the README's tour that is the whole programme's, about 32 s: retries ran 96 s each to
that cap)."""
STALL_SECONDS = 30.0
"""With ``stall=True``, a whole-programme cold solve after failed warm attempts gives up
after this (``stall="rate"``, the default, watches its iterations instead: RATE_FACTOR), or
STALL_FACTOR times the longest cold solve to optimality so far (whichever is longer), and
the solve ends ``Status.ERROR`` with the message STALLED: the caller may loosen what it
holds and solve again (planner.engine). Seen: a round of a generated 60 x 120 plan (tier 3,
rows scaled) where the cold dual simplex ran 522 s at 20 ms an iteration, and interior point
and the primal simplex gave no verdict in 60 s; with the held needs' lower bounds 1e-8
lower the same programme solved in 4.1 s."""
STALL_FACTOR = 4.0
STALLED = "no verdict within the solver's own caps (stalled)"
# stall="rate": no time cap, but a solve stops when a window of RATE_WINDOW seconds runs
# RATE_FACTOR times slower per iteration than the solve so far (after RATE_MIN_SECONDS). The
# stalled tier-3 programme of STALL_SECONDS: 0.23-0.51 ms an iteration for 6 s, then windows
# of 14-1,035 ms; a normal solve of tier 2's first LP: 0.26 ms throughout (bench/NOTES.md)
RATE_MIN_SECONDS = 5.0
RATE_WINDOW = 2.0
RATE_FACTOR = 20.0
STALL_MODES = (False, True, "rate")
STALL_DEFAULT = "rate"


class _RateWatch:
    """A HiGHS callback: interrupts a solve whose iterations suddenly slow down.

    Simplex or interior point; see RATE_FACTOR.
    """

    def __init__(self):
        self.hit = False
        self._kind = None

    def start(self) -> None:
        import time

        self.hit = False
        self._kind = None
        self._t0 = time.perf_counter()

    def __call__(self, kind, message, out, inp, user) -> None:
        import time

        import highspy

        # HiGHS keeps the flag from one solve to the next: a solve this watch stopped would
        # otherwise stop the next watched one at its first callback (seen as a solve ending
        # "Interrupted by user" at once, the engine then rescuing the programme elsewhere)
        inp.user_interrupt = False
        simplex = kind == highspy.cb.HighsCallbackType.kCallbackSimplexInterrupt
        it = out.simplex_iteration_count if simplex else out.ipm_iteration_count
        now = time.perf_counter()
        if self._kind != simplex:  # a new phase (interior point, then crossover): afresh
            self._kind, self._first, self._it0 = simplex, now, it
            self._last, self._it_last = now, it
            return
        if now - self._last < RATE_WINDOW:
            return
        done, iters = self._last - self._first, self._it_last - self._it0
        if now - self._t0 >= RATE_MIN_SECONDS and iters > 0 and done > 0:
            window = (now - self._last) / max(it - self._it_last, 1)
            if window > RATE_FACTOR * done / iters:
                self.hit = True
                inp.user_interrupt = True
        self._last, self._it_last = now, it


STAGE_TOLERANCE = 1e-7  # primal and dual feasibility tolerance of stage solves
# the final plan's: with 1e-7 on HiGHS's scaled rows a proportional plan of a generated
# 20-town scenario missed a balance by 1.9e-5 units (tests/test_robustness.py)
FINAL_TOLERANCE = 1e-9
# dual feasibility (optimality) tolerance of stage solves. At 1e-7 a max-min round of an
# unscaled generated 25 x 50 plan stopped at a level 0.00623 short (0.92029 against
# 0.92651, five methods and a one-LP-per-need reference agree on the latter): reduced
# costs of 1e-8 per unit on flows of 1e5 units are not optimal
STAGE_DUAL_TOLERANCE = 1e-7
STATUS = {  # HiGHS model status name -> ours (others: Status.ERROR)
    "kOptimal": Status.OPTIMAL,
    "kModelEmpty": Status.OPTIMAL,
    "kInfeasible": Status.INFEASIBLE,
    "kUnbounded": Status.UNBOUNDED,
    "kTimeLimit": Status.TIME_LIMIT,
    "kIterationLimit": Status.TIME_LIMIT,
}
_IIS_IRREDUCIBLE = 4  # highspy.IisStrategy.kIisStrategyIrreducible
# IisBoundStatus lower, upper, boxed; free, null and dropped bounds are not part of the IIS
_IIS_BOUNDS = (2, 3, 4)


def new_highs(verbose: bool = False):
    """A fresh ``highspy.Highs``, quiet unless ``verbose``.

    HiGHS prints a copyright banner to file descriptor 1 when the first instance of a
    process is made, before any option can be set; it would end up in the output of a
    command writing JSON to stdout, so the first construction runs with fd 1 pointed at
    /dev/null.
    """
    global _banner_shown
    import highspy

    with _banner:
        if _banner_shown or verbose:
            h = highspy.Highs()
        else:
            sys.stdout.flush()
            try:
                saved = os.dup(1)
            except OSError:
                saved = None
            try:
                if saved is not None:
                    with open(os.devnull, "w") as null:
                        os.dup2(null.fileno(), 1)
                h = highspy.Highs()
            finally:
                if saved is not None:
                    os.dup2(saved, 1)
                    os.close(saved)
        _banner_shown = True
    h.setOptionValue("output_flag", bool(verbose))
    return h


def _check(status, what: str) -> None:
    if status.name == "kError":
        raise RuntimeError(f"highs: {what} failed")


def _i32(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int32)


def _own_cap(status, deadline: float | None):
    """``kIterationLimit`` for a time limit reached before the caller's ``deadline``.

    Such a limit was a step's own cap: no verdict, so the next step runs. Any other
    status is returned as it is.
    """
    import time

    if status.name == "kTimeLimit" and (deadline is None or time.perf_counter() < deadline):
        import highspy

        return highspy.HighsModelStatus.kIterationLimit
    return status


class HighsBackend(Backend):
    """HiGHS (highspy): simplex or interior point, in-place edits, warm starts, IIS.

    Solver settings, chosen by measurement on planning models (bench/RESULTS.md):

    - a first solve (no basis yet) with ``method="choose"`` runs HiGHS's serial dual
      simplex: on the planner's stage-1 LPs it was 18x (25k columns) to 50x (150k
      columns) faster than interior point, with or without crossover, on 1 or 2
      threads; ``method="ipm"`` or ``"simplex"`` forces a method for cold solves;
      a cold re-solve after warm attempts is the other way round on large models (from
      IPM_ROWS rows it is interior point with crossover; see ``_run``);
    - tolerances: STAGE_TOLERANCE for every solve, FINAL_TOLERANCE for ``polish``;
    - a solve after in-place edits (``warm="primal"``, the default) starts from the
      previous basis with the *primal* simplex: every planner edit (a hold, a fixed
      column, a freed floor row, a new objective) keeps the last solution feasible, so
      primal simplex only has to improve it, where the dual simplex had to repair
      dual feasibility from scratch (40x slower on max-min rounds). Should the
      warm primal solve reach its cap or end without a verdict, the dual simplex
      continues from the same basis (capped), and failing that a cold solve decides;
      ``warm="dual"`` uses the dual simplex for warm solves, ``warm="off"`` solves
      every time from scratch.
    """

    name = "highs"
    features = frozenset(
        {
            "edit",
            "warm_start",
            "iis",
            "duals",
            "time_limit",
            "write_mps",
            "write_lp",
            "polish",
            "interior",
            "primal",
            "refine",
            "pool",
        }
    )
    hold_slack = 1e-9
    rescue_with = ("scipy",)  # linprog's own HiGHS set-up solved programmes ending "Unknown"
    option_names = COMMON_OPTIONS | {
        "warm",
        "restart",
        "dual_tolerance",
        "pool",
        "pool_cold",
        "pool_warm",
        "pool_retry",
        "pool_stall",
        "pool_warm_max",
        "hold_slack",
        "stall",
    }

    @classmethod
    def _probe(cls) -> bool:
        import highspy  # noqa: F401

        return True

    def __init__(self, **options):
        """See :class:`Backend`; ``threads`` sets HiGHS's ``threads`` option.

        HiGHS has one thread pool per calling thread, made at its first solve; a solve
        asking for another size fails, so we then reset that pool and solve again.
        """
        super().__init__(**options)
        self._h = new_highs(self.verbose)
        if self.threads:
            self._h.setOptionValue("threads", int(self.threads))
        # Tolerances: stage solves run at HiGHS's default 1e-7 (primal and dual
        # feasibility); at 1e-9 HiGHS warns that planning models (bounds up to 2e7
        # labour hours) are badly scaled for it, and late max-min rounds of a generated
        # 60 x 120 plan stalled for minutes in numerical trouble: the whole policy took
        # 89 s there against 11 s at 1e-7 (bench/RESULTS.md). Plans must meet every
        # constraint to 1e-6 relative (SPEC section 5): ``polish`` re-solves the final
        # model, warm, at FINAL_TOLERANCE.
        self.dual_tolerance = float(options.get("dual_tolerance") or STAGE_DUAL_TOLERANCE)
        self._tolerance(STAGE_TOLERANCE)
        # the slack a caller leaves on a held optimum (relative; see Backend.hold_slack)
        slack = options.get("hold_slack")
        if slack is not None:
            slack = float(slack)
            if not (0.0 <= slack < 1e-3):
                raise ValueError(f"hold_slack must be in [0, 1e-3), not {slack!r}")
            self.hold_slack = slack
        # whole-programme cold solves after warm attempts are watched for stalls: by the
        # rate of their iterations (the default; measured: the same plans at 60 x 120 and
        # 25 x 50, the README's tour 26 tier-3 rounds in 900 s against 6-7), by a time cap
        # (True: the tour's legitimate 30-40 s cold solves stopped at it, tier 2 took 376 s
        # against 64 s), or not at all (False); bench/NOTES.md
        self.stall = options.get("stall", STALL_DEFAULT)
        if self.stall not in STALL_MODES:
            raise ValueError(f"stall must be one of {STALL_MODES}, not {self.stall!r}")
        self._watch = None
        if self.stall == "rate":
            self._watch = _RateWatch()
            self._h.setCallback(self._watch, None)
        self._stalled = False  # the last solve stalled (see STALLED); the next is capped too
        self._after_stall = False
        self.warm = options.get("warm") or "primal"
        if self.warm not in WARM:
            raise ValueError(f"warm must be one of {WARM}, not {self.warm!r}")
        self.restart = options.get("restart") or RESTART_DEFAULT
        if self.restart not in RESTART:
            raise ValueError(f"restart must be one of {RESTART}, not {self.restart!r}")
        self._h.setOptionValue("run_crossover", "on")  # so ipm also gives a basis and duals
        self._set = {"run_crossover": "on"}
        # options as last set, so each is passed to HiGHS only when it changes
        self._basis = False
        self._new_objective = False
        self._cold_iterations = 0
        self._cold_seconds = 0.0  # the longest cold solve to optimality so far
        # the last POOL_RECENT pools' cold solves to optimality, in seconds
        self._pool_cold_seconds: deque[float] = deque(maxlen=POOL_RECENT)
        self._last_status = None  # what the last _run returned (a pool's own outcome)
        self.pool = options.get("pool") or POOL_DEFAULT
        if self.pool not in POOL:
            raise ValueError(f"pool must be one of {POOL}, not {self.pool!r}")
        self.pool_cold = options.get("pool_cold") or POOL_COLD_METHOD
        if self.pool_cold not in POOL_COLD_METHODS:
            raise ValueError(
                f"pool_cold must be one of {POOL_COLD_METHODS}, not {self.pool_cold!r}"
            )
        self.pool_warm = options.get("pool_warm") or POOL_WARM_DEFAULT
        if self.pool_warm not in POOL_WARM_MODES:
            raise ValueError(f"pool_warm must be one of {POOL_WARM_MODES}, not {self.pool_warm!r}")
        warm_max = options.get("pool_warm_max", POOL_WARM_MAX)
        if warm_max is not None and (
            isinstance(warm_max, bool) or not isinstance(warm_max, int) or warm_max < 1
        ):
            raise ValueError(f"pool_warm_max must be a positive integer or None, not {warm_max!r}")
        self.pool_warm_max = warm_max
        retry = options.get("pool_retry", POOL_RETRY_DEFAULT)
        if retry not in POOL_RETRY_MODES:
            raise ValueError(f"pool_retry must be one of {POOL_RETRY_MODES}, not {retry!r}")
        self.pool_retry = retry
        pool_stall = options.get("pool_stall", POOL_STALL)
        if pool_stall not in POOL_STALL_MODES:
            raise ValueError(f"pool_stall must be one of {POOL_STALL_MODES}, not {pool_stall!r}")
        self.pool_stall = pool_stall
        self._poolable: np.ndarray | None = None
        self._x_last: np.ndarray | None = None  # the last optimal point (its support seeds a pool)
        self._pooling = False
        self.pooled: list[dict] = []  # one entry per pooled cold re-solve (see _pooled)
        self._forced: list | None = None  # the steps of the next solve, set by refine

    def _tolerance(self, tol: float) -> None:
        self._h.setOptionValue("primal_feasibility_tolerance", float(tol))
        self._h.setOptionValue("dual_feasibility_tolerance", min(float(tol), self.dual_tolerance))
        self._tol = float(tol)

    def set_dual_tolerance(self, value: float) -> float:
        """Set the dual feasibility tolerance of the next solves; returns the previous one."""
        old = self.dual_tolerance
        self.dual_tolerance = float(value)
        self._tolerance(self._tol)
        return old

    def refine(
        self, tolerance: float, iterations: int, time_limit: float | None = None
    ) -> Result | None:
        """One primal simplex run from the last basis at ``tolerance`` (primal and dual).

        Capped at ``iterations``: the optimum of a solve at the stage tolerance, made
        exact where a cheap step makes it so. None without a basis; the result otherwise
        (optimal or not; the basis is where the run stopped).
        """
        if not self._basis:
            return None
        old, old_tol = self.dual_tolerance, self._tol
        self.dual_tolerance = min(old, float(tolerance))
        self._tolerance(min(old_tol, float(tolerance)))
        self._forced = [(_PRIMAL, int(iterations), "simplex")]
        try:
            return self.solve(time_limit=time_limit)
        finally:
            self._forced = None
            self.dual_tolerance = old
            self._tolerance(old_tol)

    def polish(self, time_limit: float | None = None) -> Result:
        """Re-solve the current programme at FINAL_TOLERANCE, warm from the last basis."""
        self._tolerance(FINAL_TOLERANCE)
        try:
            return self.solve(time_limit=time_limit)
        finally:
            self._tolerance(STAGE_TOLERANCE)

    @staticmethod
    def _sense(sense: str):
        import highspy

        return highspy.ObjSense.kMaximize if sense == "max" else highspy.ObjSense.kMinimize

    def _load(self, lp: LinearProgram) -> None:
        # The array form of passModel (Highs::passModel(num_col, ..., integrality)) copies
        # each array once; filling a HighsLp field by field first copied them twice and
        # took 4x as long (generated 60 x 120: 9.5 ms against 2.2 ms, bench/RESULTS.md).
        # Integrality all zeros is HiGHS's "continuous": the model stays an LP.
        A = lp.A
        f64 = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
        _check(
            self._h.passModel(
                lp.num_cols,
                lp.num_rows,
                int(A.nnz),
                _ROWWISE,
                -1 if lp.sense == "max" else 1,
                float(lp.offset),
                f64(lp.c),
                f64(lp.col_lower),
                f64(lp.col_upper),
                f64(lp.row_lower),
                f64(lp.row_upper),
                _i32(A.indptr),
                _i32(A.indices),
                f64(A.data),
                np.zeros(lp.num_cols, dtype=np.int32),
            ),
            "passModel",
        )
        self._basis = False
        self._poolable = None
        self._x_last = None
        self._stalled = False

    def _add_rows(self, R, lower, upper, names) -> None:
        _check(
            self._h.addRows(
                R.shape[0], lower, upper, R.nnz, _i32(R.indptr[:-1]), _i32(R.indices), R.data
            ),
            "addRows",
        )

    def _set_objective(self, c, sense, offset) -> None:
        self._new_objective = not getattr(self, "objective_near", False)
        _check(self._h.changeColsCost(c.size, _i32(np.arange(c.size)), c), "changeColsCost")
        _check(self._h.changeObjectiveSense(self._sense(sense)), "changeObjectiveSense")
        _check(self._h.changeObjectiveOffset(offset), "changeObjectiveOffset")

    def _set_row_bounds(self, rows, lower, upper) -> None:
        _check(self._h.changeRowsBounds(rows.size, _i32(rows), lower, upper), "changeRowsBounds")

    def _set_col_bounds(self, cols, lower, upper) -> None:
        _check(self._h.changeColsBounds(cols.size, _i32(cols), lower, upper), "changeColsBounds")

    def _option(self, name: str, value) -> None:
        if self._set.get(name) != value:
            self._h.setOptionValue(name, value)
            self._set[name] = value

    def _run(self, time_limit: float | None, method: str):
        """One solve: warm (from the basis the last solve left) when there is one, else cold.

        After bound and row edits alone the warm solve is a primal simplex (``warm``),
        uncapped (WARM_UNCAPPED: on a generated 60 x 120 plan the whole policy took 59,186
        iterations against 88,891 with the cap below); after a new objective it follows
        ``restart``. A warm primal solve after a new objective gets an iteration cap (a fifth of the most iterations a cold solve took, at least
        WARM_MIN_ITERATIONS: a primal iteration costs several dual ones, and a stalled
        primal simplex on a degenerate start would otherwise run for minutes); the dual
        simplex carries on from where it stopped, with a cap of half the rows, or a cold
        solve does after a new objective. A cold solve
        after warm attempts is a capped dual simplex and, should that stall, interior
        point with crossover. A warm solve that ends without a verdict, or infeasible or
        unbounded, is repeated cold, which decides. With pools (``pool``, see ``_pooled``)
        a re-solve after edits gets a short warm primal attempt (POOL_WARM iterations per
        row), then a cold solve over a pool of columns, and only should that fail the
        whole programme cold.
        """
        import time

        h = self._h
        deadline = None if time_limit is None else time.perf_counter() + time_limit
        # HiGHS keeps its basis through in-place edits (they reset its info, so the
        # flag is ours: set when a solve leaves a valid basis, cleared by load)
        mode = self.warm
        fresh = self._new_objective
        if self._new_objective and self.warm != "off":
            mode = {"primal": "primal", "dual": "dual", "cold": "off"}[self.restart]
        self._new_objective = False
        cold_method = self._cold_method(method)
        steps = self._steps(mode, fresh, cold_method)
        self._pool_first(steps, method, fresh)
        self._spent = 0  # iterations of attempts before the last one
        self._after_stall = self._stalled
        self._stalled = False
        for k, (strategy, cap, how) in enumerate(steps):
            last = k == len(steps) - 1
            left = np.inf if deadline is None else max(deadline - time.perf_counter(), 1e-3)
            if how == "pool":
                status = self._pooled(None if np.isinf(left) else left)
                if self._pool_decided(status):
                    break
                continue
            before_pool = k + 1 < len(steps) and steps[k + 1][2] == "pool"
            timed, stall, left = self._caps(k, strategy, cap, left, before_pool)
            # HiGHS compares time_limit with its run clock, which adds up every run of
            # this instance: the limit of this run is what the clock reads now + left
            self._option("time_limit", left if np.isinf(left) else h.getRunTime() + left)
            if strategy is None:
                if k or mode == "off" or self._pooling:
                    h.clearSolver()  # a pool's cold solve is cold: presolve drops the flows out
                self._option("solver", "simplex" if how == "primal" else how)
                self._option("simplex_strategy", _PRIMAL if how == "primal" else _DUAL)
            else:
                self._option("solver", "simplex")
                self._option("simplex_strategy", strategy)
            self._option("simplex_iteration_limit", _NO_LIMIT if cap is None else int(cap))
            t_run = time.perf_counter()
            watched = stall and self._watch is not None
            if watched:
                self._watch_on(True)
            try:
                status = self._run_once()
            finally:
                if watched:
                    self._watch_on(False)
            info = h.getInfo()
            self._basis = info.basis_validity == 1
            self._switch(steps, k, status)
            if strategy is None and status.name == "kOptimal":
                self._cold_iterations = max(
                    self._cold_iterations, int(info.simplex_iteration_count)
                )
                self._cold_seconds = max(self._cold_seconds, time.perf_counter() - t_run)
                if self._pooling:
                    self._pool_cold_seconds.append(time.perf_counter() - t_run)
            if timed or stall:
                status = _own_cap(status, deadline)  # no verdict: the pool gives up
            self._stalled = stall and last and status.name not in _VERDICT
            if watched and self._watch.hit:
                self._stalled = True  # the rate collapsed: no other method either (see STALLED)
                break
            if (
                status.name in _FINAL
                or last
                or (strategy is None and cap is None and status.name in _VERDICT)
            ):
                break
            if status.name in _CONFIRM:
                # an infeasible verdict is confirmed cold at once (uncapped)
                steps[k + 1 :] = [(None, None, cold_method)]
            self._spent += max(0, int(info.simplex_iteration_count)) + max(
                0, int(info.ipm_iteration_count)
            )
        self._last_status = status
        return status

    def _pool_first(self, steps: list, method: str, fresh: bool) -> None:
        """After a new objective's warm attempt, a pool before the first cold step (in place).

        ``method="pool"``: a linear stage's first LP, whose warm attempt starts from an
        optimum that stays feasible; where it fails, a pool from that optimum's support
        comes before the whole programme cold (the README's tour, min_labour: 5.6 s
        against 12.6 s by interior point, the same value; bench/NOTES.md).
        """
        if not (method == "pool" and fresh and self._basis and self._may_pool(False)):
            return
        k = next((i for i, step in enumerate(steps) if step[0] is None), len(steps))
        if 0 < k < len(steps):
            steps.insert(k, (None, None, "pool"))

    def _cold_method(self, method: str) -> str:
        """``method`` for the cold steps ("choose", and "primal" before any basis: "simplex")."""
        if method in ("choose", "pool") or (method == "primal" and not self._basis):
            return "simplex"
        return method

    def _pool_decided(self, status) -> bool:
        """Whether a pool's outcome ends the solve: a verdict, or none at all (POOL_STALL)."""
        if status.name in _FINAL:
            return True
        if not (self.pool_stall and self.stall):
            return False
        capped = self.pool_stall == "capped" and status.name == "kIterationLimit"
        if status.name in _NO_VERDICT or capped:
            self._stalled = True  # the caller loosens its holds and solves again
            return True
        return False

    def _switch(self, steps: list, k: int, status) -> None:
        """With ``pool_retry="switch"``, pools go interior point first once a retry solved one."""
        if (
            self.pool_retry == "switch"
            and self._pooling
            and steps[k][2] == "ipm"
            and k > 0
            and steps[k - 1][0] is None
            and status.name == "kOptimal"
        ):
            self.pool_cold = "ipm"  # interior point solved what the dual simplex did not

    def _caps(
        self, k: int, strategy, cap, left: float, before_pool: bool = False
    ) -> tuple[bool, bool, float]:
        """(a step with its own time cap, a whole-programme step watched for stalls, its time)."""
        before, inside = POOL_WARM_RULES[self.pool_warm]
        if before_pool and before in ("timed", "patient"):
            recent = [e["seconds"] for e in self.pooled if e["status"] == "optimal"]
            if recent:
                recent = float(np.median(recent[-POOL_RECENT:]))
                if before == "patient":
                    recent *= POOL_PATIENCE
                return True, False, min(left, max(POOL_WARM_SECONDS, recent))
        elif self._pooling and strategy is not None and inside == "timed":
            # inside a pool (columns entered): every flow is still in HiGHS's model, held at
            # 0, and a warm primal iteration costs what it does over everything (the tour's
            # tier 3: 1,000 in 4-6 s, where the pool's cold solve takes 3-5 s)
            return True, False, min(left, POOL_WARM_SECONDS)
        elif self._pooling and strategy is not None and inside == "paced":
            # as long as solving the pool cold again would take (its last cold solve)
            last = self._pool_cold_seconds[-1] if self._pool_cold_seconds else POOL_WARM_SECONDS
            return True, False, min(left, max(POOL_PACE_SECONDS, last))
        # a pool's cold solves also get a time cap: an iteration cap alone did not
        # stop one (a generated 60 x 120 plan's tier 2: over 60 s under a cap of 38,313)
        timed = self._pooling and strategy is None
        # the whole programme's cold solves after warm attempts (and a solve after a stall,
        # which starts cold: it may stall again), with ``stall``: see STALLED
        stall = bool(
            (k > 0 or self._after_stall) and strategy is None and not self._pooling and self.stall
        )
        quick = self.pool_retry == "quick" or cap is not None
        if timed and self.pool_retry and self._pool_cold_seconds and quick:
            # interior point follows: the dual simplex gets 3x what the recent pools took
            recent = float(np.median(self._pool_cold_seconds))
            left = min(left, max(POOL_COLD_SECONDS, 3 * recent))
        elif timed:
            left = min(left, max(POOL_COLD_SECONDS, 3 * self._cold_seconds))
        elif stall and self._watch is None:
            left = min(left, max(STALL_SECONDS, STALL_FACTOR * self._cold_seconds))
        return timed, stall, left

    def _watch_on(self, on: bool) -> None:
        """Start (with a fresh baseline) or stop the rate watch's callbacks."""
        import highspy

        kinds = (
            highspy.cb.HighsCallbackType.kCallbackSimplexInterrupt,
            highspy.cb.HighsCallbackType.kCallbackIpmInterrupt,
        )
        for kind in kinds:
            if on:
                self._h.startCallback(kind)
            else:
                self._h.stopCallback(kind)
        if on:
            self._watch.start()

    def set_poolable(self, cols) -> None:
        """Columns (indices or mask) a cold re-solve may leave out at first: see ``_pooled``.

        For columns that tie massively and are mostly zero at an optimum (a plan's
        transport flows); ``None`` turns pooling off. Dropped by ``load``.
        """
        if cols is None:
            self._poolable = None
            return
        from solvers._pool import _mask

        self._poolable = _mask(self._shape()[1], cols, "poolable")

    def _may_pool(self, fresh: bool) -> bool:
        n = self._shape()[1]
        return (
            self.pool != "off"
            and not self._pooling
            and self._poolable is not None
            and self._x_last is not None
            and self._x_last.size == n
            and (self.pool == "all" or not fresh)
        )

    def _pooled(self, time_limit: float | None):
        """A cold re-solve over a pool of columns: the last optimum's support, priced exactly.

        Where warm attempts fail, the programme is solved cold over the poolable columns
        non-zero at the last optimal point (the planner's edits keep that point feasible)
        and every column that is not poolable; the others are held at 0 and priced with
        each restricted optimum's duals (:class:`solvers.BackendPool`, exact pricing),
        entering until none misses optimality. The whole programme is then solved from
        that basis by the primal simplex, which confirms it (no iteration when every
        column priced out). Measured on a generated 200 x 100 plan's tier-2 LP: 0.6 s
        from the optimum's support against 36-208 s for the whole LP cold (bench/POOL.md).
        """
        import time

        from solvers._pool import BackendPool

        t0 = time.perf_counter()
        spent = self._spent
        pool = None
        self._pooling = True
        try:
            pool = BackendPool(self, self._poolable, start=np.flatnonzero(self._x_last != 0.0))
            start = int(pool.inside.sum())
            self._h.clearSolver()
            self._basis = False
            res = pool.solve(time_limit=time_limit, method="simplex")
        finally:
            if pool is not None:
                out = np.flatnonzero(~pool.inside)
                if out.size:
                    self.set_col_bounds(out, pool.lower[out], pool.upper[out])
            self._pooling = False
        self._spent = spent + int(res.iterations or 0)
        entry = {
            "columns": int(self._shape()[1]),
            "start": start,
            "pool": int(pool.inside.sum()),
            "rounds": len(pool.added) + 1,
            "capped": pool.capped,
            "iterations": int(res.iterations or 0),
            "status": res.status.value,
        }
        if res.status is Status.OPTIMAL:
            h = self._h
            self._option("solver", "simplex")
            self._option("simplex_strategy", _PRIMAL)
            self._option("simplex_iteration_limit", _NO_LIMIT)
            left = (
                np.inf if time_limit is None else max(time_limit - (time.perf_counter() - t0), 1e-3)
            )
            self._option("time_limit", left if np.isinf(left) else h.getRunTime() + left)
            status = self._run_once()
            info = h.getInfo()
            self._basis = info.basis_validity == 1
            entry["confirm_iterations"] = int(info.simplex_iteration_count)
        else:
            # a step's own cap inside the pool (see _run) is no verdict either
            deadline = None if time_limit is None else t0 + time_limit
            status = _own_cap(self._last_status or self._h.getModelStatus(), deadline)
        entry["seconds"] = time.perf_counter() - t0
        self.pooled.append(entry)
        return status

    def _steps(self, mode: str, fresh: bool, cold_method: str) -> list:
        """The attempts of one solve: (simplex strategy or None for cold, cap or None, method).

        See ``_run``; "pool" is a cold solve over a pool of columns (``_pooled``).
        """
        if self._forced is not None:
            return list(self._forced)
        steps = []
        rows = max(1, self._shape()[0])
        short = max(WARM_MIN_ITERATIONS, int(POOL_WARM * rows))
        if self.pool_warm_max is not None:
            short = max(WARM_MIN_ITERATIONS, min(short, self.pool_warm_max))
        if mode == "primal" and self._basis and self._may_pool(fresh):
            # a pooled cold solve is cheap (see _pooled): a short warm attempt, then it
            steps.append((_PRIMAL, short, "simplex"))
            steps.append((None, None, "pool"))
        elif not self._basis and self._stalled and self._may_pool(fresh):
            # solved again after a stall with the holds loosened (the last point still
            # feasible): over a pool, not the whole programme cold at once (the README's
            # tour: such a re-solve by the dual simplex over everything took 155 s)
            steps.append((None, None, "pool"))
        elif mode == "primal" and self._basis and self._pooling and POOL_COLD:
            # columns entered a pool: a short warm attempt, then the pool solved cold, capped
            # as a cold solve after warm attempts is (uncapped, a generated 60 x 120 plan's
            # pool ran for minutes in tier 2 at a sharpened dual tolerance); past the cap the
            # pool gives up and the whole programme is solved (see _pooled)
            if POOL_WARM_RULES[self.pool_warm][1] != "none":
                steps.append((_PRIMAL, WARM_MIN_ITERATIONS, "simplex"))
            return steps + self._pool_cold(rows)
        elif mode != "off" and self._basis:
            cap = max(WARM_MIN_ITERATIONS, self._cold_iterations // 5)
            if WARM_UNCAPPED and not fresh:
                # generous, not unbounded: on scaled degenerate rounds a warm primal
                # simplex has stalled for minutes (generated 60 x 120, tier 2)
                cap = max(4 * WARM_MIN_ITERATIONS, 2 * self._cold_iterations, rows)
            if mode == "primal":
                steps.append((_PRIMAL, cap, "simplex"))
                if not fresh:
                    # carries on from where a capped primal stopped (after a new objective
                    # a cold solve does better: generated 60 x 120, tier 2's first round,
                    # 19,719 warm iterations in 8.1 s against 9,667 cold in 1.5 s)
                    steps.append((_DUAL, max(2 * WARM_MIN_ITERATIONS, rows // 2), "simplex"))
            else:
                steps.append((_DUAL, None, "simplex"))
        if steps and cold_method == "primal" and rows < IPM_ROWS:
            # a max-min stage's first LP, after an earlier stage's holds: the primal
            # simplex cold (stage floors of bench/results.json, generated 60 x 120 tier 3:
            # 1.37 s against 3.08 s by the dual simplex), capped; interior point decides
            steps.append((None, max(3 * self._cold_iterations, 10 * rows), "primal"))
            steps.append((None, None, "ipm"))
        elif steps and cold_method in ("simplex", "primal") and rows >= IPM_ROWS:
            # large plans: interior point with crossover (a generated 150 x 300 plan's
            # tier-2 LP: 94 s against 319 s by the dual simplex; at 60 x 120 the dual
            # simplex was faster, 1.5 s against 5.3 s)
            steps.append((None, None, "ipm"))
        elif steps and cold_method in ("simplex", "primal"):
            # after warm attempts, a cold dual simplex gets a generous cap (a few times the
            # rows, or the most a cold solve took): late max-min rounds of large plans are
            # so degenerate that it can stall for many minutes (seen: generated 60 x 120,
            # tier 3, where interior point solved the same LP in 5 s); interior point
            # with crossover then decides
            steps.append((None, max(3 * self._cold_iterations, 4 * rows), "simplex"))
            steps.append((None, None, "ipm"))
        elif self._pooling and cold_method in ("simplex", "primal"):
            # a pool's first cold solve: capped and timed as below (seen running for
            # minutes on a generated 60 x 120 plan's tier 2; the whole programme then
            # decides)
            steps += self._pool_cold(rows)
        else:
            steps.append((None, None, cold_method))
        return steps

    def _pool_cold(self, rows: int) -> list:
        """A pool's cold steps: ``pool_cold``, capped, then (``pool_retry``) interior point."""
        steps = [(None, max(3 * self._cold_iterations, 4 * rows), self.pool_cold)]
        if self.pool_retry and self.pool_cold != "ipm":
            steps.append((None, None, "ipm"))
        return steps

    def _run_once(self):
        h = self._h
        if h.run().name == "kError" and self.threads:
            # HiGHS keeps one thread pool per thread: a different ``threads`` needs a new one
            import highspy

            highspy.Highs.resetThreadScheduler(True)
            h.run()
        status = h.getModelStatus()
        if status.name in _CONFIRM:
            # presolve cannot tell infeasible from unbounded, and on badly scaled models it
            # can end "Infeasible" where the model is not (seen on a planner stage with
            # coefficients from 7e-8 to 4e5): confirm without presolve
            h.setOptionValue("presolve", "off")
            try:
                h.run()
            finally:
                h.setOptionValue("presolve", "choose")
            status = h.getModelStatus()
        if status.name in _NO_VERDICT:
            # badly scaled models (bounds 2e-5..2e6, entries 6e-4..7e6: a generated
            # 30-town scenario's fair_burden stage) end "Unknown" in postsolve; the same
            # model solves to optimality without presolve
            # (and with HiGHS's default dual tolerance: 1e-9 cannot always be reached there).
            # A pool of the README's tour (tier 3) ended "Solve error" after 13 s without
            # one iteration, by the dual simplex and by interior point alike; the whole
            # programme's interior point then ran 230-244 s to "Unknown" (bench/NOTES.md)
            h.setOptionValue("presolve", "off")
            h.setOptionValue("dual_feasibility_tolerance", max(1e-7, self._tol))
            try:
                h.run()
            finally:
                h.setOptionValue("presolve", "choose")
                h.setOptionValue("dual_feasibility_tolerance", min(self._tol, self.dual_tolerance))
            status = h.getModelStatus()
        return status

    def _interior(self, time_limit: float | None):
        """Interior point without crossover, from scratch.

        A point in the relative interior of the optimal face (strictly complementary up
        to the tolerance), with duals but no basis (the next simplex solve starts cold).
        """
        h = self._h
        h.clearSolver()
        self._stalled = False
        self._option("solver", "ipm")
        self._option("run_crossover", "off")
        self._option("simplex_iteration_limit", _NO_LIMIT)
        left = np.inf if time_limit is None else time_limit
        self._option("time_limit", left if np.isinf(left) else h.getRunTime() + left)
        try:
            status = self._run_once()
        finally:
            self._option("run_crossover", "on")
        self._basis = False
        self._new_objective = False
        self._spent = 0
        return status

    def _solve(self, time_limit, method) -> Result:
        h = self._h
        if method == "interior":
            ms = self._interior(time_limit)
        else:
            ms = self._run(time_limit, method)
        name = ms.name
        status = STATUS.get(name, Status.ERROR)
        if self._stalled:
            status = Status.ERROR  # the caller may loosen its holds (see STALLED)
        info = h.getInfo()
        counts = (
            info.simplex_iteration_count,
            info.ipm_iteration_count,
            info.crossover_iteration_count,
        )
        extra = {
            "iterations": int(sum(max(0, k) for k in counts)) + getattr(self, "_spent", 0),
            "message": STALLED if self._stalled else h.modelStatusToString(ms),
        }
        m, n = self._shape()
        if name == "kModelEmpty":
            lp = self.lp
            x = np.clip(np.zeros(n), lp.col_lower, lp.col_upper)
            return Result(status, lp.objective_value(x), x, np.zeros(m), np.zeros(n), **extra)
        feasible = info.primal_solution_status == 2  # kSolutionStatusFeasible
        if status is Status.OPTIMAL or (status is Status.TIME_LIMIT and feasible):
            sol = h.getSolution()
            x = np.asarray(sol.col_value, dtype=np.float64)
            duals = status is Status.OPTIMAL and sol.dual_valid
            if status is Status.OPTIMAL:
                self._x_last = x
            rd = np.asarray(sol.row_dual, dtype=np.float64) if duals else np.full(m, np.nan)
            cd = np.asarray(sol.col_dual, dtype=np.float64) if duals else np.full(n, np.nan)
            return Result(status, float(info.objective_function_value), x, rd, cd, **extra)
        return Result.empty(status, n, m, **extra)

    def iis(self) -> tuple[np.ndarray, np.ndarray] | None:
        """HiGHS's own IIS (strategy "irreducible"); None when the programme is feasible.

        Falls back to the elastic filter if HiGHS returns no valid IIS.
        """
        h = self._h
        status = self._run(None, "simplex").name
        if status in ("kOptimal", "kUnbounded", "kModelEmpty"):
            return None
        if status != "kInfeasible":
            raise RuntimeError(f"highs: cannot compute an IIS, the solve ended {status}")
        h.setOptionValue("iis_strategy", _IIS_IRREDUCIBLE)
        st, iis = h.getIis()
        rows = np.asarray(iis.row_index_, dtype=np.int64)[np.isin(iis.row_bound_, _IIS_BOUNDS)]
        cols = np.asarray(iis.col_index_, dtype=np.int64)[np.isin(iis.col_bound_, _IIS_BOUNDS)]
        if st.name == "kError" or not iis.valid_ or rows.size + cols.size == 0:
            return super().iis()
        return np.sort(rows), np.sort(cols)

    def _write(self, path, fmt) -> None:
        lp = self.lp
        h = self._h
        if lp.col_names is not None or lp.row_names is not None:
            hl = h.getLp()
            hl.col_names_ = file_names(lp.col_names, lp.num_cols, "c", fmt)
            hl.row_names_ = file_names(lp.row_names, lp.num_rows, "r", fmt)
            h = new_highs()
            _check(h.passModel(hl), "passModel")
        _check(h.writeModel(str(path)), f"writeModel({path})")

"""Exactness against speed: solve paths side by side, each plan with its leximin certificate.

``python -m bench.exactness [--sizes 25x50:11,25x50:12,M] [--modes default,precise,scaled]
[--limit 900] [--out bench/EXACTNESS.md]``

For each generated scenario (``MxG`` or a named size, ``:seed`` optional) and each solve
path, one process plans it with the default policy and reports wall and CPU seconds,
LP solves, simplex iterations, the plan checker's verdict and the leximin certificate
(planner.certificate: levels checked, levels failing, the largest rise per need, and of
the failing levels those whose rise the plan's last digits do not account for, with the
largest such rise per need; each failing level's cause, ``planner.certificate.Level.cause``:
the level short of its tier's max-min, a need fixed though free, or the level's last
digits amplified; beside the failing count, how many were undecided (no optimum within
the certificate's time cap) and how many found their rise only with loosened holds,
``Level.loosened``). Modes:

- ``default``: the engine's defaults (precise levels with HiGHS since 2026-12-06, eighth
  session: every other mode runs on them too, unless it sets ``precise``);
- ``classic``: the classic rounds (``precise=False``), the defaults before;
- ``precise``: HiGHS's dual feasibility tolerance at 1e-10 for every stage solve and
  saturation verified by LP (``dual_tolerance=1e-10, verify=True``, ``planner solve
  --precise`` until 2026-12-06; now ``precise_faces``);
- ``verified``: saturation verified by LP at HiGHS's own dual tolerance (``verify=True``;
  a round solved again gets a sharper one, see planner.engine.SHARP);
- ``scaled``: geometric row and column scaling of the programme (``scale="both"``);
- ``rows``: geometric row scaling only (``scale="rows"``): every column keeps its units;
  this and the other scaled modes below also stop stalled solves (``stall=True``);
- ``balanced``: the rows' factors of a joint row and column scaling, every column in its
  own units (``scale="balanced"``);
- ``unpooled``: the defaults without pools of flows (``pool="off"``);
- ``pool_ipm``: the defaults with the pools' cold solves by interior point with crossover
  (``pool_cold="ipm"``) rather than the dual simplex;
- ``slack8``, ``rows_slack8``, ``balanced_slack7``: levels held 1e-8 or 1e-7 (relative)
  short of themselves (``hold_slack``);
- ``rate`` (the defaults), ``nostall``, ``stallcap``, ``rows_rate``, ``balanced_rate``,
  ``balanced_retry`` (with ``pool_retry``): how stalled solves are
  found: by their iteration rate, not at all, by a time cap (``stall``; see
  solvers/_highs.py STALLED);
- ``timed``, ``retry``, ``timed_retry``, ``noretry``: the warm attempt before a pool of
  flows stopped after as long as the recent pools took (``pool_warm="timed"``; ``inside``:
  only the warm attempts inside a pool, after POOL_WARM_SECONDS), a pool's
  failed cold dual simplex retried by interior point (``pool_retry=True``, the default
  since 2026-12-04), both, or no retry (the default before); ``switch``, ``timed_switch``: after such a
  retry solved a pool, later pools by interior point first (``pool_retry="switch"``); see
  solvers/_highs.py POOL_WARM_MODES and POOL_RETRY_MODES; ``nopoolstall``: a pool whose
  cold solves end without a verdict gives way to the whole programme (``pool_stall=False``)
  rather than stalling (POOL_STALL, the default since 2026-12-04); ``before_1204``: neither
  the retry nor that (the defaults of 2026-12-03).

``warm5k``, ``warm3k``, ``warm2k``, ``warm_uncapped``: the warm attempt before a pool
stopped after at most 5,000, 8,000 (the default since 2026-12-05), 3,000 or 2,000
iterations, or after POOL_WARM per row alone (``pool_warm_max``, solvers/_highs.py
POOL_WARM_MAX).

``weighted``, ``weighted_only``: each max-min round's and verification LP's objective
times 1e6 (``floor_weight``), with and without levels under 1e-8 held at 0
(``zero_below``).

``weight1e2``, ``weight1e3``, ``weight1e4``: each round's objective weighted 1e2, 1e3 or
1e4 rather than 1e6 (``floor_weight``), levels under 1e-8 held at 0; with precise levels the
default, ``weight1e4`` is the defaults but the weight: fewer of HiGHS's rejected entering
candidates, less exact levels (bench/NOTES.md, tenth session).

``verify_zero``: rounds at a level of 0 verify at once what their duals leave on the floor
(``verify_rest=8``).

``first_primal``: a max-min stage's first LP after another, once its warm attempt fails, solved
cold by the primal simplex (``first_cold="primal"``; the default is the dual simplex).
``refine``, ``refine_verified``, ``refine_slack5``: every max-min round's optimum
(and verification LP's) re-solved from its basis at 1e-10 (``refine=1e-10``), alone, with
``verify=True``, and with levels held 1e-5 short (``hold_slack=1e-5``).

Each run is a child process with a time limit, so a path that stalls costs only its limit.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import time
from pathlib import Path

MODES = {
    "default": {},
    # the need stages in rational arithmetic (planner.exact: HiGHS, then QSopt_ex's check)
    "exact": {"exact": True},
    "classic": {"precise": False},  # the defaults until 2026-12-06 (eighth session)
    # rounds at a level of 0 verify what their duals leave on the floor (Engine verify_rest)
    "verify_zero": {"verify_rest": 8},
    # each max-min round's objective (and verification LP's) times 1e6, levels under 1e-8 held
    # at 0 (planner.engine.FLOOR_WEIGHT)
    "weighted": {"floor_weight": 1e6, "zero_below": 1e-8},
    "weighted_only": {"floor_weight": 1e6},
    "weighted_nopool": {"floor_weight": 1e6, "zero_below": 1e-8, "pool": "off"},
    "nopool": {"pool": "off"},
    # each max-min round's optimal face fixed by complementary slackness (Engine face_rounds)
    "face": {"face_rounds": True},
    "weighted_face": {"floor_weight": 1e6, "zero_below": 1e-8, "face_rounds": True},
    # the defaults (weighted face rounds, 2026-12-06) with the dual tolerance at 1e-10
    "tight": {"dual_tolerance": 1e-10},
    # planner solve --precise since 2026-12-06 (planner.engine.PRECISE)
    "precise_faces": {"floor_weight": 1e6, "zero_below": 1e-8, "face_rounds": True},
    "weighted_face_verified": {
        "floor_weight": 1e6,
        "zero_below": 1e-8,
        "face_rounds": True,
        "verify": True,
    },
    "weighted_face1e3": {
        "floor_weight": 1e6,
        "zero_below": 1e-8,
        "face_rounds": True,
        "face_dual": 1e3,
    },
    "weighted_face1e5": {
        "floor_weight": 1e6,
        "zero_below": 1e-8,
        "face_rounds": True,
        "face_dual": 1e5,
    },
    # the same with smaller weights: enough to lift the reduced costs above HiGHS's 1e-7
    # without asking 1e-13 of the unweighted ones (2026-12-06, sixth session)
    "weight1e2": {"floor_weight": 1e2, "zero_below": 1e-8},
    "weight1e3": {"floor_weight": 1e3, "zero_below": 1e-8},
    "weight1e4": {"floor_weight": 1e4, "zero_below": 1e-8},
    # ... and the levels held exactly (no hold slack): a level short by d lets a need held
    # with a dual y rise by d / y (sum of the level's duals 1); 40 x 80 seed 2's tier 1 has
    # y down to 5.9e-6, so d must be under 6e-12 for rises under 1e-6
    "weight1e3_exact": {"floor_weight": 1e3, "zero_below": 1e-8, "hold_slack": 0.0},
    "weighted_exact": {"floor_weight": 1e6, "zero_below": 1e-8, "hold_slack": 0.0},
    "exact_holds": {"hold_slack": 0.0},
    "precise": {"dual_tolerance": 1e-10, "verify": True},
    "verified": {"verify": True},  # verification LPs at HiGHS's own tolerance
    # verified saturation without faces (the precise weight kept): M's tier-2 fallback round
    "verified_noface": {"verify": True, "face_rounds": False},
    "scaled": {"scale": "both"},
    # geometric row scaling only, columns in the scenario's units
    "rows": {"scale": "rows", "stall": True},
    # the rows' factors of a joint row and column scaling, columns kept
    "balanced": {"scale": "balanced", "stall": True},
    "slack8": {"hold_slack": 1e-8},  # holds 1e-8 (relative) short of each level
    "rows_slack8": {"scale": "rows", "hold_slack": 1e-8, "stall": True},
    "rate": {"stall": "rate"},  # solves whose iterations slow down stopped (the default)
    "nostall": {"stall": False},  # no stall watch (the default before 2026-12-03)
    "stallcap": {"stall": True},  # stalls by a time cap (30 s or 4x the longest cold solve)
    "rows_rate": {"scale": "rows", "stall": "rate"},
    "balanced_rate": {"scale": "balanced", "stall": "rate"},
    "balanced_retry": {"scale": "balanced", "pool_retry": True},
    "balanced_slack7": {"scale": "balanced", "hold_slack": 1e-7, "stall": True},
    "pool_ipm": {"pool_cold": "ipm"},  # pools' cold solves by interior point
    "timed": {"pool_warm": "timed"},  # warm attempts before a pool stop after the pools' time
    "inside": {"pool_warm": "inside"},  # only those inside a pool, after POOL_WARM_SECONDS
    "retry": {"pool_retry": True},  # a pool's failed cold dual simplex retried by interior point
    "timed_retry": {"pool_warm": "timed", "pool_retry": True},
    "switch": {"pool_retry": "switch"},  # ... and after such a retry, pools by interior point
    "timed_switch": {"pool_warm": "timed", "pool_retry": "switch"},
    "noretry": {"pool_retry": False},  # the default before 2026-12-04
    "nopoolstall": {"pool_stall": False},  # a pool without verdict: the whole programme decides
    # the defaults of 2026-12-03
    "before_1204": {
        "pool_retry": False,
        "pool_stall": False,
        "pool_warm": "capped",
        "pool_warm_max": None,
    },
    # the defaults of 2026-12-04's first session
    "before_paced": {
        "pool_retry": True,
        "pool_stall": True,
        "pool_warm": "capped",
        "pool_warm_max": None,
    },
    "cold_inside": {"pool_warm": "cold"},  # no warm attempt inside a pool
    "fast_pools": {"pool_warm": "timed_cold", "pool_stall": "capped"},
    "cold_capped": {"pool_warm": "cold", "pool_stall": "capped"},
    "paced": {"pool_warm": "paced"},  # warm attempts inside a pool timed at its cold solve
    "paced_capped": {"pool_warm": "paced", "pool_stall": "capped"},
    "timed_capped": {"pool_warm": "timed", "pool_stall": "capped"},
    "fast_paced": {"pool_warm": "timed_paced", "pool_stall": "capped"},
    "paced_quick": {"pool_warm": "paced", "pool_stall": "capped", "pool_retry": "quick"},
    "patient_quick": {"pool_warm": "patient", "pool_stall": "capped", "pool_retry": "quick"},
    "fast_quick": {"pool_warm": "timed_paced", "pool_stall": "capped", "pool_retry": "quick"},
    "interior": {
        "rounds": "interior",
        "precise": False,
    },  # max-min rounds by interior point without crossover
    "warm5k": {"pool_warm_max": 5000},  # the warm attempt before a pool: at most 5,000 it.
    "warm_uncapped": {"pool_warm_max": None},  # before 2026-12-05: 0.5 per row alone
    "warm8k": {"pool_warm_max": 8000},
    "warm3k": {"pool_warm_max": 3000},
    "warm2k": {"pool_warm_max": 2000},
    # a max-min stage's first LP, after failed warm attempts, by the primal simplex cold
    # (Engine first_cold; the default is the dual simplex)
    "first_primal": {"first_cold": "primal"},
    # max-min rounds' optima (and verification LPs') refined at 1e-10 (Engine refine), alone,
    # with verification, and with levels held 1e-5 short
    "refine": {"refine": 1e-10},
    "refine_verified": {"refine": 1e-10, "verify": True},
    "refine_slack5": {"refine": 1e-10, "hold_slack": 1e-5},
}


def _scenario(spec: str):
    """A generated size: ``M``, ``M:1``, ``60x120:1``; its seed after a colon, else the
    size's own (bench.measure.SEEDS: the README's tour is seed 1), else 0. Until
    2026-12-06 (eighth session) ``tour`` here was seed 0, not the README's tour."""
    from bench.measure import SIZES, seed_of
    from models import generate

    name = spec.partition(":")[0]
    m, g = SIZES[name] if name in SIZES else (int(v) for v in name.split("x"))
    return generate(m, g, seed_of(spec))


def _child_cpu() -> float:
    """CPU seconds of this process and of the programs it ran (QSopt_ex's esolver)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def _run(spec: str, mode: str, queue, exact_certificate: bool = False) -> None:
    import planner
    from planner.certificate import (
        exact_levels_certificate,
        failures,
        leximin_levels,
        unexplained,
    )

    scenario = _scenario(spec)
    t0, c0 = time.perf_counter(), _child_cpu()
    solved = planner.solve(scenario, **MODES[mode])
    plan = solved.to_dict()
    row = {
        "scenario": spec,
        "mode": mode,
        "status": plan["status"],
        "seconds": time.perf_counter() - t0,
        "cpu": _child_cpu() - c0,
        "solves": plan["timings"].get("lp_solves"),
        "iterations": plan["timings"].get("iterations"),
        # held levels loosened by stalls and repairs (relative): the plan's ratios can sit
        # that far below its rounds' levels, and the certificate sees it amplified
        "hold_loosening": plan["timings"].get("hold_loosening"),
        "stages": {s["name"]: round(s["seconds"], 2) for s in plan["stages"]},
        "exact_rounds": plan["timings"].get("exact_rounds"),
        "exact_rational_iterations": plan["timings"].get("exact_rational_iterations"),
        "exact_rational_seconds": plan["timings"].get("exact_rational_seconds"),
    }
    if plan["status"] in ("optimal", "shortfall"):
        row["check"] = len(planner.check_plan(scenario, plan))
        c1 = _child_cpu()
        if exact_certificate and solved.exact_levels:  # held at the plan's own rationals
            levels = exact_levels_certificate(scenario, plan["deliveries"], solved.exact_levels)
            row["certificate"] = "exact, held at the exact levels"
        else:
            levels = leximin_levels(scenario, plan["deliveries"], exact=exact_certificate)
            row["certificate"] = "exact" if exact_certificate else "float"
        row["certificate_cpu"] = _child_cpu() - c1
        bad = failures(levels)
        row["levels"] = len(levels)
        row["failing"] = len(bad)
        row["undecided"] = sum(b.undecided for b in bad)  # no optimum in the cap
        row["loosened"] = sum(b.loosened > 0 for b in bad)  # their rise found with looser holds
        row["worst"] = max((b.rise / max(1, b.needs) for b in bad if not b.undecided), default=0.0)
        left = unexplained(levels)
        row["unexplained"] = len(left)
        row["worst_unexplained"] = max((b.unexplained / max(1, b.needs) for b in left), default=0.0)
        row["causes"] = {c: sum(b.cause == c for b in bad) for c in ("short", "free", "amplified")}
        row["lowest"] = {
            t: min((lv.level for lv in levels if lv.tier == t), default=1.0) for t in (2, 3)
        }
    queue.put(row)


def measure(spec: str, mode: str, limit: float, exact_certificate: bool = False) -> dict:
    """One scenario on one path in a child process; a row of the table."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(spec, mode, queue, exact_certificate))
    t0 = time.perf_counter()
    proc.start()
    proc.join(limit)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return {"scenario": spec, "mode": mode, "status": f"over {limit:.0f} s", "seconds": limit}
    if queue.empty():
        return {"scenario": spec, "mode": mode, "status": "failed", "seconds": 0.0}
    row = queue.get()
    row["process_seconds"] = time.perf_counter() - t0
    return row


def _cell(row: dict, key: str, fmt: str = "{}") -> str:
    v = row.get(key)
    return "–" if v is None else fmt.format(v)


def _causes(row: dict) -> str:
    c = row.get("causes")
    return "–" if not c else f"{c['short']} / {c['free']} / {c['amplified']}"


def _level(low: dict, tier: int) -> str:
    return f"{low[tier]:.9f}" if tier in low else "–"


def _undecided(r: dict) -> str:
    notes = [f"{r[k]} {k}" for k in ("undecided", "loosened") if r.get(k)]
    return f" ({', '.join(notes)})" if notes else ""


def table(rows: list[dict]) -> list[str]:
    """The Markdown table of the runs."""
    out = [
        "| scenario | path | status | wall s | CPU s | LP solves | iterations | holds loosened | "
        "check | levels | failing | short / free / amplified | worst rise / need | unexplained | "
        "worst unexplained / need | lowest tier 2 | lowest tier 3 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        low = {int(k): v for k, v in (r.get("lowest") or {}).items()}  # JSON keys are text
        out.append(
            f"| {r['scenario']} | {r['mode']} | {r['status']} | {r['seconds']:.1f} | "
            f"{_cell(r, 'cpu', '{:.1f}')} | {_cell(r, 'solves')} | {_cell(r, 'iterations')} | "
            f"{_cell(r, 'hold_loosening', '{:.2g}')} | {'pass' if r.get('check') == 0 else _cell(r, 'check', '{} problems')} | "
            f"{_cell(r, 'levels')} | {_cell(r, 'failing')}{_undecided(r)} | {_causes(r)} | "
            f"{_cell(r, 'worst', '{:.3g}')} | "
            f"{_cell(r, 'unexplained')} | {_cell(r, 'worst_unexplained', '{:.3g}')} | "
            f"{_level(low, 2)} | {_level(low, 3)} |"
        )
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.exactness", description=__doc__)
    ap.add_argument("--sizes", default="25x50:11,25x50:12,M")
    ap.add_argument("--modes", default="default,precise,scaled")
    ap.add_argument("--limit", type=float, default=900.0, help="seconds per run")
    ap.add_argument("--out", default="bench/EXACTNESS.md")
    ap.add_argument(
        "--exact-certificate",
        action="store_true",
        help="solve the certificate's LPs exactly (QSopt_ex): verdicts free of float tolerances",
    )
    args = ap.parse_args(argv)
    unknown = [m for m in args.modes.split(",") if m not in MODES]
    if unknown:
        ap.error(f"unknown mode(s) {', '.join(unknown)}; known: {', '.join(MODES)}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for spec in args.sizes.split(","):
        for mode in args.modes.split(","):
            row = measure(spec, mode, args.limit, args.exact_certificate)
            print(json.dumps(row), flush=True)
            rows.append(row)
    head = [
        "# Exactness against speed",
        "",
        f"`python -m bench.exactness --sizes {args.sizes} --modes {args.modes} "
        f"--limit {args.limit:.0f}{' --exact-certificate' if args.exact_certificate else ''}`; "
        "one child process per run, one run at a time. CPU seconds include the programs a run "
        "starts (QSopt_ex's esolver).",
        "",
    ]
    Path(args.out).write_text("\n".join(head + table(rows)) + "\n")
    Path(args.out).with_suffix(".json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()

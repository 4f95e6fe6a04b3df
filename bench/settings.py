"""Solver-setting sweeps: the measurements that chose the HiGHS settings.

``cold_sweep``: the stage-1 LP (MPS) solved cold with each method: dual simplex
(serial, and the parallel variant on 2 threads), primal simplex, interior point
with and without crossover, on 1 and 2 threads.

``warm_sweep``: the whole default policy with each way of re-solving after the
in-place edits (the backend's ``warm`` option): primal simplex from the last
basis (the default), dual simplex from the last basis, or every solve cold.
"""

from __future__ import annotations

import time

COLD = [
    # label, options
    ("dual simplex, 1 thread", {"solver": "simplex", "simplex_strategy": 1, "threads": 1}),
    ("dual simplex PAMI, 2 threads", {"solver": "simplex", "simplex_strategy": 2, "threads": 2}),
    ("primal simplex, 1 thread", {"solver": "simplex", "simplex_strategy": 4, "threads": 1}),
    ("ipm + crossover, 1 thread", {"solver": "ipm", "run_crossover": "on", "threads": 1}),
    ("ipm + crossover, 2 threads", {"solver": "ipm", "run_crossover": "on", "threads": 2}),
    ("ipm, no crossover, 2 threads", {"solver": "ipm", "run_crossover": "off", "threads": 2}),
]
WARM = [
    # label, backend options
    ("pooled", {}),  # the default: a short warm primal, then a cold solve over a pool of flows
    ("primal", {"pool": "off"}),  # warm primal (capped), then dual, then cold over everything
    ("dual", {"warm": "dual", "restart": "dual"}),  # dual simplex from the last basis (as before)
    ("off", {"warm": "off"}),  # every solve cold
]


def cold_sweep(mps, limit: float, configs=None, log=print) -> list[dict]:
    """Each configuration solves the MPS file cold; seconds, status, iterations, objective."""
    import highspy

    out = []
    for label, opts in configs or COLD:
        highspy.Highs.resetThreadScheduler(True)  # a new thread count needs a new pool
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        for k, v in opts.items():
            h.setOptionValue(k, v)
        h.setOptionValue("time_limit", float(limit))
        h.readModel(str(mps))
        t0 = time.perf_counter()
        h.run()
        secs = time.perf_counter() - t0
        info = h.getInfo()
        row = {
            "config": label,
            "status": h.getModelStatus().name.removeprefix("k"),
            "seconds": secs,
            "objective": float(info.objective_function_value),
            "simplex_iterations": int(max(0, info.simplex_iteration_count)),
            "ipm_iterations": int(max(0, info.ipm_iteration_count)),
            "crossover_iterations": int(max(0, info.crossover_iteration_count)),
            "limit": limit,
        }
        out.append(row)
        log(f"  cold {label}: {row['status']} {secs:.2f}s")
        del h
    highspy.Highs.resetThreadScheduler(True)
    return out


def warm_sweep(
    scenario, form, stages, tolerance, limit: float, modes=None, log=print
) -> list[dict]:
    """The whole policy with each re-solve mode of the HiGHS backend (engine only)."""
    from planner.engine import Engine
    from planner.stages import specs

    out = []
    chosen = [(m, o) for m, o in WARM if modes is None or m in modes]
    for mode, options in chosen:
        t0, c0 = time.perf_counter(), time.process_time()
        eng = Engine(
            form.lp, form.t_col, "highs", tolerance, limit,
            poolable=form.col_index("f"), **options,
        )  # fmt: skip
        res = eng.run(specs(form, stages))
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        row = {
            "warm": mode,
            "pooled": len(getattr(eng.backend, "pooled", ())),
            "cpu_s": cpu,
            "status": str(res.status),
            "failed_stage": res.failed.stage if res.failed else None,
            "seconds": secs,
            "lp_solves": int(eng.solves),
            "iterations": int(eng.iterations),
            "values": [o.value for o in res.outcomes],
            "limit": limit,
        }
        out.append(row)
        log(f"  policy warm={mode}: {row['status']} {secs:.2f}s, {eng.solves} solves")
    return out

"""Batches of plans timed against one plan: courses of action and mandate costs.

For each size (generated like the rest of the bench, ``bench.measure.SIZES``):
one plan of the scenario, then a batch of K courses of action around that plan
(2K candidate LPs), then every binding mandate's cost (one plan without each
binding mandate), all in the same run and on the same executor setting
(local processes by default, ``workers=0`` in this process). Each figure is
wall seconds, CPU seconds (summed over the processes that solved) and LP
iterations, and the batch's wall time as a ratio to the one plan's.

    python -m bench.batches --sizes M,L --count 5 --workers 0

``run(sizes, ...)`` returns the rows (the lead's ``make bench`` calls it).
"""

from __future__ import annotations

import argparse
import json
import time

from bench.measure import load_scenario


def _one_plan(scenario) -> dict:
    import planner

    w0, c0 = time.perf_counter(), time.process_time()
    plan = planner.solve(scenario)
    return {
        "wall": time.perf_counter() - w0,
        "cpu": time.process_time() - c0,
        "iterations": int(plan.timings.get("iterations", 0)),
        "status": plan.status,
        "message": plan.message,
        "plan": plan.to_dict(),
    }


def measure(
    name: str, count: int = 5, workers: int | None = None, seed: int = 0, log=lambda m: None
) -> dict:
    """One size: the plan, the courses of action and the mandate costs, timed.

    ``log`` is told as each part finishes.
    """
    from planner.alternatives import courses_of_action
    from planner.costs import mandate_costs

    scenario = load_scenario(name, seed)
    one = _one_plan(scenario)
    log(f"{name}: one plan {one['wall']:.2f} s wall, {one['iterations']} iterations")
    w0, c0 = time.perf_counter(), time.process_time()
    courses = courses_of_action(scenario, count=count, workers=workers, plan=one["plan"])
    c_wall, c_cpu = time.perf_counter() - w0, time.process_time() - c0
    log(f"{name}: {len(courses.courses)} courses {c_wall:.2f} s wall")
    w0, c0 = time.perf_counter(), time.process_time()
    costs = mandate_costs(scenario, plan=one["plan"], workers=workers)
    m_wall, m_cpu = time.perf_counter() - w0, time.process_time() - c0
    cb, mb = courses.batch, costs["batch"]
    # with workers=0 the tasks run here and this process's CPU time has them; else the
    # workers' CPU (each task reports its own process_time) is added to this process's
    return {
        "size": name,
        "plan": {k: one[k] for k in ("wall", "cpu", "iterations", "status", "message")},
        "courses": {
            "count": count,
            "found": len(courses.courses),
            "tasks": cb["tasks"],
            "wall": c_wall,
            "cpu": c_cpu if workers == 0 else c_cpu + cb["cpu_seconds"],
            "iterations": cb["iterations"],
            "ratio": c_wall / one["wall"],
            "cpu_ratio": (c_cpu if workers == 0 else c_cpu + cb["cpu_seconds"]) / one["cpu"],
            "distances": [round(p["distance"], 4) for p in courses.courses],
        },
        "mandate_costs": {
            "mandates": len(costs["costs"]),
            "tasks": mb["tasks"],
            "wall": m_wall,
            "cpu": m_cpu if workers == 0 else m_cpu + mb["cpu_seconds"],
            "iterations": mb["iterations"],
            "ratio": m_wall / one["wall"],
            "cpu_ratio": (m_cpu if workers == 0 else m_cpu + mb["cpu_seconds"]) / one["cpu"],
        },
    }


def run(sizes=("M",), count: int = 5, workers: int | None = None, log=print) -> list[dict]:
    """Every size in turn; each row is logged as it is measured."""
    rows = []
    for name in sizes:
        row = measure(name, count, workers, log=log)
        log(summary(row))
        rows.append(row)
    return rows


def summary(row: dict) -> str:
    """One size's figures in a line or three."""
    p, c, m = row["plan"], row["courses"], row["mandate_costs"]
    if p["status"] not in ("optimal", "shortfall"):
        return f"{row['size']}: the plan is {p['status']} ({p.get('message', '')}): no batch timed"
    return (
        f"{row['size']}: one plan {p['wall']:.2f} s wall, {p['cpu']:.2f} s CPU, "
        f"{p['iterations']} iterations\n"
        f"  {c['found']} of {c['count']} courses ({c['tasks']} plans): {c['wall']:.2f} s wall "
        f"({c['ratio']:.1f}x one plan), {c['cpu']:.2f} s CPU ({c['cpu_ratio']:.1f}x), "
        f"{c['iterations']} iterations\n"
        f"  {m['mandates']} mandate costs ({m['tasks']} plans): {m['wall']:.2f} s wall "
        f"({m['ratio']:.1f}x one plan), {m['cpu']:.2f} s CPU ({m['cpu_ratio']:.1f}x), "
        f"{m['iterations']} iterations"
    )


def main(argv=None) -> list[dict]:
    """Command line: ``python -m bench.batches --sizes M,L``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="M")
    p.add_argument("--count", type=int, default=5)
    p.add_argument(
        "--workers", type=int, default=None, help="0: in this process; default: one per CPU"
    )
    p.add_argument("--json", dest="json_out", default=None, help="write the rows here")
    a = p.parse_args(argv)
    rows = run(a.sizes.split(","), a.count, a.workers)
    if a.json_out:
        with open(a.json_out, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2)
    return rows


if __name__ == "__main__":
    main()

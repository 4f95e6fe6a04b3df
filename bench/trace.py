"""Where a plan's time goes: every HiGHS run of one plan, per stage and per kind of solve.

``python -m bench.trace M:1 --modes default,pool_ipm --limit 900 --out bench/runs/X``
plans a generated size (``M``, ``M:1``, ``60x120:1``; see bench.measure.SIZES) or a
scenario folder with each mode of bench.exactness.MODES, one child process each (so a
mode that stalls costs only its limit), and records every run of HiGHS the engine makes:
its stage, whether it ran inside a pool of flows (``HighsBackend._pooled``), its method
(warm or cold, primal or dual simplex, interior point), its iteration cap, its status,
its simplex and interior-point iterations, and its wall and CPU seconds. TRACE.md then
gives, per mode, the stages (LP solves, seconds) and the runs grouped by stage, kind and
status, the costliest first; trace.json keeps every run in order. The plan's checker
verdict is recorded; ``--certificate`` adds the leximin certificate of
``planner.certificate`` (its LPs are not traced).

A run is one ``Highs.run`` the backend makes (a warm attempt, a cold solve, a pool's
pricing re-solve, a confirmation without presolve); the engine's *LP solves* count one
per stage solve, whatever runs it took.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import queue as queues
import sys
import time
from collections import defaultdict
from pathlib import Path

_STRATEGY = {1: "dual", 2: "dual", 3: "dual", 4: "primal"}
GRACE = 300.0  # seconds a child gets beyond the plan's time limit


def _kind(run: dict) -> str:
    """'pool: cold ipm', 'warm primal', ... from one run's record."""
    where = "pool: " if run["pooled"] else ""
    if run["solver"] == "ipm":
        how = "cold interior point" + ("" if run["run_crossover"] else " (no crossover)")
    else:
        how = f"{'cold' if run['cold'] else 'warm'} {_STRATEGY.get(run['strategy'], '?')} simplex"
    return where + how + (" (capped)" if run["cap"] is not None else "")


def _install(runs: list[dict], stage: list[str]) -> None:
    """Wrap the backend's one run and the engine's stage solve to record every run."""
    from planner import engine as engine_mod
    from solvers import _highs

    run_once = _highs.HighsBackend._run_once
    solve = engine_mod.Engine._solve

    def traced_run_once(self):
        h = self._h
        opts = self._set
        cap = opts.get("simplex_iteration_limit")
        record = {
            "stage": stage[0],
            "pooled": bool(self._pooling),
            "solver": opts.get("solver", "choose"),
            "strategy": opts.get("simplex_strategy"),
            "cold": not h.getBasis().valid,  # cleared for a cold step (see HighsBackend._run)
            "run_crossover": opts.get("run_crossover", "on") == "on",
            "cap": None if cap in (None, _highs._NO_LIMIT) else int(cap),
        }
        t0, c0 = time.perf_counter(), time.process_time()
        status = run_once(self)
        info = h.getInfo()
        record.update(
            status=status.name.removeprefix("k"),
            simplex=max(0, int(info.simplex_iteration_count)),
            ipm=max(0, int(info.ipm_iteration_count)),
            crossover=max(0, int(info.crossover_iteration_count)),
            seconds=time.perf_counter() - t0,
            cpu=time.process_time() - c0,
        )
        runs.append(record)
        return status

    def traced_solve(self, name, method=None):
        stage[0] = name
        return solve(self, name, method)

    _highs.HighsBackend._run_once = traced_run_once
    engine_mod.Engine._solve = traced_solve


def _child(spec: str, mode: str, limit: float, certificate: bool, queue) -> None:
    import planner
    from bench.exactness import MODES, _scenario

    scenario = planner.load(spec) if Path(spec).exists() else _scenario(spec)
    runs: list[dict] = []
    stage = ["(none)"]
    _install(runs, stage)
    t0, c0 = time.perf_counter(), time.process_time()
    plan = planner.solve(scenario, time_limit=limit, **MODES[mode]).to_dict()
    row = {
        "scenario": spec,
        "mode": mode,
        "status": plan["status"],
        "partial": bool(plan.get("partial")),
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "solves": plan["timings"].get("lp_solves"),
        "stages": [
            {k: s.get(k) for k in ("name", "solves", "seconds", "iterations", "rounds")}
            for s in plan["stages"]
        ],
        "runs": list(runs),
    }
    if plan["status"] in ("optimal", "shortfall", "time_limit") and plan.get("deliveries"):
        row["check"] = len(planner.check_plan(scenario, plan))
    if certificate and plan["status"] in ("optimal", "shortfall"):
        from planner.certificate import failures, leximin_levels

        levels = leximin_levels(scenario, plan["deliveries"])
        bad = failures(levels)
        row["levels"], row["failing"] = len(levels), len(bad)
        row["worst"] = max((b.rise / max(1, b.needs) for b in bad), default=0.0)
        row["failures"] = [
            {
                "tier": b.tier,
                "level": b.level,
                "needs": b.needs,
                "rise": b.rise,
                "unexplained": b.unexplained,
            }
            for b in bad
        ]
    queue.put(row)


def trace(spec: str, mode: str, limit: float, certificate: bool = False) -> dict:
    """One plan in a child process: its runs, stages and verdicts (see the module)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(spec, mode, limit, certificate, queue))
    proc.start()
    # the plan stops at its time limit with the runs so far; the child is stopped later
    # (a solve that ignores its limit, the certificate, the checker)
    t0 = time.perf_counter()
    row = None
    while proc.is_alive() and time.perf_counter() - t0 < limit + GRACE:
        try:
            row = queue.get(timeout=1.0)
            break
        except queues.Empty:  # still planning
            continue
    if row is None and not queue.empty():
        row = queue.get()
    proc.join(5.0)
    if proc.is_alive():
        proc.kill()
        proc.join()
    if row is None:
        return {"scenario": spec, "mode": mode, "status": f"over {limit + GRACE:.0f} s", "runs": []}
    return row


def groups(runs: list[dict]) -> list[dict]:
    """Runs grouped by stage, kind and status: count, seconds, CPU, iterations."""
    acc: dict[tuple, dict] = defaultdict(
        lambda: {"runs": 0, "seconds": 0.0, "cpu": 0.0, "simplex": 0, "ipm": 0, "crossover": 0}
    )
    for r in runs:
        g = acc[(r["stage"], _kind(r), r["status"])]
        g["runs"] += 1
        for k in ("seconds", "cpu", "simplex", "ipm", "crossover"):
            g[k] += r[k]
    out = [{"stage": s, "kind": k, "status": st, **v} for (s, k, st), v in acc.items()]
    return sorted(out, key=lambda g: -g["seconds"])


def markdown(rows: list[dict], command: str) -> str:
    lines = [
        "# Where a plan's time goes: every HiGHS run",
        "",
        f"Written by `{command}`. Seconds are wall-clock; CPU seconds beside them.",
        "",
    ]
    for row in rows:
        lines += [f"## {row['scenario']}, {row['mode']}", ""]
        head = f"status {row['status']}"
        if "seconds" in row:
            head += f", {row['seconds']:.1f} s ({row['cpu']:.1f} s CPU), {row['solves']} LP solves"
        if "check" in row:
            head += f", checker: {row['check']} violations"
        if "failing" in row:
            head += (
                f", certificate: {row['failing']} of {row['levels']} levels failing "
                f"(worst rise per need {row['worst']:.3g})"
            )
        lines += [head + ".", ""]
        if row.get("failures"):
            lines += [
                "Failing levels (needs at the level that can rise together without lowering "
                "any need at or below it; `unexplained`: the rise the plan's last digits do not "
                "account for):",
                "",
                "| tier | level | needs | rise | unexplained |",
                "|---:|---:|---:|---:|---:|",
            ]
            lines += [
                f"| {f['tier']} | {f['level']:.7f} | {f['needs']} | {f['rise']:.3g} "
                f"| {f['unexplained']:.3g} |"
                for f in row["failures"]
            ]
            lines.append("")
        if row.get("stages"):
            lines += [
                "| stage | LP solves | rounds | seconds | iterations |",
                "|---|---:|---:|---:|---:|",
            ]
            for s in row["stages"]:
                lines.append(
                    f"| {s['name']} | {s['solves']} | {s['rounds']} | {s['seconds']:.2f} | "
                    f"{s['iterations']:,} |"
                )
            lines.append("")
        runs = row.get("runs") or []
        if runs:
            total = sum(r["seconds"] for r in runs)
            lines += [
                f"{len(runs)} HiGHS runs, {total:.1f} s in all:",
                "",
                "| stage | run | status | runs | seconds | CPU s | simplex it. | ipm it. "
                "| crossover it. |",
                "|---|---|---|---:|---:|---:|---:|---:|---:|",
            ]
            for g in groups(runs):
                lines.append(
                    f"| {g['stage']} | {g['kind']} | {g['status']} | {g['runs']} | "
                    f"{g['seconds']:.2f} | {g['cpu']:.2f} | {g['simplex']:,} | {g['ipm']:,} | "
                    f"{g['crossover']:,} |"
                )
            lines.append("")
    return "\n".join(lines)


def main(argv=None) -> None:
    from bench.exactness import MODES

    ap = argparse.ArgumentParser(prog="python -m bench.trace", description=__doc__)
    ap.add_argument(
        "scenarios", help="sizes (M, M:1, 60x120:1) or scenario folders, comma-separated"
    )
    ap.add_argument("--modes", default="default", help=f"comma-separated, of {sorted(MODES)}")
    ap.add_argument("--limit", type=float, default=900.0, help="seconds per plan")
    ap.add_argument("--certificate", action="store_true", help="add the leximin certificate")
    ap.add_argument("--out", default="bench/trace", help="folder for TRACE.md and trace.json")
    args = ap.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        ap.error(f"unknown mode(s) {unknown}; known: {sorted(MODES)}")
    rows = []
    for spec in [s for s in args.scenarios.split(",") if s]:
        for mode in modes:
            row = trace(spec, mode, args.limit, args.certificate)
            print(
                f"{spec} {mode}: {row['status']} "
                + (f"{row['seconds']:.1f} s, {len(row['runs'])} runs" if "seconds" in row else ""),
                flush=True,
            )
            rows.append(row)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = "python -m bench.trace " + " ".join(sys.argv[1:] if argv is None else argv)
    (out / "TRACE.md").write_text(markdown(rows, command) + "\n")
    (out / "trace.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()

"""`python -m bench.pool [--sizes M,tour] [--stage S] [--scale none|rows|both] [--hipo-python PY]`.

A stage's first LP (``--stage``, by default needs:tier2, as ``planner export`` writes it: every
earlier stage held, just before its first solve) solved side by side, one solve at
a time: the whole programme cold (dual simplex, primal simplex, interior point
without crossover; HiPO when ``--hipo-python`` names an interpreter with
``highspy[extras]``) and by column generation over the flow columns
(:func:`solvers.solve_pooled`), started from the support of the point the
earlier stages left, without and with a guide objective, and started from the
support of the dual (else primal) simplex's optimum (what a pool kept from an earlier solve of
the same programme would give: the floor of a re-solve with a pool). Wall and CPU
seconds, iterations, pricing rounds, the pool's size and the objective of each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = {"M": (60, 120, 0), "tour": (200, 100, 1), "S": (20, 30, 3), "tiny": (6, 8, 2)}
STAGE = "needs:tier2"
GUIDE_WEIGHT = 0.3
"""Weight of the stage's quantities in the guide objective (measured at M: 0.03..1 alike)."""
GUIDE_BATCH = 3000
"""Most columns entering per round in the guided runs (M: 1.2 s against 1.5 s by default)."""
COLD = [
    # label, HiGHS options
    ("dual simplex", {"solver": "simplex", "simplex_strategy": 1}),
    ("primal simplex", {"solver": "simplex", "simplex_strategy": 4}),
    ("ipm, no crossover", {"solver": "ipm", "run_crossover": "off"}),
]


def stage_lp(
    municipalities: int, goods: int, seed: int, stage: str = STAGE, scale: str = "none"
) -> dict:
    """The generated scenario's ``stage`` programme, with a start pool and a guide.

    Returns ``lp`` (scenario units, as exported), ``start`` (the columns non-zero
    in the point the earlier stages left), ``poolable`` (the flow columns) and
    ``guide`` (the stage's objective plus GUIDE_WEIGHT times the sum of its
    quantities, in its sense), and ``export_seconds``. ``scale``: "none" (the
    scenario's units), "rows" or "both" (rows and columns): ``solvers.equilibrate``
    as the engine's ``scale`` option applies it, the floor column unscaled.
    """
    import solvers
    from models import stage_list
    from models.generator import generate
    from planner.engine import Engine, ExportDone
    from planner.export import held_programme
    from planner.formulation import build, export_names
    from planner.stages import MaxMin, specs

    t0 = time.perf_counter()
    scenario = generate(municipalities, goods, seed)
    pol = scenario.meta.policy
    refs = stage_list(pol.rule, pol.stages)
    names = [r.name for r in refs]
    form = build(scenario)
    rows, cols = export_names(form.rows, form.cols)
    engine = Engine(form.lp, form.t_col, "highs", pol.tolerance)
    engine.stop_before = stage
    chosen = specs(form, refs[: names.index(stage) + 1])
    try:
        engine.run(chosen)
        raise RuntimeError(f"stage {stage} was not reached")
    except ExportDone:
        pass
    lp = held_programme(engine, rows, cols)
    x = engine._x()
    x[form.t_col] = 0.0  # the engine parks the floor at 0 between stages
    guide = lp.c.copy()
    obj = chosen[-1].objective
    if isinstance(obj, MaxMin):
        sign = 1.0 if (obj.sense == "max") == (lp.sense == "max") else -1.0
        q = np.asarray(obj.A.T @ (1.0 / np.asarray(obj.scale, dtype=float))).ravel()
        guide[: q.size] += sign * GUIDE_WEIGHT * q
    if scale != "none":
        sc = solvers.equilibrate(lp, columns=scale == "both")
        sc.c[form.t_col] = 1.0  # the floor keeps its meaning (a level)
        lp, guide = sc.programme(lp), guide * sc.c
    poolable = np.array([c.startswith("flow[") for c in cols])
    return {
        "lp": lp,
        "start": np.flatnonzero(x),
        "poolable": poolable,
        "guide": guide,
        "export_seconds": time.perf_counter() - t0,
    }


def _cold(lp, options: dict, limit: float) -> dict:
    import highspy

    from solvers import highs_model

    highspy.Highs.resetThreadScheduler(True)  # threads=1 needs its own pool
    h = highs_model(lp, threads=1).highs
    for k, v in options.items():
        h.setOptionValue(k, v)
    h.setOptionValue("time_limit", float(limit))
    w, c = time.perf_counter(), time.process_time()
    h.run()
    w, c = time.perf_counter() - w, time.process_time() - c
    info = h.getInfo()
    status = h.getModelStatus().name.removeprefix("k").lower()
    return {
        "_x": np.asarray(h.getSolution().col_value) if status == "optimal" else None,
        "status": status,
        "wall": w,
        "cpu": c,
        "iterations": sum(
            max(0, int(k))
            for k in (
                info.simplex_iteration_count,
                info.ipm_iteration_count,
                info.crossover_iteration_count,
            )
        ),
        "objective": float(info.objective_function_value),
        "rounds": None,
        "pool": None,
    }


def _pooled(case: dict, guided: bool, limit: float, start=None) -> dict:
    from solvers import solve_pooled

    if start is not None and not isinstance(start, np.ndarray):
        return {"status": "not run (no optimum to take the support of)"}
    w, c = time.perf_counter(), time.process_time()
    p = solve_pooled(
        case["lp"],
        start=case["start"] if start is None else start,
        poolable=case["poolable"],
        guide=case["guide"] if guided else None,
        batch=GUIDE_BATCH if guided else None,
        time_limit=limit,
        threads=1,
    )
    w, c = time.perf_counter() - w, time.process_time() - c
    return {
        "status": str(p.result.status),
        "wall": w,
        "cpu": c,
        "iterations": int(p.result.iterations),
        "objective": float(p.result.objective),
        "rounds": p.rounds,
        "pool": int(p.pool.size),
    }


def _backend_pooled(case: dict, guided: bool, limit: float, start=None) -> dict:
    """solvers.BackendPool on the HiGHS backend (the pool kept by bounds, as an engine would)."""
    import solvers

    if start is not None and not isinstance(start, np.ndarray):
        return {"status": "not run (no optimum to take the support of)"}
    lp = case["lp"]
    w, c = time.perf_counter(), time.process_time()
    be = solvers.get("highs", threads=1)
    be.load(lp)
    pool = solvers.BackendPool(
        be,
        case["poolable"],
        case["start"] if start is None else start,
        batch=GUIDE_BATCH if guided else None,
    )
    its = 0
    if guided:
        be.set_objective(case["guide"], lp.sense, lp.offset)
        its += int(pool.solve(time_limit=limit).iterations)
        be.set_objective(lp.c, lp.sense, lp.offset)
    res = pool.solve(time_limit=limit)
    w, c = time.perf_counter() - w, time.process_time() - c
    return {
        "status": str(res.status),
        "wall": w,
        "cpu": c,
        "iterations": its + int(res.iterations),
        "objective": float(res.objective),
        "rounds": pool.rounds,
        "pool": int(pool.pool.size),
    }


def _optimum(xs: dict):
    """The dual simplex's optimum, else the primal simplex's (None when neither ran)."""
    return next((xs[label] for label, _ in COLD[:2] if xs.get(label) is not None), None)


def _support(x):
    """The columns non-zero in ``x`` (None when there is no ``x``)."""
    return None if x is None else np.flatnonzero(x)


def _hipo(case: dict, python: str, limit: float) -> dict:
    """HiPO in another interpreter (``highspy[extras]`` pins its own highspy)."""
    lp = case["lp"]
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "lp.npz"
        A = lp.A
        np.savez(
            f,
            **{"c": lp.c, "rl": lp.row_lower, "ru": lp.row_upper},
            **{"cl": lp.col_lower, "cu": lp.col_upper, "data": A.data},
            **{"indices": A.indices, "indptr": A.indptr, "m": A.shape[0]},
            **{"sense": -1 if lp.sense == "max" else 1, "limit": limit},
        )
        try:
            out = subprocess.run(
                [python, str(Path(__file__).with_name("hipo_child.py")), str(f)],
                capture_output=True,
                text=True,
                timeout=limit + 60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"status": f"not run: {exc}"}
    if out.returncode:
        return {"status": "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(
    size: str,
    limit: float,
    hipo_python: str | None,
    stage: str = STAGE,
    scale: str = "none",
    methods: list[str] | None = None,
    log=print,
) -> list[dict]:
    """Every method (or those whose label contains one of ``methods``) on one size's
    stage LP, one after the other."""
    M, G, seed = SIZES[size]
    case = stage_lp(M, G, seed, stage, scale)
    lp = case["lp"]
    log(
        f"{size} ({M}x{G}, seed {seed}) {stage}, scaled: {scale}: {lp.num_rows} rows, "
        f"{lp.num_cols} columns "
        f"({int(case['poolable'].sum())} flows), start pool {case['start'].size}, "
        f"built in {case['export_seconds']:.1f} s"
    )
    rows = []
    xs = {}  # each cold solve's optimum
    runs = [(label, lambda o=opts: _cold(lp, o, limit)) for label, opts in COLD]
    runs += [("pool (exact pricing)", lambda: _pooled(case, False, limit))]
    runs += [("pool, guided", lambda: _pooled(case, True, limit))]
    runs += [
        (
            "pool from the optimum's support (kept pool)",
            lambda: _pooled(case, False, limit, _support(_optimum(xs))),
        )
    ]
    runs += [("backend pool, guided", lambda: _backend_pooled(case, True, limit))]
    runs += [
        (
            "backend pool from the optimum's support (kept pool)",
            lambda: _backend_pooled(case, False, limit, _support(_optimum(xs))),
        )
    ]
    if hipo_python:
        runs += [("HiPO, no crossover (highspy[extras])", lambda: _hipo(case, hipo_python, limit))]
    for label, fn in runs:
        if methods and not any(m in label for m in methods) and label != COLD[1][0]:
            continue  # the primal simplex always runs: the kept-pool rows start from an optimum
        row = {"size": size, "stage": stage, "scale": scale, "method": label}
        row.update(columns=lp.num_cols, rows=lp.num_rows)
        row.update(fn())
        xs[label] = row.pop("_x", None)
        rows.append(row)
        log("  " + _line(row))
    return rows


def _fmt(v, spec: str) -> str:
    return "" if v is None else format(v, spec)


def _line(r: dict) -> str:
    pool = "" if r.get("pool") is None else f"{r['pool']:,}/{r['columns']:,}"
    return (
        f"{r['method']:<38} {r['status']:<10} wall {_fmt(r.get('wall'), '7.2f')} "
        f"cpu {_fmt(r.get('cpu'), '7.2f')} its {_fmt(r.get('iterations'), ',')} "
        f"rounds {_fmt(r.get('rounds'), 'd')} pool {pool} obj {_fmt(r.get('objective'), '.10g')}"
    )


def table(rows: list[dict]) -> str:
    """A markdown table of the measurements."""
    out = [
        "| size | stage | method | status | wall s | CPU s | iterations | pricing rounds"
        " | pool / columns | objective |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        pool = "" if r.get("pool") is None else f"{r['pool']:,} / {r['columns']:,}"
        out.append(
            f"| {r['size']} | {r['stage']}, scale {r['scale']} | {r['method']} | {r['status']} "
            f"| {_fmt(r.get('wall'), '.2f')} "
            f"| {_fmt(r.get('cpu'), '.2f')} | {_fmt(r.get('iterations'), ',')} "
            f"| {_fmt(r.get('rounds'), 'd')} | {pool} | {_fmt(r.get('objective'), '.10g')} |"
        )
    return "\n".join(out)


def main(argv=None) -> int:
    """Measure the sizes asked for and print (or write) the table."""
    p = argparse.ArgumentParser(prog="python -m bench.pool", description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="M,tour", help=f"comma-separated, of {', '.join(SIZES)}")
    p.add_argument("--stage", default=STAGE, help="the stage whose first LP to solve")
    p.add_argument(
        "--scale", default="none", choices=["none", "rows", "both"], help="equilibrate the LP"
    )
    p.add_argument("--limit", type=float, default=900.0, help="seconds per solve")
    p.add_argument("--methods", help="comma-separated parts of method labels to run (default all)")
    p.add_argument("--hipo-python", help="a Python with highspy[extras] installed, for HiPO")
    p.add_argument("--out", type=Path, help="write the markdown table and JSON rows here")
    a = p.parse_args(argv)
    sizes = [s.strip() for s in a.sizes.split(",") if s.strip()]
    bad = [s for s in sizes if s not in SIZES]
    if bad:
        p.error(f"unknown size(s) {', '.join(bad)}; valid: {', '.join(SIZES)}")
    rows = []
    for size in sizes:
        methods = [m.strip() for m in a.methods.split(",")] if a.methods else None
        rows += measure(size, a.limit, a.hipo_python, a.stage, a.scale, methods)
    text = table(rows)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")
        a.out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Measure one scenario: model size, assembly, transfer, every stage, the plan check, references.

Runs in a child process (``python -m bench --child NAME``) so that its memory
figures and its time budget are its own; the record is rewritten to a JSON file
after every phase, so a child stopped at its budget still reports how far it got.

Timings are wall-clock seconds (``time.perf_counter``); CPU seconds of the
process (``time.process_time``) are kept beside them because the benchmark
machine may be shared. Memory:

- ``assembly_peak_bytes``: tracemalloc peak while ``planner.formulation.build``
  runs (numpy, scipy and Python objects; pyarrow-backed pandas strings are not
  traced), measured in a second build so that tracing does not slow the timed one;
- ``assembly_kept_bytes``: what tracemalloc still holds once the build returns
  (the Formulation that goes to the solver);
- ``assembly_rss_bytes``: the rise of the process's peak resident set during the
  build (Linux /proc, reset before; covers every allocator).
"""

from __future__ import annotations

import gc
import json
import os
import re
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SIZES: dict[str, tuple[int, int]] = {
    "S": (10, 20),
    "M": (60, 120),
    "tour": (200, 100),  # the README's tour: planner generate --municipalities 200 --goods 100
    "L": (150, 300),
    "XL": (400, 800),
}
"""Named generated sizes: municipalities x goods (XL is about a million variables)."""
EXAMPLES = {"valley": ROOT / "data" / "valley", "vermont": ROOT / "data" / "vermont"}


class Record(dict):
    """A dict written to ``path`` (atomically) at every ``save()``."""

    def __init__(self, path: Path | None, **kw):
        super().__init__(**kw)
        self.path = path

    def save(self, **kw) -> None:
        self.update(kw)
        if self.path is None:
            return
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self, indent=1, default=_json_default))
        os.replace(tmp, self.path)


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


SEEDS = {"tour": 1}
"""Sizes generated with their own seed (the README's tour: --seed 1), whatever --seed says."""


def size_of(name: str) -> tuple[int, int] | None:
    """(municipalities, goods) of a generated size name ("M", "60x120", "M:1"), else None."""
    name = name.partition(":")[0]
    if name in SIZES:
        return SIZES[name]
    m = re.fullmatch(r"(\d+)x(\d+)", name)
    return (int(m.group(1)), int(m.group(2))) if m else None


def seed_of(name: str, seed: int = 0) -> int:
    """The generator's seed for a size name: after a colon ("M:1"), SEEDS, else ``seed``."""
    base, _, own = name.partition(":")
    return int(own) if own else SEEDS.get(base, seed)


def load_scenario(name: str, seed: int = 0):
    """The scenario for a size name, an example name, or a scenario folder."""
    import models

    shape = size_of(name)
    if shape is not None:
        from models.generator import generate

        return generate(shape[0], shape[1], seed_of(name, seed))
    if name in EXAMPLES:
        return models.load(EXAMPLES[name])
    return models.load(name)


# ----------------------------------------------------------------------------- memory


def _proc_status() -> dict[str, int]:
    out = {}
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, val = line.split(":")
                    out[key] = int(val.split()[0]) * 1024
    except OSError:
        pass
    return out


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class PeakRSS:
    """Rise of the peak resident set size over a block (None where /proc is missing)."""

    def __enter__(self):
        gc.collect()
        self.ok = _reset_peak_rss()
        self.before = _proc_status().get("VmRSS")
        return self

    def __exit__(self, *exc):
        st = _proc_status()
        self.bytes = (
            (st["VmHWM"] - self.before) if self.ok and self.before and "VmHWM" in st else None
        )
        return False


class Timer:
    """Wall and CPU seconds of a block."""

    def __enter__(self):
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.w0
        self.cpu = time.process_time() - self.c0
        return False


# ----------------------------------------------------------------------------- phases


def _log(msg: str) -> None:
    print(msg, flush=True)


def measure(
    name: str,
    budget: float,
    workdir: Path,
    out: Path | None = None,
    seed: int = 0,
    pulp_solve_nnz: int = 60_000,
    references: bool = True,
    settings: bool = False,
    warm_settings: bool = False,
    warm_modes: list[str] | None = None,
    settings_limit: float = 120.0,
    stage_floor_nnz: int = 600_000,
    exact: bool = False,
    certify_columns: int | None = None,
    log=_log,
) -> dict:
    """Measure one scenario within ``budget`` seconds for the planner's own work.

    The planner (assembly, transfer, every stage, extraction) gets the budget; the
    solver-floor solve gets the same limit; the PuLP build is not limited (it
    is only a build) but runs after everything else.
    """
    from models import stage_list as stages_for
    from planner.formulation import build

    workdir.mkdir(parents=True, exist_ok=True)
    shape = size_of(name)
    rec = Record(
        out,
        name=name,
        kind="generated" if shape else "example",
        municipalities=shape[0] if shape else None,
        goods=shape[1] if shape else None,
        seed=seed_of(name, seed) if shape else None,
        budget=budget,
        status="running",
        phase="load",
    )
    rec.save()
    start = time.perf_counter()
    with Timer() as tm:
        scenario = load_scenario(name, seed)
    muni = scenario.municipalities
    rec.save(
        load_s=tm.wall,
        municipalities=len(muni),
        goods=int((scenario.items["kind"] == "good").sum()),
        phase="assembly",
    )
    log(f"[{name}] scenario ready in {tm.wall:.2f}s: {len(muni)} municipalities")

    # ---- assembly: timed builds (best of 10, fewer past 10 s in all: on a shared machine the median of a few runs moves by half; the least is the cost), then a traced one;
    # the first build of a process also pays for first use of pandas' and scipy's code
    # paths and for fresh pages from the allocator, so it is kept but not the best
    walls, cpus = [], []
    form = None
    for _ in range(10):
        form = None
        gc.collect()
        with Timer() as tb:
            form = build(scenario)
        walls.append(tb.wall)
        cpus.append(tb.cpu)
        if sum(walls) > 10.0:
            break
    nnz = int(form.lp.A.nnz)
    kinds = form.cols["kind"].value_counts().to_dict()
    rkinds = form.rows["kind"].value_counts().to_dict()
    rec.save(
        variables=form.n,
        rows=form.m,
        nonzeros=nnz,
        columns_by_kind={str(k): int(v) for k, v in kinds.items()},
        rows_by_kind={str(k): int(v) for k, v in rkinds.items()},
        assembly_s=min(walls),
        assembly_cpu_s=min(cpus),
        assembly_runs=walls,
        pruning=pruning(scenario, form),
        phase="memory",
    )
    log(f"[{name}] {form.n} variables, {form.m} rows, {nnz} non-zeros; assembly {min(walls):.3f}s")
    del form
    gc.collect()
    with PeakRSS() as rss:
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        form = build(scenario)
        kept, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rec.save(
        assembly_peak_bytes=peak - base,
        assembly_kept_bytes=kept - base,
        assembly_rss_bytes=rss.bytes,
        lp_bytes=lp_bytes(form.lp),
        phase="policy",
    )
    log(
        f"[{name}] assembly memory: peak {(peak - base) / nnz:.0f} B/nnz, kept {(kept - base) / nnz:.0f} B/nnz"
    )

    # ---- HiGHS's one-off cost per process (loading highspy, its first instance, its
    # banner): paid once by any process that plans, so kept apart from the transfer
    rec.save(highs_first_instance_s=highs_warm_up())

    # ---- the policy, through the planner's own path (planner.core.solve_formulation)
    policy = scenario.meta.policy
    rule = policy.rule or "leximin"
    stages = stages_for(rule, policy.stages)
    mps = workdir / f"{_safe(name)}-stage1.mps"
    left = budget - (time.perf_counter() - start)
    stage_dir = None
    if stage_floor_nnz and nnz <= stage_floor_nnz and references:
        stage_dir = workdir / f"{_safe(name)}-stages"
        stage_dir.mkdir(parents=True, exist_ok=True)
    run = run_policy(
        scenario, form, stages, rule, policy.tolerance, max(left, 1.0), mps, log, name, stage_dir
    )
    stage_mps = run.pop("stage_mps", {})
    rec.save(**run, phase="check")

    # ---- the plan check
    if run.get("plan_status") in ("optimal", "shortfall"):
        from planner.check import check_plan

        doc = run.pop("_plan_dict")
        with Timer() as tc:
            problems = check_plan(scenario, doc)
        rec.save(
            check="pass" if not problems else f"fail ({len(problems)})",
            check_s=tc.wall,
            check_problems=problems[:10],
        )
        limit = CERTIFY_COLUMNS if certify_columns is None else certify_columns
        if rule == "leximin" and form.n <= limit:
            rec.save(phase="certificate", certificate=certify(scenario, doc, log, name))
    else:
        run.pop("_plan_dict", None)
        rec.save(check="not run (no plan)")
    if exact and rule == "leximin":
        rec.save(phase="exact")
        rec.save(exact=exact_plan(scenario, budget, log, name))
    rec.pop("_plan_dict", None)
    log(f"[{name}] plan {run.get('plan_status')}, check {rec['check']}")

    # ---- references: the solver floor and PuLP
    if references and mps.exists():
        rec.save(phase="floor")
        rec.save(floor=floor_solve(mps, budget))
        fl = rec["floor"]
        log(
            f"[{name}] solver floor (plain highspy, cold, defaults): {fl['status']} {fl['seconds']:.3f}s"
        )
        if stage_mps:
            rec.save(phase="stage floors")
            rec.save(stage_floors=stage_floors(stage_mps, settings_limit, log, name))
        rec.save(phase="pulp")
        rec.save(pulp=pulp_reference(mps, nnz, pulp_solve_nnz, budget))
        log(f"[{name}] PuLP build {rec['pulp']['build_s']:.2f}s")
    if settings and mps.exists():
        from bench.settings import cold_sweep

        rec.save(phase="settings")
        rec.save(settings_cold=cold_sweep(mps, settings_limit, log=log))
    if warm_settings:
        from bench.settings import warm_sweep

        rec.save(phase="settings")
        rec.save(
            settings_warm=warm_sweep(
                scenario, form, stages, policy.tolerance, settings_limit, warm_modes, log=log
            )
        )
    rec.save(status="done", phase="done", wall_s=time.perf_counter() - start)
    if mps.exists() and not os.environ.get("BENCH_KEEP_MPS"):
        mps.unlink()
    return dict(rec)


CERTIFY_COLUMNS = 40_000
"""Plans up to this many columns get a leximin certificate (one LP per level; ``--certify-columns``).

M (25,544 columns) does; the tour (69,512) no longer by default: its certificate of the
defaults' plan was still in its diagnosis LPs after 20 minutes (2026-12-07), before the
tour's references (floor, first LPs cold), which the goals need, had run."""


def certify(scenario, doc: dict, log=_log, name: str = "") -> dict:
    """The plan's leximin certificate (planner.certificate): levels, failures, largest rise."""
    from planner.certificate import failures, leximin_levels

    with Timer() as t:
        levels = leximin_levels(scenario, doc["deliveries"])
    bad = failures(levels)
    worst = max((lv.rise / max(1, lv.needs) for lv in levels if not lv.undecided), default=0.0)
    undecided = sum(lv.undecided for lv in levels)  # no optimum within the cap
    out = {
        "levels": len(levels),
        "failures": len(bad),
        "undecided": undecided,
        "worst_rise_per_need": worst,
        "seconds": t.wall,
        "cpu_s": t.cpu,
        "first_failures": [
            {"tier": lv.tier, "level": lv.level, "needs": lv.needs, "rise": lv.rise}
            for lv in bad[:5]
        ],
    }
    log(f"[{name}] certificate: {len(levels)} levels, {len(bad)} fail, worst rise/need {worst:.3g}")
    return out


def _cpu_with_children() -> float:
    """This process's CPU seconds and its finished children's (QSopt_ex's esolver)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def exact_plan(scenario, budget: float, log=_log, name: str = "") -> dict:
    """The plan made exactly (``planner.solve(exact=True)``), checked, and its exact certificate.

    The certificate holds every need at the plan's exact levels and solves each level's
    LP exactly (planner.certificate.exact_levels_certificate): a level passes when its
    needs cannot rise at all (a rise of exactly 0). CPU seconds include esolver's.
    """
    import planner
    from planner.certificate import exact_levels_certificate

    w0, c0 = time.perf_counter(), _cpu_with_children()
    plan = planner.solve(scenario, exact=True, time_limit=budget)
    wall, cpu = time.perf_counter() - w0, _cpu_with_children() - c0
    doc = plan.to_dict()
    t = doc["timings"]
    out = {
        "status": doc["status"],
        "seconds": wall,
        "cpu_s": cpu,
        "lp_solves": t.get("lp_solves"),
        "iterations": t.get("iterations"),
        "exact_rounds": t.get("exact_rounds"),
        "exact_seconds": t.get("exact_seconds"),
        "exact_rational_seconds": t.get("exact_rational_seconds"),
        "exact_rational_iterations": t.get("exact_rational_iterations"),
        "stages": {st["name"]: round(st["seconds"], 2) for st in doc["stages"]},
    }
    log(f"[{name}] exact plan: {doc['status']} in {wall:.1f}s ({cpu:.1f}s CPU)")
    if doc["status"] not in ("optimal", "shortfall") or not plan.exact_levels:
        return out
    from planner.check import check_plan

    problems = check_plan(scenario, doc)
    out["check"] = "pass" if not problems else f"fail ({len(problems)})"
    w0, c0 = time.perf_counter(), _cpu_with_children()
    levels = exact_levels_certificate(scenario, doc["deliveries"], plan.exact_levels)
    out["certificate"] = {
        "levels": len(levels),
        "not_zero": sum(lv.rise != 0 for lv in levels),
        "worst_rise": max((lv.rise for lv in levels), default=0.0),
        "seconds": time.perf_counter() - w0,
        "cpu_s": _cpu_with_children() - c0,
    }
    log(
        f"[{name}] exact certificate: {len(levels)} levels, {out['certificate']['not_zero']} "
        f"with a rise, {out['certificate']['seconds']:.1f}s"
    )
    return out


def highs_warm_up() -> float:
    """Seconds to load highspy and pass a one-row LP to the process's first HiGHS instance."""
    import scipy.sparse as sp

    import solvers
    from solvers import LinearProgram

    with Timer() as t:
        tiny = LinearProgram(
            c=np.ones(1),
            A=sp.csr_array(np.ones((1, 1))),
            row_lower=np.zeros(1),
            row_upper=np.ones(1),
            col_lower=np.zeros(1),
            col_upper=np.ones(1),
        )
        solvers.get("highs").load(tiny)
    return t.wall


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def lp_bytes(lp) -> int:
    """Bytes of the LinearProgram's arrays (matrix and vectors)."""
    A = lp.A
    vecs = (lp.c, lp.row_lower, lp.row_upper, lp.col_lower, lp.col_upper)
    return int(A.data.nbytes + A.indices.nbytes + A.indptr.nbytes + sum(v.nbytes for v in vecs))


def pruning(scenario, form) -> dict:
    """What the formulation did not create: needs, processes and flows it left out."""
    needs = form.needs
    reasons = needs["reason"].value_counts().to_dict()
    items = scenario.items
    goods_t = int((items["transportable"].astype(bool) & (items["kind"] == "good")).sum())
    arcs = len(form.arcs)
    return {
        "needs": len(needs),
        "need_columns": int((needs["col"] >= 0).sum()),
        "needs_left_out": {str(k): int(v) for k, v in reasons.items() if k},
        "capacity_rows": len(scenario.capacities),
        "process_columns": int((form.cols["kind"] == "x").sum()),
        "transportable_goods": goods_t,
        "arcs": arcs,
        "flow_columns": int((form.cols["kind"] == "f").sum()),
        "flow_columns_if_unpruned": goods_t * arcs,
    }


def run_policy(
    scenario, form, stages, rule, tolerance, time_limit, mps, log, name, stage_dir=None
) -> dict:
    """The whole policy through planner.core.solve_formulation, exporting stage 1 as MPS.

    With ``stage_dir``, the first LP of every stage is written there too (as
    ``<stage>.mps``, timed apart like stage 1's), for :func:`stage_floors`.
    """
    import planner.core as core
    from planner.engine import Engine

    held: dict = {}

    class BenchEngine(Engine):
        """The planner's engine, writing the first LP it solves to ``mps`` (timed apart)."""

        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            held["engine"] = self
            held["export_s"] = 0.0
            held["run_s"] = 0.0
            write = self.backend.write

            def timed_write(path):
                t = time.perf_counter()
                write(path)
                dt = time.perf_counter() - t
                held["export_s"] += dt
                by = held.setdefault("export_by_stage", {})
                by[held.get("stage")] = by.get(held.get("stage"), 0.0) + dt

            self.backend.write = timed_write

        def _solve(self, stage, method=None):
            held["stage"] = stage
            if not held.get("exported"):
                held["exported"] = True
                # a max-min round's objective is the level times the engine's floor weight
                floor_c = float(self.backend.lp.c[self.floor])
                held["floor_weight"] = self.weight if floor_c != 0 else 1.0
                self.backend.write(mps)
            seen = held.setdefault("stage_mps", {})
            if stage_dir is not None and stage not in seen:
                path = Path(stage_dir) / f"{_safe(stage)}.mps"
                self.backend.write(path)
                seen[stage] = str(path)
            return super()._solve(stage, method=method)

        def run(self, specs):
            t = time.perf_counter()
            try:
                return super().run(specs)
            finally:
                held["run_s"] = time.perf_counter() - t

    def progress(stage, k, value):
        if k > 0 and (k <= 3 or k % 10 == 0):
            log(f"[{name}]   {stage} level {k}: {value:.6g}")
        elif k < 0:
            log(f"[{name}]   {stage} done: {value:.6g}")

    saved = core.Engine
    core.Engine = BenchEngine
    try:
        with Timer() as tp:
            plan = core.solve_formulation(
                scenario, form, stages, rule, "highs", tolerance, time_limit, progress, 0.0
            )
    finally:
        core.Engine = saved
    eng = held["engine"]
    export_s = held.get("export_s", 0.0)
    out_stages = []
    for st in plan.stages:
        sec = float(st["seconds"]) - held.get("export_by_stage", {}).get(st["name"], 0.0)
        out_stages.append(
            {
                "name": st["name"],
                "solves": int(st["solves"]),
                "levels": len(st.get("levels") or []),
                "seconds": sec,
                "iterations": int(st.get("iterations") or 0),
                "value": st.get("value"),
            }
        )
    first = next((s for s in out_stages if s["solves"] > 0), None)
    run_s = held["run_s"] - export_s
    total_policy = tp.wall - export_s
    return {
        "plan_status": plan.status,
        "plan_message": plan.message,
        "transfer_s": eng.load_seconds,
        "stages": out_stages,
        "policy_s": run_s,  # every stage: LP solves, edits, saturation tests, binding rows
        "extract_s": total_policy - run_s - eng.load_seconds,
        "planner_s": total_policy,  # transfer + stages + plan extraction (assembly apart)
        "planner_cpu_s": tp.cpu,
        "lp_solves": int(eng.solves),
        "iterations": int(eng.iterations),
        "export_s": export_s,
        "stage_mps": held.get("stage_mps", {}),
        "first_stage": first["name"] if first else None,
        "first_value": (first or {}).get("value"),
        # the written first LP's objective is first_value times this (a weighted round)
        "floor_weight": held.get("floor_weight", 1.0),
        "_plan_dict": plan.to_dict() if plan.ok else None,
    }


def stage_floors(stage_mps: dict, time_limit: float, log=_log, name: str = "") -> dict:
    """Each stage's first LP (as the engine had it, holds of earlier stages included),
    solved cold by plain highspy, once with its defaults (the dual simplex) and once with
    the primal simplex, each within ``time_limit``: what that stage costs at the least
    without warm starts. The sum of the faster of the two is a floor for the whole
    policy's first rounds."""
    out = {}
    for stage, path in stage_mps.items():
        rec = floor_solve(Path(path), time_limit)
        rec["primal"] = floor_solve(Path(path), time_limit, {"simplex_strategy": 4})
        out[stage] = rec
        log(
            f"[{name}]   cold {stage}: dual {rec['status']} {rec['seconds']:.3f}s, "
            f"primal {rec['primal']['status']} {rec['primal']['seconds']:.3f}s"
        )
        if not os.environ.get("BENCH_KEEP_MPS"):
            Path(path).unlink(missing_ok=True)
    return out


def floor_solve(mps: Path, time_limit: float, options: dict | None = None) -> dict:
    """Reference (a): the stage-1 LP read from MPS and solved cold by plain highspy, defaults
    (or with ``options``)."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(mps))
    h.setOptionValue("time_limit", float(time_limit))
    for k, v in (options or {}).items():
        h.setOptionValue(k, v)
    with Timer() as t:
        h.run()
    info = h.getInfo()
    return {
        "status": h.getModelStatus().name.removeprefix("k"),
        "seconds": t.wall,
        "cpu_s": t.cpu,
        "objective": float(info.objective_function_value),
        "iterations": int(max(0, info.simplex_iteration_count) + max(0, info.ipm_iteration_count)),
        "options": ", ".join(f"{k}={v}" for k, v in (options or {}).items())
        or "highspy defaults (solver=choose: dual simplex), cold",
    }


def pulp_reference(mps: Path, nnz: int, solve_nnz: int, time_limit: float) -> dict:
    """Reference (b): PuLP build of the stage-1 model, both idioms; solve it when small."""
    from bench import pulpref

    lp = pulpref.stage_lp_from_mps(mps)
    out: dict = {"nonzeros": int(lp["A"].nnz)}
    gc.collect()
    with PeakRSS() as rss:
        prob, secs = pulpref.build(lp, "lpsum")
    out.update(build_s=secs, build_rss_bytes=rss.bytes)
    if lp["A"].nnz <= solve_nnz:
        status, obj, secs = pulpref.solve(prob, time_limit)
        out.update(solve_status=status, solve_objective=obj, solve_s=secs)
    del prob
    gc.collect()
    prob, secs = pulpref.build(lp, "affine")
    out["build_affine_s"] = secs
    del prob
    gc.collect()
    return out

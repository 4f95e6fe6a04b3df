"""`python -m bench [--sizes S,M,L,XL] [--budget SECONDS] [--out bench/RESULTS.md]`.

Each scenario runs in a child process (its own memory figures, its own time
budget); the parent collects the records, keeps the raw figures in
``bench/results.json`` and rewrites RESULTS.md and the plot after every
scenario, so a long run can be watched and a stopped one still reports.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import measure, report

HERE = Path(__file__).resolve().parent

SETTINGS_NOTES = [
    "Chosen by the measurements below and in the stage tables (HiGHS through highspy; `solvers/_highs.py`, `planner/engine.py`):",
    "",
    "- **cold solves** (the first solve of a plan, and any solve without a usable basis): HiGHS's serial dual simplex with presolve. On the stage-1 LPs of these models interior point was far slower, with or without crossover, on 1 or 2 threads (its normal equations fill in: a municipality's labour row touches every flow and process there); the parallel dual simplex gains nothing on 2 cores;",
    "- **tolerances**: stage solves at HiGHS's default 1e-7 (primal and dual feasibility), then one *polish* solve of the final model, from its own basis, at 1e-9 so that the plan meets SPEC §5's 1e-6 (`timings.polish`; counted in LP solves, in no stage). With 1e-9 throughout, HiGHS warned that these models (bounds up to 2e7 labour hours) are badly scaled for it, and late max-min rounds stalled in numerical trouble for minutes: in an earlier session on another host (code of f8d8ceb), M's whole policy took 89.5 s at 1e-9 and 15.6 s at 1e-7;",
    "- **re-solves after in-place edits**: primal simplex from the last basis. Every edit the engine makes keeps the last solution feasible (a stage's optimum is held by fixing, through complementary slackness, the columns and rows its duals name; a saturated need is fixed at its level; a floor row is switched off; a burden ceiling goes on the municipality's own labour row; the floor variable is parked at 0 between stages), so the primal simplex only has to improve the point. Capped at a fifth of the iterations of the largest cold solve so far (at least 1,000); past the cap the dual simplex carries on from where it stopped (capped at half the rows; not after a new objective, where going cold was faster: in an earlier session M's tier-2 first round took 19,719 warm iterations in 8.1 s against 9,667 cold in 1.5 s); then a cold solve decides: below 20,000 rows the dual simplex capped at 4× the rows (`first_cold=\"primal\"`: for a max-min stage's first LP after another stage, the primal simplex, capped at 10 iterations a row; bench/NOTES.md) and, past that, interior point with crossover; from 20,000 rows interior point with crossover at once (earlier sessions, L's tier-2 first LP exported and solved cold without a time limit: interior point with crossover 94–146 s, primal simplex 95.5 s, dual simplex 319–341 s; at M the dual simplex was faster, 1.5 s against 5.3 s);",
    '- **pools of flows** (`pool="resolve"`, the default): a re-solve after edits first gets a short warm primal simplex (at most half the rows in iterations); should that not finish, the programme is solved cold, with presolve, over the flows non-zero at the last optimum and every other column, the other flows priced exactly with each optimum\'s duals and entering until none would improve it, and the whole programme then confirms that basis. A warm primal iteration over the whole programme cost 1–5 ms at 200×100 (presolve cannot drop the held columns of a warm start), a cold one over the pool about 0.1–0.3 ms; a generated 60×120 plan (seed 1) took 36–69 s against more than 700 s without pools. The table *by re-solve mode* below compares both in one run;',
    "- **crossover**: on whenever interior point runs, since the saturation test, the holds and the prices need a basis and exact duals;",
    "- **threads**: 1 (HiGHS's simplex is serial; the machine has 2 cores, shared with the web server and the worker);",
    "- **options are set once** per backend and passed to HiGHS again only when they change.",
]


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument(
        "--sizes",
        default="S,M,tour,L,XL",
        help="sizes (S, M, L, XL or MxG) and examples, comma-separated",
    )
    p.add_argument(
        "--examples",
        default="valley,vermont",
        help="examples in data/ to include ('none' for none)",
    )
    p.add_argument("--budget", type=float, default=900.0, help="time budget per scenario, seconds")
    p.add_argument("--out", default=str(HERE / "RESULTS.md"), help="where to write RESULTS.md")
    p.add_argument("--plot", default=None, help="plot file (default: scaling.png next to --out)")
    p.add_argument("--json", default=None, help="raw records (default: results.json next to --out)")
    p.add_argument(
        "--settings",
        default="M,L",
        help="scenarios whose stage-1 LP is solved cold with each setting ('none')",
    )
    p.add_argument(
        "--warm-settings",
        default="M",
        help="scenarios whose whole policy is run with each re-solve mode ('none')",
    )
    p.add_argument(
        "--warm-modes",
        default="pooled,primal,dual,off",
        help="re-solve modes of --warm-settings (bench/settings.py WARM), comma-separated",
    )
    p.add_argument(
        "--settings-limit", type=float, default=120.0, help="time limit per setting tried, seconds"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--batches",
        default="auto",
        help="sizes whose batch of courses of action and mandate costs is timed "
        "('auto': M and L when this run has them; 'none')",
    )
    p.add_argument(
        "--exact",
        default="S,M",
        help="sizes also planned exactly (planner solve --exact) and certified at their exact "
        "levels ('none')",
    )
    p.add_argument(
        "--certify-columns",
        type=int,
        default=measure.CERTIFY_COLUMNS,
        help="plans up to this many columns get the leximin certificate of the defaults' plan",
    )
    p.add_argument("--batch-count", type=int, default=5, help="courses of action per batch")
    p.add_argument(
        "--no-references", action="store_true", help="skip the solver floor and the PuLP build"
    )
    p.add_argument(
        "--pulp-solve-nnz",
        type=int,
        default=60_000,
        help="also solve the PuLP model up to this many non-zeros",
    )
    p.add_argument(
        "--stage-floor-nnz",
        type=int,
        default=600_000,
        help="up to this many non-zeros, also solve every stage's first LP cold, by the dual "
        "and the primal simplex, each within --settings-limit (0: never)",
    )
    p.add_argument(
        "--workdir", default=None, help="directory for the MPS files (default: a temporary one)"
    )
    p.add_argument(
        "--render-only",
        action="store_true",
        help="only rewrite RESULTS.md and the plot from the records in --json",
    )
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--record", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _names(args) -> list[str]:
    names = [s.strip() for s in args.sizes.split(",") if s.strip()]
    ex = (
        []
        if args.examples.strip().lower() in ("", "none")
        else [s.strip() for s in args.examples.split(",")]
    )
    out = [n for n in ex if n not in names] + names
    for n in out:
        if measure.size_of(n) is None and n not in measure.EXAMPLES and not Path(n).is_dir():
            raise SystemExit(
                f"unknown size or example {n!r}: use S, M, L, XL, MxG, valley, vermont or a folder"
            )
    return out


def _list(text: str) -> list[str]:
    return [] if text.strip().lower() in ("", "none") else [s.strip() for s in text.split(",")]


def run_child(args) -> int:
    settings = _list(args.settings)
    measure.measure(
        args.child,
        args.budget,
        Path(args.workdir),
        Path(args.record) if args.record else None,
        seed=args.seed,
        pulp_solve_nnz=args.pulp_solve_nnz,
        stage_floor_nnz=args.stage_floor_nnz,
        references=not args.no_references,
        settings=args.child in settings,
        warm_settings=args.child in _list(args.warm_settings),
        warm_modes=_list(args.warm_modes),
        settings_limit=args.settings_limit,
        exact=args.child in _list(args.exact),
        certify_columns=args.certify_columns,
    )
    return 0


def run_one(name: str, args, workdir: Path, log) -> dict:
    """Measure one scenario in a child process, stopping it if it overruns its budget."""
    rec_path = workdir / f"{measure._safe(name)}.json"
    if rec_path.exists():
        rec_path.unlink()
    cmd = [
        sys.executable,
        "-m",
        "bench",
        "--child",
        name,
        "--budget",
        str(args.budget),
        "--record",
        str(rec_path),
        "--workdir",
        str(workdir),
        "--seed",
        str(args.seed),
        "--settings",
        args.settings,
        "--warm-settings",
        args.warm_settings,
        "--warm-modes",
        args.warm_modes,
        "--settings-limit",
        str(args.settings_limit),
        "--pulp-solve-nnz",
        str(args.pulp_solve_nnz),
        "--stage-floor-nnz",
        str(args.stage_floor_nnz),
        "--exact",
        args.exact,
        "--certify-columns",
        str(args.certify_columns),
    ]
    if args.no_references:
        cmd.append("--no-references")
    warm = len(_list(args.warm_modes)) * (name in _list(args.warm_settings))
    sweeps = 7 * (name in _list(args.settings)) + warm
    # the planner and the floor each get the budget; PuLP and the sweeps come on top
    hard = 3 * args.budget + 300 + sweeps * (args.settings_limit + 30)
    hard += 2 * args.budget * (name in _list(args.exact))  # the exact plan and its certificate
    env = dict(
        os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=HERE.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    stopped = False
    try:
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        while True:
            if time.perf_counter() - t0 > hard:
                proc.kill()
                stopped = True
                break
            if sel.select(timeout=5):
                line = proc.stdout.readline()
                if not line:
                    break
                log(line.rstrip())
            elif proc.poll() is not None:
                break
    finally:
        rest = proc.communicate()[0]
        if rest:
            for line in rest.splitlines():
                log(line)
    rec = (
        json.loads(rec_path.read_text()) if rec_path.exists() else {"name": name, "phase": "start"}
    )
    if stopped:
        rec.update(status="budget", error=f"stopped after {hard:.0f} s")
    elif proc.returncode != 0 and rec.get("status") != "done":
        rec.update(status="error", error=f"exit code {proc.returncode}")
    rec["wall_s"] = time.perf_counter() - t0
    return rec


def main(argv=None) -> int:
    args = parse(argv)
    if args.child:
        return run_child(args)
    out = Path(args.out)
    plot_path = Path(args.plot) if args.plot else out.with_name("scaling.png")
    json_path = Path(args.json) if args.json else out.with_name("results.json")
    if args.render_only:
        out.parent.mkdir(parents=True, exist_ok=True)
        records = json.loads(json_path.read_text())
        argv_text = records[0].get("argv", "python -m bench") if records else "python -m bench"
        budget = records[0].get("budget", args.budget) if records else args.budget
        report.write(records, out, argv_text, budget, plot_path, SETTINGS_NOTES)
        print(f"{out} rewritten from {json_path}")
        return 0
    names = _names(args)
    out.parent.mkdir(parents=True, exist_ok=True)
    workdir = (
        Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="commune-bench-"))
    )
    workdir.mkdir(parents=True, exist_ok=True)
    argv_text = "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv)

    def log(msg: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)

    code = report.git_state(HERE.parent)  # the code measured, as it was when the run began
    records = []
    log(f"bench: {', '.join(names)}; budget {args.budget:.0f}s per scenario; results to {out}")
    for name in names:
        log(f"== {name}")
        rec = run_one(name, args, workdir, log)
        rec["argv"] = argv_text.strip()
        rec["code"] = code
        records.append(rec)
        json_path.write_text(json.dumps(records, indent=1, default=str))
        report.write(records, out, argv_text.strip(), args.budget, plot_path, SETTINGS_NOTES)
        log(f"== {name}: {report._state(rec)} in {rec['wall_s']:.0f}s; {out} updated")
    if args.batches == "auto":  # the batch sizes (M, L) this run measures
        sizes = [x for x in names if x in ("M", "L")]
    else:
        sizes = [x for x in args.batches.split(",") if x and x != "none"]
    if sizes:
        from bench import batches

        log(f"== batches (courses of action, mandate costs): {', '.join(sizes)}")
        rows = batches.run(sizes, args.batch_count, None)
        (out.parent / "batches.json").write_text(json.dumps(rows, indent=1, default=str))
        lines = [batches.summary(r) for r in rows]
        with out.open("a", encoding="utf-8") as fh:
            fh.write("\n## Batches: courses of action and mandate costs\n\n```\n")
            fh.write("\n".join(lines) + "\n```\n")
        log("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

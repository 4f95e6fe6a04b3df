"""The ``planner`` command line: validate, solve, export, generate (and, from the lab, compare and sweep).

Exit codes: 0 solved (optimal or with shortfalls) or valid; 2 invalid input;
3 infeasible; 4 time limit reached; 1 any other error.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import models
from models import Scenario, ScenarioError

app = typer.Typer(
    help="Commune: plan production and distribution across a confederation, according to need.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

EXIT_INVALID, EXIT_INFEASIBLE, EXIT_TIME_LIMIT, EXIT_ERROR = 2, 3, 4, 1
STATUS_EXIT = {
    "optimal": 0,
    "shortfall": 0,
    "infeasible": EXIT_INFEASIBLE,
    "time_limit": EXIT_TIME_LIMIT,
}


def load_or_exit(path: Path) -> Scenario:
    """Read and validate a scenario, or print every problem and exit with status 2."""
    try:
        scenario = models.load(path)
    except ScenarioError as exc:
        for p in exc.problems:
            err.print(str(p), markup=False, highlight=False)
        n = sum(1 for p in exc.problems if p.level == "error")
        err.print(f"{path}: {n} problem(s); nothing was planned.", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    for w in scenario.warnings:
        err.print(f"warning: {w}", markup=False, highlight=False)
    return scenario


def summary_counts(s: Scenario) -> dict:
    """Counts for ``validate``: municipalities, items, processes, links, needs by tier."""
    needs = s.needs
    return {
        "confederations": len(s.confederations),
        "municipalities": len(s.municipalities),
        "population": float(s.municipalities["population"].sum()),
        "items": len(s.items),
        "processes": len(s.processes),
        "links": len(s.links),
        "limits": len(s.limits),
        "mandates": len(s.mandates),
        "needs": {f"tier{t}": int((needs["tier"] == t).sum()) for t in (1, 2, 3)},
    }


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="scenario folder, .xlsx, .json or .zip")],
    json_out: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
):
    """Check a scenario; list every problem at once (exit 2) or print a short summary."""
    s = load_or_exit(path)
    c = summary_counts(s)
    if json_out:
        out.print_json(data={"name": s.meta.name, "hash": s.content_hash, **c})
        return
    out.print(f"[bold]{s.meta.name}[/bold] is valid ({s.content_hash[:12]})")
    n = c["needs"]
    out.print(
        f"  {c['municipalities']} municipalities in {c['confederations']} confederations, "
        f"population {c['population']:,.0f}\n"
        f"  {c['items']} items, {c['processes']} processes, {c['links']} links, "
        f"{c['limits']} limits, {c['mandates']} mandates\n"
        f"  needs: {n['tier1']} vital (tier 1), {n['tier2']} standard (tier 2), {n['tier3']} desired (tier 3)"
    )


def _progress_printer(quiet: bool):
    if quiet or not err.is_terminal:
        return None, None
    status = err.status("planning…")
    status.start()

    def progress(stage: str, k: int, value: float) -> None:
        if k == 0:
            status.update(f"stage {stage}…")
        elif k > 0:
            status.update(f"stage {stage}: level {k} at {value:.4g}…")

    return progress, status


@app.command()
def solve(
    path: Annotated[Path, typer.Argument(help="scenario folder, .xlsx, .json or .zip")],
    rule: Annotated[
        str | None,
        typer.Option(help="leximin, utilitarian, proportional, equal_per_capita, min_labour_full"),
    ] = None,
    solver: Annotated[str, typer.Option(help="solver backend: highs, scipy, pulp")] = "highs",
    json_out: Annotated[bool, typer.Option("--json", help="print the plan as SPEC JSON")] = False,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="also write the plan JSON here")
    ] = None,
    time_limit: Annotated[float | None, typer.Option(help="seconds for the whole policy")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
):
    """Plan a scenario and print a readable summary (or the SPEC JSON with --json)."""
    from planner.core import solve as run
    from planner.policy import PolicyError

    s = load_or_exit(path)
    progress, status = _progress_printer(quiet or json_out)
    try:
        plan = run(s, rule=rule, solver=solver, time_limit=time_limit, progress=progress)
    except (PolicyError, ValueError) as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    finally:
        if status is not None:
            status.stop()
    doc = plan.to_dict()
    if out_file is not None:
        out_file.write_text(json.dumps(doc, indent=2))
    if json_out:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        print_summary(s, plan)
    raise typer.Exit(STATUS_EXIT.get(plan.status, EXIT_ERROR))


def print_summary(s: Scenario, plan) -> None:
    """Tables a committee can read: satisfaction per municipality and tier, labour, limits."""
    out.print(
        f"[bold]{s.meta.name}[/bold] — rule {plan.rule}, solver {plan.solver}: [bold]{plan.status}[/bold]"
    )
    if not plan.ok:
        if plan.message:
            out.print(plan.message, markup=False)
        for c in plan.conflicts:
            out.print(f"  conflict: {c}", markup=False)
        return
    st = Table(title="Stages", title_justify="left")
    for col in ("stage", "value", "LP solves", "seconds"):
        st.add_column(col, justify="right" if col != "stage" else "left")
    for x in plan.stages:
        v = "—" if x["value"] is None else f"{x['value']:.6g}"
        st.add_row(x["name"], v, str(x["solves"]), f"{x['seconds']:.3f}")
    out.print(st)

    d = plan.deliveries
    d = d[d["need"] > 0]
    sat = d.pivot_table(index="municipality", columns="tier", values="ratio", aggfunc="min")
    t = Table(title="Satisfaction (lowest ratio per tier)", title_justify="left")
    t.add_column("municipality")
    for tier in sat.columns:
        t.add_column(
            {1: "vital", 2: "standard", 3: "desired"}.get(int(tier), str(tier)), justify="right"
        )
    for m, row in sat.iterrows():
        t.add_row(str(m), *("—" if v != v else f"{v:.0%}" for v in row))
    out.print(t)

    lab = plan.labour
    lt = Table(title="Labour and free time (hours)", title_justify="left")
    for col in ("municipality", "used", "available", "share", "free time"):
        lt.add_column(col, justify="right" if col != "municipality" else "left")
    for r in lab.itertuples():
        lt.add_row(
            r.municipality,
            f"{r.used:,.0f}",
            f"{r.available:,.0f}",
            f"{r.share:.0%}",
            f"{r.free_time:,.0f}",
        )
    out.print(lt)

    if len(plan.limits):
        li = Table(title="Ecological limits", title_justify="left")
        for col in ("item", "scope", "amount", "cap"):
            li.add_column(col)
        for r in plan.limits.itertuples():
            li.add_row(r.item, r.scope, f"{r.amount:,.1f}", f"{r.cap:,.1f}")
        out.print(li)
    short = d[d["ratio"] < 1 - 1e-7].sort_values(["tier", "ratio"])
    if len(short):
        out.print(f"[bold]{len(short)} needs not fully met[/bold] (lowest first):")
        for r in short.head(10).itertuples():
            out.print(
                f"  tier {r.tier} {r.item} of {r.municipality}: {r.delivered:,.4g} of {r.need:,.4g} ({r.ratio:.0%})"
            )
    m = plan.metrics
    out.print(
        f"total labour {m['total_labour']:,.0f} h · highest labour share {m['max_share']:.0%} · "
        f"unmet vital needs {m['unmet_tier1']:,.4g} · gini of ratios {m['gini']:.3f}"
    )


@app.command()
def export(
    path: Annotated[Path, typer.Argument(help="scenario")],
    stage: Annotated[
        str, typer.Option(help="the stage whose programme to write, e.g. needs:tier1, min_labour")
    ] = "needs:tier1",
    rule: Annotated[str | None, typer.Option()] = None,
    mps: Annotated[Path | None, typer.Option(help="write MPS here")] = None,
    lp: Annotated[Path | None, typer.Option(help="write CPLEX LP format here")] = None,
    solver: Annotated[
        str, typer.Option(help="backend that writes the file (highs or pulp)")
    ] = "highs",
):
    """Write one stage's programme (with every earlier stage held) as MPS or LP, for any solver."""
    from planner.engine import Engine
    from planner.formulation import build
    from planner.policy import PolicyError, stages_for

    if mps is None and lp is None:
        err.print("give --mps FILE or --lp FILE")
        raise typer.Exit(EXIT_INVALID)
    s = load_or_exit(path)
    pol = s.meta.policy
    try:
        stages = stages_for(rule or pol.rule, None if rule else pol.stages)
    except PolicyError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    names = [x.name for x in stages]
    if stage not in names:
        err.print(f"no stage {stage!r} in this policy; stages: {', '.join(names)}", markup=False)
        raise typer.Exit(EXIT_INVALID)
    upto = stages[: names.index(stage) + 1]
    for target in (mps, lp):
        if target is None:
            continue
        form = build(s)
        eng = Engine(form, solver, pol.tolerance)
        eng.export_before(stage, target)
        eng.run(upto)
        if not Path(target).exists():
            err.print(f"stage {stage} was not reached (an earlier stage failed)")
            raise typer.Exit(EXIT_ERROR)
        out.print(f"wrote {target} ({form.n} columns, {form.m} rows before stage edits)")


@app.command()
def generate(
    out_path: Annotated[Path, typer.Argument(help="folder (CSV), .xlsx or .json to write")],
    municipalities: Annotated[int, typer.Option(min=1)] = 10,
    goods: Annotated[int, typer.Option(min=1)] = 20,
    seed: Annotated[int, typer.Option()] = 0,
):
    """Write a feasible synthetic scenario of any size (identical for the same seed)."""
    from models.generator import generate as gen

    t0 = time.perf_counter()
    s = gen(municipalities=municipalities, goods=goods, seed=seed)
    models.save(s, out_path)
    out.print(
        f"wrote {out_path}: {len(s.municipalities)} municipalities, {len(s.items)} items, "
        f"{len(s.processes)} processes, {len(s.links)} links, {len(s.needs)} needs "
        f"in {time.perf_counter() - t0:.2f} s"
    )


def main() -> None:  # pragma: no cover - console entry
    """Entry point."""
    app()


def _register_extensions() -> None:
    """Commands that live in their own modules (the analysts' lab)."""
    import importlib

    for name in ("planner.cli_lab", "planner.cli_alternatives"):
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # not written yet
            if exc.name != name:
                raise
            continue
        mod.register(app)


_register_extensions()

"""``planner alternatives``, ``planner mandate-costs`` and ``planner what-if``.

Courses of action, what each binding mandate costs the others, and what one
step more of each binding bound would do (:mod:`planner.alternatives`,
:mod:`planner.costs`); each a batch of plans on local processes or Dask.
``planner.cli`` calls :func:`register`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

Scheduler = Annotated[
    str | None,
    typer.Option(
        help="Dask scheduler address (tcp://host:8786), or 'local'; default: "
        "COMMUNE_DASK_SCHEDULER, else local processes"
    ),
]
Workers = Annotated[
    int | None, typer.Option(help="local processes (default: one per CPU; 0: in this process)")
]
Journal = Annotated[
    Path | None,
    typer.Option(help="journal of finished plans (JSON lines): a rerun resumes from it"),
]
JsonOut = Annotated[bool, typer.Option("--json", help="print the result as JSON")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="no progress on stderr")]
Rule = Annotated[str | None, typer.Option(help="rule (default: the scenario's policy)")]


def register(app: typer.Typer) -> None:
    """Add the commands to the ``planner`` app."""
    app.command()(alternatives)
    app.command("mandate-costs")(mandate_costs)
    app.command("what-if")(what_if)


def _progress(quiet: bool):
    if quiet:
        return None
    from planner.cli import err

    def show(done: int, total: int, label: str) -> None:
        err.print(f"{label}: {done}/{total} plans", markup=False, highlight=False)

    return show


def _run(fn, *args, **kwargs):
    """Call ``fn``; a bad option exits 2, an unreachable scheduler or failed task exits 1."""
    from models import PolicyError
    from planner.batch import BatchError
    from planner.cli import EXIT_ERROR, EXIT_INVALID, err

    try:
        return fn(*args, **kwargs)
    except (PolicyError, ValueError) as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    except BatchError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_ERROR) from None


def _write(doc: dict, json_out: bool, out_file: Path | None) -> None:
    if out_file is not None:
        out_file.write_text(json.dumps(doc, indent=2))
    if json_out:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")


def _fmt(name: str, v) -> str:
    if v is None:
        return "—"
    if name in ("min_labour", "min_transport"):
        return f"{v:,.0f} h"
    return f"{v:.1%}"


def courses_table(doc: dict) -> Table:
    """The optimal plan and each course of action side by side (the CLI's table)."""
    plans = [doc["optimal"], *doc["courses"]]
    t = Table(
        title=f"Courses of action within {doc['slack']:.0%} of the optimum",
        title_justify="left",
    )
    t.add_column("")
    for p in plans:
        t.add_column("optimal" if p["course"] == 0 else f"course {p['course']}", justify="right")
    t.add_row("distance", *(f"{p['distance']:.3f}" for p in plans))
    t.add_row("status", *(p["status"] for p in plans))
    for i, s in enumerate(doc["optimal"]["stages"]):
        vals = [p["stages"][i]["value"] if i < len(p["stages"]) else None for p in plans]
        t.add_row(s["name"], *(_fmt(s["name"], v) for v in vals))
    return t


def alternatives(
    path: Annotated[Path, typer.Argument(help="scenario folder, .xlsx, .json or .zip")],
    count: Annotated[
        int, typer.Option(help="how many courses of action besides the optimal plan")
    ] = 3,
    slack: Annotated[
        float, typer.Option(help="how far (relative) each stage may stay from its optimum")
    ] = 0.02,
    rule: Rule = None,
    json_out: JsonOut = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="write the JSON here")] = None,
    journal: Journal = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    quiet: Quiet = False,
):
    """The optimal plan and COUNT distinct courses of action within SLACK, side by side."""
    from planner.alternatives import courses_of_action
    from planner.cli import EXIT_ERROR, STATUS_EXIT, err, load_or_exit, out

    s = load_or_exit(path)
    c = _run(
        courses_of_action,
        s,
        count,
        slack,
        rule=rule,
        journal=journal,
        workers=workers,
        scheduler=scheduler,
        progress=_progress(quiet or json_out),
    )
    doc = c.to_dict()
    _write(doc, json_out, out_file)
    status = doc["optimal"].get("status")
    if status not in ("optimal", "shortfall"):
        err.print(f"error: {doc['message']}", markup=False, highlight=False)
        raise typer.Exit(STATUS_EXIT.get(status, EXIT_ERROR))
    if json_out:
        return
    out.print(courses_table(doc))
    for p in doc["courses"]:
        out.print(f"course {p['course']}: {p['description']}", markup=False, highlight=False)
    if doc["message"]:
        out.print(f"note: {doc['message']}", markup=False, highlight=False)


def mandate_costs(
    path: Annotated[Path, typer.Argument(help="scenario folder, .xlsx, .json or .zip")],
    rule: Rule = None,
    json_out: JsonOut = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="write the JSON here")] = None,
    journal: Journal = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    quiet: Quiet = False,
):
    """What each mandate binding in the plan costs the other municipalities."""
    from planner.cli import load_or_exit, out
    from planner.costs import mandate_costs as run

    s = load_or_exit(path)
    doc = _run(
        run,
        s,
        rule=rule,
        journal=journal,
        workers=workers,
        scheduler=scheduler,
        progress=_progress(quiet or json_out),
    )
    _write(doc, json_out, out_file)
    if json_out:
        return
    if not doc["costs"]:
        out.print("no mandate is binding in this plan")
    for c in doc["costs"]:
        out.print(f"mandate {c['mandate']['where']}:", markup=False, highlight=False)
        for line in c["text"]:
            out.print(f"  {line}", markup=False, highlight=False)


def what_if(
    path: Annotated[Path, typer.Argument(help="scenario folder, .xlsx, .json or .zip")],
    step: Annotated[
        float, typer.Option(help="how much more of each binding bound: a fraction of it")
    ] = 0.1,
    unit: Annotated[bool, typer.Option("--unit", help="STEP is a number of units")] = False,
    rule: Rule = None,
    json_out: JsonOut = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="write the JSON here")] = None,
    journal: Journal = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    quiet: Quiet = False,
):
    """One step more of each binding labour, capacity, link and limit, ranked by re-solve."""
    from planner.cli import load_or_exit, out
    from planner.costs import what_ifs

    s = load_or_exit(path)
    doc = _run(
        what_ifs,
        s,
        step=step,
        unit=unit,
        rule=rule,
        journal=journal,
        workers=workers,
        scheduler=scheduler,
        progress=_progress(quiet or json_out),
    )
    _write(doc, json_out, out_file)
    if json_out:
        return
    if not doc["what_ifs"]:
        out.print("no labour, capacity, link or limit is used in full in this plan")
    for i, r in enumerate(doc["what_ifs"], start=1):
        out.print(f"{i}. {r['text']}", markup=False, highlight=False)

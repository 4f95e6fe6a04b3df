"""The analysts' lab on the command line: ``planner compare`` and ``planner sweep``.

``planner.cli`` calls :func:`register` when this module exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

DEFAULT_RULES = "leximin,proportional,utilitarian,equal_per_capita"


def register(app: typer.Typer) -> None:
    """Add the ``compare`` and ``sweep`` commands to the ``planner`` app."""
    app.command()(compare)
    app.command()(sweep)


def comparison_table(c) -> Table:
    """The comparison's figures, one column per rule (the terminal table of ``planner compare``)."""
    from planner.report import metric_rows

    t = Table(title=f"{c.scenario.meta.name}: rules compared", title_justify="left")
    t.add_column("metric")
    for r in c.rules:
        t.add_column(r, justify="right")
    for _, label, vals in metric_rows(c):
        t.add_row(label, *vals)
    return t


def municipality_table(c) -> Table:
    """Per municipality and rule: mean satisfaction ratio and labour share."""
    from planner.report import pct

    m = c.municipalities.set_index(["rule", "municipality"])
    rules = [r for r in c.rules if c.plans[r].ok]
    t = Table(title="Per municipality: mean ratio · labour share", title_justify="left")
    t.add_column("municipality")
    for r in rules:
        t.add_column(r, justify="right")
    for muni in c.scenario.municipalities["id"]:
        cells = []
        for r in rules:
            x = m.loc[(r, muni)]
            cells.append(f"{pct(x['mean_ratio'])} · {pct(x['labour_share'])}")
        t.add_row(str(muni), *cells)
    return t


def compare(
    path: Annotated[Path, typer.Argument(help="scenario folder, .xlsx, .json or .zip")],
    rules: Annotated[str, typer.Option(help="comma-separated rules")] = DEFAULT_RULES,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="write the HTML report here")
    ] = None,
    flows_rule: Annotated[
        str | None, typer.Option(help="draw the flow diagram for this rule only")
    ] = None,
    solver: Annotated[
        str, typer.Option(help="solver backend: highs, scipy, pulp, highs-kept")
    ] = "highs",
    time_limit: Annotated[float | None, typer.Option(help="seconds per rule")] = None,
    workers: Annotated[int, typer.Option(help="solve the rules in this many processes")] = 1,
    csv: Annotated[
        Path | None, typer.Option(help="also write the per-rule figures as CSV here")
    ] = None,
):
    """Solve a scenario under several rules; print who gains and who loses; write an HTML report."""
    from models import RULES
    from planner.cli import EXIT_INVALID, err, load_or_exit, out
    from planner.lab import compare as run
    from planner.lab import parse_rules

    s = load_or_exit(path)
    try:
        rule_list = parse_rules(rules)
    except ValueError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    unknown = [r for r in rule_list if r not in RULES]
    if unknown or (flows_rule is not None and flows_rule not in rule_list):
        bad = ", ".join(unknown) if unknown else f"--flows-rule {flows_rule} (not in --rules)"
        err.print(f"error: unknown rule {bad}; valid rules: {', '.join(RULES)}", markup=False)
        raise typer.Exit(EXIT_INVALID)
    status = err.status("comparing rules…") if err.is_terminal else None
    if status is not None:
        status.start()
    try:
        c = run(s, rules=rule_list, solver=solver, time_limit=time_limit, workers=workers)
    except Exception as exc:  # one line here, the traceback in the log
        from planner.cli import fail

        raise fail("the comparison failed", exc) from None
    finally:
        if status is not None:
            status.stop()
    out.print(comparison_table(c))
    if any(c.plans[r].ok for r in c.rules):
        out.print(municipality_table(c))
    for note in c.notes:
        out.print(f"note: {note}", markup=False, highlight=False)
    if csv is not None:
        c.metrics.to_csv(csv, index=False)
        out.print(f"wrote {csv}")
    if out_file is not None:
        c.to_html(out_file, flows_rule=flows_rule)
        out.print(
            f"wrote {out_file} ({out_file.stat().st_size / 1e6:.1f} MB, self-contained: open it in any browser)"
        )


def sweep(
    path: Annotated[Path, typer.Argument(help="scenario folder, .xlsx, .json or .zip")],
    vary: Annotated[
        list[str],
        typer.Option(
            help="NAME=START:STOP:N, NAME=A,B,C or NAME=A; NAME is labour, limit.ITEM, needs.tier1..3 "
            "or endowment.ITEM (repeat for a grid)"
        ),
    ],
    rules: Annotated[str, typer.Option(help="comma-separated rules")] = DEFAULT_RULES,
    out_file: Annotated[Path, typer.Option("--out", help="results: .parquet or .csv")] = Path(
        "sweep.parquet"
    ),
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler address (tcp://host:8786), or 'local' for a local Dask cluster"
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="local processes (default: one per CPU; 0: in this process)")
    ] = None,
    solver: Annotated[
        str, typer.Option(help="solver backend: highs, scipy, pulp, highs-kept")
    ] = "highs",
    time_limit: Annotated[float | None, typer.Option(help="seconds per solve")] = None,
    limit: Annotated[
        int | None, typer.Option(help="solve at most this many new tasks, then stop")
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="forget finished tasks and solve everything again")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
):
    """Solve a grid of scenario variants under several rules; resumable; on local processes or Dask."""
    from planner.cli import EXIT_INVALID, EXIT_UNREACHABLE, err, fail, load_or_exit
    from planner.sweep import SweepError, journal_path
    from planner.sweep import sweep as run

    s = load_or_exit(path)
    exit_if_unreachable(scheduler)
    try:
        rule_list = sweep_rules(rules, out_file)
        df = run(
            s,
            vary,
            rule_list,
            solver,
            time_limit,
            out=out_file,
            workers=workers,
            scheduler=scheduler,
            resume=not fresh,
            limit=limit,
            progress=not quiet,
        )
    except SweepError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    except (OSError, TimeoutError) as exc:
        if not scheduler or scheduler == "local":
            raise fail("the sweep failed", exc) from None
        raise fail(f"the Dask scheduler at {scheduler} failed", exc, EXIT_UNREACHABLE) from None
    except KeyboardInterrupt:
        err.print(
            f"interrupted: finished tasks are kept in {journal_path(out_file)}; run the same command to resume",
            markup=False,
        )
        raise typer.Exit(130) from None
    print_sweep(df, out_file)
    if df.attrs["failed"]:
        raise typer.Exit(1)


def sweep_rules(rules: str, out_file: Path) -> list[str]:
    """The sweep's rules, checked with its output suffix (``SweepError`` when bad)."""
    from models import RULES
    from planner.lab import parse_rules
    from planner.sweep import SweepError

    rule_list = parse_rules(rules)
    unknown = [r for r in rule_list if r not in RULES]
    if unknown:
        raise SweepError(f"unknown rule {', '.join(unknown)}; valid rules: {', '.join(RULES)}")
    if out_file.suffix.lower() not in (".parquet", ".pq", ".csv"):
        raise SweepError(f"--out {out_file}: write .parquet or .csv")
    return rule_list


def print_sweep(df, out_file: Path) -> None:
    """The results table and a line of counts (solved, reused, failed, left)."""
    from planner.cli import out
    from planner.sweep import journal_path

    a = df.attrs
    out.print(sweep_table(df))
    out.print(
        f"{a['tasks']} tasks: {a['solved']} solved now, {a['reused']} reused from {journal_path(out_file).name}, "
        f"{a['failed']} failed; wrote {out_file} ({len(df)} rows)",
        markup=False,
        highlight=False,
    )
    if not a["complete"]:
        out.print(
            f"{a['tasks'] - len(df)} tasks left: run the same command to go on.", markup=False
        )


def exit_if_unreachable(scheduler: str | None) -> None:
    """One line and exit 6 when a Dask scheduler address does not answer (not 'local')."""
    from planner.cli import EXIT_UNREACHABLE, err

    problem = unreachable(scheduler) if scheduler and scheduler != "local" else ""
    if problem:
        err.print(f"error: {problem}", markup=False, highlight=False)
        raise typer.Exit(EXIT_UNREACHABLE)


def unreachable(address: str, timeout: float = 3.0) -> str:
    """Why a Dask scheduler address cannot be reached ("" when it answers), within ``timeout`` s."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port or 8786
    except ValueError:
        return f"not a Dask scheduler address: {address!r} (give tcp://host:port or 'local')"
    if not host:
        return f"not a Dask scheduler address: {address!r} (give tcp://host:port or 'local')"
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        return f"cannot reach the Dask scheduler at {address}: {reason}"
    return ""


def sweep_table(df, max_rows: int = 40) -> Table:
    """The first rows of a sweep's results, the columns a reader scans first."""
    from planner.report import pct

    title = "Sweep results" + (f" (first {max_rows} of {len(df)})" if len(df) > max_rows else "")
    t = Table(title=title, title_justify="left")
    cols = list(df.columns)
    params = cols[1 : cols.index("rule")] if "rule" in cols else []
    shown = {
        "min_ratio_tier1": ("tier 1 min", pct),
        "min_ratio_tier2": ("tier 2 min", pct),
        "min_ratio_tier3": ("tier 3 min", pct),
        "gini": ("gini", lambda v: "—" if v != v else f"{v:.3f}"),
        "max_share": ("max share", pct),
    }
    for c in params:
        t.add_column(c, justify="right")
    t.add_column("rule")
    t.add_column("status")
    metrics = [m for m in shown if m in cols]
    for m in metrics:
        t.add_column(shown[m][0], justify="right")
    for d in df.head(max_rows).to_dict(orient="records"):
        t.add_row(
            *(f"{d[c]:g}" for c in params),
            d["rule"],
            d["status"],
            *(shown[m][1](d[m]) for m in metrics),
        )
    return t

"""The ``planner`` command line: validate, solve, export, generate (and, from the lab, compare and sweep).

Exit codes: 0 solved (optimal or with shortfalls) or valid; 2 invalid input;
3 infeasible; 4 time limit reached; 5 the solver failed (one line on stderr,
the details in the log: ``$COMMUNE_LOG``, by default ``commune-planner.log``
in the temporary folder); 6 a Dask scheduler cannot be reached; 1 any other
error. No command prints a traceback.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import models
from models import Scenario, ScenarioError
from planner.report import num

app = typer.Typer(
    help="Commune: plan production and distribution across a confederation, according to need.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain help: no "<bool>" beside every flag
)


def console(stderr: bool = False) -> Console:
    """A console that wraps at the terminal's width, and not at all when piped or redirected."""
    c = Console(stderr=stderr)
    if c.is_terminal:
        return c
    return Console(stderr=stderr, soft_wrap=True, width=PIPED_WIDTH)


PIPED_WIDTH = 4096
"""Piped output is not wrapped: lines (and tables) up to this wide stay whole."""
out = console()
err = console(stderr=True)

EXIT_INVALID, EXIT_INFEASIBLE, EXIT_TIME_LIMIT, EXIT_ERROR = 2, 3, 4, 1
EXIT_SOLVER, EXIT_UNREACHABLE = 5, 6
SHORTFALLS_SHOWN = 10
EXPLAINED_SHOWN = 60  # explanations printed in the summary (every one is in --json)
"""How many needs not fully met ``solve`` lists (the count of the rest is said)."""
STATUS_EXIT = {
    "optimal": 0,
    "shortfall": 0,
    "infeasible": EXIT_INFEASIBLE,
    "time_limit": EXIT_TIME_LIMIT,
}


def log_path() -> Path:
    """Where the command line writes the details of a failure."""
    return Path(
        os.environ.get("COMMUNE_LOG") or Path(tempfile.gettempdir()) / "commune-planner.log"
    )


def fail(what: str, exc: BaseException, code: int = EXIT_SOLVER) -> typer.Exit:
    """One clear line on stderr, the traceback in the log; the exit to raise."""
    target = log_path()
    log = logging.getLogger("planner.cli")
    try:
        handler = logging.FileHandler(target, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
        target = None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.propagate = False
    try:
        log.error("%s", what, exc_info=(type(exc), exc, exc.__traceback__))
    finally:
        log.removeHandler(handler)
        handler.close()
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = f"; details in {target}" if target else ""
    err.print(f"error: {what}: {reason}{where}", markup=False, highlight=False)
    return typer.Exit(code)


def load_or_exit(path: Path) -> Scenario:
    """Read and validate a scenario, or print every problem and exit with status 2."""
    try:
        scenario = models.load(path)
    except ScenarioError as exc:
        for p in exc.problems:  # one line each, even on a narrow terminal (it wraps, not us)
            err.print(str(p), markup=False, highlight=False, soft_wrap=True)
        n = sum(1 for p in exc.problems if p.level == "error")
        err.print(f"{path}: {n} problem(s); nothing was planned.", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    for w in scenario.warnings:
        err.print(f"{w.level}: {w}", markup=False, highlight=False, soft_wrap=True)
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
        "coefficients": {
            k: (v if v == v else None)  # none at all: null, not NaN
            for k, v in zip(("min", "max"), models.coefficient_range(s), strict=True)
        },
        "own_use": models.own_use_count(s),
    }


def coefficient_line(c: dict) -> str:
    """The programme's coefficient range, against what the solver represents."""
    lo, hi = c["coefficients"]["min"], c["coefficients"]["max"]
    if lo is None:
        return "  coefficients: none"
    good_lo, good_hi = models.COEFFICIENT_RANGE
    verdict = "within" if good_lo <= lo and hi <= good_hi else "outside"
    return (
        f"  coefficients {num(lo, 3)} .. {num(hi, 3)} ({verdict} the advised {_power(good_lo)} .. "
        f"{_power(good_hi)}; the solver reads below {_power(models.SOLVER_ZERO)} as 0)"
    )


def _count(n: int, one: str, many: str | None = None) -> str:
    """``1 municipality``, ``6 municipalities``, ``1 process``."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def _power(x: float) -> str:
    """1e-06 -> "1e-6"."""
    mantissa, exponent = f"{x:e}".split("e")
    return f"{float(mantissa):g}e{int(exponent)}"


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
        f"  {_count(c['municipalities'], 'municipality', 'municipalities')} in "
        f"{_count(c['confederations'], 'confederation')}, "
        f"population {num(c['population'])}\n"
        "  "
        + ", ".join(
            _count(c[k], one, k)
            for k, one in (
                ("items", "item"),
                ("processes", "process"),
                ("links", "link"),
                ("limits", "limit"),
                ("mandates", "mandate"),
            )
        )
        + "\n"
        f"  needs: {n['tier1']} vital (tier 1), {n['tier2']} standard (tier 2), {n['tier3']} desired (tier 3)\n"
        + coefficient_line(c),
        markup=False,
    )
    if c["own_use"]:
        k = c["own_use"]
        out.print(
            f"  note: {k} process{'es use' if k > 1 else ' uses'} some of {'their' if k > 1 else 'its'} "
            "own output; net coefficients used",
            markup=False,
        )


def _progress_printer(quiet: bool):
    if quiet or not err.is_terminal:
        return None, None
    status = err.status("planning…")
    status.start()
    t0 = time.perf_counter()

    def progress(stage: str, k: int, value: float) -> None:
        el = time.perf_counter() - t0
        if k == 0:
            status.update(f"stage {stage} · {el:.1f} s")
        elif k > 0:
            status.update(f"stage {stage} · round {k} · level {value:.4g} · {el:.1f} s")

    return progress, status


EXPLAIN_SECONDS = 60.0
"""``solve``'s default time for explanations: a minute, or what is left of --time-limit if more."""


def explain_budget(explain_seconds: float | None, time_limit: float | None, spent: float) -> float:
    """Seconds for explaining a plan.

    ``--explain-seconds`` if given, else EXPLAIN_SECONDS or what is left of ``--time-limit``
    after ``spent`` seconds of planning, whichever is more (as the API's worker does, with a
    shorter floor there).
    """
    if explain_seconds is not None:
        return max(explain_seconds, 0.0)
    left = 0.0 if time_limit is None else time_limit - spent
    return max(EXPLAIN_SECONDS, left)


def _seconds(x: float) -> str:
    """60 -> "60 s", 0.5 -> "0.5 s", 1e-06 -> "1e-06 s"."""
    return f"{x:,.0f} s" if x >= 10 else f"{x:.3g} s"


def _more_seconds(budget: float) -> str:
    """A budget worth suggesting when ``budget`` seconds were not enough."""
    return f"{max(600, 10 * math.ceil(budget)):.0f}"


@app.command()
def solve(
    path: Annotated[Path, typer.Argument(help="scenario folder, .xlsx, .json or .zip")],
    rule: Annotated[
        str | None,
        typer.Option(help="leximin, utilitarian, proportional, equal_per_capita, min_labour_full"),
    ] = None,
    solver: Annotated[
        str, typer.Option(help="solver backend: highs, scipy, pulp, highs-kept")
    ] = "highs",
    json_out: Annotated[bool, typer.Option("--json", help="print the plan as SPEC JSON")] = False,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="also write the plan JSON here")
    ] = None,
    time_limit: Annotated[float | None, typer.Option(help="seconds for the whole policy")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress display")] = False,
    no_timings: Annotated[
        bool,
        typer.Option(
            "--no-timings",
            help="leave out wall-clock seconds (null in the JSON): the same input prints the same bytes",
        ),
    ] = False,
    precise: Annotated[
        bool | None,
        typer.Option(
            "--precise/--no-precise",
            show_default=False,
            help="levels planned more exactly (weighted rounds with fixed faces; the "
            "default with the highs solver, which alone has it): leximin to the last digits "
            "on generated 25 x 50 confederations, not yet at every size. --no-precise: the "
            "classic rounds, which stop short more often (docs/PLANNING.md)",
        ),
    ] = None,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact",
            help="plan the need stages in rational arithmetic (HiGHS, then QSopt_ex's exact "
            "check of each round): leximin exactly, slower (docs/PLANNING.md)",
        ),
    ] = False,
    certify: Annotated[
        bool,
        typer.Option(
            "--certify",
            help="with --exact: then prove the plan leximin, each level's LP solved exactly at "
            "the plan's levels (about as long again as the plan), and say so on stderr",
        ),
    ] = False,
    explain_seconds: Annotated[
        float | None,
        typer.Option(
            "--explain-seconds",
            min=0,
            show_default=False,
            help="seconds for explaining why needs are not fully met (or, when the plan cannot "
            "be made, for naming the conflicting constraints and a way to reconcile them); "
            "needs not explained by then are counted as such. Default: 60, or what is left of "
            "--time-limit if that is more. 0: no explanations",
        ),
    ] = None,
):
    """Plan a scenario and print a readable summary (or the SPEC JSON with --json).

    The JSON's ``hash`` names the plan's content without its timings: equal for
    the same input, rule and solver (docs/FORMAT.md).
    """
    from models import PolicyError
    from planner.core import solve as run
    from planner.plan import without_timings

    if precise and solver != "highs":
        err.print(f"error: --precise works with the highs solver only, not {solver}", markup=False)
        raise typer.Exit(EXIT_INVALID)
    if certify and not exact:
        err.print("error: --certify proves an exact plan: add --exact", markup=False)
        raise typer.Exit(EXIT_INVALID)
    precise = solver == "highs" if precise is None else precise
    s = load_or_exit(path)
    progress, status = _progress_printer(quiet or json_out)
    started = time.monotonic()
    try:
        extra = {"exact": True} if exact else {}
        plan = run(
            s, rule=rule, solver=solver, time_limit=time_limit, progress=progress,
            precise=precise, **extra,
        )  # fmt: skip
    except (PolicyError, ValueError) as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    except Exception as exc:  # the solver failed: one line here, the traceback in the log
        raise fail("the solver failed", exc) from None
    finally:
        if status is not None:
            status.stop()
    budget = explain_budget(explain_seconds, time_limit, time.monotonic() - started)
    doc = _with_reasons(s, plan, budget, show=not (quiet or json_out))
    if no_timings:
        doc = without_timings(doc)
    if out_file is not None:
        out_file.write_text(json.dumps(doc, indent=2))
    if json_out:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        note = _unexplained(doc, budget, precise)
        if note:
            err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    else:
        print_summary(s, plan, doc, timings=not no_timings, explain_seconds=budget, precise=precise)
    code = STATUS_EXIT.get(plan.status, EXIT_ERROR)
    if certify and plan.exact_levels:
        code = code or _certify(s, plan, quiet or json_out)
    raise typer.Exit(code)


def _certify(s, plan, quiet: bool) -> int:
    """Prove ``plan`` leximin at its exact levels; one line on stderr; exit code (0: proved)."""
    from planner.certificate import exact_levels_certificate, exact_verdict

    status = None if quiet or not err.is_terminal else err.status("certifying…")
    if status is not None:
        status.start()
    t0 = time.perf_counter()

    def on_level(lv, done: int, total: int) -> None:
        if status is not None:
            el = time.perf_counter() - t0
            status.update(f"certifying · level {done} of {total} · {el:.1f} s")

    try:
        levels = exact_levels_certificate(s, plan, on_level=on_level)
    except Exception as exc:  # the exact solver failed: one line here, the traceback in the log
        raise fail("the certificate failed", exc) from None
    finally:
        if status is not None:
            status.stop()
    el = time.perf_counter() - t0
    risen, undecided = exact_verdict(levels)
    if not risen and not undecided:
        err.print(
            f"leximin certificate: {len(levels)} levels checked exactly, no need at any of "
            f"them can rise without lowering one at or below it ({el:.1f} s)",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
        return 0
    said = []
    if risen:
        first = risen[0]
        said.append(
            f"failed at {len(risen)} of {len(levels)} levels (first: tier {first.tier} at "
            f"{first.level:.10g}, whose {first.needs} needs can rise by {first.rise:.3g} "
            "together)"
        )
    if undecided:
        first = undecided[0]
        said.append(
            f"could not decide {len(undecided)} of {len(levels)} levels within each level's "
            f"time cap (first: tier {first.tier} at {first.level:.10g})"
        )
    err.print(
        f"error: the leximin certificate {' and '.join(said)} ({el:.1f} s)",
        markup=False, highlight=False, soft_wrap=True,
    )  # fmt: skip
    return EXIT_ERROR


def _with_reasons(s: Scenario, plan, seconds: float | None = None, show: bool = False) -> dict:
    """The plan JSON with explanations, minimal conflicts and a reconciliation (planner.why).

    ``seconds``: the time for them (None: no limit; 0: none at all, the plan as it is).
    ``show``: a status line on a terminal's stderr meanwhile.
    """
    from planner.why import enrich_safely

    if seconds is not None and seconds <= 0:
        return plan.to_dict()
    display, progress = _explain_display(plan, seconds) if show else (None, None)
    try:
        return enrich_safely(s, plan, seconds=seconds, progress=progress)
    finally:
        if display is not None:
            display.stop()


def _explain_display(plan, seconds: float | None):
    """(a live status line on stderr, its progress callback), or (None, None) off a terminal."""
    from rich.progress import Progress, ProgressColumn, SpinnerColumn, TextColumn
    from rich.text import Text

    from planner.why import SHORT  # what explain_shortfalls counts as not fully met

    if not err.is_terminal:
        return None, None
    if plan.status in ("optimal", "shortfall"):
        d = plan.deliveries
        n = int(((d["need"] > 0) & (d["ratio"] < 1 - SHORT)).sum())
        if n == 0:
            return None, None
        what, total = f"explaining {_count(n, 'need')} not fully met…", n
    elif plan.status == "infeasible":
        what, total = "naming the conflicting constraints and a reconciliation…", None
    else:
        return None, None
    limit = "" if seconds is None else f" (at most {_seconds(seconds)})"

    class Elapsed(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.elapsed or 0.0:,.0f} s{limit}")

    cols = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        cols.append(TextColumn("{task.completed:.0f} of {task.total:.0f} done ·"))
    display = Progress(*cols, Elapsed(), console=err, transient=True)
    task = display.add_task(what, total=total)
    display.start()

    def progress(done: int, of: int) -> None:
        display.update(task, completed=done)

    return display, progress


def _unexplained(doc: dict, seconds: float, precise: bool = False) -> str:
    """What the time for explanations left out, in words ("" when nothing).

    Also how many needs the explanations found the planner stopped short of, and,
    unless the plan was ``precise``, that ``--precise`` plans them.
    """
    return "; ".join(n for n in (_left_out(doc, seconds), _short_of(doc, precise)) if n)


def _short_of(doc: dict, precise: bool = False) -> str:
    """The needs whose explanation says the rounds stopped short of them (leximin)."""
    if doc.get("rule") != "leximin":
        return ""
    n = sum(
        1
        for e in doc.get("explanations") or []
        if any(h.get("kind") == "rule" and h.get("where") == "leximin" for h in e["limited_by"])
    )
    if not n:
        return ""
    text = (
        f"{_count(n, 'need', 'needs')} could rise without lowering any other: the solver's "
        "precision stopped the planner short of them"
    )
    return text if precise else text + "; run with --precise to plan levels more exactly"


def _left_out(doc: dict, seconds: float) -> str:
    """What the time for explanations left out, in words ("" when nothing)."""
    from planner.why import is_late

    rerun = f"run with --explain-seconds {_more_seconds(seconds)}"
    if doc.get("status") == "shortfall":  # (optimal: every need met, nothing to explain)
        if seconds <= 0 and "explanations" not in doc:
            return (
                "the needs not fully met were not explained (--explain-seconds 0); run without "
                "it to explain them"
            )
        late = sum(1 for e in doc.get("explanations") or [] if is_late(e))
        if late:
            return (
                f"{_count(late, 'need was', 'needs were')} not explained within "
                f"{_seconds(seconds)}; {rerun} to explain them all"
            )
    elif doc.get("status") == "infeasible":
        if seconds <= 0 and "conflict_set" not in doc:
            return (
                "the least set of conflicting constraints and a reconciliation were not sought "
                "(--explain-seconds 0); run without it to have them"
            )
        if "conflict_set" in doc and doc["conflict_set"] is None:
            return (
                f"the least set of conflicting constraints was not found within "
                f"{_seconds(seconds)} (the solver's own list is shown); {rerun} to have it "
                "and a reconciliation"
            )
        if "reconciliation" in doc and doc["reconciliation"] is None:
            return f"a reconciliation was not found within {_seconds(seconds)}; {rerun} to have one"
    return ""


def print_summary(
    s: Scenario,
    plan,
    doc: dict | None = None,
    timings: bool = True,
    explain_seconds: float | None = None,
    precise: bool = False,
) -> None:
    """Tables a committee can read: satisfaction per municipality and tier, labour, limits.

    ``timings=False`` leaves the stages' seconds out. ``explain_seconds``: the time the
    explanations had (what they left out is said, and needs the planner stopped short of;
    ``precise``: the plan was made with --precise).
    """
    doc = doc or plan.to_dict()
    unexplained = "" if explain_seconds is None else _unexplained(doc, explain_seconds, precise)
    out.print(
        f"[bold]{s.meta.name}[/bold] — rule {plan.rule}, solver {plan.solver}: [bold]{plan.status}[/bold]"
    )
    if not plan.ok:
        _print_failure(plan, doc)
        if unexplained:
            out.print(unexplained[:1].upper() + unexplained[1:] + ".", markup=False)
        return
    st = Table(title="Stages", title_justify="left")
    for col in ("stage", "value", "LP solves", "seconds")[: 4 if timings else 3]:
        st.add_column(col, justify="right" if col != "stage" else "left")
    for x in plan.stages:
        cells = [x["name"], num(x["value"]), str(x["solves"]), f"{x['seconds']:.3f}"]
        st.add_row(*cells[: 4 if timings else 3])
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
            li.add_row(r.item, r.scope, num(r.amount), num(r.cap))
        out.print(li)
    _print_shortfalls(d, doc, unexplained)
    m = plan.metrics
    out.print(
        f"total labour {m['total_labour']:,.0f} h · highest labour share {m['max_share']:.0%} · "
        f"unmet vital needs {num(m['unmet_tier1'])} · gini of ratios {m['gini']:.3f}"
    )


def _print_shortfalls(d, doc: dict, unexplained: str) -> None:
    """The needs not fully met and why (lowest first), and what was left unexplained."""
    from planner.why import is_late

    short = d[d["ratio"] < 1 - 1e-7].sort_values(["tier", "ratio"])
    every = doc.get("explanations") or []
    why = sorted((e for e in every if not is_late(e)), key=lambda e: (e["tier"], e["ratio"]))
    if why:
        # one line a need where they all fit; else needs sharing level and reason together
        lines = [(e["text"], 1) for e in why]
        if len(lines) > EXPLAINED_SHOWN:
            lines = _grouped_reasons(why)[:EXPLAINED_SHOWN]
        told = sum(n for _, n in lines)
        more = f"; {len(why) - told} more in --json" if told < len(why) else ""
        head = f"{len(why)} needs not fully met, and why"
        if len(why) < len(every):
            head = f"{len(every)} needs not fully met, and why for {len(why)} of them"
        out.print(f"[bold]{head}[/bold] (lowest first{more}):")
        for text, _ in lines:
            out.print(f"  {text}", markup=False, soft_wrap=True)
    elif len(short):
        shown = min(len(short), SHORTFALLS_SHOWN)
        more = (
            f"; {shown} of {len(short)} shown, {len(short) - shown} more"
            if shown < len(short)
            else ""
        )
        out.print(f"[bold]{len(short)} needs not fully met[/bold] (lowest first{more}):")
        for r in short.head(shown).itertuples():
            out.print(
                f"  tier {r.tier} {r.item} of {r.municipality}: {num(r.delivered, 4)} of {num(r.need, 4)} ({r.ratio:.0%})",
                markup=False,
            )
    if unexplained:
        out.print(unexplained[:1].upper() + unexplained[1:] + ".", markup=False, soft_wrap=True)


def _grouped_reasons(explanations: list[dict], names: int = 3) -> list[tuple[str, int]]:
    """(line, needs it tells of): each explanation, those sharing level and reason once.

    For summaries with more needs than lines: a generated 60 x 120 plan had 205 desired
    needs at 32%, each limited by the same capacities, and 60 lines told of 60 needs; one
    line now names the first few and says the reason once (269 needs in 55 lines).
    """
    from planner.edits import pct

    # needs with a reason share a key; others key by their place (an int: never a tuple)
    groups: dict[object, list[tuple[str, str]]] = {}
    for i, e in enumerate(explanations):
        need, found, reason = e["text"].partition(f" is at {pct(e['ratio'])}: ")
        key = (e["tier"], pct(e["ratio"]), reason) if found and e.get("limited_by") else i
        groups.setdefault(key, []).append((need, e["text"]))
    lines = []
    for key, members in groups.items():
        if len(members) == 1:
            lines.append((members[0][1], 1))
            continue
        first = ", ".join(n for n, _ in members[:names])
        rest = len(members) - names
        who = f"{first} and {rest} more" if rest > 0 else first
        lines.append((f"{len(members)} needs at {key[1]} ({who}): {key[2]}", len(members)))
    return lines


def _print_failure(plan, doc: dict) -> None:
    """Why a plan was not made, in words: the conflict and a way to reconcile it."""
    from planner.why import failure_message

    if plan.message:
        out.print(failure_message(plan.status, plan.message), markup=False)
    found = doc.get("conflict_set")
    if found:
        out.print("These constraints cannot all hold (drop any one and the plan can be made):")
        for c in found:
            mark = "  conflict: " if c["member"] else "    because: "
            out.print(f"{mark}{c['text']}  [{c['where']}]", markup=False, soft_wrap=True)
    else:
        for c in plan.conflicts:
            out.print(f"  conflict: {c}", markup=False)
    rec = doc.get("reconciliation")
    if rec:
        out.print(
            "Least change of mandates and limits that reconciles them (for the assemblies to approve):"
        )
        for e in rec:
            out.print(f"  {e['text']}  (asks {', '.join(e['municipalities'])})", markup=False)
    elif plan.status == "infeasible" and found is not None:
        out.print("No change of mandates and limits alone can reconcile them.")


@app.command()
def export(
    path: Annotated[Path, typer.Argument(help="scenario")],
    stage: Annotated[
        str, typer.Option(help="the stage whose programme to write, e.g. needs:tier1, min_labour")
    ] = "needs:tier1",
    rule: Annotated[str | None, typer.Option(help="the rule whose stages to use")] = None,
    mps: Annotated[Path | None, typer.Option(help="write MPS here")] = None,
    lp: Annotated[Path | None, typer.Option(help="write CPLEX LP format here")] = None,
    solver: Annotated[
        str, typer.Option(help="backend that writes the file (highs or pulp)")
    ] = "highs",
):
    """Write one stage's programme (with every earlier stage held) as MPS or LP, for any solver."""
    from models import PolicyError
    from planner.export import StageNotReached, export_stage

    if mps is None and lp is None:
        err.print("give --mps FILE or --lp FILE")
        raise typer.Exit(EXIT_INVALID)
    s = load_or_exit(path)
    for target in (mps, lp):
        if target is None:
            continue
        try:
            prog = export_stage(s, stage, target, rule=rule, solver=solver)
        except (PolicyError, KeyError) as exc:
            err.print(str(exc).strip("'\""), markup=False)
            raise typer.Exit(EXIT_INVALID) from None
        except StageNotReached as exc:
            err.print(str(exc), markup=False)
            raise typer.Exit(EXIT_ERROR) from None
        except Exception as exc:
            raise fail("the solver failed", exc) from None
        out.print(f"wrote {target} ({prog.num_cols} columns, {prog.num_rows} rows as held)")


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

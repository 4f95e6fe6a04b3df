"""What-if sweeps: a grid of scenario variants, solved on any concurrent.futures executor.

An axis scales one part of the scenario by each of its factors::

    labour=0.8:1.2:5        every municipality's labour_hours × 0.8, 0.9, 1.0, 1.1, 1.2
    limit.co2=0.5:1:3       every cap on co2 × 0.5, 0.75, 1
    needs.tier1=1,1.1       every tier-1 need (quantity or per_capita) × 1, 1.1
    endowment.grain=0.6:1:3 every endowment of grain × 0.6, 0.8, 1 (a bad harvest)

``START:STOP:N`` is N evenly spaced factors from START to STOP; ``A,B,C`` a
list; a single number one factor. The grid is every combination of the axes
(the first axis varies slowest), each solved under every rule: one task per
point and rule, one result row per task with the point's factors, the rule,
the plan's status and the metrics of :mod:`planner.lab`.

Tasks run on a ``concurrent.futures`` executor: a local process pool by
default, a Dask cluster when a scheduler address is given
(``distributed.Client(address).get_executor()``), or any executor passed in.
The local pool spawns its workers; prefer processes to threads (each solve
is CPU-bound and holds HiGHS's own thread pool).
Each finished task is appended at once to a journal next to the output
(``OUT.journal.jsonl``, one JSON line per task, keyed by a hash of the base
scenario, the point, the rule and the solver settings): a sweep that was
interrupted resumes where it stopped and never solves a finished task again.
Tasks of one point go to a worker together (the variant is built once).
Tasks that raised are reported but not journalled, so a rerun retries them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import models
from models import Scenario
from planner.core import solve
from planner.lab import as_scenario, parse_rules, plan_metrics

AXIS_RE = re.compile(r"^(labour|limit\.[^=\s]+|needs\.tier[123]|endowment\.[^=\s]+)$")


class SweepError(ValueError):
    """An axis or option that cannot be understood."""


@dataclass(frozen=True)
class Axis:
    """One varied parameter: its name (``labour``, ``limit.ITEM``, ``needs.tierN``, ``endowment.ITEM``) and factors."""

    name: str
    values: tuple[float, ...]


def _factor(text: str, spec: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise SweepError(f"{spec}: {text!r} is not a number") from None
    if not np.isfinite(v) or v < 0:
        raise SweepError(f"{spec}: factors must be finite and non-negative, not {text}")
    return float(f"{v:.12g}")  # 0.9000000000000001 -> 0.9: stable keys and column values


def parse_axis(spec: str) -> Axis:
    """Parse ``NAME=START:STOP:N``, ``NAME=A,B,C`` or ``NAME=A``."""
    name, sep, rhs = spec.partition("=")
    name = name.strip()
    if not sep or not rhs.strip():
        raise SweepError(f"{spec!r}: write NAME=START:STOP:N, NAME=A,B,C or NAME=A")
    if not AXIS_RE.match(name):
        raise SweepError(
            f"{spec!r}: unknown parameter {name!r}; vary labour, limit.ITEM, needs.tier1..3 or endowment.ITEM"
        )
    rhs = rhs.strip()
    if ":" in rhs:
        parts = rhs.split(":")
        if len(parts) != 3:
            raise SweepError(f"{spec!r}: a range is START:STOP:N")
        try:
            n = int(parts[2])
        except ValueError:
            raise SweepError(f"{spec!r}: N must be a whole number") from None
        if n < 1:
            raise SweepError(f"{spec!r}: N must be at least 1")
        lo, hi = _factor(parts[0], spec), _factor(parts[1], spec)
        values = [lo] if n == 1 else [_factor(repr(float(v)), spec) for v in np.linspace(lo, hi, n)]
    else:
        values = [_factor(v.strip(), spec) for v in rhs.split(",") if v.strip()]
    if len(set(values)) != len(values):
        raise SweepError(f"{spec!r}: a factor is listed twice")
    return Axis(name, tuple(values))


def parse_axes(specs: Iterable[str | Axis]) -> list[Axis]:
    """Axes from specs (or Axis objects); a parameter may be varied only once."""
    axes = [s if isinstance(s, Axis) else parse_axis(s) for s in specs]
    names = [a.name for a in axes]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SweepError(f"varied twice: {', '.join(dup)}")
    return axes


def check_axes(scenario: Scenario, axes: Sequence[Axis]) -> None:
    """Refuse axes that would change nothing in this scenario (an item with no limit, no such tier...)."""
    problems = []
    for a in axes:
        kind, _, target = a.name.partition(".")
        if kind == "limit" and target not in set(scenario.limits["item"]):
            have = ", ".join(sorted(set(scenario.limits["item"]))) or "none"
            problems.append(f"{a.name}: no limit on {target!r} (limited items: {have})")
        elif kind == "endowment" and target not in set(scenario.endowments["item"]):
            problems.append(f"{a.name}: no municipality has an endowment of {target!r}")
        elif kind == "needs" and not (scenario.needs["tier"] == int(target[4:])).any():
            problems.append(f"{a.name}: the scenario has no {target} needs")
    if problems:
        raise SweepError("; ".join(problems))


def grid(axes: Sequence[Axis]) -> list[dict[str, float]]:
    """Every combination of the axes' factors, the first axis varying slowest."""
    return [
        dict(zip([a.name for a in axes], combo, strict=True))
        for combo in itertools.product(*(a.values for a in axes))
    ]


def variant(scenario: Scenario, point: dict[str, float]) -> Scenario:
    """The scenario with each parameter of ``point`` scaled by its factor (a new, validated Scenario)."""
    if all(float(k) == 1.0 for k in point.values()):
        return scenario
    tables = {name: scenario.table(name) for name in models.TABLES}
    for name, k in point.items():
        kind, _, target = name.partition(".")
        if kind == "labour":
            tables["municipalities"]["labour_hours"] *= k
        elif kind == "limit":
            t = tables["limits"]
            t.loc[t["item"] == target, "cap"] *= k
        elif kind == "needs":
            t = tables["needs"]
            sel = t["tier"] == int(target.removeprefix("tier"))
            t.loc[sel, "quantity"] *= k
            t.loc[sel, "per_capita"] *= k
        elif kind == "endowment":
            t = tables["endowments"]
            t.loc[t["item"] == target, "quantity"] *= k
        else:
            raise SweepError(f"unknown parameter {name!r}")
    return models.from_tables(scenario.meta.model_dump(), tables)


def task_key(
    base_hash: str, point: dict[str, float], rule: str, solver: str, time_limit: float | None
) -> str:
    """The journal key of one task: a hash of everything that decides its result."""
    doc = {
        "scenario": base_hash,
        # a factor of 1 changes nothing: labour=1, limit.co2=0.5 is the same task as limit.co2=0.5
        "point": sorted((k, repr(float(v))) for k, v in point.items() if float(v) != 1.0),
        "rule": rule,
        "solver": solver,
        "time_limit": time_limit,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:20]


def solve_point(
    scenario: Scenario,
    point: dict[str, float],
    rules: Sequence[str],
    solver: str = "highs",
    time_limit: float | None = None,
) -> list[dict]:
    """Solve one point under each rule: one result row per rule (status, metrics, seconds).

    Runs on a worker. The variant is built once for all the rules; a rule
    whose solve raises gives a row with status ``error`` and the message.
    """
    t0 = time.perf_counter()
    s = variant(scenario, point)
    t_build = (time.perf_counter() - t0) / max(1, len(rules))
    rows = []
    for rule in rules:
        t1 = time.perf_counter()
        try:
            row = plan_metrics(solve(s, rule=rule, solver=solver, time_limit=time_limit), s.limits)
        except Exception as exc:  # noqa: BLE001 - reported in the row, retried on a rerun
            row = {"status": "error", "message": f"{type(exc).__name__}: {exc}"}
        row["seconds"] = t_build + time.perf_counter() - t1
        rows.append(row)
    return rows


class InlineExecutor(Executor):
    """Runs each task at once in this process (for debugging, notebooks and tests)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:  # noqa: D102
        f: Future = Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            if isinstance(exc, KeyboardInterrupt):
                raise
            f.set_exception(exc)
        return f


def _ignore_sigint() -> None:  # pragma: no cover - runs in pool workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def journal_path(out: str | Path) -> Path:
    """Where the sweep writing ``out`` journals its finished tasks."""
    return Path(f"{out}.journal.jsonl")


def read_journal(path: Path) -> dict[str, dict]:
    """Finished tasks: key -> row. A torn last line (the process was killed while writing) is skipped."""
    done: dict[str, dict] = {}
    if not path.exists():
        return done
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
                done[rec["key"]] = rec["row"]
            except (ValueError, KeyError, TypeError):
                continue
    return done


def _append(fh, key: str, row: dict) -> None:
    fh.write(json.dumps({"key": key, "row": row}) + "\n")
    fh.flush()
    os.fsync(fh.fileno())


def write_results(df: pd.DataFrame, path: str | Path) -> None:
    """Write results as Parquet (``.parquet``/``.pq``) or CSV (anything else)."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)


def read_results(path: str | Path) -> pd.DataFrame:
    """Read what :func:`write_results` wrote."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    return pd.read_csv(path)


def _executor_for(executor, workers, scheduler, jobs: int):
    """(executor, its parallelism, cleanup callable); local pools get no more workers than jobs."""
    if executor is not None:
        return executor, max(1, workers or 1), lambda: None
    if scheduler:
        from distributed import Client, LocalCluster

        if scheduler == "local":
            n = min(workers or os.cpu_count() or 1, jobs)
            cluster = LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = Client(cluster)
        else:
            cluster, client = None, Client(scheduler)
        slots = max(1, sum(client.nthreads().values()))

        def close():
            client.close()
            if cluster is not None:
                cluster.close()

        return client.get_executor(pure=False), slots, close
    n = (os.cpu_count() or 1) if workers is None else workers
    n = min(n, jobs)
    if n <= 0:
        return InlineExecutor(), 1, lambda: None
    # spawn, not fork: HiGHS keeps a thread pool per calling thread, and a forked child
    # would inherit the parent's pool without its threads (the notebook solves in-process)
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_ignore_sigint)
    return pool, n, lambda: pool.shutdown(wait=True, cancel_futures=True)


class _Run:
    """The state of one sweep run: rows so far, counts, journal, progress bar, callback."""

    def __init__(self, rows: dict[str, dict], fh, bar, on_result) -> None:
        self.rows, self.fh, self.bar, self.on_result = rows, fh, bar, on_result
        self.solved = self.failed = 0

    def record(self, job: list[tuple], results: list[dict]) -> None:
        """Keep the rows of one finished job (journal those that did not fail)."""
        for (_, point, rule, key), row in zip(job, results, strict=True):
            if row["status"] == "error":
                self.failed += 1
            else:
                self.solved += 1
                if self.fh is not None:
                    _append(self.fh, key, row)
            self.rows[key] = row
            if self.bar is not None:
                self.bar.update(1)
            if self.on_result is not None:
                self.on_result({**point, "rule": rule, **row})

    def keep_finished(self, pending: dict[Future, list[tuple]]) -> None:
        """Journal the jobs that finished while the sweep was stopping."""
        if self.fh is None:
            return
        for f, job in pending.items():
            if f.done() and not f.cancelled() and f.exception() is None:
                for (_, _, _, key), row in zip(job, f.result(), strict=True):
                    if row["status"] != "error":
                        _append(self.fh, key, row)

    def close(self) -> None:
        """Close the progress bar and the journal."""
        if self.bar is not None:
            self.bar.close()
        if self.fh is not None:
            self.fh.close()


def _job_result(f: Future, job: list[tuple]) -> list[dict]:
    try:
        return f.result()
    except Exception as exc:  # noqa: BLE001 - one failed point must not lose the sweep
        return [{"status": "error", "message": f"{type(exc).__name__}: {exc}"}] * len(job)


class Window:
    """Submissions kept about ``2 x slots`` in flight (sweeps and batches alike).

    A scheduler is never flooded, and an interruption leaves little to cancel.
    """

    def __init__(self, items: Iterable, submit: Callable[[Any], Future], slots: int):
        self.pending: dict[Future, Any] = {}
        self._queue = iter(items)
        self._submit = submit
        self.size = max(2 * slots, 4)

    def finished(self):
        """Yield ``(item, future)`` as futures finish, topping the window up each time."""
        while True:
            for item in self._queue:
                self.pending[self._submit(item)] = item
                if len(self.pending) >= self.size:
                    break
            if not self.pending:
                return
            done, _ = wait(list(self.pending), return_when=FIRST_COMPLETED)
            for f in done:
                yield self.pending.pop(f), f

    def cancel(self) -> None:
        """Cancel what has not started (the rest stays in ``pending``)."""
        for f in self.pending:
            f.cancel()


def _run_jobs(
    run: _Run, ex, slots: int, close, jobs: dict[int, list[tuple]], submit: Callable
) -> None:
    """Keep about ``2 x slots`` jobs in flight until every job is done (or interrupted)."""
    window = Window(jobs.values(), lambda job: submit(ex, job), slots)
    try:
        for job, f in window.finished():
            run.record(job, _job_result(f, job))
    finally:
        window.cancel()
        close()  # waits for the jobs already running (pool workers ignore Ctrl-C)
        run.keep_finished(window.pending)
        run.close()


def _progress_bar(progress: bool, todo: list, reused: int):
    if not (progress and todo):
        return None
    from tqdm import tqdm

    return tqdm(
        total=len(todo),
        desc=f"sweep ({reused} reused)" if reused else "sweep",
        unit="task",
        file=sys.stderr,
    )


def _journal(
    journal: str | Path | None, out: str | Path | None, resume: bool
) -> tuple[Path | None, dict[str, dict]]:
    """The journal's path and the tasks it holds (none without ``resume``: it is removed)."""
    jpath = (
        Path(journal) if journal is not None else (journal_path(out) if out is not None else None)
    )
    done = read_journal(jpath) if (jpath is not None and resume) else {}
    if jpath is not None and not resume and jpath.exists():
        jpath.unlink()
    return jpath, done


def sweep(
    scenario: Scenario | str | Path,
    vary: Iterable[str | Axis],
    rules: str | Sequence[str] | None = None,
    solver: str = "highs",
    time_limit: float | None = None,
    *,
    out: str | Path | None = None,
    journal: str | Path | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = True,
    limit: int | None = None,
    progress: bool = False,
    on_result: Callable[[dict], None] | None = None,
) -> pd.DataFrame:
    """Solve every point of the grid under every rule; one row per point and rule.

    ``vary``: axis specs such as ``"labour=0.8:1.2:5"``. ``out``: write the
    results there (Parquet or CSV by suffix) and journal finished tasks in
    ``OUT.journal.jsonl`` (or ``journal``); with ``resume`` (default) tasks
    already in the journal are not solved again. ``executor``: any
    ``concurrent.futures.Executor``; else ``scheduler`` (a Dask scheduler
    address, or ``"local"`` for a local Dask cluster of ``workers``
    processes); else a process pool of ``workers`` (default: one per CPU;
    0 solves in this process). ``limit``: solve at most this many new tasks,
    then stop (the rest wait for a rerun). ``on_result`` is called with each
    new row as it arrives.

    The frame's ``attrs`` say ``solved`` (tasks solved now), ``reused`` (taken
    from the journal), ``failed`` (raised; rows with status ``error``) and
    ``complete`` (every task has a row).
    """
    s = as_scenario(scenario)
    rules = parse_rules(rules)
    axes = parse_axes(vary)
    check_axes(s, axes)
    tasks = [
        (i, p, r, task_key(s.content_hash, p, r, solver, time_limit))
        for i, p in enumerate(grid(axes))
        for r in rules
    ]
    jpath, done = _journal(journal, out, resume)
    rows: dict[str, dict] = {k: done[k] for _, _, _, k in tasks if k in done}
    todo = [t for t in tasks if t[3] not in rows]
    if limit is not None:
        todo = todo[: max(0, limit)]
    reused = len(rows)
    # one job per point: the variant is built once for the rules it still lacks
    jobs: dict[int, list[tuple]] = {}
    for t in todo:
        jobs.setdefault(t[0], []).append(t)
    bar = _progress_bar(progress, todo, reused)
    fh = jpath.open("a", encoding="utf-8") if (jpath is not None and todo) else None
    run = _Run(rows, fh, bar, on_result)
    ex, slots, close = (
        (None, 1, lambda: None)
        if not todo
        else _executor_for(executor, workers, scheduler, len(jobs))
    )

    def submit(ex, job: list[tuple]) -> Future:
        return ex.submit(solve_point, s, job[0][1], [t[2] for t in job], solver, time_limit)

    _run_jobs(run, ex, slots, close, jobs, submit)
    df = _frame(axes, tasks, rows)
    df.attrs.update(
        solved=run.solved,
        reused=reused,
        failed=run.failed,
        complete=len(df) == len(tasks),
        tasks=len(tasks),
    )
    if out is not None:
        write_results(df, out)
    return df


def _frame(axes: Sequence[Axis], tasks: list[tuple], rows: dict[str, dict]) -> pd.DataFrame:
    records = []
    for i, point, rule, key in tasks:
        if key in rows:
            records.append({"point": i, **point, "rule": rule, **rows[key], "key": key})
    head = ["point", *(a.name for a in axes), "rule", "status"]
    if not records:
        return pd.DataFrame(columns=[*head, "key"])
    df = pd.DataFrame.from_records(records)
    for col, empty in (("message", ""), ("seconds", np.nan)):
        if col not in df.columns:
            df[col] = empty
    df["message"] = df["message"].fillna("").astype(str)
    rest = [c for c in df.columns if c not in head and c not in ("seconds", "message", "key")]
    return df[[*head, *rest, "message", "seconds", "key"]].reset_index(drop=True)

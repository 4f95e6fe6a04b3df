"""Batches of plans: independent solves on local processes or a Dask cluster, resumable.

Courses of action, mandate costs and what-ifs (:mod:`planner.alternatives`,
:mod:`planner.costs`) are each a batch of tasks, one plan a task. A task is a
module-level function and its arguments (picklable), named by a key that is a
hash of everything that decides its result. :func:`run_batch` runs them on

* a local process pool (the default; ``workers=0`` runs them in this process),
* a Dask cluster when a scheduler address is given, or configured in
  ``COMMUNE_DASK_SCHEDULER`` (``"local"`` starts a local Dask cluster),
* or any ``concurrent.futures`` executor passed in,

through the sweeps' executor machinery (:mod:`planner.sweep`), so the same
batch gives the same results wherever it runs. A task's result is a JSON
document (a plan's SPEC JSON and a few figures); with a journal file each
finished task is appended to it at once, and a batch run again with the same
journal solves only what is missing (an interrupted batch resumes). A
scheduler that cannot be reached is one :class:`BatchError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from planner.sweep import Window, _append, _executor_for, read_journal

SCHEDULER_ENV = "COMMUNE_DASK_SCHEDULER"
CONNECT_TIMEOUT = 10.0

Progress = Callable[[int, int, str], None]


class BatchError(RuntimeError):
    """A batch that cannot run: an unreachable scheduler, a task that failed."""


@dataclass(frozen=True)
class Task:
    """One plan of a batch: ``fn(*args)`` returns a JSON-able dict; ``key`` names the result."""

    key: str
    fn: Callable[..., dict]
    args: tuple
    label: str = ""


def task_key(*parts: Any) -> str:
    """A stable hash of the parts (numbers rounded to 12 digits, arrays by their values)."""

    def plain(v):
        if isinstance(v, np.ndarray):
            return [plain(x) for x in v.tolist()]
        if isinstance(v, float | np.floating):
            return float(f"{float(v):.12g}") if np.isfinite(v) else str(v)
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in sorted(v.items())}
        if isinstance(v, list | tuple):
            return [plain(x) for x in v]
        if isinstance(v, np.integer):
            return int(v)
        return v

    doc = json.dumps(plain(list(parts)), sort_keys=True, default=str)
    return hashlib.sha256(doc.encode()).hexdigest()[:24]


def configured_scheduler(scheduler: str | None) -> str | None:
    """The scheduler given, else the one in ``COMMUNE_DASK_SCHEDULER`` (None: local processes)."""
    return scheduler or os.environ.get(SCHEDULER_ENV) or None


def open_executor(
    executor: Executor | None,
    workers: int | None,
    scheduler: str | None,
    jobs: int,
    timeout: float | None = None,
):
    """(executor, parallelism, close) as :func:`planner.sweep._executor_for`, with a clear error.

    A remote scheduler is reached within ``timeout`` seconds (default
    ``CONNECT_TIMEOUT``) or not at all: ``BatchError("cannot reach the Dask
    scheduler at ...")``.
    """
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    if executor is None and scheduler and scheduler != "local":
        try:
            from distributed import Client

            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise BatchError(
                f"cannot reach the Dask scheduler at {scheduler} "
                f"(within {timeout:g} s): {type(exc).__name__}: {exc}"
            ) from None
        slots = max(1, sum(client.nthreads().values()))
        return client.get_executor(pure=False), slots, client.close
    return _executor_for(executor, workers, scheduler, jobs)


@contextmanager
def batch_executor(
    executor: Executor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    jobs: int = 1,
):
    """An executor for several batches in a row (opened once: one pool, one Dask client)."""
    ex, _, close = open_executor(executor, workers, configured_scheduler(scheduler), max(1, jobs))
    try:
        yield ex
    finally:
        close()


@dataclass
class BatchRun:
    """What a batch did: results by key, how many were solved now or reused, and its seconds."""

    results: dict[str, dict]
    solved: int = 0
    reused: int = 0
    seconds: float = 0.0

    def cpu_seconds(self) -> float:
        """CPU seconds the tasks report (summed over workers, journalled ones included)."""
        return float(sum(r.get("cpu_seconds", 0.0) for r in self.results.values()))

    def iterations(self) -> int:
        """LP iterations the tasks report."""
        return int(sum(r.get("iterations", 0) for r in self.results.values()))


def new_stats() -> dict:
    """Counters of one or more batches: tasks, solved, reused, seconds, CPU s, iterations."""
    return {
        "tasks": 0,
        "solved": 0,
        "reused": 0,
        "seconds": 0.0,
        "cpu_seconds": 0.0,
        "iterations": 0,
    }


def add_stats(stats: dict, run: BatchRun, n: int) -> None:
    """Add a finished batch of ``n`` tasks to ``stats`` (see :func:`new_stats`)."""
    stats["tasks"] += n
    stats["solved"] += run.solved
    stats["reused"] += run.reused
    stats["seconds"] += run.seconds
    stats["cpu_seconds"] += run.cpu_seconds()
    stats["iterations"] += run.iterations()


def timed(fn: Callable[..., dict], *args) -> dict:
    """Run ``fn(*args)`` and add its ``cpu_seconds`` (this process's CPU time) to the result."""
    c0 = time.process_time()
    out = fn(*args)
    out["cpu_seconds"] = time.process_time() - c0
    return out


def run_batch(
    tasks: Sequence[Task],
    *,
    journal: str | Path | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    label: str = "batch",
) -> BatchRun:
    """Run every task not yet in the journal; results by key (journalled ones included).

    A task that raises stops the batch with :class:`BatchError` naming it (the
    tasks finished before it stay in the journal).
    """
    t0 = time.perf_counter()
    jpath = Path(journal) if journal is not None else None
    done = read_journal(jpath) if jpath is not None else {}
    results = {t.key: done[t.key] for t in tasks if t.key in done}
    todo = [t for t in tasks if t.key not in results]
    run = BatchRun(results, reused=len(results))
    total = len(tasks)
    if progress is not None:
        progress(len(results), total, label)
    if not todo:
        run.seconds = time.perf_counter() - t0
        return run
    ex, slots, close = open_executor(executor, workers, configured_scheduler(scheduler), len(todo))
    fh = jpath.open("a", encoding="utf-8") if jpath is not None else None
    window = Window(todo, lambda t: ex.submit(timed, t.fn, *t.args), slots)
    try:
        for t, f in window.finished():
            try:
                row = f.result()
            except Exception as exc:  # noqa: BLE001 - named in one clear error
                raise BatchError(
                    f"{label}: task {t.label or t.key} failed: {type(exc).__name__}: {exc}"
                ) from exc
            results[t.key] = row
            run.solved += 1
            if fh is not None:
                _append(fh, t.key, row)
            if progress is not None:
                progress(len(results), total, label)
    finally:
        window.cancel()
        close()
        if fh is not None:
            fh.close()
    run.seconds = time.perf_counter() - t0
    return run

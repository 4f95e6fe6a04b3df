"""The worker: takes jobs from the database queue and solves each in a child process.

The child (``_solve_child``) loads the plan's input snapshot and runs
``planner.solve`` (with precise levels unless the plan's ``precise`` is
false; with its need stages in rational arithmetic when its ``exact`` is
true, and that exact plan then proved leximin when its ``certify`` is); the
worker renews the job's heartbeat every
``job_heartbeat_seconds``, passes on progress, and kills the child when the
job is cancelled, when it runs past its time limit (twice it for a plan to
certify, plus ``job_grace_seconds``), or when the job is no longer its own. A child
exits by itself when its worker dies, so a killed worker leaves nothing
running; its job is queued again by the next worker (see
``api.services.queue``). ``inline=True`` solves in this process instead
(tests and ``planner demo``): no cancellation or hard time limit then.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing as mp
import os
import sys
import threading
import time
import traceback
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from api.config import Settings
from api.db import make_engine, make_sessionmaker
from api.orm import PlanRow
from api.services import queue

log = logging.getLogger("commune.worker")
EXPLAIN_SECONDS = 5.0
CERTIFYING = "certifying"
"""The progress of a certificate: "certifying", then "certifying · level k of n"."""


class Refused(ValueError):
    """The planner refused the plan's options (``exact`` on a policy it cannot plan exactly).

    The plan fails with the planner's own line, not as a solver failure.
    """


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def failure(exc: BaseException) -> str:
    """The one line a plan's page and the API show when solving raised (details: the log)."""
    reason = _first_line(exc)
    if isinstance(exc, Refused):
        return reason
    return f"the solver failed: {reason} (the details are in the worker's log)"


def _rule_for(doc: dict, rule: str | None) -> str | None:
    """None (the scenario's own stages) when the stamped rule is just the policy's own."""
    pol = (doc.get("scenario") or {}).get("policy") or {}
    if pol.get("stages") and rule == pol.get("rule", "leximin"):
        return None
    return rule


def solve_document(
    doc: dict,
    rule: str | None,
    solver: str,
    time_limit: float,
    progress=None,
    precise: bool | None = None,
    exact: bool = False,
    certify: bool = False,
) -> tuple[dict, dict | None]:
    """Solve a stored input snapshot; the SPEC plan JSON and its certificate (or None).

    ``precise``: levels planned more exactly (``planner.engine.PRECISE``, as
    ``planner solve --precise``); HiGHS only. None: the solver's default (precise with
    HiGHS). ``exact``: the leading leximin need stages planned exactly, in rational
    arithmetic (as ``planner solve --exact``); the planner's ValueError (a policy it
    cannot plan exactly) is raised as :class:`Refused`, one line. ``certify``: the exact
    plan, once made and explained, proved leximin at its exact levels (as ``planner solve
    --exact --certify``) within as much again as ``time_limit``; its summary
    (:func:`certify_plan`) comes beside the plan JSON, which it leaves as it is. Without
    ``certify`` the certificate is None.
    """
    import models
    import planner

    if precise and solver != "highs":  # the request refuses it; a stray row fails in one line
        raise ValueError(f"precise works with the highs solver only, not {solver}")
    scenario = models.from_json(doc)
    started = time.monotonic()
    extra = {"exact": True} if exact else {}  # the engine's own options otherwise
    try:
        plan = planner.solve(
            scenario,
            rule=_rule_for(doc, rule),
            solver=solver,
            time_limit=time_limit,
            progress=progress,
            precise=precise,
            **extra,
        )
    except ValueError as exc:
        if not exact:
            raise
        raise Refused(str(exc).strip() or "exact planning refused this plan") from exc
    from planner.why import enrich_safely

    # explanations, minimal conflicts, reconciliation: in what is left of the time limit
    # (at least a few seconds; the job's grace covers them)
    left = max(EXPLAIN_SECONDS, time_limit - (time.monotonic() - started))
    out = enrich_safely(scenario, plan, seconds=left)
    if not certify:
        return out, None
    return out, certify_plan(scenario, plan, time_limit, progress)


class _OutOfTime(Exception):
    """The certificate's time ran out between two levels (``done`` of ``total`` checked)."""

    def __init__(self, done: int, total: int):
        super().__init__(f"{done} of {total} levels")
        self.done, self.total = done, total


def certify_plan(scenario, plan, seconds: float, progress=None) -> dict:
    """The leximin certificate of an exact ``planner.plan.Plan``, summarised for its row.

    ``planner.certificate.exact_levels_certificate`` at the plan's exact levels (as
    ``planner solve --exact --certify``), in at most about ``seconds``: each level's exact
    solve is capped at half of them (a level without an answer then is undecided), and
    no level starts after the first half. ``progress(stage, k, value)``: told
    "certifying", then "certifying · level k of n" after each level.

    The summary: :func:`certificate_summary`; or ``{"error": one line}`` when there is no
    certificate: a plan not made (not optimal or shortfall), the time out between
    levels, or the certificate raised (an exact solver failure; the traceback goes to the
    log). The plan itself stands either way.
    """
    from planner.certificate import exact_levels_certificate

    if plan.status not in ("optimal", "shortfall"):
        return {"error": f"nothing to certify: the plan ended {plan.status}"}
    if not plan.exact_levels:
        return {"error": "nothing to certify: the plan has no exact levels"}
    half = seconds / 2
    started = time.monotonic()

    def on_level(level, done: int, total: int) -> None:
        if progress is not None:
            progress(f"{CERTIFYING} · level {done} of {total}", 0, 0.0)
        if done < total and time.monotonic() - started > half:
            raise _OutOfTime(done, total)

    if progress is not None:
        progress(CERTIFYING, 0, 0.0)
    try:
        levels = exact_levels_certificate(scenario, plan, on_level=on_level, level_seconds=half)
    except _OutOfTime as stop:
        return {
            "error": f"the certificate ran out of time ({seconds:g} s, as much as the plan's "
            f"time limit) after {stop.done} of {stop.total} levels; ask for a longer time limit"
        }
    except Exception as exc:  # noqa: BLE001 - the plan stands; one line for it, details logged
        log.exception("the certificate of a plan of %s failed", scenario.name)
        return {
            "error": f"the certificate failed: {_first_line(exc)} (details in the worker's log)"
        }
    return certificate_summary(levels, time.monotonic() - started)


def certificate_summary(levels, seconds: float) -> dict:
    """What the plan's row keeps of ``exact_levels_certificate``'s levels (JSON, no NaN).

    ``levels`` checked, ``passed`` (none failed or undecided), ``seconds``, ``failed``
    (each tier, level, needs at it and how far they can rise together: ``rise`` not 0)
    and ``undecided`` (tier, level, needs: no answer within the level's time cap).
    """
    from planner.certificate import exact_verdict

    failed, undecided = exact_verdict(levels)

    def where(lv) -> dict:
        return {"tier": int(lv.tier), "level": float(lv.level), "needs": int(lv.needs)}

    return {
        "levels": len(levels),
        "passed": not failed and not undecided,
        "seconds": round(seconds, 3),
        "failed": [{**where(lv), "rise": float(lv.rise)} for lv in failed],
        "undecided": [where(lv) for lv in undecided],
    }


def courses_document(doc: dict, rule: str | None, solver: str, task: dict, progress=None) -> dict:
    """The courses of action of a stored input snapshot, and the binding mandates' costs.

    ``task``: count, slack, workers, scheduler, journal (see ``api.services.courses``).
    The result: the optimal plan's status, ``optimal``, ``courses``, ``mandate_costs`` and
    ``what_ifs`` (one step more of each binding bound, best first).
    """
    import models
    from planner.alternatives import courses_of_action
    from planner.costs import mandate_costs, what_ifs

    scenario = models.from_json(doc)
    batch = {
        "workers": task.get("workers"),
        "scheduler": task.get("scheduler"),
        "journal": task.get("journal"),
        "progress": progress,
    }
    c = courses_of_action(
        scenario, task["count"], task["slack"], rule=_rule_for(doc, rule), solver=solver, **batch
    )
    out = {"status": c.optimal.get("status", "error"), "kind": "courses", **c.to_dict()}
    if c.optimal.get("status") in ("optimal", "shortfall"):
        costs = mandate_costs(scenario, plan=c.optimal, rule=_rule_for(doc, rule), **batch)
        out["mandate_costs"] = costs["costs"]
        ifs = what_ifs(scenario, plan=c.optimal, rule=_rule_for(doc, rule), **batch)
        out["what_ifs"] = [{k: v for k, v in r.items() if k != "needs"} for r in ifs["what_ifs"]]
    return out


def run_job(
    doc: dict,
    rule,
    solver,
    time_limit,
    task: dict | None,
    progress=None,
    batch_progress=None,
    precise: bool | None = None,
    exact: bool = False,
    certify: bool = False,
) -> tuple[dict, dict | None]:
    """A plan (SPEC JSON) or, for a ``courses`` task, the courses of action; and a certificate.

    The certificate: the plan's (None unless ``certify``). ``precise``: the plan's levels
    planned more exactly; ``exact``: its need stages planned exactly; ``certify``: the
    exact plan proved leximin (``solve_document``).
    """
    if task is not None and task.get("purpose") == "courses":
        return courses_document(doc, rule, solver, task, batch_progress), None
    return solve_document(
        doc, rule, solver, time_limit, progress, precise=precise, exact=exact, certify=certify
    )


def _needs_pool(task: dict | None) -> bool:
    """Whether the job's batch starts local processes (a pool or a local Dask cluster)."""
    if not task:
        return False
    scheduler = task.get("scheduler")
    return scheduler == "local" or (not scheduler and task.get("workers") != 0)


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(3)
        time.sleep(0.25)


def progress_text(stage: str, k: int, value: float, elapsed: float) -> str:
    """A job's progress as the command line shows it: stage, round, level, seconds.

    A certificate's ("certifying · level k of n") as it is, with the seconds.
    """
    if stage.startswith(CERTIFYING):
        return f"{stage} · {elapsed:.1f} s"
    if k > 0:
        return f"stage {stage} · round {k} · level {value:.4g} · {elapsed:.1f} s"
    return f"stage {stage} · {elapsed:.1f} s"


def _solve_child(
    conn,
    doc: dict,
    rule: str | None,
    solver: str,
    time_limit: float,
    delay: float,
    parent: int,
    task: dict | None = None,
    precise: bool = False,
    exact: bool = False,
    certify: bool = False,
) -> None:
    """Child process: send the worker ("done", (plan, certificate)) or ("error", message)."""
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    last = [0.0]
    start = time.monotonic()

    def progress(stage: str, k: int, value: float) -> None:
        now = time.monotonic()
        if now - last[0] > 0.5:
            last[0] = now
            conn.send(("progress", progress_text(stage, k, value, now - start)))

    def batch_progress(done: int, total: int, label: str) -> None:
        conn.send(("progress", f"{label}: {done}/{total} plans"))

    try:
        if delay:
            conn.send(("progress", f"test delay: sleeping {delay:g} s in process {os.getpid()}"))
            time.sleep(delay)
        result = run_job(
            doc,
            rule,
            solver,
            time_limit,
            task,
            progress,
            batch_progress,
            precise=precise,
            exact=exact,
            certify=certify,
        )
        conn.send(("done", result))
    except Exception as exc:  # noqa: BLE001 - reported as the plan's error
        conn.send(("error", (failure(exc), traceback.format_exc())))
    finally:
        conn.close()


class Worker:
    """One worker: one job at a time."""

    def __init__(self, settings: Settings, engine: Engine | None = None, inline: bool = False):
        self.settings = settings
        self.engine = engine or make_engine(settings.sqlalchemy_url)
        self.sessions = make_sessionmaker(self.engine)
        self.inline = inline
        self.name = queue.worker_name()
        self.stop = threading.Event()
        self._last_recovery = -1e9

    def recover(self) -> list[int]:
        """Queue again the jobs of dead workers."""
        self._last_recovery = time.monotonic()
        with self.sessions() as s:
            ids = queue.requeue_stale(
                s, self.settings.job_stale_seconds, self.settings.job_max_attempts
            )
        if ids:
            log.warning("queued again after an interruption: jobs %s", ids)
        return ids

    def run_once(self) -> bool:
        """Claim and run one job; False when the queue is empty."""
        with self.sessions() as s:
            claim = queue.claim(s, self.name)
            if claim is None:
                return False
            plan = s.get(PlanRow, claim.plan_id)
            job = (
                plan.input,
                plan.rule,
                plan.solver,
                plan.time_limit,
                self._task(s, plan),
                bool(plan.precise),
                bool(plan.exact),
                bool(plan.certify),
            )
        log.info("job %s (plan %s), attempt %s", claim.job_id, claim.plan_id, claim.attempt)
        if self.inline:
            self._run_inline(claim, *job)
        else:
            self._run_child(claim, *job)
        return True

    def run(self, idle_exit: bool = False) -> None:
        """Work until ``stop`` is set (or, with ``idle_exit``, until the queue is empty)."""
        while not self.stop.is_set():
            try:
                if time.monotonic() - self._last_recovery > self.settings.job_stale_seconds / 2:
                    self.recover()
                if not self.run_once():
                    if idle_exit:
                        return
                    self.stop.wait(self.settings.worker_poll_seconds)
            except OperationalError as exc:  # the database went away: wait, then carry on
                log.error("database unavailable (%s); retrying", exc.orig or exc)
                self.stop.wait(5 * self.settings.worker_poll_seconds + 1)

    def _task(self, session, plan: PlanRow) -> dict | None:
        """A batch's options (courses of action), None for a plain plan."""
        if plan.purpose != "courses":
            return None
        from pathlib import Path

        from api.orm import CourseSet

        opts = session.get(CourseSet, plan.id)
        journal = Path(self.settings.batch_journal_dir)
        journal.mkdir(parents=True, exist_ok=True)
        return {
            "purpose": "courses",
            "count": opts.count if opts else 3,
            "slack": opts.slack if opts else 0.02,
            "workers": self.settings.batch_workers,
            "scheduler": self.settings.dask_scheduler,
            "journal": str(journal / f"plan-{plan.id}.jsonl"),
        }

    def _finish(
        self,
        claim: queue.Claim,
        status: str,
        result: dict | None = None,
        message: str = "",
        state: str = "done",
        certificate: dict | None = None,
    ) -> None:
        with self.sessions() as s:
            queue.finish(s, claim, status, result, message, state, certificate)

    def _run_inline(
        self,
        claim,
        doc,
        rule,
        solver,
        time_limit,
        task=None,
        precise: bool = False,
        exact: bool = False,
        certify: bool = False,
    ) -> None:
        try:
            result, certificate = run_job(
                doc, rule, solver, time_limit, task, precise=precise, exact=exact, certify=certify
            )
        except Exception as exc:  # noqa: BLE001 - the job fails with one clear line
            log.exception("job %s (plan %s) failed", claim.job_id, claim.plan_id)
            self._finish(claim, "error", None, failure(exc), "failed")
            return
        self._finish(claim, *_done(result, certificate))

    def _run_child(
        self,
        claim,
        doc,
        rule,
        solver,
        time_limit,
        task=None,
        precise: bool = False,
        exact: bool = False,
        certify: bool = False,
    ) -> None:
        ctx = mp.get_context("spawn")
        ours, theirs = ctx.Pipe(duplex=False)
        child = ctx.Process(
            target=_solve_child,
            args=(
                theirs,
                doc,
                rule,
                solver,
                time_limit,
                self.settings.worker_delay,
                os.getpid(),
                task,
                precise,
                exact,
                certify,
            ),
            # a daemonic process may not start processes: a batch on local processes needs
            # its child non-daemonic (it still exits by itself when this worker dies)
            daemon=not _needs_pool(task),
        )
        child.start()
        theirs.close()
        started = time.monotonic()
        # a plan to certify: the plan within its time limit, its certificate within as much
        # again (solve_document)
        hard_limit = time_limit * (2 if certify else 1) + self.settings.job_grace_seconds
        outcome = self._watch(claim, child, ours, started, hard_limit)
        if child.is_alive():
            child.kill()
        child.join(5)
        ours.close()
        if outcome is not None:
            self._finish(claim, *outcome)

    def _watch(self, claim, child, conn, started: float, hard_limit: float) -> tuple | None:
        """Wait for the child, heartbeating; the (status, result, message, state...) to record."""
        progress = None
        while True:
            try:
                if conn.poll(self.settings.job_heartbeat_seconds):
                    kind, payload = conn.recv()
                    if kind == "done":
                        return _done(*payload)
                    if kind == "error":
                        message, details = payload
                        log.error(
                            "job %s (plan %s) failed:\n%s", claim.job_id, claim.plan_id, details
                        )
                        return "error", None, message, "failed"
                    progress = payload
            except (EOFError, OSError):
                return self._crashed(claim, child)
            with self.sessions() as s:
                owned, cancel = queue.heartbeat(s, claim, progress)
            progress = None
            if not owned:
                log.warning("job %s is no longer ours; dropping it", claim.job_id)
                return None
            if cancel:
                return "cancelled", None, "cancelled while running", "cancelled"
            if time.monotonic() - started > hard_limit:
                return "time_limit", None, f"stopped after {hard_limit:g} s (time limit)", "failed"
            if self.stop.is_set():
                with self.sessions() as s:
                    queue.release(s, claim)
                return None

    def _crashed(self, claim, child) -> tuple | None:
        """The child died without a word: retry (the attempt counts) or give up."""
        child.join(5)
        if claim.attempt < self.settings.job_max_attempts:
            with self.sessions() as s:
                queue.release(s, claim, count=True)
            return None
        return "error", None, f"the solving process died (exit code {child.exitcode})", "failed"


def _done(result: dict, certificate: dict | None) -> tuple:
    """A job's outcome once solved: (status, result, message, state, certificate)."""
    return result["status"], result, result.get("message", ""), "done", certificate


def run_pending(settings: Settings, engine: Engine | None = None) -> int:
    """Solve every queued job in this process, then return how many ran (tests, demo)."""
    w = Worker(settings, engine, inline=True)
    n = 0
    while w.run_once():
        n += 1
    return n


def serve_forever(settings: Settings) -> None:
    """``planner worker``: run until SIGTERM/SIGINT, then give the current job back."""
    import signal

    w = Worker(settings)

    def _stop(*_: Any) -> None:
        w.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server = os.environ.get(SERVER_PID)
    if server and server.isdigit():
        die_with(int(server), w.stop)
    log.info("worker %s polling %s", w.name, settings.database_url)
    w.run()


SERVER_PID = "COMMUNE_SERVER_PID"
"""Set by ``planner serve`` for its workers: the server's pid, which they must not outlive."""
_PR_SET_PDEATHSIG = 1


def die_with(parent: int, stop: threading.Event, grace: float = 10.0) -> None:
    """Stop when process ``parent`` (the server) is gone, however it ended (even ``kill -9``).

    On Linux the kernel sends SIGTERM when the parent dies (``prctl``
    ``PR_SET_PDEATHSIG``); everywhere a thread checks once a second that
    the parent is still ours, and sets ``stop`` (the current job is given
    back), then ends the process if it has not stopped ``grace`` s later.
    """
    import signal

    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the thread still watches
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        log.warning("worker: the server (pid %s) is gone; stopping", parent)
        stop.set()
        time.sleep(grace)
        os._exit(3)

    threading.Thread(target=watch, name="server-watch", daemon=True).start()

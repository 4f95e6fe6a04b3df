"""The durable job queue, on the application's own database (SQLite or PostgreSQL).

Why not huey: huey removes a task from its queue before running it, so a
worker killed mid-solve loses the task (coleifer/huey#418, #559, #844), and
its PostgreSQL storage needs peewee. This queue keeps every job in the
``jobs`` table until it is finished:

* ``claim`` takes the oldest queued job (``SELECT ... FOR UPDATE SKIP
  LOCKED`` on PostgreSQL; a conditional ``UPDATE`` decides the race on
  both), marks it running with this worker's name and counts the attempt;
* the worker renews ``heartbeat`` every second; a job whose heartbeat is
  older than ``job_stale_seconds``, or whose worker process on this host is
  gone, is queued again by ``requeue_stale`` (failed after
  ``job_max_attempts``);
* ``finish`` writes the result only while the job is still this attempt's,
  and a plan's result only once (plans are immutable).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.db import utcnow
from api.orm import Job, PlanRow


def worker_name() -> str:
    """``host:pid`` of this process (how a job names the worker that holds it)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Claim:
    """A claimed job: enough to run it and to prove ownership afterwards."""

    job_id: int
    plan_id: int
    attempt: int
    worker: str


def claim(session: Session, worker: str) -> Claim | None:
    """Take the oldest queued job, or None when there is none."""
    for _ in range(5):
        q = select(Job.id).where(Job.state == "queued").order_by(Job.id).limit(1)
        if session.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        job_id = session.scalar(q)
        if job_id is None:
            session.rollback()
            return None
        now = utcnow()
        won = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == "queued")
            .values(
                state="running",
                worker=worker,
                attempts=Job.attempts + 1,
                heartbeat_at=now,
                started_at=now,
                progress="",
            )
        ).rowcount
        if won:
            job = session.get(Job, job_id)
            session.execute(
                update(PlanRow)
                .where(PlanRow.id == job.plan_id, PlanRow.result.is_(None))
                .values(status="running")
            )
            session.commit()
            return Claim(job.id, job.plan_id, job.attempts, worker)
        session.rollback()
    return None


def _mine(c: Claim):
    return (
        Job.id == c.job_id,
        Job.worker == c.worker,
        Job.attempts == c.attempt,
        Job.state == "running",
    )


def heartbeat(session: Session, c: Claim, progress: str | None = None) -> tuple[bool, bool]:
    """Renew the lease; returns (still ours, cancellation requested)."""
    values = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = progress[:500]
    owned = session.execute(update(Job).where(*_mine(c)).values(**values)).rowcount == 1
    cancel = bool(session.scalar(select(Job.cancel_requested).where(Job.id == c.job_id)))
    session.commit()
    return owned, cancel


def finish(
    session: Session,
    c: Claim,
    status: str,
    result: dict | None = None,
    message: str = "",
    state: str = "done",
    certificate: dict | None = None,
) -> bool:
    """Record the outcome if the job is still ours; the plan's result is written once only.

    ``certificate``: the plan's leximin certificate (``plans.certify``), written with it.
    """
    now = utcnow()
    owned = (
        session.execute(
            update(Job)
            .where(*_mine(c))
            .values(
                state=state,
                finished_at=now,
                heartbeat_at=now,
                progress="",  # a finished job has no stage in progress
                error=message if state == "failed" else "",
            )
        ).rowcount
        == 1
    )
    if owned:
        session.execute(
            update(PlanRow)
            .where(PlanRow.id == c.plan_id, PlanRow.result.is_(None))
            .values(
                status=status,
                result=result,
                message=message,
                finished_at=now,
                certificate=certificate,
            )
        )
    session.commit()
    return owned


def release(session: Session, c: Claim, count: bool = False) -> None:
    """Put a job back in the queue; the attempt counts only with ``count`` (a crash, not a shutdown)."""
    attempts = Job.attempts if count else Job.attempts - 1
    session.execute(
        update(Job).where(*_mine(c)).values(state="queued", worker=None, attempts=attempts)
    )
    session.execute(
        update(PlanRow)
        .where(PlanRow.id == c.plan_id, PlanRow.result.is_(None))
        .values(status="queued")
    )
    session.commit()


def _gone(worker: str | None, host: str) -> bool:
    """True when ``worker`` ran on this host and its process no longer exists."""
    if not worker:
        return True
    name, _, pid = worker.rpartition(":")
    if name != host or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def requeue_stale(session: Session, stale_seconds: float, max_attempts: int) -> list[int]:
    """Queue again every running job whose worker died; fail those tried ``max_attempts`` times."""
    cutoff = utcnow() - timedelta(seconds=stale_seconds)
    host = socket.gethostname()
    out = []
    for job in session.scalars(select(Job).where(Job.state == "running")).all():
        stale = job.heartbeat_at is None or job.heartbeat_at < cutoff
        if not (stale or _gone(job.worker, host)):
            continue
        give_up = job.attempts >= max_attempts
        values = (
            {
                "state": "failed",
                "finished_at": utcnow(),
                "error": f"interrupted {job.attempts} times",
            }
            if give_up
            else {"state": "queued", "worker": None}
        )
        done = session.execute(
            update(Job)
            .where(
                Job.id == job.id,
                Job.worker == job.worker,
                Job.attempts == job.attempts,
                Job.state == "running",
            )
            .values(**values)
        ).rowcount
        if done:
            status = (
                {"status": "error", "message": values.get("error", ""), "finished_at": utcnow()}
                if give_up
                else {"status": "queued"}
            )
            session.execute(
                update(PlanRow)
                .where(PlanRow.id == job.plan_id, PlanRow.result.is_(None))
                .values(**status)
            )
            out.append(job.id)
    session.commit()
    return out

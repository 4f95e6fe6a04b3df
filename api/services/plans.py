"""Plans as jobs: request (snapshot the input, queue a job), read, list, cancel.

A request never solves: it validates and snapshots the (sub)scenario,
stamps it (input hash, rule, solver, precise, exact, certify, software version) and queues
a job in the same transaction. The worker (``api.worker``) fills in the
result; nothing else ever changes a plan's input or result.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import models
import solvers
from api.config import Settings
from api.db import utcnow
from api.errors import Conflict, Forbidden, Invalid, NotFound
from api.orm import Confederation, Job, PlanRow
from api.security import Principal
from api.services import audit, authz, scenarios

FINAL = ("optimal", "shortfall", "infeasible", "time_limit", "error", "cancelled")


def software_version() -> str:
    """The installed commune-planner version (the planner's own when not installed)."""
    try:
        return metadata.version("commune-planner")
    except metadata.PackageNotFoundError:  # pragma: no cover - source checkout without install
        from planner.plan import VERSION

        return VERSION


PRECISE_SOLVER = "highs"
"""The one solver that plans levels more exactly (``precise``: planner.engine.PRECISE)."""

EXACT_RULE = "leximin"
"""The one rule planned exactly (``exact``: its need stages in rational arithmetic)."""


def check_options(
    settings: Settings,
    rule: str | None,
    solver: str,
    time_limit: float | None,
    precise: bool | None = None,
    exact: bool = False,
    certify: bool = False,
) -> float:
    """422 for a bad rule, solver, time limit or option; returns the time limit.

    Bad: an unknown rule or solver, a time limit out of range, ``precise`` with a
    solver other than HiGHS, ``exact`` with a rule other than leximin or without
    QSopt_ex's ``esolver`` on this server, ``certify`` without ``exact``. (The stage list
    a scenario's own policy gives is checked once the scenario is built:
    :func:`exact_problem`.)
    """
    problems = []
    if rule is not None:
        try:
            models.check_rule(rule)
        except models.PolicyError as exc:
            problems.append(f"body:0: rule: {exc}")
    available = solvers.list(only_available=True)
    if solver not in available:
        problems.append(
            f"body:0: solver: unknown or unavailable solver {solver!r} (available: {', '.join(available)})"
        )
    limit = settings.default_time_limit if time_limit is None else time_limit
    if not 0 < limit <= settings.max_time_limit:
        problems.append(f"body:0: time_limit: must be in (0, {settings.max_time_limit:g}] seconds")
    if precise and solver != PRECISE_SOLVER:
        problems.append(
            f"body:0: precise: works with the {PRECISE_SOLVER} solver only, not {solver!r}"
        )
    if exact:
        if rule is not None and rule.strip() in models.RULES and rule.strip() != EXACT_RULE:
            problems.append(
                f"body:0: exact: works with the {EXACT_RULE} rule only, not {rule.strip()!r}"
            )
        if not exact_available():
            problems.append(
                "body:0: exact: this server cannot plan exactly (QSopt_ex's esolver is not "
                "installed)"
            )
    if certify and not exact:
        problems.append("body:0: certify: works with exact plans only (ask for exact too)")
    if problems:
        raise Invalid("invalid plan request", problems=problems)
    return float(limit)


def _confederation(session: Session, conf_id: str) -> Confederation:
    c = session.scalar(select(Confederation).where(Confederation.id == conf_id))
    if c is None:
        raise NotFound(f"no confederation {conf_id!r}")
    return c


def request(
    session: Session,
    principal: Principal,
    settings: Settings,
    conf_id: str,
    rule: str | None = None,
    solver: str = "highs",
    time_limit: float | None = None,
    idempotency_key: str | None = None,
    purpose: str = "proposal",
    comparison_id: int | None = None,
    commit: bool = True,
    precise: bool | None = None,
    exact: bool = False,
    certify: bool = False,
) -> tuple[PlanRow, bool]:
    """Queue a plan of ``conf_id``'s subtree; returns (plan, created).

    Proposals are requested by a coordinator of the subtree (or an admin);
    the same Idempotency-Key with the same body returns the first plan,
    with another body 422. ``precise``: levels planned more exactly
    (planner.engine.PRECISE; HiGHS only). ``exact``: the leximin need stages planned
    exactly, in rational arithmetic (``planner solve --exact``); a rule or a policy
    whose stages do not start with leximin need stages is a 422. ``certify``: the exact
    plan then proved leximin at its exact levels (``planner solve --exact --certify``;
    without ``exact`` a 422), its summary stored in the plan's ``certificate``.
    """
    conf = _confederation(session, conf_id)
    if purpose == "proposal":
        authz.require_writer(principal)
        authz.require_coordinator(session, principal, conf_id)
    limit = check_options(settings, rule, solver, time_limit, precise, exact, certify)
    precise = precise_for(solver, precise)
    body = {
        "confederation": conf_id,
        "rule": rule,
        "solver": solver,
        "time_limit": limit,
        "precise": precise,
        "exact": bool(exact),
        "certify": bool(certify),
    }
    digest = request_hash(body)
    if idempotency_key is not None:
        earlier = _by_key(session, principal, idempotency_key)
        if earlier is not None:
            if earlier.request_hash != digest:
                raise Invalid("this Idempotency-Key was used with a different request")
            return earlier, False
    scenario = scenarios.build(session, conf.scenario_id, conf_id)
    if exact:
        problem = exact_problem(scenario, rule)
        if problem is not None:
            raise Invalid("invalid plan request", problems=[f"body:0: exact: {problem}"])
    plan = PlanRow(
        scenario_id=conf.scenario_id,
        confederation=conf_id,
        purpose=purpose,
        comparison_id=comparison_id,
        rule=rule or scenario.meta.policy.rule,
        solver=solver,
        time_limit=limit,
        precise=bool(precise),
        exact=bool(exact),
        certify=bool(certify),
        input=models.to_json(scenario),
        input_hash=scenario.content_hash,
        software_version=software_version(),
        created_by=principal.token_id,
        actor=principal.actor,
        idempotency_key=idempotency_key,
        request_hash=digest,
    )
    session.add(plan)
    try:
        session.flush()
    except IntegrityError:  # the same key raced in from another request
        session.rollback()
        earlier = _by_key(session, principal, idempotency_key or "")
        if earlier is None or earlier.request_hash != digest:
            raise Invalid("this Idempotency-Key was used with a different request") from None
        return earlier, False
    session.add(Job(plan_id=plan.id))
    audit.record(
        session,
        principal,
        "request",
        "plans",
        str(plan.id),
        conf.scenario_id,
        None,
        {**body, "input_hash": plan.input_hash, "purpose": purpose},
    )
    if commit:
        session.commit()
    return plan, True


def precise_for(solver: str, precise: bool | None) -> bool:
    """``precise`` as asked, or the solver's default (None): HiGHS plans levels precisely."""
    return solver == PRECISE_SOLVER if precise is None else bool(precise)


def exact_available() -> bool:
    """Whether this server can plan exactly (QSopt_ex's ``esolver`` on the PATH)."""
    from solvers._exact import available

    return available()


def exact_stages(scenario: models.Scenario, rule: str | None) -> list[models.StageRef]:
    """The stages the worker runs for a plan of ``scenario`` stamped with ``rule``.

    As ``api.worker`` hands them to ``planner.solve``: the scenario's own stage list
    when its policy has one and the rule is the policy's own (or not given), else the
    rule's preset stages.
    """
    policy = scenario.meta.policy
    stamped = rule or policy.rule
    if policy.stages and stamped == policy.rule:
        return models.stage_list(policy.rule, policy.stages)
    return models.stage_list(stamped)


def exact_problem(scenario: models.Scenario, rule: str | None) -> str | None:
    """Why ``scenario`` cannot be planned exactly under ``rule`` (None: it can).

    Exact planning (``planner.exact``) works on leximin need stages at the start of the
    stage list: the rule (asked for, else the scenario's policy's) must be leximin, and
    the policy's own stages, when it has them, must start with ``needs:tierN`` or
    ``leximin:tierN``.
    """
    policy = scenario.meta.policy
    stamped = (rule or policy.rule).strip()
    if stamped != EXACT_RULE:
        if rule is None:
            return (
                f"works with the {EXACT_RULE} rule only; the scenario's policy is "
                f"{stamped!r} (ask for rule {EXACT_RULE!r})"
            )
        return f"works with the {EXACT_RULE} rule only, not {stamped!r}"
    try:
        refs = exact_stages(scenario, stamped)
    except models.PolicyError as exc:  # pragma: no cover - a stored policy is validated
        return str(exc)
    first = refs[0]
    if first.kind == EXACT_RULE and first.tier is not None:
        return None
    return (
        f"works on {EXACT_RULE} need stages (needs:tier1..3) at the start of the policy; "
        f"the scenario's stages start with {first.name!r}"
    )


OPT_IN = ("exact", "certify")
"""Options that count in a request's hash only when true (they came later, off by default)."""


def request_hash(body: dict[str, Any]) -> str:
    """The hash that identifies a plan request for its Idempotency-Key.

    Of its confederation, rule, solver, time limit, ``precise`` (as resolved by
    :func:`precise_for`), ``exact`` and ``certify``; ``precise`` counts only when it is not
    the solver's default, ``exact`` and ``certify`` only when true, so a request without
    them hashes as it did before the options existed.
    """
    default = body.get("solver") == PRECISE_SOLVER
    key = {
        k: v for k, v in body.items() if (k != "precise" or v != default) and (k not in OPT_IN or v)
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _by_key(session: Session, principal: Principal, key: str) -> PlanRow | None:
    return session.scalar(
        select(PlanRow).where(
            PlanRow.created_by == principal.token_id, PlanRow.idempotency_key == key
        )
    )


def get(session: Session, plan_id: int) -> PlanRow:
    """A plan or 404."""
    plan = session.get(PlanRow, plan_id)
    if plan is None:
        raise NotFound(f"no plan {plan_id}")
    return plan


def input_is_current(session: Session, plan: PlanRow) -> bool:
    """Whether the scenario (the plan's subtree) still hashes to the plan's input.

    False once any need, endowment, process... of the subtree has changed since the
    plan was requested (or its confederation is gone): the plan answers an old question.
    """
    try:
        now = scenarios.build(session, plan.scenario_id, plan.confederation)
    except (NotFound, Invalid):
        return False
    return now.content_hash == plan.input_hash


def job_of(session: Session, plan_id: int) -> Job | None:
    """The plan's job (None for plans made without one)."""
    return session.scalar(select(Job).where(Job.plan_id == plan_id).order_by(Job.id.desc()))


def get_job(session: Session, job_id: int) -> Job:
    """A job or 404."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    return job


def job_public(job: Job) -> dict[str, Any]:
    """A job as the API shows it."""
    return {
        "id": job.id,
        "plan_id": job.plan_id,
        "state": job.state,
        "attempts": job.attempts,
        "worker": job.worker,
        "progress": job.progress,
        "error": job.error,
        "cancel_requested": job.cancel_requested,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "heartbeat_at": job.heartbeat_at,
    }


def summary(plan: PlanRow) -> dict[str, Any]:
    """A plan without its tables: stamps, status, metrics."""
    return {
        "id": plan.id,
        "scenario_id": plan.scenario_id,
        "confederation": plan.confederation,
        "purpose": plan.purpose,
        "comparison_id": plan.comparison_id,
        "rule": plan.rule,
        "solver": plan.solver,
        "time_limit": plan.time_limit,
        "precise": bool(plan.precise),
        "exact": bool(plan.exact),
        "certify": bool(plan.certify),
        "input_hash": plan.input_hash,
        "software_version": plan.software_version,
        "status": plan.status,
        "message": plan.message,
        "actor": plan.actor,
        "created_at": plan.created_at,
        "finished_at": plan.finished_at,
        "metrics": (plan.result or {}).get("metrics"),
        "plan_hash": (plan.result or {}).get("hash"),
        "failure": failure(plan),
    }


FAILED = ("infeasible", "time_limit", "error", "cancelled")


def failure(plan: PlanRow) -> str | None:
    """Why a plan was not made, in words (None for plans solved or still running)."""
    if plan.status not in FAILED:
        return None
    from planner.why import failure_message

    return failure_message(plan.status, plan.message)


def listing(
    session: Session,
    limit: int,
    offset: int,
    confederation: str | None = None,
    status: str | None = None,
    purpose: str | None = None,
) -> tuple[list[PlanRow], int]:
    """A page of plans, newest first, and the total."""
    q = select(PlanRow)
    if confederation:
        q = q.where(PlanRow.confederation == confederation)
    if status:
        q = q.where(PlanRow.status == status)
    if purpose:
        q = q.where(PlanRow.purpose == purpose)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    return list(session.scalars(q.order_by(PlanRow.id.desc()).limit(limit).offset(offset))), total


def cancel(session: Session, principal: Principal, job_id: int) -> Job:
    """Cancel a job: a queued one at once, a running one as soon as its worker notices (within a second).

    Its requester, a coordinator of the plan's confederation or an admin may cancel.
    """
    job = get_job(session, job_id)
    plan = get(session, job.plan_id)
    authz.require_writer(principal)
    mine = principal.token_id is not None and principal.token_id == plan.created_by
    if not mine:
        if principal.role == "assembly":
            raise Forbidden("only the plan's requester or a coordinator may cancel it")
        authz.require_coordinator(session, principal, plan.confederation)
    if job.state not in ("queued", "running"):
        raise Conflict(f"job {job.id} is {job.state}: nothing to cancel")
    now = utcnow()
    stopped = session.execute(
        update(Job)
        .where(Job.id == job.id, Job.state == "queued")
        .values(state="cancelled", finished_at=now)
    ).rowcount
    if stopped:
        session.execute(
            update(PlanRow)
            .where(PlanRow.id == plan.id, PlanRow.result.is_(None))
            .values(status="cancelled", finished_at=now, message="cancelled before it ran")
        )
    else:
        session.execute(update(Job).where(Job.id == job.id).values(cancel_requested=True))
    audit.record(
        session,
        principal,
        "cancel",
        "jobs",
        str(job.id),
        plan.scenario_id,
        None,
        {"plan_id": plan.id},
    )
    session.commit()
    session.refresh(job)
    return job


def jobs(
    session: Session, limit: int, offset: int, state: str | None = None
) -> tuple[list[Job], int]:
    """A page of jobs, newest first, and the total."""
    q = select(Job) if state is None else select(Job).where(Job.state == state)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    return list(session.scalars(q.order_by(Job.id.desc()).limit(limit).offset(offset))), total

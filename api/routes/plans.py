"""Plans as jobs, their comparison, rule comparisons and ratification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response, status

from api.deps import PageDep, PrincipalDep, SessionDep, SettingsDep, page
from api.schemas.common import ErrorOut, Page
from api.schemas.plans import (
    ComparisonCreate,
    JobPublic,
    PlanAccepted,
    PlanCreate,
    PlanPublic,
    PlanSummary,
    TallyIn,
)
from api.services import compare, ratification, reconcile
from api.services import plans as service

router = APIRouter(tags=["plans"], responses={422: {"model": ErrorOut}})


@router.post(
    "/confederations/{conf_id}/plans",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PlanAccepted,
)
def request_plan(
    conf_id: str,
    body: PlanCreate,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: Annotated[
        str | None, Header(max_length=200, description="repeat-safe key")
    ] = None,
) -> dict:
    """Queue a plan of the confederation's subtree (a coordinator of it): 202 with the job.

    The solve runs in a worker, never in the request; poll ``GET /plans/{id}``.
    The same ``Idempotency-Key`` with the same body returns the same plan.
    ``precise``: levels planned more exactly (default: true with HiGHS, false with the
    other solvers; true with another solver is a 422). ``exact``: the need stages planned
    exactly, in rational arithmetic (default false; true with a rule other than leximin
    is a 422). ``certify``: the exact plan then proved leximin, its ``certificate`` in
    ``GET /plans/{id}`` (default false; true without ``exact`` is a 422).
    """
    plan, created = service.request(
        session,
        principal,
        settings,
        conf_id,
        body.rule,
        body.solver,
        body.time_limit,
        idempotency_key,
        precise=body.precise,
        exact=body.exact,
        certify=body.certify,
    )
    response.headers["Location"] = f"/plans/{plan.id}"
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    job = service.job_of(session, plan.id)
    return {"plan": service.summary(plan), "job": service.job_public(job) if job else None}


@router.get("/confederations/{conf_id}/plans", response_model=Page[PlanSummary])
def confederation_plans(
    conf_id: str, session: SessionDep, _p: PrincipalDep, paging: PageDep, status: str | None = None
) -> dict:
    """The confederation's plans, newest first."""
    found, total = service.listing(session, paging.limit, paging.offset, conf_id, status)
    return page([service.summary(p) for p in found], total, paging)


@router.get("/plans", response_model=Page[PlanSummary])
def list_plans(
    session: SessionDep,
    _p: PrincipalDep,
    paging: PageDep,
    confederation: str | None = None,
    status: str | None = None,
    purpose: str | None = None,
) -> dict:
    """Every plan, newest first (filters: confederation, status, purpose)."""
    found, total = service.listing(
        session, paging.limit, paging.offset, confederation, status, purpose
    )
    return page([service.summary(p) for p in found], total, paging)


@router.get("/plans/{plan_id}", response_model=PlanPublic)
def get_plan(plan_id: int, session: SessionDep, _p: PrincipalDep) -> dict:
    """Status, stamps, the job and, once solved, the SPEC section 5 plan JSON.

    ``certificate``: the leximin certificate of a plan asked for with ``certify`` (null
    otherwise, and until the worker has made it).
    """
    plan = service.get(session, plan_id)
    job = service.job_of(session, plan_id)
    out = {
        **service.summary(plan),
        "job": service.job_public(job) if job else None,
        "plan": plan.result,
        "certificate": plan.certificate,
    }
    if plan.purpose == "proposal":
        out["ratification"] = ratification.result(session, plan)
    if plan.status == "infeasible":
        out["reconciliations"] = [
            reconcile.public(session, r) for r in reconcile.for_plan(session, plan_id)
        ]
    return out


@router.get("/plans/{plan_id}/input")
def plan_input(plan_id: int, session: SessionDep, _p: PrincipalDep) -> dict:
    """The exact input the plan was (or will be) solved from: the SPEC JSON document."""
    return service.get(session, plan_id).input


@router.get("/plans/{plan_id}/compare/{other_id}")
def compare_plans(
    plan_id: int, other_id: int, session: SessionDep, _p: PrincipalDep
) -> dict[str, Any]:
    """What changed from this plan to the other, for whom: deliveries, labour, metrics."""
    return compare.plans(session, plan_id, other_id)


@router.get("/plans/{plan_id}/ratification")
def get_ratification(plan_id: int, session: SessionDep, _p: PrincipalDep) -> dict[str, Any]:
    """The count: all citizens together (decides) beside the town-by-town count (for contrast)."""
    return ratification.result(session, service.get(session, plan_id))


@router.put("/plans/{plan_id}/tallies/{town}")
def record_tally(
    plan_id: int, town: str, body: TallyIn, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    """The municipality's assembly records its citizens' votes (yes, no, abstain)."""
    return ratification.record(session, principal, plan_id, town, body.yes, body.no, body.abstain)


@router.get("/jobs", response_model=Page[JobPublic])
def list_jobs(
    session: SessionDep, _p: PrincipalDep, paging: PageDep, state: str | None = None
) -> dict:
    """Jobs of the queue, newest first."""
    found, total = service.jobs(session, paging.limit, paging.offset, state)
    return page([service.job_public(j) for j in found], total, paging)


@router.get("/jobs/{job_id}", response_model=JobPublic)
def get_job(job_id: int, session: SessionDep, _p: PrincipalDep) -> dict:
    """One job."""
    return service.job_public(service.get_job(session, job_id))


@router.post("/jobs/{job_id}/cancel", response_model=JobPublic)
def cancel_job(
    job_id: int, session: SessionDep, principal: PrincipalDep, response: Response
) -> dict:
    """Cancel: a queued job at once (200), a running one within a second (202)."""
    job = service.cancel(session, principal, job_id)
    if job.state == "running":
        response.status_code = status.HTTP_202_ACCEPTED
    return service.job_public(job)


@router.post("/confederations/{conf_id}/comparisons", status_code=status.HTTP_202_ACCEPTED)
def request_comparison(
    conf_id: str,
    body: ComparisonCreate,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    response: Response,
) -> dict[str, Any]:
    """Solve the same input under several rules (analysts, coordinators): 202, poll the comparison."""
    comp = compare.request_rules(
        session,
        principal,
        settings,
        conf_id,
        body.rules,
        body.solver,
        body.time_limit,
        precise=body.precise,
        exact=body.exact,
    )
    response.headers["Location"] = f"/comparisons/{comp.id}"
    return compare.rules(session, comp)


@router.get("/comparisons/{comp_id}")
def get_comparison(comp_id: int, session: SessionDep, _p: PrincipalDep) -> dict[str, Any]:
    """The rules side by side: metrics, the worst-off ratio per municipality and tier, labour shares."""
    return compare.rules(session, compare.get(session, comp_id))

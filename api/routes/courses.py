"""Courses of action: request them, read them side by side, vote among them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, SessionDep, SettingsDep
from api.schemas.common import ErrorOut
from api.services import courses as service
from api.services import plans as plans_service

router = APIRouter(tags=["courses of action"], responses={422: {"model": ErrorOut}})


class CoursesCreate(BaseModel):
    """How many courses of action, within what slack of every stage's optimum, under what rule."""

    count: int = Field(3, ge=1, le=10)
    slack: float = Field(0.02, ge=0, lt=1)
    rule: str | None = None
    time_limit: float | None = Field(
        None, description="seconds for the whole job (default: a plan's)"
    )


class CourseVoteIn(BaseModel):
    """An assembly's citizens' votes: one count per option (0 = the optimal plan), abstentions."""

    votes: list[int] = Field(min_length=1, max_length=11)
    abstain: int = Field(0, ge=0)


@router.post("/confederations/{conf_id}/courses", status_code=status.HTTP_202_ACCEPTED)
def request_courses(
    conf_id: str,
    body: CoursesCreate,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    response: Response,
) -> dict[str, Any]:
    """Queue the optimal plan and up to ``count`` courses of action (a coordinator): 202 and the job."""
    plan = service.request(
        session, principal, settings, conf_id, body.count, body.slack, body.rule, body.time_limit
    )
    response.headers["Location"] = f"/courses/{plan.id}"
    job = plans_service.job_of(session, plan.id)
    return {
        "plan": plans_service.summary(plan),
        "job": plans_service.job_public(job) if job else None,
    }


@router.get("/courses/{plan_id}")
def get_courses(plan_id: int, session: SessionDep, _p: PrincipalDep) -> dict[str, Any]:
    """The courses side by side (distance, description, stages, metrics), mandate costs, the vote."""
    return service.view(session, service.get(session, plan_id))


@router.get("/courses/{plan_id}/courses/{course}")
def get_course(plan_id: int, course: int, session: SessionDep, _p: PrincipalDep) -> dict:
    """One course of action in full (SPEC plan JSON with ``distance`` and ``description``)."""
    opts = service.options(service.get(session, plan_id))
    if not 0 <= course < len(opts):
        from api.errors import NotFound

        raise NotFound(f"plan {plan_id} has no course {course}")
    return opts[course]


@router.get("/courses/{plan_id}/vote")
def get_vote(plan_id: int, session: SessionDep, _p: PrincipalDep) -> dict[str, Any]:
    """The count: all citizens together (decides) beside the town-by-town count."""
    return service.result(session, service.get(session, plan_id))


@router.put("/courses/{plan_id}/votes/{town}")
def record_vote(
    plan_id: int, town: str, body: CourseVoteIn, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    """The municipality's assembly records its citizens' votes among the options."""
    return service.record(session, principal, plan_id, town, body.votes, body.abstain)

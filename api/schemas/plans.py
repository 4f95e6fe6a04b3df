"""Plans, jobs, comparisons, ratification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from api.schemas.common import In, Out

PRECISE_HELP = (
    "levels planned more exactly (weighted rounds with fixed faces, as `planner solve "
    "--precise`): not yet exact at every size; HiGHS only (true with another solver is "
    "refused). Default (null): true with HiGHS, false with the other solvers; false: the "
    "rounds before it (`planner solve --no-precise`)"
)


EXACT_HELP = (
    "the need stages planned exactly, in rational arithmetic (each leximin round solved by "
    "HiGHS, then checked exactly by QSopt_ex, as `planner solve --exact`): slower. Leximin "
    "only: true with another rule, or with a policy whose stages do not start with leximin "
    "need stages, is refused. Default false"
)


CERTIFY_HELP = (
    "the exact plan then proved leximin (as `planner solve --exact --certify`): at each of "
    "its levels, an LP solved exactly shows that no need there can rise without lowering "
    "one at or below it; the plan's `certificate` says how it went. Exact plans only: true "
    "without `exact` is refused. Its job may take twice the time limit: the plan within "
    "it, the certificate within as much again. Default false"
)

CERTIFICATE_HELP = (
    "the leximin certificate of a plan asked for with `certify` (null otherwise, and until "
    "it is made): `levels` (how many were checked), `passed` (true: no need at any of them "
    "can rise without lowering one at or below it), `seconds`, `failed` (each `{tier, "
    "level, needs, rise}`: the level's needs can rise together by `rise`) and `undecided` "
    "(each `{tier, level, needs}`: no answer within the level's time cap); or only "
    "`error`, one line, when no certificate could be made (the plan itself stands)"
)


class PlanCreate(In):
    """A plan request: rule (default the scenario's policy), solver, time limit and options.

    ``time_limit`` in seconds; ``precise``: levels planned more exactly (HiGHS only);
    ``exact``: the need stages planned exactly, in rational arithmetic (leximin only);
    ``certify``: the exact plan proved leximin at its exact levels (with ``exact`` only).
    """

    rule: str | None = None
    solver: str = "highs"
    time_limit: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    precise: bool | None = Field(default=None, description=PRECISE_HELP)
    exact: bool = Field(default=False, description=EXACT_HELP)
    certify: bool = Field(default=False, description=CERTIFY_HELP)


class JobPublic(Out):
    """A job of the durable queue."""

    id: int
    plan_id: int
    state: str
    attempts: int
    worker: str | None
    progress: str
    error: str
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None


class PlanSummary(Out):
    """A plan's stamps and status (no tables)."""

    id: int
    scenario_id: str
    confederation: str
    purpose: str
    comparison_id: int | None
    rule: str | None
    solver: str
    time_limit: float
    precise: bool = Field(
        default=False, description="whether its levels were planned more exactly (HiGHS only)"
    )
    exact: bool = Field(
        default=False,
        description="whether its need stages were planned exactly, in rational arithmetic "
        "(the plan's timings then count exact_rounds, exact_seconds...)",
    )
    certify: bool = Field(
        default=False,
        description="whether the exact plan is to be proved leximin (its certificate: "
        "GET /plans/{id})",
    )
    input_hash: str
    software_version: str
    status: str
    message: str
    actor: str
    created_at: datetime
    finished_at: datetime | None
    metrics: dict[str, Any] | None = None
    plan_hash: str | None = Field(
        default=None,
        description="the plan JSON's hash: its content without timings (equal for the same "
        "input, rule, solver and precise); none before it is solved",
    )
    failure: str | None = None


class PlanAccepted(Out):
    """The answer to a plan request (202): the plan and its job."""

    plan: PlanSummary
    job: JobPublic | None


class PlanPublic(PlanSummary):
    """A plan with its job and, once solved, the SPEC section 5 plan JSON."""

    job: JobPublic | None
    plan: dict[str, Any] | None
    certificate: dict[str, Any] | None = Field(default=None, description=CERTIFICATE_HELP)
    ratification: dict[str, Any] | None = None
    reconciliations: list[dict[str, Any]] | None = None


class DecisionIn(In):
    """An assembly's decision on its part of a reconciliation."""

    municipality: str = Field(max_length=100)
    decision: str = Field(description="approve or reject")


class ComparisonCreate(In):
    """Rules to compare on one input (default all)."""

    rules: list[str] | None = None
    solver: str = "highs"
    time_limit: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    precise: bool | None = Field(default=None, description=PRECISE_HELP)
    exact: bool = Field(default=False, description=EXACT_HELP)


class TallyIn(In):
    """One assembly's count of its citizens' votes."""

    yes: int = Field(ge=0)
    no: int = Field(ge=0)
    abstain: int = Field(default=0, ge=0)

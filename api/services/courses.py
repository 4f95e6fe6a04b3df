"""Courses of action as a job, and the vote among them.

A request queues one job (a plan row of purpose ``courses``, its options in
``course_sets``): the worker solves the optimal plan and up to ``count``
courses of action within ``slack`` (``planner.alternatives``) plus what each
binding mandate costs the others and what one step more of each binding bound would
do (``planner.costs``), as batches of plans on
local processes or the configured Dask cluster, and stores them as the
row's result.

The vote: each assembly records how many of its citizens chose each option
(option 0 is the optimal plan, option i course i) and how many abstained. When
every assembly has reported, the option with the most citizens' votes over
the whole confederation is chosen (a tie for the most chooses none);
``majority`` says whether it has more than half of the votes cast. The
town-by-town count (each town's own choice, one town one vote) is shown
beside it, never used.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.config import Settings
from api.db import utcnow
from api.errors import Conflict, Invalid, NotFound
from api.orm import CourseSet, CourseVote, PlanRow
from api.security import Principal
from api.services import audit, authz
from api.services import plans as plan_service
from api.services.ratification import populations

PURPOSE = "courses"
RULE = (
    "chosen when every assembly has reported: the option with the most citizens' votes over "
    "the whole confederation (a tie for the most chooses none); abstentions are not cast"
)


def request(
    session: Session,
    principal: Principal,
    settings: Settings,
    conf_id: str,
    count: int = 3,
    slack: float = 0.02,
    rule: str | None = None,
    time_limit: float | None = None,
) -> PlanRow:
    """Queue the courses of action of ``conf_id`` (a coordinator of it).

    ``time_limit`` bounds the whole job (every plan of its batches), as a plan's bounds its solve.
    """
    problems = []
    if not 1 <= count <= 10:
        problems.append(f"body:0: count: must be 1 to 10, not {count}")
    if not 0 <= slack < 1:
        problems.append(f"body:0: slack: must be in [0, 1), not {slack}")
    if problems:
        raise Invalid("invalid courses-of-action request", problems=problems)
    authz.require_writer(principal)
    authz.require_coordinator(session, principal, conf_id)
    plan, _ = plan_service.request(
        session,
        principal,
        settings,
        conf_id,
        rule,
        "highs",
        time_limit,
        purpose=PURPOSE,
        commit=False,
    )
    session.add(CourseSet(plan_id=plan.id, count=count, slack=slack))
    session.commit()
    return plan


def options_of(session: Session, plan_id: int) -> CourseSet | None:
    """The request's options (None for other plans)."""
    return session.get(CourseSet, plan_id)


def get(session: Session, plan_id: int) -> PlanRow:
    """A courses-of-action row or 404."""
    plan = plan_service.get(session, plan_id)
    if plan.purpose != PURPOSE:
        raise NotFound(f"plan {plan_id} is not a courses-of-action request")
    return plan


def options(plan: PlanRow) -> list[dict]:
    """The options put to the vote: the optimal plan, then each course."""
    res = plan.result or {}
    if not res.get("optimal"):
        return []
    return [res["optimal"], *res.get("courses", [])]


def view(session: Session, plan: PlanRow) -> dict[str, Any]:
    """The request, its courses side by side (without their tables), the costs and the count."""
    opts = options_of(session, plan.id)
    side = []
    for p in options(plan):
        side.append(
            {
                "course": p.get("course"),
                "status": p.get("status"),
                "distance": p.get("distance"),
                "description": p.get("description"),
                "stages": [{k: s.get(k) for k in ("name", "value")} for s in p.get("stages", [])],
                "metrics": p.get("metrics"),
            }
        )
    res = plan.result or {}
    costs = [
        {k: c[k] for k in ("mandate", "status", "text", "min_ratio")}
        for c in res.get("mandate_costs", [])
    ]
    return {
        **plan_service.summary(plan),
        "count": opts.count if opts else None,
        "slack": opts.slack if opts else None,
        "courses": side,
        "message": res.get("message", ""),
        "mandate_costs": costs,
        "what_ifs": [
            {k: r.get(k) for k in ("kind", "where", "text")} for r in res.get("what_ifs", [])
        ],
        "vote": result(session, plan),
    }


def _votes(session: Session, plan_id: int) -> dict[str, CourseVote]:
    rows = session.scalars(select(CourseVote).where(CourseVote.plan_id == plan_id))
    return {v.municipality: v for v in rows}


def _town_choice(votes: list[int]) -> int | None:
    top = max(votes, default=0)
    if top <= 0 or votes.count(top) > 1:
        return None
    return votes.index(top)


def result(session: Session, plan: PlanRow) -> dict[str, Any]:
    """The count: citizens together (decides) and town by town (for contrast)."""
    n = len(options(plan))
    pop = populations(plan)
    got = _votes(session, plan.id)
    totals, abstain, rows = [0] * n, 0, []
    towns = [0] * n
    for town, people in sorted(pop.items()):
        v = got.get(town)
        rows.append(
            {
                "municipality": town,
                "population": people,
                "reported": v is not None,
                "votes": list(v.votes) if v else None,
                "abstain": v.abstain if v else None,
            }
        )
        if v is None:
            continue
        totals = [a + b for a, b in zip(totals, v.votes, strict=True)]
        abstain += v.abstain
        choice = _town_choice(list(v.votes))
        if choice is not None:
            towns[choice] += 1
    cast = sum(totals)
    complete = bool(rows) and all(r["reported"] for r in rows)
    choice = _town_choice(totals)
    if n == 0 or plan.status not in ("optimal", "shortfall"):
        state = "not_ratifiable"
    elif not complete:
        state = "open"
    else:
        state = "chosen" if choice is not None else "undecided"
    return {
        "plan_id": plan.id,
        "state": state,
        "rule": RULE,
        "options": n,
        "citizens": {
            "votes": totals,
            "abstain": abstain,
            "cast": cast,
            "choice": choice if complete else None,
            "majority": choice is not None and 2 * totals[choice] > cast,
        },
        "towns": {
            "choices": towns,
            "reported": sum(1 for r in rows if r["reported"]),
            "total": len(rows),
            "note": "one municipality, one vote: shown for contrast, not used",
        },
        "tallies": rows,
    }


def record(
    session: Session,
    principal: Principal,
    plan_id: int,
    town: str,
    votes: list[int],
    abstain: int,
) -> dict[str, Any]:
    """The assembly of ``town`` records (or corrects) its citizens' votes while the vote is open."""
    plan = get(session, plan_id)
    pop = populations(plan)
    if town not in pop:
        raise NotFound(f"{town!r} is not a member of plan {plan_id}'s confederation")
    authz.require_assembly(principal, town, "tally")
    session.execute(select(PlanRow.id).where(PlanRow.id == plan_id).with_for_update())
    state = result(session, plan)
    if state["state"] == "not_ratifiable":
        raise Conflict(f"plan {plan_id} has no courses of action to vote on ({plan.status})")
    if state["state"] != "open":
        raise Conflict(f"the vote on plan {plan_id} is closed: {state['state']}")
    problems = []
    if len(votes) != state["options"]:
        problems.append(f"tally:0: votes: {len(votes)} numbers for {state['options']} options")
    if any(v < 0 for v in votes) or abstain < 0:
        problems.append("tally:0: votes: counts cannot be negative")
    if sum(votes) + abstain > pop[town]:
        problems.append(f"tally:0: votes: {sum(votes) + abstain} > population {pop[town]:g}")
    if problems:
        raise Invalid("invalid tally", problems=problems)
    v = _votes(session, plan_id).get(town)
    before = None if v is None else {"votes": list(v.votes), "abstain": v.abstain}
    if v is None:
        v = CourseVote(plan_id=plan_id, municipality=town, votes=list(votes), abstain=abstain)
        session.add(v)
    else:
        v.votes, v.abstain = list(votes), abstain
    v.actor, v.recorded_at = principal.actor, utcnow()
    session.flush()
    after = {"votes": list(votes), "abstain": abstain}
    audit.record(
        session,
        principal,
        "tally",
        "course_votes",
        f"{plan_id}/{town}",
        plan.scenario_id,
        before,
        after,
    )
    session.commit()
    return result(session, plan)

"""Ratification: each assembly records its citizens' tally; adoption counts all citizens together.

A plan (a solved proposal: status optimal or shortfall) is **adopted**
when every assembly of its confederation has reported and, over all
citizens together, more voted yes than no (a majority of the votes cast;
abstentions are recorded and shown but not cast; a tie rejects). The
town-by-town count (one municipality, one vote) is shown beside it for
contrast, never used. A tally never exceeds the municipality's population
(as of the plan's input). Once every assembly has reported, the result is
final and tallies can no longer change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.errors import Conflict, Invalid, NotFound
from api.orm import PlanRow, Tally
from api.security import Principal
from api.services import audit, authz
from api.services import plans as plan_service

RATIFIABLE = ("optimal", "shortfall")
RULE = (
    "adopted when every assembly has reported and, over all citizens of the confederation, "
    "yes > no (a majority of the votes cast; abstentions are not cast; a tie rejects)"
)


def populations(plan: PlanRow) -> dict[str, float]:
    """Municipality -> population, from the plan's input snapshot."""
    return {m["id"]: float(m["population"]) for m in plan.input.get("municipalities", [])}


def _tallies(session: Session, plan_id: int) -> dict[str, Tally]:
    return {
        t.municipality: t for t in session.scalars(select(Tally).where(Tally.plan_id == plan_id))
    }


def result(session: Session, plan: PlanRow) -> dict[str, Any]:
    """The count: citizens together (decides) and town by town (for contrast)."""
    pop = populations(plan)
    tallies = _tallies(session, plan.id)
    rows, yes, no, abstain = [], 0, 0, 0
    towns = {"for": 0, "against": 0, "tied": 0}
    for town, people in sorted(pop.items()):
        t = tallies.get(town)
        rows.append(
            {
                "municipality": town,
                "population": people,
                "reported": t is not None,
                "yes": t.yes if t else None,
                "no": t.no if t else None,
                "abstain": t.abstain if t else None,
                "recorded_at": t.recorded_at if t else None,
            }
        )
        if t is None:
            continue
        yes, no, abstain = yes + t.yes, no + t.no, abstain + t.abstain
        towns["for" if t.yes > t.no else "against" if t.no > t.yes else "tied"] += 1
    reported = sum(1 for r in rows if r["reported"])
    complete = reported == len(rows) and rows
    if plan.purpose != "proposal" or plan.status not in RATIFIABLE:
        state = "not_ratifiable"
    elif not complete:
        state = "open"
    else:
        state = "adopted" if yes > no else "rejected"
    return {
        "plan_id": plan.id,
        "confederation": plan.confederation,
        "state": state,
        "rule": RULE,
        "citizens": {
            "yes": yes,
            "no": no,
            "abstain": abstain,
            "cast": yes + no,
            "population": sum(pop.values()),
            "majority": yes > no,
        },
        "towns": {
            "total": len(rows),
            "reported": reported,
            **towns,
            "majority": towns["for"] > towns["against"],
            "note": "one municipality, one vote: shown for contrast, not used",
        },
        "tallies": rows,
    }


def record(
    session: Session, principal: Principal, plan_id: int, town: str, yes: int, no: int, abstain: int
) -> dict[str, Any]:
    """The assembly of ``town`` records (or corrects) its tally while the vote is open."""
    plan = plan_service.get(session, plan_id)
    pop = populations(plan)
    if town not in pop:
        raise NotFound(
            f"{town!r} is not a member of plan {plan_id}'s confederation {plan.confederation!r}"
        )
    authz.require_assembly(principal, town, "tally")
    session.execute(select(PlanRow.id).where(PlanRow.id == plan_id).with_for_update())
    state = result(session, plan)["state"]
    if state == "not_ratifiable":
        raise Conflict(
            f"plan {plan_id} is a {plan.purpose} with status {plan.status}: it cannot be ratified"
        )
    if state != "open":
        raise Conflict(f"the vote on plan {plan_id} is closed: it was {state}")
    if not plan_service.input_is_current(session, plan):
        raise Conflict(
            f"the scenario has changed since plan {plan_id} was made (its input no longer "
            "matches): no votes are taken on it; request a new plan"
        )
    if yes + no + abstain > pop[town]:
        raise Invalid(
            f"{yes + no + abstain} voters is more than {town}'s population of {pop[town]:g}",
            problems=[f"tally:0: yes+no+abstain: {yes + no + abstain} > population {pop[town]:g}"],
        )
    t = _tallies(session, plan_id).get(town)
    before = None if t is None else {"yes": t.yes, "no": t.no, "abstain": t.abstain}
    if t is None:
        t = Tally(plan_id=plan_id, municipality=town, yes=yes, no=no, abstain=abstain)
        session.add(t)
    else:
        t.yes, t.no, t.abstain = yes, no, abstain
    t.actor, t.recorded_at = principal.actor, utcnow()
    session.flush()
    after = {"yes": yes, "no": no, "abstain": abstain}
    audit.record(
        session, principal, "tally", "tallies", f"{plan_id}/{town}", plan.scenario_id, before, after
    )
    out = result(session, plan)
    if out["state"] in ("adopted", "rejected"):
        audit.record(
            session,
            principal,
            out["state"],
            "plans",
            str(plan_id),
            plan.scenario_id,
            None,
            {
                "citizens": out["citizens"],
                "towns": {k: v for k, v in out["towns"].items() if k != "note"},
            },
        )
    session.commit()
    return out

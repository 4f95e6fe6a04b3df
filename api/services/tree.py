"""Confederations and municipalities: the tree, whose ids are unique across the database."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.errors import Conflict, Invalid
from api.orm import Capacity, Confederation, Endowment, Mandate, Municipality, Need
from api.security import Principal
from api.services import audit, authz, delegates, rows
from api.services.kinds import KINDS

CONF, TOWN = KINDS["confederations"], KINDS["municipalities"]


def _scenario_of_parent(session: Session, conf: str, column: str) -> str:
    sid = session.scalar(select(Confederation.scenario_id).where(Confederation.id == conf))
    if sid is None:
        raise Invalid(
            f"unknown confederation {conf!r}",
            problems=[f"body:0: {column}: unknown confederation {conf!r}"],
        )
    return sid


def create_confederation(session: Session, principal: Principal, data: dict) -> Confederation:
    """A new member confederation under ``parent``."""
    authz.require_writer(principal)
    if not data.get("parent"):
        raise Invalid("give the parent confederation (a new root is made by importing a scenario)")
    sid = _scenario_of_parent(session, data["parent"], "parent")
    return rows.create(session, principal, CONF, sid, data)


def update_confederation(
    session: Session, principal: Principal, conf_id: str, changes: dict
) -> Confederation:
    """Rename or move a confederation (a cycle is refused by validation)."""
    obj = rows.find(session, CONF, None, conf_id)
    if "parent" in changes and changes["parent"] and obj.parent:
        _scenario_of_parent(session, changes["parent"], "parent")
    return rows.update(session, principal, CONF, obj, changes)


def delete_confederation(session: Session, principal: Principal, conf_id: str) -> None:
    """Remove an empty confederation (422 while members or limits still name it)."""
    obj = rows.find(session, CONF, None, conf_id)
    if not obj.parent:
        raise authz.Forbidden("the root is removed with DELETE /scenarios/{id}")
    rows.remove(session, principal, CONF, obj)


def create_municipality(session: Session, principal: Principal, data: dict) -> Municipality:
    """A new municipality in ``confederation``."""
    authz.require_writer(principal)
    sid = _scenario_of_parent(session, data["confederation"], "confederation")
    return rows.create(session, principal, TOWN, sid, data)


def update_municipality(
    session: Session, principal: Principal, town: str, changes: dict
) -> Municipality:
    """Change name, population, labour hours or confederation."""
    obj = rows.find(session, TOWN, None, town)
    if changes.get("confederation"):
        sid = _scenario_of_parent(session, changes["confederation"], "confederation")
        if sid != obj.scenario_id:
            raise Invalid("a municipality cannot move to another scenario")
    return rows.update(session, principal, TOWN, obj, changes)


OWN = {"needs": Need, "endowments": Endowment, "capacities": Capacity, "mandates": Mandate}
"""The tables of a municipality's own assembly."""


def delete_municipality(session: Session, principal: Principal, town: str) -> None:
    """Take a municipality out of the confederation: not an everyday write.

    Its own assembly may (its needs, endowments, capacities and mandates
    go with it, kept in the audit log); a coordinator or admin only once it
    holds none of them (409 otherwise). Links and limits that name it must
    go first (422 lists them). Its tokens die with it, and its delegates
    are recalled, so a municipality made again with the same id starts
    with none.
    """
    obj = rows.find(session, TOWN, None, town)
    held = {
        t: session.scalars(select(m).where(m.municipality == town)).all() for t, m in OWN.items()
    }
    own = principal.role == "assembly" and principal.municipality == town
    if not own and any(held.values()):
        TOWN.check(session, principal, obj.scenario_id, rows.spec(TOWN, obj), None)
        raise Conflict(
            f"{town!r} still holds its assembly's decisions; only its own assembly may remove"
            " them (or take the municipality out); nothing was changed",
            problems=[f"{t}: {len(found)} row(s) of {town}" for t, found in held.items() if found],
        )

    def archive(session: Session, obj: Municipality) -> None:
        kept = {t: [rows.public(KINDS[t], r) for r in found] for t, found in held.items()}
        audit.record(
            session, principal, "archive", "municipalities", town, obj.scenario_id, kept, None
        )
        for model in OWN.values():
            session.execute(delete(model).where(model.municipality == town))
        delegates.retire(session, [town])

    rows.remove(session, principal, TOWN, obj, then=archive)


def children(session: Session, conf_id: str) -> list[Confederation]:
    """The member confederations directly under ``conf_id``, by id."""
    return list(
        session.scalars(
            select(Confederation).where(Confederation.parent == conf_id).order_by(Confederation.id)
        )
    )


def confederations_for(session: Session, principal: Principal) -> list[Confederation]:
    """Every confederation (a coordinator: those it covers), roots first within each scenario."""
    confs = list(
        session.scalars(select(Confederation).order_by(Confederation.scenario_id, Confederation.id))
    )
    if principal.role == "coordinator":
        confs = [c for c in confs if authz.covers(session, principal.confederation or "", c.id)]
    return confs

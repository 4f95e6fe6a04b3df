"""Confederations and municipalities: the tree, whose ids are unique across the database."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.errors import Invalid
from api.orm import Capacity, Confederation, Endowment, Mandate, Municipality, Need
from api.security import Principal
from api.services import authz, rows
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


def _drop_own_rows(session: Session, obj: Municipality) -> None:
    for model in (Need, Endowment, Capacity, Mandate):
        session.execute(delete(model).where(model.municipality == obj.id))


def delete_municipality(session: Session, principal: Principal, town: str) -> None:
    """Remove a municipality with its needs, endowments, capacities and mandates.

    Links and limits that name it must go first (422 lists them).
    """
    obj = rows.find(session, TOWN, None, town)
    rows.remove(session, principal, TOWN, obj, then=_drop_own_rows)


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

"""Object-level authorisation: who may change which part of which scenario.

* ``assembly`` (one municipality) alone writes that municipality's needs,
  endowments, capacities, mandates and labour hours (nobody else: not a
  coordinator, not an admin), its tallies, and names delegates to the
  council of its own confederation;
* ``coordinator`` (a delegate of one confederation's council) writes the
  coordinator-managed tables inside that confederation's subtree; the
  scenario-wide ones (items, processes and coefficients, metadata) only as
  a coordinator of the root. The council only coordinates: a delegate to
  the council above its own is sent by the council below (one of its
  coordinators), never named by an assembly on its own;
* ``admin`` keeps the service (scenarios, tokens) and may do what a
  coordinator may, but never changes an assembly's own decisions;
* ``analyst`` only reads (and may ask for rule comparisons).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import Forbidden
from api.orm import Confederation, Municipality
from api.security import Principal


def parent_of(session: Session, conf_id: str) -> str | None:
    """The parent of a confederation ('' for a root), or None if there is no such confederation."""
    return session.scalar(select(Confederation.parent).where(Confederation.id == conf_id))


def confederation_of(session: Session, unit: str) -> str | None:
    """The confederation a unit belongs to: itself for a confederation, its own for a municipality."""
    if parent_of(session, unit) is not None:
        return unit
    return session.scalar(select(Municipality.confederation).where(Municipality.id == unit))


def ancestors(session: Session, conf_id: str) -> list[str]:
    """``conf_id`` and every confederation above it, up to the root (cycle-safe)."""
    chain: list[str] = []
    node: str | None = conf_id
    while node and node not in chain:
        chain.append(node)
        node = parent_of(session, node)
    return chain


def covers(session: Session, root: str, unit: str) -> bool:
    """True when ``unit`` (a municipality or confederation) lies in ``root``'s subtree."""
    conf = confederation_of(session, unit)
    return conf is not None and root in ancestors(session, conf)


def require_writer(principal: Principal) -> None:
    """Analysts never write."""
    if principal.role == "analyst":
        raise Forbidden("analysts may read, not change")


def require_assembly(principal: Principal, municipality: str, what: str = "data") -> None:
    """Only the municipality's own assembly (or an admin)."""
    if principal.is_admin:
        return
    if principal.role != "assembly" or principal.municipality != municipality:
        raise Forbidden(f"only the assembly of {municipality!r} may change its {what}")


def require_coordinator(session: Session, principal: Principal, *units: str) -> None:
    """A coordinator whose subtree holds every unit (unknown units are left to validation)."""
    if principal.is_admin:
        return
    if principal.role != "coordinator" or not principal.confederation:
        raise Forbidden("only a coordinator (or an admin) may change this")
    for unit in units:
        if not unit or confederation_of(session, unit) is None:
            continue
        if not covers(session, principal.confederation, unit):
            raise Forbidden(
                f"a coordinator for {principal.confederation!r} may not act for {unit!r}"
            )


def require_root_coordinator(session: Session, principal: Principal, scenario_id: str) -> None:
    """Scenario-wide tables: a coordinator of the root confederation (or an admin)."""
    if principal.is_admin:
        return
    if principal.role != "coordinator" or principal.confederation != scenario_id:
        raise Forbidden(
            f"only a coordinator of the whole confederation {scenario_id!r} may change this"
        )


def require_own_assembly(principal: Principal, municipality: str, what: str) -> None:
    """The municipality's own assembly and nobody else, not even an admin."""
    if principal.role != "assembly" or principal.municipality != municipality:
        raise Forbidden(f"only the assembly of {municipality!r} may change its {what}")


def require_sender(
    session: Session, principal: Principal, town_conf: str, conf: str, what: str
) -> None:
    """Who sends a delegate of a municipality (of ``town_conf``) to the council of ``conf``.

    To its own confederation's council: its assembly (checked by the
    caller). To a council above: the council directly below it on the
    municipality's way up (one of its coordinators), or an admin.
    """
    chain = ancestors(session, town_conf)
    below = chain[chain.index(conf) - 1]
    if principal.is_admin or (principal.role == "coordinator" and principal.confederation == below):
        return
    raise Forbidden(
        f"a delegate to the council of {conf!r} is sent by the council of {below!r}"
        f" (one of its coordinators), not named by an assembly: {what}"
    )

"""The row resources of a scenario, described as data: table, scope, who writes them.

``scope`` says what a path scopes a row by: ``municipality`` (the row's
``municipality`` column), ``scenario`` (the scenario id) or ``tree``
(confederations and municipalities, whose ids are unique database-wide).
``lookup`` is the attribute a path names a row by (``pk`` or ``id``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

import models
from api.orm import TABLE_CLASSES
from api.security import Principal
from api.services import authz

Check = Callable[[Session, Principal, str, dict | None, dict | None], None]


def _own_assembly_only(
    session: Session, p: Principal, sid: str, before: dict | None, after: dict | None
) -> None:
    """Needs, endowments, capacities, mandates: the municipality's own assembly, not even an admin."""
    authz.require_writer(p)
    for row in (before, after):
        if row is not None:
            authz.require_own_assembly(p, row["municipality"], "needs, resources and mandates")


def _municipality(
    session: Session, p: Principal, sid: str, before: dict | None, after: dict | None
) -> None:
    """Coordinators keep the tree; labour hours are the assembly's own, and so is leaving it."""
    authz.require_writer(p)
    if before is not None and after is not None:
        changed = {k for k in after if after[k] != before[k]}
        if "labour_hours" in changed:
            authz.require_own_assembly(p, before["id"], "labour hours")
            if changed == {"labour_hours"}:
                return
    if after is None and p.role == "assembly" and p.municipality == before["id"]:
        return  # its own assembly takes it out of the confederation
    units = [row["confederation"] for row in (before, after) if row is not None]
    authz.require_coordinator(session, p, *units)


def _root(
    session: Session, p: Principal, sid: str, before: dict | None, after: dict | None
) -> None:
    authz.require_writer(p)
    authz.require_root_coordinator(session, p, sid)


def _units(*columns: str) -> Check:
    def check(session, p, sid, before, after):
        authz.require_writer(p)
        units = [row[c] for row in (before, after) if row is not None for c in columns]
        authz.require_coordinator(session, p, *units)

    return check


def _confederation(session, p, sid, before, after) -> None:
    """Create under a parent you cover; edit or delete a node you cover; move it to one you cover."""
    authz.require_writer(p)
    if before is None:
        if not after["parent"]:
            raise authz.Forbidden("a new root is made by importing a scenario")
        authz.require_coordinator(session, p, after["parent"])
        return
    authz.require_coordinator(session, p, before["id"])
    if after is not None and after["parent"] != before["parent"]:
        if not before["parent"]:
            raise authz.Forbidden("the root confederation has no parent")
        authz.require_coordinator(session, p, after["parent"])


@dataclass(frozen=True)
class Kind:
    """One row resource."""

    table: str
    scope: str
    lookup: str
    check: Check
    versioned: bool = False
    exclusive: tuple[str, ...] = ()

    @property
    def model(self):
        """The ORM class."""
        return TABLE_CLASSES[self.table]

    @property
    def columns(self) -> list[str]:
        """SPEC column names, in order."""
        return models.TABLES[self.table].names

    @property
    def key(self) -> tuple[str, ...]:
        """SPEC key columns."""
        return models.TABLES[self.table].key

    def key_of(self, row: dict) -> str:
        """The audit log's key of a row, e.g. ``ashford/bread/1``."""
        return "/".join(str(row[k]) for k in self.key)


KINDS: dict[str, Kind] = {
    "confederations": Kind("confederations", "tree", "id", _confederation),
    "municipalities": Kind("municipalities", "tree", "id", _municipality),
    "items": Kind("items", "scenario", "id", _root),
    "processes": Kind("processes", "scenario", "id", _root),
    "process_io": Kind("process_io", "scenario", "pk", _root),
    "links": Kind("links", "scenario", "pk", _units("from", "to")),
    "limits": Kind("limits", "scenario", "pk", _units("scope")),
    "needs": Kind(
        "needs",
        "municipality",
        "pk",
        _own_assembly_only,
        versioned=True,
        exclusive=("quantity", "per_capita"),
    ),
    "endowments": Kind("endowments", "municipality", "pk", _own_assembly_only, versioned=True),
    "capacities": Kind("capacities", "municipality", "pk", _own_assembly_only),
    "mandates": Kind("mandates", "municipality", "pk", _own_assembly_only),
}
"""Every row resource by SPEC table name."""

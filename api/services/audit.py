"""The append-only audit log: who changed what and when (the database refuses edits)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from api.errors import NotFound
from api.orm import AuditEntry, Confederation, Municipality
from api.security import Principal


def record(
    session: Session,
    principal: Principal,
    action: str,
    resource: str,
    key: str = "",
    scenario_id: str | None = None,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Append one entry (in the caller's transaction: it commits with the change)."""
    entry = AuditEntry(
        actor=principal.actor,
        token_id=principal.token_id,
        role=principal.role,
        action=action,
        resource=resource,
        key=key,
        scenario_id=scenario_id,
        before=_wrap(before),
        after=_wrap(after),
    )
    session.add(entry)
    return entry


def _wrap(value: Any) -> dict | None:
    """JSON-safe (datetimes as ISO text); lists wrapped as ``{"rows": [...]}``."""
    if value is None:
        return None
    if not isinstance(value, dict):
        value = {"rows": value}
    return json.loads(json.dumps(value, default=_text))


def _text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def entries(
    session: Session,
    reader: Principal,
    limit: int,
    offset: int,
    scenario_id: str | None = None,
    resource: str | None = None,
    actor: str | None = None,
    key: str | None = None,
) -> tuple[list[AuditEntry], int]:
    """A page of the entries ``reader`` may see (``readable``), newest first, and their total."""
    q = select(AuditEntry).where(readable(session, reader))
    if scenario_id:
        q = q.where(AuditEntry.scenario_id == scenario_id)
    if resource:
        q = q.where(AuditEntry.resource == resource)
    if actor:
        q = q.where(AuditEntry.actor.contains(actor))
    if key:
        q = q.where(AuditEntry.key.startswith(key))
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


def readable(session: Session, reader: Principal):
    """Which entries ``reader`` may read: its own scenario's; an analyst every scenario's; an admin all.

    Entries about tokens (no scenario) are the admins' alone.
    """
    if reader.is_admin:
        return true()
    if reader.role == "analyst":
        return AuditEntry.scenario_id.is_not(None)
    if reader.municipality:
        own = select(Municipality.scenario_id).where(Municipality.id == reader.municipality)
    else:
        own = select(Confederation.scenario_id).where(Confederation.id == reader.confederation)
    return AuditEntry.scenario_id == own.scalar_subquery()


def entry(session: Session, reader: Principal, entry_id: int) -> AuditEntry:
    """One entry ``reader`` may read, or 404."""
    e = session.scalar(
        select(AuditEntry).where(AuditEntry.id == entry_id, readable(session, reader))
    )
    if e is None:
        raise NotFound(f"no audit entry {entry_id}")
    return e

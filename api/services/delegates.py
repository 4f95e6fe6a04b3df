"""Delegates: named to a confederal council by their assembly, recalled by it at any time."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.db import utcnow
from api.errors import Conflict, Invalid, NotFound
from api.orm import Delegate, Municipality, Token
from api.security import Principal
from api.services import audit, authz


def public(d: Delegate) -> dict:
    """A delegate as the API shows it."""
    return {
        "id": d.id,
        "municipality": d.municipality,
        "confederation": d.confederation,
        "name": d.name,
        "named_at": d.named_at,
        "recalled_at": d.recalled_at,
        "active": d.recalled_at is None,
    }


def get(session: Session, delegate_id: int) -> Delegate:
    """A delegate or 404."""
    d = session.get(Delegate, delegate_id)
    if d is None:
        raise NotFound(f"no delegate {delegate_id}")
    return d


def name(
    session: Session,
    principal: Principal,
    municipality: str,
    person: str,
    confederation: str | None = None,
) -> Delegate:
    """The assembly of ``municipality`` names ``person`` to the council of ``confederation``.

    ``confederation`` defaults to the municipality's own; it may be any
    confederation the municipality belongs to, directly or through others.
    """
    town = session.scalar(select(Municipality).where(Municipality.id == municipality))
    if town is None:
        raise NotFound(f"no municipality {municipality!r}")
    authz.require_assembly(principal, municipality, "delegates")
    conf = confederation or town.confederation
    if conf not in authz.ancestors(session, town.confederation):
        raise Invalid(
            f"{municipality!r} is not a member of confederation {conf!r}",
            problems=[f"body:0: confederation: {municipality!r} does not belong to {conf!r}"],
        )
    d = Delegate(
        scenario_id=town.scenario_id, municipality=municipality, confederation=conf, name=person
    )
    session.add(d)
    session.flush()
    audit.record(
        session, principal, "name", "delegates", str(d.id), town.scenario_id, None, public(d)
    )
    session.commit()
    return d


def recall(session: Session, principal: Principal, delegate_id: int) -> Delegate:
    """The delegate's assembly recalls them: every token of theirs stops working at once."""
    d = get(session, delegate_id)
    authz.require_assembly(principal, d.municipality, "delegates")
    if d.recalled_at is not None:
        raise Conflict(f"delegate {d.id} ({d.name}) was recalled already")
    before = public(d)
    now = utcnow()
    d.recalled_at = now
    session.execute(
        update(Token)
        .where(Token.delegate_id == d.id, Token.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit.record(
        session, principal, "recall", "delegates", str(d.id), d.scenario_id, before, public(d)
    )
    session.commit()
    return d


def listing(
    session: Session,
    limit: int,
    offset: int,
    municipality: str | None = None,
    confederation: str | None = None,
    active: bool | None = None,
) -> tuple[list[Delegate], int]:
    """A page of delegates and the total."""
    q = select(Delegate)
    if municipality:
        q = q.where(Delegate.municipality == municipality)
    if confederation:
        q = q.where(Delegate.confederation == confederation)
    if active is not None:
        q = q.where(Delegate.recalled_at.is_(None) if active else Delegate.recalled_at.is_not(None))
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    return list(session.scalars(q.order_by(Delegate.id).limit(limit).offset(offset))), total

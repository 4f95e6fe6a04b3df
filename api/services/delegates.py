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

    ``confederation`` defaults to the municipality's own, the only council
    the assembly names delegates to; a delegate to a council further up is
    sent by the council below it (``authz.require_sender``).
    """
    town = session.scalar(select(Municipality).where(Municipality.id == municipality))
    if town is None:
        raise NotFound(f"no municipality {municipality!r}")
    authz.require_writer(principal)
    conf = confederation or town.confederation
    if conf == town.confederation:
        authz.require_assembly(principal, municipality, "delegates")
    elif conf not in authz.ancestors(session, town.confederation):
        authz.require_assembly(principal, municipality, "delegates")
        raise Invalid(
            f"{municipality!r} is not a member of confederation {conf!r}",
            problems=[f"body:0: confederation: {municipality!r} does not belong to {conf!r}"],
        )
    else:
        authz.require_sender(
            session,
            principal,
            town.confederation,
            conf,
            f"{municipality!r} names delegates to {town.confederation!r} only",
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
    may_send(session, principal, d)
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


def may_send(session: Session, principal: Principal, d: Delegate) -> None:
    """403 unless ``principal`` sent (so may recall, or give a token to) delegate ``d``.

    The delegate's own assembly always may (it recalls its delegates at
    any time); for a council above its own, so may the council below.
    """
    if principal.role == "assembly" and principal.municipality == d.municipality:
        return
    town_conf = session.scalar(
        select(Municipality.confederation).where(Municipality.id == d.municipality)
    )
    if town_conf is None or d.confederation == town_conf:
        authz.require_assembly(principal, d.municipality, "delegates")
        return
    authz.require_sender(session, principal, town_conf, d.confederation, "its delegates")


def retire(session: Session, municipalities: list[str], scenario_id: str | None = None) -> None:
    """Municipalities (or a scenario) gone: recall their delegates; their tokens die with them."""
    now = utcnow()
    gone = Delegate.municipality.in_(municipalities)
    if scenario_id is not None:
        gone = gone | (Delegate.scenario_id == scenario_id)
    ids = list(session.scalars(select(Delegate.id).where(gone)))
    session.execute(
        update(Delegate)
        .where(Delegate.id.in_(ids), Delegate.recalled_at.is_(None))
        .values(recalled_at=now)
    )
    session.execute(
        update(Token)
        .where(
            Token.municipality.in_(municipalities) | Token.delegate_id.in_(ids),
            Token.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


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

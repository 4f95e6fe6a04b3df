"""Bearer tokens: issue (shown once), authenticate (by sha256), revoke.

A coordinator's token belongs to a delegate: it stops working the moment
that delegate is recalled (checked on every request, not cached).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from api.orm import Delegate, Municipality, Token
from api.security import ROLES, Principal, hash_token, new_token
from api.services import audit, delegates


def authenticate(session: Session, raw: str | None) -> Principal:
    """The principal of a bearer token, or 401."""
    if not raw:
        raise Unauthorized("send Authorization: Bearer <token>")
    tok = session.scalar(select(Token).where(Token.token_hash == hash_token(raw)))
    if tok is None:
        raise Unauthorized("unknown token")
    if tok.delegate_id is not None:
        d = session.get(Delegate, tok.delegate_id)
        if d is None or d.recalled_at is not None:
            raise Unauthorized("this token's delegate has been recalled by their assembly")
    if tok.revoked_at is not None:
        raise Unauthorized("this token has been revoked")
    if tok.municipality is not None and not _exists(session, tok.municipality):
        raise Unauthorized(f"this token's municipality {tok.municipality!r} is gone")
    return principal_of(tok)


def _exists(session: Session, municipality: str) -> bool:
    return (
        session.scalar(select(Municipality.id).where(Municipality.id == municipality)) is not None
    )


def principal_of(tok: Token) -> Principal:
    """The principal a stored token stands for."""
    return Principal(
        role=tok.role,
        token_id=tok.id,
        municipality=tok.municipality,
        confederation=tok.confederation,
        delegate_id=tok.delegate_id,
        label=tok.label,
    )


def issue(
    session: Session,
    actor: Principal,
    role: str,
    municipality: str | None = None,
    delegate_id: int | None = None,
    label: str = "",
) -> tuple[Token, str]:
    """Make a token; returns the stored row and the secret (never stored, shown once).

    ``assembly`` needs a municipality; ``coordinator`` a delegate who has
    not been recalled (its confederation is the delegate's); ``analyst``
    and ``admin`` need neither. Admins issue any token; an assembly issues
    coordinator tokens for its own delegates.
    """
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    confederation = None
    if role == "assembly":
        if not municipality or not _exists(session, municipality):
            raise Invalid(
                f"an assembly token needs an existing municipality (got {municipality!r})"
            )
    elif role == "coordinator":
        d = session.get(Delegate, delegate_id) if delegate_id is not None else None
        if d is None:
            raise Invalid(
                "a coordinator token needs a delegate (name one: POST /municipalities/{id}/delegates)"
            )
        if d.recalled_at is not None:
            raise Conflict(f"delegate {d.id} ({d.name}) has been recalled")
        confederation, municipality = d.confederation, None
        delegates.may_send(session, actor, d)
    else:
        municipality = delegate_id = None
    if role != "coordinator" and not actor.is_admin:
        raise Forbidden("only an admin may issue this token")
    secret = new_token()
    tok = Token(
        token_hash=hash_token(secret),
        role=role,
        municipality=municipality,
        confederation=confederation,
        delegate_id=delegate_id if role == "coordinator" else None,
        label=label,
        created_by=actor.actor,
    )
    session.add(tok)
    session.flush()
    audit.record(session, actor, "issue", "tokens", str(tok.id), None, None, public(tok))
    session.commit()
    return tok, secret


def public(tok: Token) -> dict:
    """A token without its secret."""
    return {
        "id": tok.id,
        "role": tok.role,
        "municipality": tok.municipality,
        "confederation": tok.confederation,
        "delegate_id": tok.delegate_id,
        "label": tok.label,
        "created_by": tok.created_by,
        "created_at": tok.created_at,
        "revoked_at": tok.revoked_at,
    }


def get(session: Session, token_id: int) -> Token:
    """A token row or 404."""
    tok = session.get(Token, token_id)
    if tok is None:
        raise NotFound(f"no token {token_id}")
    return tok


def listing(session: Session, actor: Principal, limit: int, offset: int) -> tuple[list[Token], int]:
    """Admins see every token; anyone else only their own."""
    q = select(Token)
    if not actor.is_admin:
        q = q.where(Token.id == actor.token_id)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    return list(session.scalars(q.order_by(Token.id).limit(limit).offset(offset))), total


def revoke(session: Session, actor: Principal, token_id: int) -> Token:
    """Revoke a token: an admin any, anyone their own, an assembly its delegates' tokens."""
    tok = get(session, token_id)
    allowed = actor.is_admin or actor.token_id == tok.id
    if not allowed and tok.delegate_id is not None and actor.role == "assembly":
        d = session.get(Delegate, tok.delegate_id)
        allowed = d is not None and d.municipality == actor.municipality
    if not allowed:
        raise Forbidden("you may revoke only your own tokens")
    if tok.revoked_at is None:
        tok.revoked_at = utcnow()
        audit.record(session, actor, "revoke", "tokens", str(tok.id), None, None, public(tok))
        session.commit()
    return tok

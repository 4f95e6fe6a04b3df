"""Delegates, tokens and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import PageDep, PrincipalDep, SessionDep, page
from api.schemas.auth import (
    AuditPublic,
    DelegateCreate,
    DelegatePublic,
    DelegateTokenCreate,
    TokenCreate,
    TokenIssued,
    TokenPublic,
)
from api.schemas.common import ErrorOut, Page
from api.services import audit, delegates, tokens

router = APIRouter(responses={422: {"model": ErrorOut}})


@router.get(
    "/municipalities/{town}/delegates", response_model=Page[DelegatePublic], tags=["delegates"]
)
def town_delegates(
    town: str, session: SessionDep, _p: PrincipalDep, paging: PageDep, active: bool | None = None
) -> dict:
    """The delegates a municipality's assembly has named."""
    found, total = delegates.listing(
        session, paging.limit, paging.offset, municipality=town, active=active
    )
    return page([delegates.public(d) for d in found], total, paging)


@router.post(
    "/municipalities/{town}/delegates",
    status_code=status.HTTP_201_CREATED,
    response_model=DelegatePublic,
    tags=["delegates"],
)
def name_delegate(
    town: str, body: DelegateCreate, session: SessionDep, principal: PrincipalDep
) -> dict:
    """The assembly names a delegate to a confederal council it belongs to."""
    return delegates.public(delegates.name(session, principal, town, body.name, body.confederation))


@router.get("/delegates", response_model=Page[DelegatePublic], tags=["delegates"])
def list_delegates(
    session: SessionDep,
    _p: PrincipalDep,
    paging: PageDep,
    confederation: str | None = None,
    active: bool | None = None,
) -> dict:
    """Every delegate (filters: confederation, active)."""
    found, total = delegates.listing(
        session, paging.limit, paging.offset, confederation=confederation, active=active
    )
    return page([delegates.public(d) for d in found], total, paging)


@router.get("/delegates/{delegate_id}", response_model=DelegatePublic, tags=["delegates"])
def get_delegate(delegate_id: int, session: SessionDep, _p: PrincipalDep) -> dict:
    """One delegate."""
    return delegates.public(delegates.get(session, delegate_id))


@router.post("/delegates/{delegate_id}/recall", response_model=DelegatePublic, tags=["delegates"])
def recall_delegate(delegate_id: int, session: SessionDep, principal: PrincipalDep) -> dict:
    """The delegate's assembly recalls them: their tokens stop working at once."""
    return delegates.public(delegates.recall(session, principal, delegate_id))


@router.post(
    "/delegates/{delegate_id}/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenIssued,
    tags=["delegates"],
)
def delegate_token(
    delegate_id: int, body: DelegateTokenCreate, session: SessionDep, principal: PrincipalDep
) -> dict:
    """A coordinator token for the delegate (their assembly, or an admin); shown once."""
    tok, secret = tokens.issue(
        session, principal, "coordinator", delegate_id=delegate_id, label=body.label
    )
    return {**tokens.public(tok), "token": secret}


@router.post(
    "/tokens", status_code=status.HTTP_201_CREATED, response_model=TokenIssued, tags=["tokens"]
)
def create_token(body: TokenCreate, session: SessionDep, principal: PrincipalDep) -> dict:
    """Issue a token (admins); the secret is shown once and stored only as its sha256."""
    tok, secret = tokens.issue(
        session, principal, body.role, body.municipality, body.delegate_id, body.label
    )
    return {**tokens.public(tok), "token": secret}


@router.get("/tokens", response_model=Page[TokenPublic], tags=["tokens"])
def list_tokens(session: SessionDep, principal: PrincipalDep, paging: PageDep) -> dict:
    """Tokens (admins see all, others their own), without secrets."""
    found, total = tokens.listing(session, principal, paging.limit, paging.offset)
    return page([tokens.public(t) for t in found], total, paging)


@router.delete("/tokens/{token_id}", response_model=TokenPublic, tags=["tokens"])
def revoke_token(token_id: int, session: SessionDep, principal: PrincipalDep) -> dict:
    """Revoke a token (admins any, anyone their own, an assembly its delegates')."""
    return tokens.public(tokens.revoke(session, principal, token_id))


@router.get("/audit", response_model=Page[AuditPublic], tags=["audit"])
def list_audit(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PageDep,
    scenario: str | None = None,
    resource: str | None = None,
    actor: str | None = None,
    key: str | None = None,
) -> dict:
    """The append-only log of every change: who, what, when, before and after (newest first).

    Each reader sees its own scenario's entries (an analyst every scenario's, an admin all).
    """
    found, total = audit.entries(
        session, principal, paging.limit, paging.offset, scenario, resource, actor, key
    )
    return page(found, total, paging)


@router.get("/audit/{entry_id}", response_model=AuditPublic, tags=["audit"])
def get_audit(entry_id: int, session: SessionDep, principal: PrincipalDep) -> AuditPublic:
    """One audit entry (404 outside the reader's scope)."""
    return audit.entry(session, principal, entry_id)

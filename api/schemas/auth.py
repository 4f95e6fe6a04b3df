"""Tokens, delegates, the acting principal, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from api.schemas.common import Id, In, Out, Text

Role = Literal["assembly", "coordinator", "analyst", "admin"]


class TokenCreate(In):
    """A token: an assembly needs ``municipality``, a coordinator ``delegate_id``."""

    role: Role
    municipality: Id | None = None
    delegate_id: int | None = None
    label: Text = ""


class DelegateTokenCreate(In):
    """A coordinator token for a delegate."""

    label: Text = ""


class TokenPublic(Out):
    """A token without its secret."""

    id: int
    role: str
    municipality: str | None
    confederation: str | None
    delegate_id: int | None
    label: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class TokenIssued(TokenPublic):
    """A new token: ``token`` is shown this once and never stored."""

    token: str


class Me(Out):
    """Who the bearer token acts as."""

    role: str
    token_id: int | None
    municipality: str | None
    confederation: str | None
    delegate_id: int | None
    label: str
    actor: str


class DelegateCreate(In):
    """A person named to the council of ``confederation`` (default the municipality's own)."""

    name: Text
    confederation: Id | None = None


class DelegatePublic(Out):
    """A delegate."""

    id: int
    municipality: str
    confederation: str
    name: str
    named_at: datetime
    recalled_at: datetime | None
    active: bool


class AuditPublic(Out):
    """One audit entry."""

    id: int
    at: datetime
    actor: str
    token_id: int | None
    role: str
    action: str
    resource: str
    key: str
    scenario_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

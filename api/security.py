"""Bearer tokens (random, stored as sha256) and the principal a request acts as."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

ROLES = ("assembly", "coordinator", "analyst", "admin")
TOKEN_PREFIX = "cm_"


def new_token() -> str:
    """A fresh random token (shown once, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What the database keeps: sha256 hex of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is acting: a token's role and scope.

    ``municipality`` for an assembly; ``confederation`` and ``delegate_id``
    for a coordinator (a delegate acting for one confederation subtree).
    """

    role: str
    token_id: int | None = None
    municipality: str | None = None
    confederation: str | None = None
    delegate_id: int | None = None
    label: str = ""

    @property
    def actor(self) -> str:
        """How the audit log names this principal, e.g. ``assembly:ashford#3``."""
        scope = self.municipality or self.confederation or ""
        name = f"{self.role}:{scope}" if scope else self.role
        if self.label:
            name += f" ({self.label})"
        return f"{name}#{self.token_id}" if self.token_id is not None else name

    @property
    def is_admin(self) -> bool:
        """Admins may do anything."""
        return self.role == "admin"

    @classmethod
    def system(cls, label: str = "cli") -> Principal:
        """The command line acting with admin rights (e.g. ``planner demo``)."""
        return cls(role="admin", label=label)

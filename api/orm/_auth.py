"""Delegates, bearer tokens (stored hashed) and the append-only audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, utcnow

ID = String(100)


class Delegate(Base):
    """A person an assembly names to a confederal council; recalled at any time."""

    __tablename__ = "delegates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = mapped_column(ID, index=True)
    municipality: Mapped[str] = mapped_column(ID, index=True)
    confederation: Mapped[str] = mapped_column(ID, index=True)
    name: Mapped[str] = mapped_column(String(200))
    named_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Token(Base):
    """A bearer token: only its sha256 is kept. Roles: assembly, coordinator, analyst, admin."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    municipality: Mapped[str | None] = mapped_column(ID, nullable=True)
    confederation: Mapped[str | None] = mapped_column(ID, nullable=True)
    delegate_id: Mapped[int | None] = mapped_column(ForeignKey("delegates.id"), nullable=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditEntry(Base):
    """Who changed what and when; the database refuses UPDATE and DELETE on this table."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    resource: Mapped[str] = mapped_column(String(40), index=True)
    key: Mapped[str] = mapped_column(String(300), default="")
    scenario_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)

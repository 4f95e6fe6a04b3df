"""The scenario's tables (SPEC section 2), one row per CSV row, scoped by scenario.

Every table has a surrogate integer ``pk`` (the row's id in the API) and a
``scenario_id`` (the root confederation's id); the other attributes carry
the SPEC column names (``from_`` for ``from``). Confederation and
municipality ids are unique across the database, other ids per scenario.
``needs`` and ``endowments`` carry a ``version`` for optimistic locking
(the ETag of the row).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, utcnow

ID = String(100)
TEXT = String(500)


def _scenario_fk() -> Mapped[str]:
    return mapped_column(ID, ForeignKey("scenarios.id", ondelete="CASCADE"), index=True)


class ScenarioRow(Base):
    """One confederation tree's scenario: metadata; ``id`` is the root confederation's id."""

    __tablename__ = "scenarios"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(TEXT)
    period: Mapped[str] = mapped_column(TEXT, default="")
    description: Mapped[str] = mapped_column(String(5000), default="")
    policy: Mapped[dict] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Confederation(Base):
    """A node of the tree; ``parent`` is ``""`` for the root."""

    __tablename__ = "confederations"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = _scenario_fk()
    id: Mapped[str] = mapped_column(ID, unique=True)
    name: Mapped[str] = mapped_column(TEXT, default="")
    parent: Mapped[str] = mapped_column(ID, default="")


class Municipality(Base):
    """A leaf of the tree, with its people and labour."""

    __tablename__ = "municipalities"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = _scenario_fk()
    id: Mapped[str] = mapped_column(ID, unique=True)
    name: Mapped[str] = mapped_column(TEXT, default="")
    confederation: Mapped[str] = mapped_column(ID, index=True)
    population: Mapped[float] = mapped_column(Float)
    labour_hours: Mapped[float] = mapped_column(Float)


class Item(Base):
    """A good, resource or emission."""

    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("scenario_id", "id"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = _scenario_fk()
    id: Mapped[str] = mapped_column(ID)
    name: Mapped[str] = mapped_column(TEXT, default="")
    unit: Mapped[str] = mapped_column(TEXT, default="")
    kind: Mapped[str] = mapped_column(String(20))
    transportable: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class Process(Base):
    """A technique of production."""

    __tablename__ = "processes"
    __table_args__ = (UniqueConstraint("scenario_id", "id"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = _scenario_fk()
    id: Mapped[str] = mapped_column(ID)
    name: Mapped[str] = mapped_column(TEXT, default="")
    labour_hours: Mapped[float] = mapped_column(Float)


class ProcessIO(Base):
    """One coefficient of a process (+ output, - input)."""

    __tablename__ = "process_io"
    __table_args__ = (UniqueConstraint("scenario_id", "process", "item"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = _scenario_fk()
    process: Mapped[str] = mapped_column(ID)
    item: Mapped[str] = mapped_column(ID)
    quantity: Mapped[float] = mapped_column(Float)


class Capacity(Base):
    """The most activity of a process a municipality can run (None = unbounded)."""

    __tablename__ = "capacities"
    __table_args__ = (UniqueConstraint("scenario_id", "municipality", "process"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = _scenario_fk()
    municipality: Mapped[str] = mapped_column(ID, index=True)
    process: Mapped[str] = mapped_column(ID)
    max_level: Mapped[float | None] = mapped_column(Float, nullable=True)


class Endowment(Base):
    """A municipality's stock at the start of the period."""

    __tablename__ = "endowments"
    __table_args__ = (UniqueConstraint("scenario_id", "municipality", "item"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = _scenario_fk()
    municipality: Mapped[str] = mapped_column(ID, index=True)
    item: Mapped[str] = mapped_column(ID)
    quantity: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class Need(Base):
    """What an assembly declares: exactly one of quantity / per_capita."""

    __tablename__ = "needs"
    __table_args__ = (UniqueConstraint("scenario_id", "municipality", "item", "tier"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = _scenario_fk()
    municipality: Mapped[str] = mapped_column(ID, index=True)
    item: Mapped[str] = mapped_column(ID)
    tier: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[float | None] = mapped_column(Float, nullable=True)
    per_capita: Mapped[float | None] = mapped_column(Float, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class Link(Base):
    """A transport connection (``from_`` is SPEC ``from``)."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("scenario_id", "from_municipality", "to_municipality"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = _scenario_fk()
    from_: Mapped[str] = mapped_column("from_municipality", ID)
    to: Mapped[str] = mapped_column("to_municipality", ID)
    labour_per_unit: Mapped[float] = mapped_column(Float)
    capacity: Mapped[float | None] = mapped_column(Float, nullable=True)
    loss: Mapped[float | None] = mapped_column(Float, nullable=True)
    both_ways: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class Limit(Base):
    """A cap on an emission or resource over a municipality or confederation."""

    __tablename__ = "limits"
    __table_args__ = (UniqueConstraint("scenario_id", "item", "scope"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = _scenario_fk()
    item: Mapped[str] = mapped_column(ID)
    scope: Mapped[str] = mapped_column(ID)
    cap: Mapped[float] = mapped_column(Float)


class Mandate(Base):
    """A binding instruction of an assembly to its delegate."""

    __tablename__ = "mandates"
    __table_args__ = (UniqueConstraint("scenario_id", "municipality", "kind", "target"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = _scenario_fk()
    municipality: Mapped[str] = mapped_column(ID, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(ID, default="")
    value: Mapped[float | None] = mapped_column(Float, nullable=True)


TABLE_CLASSES: dict[str, type[Base]] = {
    "confederations": Confederation,
    "municipalities": Municipality,
    "items": Item,
    "processes": Process,
    "process_io": ProcessIO,
    "capacities": Capacity,
    "endowments": Endowment,
    "needs": Need,
    "links": Link,
    "limits": Limit,
    "mandates": Mandate,
}
"""SPEC table name -> ORM class, in canonical order."""


def attr(column: str) -> str:
    """The ORM attribute of a SPEC column (``from`` is a Python keyword)."""
    return "from_" if column == "from" else column

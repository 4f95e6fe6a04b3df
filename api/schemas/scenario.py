"""Scenarios (whole) and the tree: confederations and municipalities."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.schemas.common import Id, In, Out, Quantity, Text


class ScenarioPublic(Out):
    """A stored scenario's metadata; ``id`` is its root confederation."""

    id: str
    name: str
    period: str
    description: str
    policy: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


class ScenarioDetail(ScenarioPublic):
    """With row counts per table."""

    counts: dict[str, int]


class ScenarioUpdate(In):
    """Metadata changes (validated like scenario.yaml)."""

    name: Text | None = None
    period: Text | None = None
    description: str | None = None
    policy: dict[str, Any] | None = None


class ImportResult(Out):
    """What an import stored."""

    id: str
    name: str
    hash: str
    counts: dict[str, int]
    warnings: list[str]


class ConfederationBase(In):
    """Display name."""

    name: Text = ""


class ConfederationCreate(ConfederationBase):
    """A new member confederation under ``parent``."""

    id: Id
    parent: Id


class ConfederationUpdate(In):
    """Rename, or move under another parent."""

    name: Text | None = None
    parent: Id | None = None


class ConfederationPublic(Out):
    """A node of the tree (``parent`` empty for the root)."""

    id: str
    name: str
    parent: str
    scenario_id: str


class ConfederationDetail(ConfederationPublic):
    """With its place in the tree."""

    ancestors: list[str]
    children: list[str]
    municipalities: list[str]


class MunicipalityBase(In):
    """Name, people and labour."""

    name: Text = ""
    population: Quantity
    labour_hours: Quantity


class MunicipalityCreate(MunicipalityBase):
    """A new municipality in ``confederation``."""

    id: Id
    confederation: Id


class MunicipalityUpdate(In):
    """Any of the columns but the id."""

    name: Text | None = None
    confederation: Id | None = None
    population: Quantity | None = None
    labour_hours: Quantity | None = None


class MunicipalityPublic(Out):
    """A municipality."""

    id: str
    name: str
    confederation: str
    population: float
    labour_hours: float
    scenario_id: str

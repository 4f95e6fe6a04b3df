"""Shared field types, the page envelope and the error body."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]+$", min_length=1, max_length=100)]
"""Ids are case-sensitive strings of letters, digits, ``_``, ``-``, ``.`` (SPEC section 2)."""
Text = Annotated[str, StringConstraints(max_length=500)]
Quantity = Annotated[float, Field(ge=0, allow_inf_nan=False)]
"""A finite, non-negative decimal."""
Signed = Annotated[float, Field(allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class In(BaseModel):
    """Request bodies refuse unknown keys (a typo is a 422, not silently ignored).

    Strict types: ``{"transportable": 0}`` or ``{"quantity": false}`` is a
    422, not a silent ``false`` or ``0`` (a whole number is still a number).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)


class Out(BaseModel):
    """Response bodies."""

    model_config = ConfigDict(from_attributes=True, populate_by_name=True)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a list: ``data``, the ``count`` of all matching rows, ``limit`` and ``offset``."""

    data: list[T]
    count: int
    limit: int
    offset: int


class ErrorOut(BaseModel):
    """Every error: a message and, for invalid input, every problem as ``file:row: column: message``."""

    detail: str
    problems: list[str] | None = None

"""Row resources: items, processes, links, limits; needs, endowments, capacities, mandates."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from api.schemas.common import Id, In, Out, Quantity, Signed, Text

Kind = Literal["good", "resource", "emission"]
MandateKind = Literal["max_export", "min_local_share", "max_labour_share", "forbid_process"]


class ItemBase(In):
    """What an item is."""

    name: Text = ""
    unit: Text = ""
    kind: Kind
    transportable: bool | None = None


class ItemCreate(ItemBase):
    """A new item."""

    id: Id


class ItemUpdate(In):
    """Any column but the id."""

    name: Text | None = None
    unit: Text | None = None
    kind: Kind | None = None
    transportable: bool | None = None


class ItemPublic(Out):
    """An item."""

    id: str
    name: str
    unit: str
    kind: str
    transportable: bool | None


class Coefficient(In):
    """Per unit of activity: + output, - input."""

    item: Id
    quantity: Signed


class ProcessBase(In):
    """Name and labour per unit of activity."""

    name: Text = ""
    labour_hours: Quantity


class ProcessCreate(ProcessBase):
    """A new process with its coefficients."""

    id: Id
    coefficients: list[Coefficient] = []


class ProcessUpdate(In):
    """Any column but the id; ``coefficients`` (when given) replaces them all."""

    name: Text | None = None
    labour_hours: Quantity | None = None
    coefficients: list[Coefficient] | None = None


class ProcessPublic(Out):
    """A process and its coefficients."""

    id: str
    name: str
    labour_hours: float
    coefficients: list[Coefficient]


Loss = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]


class LinkBase(In):
    """Cost, capacity, loss, direction."""

    labour_per_unit: Quantity
    capacity: Quantity | None = None
    loss: Loss | None = None
    both_ways: bool | None = None


class LinkCreate(LinkBase):
    """A new link between two municipalities."""

    from_: Id = Field(alias="from")
    to: Id


class LinkUpdate(In):
    """Any column (``from``/``to`` too)."""

    from_: Id | None = Field(default=None, alias="from")
    to: Id | None = None
    labour_per_unit: Quantity | None = None
    capacity: Quantity | None = None
    loss: Loss | None = None
    both_ways: bool | None = None


class LinkPublic(Out):
    """A link; ``id`` is the row id."""

    id: int
    from_: str = Field(alias="from")
    to: str
    labour_per_unit: float
    capacity: float | None
    loss: float | None
    both_ways: bool | None


class LimitBase(In):
    """The cap."""

    cap: Quantity


class LimitCreate(LimitBase):
    """A new limit on an emission or resource over a municipality or confederation."""

    item: Id
    scope: Id


class LimitUpdate(In):
    """Any column."""

    item: Id | None = None
    scope: Id | None = None
    cap: Quantity | None = None


class LimitPublic(Out):
    """A limit."""

    id: int
    item: str
    scope: str
    cap: float


class NeedBase(In):
    """Item, tier and exactly one of quantity / per_capita."""

    item: Id
    tier: int = Field(ge=1, le=3)
    quantity: Quantity | None = None
    per_capita: Quantity | None = None


class NeedCreate(NeedBase):
    """A new need of the municipality in the path."""


class NeedUpdate(In):
    """Any column; setting quantity clears per_capita and vice versa."""

    item: Id | None = None
    tier: int | None = Field(default=None, ge=1, le=3)
    quantity: Quantity | None = None
    per_capita: Quantity | None = None


class NeedPublic(Out):
    """A need, with its row version (the ETag)."""

    id: int
    municipality: str
    item: str
    tier: int
    quantity: float | None
    per_capita: float | None
    version: int


class EndowmentBase(In):
    """Item and stock."""

    item: Id
    quantity: Quantity


class EndowmentCreate(EndowmentBase):
    """A new endowment of the municipality in the path."""


class EndowmentUpdate(In):
    """Any column."""

    item: Id | None = None
    quantity: Quantity | None = None


class EndowmentPublic(Out):
    """An endowment, with its row version (the ETag)."""

    id: int
    municipality: str
    item: str
    quantity: float
    version: int


class CapacityBase(In):
    """Process and most activity (None = unbounded)."""

    process: Id
    max_level: Quantity | None = None


class CapacityCreate(CapacityBase):
    """A new capacity of the municipality in the path."""


class CapacityUpdate(In):
    """Any column."""

    process: Id | None = None
    max_level: Quantity | None = None


class CapacityPublic(Out):
    """A capacity."""

    id: int
    municipality: str
    process: str
    max_level: float | None


class MandateBase(In):
    """Kind, target (item or process id, or empty) and value."""

    kind: MandateKind
    target: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]*$", max_length=100)] = ""
    value: Signed | None = None


class MandateCreate(MandateBase):
    """A new mandate of the municipality in the path."""


class MandateUpdate(In):
    """Any column."""

    kind: MandateKind | None = None
    target: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]*$", max_length=100)] | None = None
    value: Signed | None = None


class MandatePublic(Out):
    """A mandate."""

    id: int
    municipality: str
    kind: str
    target: str
    value: float | None

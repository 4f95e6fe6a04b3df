"""The scenario's tables, as data: every column with type, unit, default, meaning.

Column types: ``id`` (an identifier of this table's row), ``ref`` (an id of
another table, named by ``refers``), ``text`` (free text), ``float``,
``int`` and ``bool``. ``minimum``/``maximum`` are inclusive bounds, except
that ``maximum_exclusive`` makes the upper bound strict. Checks that involve
several columns or tables live in ``_validate.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ID_PATTERN = r"[A-Za-z0-9_.\-]+"
ITEM_KINDS = ("good", "resource", "emission")
MANDATE_KINDS = ("max_export", "min_local_share", "max_labour_share", "forbid_process")


@dataclass(frozen=True)
class Column:
    """One column of a table."""

    name: str
    type: str
    required: bool = False
    default: Any = None
    unit: str = ""
    description: str = ""
    refers: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    maximum_exclusive: bool = False
    choices: tuple[str, ...] | None = None

    @property
    def is_text(self) -> bool:
        """True for id, ref and text columns (stored as str)."""
        return self.type in ("id", "ref", "text")


@dataclass(frozen=True)
class TableSchema:
    """A table: its columns in canonical order and its key columns."""

    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    mandatory: bool = False
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})

    @property
    def names(self) -> list[str]:
        """Column names in canonical order."""
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> Column:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name


def _c(name, type, required=False, default=None, unit="", description="", **kw) -> Column:
    if default is None and type in ("id", "ref", "text"):
        default = ""
    return Column(name, type, required, default, unit, description, **kw)


_NONNEG = {"minimum": 0.0}
_SHARE = {"minimum": 0.0, "maximum": 1.0}

_SCHEMAS = [
    TableSchema(
        "confederations",
        "The confederation tree (one root).",
        ("id",),
        (
            _c("id", "id", True, description="confederation id"),
            _c("name", "text", description="display name"),
            _c(
                "parent",
                "ref",
                refers="confederations",
                description="the confederation it belongs to; empty for the root",
            ),
        ),
    ),
    TableSchema(
        "municipalities",
        "The leaves of the tree, each with its labour.",
        ("id",),
        (
            _c("id", "id", True, description="municipality id"),
            _c("name", "text", description="display name"),
            _c(
                "confederation",
                "ref",
                True,
                refers="confederations",
                description="the confederation it is a member of",
            ),
            _c("population", "float", True, unit="people", description="inhabitants", **_NONNEG),
            _c(
                "labour_hours",
                "float",
                True,
                unit="hours",
                description="labour available in the period",
                **_NONNEG,
            ),
        ),
        mandatory=True,
    ),
    TableSchema(
        "items",
        "Everything counted: goods, resources, emissions.",
        ("id",),
        (
            _c("id", "id", True, description="item id"),
            _c("name", "text", description="display name"),
            _c("unit", "text", description="unit of measure, for display"),
            _c("kind", "text", True, choices=ITEM_KINDS, description="good, resource or emission"),
            _c(
                "transportable",
                "bool",
                description="may move along links "
                "(goods default true; resources and emissions never)",
            ),
        ),
        mandatory=True,
    ),
    TableSchema(
        "processes",
        "Techniques of production.",
        ("id",),
        (
            _c("id", "id", True, description="process id"),
            _c("name", "text", description="display name"),
            _c(
                "labour_hours",
                "float",
                True,
                unit="hours per unit of activity",
                description="labour per unit of activity",
                **_NONNEG,
            ),
        ),
    ),
    TableSchema(
        "process_io",
        "Coefficients: items in (-) and out (+) per unit of activity.",
        ("process", "item"),
        (
            _c("process", "ref", True, refers="processes", description="process id"),
            _c("item", "ref", True, refers="items", description="item id"),
            _c(
                "quantity",
                "float",
                True,
                unit="item units per unit of activity",
                description="output (+) or input (-) per unit of activity",
            ),
        ),
    ),
    TableSchema(
        "capacities",
        "Where each process can run, and how much.",
        ("municipality", "process"),
        (
            _c("municipality", "ref", True, refers="municipalities", description="municipality id"),
            _c("process", "ref", True, refers="processes", description="process id"),
            _c(
                "max_level",
                "float",
                unit="units of activity",
                description="most activity in the period; empty = unbounded",
                **_NONNEG,
            ),
        ),
    ),
    TableSchema(
        "endowments",
        "Stocks at the start of the period.",
        ("municipality", "item"),
        (
            _c("municipality", "ref", True, refers="municipalities", description="municipality id"),
            _c("item", "ref", True, refers="items", description="item id"),
            _c("quantity", "float", True, unit="item units", description="stock", **_NONNEG),
        ),
    ),
    TableSchema(
        "needs",
        "What each assembly declares its municipality needs.",
        ("municipality", "item", "tier"),
        (
            _c("municipality", "ref", True, refers="municipalities", description="municipality id"),
            _c("item", "ref", True, refers="items", description="item id (not an emission)"),
            _c(
                "tier",
                "int",
                True,
                unit="1 vital, 2 standard, 3 desired",
                description="priority tier",
                minimum=1,
                maximum=3,
            ),
            _c(
                "quantity",
                "float",
                unit="item units",
                description="need in total (give this or per_capita)",
                **_NONNEG,
            ),
            _c(
                "per_capita",
                "float",
                unit="item units per person",
                description="need per inhabitant (give this or quantity)",
                **_NONNEG,
            ),
        ),
        mandatory=True,
    ),
    TableSchema(
        "links",
        "Transport connections between municipalities.",
        ("from", "to"),
        (
            _c("from", "ref", True, refers="municipalities", description="municipality id"),
            _c("to", "ref", True, refers="municipalities", description="municipality id"),
            _c(
                "labour_per_unit",
                "float",
                True,
                unit="hours per unit moved",
                description="labour to move one unit",
                **_NONNEG,
            ),
            _c(
                "capacity",
                "float",
                unit="units per period",
                description="most units moved per direction; empty = unbounded",
                **_NONNEG,
            ),
            _c(
                "loss",
                "float",
                default=0.0,
                unit="fraction",
                description="share lost in transit",
                minimum=0.0,
                maximum=1.0,
                maximum_exclusive=True,
            ),
            _c("both_ways", "bool", default=True, description="usable in both directions"),
        ),
    ),
    TableSchema(
        "limits",
        "Caps on emissions and resource use over a scope.",
        ("item", "scope"),
        (
            _c("item", "ref", True, refers="items", description="emission or resource id"),
            _c(
                "scope",
                "ref",
                True,
                refers="municipalities|confederations",
                description="municipality or confederation id (includes all its members)",
            ),
            _c(
                "cap", "float", True, unit="item units", description="most in the period", **_NONNEG
            ),
        ),
    ),
    TableSchema(
        "mandates",
        "Binding instructions of assemblies to their delegates.",
        ("municipality", "kind", "target"),
        (
            _c("municipality", "ref", True, refers="municipalities", description="municipality id"),
            _c("kind", "text", True, choices=MANDATE_KINDS, description="what the mandate does"),
            _c(
                "target",
                "ref",
                refers="items|processes",
                description="item (max_export, min_local_share) or process (forbid_process)",
            ),
            _c(
                "value",
                "float",
                unit="item units or share",
                description="max_export: units; shares: in [0, 1]; forbid_process: none",
            ),
        ),
    ),
]

TABLES: dict[str, TableSchema] = {t.name: t for t in _SCHEMAS}
"""Table name -> schema, in canonical order (the CSV stems)."""

MANDATORY = tuple(t.name for t in _SCHEMAS if t.mandatory)

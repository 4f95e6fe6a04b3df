"""The validated, immutable, hashed scenario."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from models._meta import ScenarioMeta
from models._problems import Problem
from models._schema import TABLES


class Scenario:
    """A validated scenario: metadata plus one canonical DataFrame per table.

    Frozen: ``table(name)`` (and the attribute of the same name, e.g.
    ``s.needs``) returns a shallow copy, so the scenario never changes.
    Two scenarios are equal when their ``content_hash`` is. Build one with
    ``models.from_tables`` or ``models.load``.
    """

    __slots__ = ("_meta", "_tables", "_warnings", "_hash")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("build a Scenario with models.from_tables(...) or models.load(...)")

    @classmethod
    def _make(
        cls,
        meta: ScenarioMeta,
        tables: dict[str, pd.DataFrame],
        warnings: list[Problem] | tuple = (),
    ) -> Scenario:
        self = object.__new__(cls)
        object.__setattr__(self, "_meta", meta)
        object.__setattr__(self, "_tables", tables)
        object.__setattr__(self, "_warnings", tuple(warnings))
        object.__setattr__(self, "_hash", None)
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Scenario is frozen; use .replace(...) to make a changed copy")

    def __reduce__(self):
        return (Scenario._make, (self._meta, self._tables, self._warnings))

    @property
    def meta(self) -> ScenarioMeta:
        """Name, period, description and policy."""
        return self._meta

    @property
    def name(self) -> str:
        """The scenario's name (``meta.name``)."""
        return self._meta.name

    @property
    def warnings(self) -> list[Problem]:
        """Non-fatal problems found while loading."""
        return list(self._warnings)

    def table(self, name: str) -> pd.DataFrame:
        """A shallow copy of one canonical table (see docs/INTERNALS.md)."""
        try:
            return self._tables[name].copy(deep=False)
        except KeyError:
            raise KeyError(f"no table {name!r}; tables are {', '.join(TABLES)}") from None

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table, in canonical order, as shallow copies."""
        return {n: self.table(n) for n in TABLES}

    @property
    def content_hash(self) -> str:
        """sha256 hex of the canonical JSON: same content, same hash, whatever the form."""
        if self._hash is None:
            object.__setattr__(self, "_hash", hashlib.sha256(canonical_json(self)).hexdigest())
        return self._hash

    def resolved_needs(self) -> pd.DataFrame:
        """municipality, item, tier, need (per_capita x population where given).

        Canonical order; zero needs are kept (the planner drops them).
        """
        n = self._tables["needs"]
        return pd.DataFrame(
            {
                "municipality": n["municipality"],
                "item": n["item"],
                "tier": n["tier"],
                "need": self.need_quantities(),
            }
        )

    def need_quantities(self) -> np.ndarray:
        """The ``need`` column of :meth:`resolved_needs` alone, as an array (no frame built)."""
        n = self._tables["needs"]
        m = self._tables["municipalities"]
        where = pd.Index(m["id"]).get_indexer(n["municipality"])
        population = np.append(m["population"].to_numpy(float), np.nan)[where]
        quantity = n["quantity"].to_numpy(float)
        return np.where(np.isnan(quantity), n["per_capita"].to_numpy(float) * population, quantity)

    def replace(
        self, meta: ScenarioMeta | Mapping | None = None, **tables: pd.DataFrame | list[dict]
    ) -> Scenario:
        """A new, revalidated scenario with some tables (or the metadata) replaced."""
        unknown = [t for t in tables if t not in TABLES]
        if unknown:
            raise KeyError(f"no table(s) {unknown}; tables are {', '.join(TABLES)}")
        merged = {**self._tables, **tables}
        from models._scenario import from_tables

        return from_tables(self._meta if meta is None else meta, merged)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.content_hash == other.content_hash

    def __hash__(self) -> int:
        return hash(self.content_hash)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{n}={len(t)}" for n, t in self._tables.items() if len(t))
        return f"<Scenario {self.name!r} {sizes} hash={self.content_hash[:12]}>"


def _attach_table_properties() -> None:
    for name, schema in TABLES.items():

        def get(self: Scenario, _n: str = name) -> pd.DataFrame:
            return self.table(_n)

        get.__doc__ = f"The {name} table: {schema.description} (shallow copy)."
        setattr(Scenario, name, property(get))


_attach_table_properties()


def _column_values(s: pd.Series) -> list:
    """JSON-ready values: NaN -> None, -0.0 -> 0.0, numpy scalars -> Python."""
    if s.dtype == "float64":
        v = s.to_numpy() + 0.0
        return [None if x != x else x for x in v.tolist()]
    return s.tolist()


def canonical_document(s: Scenario) -> dict:
    """The normalised content that the hash covers (columns + rows per table)."""
    meta = s.meta
    doc: dict[str, Any] = {
        "scenario": {
            "name": meta.name,
            "period": meta.period,
            "description": meta.description,
            "policy": {
                "rule": meta.policy.rule,
                "stages": meta.policy.stages,
                "tolerance": meta.policy.tolerance + 0.0,
            },
        }
    }
    for name, frame in s._tables.items():
        cols = [_column_values(frame[c]) for c in frame.columns]
        doc[name] = {
            "columns": list(frame.columns),
            "rows": [list(r) for r in zip(*cols, strict=True)],
        }
    return doc


def canonical_json(s: Scenario) -> bytes:
    """Canonical JSON bytes: sorted keys, no spaces, repr floats, UTF-8."""
    return json.dumps(
        canonical_document(s),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode()

"""The validated, immutable, hashed scenario and the function that builds it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models._meta import ScenarioMeta, parse_meta
from models._normalise import RawTable, Table, empty_raw, normalise
from models._problems import WARNING, Problem, ScenarioError, sort_problems
from models._schema import TABLES
from models._source import Source
from models._validate import validate


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
        m = self._tables["municipalities"]
        population = n["municipality"].map(pd.Series(m["population"].to_numpy(), index=m["id"]))
        need = n["quantity"].fillna(n["per_capita"] * population).astype("float64")
        return pd.DataFrame(
            {"municipality": n["municipality"], "item": n["item"], "tier": n["tier"], "need": need}
        )

    def replace(
        self, meta: ScenarioMeta | Mapping | None = None, **tables: pd.DataFrame | list[dict]
    ) -> Scenario:
        """A new, revalidated scenario with some tables (or the metadata) replaced."""
        unknown = [t for t in tables if t not in TABLES]
        if unknown:
            raise KeyError(f"no table(s) {unknown}; tables are {', '.join(TABLES)}")
        merged = {**self._tables, **tables}
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


def canonical(t: Table) -> pd.DataFrame:
    """Schema columns, canonical dtypes, sorted by key, index 0..n-1."""
    out = {}
    for col in t.schema.columns:
        s = t.frame[col.name]
        if col.is_text:
            out[col.name] = s.astype("str")
        elif col.type == "int":
            out[col.name] = s.fillna(0).astype("int64")
        elif col.type == "bool":
            default = col.default if col.default is not None else False
            out[col.name] = s.fillna(float(default)).astype(bool)
        else:
            v = s.astype("float64")
            if col.default is not None:
                v = v.fillna(float(col.default))
            out[col.name] = v + 0.0
    frame = pd.DataFrame(out, index=t.frame.index)
    if len(frame):
        frame = frame.sort_values(list(t.schema.key), kind="stable")
    return frame.reset_index(drop=True)


def _raw_from_input(value: Any, file: str, source: Source) -> tuple[RawTable, list[Problem]]:
    """A user-supplied table (DataFrame or list of row dicts) as a RawTable."""
    if value is None:
        return empty_raw(file), []
    if isinstance(value, pd.DataFrame):
        frame = value.reset_index(drop=True)
        frame.columns = [str(c).strip() for c in frame.columns]
        frame.index = np.arange(len(frame), dtype="int64") + source.first_row
        return RawTable(frame, file, has_header=len(frame.columns) > 0), []
    if isinstance(value, list | tuple):
        bad = [i for i, r in enumerate(value) if not isinstance(r, Mapping)]
        problems = [
            Problem(file, i + source.first_row, "-", "a row must be an object of column: value")
            for i in bad
        ]
        rows = [r if isinstance(r, Mapping) else {} for r in value]
        nested = [
            (i, k) for i, r in enumerate(rows) for k, v in r.items() if isinstance(v, dict | list)
        ]
        problems += [
            Problem(
                file,
                i + source.first_row,
                str(k),
                "a cell must be a single value, not a list or object",
            )
            for i, k in nested
        ]
        frame = pd.DataFrame.from_records(
            [
                {str(k).strip(): (None if isinstance(v, dict | list) else v) for k, v in r.items()}
                for r in rows
            ]
        )
        frame.index = np.arange(len(frame), dtype="int64") + source.first_row
        return RawTable(frame, file, has_header=False), problems
    return empty_raw(file), [
        Problem(
            file,
            0,
            "-",
            f"a table must be a list of row objects or a DataFrame, not {type(value).__name__}",
        )
    ]


def _reading_order(source: Source):
    """Sort key: metadata, then tables in order, rows top down, columns left to right."""
    files = {source.file(n): (i, TABLES[n].names) for i, n in enumerate(TABLES, start=1)}

    def key(p: Problem) -> tuple[int, int, int]:
        table, names = files.get(p.file, (0, []))
        first = p.column.split("/")[0]
        return table, p.row, names.index(first) if first in names else -1

    return key


def _one_per_cell(problems: list[Problem]) -> list[Problem]:
    """Keep the first error of each cell: later ones are its consequences."""
    seen: set[tuple[str, int, str]] = set()
    out = []
    for p in problems:
        cell = (p.file, p.row, p.column)
        if p.is_error and p.column != "-":
            if cell in seen:
                continue
            seen.add(cell)
        out.append(p)
    return out


def assemble(
    meta: Any,
    raws: Mapping[str, RawTable | None],
    source: Source,
    problems: list[Problem] | None = None,
    meta_lines: dict[str, int] | None = None,
) -> Scenario:
    """Normalise, validate and freeze; raise ScenarioError listing every problem."""
    problems = list(problems or [])
    meta_obj, meta_problems = parse_meta(meta, source.meta_file, meta_lines)
    problems += meta_problems
    tables: dict[str, Table] = {}
    for name, schema in TABLES.items():
        raw = raws.get(name)
        if raw is None:
            if schema.mandatory and name not in raws:
                problems.append(Problem(source.file(name), 0, "-", "missing mandatory table"))
            raw = empty_raw(source.file(name))
        table, found = normalise(schema, raw)
        problems += found
        tables[name] = table
    error_files = {p.file for p in problems if p.is_error}
    broken = {n for n in TABLES if raws.get(n) is None and source.file(n) in error_files}
    problems += validate(tables, broken)
    problems = _one_per_cell(sorted(problems, key=_reading_order(source)))
    if meta_obj is None or any(p.is_error for p in problems):
        raise ScenarioError(problems)
    frames = {name: canonical(t) for name, t in tables.items()}
    return Scenario._make(meta_obj, frames, sort_problems(problems))


def from_tables(
    meta: Mapping | ScenarioMeta,
    tables: Mapping[str, Any],
    source: str | Path | Source | None = None,
) -> Scenario:
    """Build and validate a Scenario from metadata and tables.

    ``meta`` is scenario.yaml's content (a dict) or a ``ScenarioMeta``;
    ``tables`` maps table names to DataFrames or lists of row dicts (a
    missing optional table is empty). ``source`` names the input in problems:
    ``None`` or a folder for CSV labels (``needs.csv``, header = row 1), a
    ``*.xlsx`` name (``book.xlsx[needs]``) or a ``*.json`` name
    (``scenario.json#needs``, rows = 1-based list positions).
    Raises ``ScenarioError`` with every problem found.
    """
    src = Source.of(source)
    problems: list[Problem] = []
    if meta is None:
        problems.append(
            Problem(src.meta_file, 0, "-", "missing scenario metadata (at least a name)")
        )
    raws: dict[str, RawTable | None] = {}
    for name, value in tables.items():
        if name not in TABLES:
            problems.append(
                Problem(
                    src.file(name),
                    0,
                    "-",
                    f"not a table name; ignored (tables are {', '.join(TABLES)})",
                    WARNING,
                )
            )
            continue
        raws[name], found = _raw_from_input(value, src.file(name), src)
        problems += found
    return assemble(meta, raws, src, problems)

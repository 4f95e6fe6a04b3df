"""Building a Scenario: raw tables -> typed, checked, canonical frames (from_tables)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models._frozen import Scenario
from models._meta import ScenarioMeta, parse_meta
from models._normalise import RawTable, Table, empty_raw, normalise
from models._problems import WARNING, Problem, ScenarioError, sort_problems
from models._schema import TABLES
from models._source import Source
from models._validate import validate


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


def _raw_from_rows(value: list | tuple, file: str, source: Source) -> tuple[RawTable, list]:
    """JSON-style rows: objects of column -> scalar; a bad row is reported and left out."""
    problems, rows, numbers = [], [], []
    for i, r in enumerate(value, start=source.first_row):
        if not isinstance(r, Mapping):
            problems.append(Problem(file, i, "-", "a row must be an object of column: value"))
            continue
        cells = {}
        for k, v in r.items():
            if isinstance(v, dict | list):
                problems.append(
                    Problem(file, i, str(k), "a cell must be a single value, not a list or object")
                )
                v = None
            cells[str(k).strip()] = v
        rows.append(cells)
        numbers.append(i)
    frame = pd.DataFrame(rows, dtype=object)  # typed column by column later, never guessed
    frame.index = pd.Index(numbers, dtype="int64")
    return RawTable(frame, file, has_header=False), problems


def raw_from_input(value: Any, file: str, source: Source) -> tuple[RawTable, list[Problem]]:
    """A user-supplied table (DataFrame or list of row dicts) as a RawTable."""
    if value is None:
        return empty_raw(file), []
    if isinstance(value, pd.DataFrame):
        frame = value.reset_index(drop=True)
        frame.columns = [str(c).strip() for c in frame.columns]
        frame.index = np.arange(len(frame), dtype="int64") + source.first_row
        return RawTable(frame, file, has_header=len(frame.columns) > 0), []
    if isinstance(value, list | tuple):
        return _raw_from_rows(value, file, source)
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
        raws[name], found = raw_from_input(value, src.file(name), src)
        problems += found
    return assemble(meta, raws, src, problems)

"""One uploaded table (CSV or xlsx), checked on its own before it joins a scenario."""

from __future__ import annotations

from pathlib import PurePosixPath

from models._csv import read_csv_table
from models._json import rows_of
from models._normalise import normalise
from models._problems import Problem, ScenarioError
from models._scenario import canonical
from models._schema import TABLES
from models._validate import check_alone
from models._xlsx import sheet_table, workbook_rows


def read_table(name: str, data: bytes, filename: str) -> list[dict]:
    """Parse and check one table; return its rows as dicts in canonical order.

    ``filename`` decides the form (``.csv`` or ``.xlsx``; in a workbook the
    sheet named ``name`` is read, or the only sheet) and names the file in
    problems. Checks every cell and the table's own rules (duplicates, kinds,
    ranges); references to other tables are checked when the scenario is
    built. Raises ``ScenarioError`` listing every problem as
    ``filename:row: column: message``.
    """
    rows, problems = read_table_partly(name, data, filename)
    if any(p.is_error for p in problems):
        raise ScenarioError(problems)
    return rows


def read_table_partly(name: str, data: bytes, filename: str) -> tuple[list[dict], list[Problem]]:
    """Like ``read_table``, but keep going: (the rows without errors, every problem).

    For checking the good rows against the whole scenario while the bad ones
    are reported, so that every problem is found in one pass. A problem with
    the file itself (not with one row) raises ``ScenarioError``: no row is
    worth checking then.
    """
    if name not in TABLES:
        raise KeyError(f"no table {name!r}; tables are {', '.join(TABLES)}")
    schema = TABLES[name]
    label = PurePosixPath(filename).name or filename
    suffix = PurePosixPath(label).suffix.lower()
    if not data:
        raise ScenarioError([Problem(label, 0, "-", "file is empty")])
    if suffix == ".csv":
        raw, problems = read_csv_table(data, label)
    elif suffix == ".xlsx":
        raw, problems = _sheet(name, data, label)
    else:
        raise ScenarioError([Problem(label, 0, "-", "give a .csv or .xlsx file")])
    if raw is None:
        raise ScenarioError(problems)
    table, found = normalise(schema, raw)
    problems += found + check_alone(table)
    problems.sort(key=lambda p: p.row)
    bad = {p.row for p in problems if p.is_error}
    if any(row < 2 for row in bad):
        raise ScenarioError(problems)
    if bad:
        keep = ~table.frame.index.isin(list(bad))
        table.frame = table.frame[keep]
        table.given = {c: g[keep] for c, g in table.given.items()}
    return rows_of(canonical(table)), problems


def _sheet(name: str, data: bytes, label: str):
    """The sheet ``name`` of a workbook, or its only sheet."""
    sheets, problems = workbook_rows(data, label)
    if problems:
        return None, problems
    title = name if name in sheets else next(iter(sheets)) if len(sheets) == 1 else None
    if title is None:
        return None, [
            Problem(label, 0, "-", f"no sheet named '{name}' (sheets: " + ", ".join(sheets) + ")")
        ]
    return sheet_table(sheets[title], f"{label}[{title}]")

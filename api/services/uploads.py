"""A municipality's table sent whole, as a file: read it, and name every problem by the file's row.

Used by ``PUT /municipalities/{id}/needs|endowments|capacities|mandates``
and by the web pages alike. ``read_file`` reads a .csv or .xlsx with
``models.read_table`` (whose problems already name ``file:row: column``)
and finds each row's own number in the file (header = row 1), since
``read_table`` hands the rows back sorted by key. ``rows.replace`` takes
those as ``origins``, so that problems found only against the whole
scenario (an unknown item, a need for an emission) name the file's row
too, not a database id: ``needs.csv:18: quantity: must not be negative (got -5)``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import models
from api.errors import Invalid

Where = Callable[[int], str]
"""A file's row number -> how problems name that row (default ``file:row``)."""


@dataclass
class Sent:
    """The rows read from a file, and where each came from (``needs.csv:18``)."""

    rows: list[dict[str, Any]]
    origins: list[str]
    problems: list[str] = field(default_factory=list)
    """With ``partly``: the problems of the rows left out (``rows.replace(pending=...)``)."""
    notes: list[str] = field(default_factory=list)
    """How the file was read (e.g. ';'-separated with decimal commas): to show with the result."""


def norm(value: Any) -> str:
    """A key cell as text, so a file's ``1``/``1.0``/`` 1 `` and a stored ``1`` compare equal."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() and math.isfinite(number) else text


def key_of(table: str, row: dict) -> tuple[str, ...]:
    """A row's key (SPEC key columns), normalised."""
    return tuple(norm(row.get(k)) for k in models.TABLES[table].key)


def missing(value: Any) -> bool:
    """None or NaN: an empty cell."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def read_file(
    table: str,
    scope: str,
    data: bytes,
    filename: str,
    where: Where | None = None,
    partly: bool = False,
) -> Sent:
    """The rows of a .csv or .xlsx ``table`` of municipality ``scope``, each with its file row.

    Raises ``Invalid`` listing every problem as ``file:row: column: message``
    (or ``where(row): column: message``): the cells and the table's own
    rules, and rows of another municipality. With ``partly`` the rows with
    problems are left out and their problems returned in ``Sent.problems``
    (for ``rows.replace(pending=...)``, which adds those the whole scenario
    finds, so every problem is reported at once).
    """
    name = PurePosixPath(filename).name or filename
    sheet, records = _records(table, data, name)
    label = f"{name}[{sheet}]" if sheet else name
    where = where or (lambda row: f"{label}:{row}")

    def lines(problems: list[models.Problem]) -> list[str]:
        return [
            f"{where(p.row) if p.row else p.file + ':0'}: {p.column}: {p.message}"
            for p in problems
            if p.is_error
        ]

    try:
        found, problems = models.read_table_partly(table, data, name)
    except models.ScenarioError as exc:
        raise Invalid(
            f"{name}: the {table} are not valid; nothing was changed", problems=lines(exc.problems)
        ) from None
    pending = lines(problems)
    if pending and not partly:
        raise Invalid(f"{name}: the {table} are not valid; nothing was changed", problems=pending)
    numbers = _row_numbers(table, records)
    origins = [where(numbers.get(key_of(table, r), 0)) for r in found]
    wrong = [
        f"{origin}: municipality: {r['municipality']!r} is not {scope!r}"
        f" (only {scope}'s own rows can be saved here)"
        for r, origin in zip(found, origins, strict=True)
        if r["municipality"] != scope
    ]
    if wrong and not partly:
        raise Invalid(f"{name}: every row must be {scope}'s; nothing was changed", problems=wrong)
    own = [i for i, r in enumerate(found) if r["municipality"] == scope]
    rows = [{k: (None if missing(v) else v) for k, v in found[i].items()} for i in own]
    notes = [f"{name}: {p.message}" for p in problems if not p.is_error and p.row <= 1]
    return Sent(rows, [origins[i] for i in own], pending + wrong, notes)


def _row_numbers(table: str, records: list[list[Any]]) -> dict[tuple[str, ...], int]:
    """Key -> the row's number in the file (header = 1); keys are unique once read_table passed."""
    if not records:
        return {}
    header = [str(h or "").strip() for h in records[0]]
    out: dict[tuple[str, ...], int] = {}
    for number, rec in enumerate(records[1:], start=2):
        row = {h: (rec[i] if i < len(rec) else "") for i, h in enumerate(header)}
        out.setdefault(key_of(table, row), number)
    return out


def _records(table: str, data: bytes, name: str) -> tuple[str | None, list[list[Any]]]:
    """(sheet title or None, the raw records) of a file, as ``models.read_table`` picks them.

    Best effort: only row numbers are at stake, ``read_table`` reports what is wrong.
    """
    try:
        if PurePosixPath(name).suffix.lower() == ".xlsx":
            import openpyxl

            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheets = {ws.title.strip(): ws for ws in book.worksheets}
                title = table if table in sheets else next(iter(sheets))
                return title, [list(r) for r in sheets[title].iter_rows(values_only=True)]
            finally:
                book.close()
        text = data.decode("utf-8-sig", errors="replace")
        first = text.split("\n", 1)[0]
        delimiter = ";" if ";" in first and "," not in first else ","
        return None, list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except Exception:  # noqa: BLE001 - read_table reports the real problem
        return None, []

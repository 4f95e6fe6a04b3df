"""The workbook form: one sheet per table plus sheet ``scenario`` (key, value).

Nested keys are dotted (``policy.rule``, ``policy.tolerance``);
``policy.stages`` is a comma-separated list (a JSON list is also read).
"""

from __future__ import annotations

import io
import json
import math

import pandas as pd

from models._formula import risky
from models._limits import DEFAULT, Limits, open_zip, refuse
from models._normalise import RawTable, cell_text
from models._problems import WARNING, Problem, ScenarioError
from models._schema import TABLES
from models._text import suggest
from models._xlsxread import read_sheets

META_SHEET = "scenario"


def _filled(c) -> bool:
    return c is not None and (not isinstance(c, str) or c.strip() != "")


def _sheet_frame(rows: list[tuple], file: str) -> tuple[RawTable | None, list[Problem]]:
    """Rows of one sheet (header first) as a RawTable with spreadsheet row numbers."""
    problems: list[Problem] = []
    header = [cell_text(h) for h in rows[0]]
    width = max((j + 1 for j, h in enumerate(header) if h), default=0)
    keep, cells = [], []
    for r, rec in enumerate(rows[1:], start=2):
        rec = tuple(rec) + (None,) * max(0, width - len(rec))
        if len(rec) > width and any(_filled(c) for c in rec[width:]):
            problems.append(Problem(file, r, "-", "cells right of the last named column"))
        rec = rec[:width]
        if any(_filled(c) for c in rec):
            keep.append(r)
            cells.append(rec)
    named = [(j, h) for j, h in enumerate(header[:width]) if h]
    for j, h in enumerate(header[:width]):
        if not h and any(cell_text(rec[j]) for rec in cells):
            problems.append(
                Problem(file, 1, f"column {j + 1}", "column without a name; ignored", WARNING)
            )
    names = [h for _, h in named]
    dups = sorted({h for h in names if names.count(h) > 1})
    problems += [Problem(file, 1, h, "duplicate column") for h in dups]
    if dups:
        return None, problems
    frame = pd.DataFrame({h: pd.Series([rec[j] for rec in cells], dtype=object) for j, h in named})
    frame.index = pd.Index(keep, dtype="int64")
    return RawTable(frame, file, has_header=True), problems


def _meta_from_sheet(
    rows: list[tuple], file: str
) -> tuple[dict | None, dict[str, int], list[Problem]]:
    """Sheet ``scenario`` (key, value) -> nested dict and key rows."""
    header = [cell_text(h).lower() for h in rows[0]] if rows else []
    if header[:2] != ["key", "value"]:
        return None, {}, [Problem(file, 1, "-", "sheet 'scenario' needs columns key and value")]
    meta: dict = {}
    lines: dict[str, int] = {}
    problems: list[Problem] = []
    for r, rec in enumerate(rows[1:], start=2):
        rec = tuple(rec) + (None, None)
        key, value = cell_text(rec[0]), rec[1]
        if not key:
            continue
        if key == "policy.stages" and isinstance(value, str) and value.strip().startswith("["):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as e:
                problems.append(Problem(file, r, key, f"not a JSON list: {e.msg}"))
                continue
        lines[key] = r
        parts = key.split(".")
        node = meta
        for part in parts[:-1]:
            node = node.setdefault(part, {}) if isinstance(node.get(part, {}), dict) else {}
        node[parts[-1]] = value.strip() if isinstance(value, str) else value
    return meta, lines, problems


def workbook_rows(
    data: bytes, name: str, limits: Limits = DEFAULT
) -> tuple[dict[str, list[tuple]], list[Problem]]:
    """Every sheet's rows by (stripped) title, or the Problem why they cannot be read.

    A workbook past ``limits`` or with XML entities is refused; one the fast
    reader does not understand is read by openpyxl, within the same limits.
    """
    try:
        sheets = read_sheets(data, name, limits)
    except ScenarioError as e:
        return {}, list(e.problems)
    except Exception:  # noqa: BLE001 - anything unusual: let openpyxl read (or refuse) it
        sheets = None
    if sheets is not None:
        return {title.strip(): rows for title, rows in sheets.items()}, []
    try:
        return _openpyxl_rows(data, name, limits), []
    except ScenarioError as e:
        return {}, list(e.problems)
    except Exception as e:  # noqa: BLE001 - whatever a broken file makes openpyxl raise
        return {}, [Problem(name, 0, "-", f"not a readable .xlsx workbook ({type(e).__name__})")]


def _openpyxl_rows(data: bytes, name: str, limits: Limits) -> dict[str, list[tuple]]:
    """Every sheet's rows read by openpyxl, stopped past ``limits``."""
    import openpyxl

    open_zip(data, name, limits, "an .xlsx workbook").close()
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        out, cells = {}, 0
        for ws in wb.worksheets:
            rows = out.setdefault(ws.title.strip(), [])
            for row in ws.iter_rows(values_only=True):
                cells += len(row) + 1
                if len(rows) > limits.max_rows or cells > limits.max_cells:
                    raise refuse(
                        f"{name}[{ws.title}]", len(rows) + 1, "past the limit of rows or cells"
                    )
                rows.append(row)
        return out
    finally:
        wb.close()


def sheet_table(
    rows: list[tuple], file: str, mandatory: bool = True
) -> tuple[RawTable | None, list[Problem]]:
    """One table sheet; an empty sheet is an error, or a warning for an optional table."""
    if not rows or not any(cell_text(c) for c in rows[0]):
        return None, [
            Problem(
                file,
                0,
                "-",
                "sheet is empty (it needs at least a header row)"
                + ("" if mandatory else "; read as an empty table"),
                "error" if mandatory else WARNING,
            )
        ]
    return _sheet_frame(rows, file)


def read_xlsx(data: bytes, name: str, limits: Limits = DEFAULT):
    """Workbook bytes -> (meta, key rows, raw tables, problems)."""
    sheets, problems = workbook_rows(data, name, limits)
    if problems:
        return None, {}, {}, problems
    raws: dict[str, RawTable | None] = {}
    meta, lines = None, {}
    valid = [META_SHEET, *TABLES]
    for title, rows in sheets.items():
        file = f"{name}[{title}]"
        if title == META_SHEET:
            meta, lines, found = _meta_from_sheet(rows, file)
        elif title in TABLES:
            raws[title], found = sheet_table(rows, file, TABLES[title].mandatory)
        else:
            found = [
                Problem(
                    file,
                    0,
                    "-",
                    "not a table name; sheet ignored"
                    + suggest(title, valid)
                    + " (sheets are "
                    + ", ".join(valid)
                    + ")",
                    WARNING,
                )
            ]
        problems += found
    if META_SHEET not in sheets:
        problems.append(
            Problem(
                name, 0, "-", "missing sheet 'scenario' (columns key, value; at least the row name)"
            )
        )
    for t in TABLES.values():
        if t.mandatory and t.name not in sheets:
            problems.append(Problem(f"{name}[{t.name}]", 0, "-", "missing sheet"))
            raws[t.name] = None
    return meta, lines, raws, problems


def _cell(ws, v):
    from openpyxl.cell import WriteOnlyCell

    if isinstance(v, float):
        if v != v:
            return None
        return int(v) if v.is_integer() and abs(v) < 1e15 else v
    if isinstance(v, str):
        if v == "":
            return None
        if risky(v):  # text, never a formula (see models/_formula.py)
            c = WriteOnlyCell(ws, value=v)
            c.data_type = "s"
            c.quotePrefix = True
            return c
    return v


def inert_row(ws) -> None:
    """The last row appended to a (normal) worksheet: no text cell of it is a formula."""
    for c in ws[ws.max_row]:
        if c.data_type == "f" or risky(c.value):
            c.data_type = "s"
            c.quotePrefix = True


def _exact_floats() -> None:
    """Make openpyxl write floats with repr (17 digits where needed), not "%.16g".

    openpyxl's "%.16g" turns 0.1 + 0.2 into 0.3, so a workbook would not
    round-trip exactly. The patch only ever adds precision; it is idempotent.
    """
    from openpyxl.cell import _writer

    original = _writer.safe_string
    if getattr(original, "_commune_exact", False):
        return

    def safe_string(value):
        if isinstance(value, float) and math.isfinite(value):
            return repr(value)
        return original(value)

    safe_string._commune_exact = True
    _writer.safe_string = safe_string


def write_xlsx(meta: dict, tables: dict[str, pd.DataFrame]) -> bytes:
    """A workbook with sheet ``scenario`` first, then one sheet per table."""
    import openpyxl

    _exact_floats()

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(META_SHEET)
    ws.append(["key", "value"])
    policy = meta.get("policy", {})
    for key in ("name", "period", "description"):
        if key in meta:
            ws.append([key, _cell(ws, meta[key])])
    ws.append(["policy.rule", policy.get("rule", "leximin")])
    if policy.get("stages") is not None:
        ws.append(["policy.stages", ", ".join(policy["stages"])])
    ws.append(["policy.tolerance", policy.get("tolerance", 0.0)])
    for name, frame in tables.items():
        ws = wb.create_sheet(name)
        ws.append(list(frame.columns))
        cols = [frame[c].tolist() for c in frame.columns]
        for row in zip(*cols, strict=True):
            ws.append([_cell(ws, v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

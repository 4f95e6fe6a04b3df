"""A fast reader of .xlsx cell values: the part of SpreadsheetML a table needs.

openpyxl builds an object per cell and, for sheets without a ``dimension``
element, parses each sheet twice; this reads values only, about three times
faster (100k rows in about two seconds). Anything it does not understand
raises, and the caller falls back to openpyxl.
"""

from __future__ import annotations

import functools
import re
import zipfile
from datetime import datetime, timedelta

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from models._limits import DEFAULT, SHEET_COLUMNS, SHEET_ROWS, Limits, open_zip, refuse
from models._problems import Problem, ScenarioError

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_C, _V, _T, _R, _IS, _ROW = (_NS + x for x in ("c", "v", "t", "r", "is", "row"))
_DATE_IDS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_REF = re.compile(r"([A-Za-z]{1,3})([1-9][0-9]*)")


def _text(el) -> str:
    """The text of a string item: plain <t>, or rich-text runs <r><t> (no phonetics)."""
    parts = []
    for child in el:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag == _R:
            parts.extend(t.text or "" for t in child.iter(_T))
    return "".join(parts)


@functools.cache
def _letters(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def _date_styles(zf: zipfile.ZipFile, names: set[str]) -> set[int]:
    """Indexes of cell styles that show a number as a date or time."""
    if "xl/styles.xml" not in names:
        return set()
    custom, xfs, in_xfs = {}, [], False
    for event, el in iterparse(zf.open("xl/styles.xml"), events=("start", "end"), forbid_dtd=True):
        if el.tag == _NS + "numFmt" and event == "end":
            code = _QUOTED.sub("", el.get("formatCode", "")).lower()
            custom[int(el.get("numFmtId", "0"))] = any(c in code for c in "ydh")
        elif el.tag == _NS + "cellXfs":
            in_xfs = event == "start"
        elif el.tag == _NS + "xf" and in_xfs and event == "end":
            xfs.append(int(el.get("numFmtId", "0")))
    return {i for i, f in enumerate(xfs) if f in _DATE_IDS or custom.get(f, False)}


def _sheet_paths(zf: zipfile.ZipFile) -> tuple[dict[str, str], datetime]:
    rels = {
        el.get("Id"): el.get("Target")
        for _, el in iterparse(zf.open("xl/_rels/workbook.xml.rels"), forbid_dtd=True)
        if el.tag.endswith("Relationship")
    }
    sheets, epoch = {}, datetime(1899, 12, 30)
    for _, el in iterparse(zf.open("xl/workbook.xml"), forbid_dtd=True):
        if el.tag == _NS + "sheet":
            target = rels[el.get(_REL + "id")]
            sheets[el.get("name")] = (
                target.lstrip("/") if target.startswith("/") else "xl/" + target
            )
        elif el.tag == _NS + "workbookPr" and el.get("date1904") in ("1", "true"):
            epoch = datetime(1904, 1, 1)
    return sheets, epoch


def _number(v: str, date: bool, epoch: datetime):
    if date:
        when = epoch + timedelta(days=float(v))
        return when.date().isoformat() if when.time() == datetime.min.time() else when.isoformat()
    if "." in v or "e" in v or "E" in v:
        return float(v)
    return int(v)


def _cell_value(el, strings: list[str], dates: set[int], epoch: datetime):
    t = el.get("t")
    if t == "inlineStr":
        is_ = el.find(_IS)
        return _text(is_) if is_ is not None else None
    v = el.findtext(_V)
    if not v:  # no cached value (e.g. a formula never calculated)
        return None
    if t == "s":
        return strings[int(v)]
    if t == "b":
        return v.strip() in ("1", "true")
    if t in ("str", "e", "d"):
        return v
    return _number(v, int(el.get("s", "0")) in dates, epoch)


class _Sheet:
    """One sheet's rows as they are read, bounded by ``limits``."""

    def __init__(self, label: str, limits: Limits, cells_left: int) -> None:
        self.label, self.limits, self.cells_left = label, limits, cells_left
        self.rows: list[tuple] = []
        self.cells: list[tuple[int, object]] = []

    def cell(self, ref: str | None, value) -> None:
        column = len(self.cells)
        if ref:
            found = _REF.fullmatch(ref)
            column = _letters(found.group(1)) if found else SHEET_COLUMNS
            if column >= SHEET_COLUMNS:
                row = int(found.group(2)) if found else len(self.rows) + 1
                raise ScenarioError([Problem(self.label, row, ref, "not a cell reference")])
        self.cells.append((column, value))

    def row(self, r: str | None) -> None:
        number = int(r) if r and r.isdigit() else len(self.rows) + 1
        last = min(SHEET_ROWS, self.limits.max_rows + 1)
        if number > last and not any(v not in (None, "") for _, v in self.cells):
            self.cells = []  # a blank (perhaps only formatted) row far down: nothing to read
            return
        if number > last:
            raise refuse(
                self.label,
                number,
                f"a row past row {last} (at most {self.limits.max_rows} rows after the header)",
            )
        if number <= len(self.rows):
            raise ValueError("rows out of order")  # unusual: openpyxl decides
        width = max((j for j, _ in self.cells), default=-1) + 1
        self.cells_left -= width + number - len(self.rows)
        if self.cells_left < 0:
            raise refuse(self.label, number, f"too many cells (over {self.limits.max_cells})")
        self.rows.extend(() for _ in range(number - 1 - len(self.rows)))
        values = [None] * width
        for j, value in self.cells:
            values[j] = value
        self.rows.append(tuple(values))
        self.cells = []


def read_sheets(data: bytes, name: str = "workbook.xlsx", limits: Limits = DEFAULT) -> dict:
    """Sheet name -> rows (tuples of str/int/float/bool/None), row 1 first.

    Raises ``ScenarioError`` for a passed limit, a cell reference that is
    none, or XML with a DTD (entities, external references); anything else
    unusual raises another exception (the caller then tries openpyxl).
    """
    zf = open_zip(data, name, limits, "an .xlsx workbook")
    try:
        return _read_sheets(zf, name, limits)
    except DefusedXmlException as e:
        raise ScenarioError(
            [Problem(name, 0, "-", f"XML with entities or a DTD is not accepted ({e})")]
        ) from None


def _read_sheets(zf: zipfile.ZipFile, name: str, limits: Limits) -> dict:
    names = set(zf.namelist())
    strings: list[str] = []
    if "xl/sharedStrings.xml" in names:
        for _, el in iterparse(zf.open("xl/sharedStrings.xml"), forbid_dtd=True):
            if el.tag == _NS + "si":
                strings.append(_text(el))
                el.clear()
    dates = _date_styles(zf, names)
    paths, epoch = _sheet_paths(zf)
    out = {}
    cells_left = limits.max_cells
    for title, path in paths.items():
        sheet = _Sheet(f"{name}[{title}]", limits, cells_left)
        for _, el in iterparse(zf.open(path), forbid_dtd=True):
            if el.tag == _C:
                sheet.cell(el.get("r"), _cell_value(el, strings, dates, epoch))
            elif el.tag == _ROW:
                sheet.row(el.get("r"))
                el.clear()
        out[title] = sheet.rows
        cells_left = sheet.cells_left
    return out

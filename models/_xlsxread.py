"""A fast reader of .xlsx cell values: the part of SpreadsheetML a table needs.

openpyxl builds an object per cell and, for sheets without a ``dimension``
element, parses each sheet twice; this reads values only, about three times
faster (100k rows in about two seconds). Anything it does not understand
raises, and the caller falls back to openpyxl.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from datetime import datetime, timedelta
from xml.etree.ElementTree import iterparse

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_C, _V, _T, _R, _IS, _ROW = (_NS + x for x in ("c", "v", "t", "r", "is", "row"))
_DATE_IDS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')


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


def _column(ref: str) -> int:
    """0-based column of a cell reference such as "AB12"."""
    return _letters(ref.rstrip("0123456789"))


def _date_styles(zf: zipfile.ZipFile, names: set[str]) -> set[int]:
    """Indexes of cell styles that show a number as a date or time."""
    if "xl/styles.xml" not in names:
        return set()
    custom, xfs, in_xfs = {}, [], False
    for event, el in iterparse(zf.open("xl/styles.xml"), events=("start", "end")):
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
        for _, el in iterparse(zf.open("xl/_rels/workbook.xml.rels"))
        if el.tag.endswith("Relationship")
    }
    sheets, epoch = {}, datetime(1899, 12, 30)
    for _, el in iterparse(zf.open("xl/workbook.xml")):
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


def read_sheets(data: bytes) -> dict[str, list[tuple]]:
    """Sheet name -> rows (tuples of str/int/float/bool/None), row 1 first."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = set(zf.namelist())
    strings: list[str] = []
    if "xl/sharedStrings.xml" in names:
        for _, el in iterparse(zf.open("xl/sharedStrings.xml")):
            if el.tag == _NS + "si":
                strings.append(_text(el))
                el.clear()
    dates = _date_styles(zf, names)
    paths, epoch = _sheet_paths(zf)
    out = {}
    for name, path in paths.items():
        rows: list[tuple] = []
        cells: list[tuple[int, object]] = []
        for _, el in iterparse(zf.open(path)):
            if el.tag == _C:
                t, ref = el.get("t"), el.get("r")
                if t == "inlineStr":
                    is_ = el.find(_IS)
                    value = _text(is_) if is_ is not None else None
                else:
                    v = el.findtext(_V)
                    if not v:  # no cached value (e.g. a formula never calculated)
                        value = None
                    elif t == "s":
                        value = strings[int(v)]
                    elif t == "b":
                        value = v.strip() in ("1", "true")
                    elif t in ("str", "e", "d"):
                        value = v
                    else:
                        value = _number(v, int(el.get("s", "0")) in dates, epoch)
                cells.append((_column(ref) if ref else len(cells), value))
            elif el.tag == _ROW:
                r = el.get("r")
                number = int(r) if r else len(rows) + 1
                rows.extend(() for _ in range(number - 1 - len(rows)))
                values = [None] * (max((j for j, _ in cells), default=-1) + 1)
                for j, value in cells:
                    values[j] = value
                rows.append(tuple(values))
                cells = []
                el.clear()
        out[name] = rows
    return out

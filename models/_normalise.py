"""Turn one raw table (strings or mixed cells) into typed columns, checking each cell.

Everything here is per table and vectorised; checks across tables live in
``_validate.py``. Frames keep the row number to report as their index until
the very end, when ``canonical`` sorts them by key.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models._problems import NOTE, WARNING, Problem
from models._schema import ID_PATTERN, Column, TableSchema

MAX_MAGNITUDE = 1e12
"""No number may exceed this in magnitude (the solver's scale; docs/FORMAT.md "Ranges")."""
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
_NAN_TEXT = frozenset({"nan", "+nan", "-nan"})
CONTROL = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]"
"""Characters no XML (so no .xlsx) cell may hold; tab and line ends are fine."""
_SURROGATE = re.compile("[\ud800-\udfff]")
"""Lone surrogates (from JSON escapes) cannot be encoded: cells read them as U+FFFF."""


@dataclass
class RawTable:
    """A table as read: cells of any type, index = row number to report."""

    frame: pd.DataFrame
    file: str
    has_header: bool = True  # False for JSON rows: a missing key is a per-row problem


@dataclass
class Table:
    """A typed table still indexed by reported row number, with what was given."""

    schema: TableSchema
    file: str
    frame: pd.DataFrame
    given: dict[str, pd.Series] = field(default_factory=dict)
    header: tuple[str, ...] | None = None  # the columns a CSV/xlsx/DataFrame had

    def report(self, mask: pd.Series, column: str, message, level: str = "error") -> list[Problem]:
        """One Problem per True row of ``mask``; ``message`` is a str or a Series."""
        rows = mask.index[mask.to_numpy(dtype=bool)]
        if not len(rows):
            return []
        if isinstance(message, pd.Series):
            msgs = message.loc[rows].tolist()
        else:
            msgs = [message] * len(rows)
        return [
            Problem(self.file, int(r), column, m, level) for r, m in zip(rows, msgs, strict=True)
        ]


def cell_text(v) -> str:
    """One cell as stripped text: missing -> "", 3.0 -> "3", True -> "true"."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v.strip() if v.isascii() else _SURROGATE.sub("\uffff", v).strip()
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating):
        if math.isnan(v):
            return ""
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return repr(float(v))
    if v is pd.NA or v is pd.NaT:
        return ""
    return str(v).strip()


def shown(values: pd.Series) -> pd.Series:
    """Values as display text (3.0 -> "3"), always of str dtype."""
    return values.map(cell_text).astype("str")


def as_text(s: pd.Series) -> pd.Series:
    """A column as stripped str, missing cells as ""."""
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
        return s.fillna("").str.strip()
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        try:
            return s.astype("str").where(s.notna(), "").str.strip()  # fast path: only text
        except UnicodeEncodeError:
            pass  # a lone surrogate: cell_text marks it as U+FFFF, refused later
    return s.map(cell_text).astype("str")


def _parse_number(s: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Return (values, given, error message or "") for a numeric column."""
    plain = s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in (
        "floating", "integer", "mixed-integer-float", "empty")  # fmt: skip
    if plain or (
        pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
    ):
        values = s.astype("float64")
        given = values.notna()
        text = None
    else:
        text = as_text(s)
        given = text != ""
        values = pd.to_numeric(text.where(given, None), errors="coerce").astype("float64")
    err = pd.Series("", index=s.index, dtype="str")
    bad = given & values.isna()
    if bad.any():
        low = text[bad].str.lower()
        err[bad] = np.where(
            low.isin(_NAN_TEXT), "NaN is not allowed", "not a number: '" + text[bad] + "'"
        )
    inf = np.isinf(values)
    if inf.any():
        err[inf] = "must be finite (not " + shown(values[inf]) + ")"
        values = values.mask(inf)
    return values, given, err


def _parse_bool(s: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Return (1.0/0.0/NaN, given, error message or "") for a boolean column."""
    text = as_text(s)
    low = text.str.lower()
    given = text != ""
    values = pd.Series(
        np.where(low.isin(_TRUE), 1.0, np.where(low.isin(_FALSE), 0.0, np.nan)), index=s.index
    )
    err = pd.Series("", index=s.index, dtype="str")
    bad = given & values.isna()
    err[bad] = "not a boolean: '" + text[bad] + "' (use true/false, yes/no or 1/0)"
    return values, given, err


def _bounds_message(col: Column, values: pd.Series) -> pd.Series:
    lo, hi = col.minimum, col.maximum
    text = shown(values)
    if lo is not None and hi is not None:
        if col.type == "int":
            word = ", ".join(str(i) for i in range(int(lo), int(hi)))
            return f"must be {word} or {int(hi)} (got " + text + ")"
        upper = f"below {hi:g}" if col.maximum_exclusive else f"at most {hi:g}"
        return f"must be at least {lo:g} and {upper} (got " + text + ")"
    if lo == 0:
        return "must not be negative (got " + text + ")"
    return f"must be at least {lo:g} (got " + text + ")"


def _check_column(table: Table, col: Column, s: pd.Series, problems: list[Problem]) -> None:
    """Parse one column into ``table.frame`` (and ``table.given``), appending cell problems."""
    if col.is_text:
        _check_text(table, col, s, problems)
    else:
        _check_value(table, col, s, problems)


def _check_text(table: Table, col: Column, s: pd.Series, problems: list[Problem]) -> None:
    """Ids, references and free text: stripped; ids checked; kinds lower-cased."""
    name = col.name
    text = as_text(s)
    given = text != ""
    if col.type == "text":
        text = text.str.replace("\r\n?", "\n", regex=True)  # one line end everywhere
        bad = text.str.contains(CONTROL, regex=True)
        problems += table.report(
            bad,
            name,
            "contains a control character or lone surrogate (not allowed in a spreadsheet cell)",
        )
        text = text.where(~bad, "")
    if col.choices:
        low = text.str.lower()
        bad = given & ~low.isin(col.choices)
        problems += table.report(
            bad, name, f"unknown {name} '" + text + "' (known: " + ", ".join(col.choices) + ")"
        )
        text = low.where(~bad, "")
    elif col.type in ("id", "ref"):
        bad = given & ~text.str.fullmatch(ID_PATTERN).fillna(False).astype(bool)
        problems += table.report(
            bad, name, "not a valid id '" + text + "' (use letters, digits, _ - . only)"
        )
        text = text.where(~bad, "")
    table.frame[name] = text
    table.given[name] = given


def _check_value(table: Table, col: Column, s: pd.Series, problems: list[Problem]) -> None:
    """Numbers and booleans: parsed, finite, whole where needed, within bounds."""
    name = col.name
    if col.type == "bool":
        values, given, err = _parse_bool(s)
    else:
        values, given, err = _parse_number(s)
    problems += table.report(err != "", name, err)
    values = values.where(err == "")
    if col.type == "int":
        frac = values.notna() & (values % 1 != 0)
        problems += table.report(frac, name, "must be a whole number (got " + shown(values) + ")")
        values = values.mask(frac)
    huge = values.abs() > MAX_MAGNITUDE
    problems += table.report(
        huge,
        name,
        "too large: " + shown(values) + f" (at most {MAX_MAGNITUDE:g}; use a larger unit)",
    )
    values = values.mask(huge)
    out = pd.Series(False, index=values.index)
    if col.minimum is not None:
        out |= values < col.minimum
    if col.maximum is not None:
        out |= (values >= col.maximum) if col.maximum_exclusive else (values > col.maximum)
    if out.any():
        problems += table.report(out, name, _bounds_message(col, values))
        values = values.mask(out)
    table.frame[name] = values
    table.given[name] = given


def normalise(schema: TableSchema, raw: RawTable) -> tuple[Table, list[Problem]]:
    """Type and check every cell of one table; rows keep their reported number."""
    problems: list[Problem] = []
    src = raw.frame
    header = tuple(map(str, src.columns)) if raw.has_header else None
    table = Table(schema, raw.file, pd.DataFrame(index=src.index), header=header)
    present = [c for c in src.columns if c in schema]
    for c in src.columns:
        if c not in schema:
            row = 1 if raw.has_header else int(src[c].first_valid_index() or 0)
            problems.append(
                Problem(
                    raw.file,
                    row,
                    str(c),
                    "unknown column; ignored (known: " + ", ".join(schema.names) + ")",
                    WARNING,
                )
            )
    if raw.has_header:
        header_missing = {c.name for c in schema.columns if c.required and c.name not in src}
        for c in sorted(header_missing, key=schema.names.index):
            problems.append(Problem(raw.file, 1, c, "missing required column"))
    else:
        header_missing = set()
    empty = pd.Series("", index=src.index, dtype="str")
    for col in schema.columns:
        _check_column(table, col, src[col.name] if col.name in present else empty, problems)
    for col in schema.columns:
        if col.required and col.name not in header_missing:
            problems += table.report(~table.given[col.name], col.name, "missing value")
    if schema.name == "process_io":
        problems += _net_own_use(table)
    problems += _duplicates(table)
    return table, problems


OWN_USE = "uses some of its own output"
"""The note's words, which ``own_use_count`` counts."""


def _net_own_use(table: Table) -> list[Problem]:
    """Add up rows of the same process and item into the first one (gross output + own use).

    Input-output tables print a sector's gross output and its own use of the
    same good as two entries; both are kept as one net coefficient, and the
    later rows are dropped. One note per process names the rows added up.
    """
    f = table.frame
    key = ["process", "item"]
    complete = (f["process"] != "") & (f["item"] != "") & table.given["quantity"]
    sub = f.loc[complete, [*key, "quantity"]]
    repeated = sub.duplicated(key, keep=False)
    if not repeated.any():
        return []
    sub = sub[repeated]
    groups = sub.groupby(key, sort=False)
    first = pd.Series(sub.index, index=sub.index).groupby([sub[k] for k in key]).transform("first")
    net = groups["quantity"].transform(lambda q: q.sum(min_count=len(q)))
    head = first.index == first.to_numpy()
    f.loc[sub.index[head], "quantity"] = net[head] + 0.0
    dropped = sub.index[~head]
    table.frame = f.drop(index=dropped)
    table.given = {c: g.drop(index=dropped) for c, g in table.given.items()}
    rows = pd.Series(sub.index, index=sub.index).astype("str").groupby(first).agg(", ".join)
    notes = []
    for process, part in sub[head].groupby("process", sort=False):
        said = "; ".join(
            f"{item}: rows {rows[r]} add up to one net quantity {net[r]:g}"
            for r, item in zip(part.index, part["item"], strict=True)
        )
        notes.append(
            Problem(
                table.file,
                int(part.index[0]),
                "process/item",
                f"'{process}' {OWN_USE} ({said})",
                NOTE,
            )
        )
    return notes


def own_use_count(notes: list[Problem]) -> int:
    """How many processes use some of their own output (from the notes ``normalise`` made)."""
    return sum(1 for p in notes if p.level == NOTE and OWN_USE in p.message)


def _duplicates(table: Table) -> list[Problem]:
    """Rows repeating an earlier row's key (id, or composite key)."""
    key = list(table.schema.key)
    f = table.frame
    complete = pd.Series(True, index=f.index)
    for k in key:
        if k in table.schema and table.schema[k].required:
            complete &= table.given[k] & f[k].notna() & (f[k].astype("str") != "")
    sub = f.loc[complete, key]
    dup = sub.duplicated(keep="first")
    if not dup.any():
        return []
    first = (
        pd.Series(sub.index, index=sub.index)
        .groupby([sub[k] for k in key], sort=False)
        .transform("first")
    )
    label = "/".join(key)
    if key == ["id"]:
        msg = (
            "duplicate id '"
            + sub["id"].astype("str")
            + "' (first at row "
            + first.astype("str")
            + ")"
        )
    else:
        msg = (
            "duplicate row for the same "
            + ", ".join(key[:-1])
            + " and "
            + key[-1]
            + " (first at row "
            + first.astype("str")
            + ")"
        )
    return table.report(dup, label, msg)


def empty_raw(file: str) -> RawTable:
    """An absent optional table."""
    return RawTable(pd.DataFrame(index=pd.Index([], dtype="int64")), file, has_header=False)

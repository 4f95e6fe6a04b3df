"""CSV tables and scenario.yaml: the folder form (and the zip of it)."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import yaml

from models._normalise import RawTable
from models._problems import NOTE, WARNING, Problem
from models._text import decode, format_column


def read_csv_table(
    data: bytes, file: str, optional: bool = False
) -> tuple[RawTable | None, list[Problem]]:
    """Parse one CSV table; rows keep spreadsheet numbers (header = 1)."""
    text, problems = decode(data, file)
    if text is None:
        return None, problems
    if not text.strip():
        level = WARNING if optional else "error"
        note = "; read as an empty table" if optional else ""
        return None, [
            Problem(file, 0, "-", f"file is empty (it needs at least a header row){note}", level)
        ]
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[list[str]] = []
    try:
        for rec in reader:
            records.append(rec)
    except csv.Error as e:
        problems.append(
            Problem(
                file,
                len(records) + 1,
                "-",
                f"bad CSV (line {reader.line_num}): {e}; check the quotes",
            )
        )
        return None, problems
    header = [h.strip() for h in records[0]]
    width = len(header)
    body = records[1:]
    rows = np.arange(2, len(body) + 2, dtype="int64")
    keep, cells = [], []
    for r, rec in zip(rows.tolist(), body, strict=True):
        if len(rec) > width and any(c.strip() for c in rec[width:]):
            problems.append(Problem(file, r, "-", f"{len(rec)} cells but the header has {width}"))
        rec = (rec + [""] * (width - len(rec)))[:width]
        if any(c.strip() for c in rec):
            keep.append(r)
            cells.append(rec)
    named = []
    for j, h in enumerate(header):
        if h == "" and not any(rec[j].strip() for rec in cells):
            continue  # trailing empty column, as spreadsheets write
        named.append((j, h or f"column {j + 1}"))
    seen: set[str] = set()
    for _, h in named:
        if h in seen:
            problems.append(Problem(file, 1, h, "duplicate column"))
        seen.add(h)
    if len(seen) < len(named):
        return None, problems
    frame = pd.DataFrame({h: pd.Series([rec[j] for rec in cells], dtype="str") for j, h in named})
    frame.index = pd.Index(keep, dtype="int64")
    if delimiter == ";":
        frame, note = _decimal_commas(frame, file)
        problems.append(note)
    if not named:
        frame = pd.DataFrame(index=pd.Index(keep, dtype="int64"))
    return RawTable(frame, file, has_header=True), problems


DECIMAL_COMMA = r"^\s*[-+]?\d+,\d+\s*$"
"""A number written with a decimal comma: ``0,05``, ``-12,5`` (only in ';'-separated files)."""


def _decimal_commas(frame: pd.DataFrame, file: str) -> tuple[pd.DataFrame, Problem]:
    """A ';'-separated table's cells like ``0,05`` as ``0.05``, and the note that says so."""
    example = ""
    out = {}
    for name in frame.columns:
        col = frame[name]
        hit = col.str.match(DECIMAL_COMMA, na=False)
        if hit.any():
            example = example or col[hit].iloc[0].strip()
            col = col.where(~hit, col.str.replace(",", ".", regex=False))
        out[name] = col
    note = "read as ';'-separated (as European spreadsheets save CSV)"
    if example:
        note += f", with decimal commas ('{example}' read as {example.replace(',', '.')})"
    note += "; commas and points are the standard"
    return pd.DataFrame(out, index=frame.index), Problem(file, 1, "-", note, NOTE)


def write_csv_table(frame: pd.DataFrame) -> bytes:
    """A canonical table as CSV bytes (UTF-8, no BOM, '\\n' line ends)."""
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(list(frame.columns))
    w.writerows(zip(*(format_column(frame[c]) for c in frame.columns), strict=True))
    return out.getvalue().encode()


def _key_lines(node: yaml.Node, prefix: str = "") -> dict[str, int]:
    """Dotted key -> 1-based line, for the top level and one level down."""
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = f"{prefix}{k.value}"
            lines[key] = k.start_mark.line + 1
            if not prefix:
                lines.update(_key_lines(v, key + "."))
    return lines


def read_yaml(data: bytes, file: str) -> tuple[object, dict[str, int], list[Problem]]:
    """scenario.yaml -> (content or None, key lines, problems)."""
    text, problems = decode(data, file)
    if text is None:
        return None, {}, problems
    try:
        doc = yaml.safe_load(text)
        lines = _key_lines(yaml.compose(text))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        what = getattr(e, "problem", None) or str(e)
        return None, {}, [Problem(file, line, "-", f"YAML syntax error: {what}")]
    if doc is None:
        doc = {}
    return doc, lines, problems


def write_yaml(meta: dict) -> bytes:
    """scenario.yaml bytes in a stable key order."""
    return yaml.safe_dump(
        meta, sort_keys=False, allow_unicode=True, default_flow_style=False
    ).encode()

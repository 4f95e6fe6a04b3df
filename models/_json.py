"""The JSON document form: {"scenario": {...}, "<table>": [row objects]}."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from models._problems import WARNING, Problem
from models._schema import TABLES
from models._text import decode, suggest


def _value(v: Any) -> Any:
    if isinstance(v, float):
        return None if math.isnan(v) else v + 0.0
    return v


def rows_of(frame: pd.DataFrame) -> list[dict]:
    """A canonical table as JSON row objects (NaN -> null)."""
    cols = list(frame.columns)
    values = [[_value(v) for v in frame[c].tolist()] for c in cols]
    return [dict(zip(cols, r, strict=True)) for r in zip(*values, strict=True)]


def document(meta: dict, tables: dict[str, pd.DataFrame]) -> dict:
    """The whole JSON document of a scenario."""
    return {"scenario": meta, **{name: rows_of(frame) for name, frame in tables.items()}}


def parse_json(data: bytes, name: str) -> tuple[Any, list[Problem]]:
    """Bytes -> document, or a Problem with the line of a syntax error.

    The literals NaN and Infinity are kept as text, so that they are refused
    like any other non-finite number instead of passing for a missing value.
    """
    text, problems = decode(data, name)
    if text is None:
        return None, problems
    if not text.strip():
        return None, [Problem(name, 0, "-", "file is empty")]
    try:
        return json.loads(text, parse_constant=str), []
    except json.JSONDecodeError as e:
        return None, [
            Problem(name, e.lineno, "-", f"JSON syntax error: {e.msg} (column {e.colno})")
        ]
    except RecursionError:
        return None, [Problem(name, 0, "-", "JSON nested too deeply")]


def split_document(doc: Any, name: str) -> tuple[Any, dict[str, Any], list[Problem]]:
    """Document -> (scenario metadata, tables by name, problems about its shape)."""
    if not isinstance(doc, dict):
        return (
            None,
            {},
            [
                Problem(
                    name,
                    0,
                    "-",
                    "the document must be an object with key 'scenario' and one key per table",
                )
            ],
        )
    problems = []
    if "scenario" not in doc:
        problems.append(
            Problem(
                f"{name}#scenario",
                0,
                "-",
                "missing key 'scenario' (an object with at least a name)",
            )
        )
    tables = {}
    for key, value in doc.items():
        if key == "scenario":
            continue
        if key not in TABLES:
            problems.append(
                Problem(
                    f"{name}#{key}",
                    0,
                    "-",
                    "not a table name; ignored"
                    + suggest(key)
                    + f" (tables are {', '.join(TABLES)})",
                    WARNING,
                )
            )
            continue
        if value is None:
            continue
        tables[key] = value
    return doc.get("scenario"), tables, problems

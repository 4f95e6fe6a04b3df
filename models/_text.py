"""Bytes to text, and cells to text, shared by every reader and writer."""

from __future__ import annotations

import difflib

import pandas as pd

from models._normalise import cell_text
from models._problems import Problem
from models._schema import TABLES


def decode(data: bytes, file: str) -> tuple[str | None, list[Problem]]:
    """UTF-8 text (a BOM is dropped), or a Problem naming the bad byte's offset."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return None, [
            Problem(
                file,
                line,
                "-",
                f"not UTF-8: byte 0x{data[e.start]:02x} at "
                f"offset {e.start}; save the file as UTF-8",
            )
        ]


def suggest(name: str, known=TABLES) -> str:
    """`` (did you mean 'x'?)`` for a near miss, else ""."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if not close:
        close = [k for k in known if k.lower() == name.lower()]
    return f" (did you mean '{close[0]}'?)" if close else ""


def format_column(s: pd.Series) -> list[str]:
    """A canonical column as text cells: NaN -> "", 3.0 -> "3", True -> "true"."""
    if s.dtype == "float64":
        return [cell_text(x) for x in s.tolist()]
    if s.dtype == bool:
        return ["true" if x else "false" for x in s.tolist()]
    return [str(x) for x in s.tolist()]

"""Text that a spreadsheet program would run as a formula, made inert in every download.

A cell such as ``=HYPERLINK("http://evil", "click")`` in an item's name
must come back as text, never as a live formula (CSV injection). Only
text cells are touched; numbers (``-5``) stay numbers.

* In a workbook a text cell is always written as text (never a formula),
  and one that starts with ``= + - @``, a tab or a carriage return also
  gets the "quote prefix" style: the program shows and keeps it as text
  even when it is edited. Its value is unchanged.
* In a CSV (the zip of CSVs, the pages' CSV downloads) such a cell is
  written with a leading apostrophe, ``'=HYPERLINK(...)``, the form every
  spreadsheet program shows as text. Every CSV reader of this project
  (``models.load``/``loads``, ``models.read_table``) drops that one
  apostrophe again, so an export reads back to exactly what was stored.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make a spreadsheet program read a cell as a formula."""
QUOTE = "'"


def risky(value: Any) -> bool:
    """True for text a spreadsheet program would run as a formula."""
    return isinstance(value, str) and value.startswith(TRIGGERS)


def _quoted(value: Any) -> bool:
    """Text that is a trigger after any leading apostrophes (``=x``, ``'=x``, ``''-1``)."""
    return isinstance(value, str) and risky(value.lstrip(QUOTE))


def neutralise(value: Any) -> Any:
    """A text cell for a CSV download: one more ``'`` before a formula trigger; else as it is.

    Text that already starts with apostrophes before a trigger gets one
    more too, so that ``restore`` gives every text back exactly.
    """
    return QUOTE + value if _quoted(value) else value


def restore(value: Any) -> Any:
    """The stored text of a CSV cell ``neutralise`` wrote (``'=x`` -> ``=x``, ``''=x`` -> ``'=x``)."""
    if isinstance(value, str) and value.startswith(QUOTE) and _quoted(value[1:]):
        return value[1:]
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for a CSV download: its text columns neutralised (numbers and flags untouched)."""
    out = frame.copy()
    for c in out.columns:
        s = out[c]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            out[c] = s.map(neutralise)
    return out


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A CSV table as read: every cell ``neutralise`` changed, back as it was."""
    return frame.apply(lambda s: s.map(restore)) if len(frame.columns) else frame

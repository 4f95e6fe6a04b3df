"""Number formatting for the pages: thousands separators, sensible precision, units."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

DASH = "\u2014"
NBSP = "\u00a0"


def _missing(value: Any) -> bool:
    if value is None or value == "":
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def number(value: Any, digits: int | None = None) -> str:
    """``1234.5`` -> ``1,234.5``; precision follows the magnitude unless ``digits`` is given."""
    if _missing(value):
        return DASH
    v = float(value)
    if digits is None:
        a = abs(v)
        if a >= 100 or a == 0:
            digits = 0
        elif a >= 10:
            digits = 1
        elif a >= 1:
            digits = 2
        else:
            digits = min(6, max(2, 2 - math.floor(math.log10(a))))
    text = f"{v:,.{digits}f}"
    if digits and "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def quantity(value: Any, unit: str | None = "") -> str:
    """A quantity with its unit: ``1,234 t``."""
    text = number(value)
    return f"{text}{NBSP}{unit}" if unit and text != DASH else text


def hours(value: Any) -> str:
    """Labour hours: ``297,772 h``."""
    return quantity(value, "h")


def percent(value: Any, digits: int = 1) -> str:
    """A ratio as a percentage: ``0.9521`` -> ``95.2 %``."""
    if _missing(value):
        return DASH
    v = 100 * float(value)
    if abs(v - round(v)) < 0.05 and abs(v) >= 99.95:
        v = round(v)
    return f"{v:,.{digits}f}{NBSP}%"


def per_unit(value: Any, unit: str | None = "") -> str:
    """A labour value: ``84.8 h per t``."""
    text = number(value)
    if text == DASH:
        return text
    return f"{text}{NBSP}h per {unit}" if unit else f"{text}{NBSP}h per unit"


def when(value: Any) -> str:
    """A timestamp, to the minute, in UTC."""
    if value is None:
        return DASH
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%Y-%m-%d %H:%M UTC")


def seconds(value: Any) -> str:
    """A duration: ``0.42 s``."""
    if _missing(value):
        return DASH
    return f"{float(value):,.2f}{NBSP}s"


FILTERS = {
    "num": number,
    "qty": quantity,
    "hours": hours,
    "pct": percent,
    "per_unit": per_unit,
    "when": when,
    "secs": seconds,
}

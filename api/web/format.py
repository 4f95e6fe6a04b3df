"""Number formatting for the pages: thousands separators, sensible precision, units."""

from __future__ import annotations

import math
import re
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


IRREGULAR = {"people": "person", "children": "child", "persons": "person"}


def one_of(unit: str) -> str:
    """The unit as one of it reads after "per": ``child-hours`` -> ``child-hour``, ``t`` -> ``t``.

    A unit that is itself a rate (``hours per child``) is put in parentheses.
    """
    unit = unit.strip()
    if " per " in unit or "/" in unit:
        return f"unit ({unit})"
    head, sep, last = unit.rpartition("-") if "-" in unit else unit.rpartition(" ")
    if last.lower() in IRREGULAR:
        last = IRREGULAR[last.lower()]
    elif len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
        last = last[:-1]
    return f"{head}{sep}{last}"


def per_unit(value: Any, unit: str | None = "") -> str:
    """A labour value: ``84.8 h per t``, ``0.22 h per child-hour``."""
    text = number(value)
    if text == DASH:
        return text
    return f"{text}{NBSP}h per {one_of(unit)}" if unit else f"{text}{NBSP}h per unit"


ROLE_NAMES = {
    "assembly": "Assembly",
    "coordinator": "Coordinator",
    "analyst": "Analyst",
    "admin": "Administrator",
}
_ACTOR = re.compile(r"^(?P<role>[a-z]+)(?::(?P<scope>[^ #]+))?(?: \((?P<label>.*)\))?(?:#\d+)?$")


def actor(value: Any, names: dict[str, str] | None = None) -> str:
    """Who did it, readably: ``coordinator:valley (demo)#9`` -> ``Coordinator of Green Valley (demo)``."""
    text = str(value or "")
    m = _ACTOR.match(text)
    if not m:
        return text or DASH
    out = ROLE_NAMES.get(m["role"], m["role"])
    if m["scope"]:
        out += f" of {(names or {}).get(m['scope'], m['scope'])}"
    if m["label"]:
        out += f" ({m['label']})"
    return out


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
    "actor": actor,
    "when": when,
    "secs": seconds,
}

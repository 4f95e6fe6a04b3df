"""Problems found in a scenario, and the exception that carries them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"
NOTE = "note"
"""Not a problem: how the input was read (e.g. own-use rows added up), shown with the summary."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or suspicious) in the input.

    ``row`` is the spreadsheet row (header = 1, first data row = 2), the
    1-based list position in JSON, the line in YAML, or 0 when the problem
    concerns the whole file. ``column`` is the column or (dotted) key, or
    ``"-"`` when there is none.
    """

    file: str
    row: int
    column: str
    message: str
    level: str = ERROR

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.column}: {self.message}"

    @property
    def is_error(self) -> bool:
        """True for a fatal problem, False for a warning."""
        return self.level == ERROR

    def to_dict(self) -> dict:
        """The problem as a plain dict (for JSON answers)."""
        return asdict(self)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Errors first, then warnings, then notes; discovery order within each level."""
    order = {ERROR: 0, WARNING: 1}
    return sorted(problems, key=lambda p: order.get(p.level, 2))


class ScenarioError(ValueError):
    """Bad input: ``.problems`` lists every problem found, errors first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sort_problems(problems)
        errors = [p for p in self.problems if p.is_error]
        head = f"{len(errors)} problem(s) in the scenario"
        lines = [str(p) for p in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"... and {len(self.problems) - 50} more")
        super().__init__("\n".join([head, *lines]))

    @property
    def errors(self) -> list[Problem]:
        """The fatal problems only."""
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        """The warnings (and notes) only."""
        return [p for p in self.problems if not p.is_error]

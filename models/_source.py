"""How problems name the files a scenario came from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Source:
    """File labels and row numbering of one input form.

    ``table_pattern`` makes a table's file label (``{table}`` is replaced);
    ``first_row`` is the row number of the first data row (2 in spreadsheets,
    where the header is row 1; 1 in JSON lists); ``has_header`` is False
    where a row may simply lack a key (JSON objects).
    """

    meta_file: str = "scenario.yaml"
    table_pattern: str = "{table}.csv"
    first_row: int = 2
    has_header: bool = True

    def file(self, table: str) -> str:
        """The label of one table's file, e.g. ``needs.csv`` or ``book.xlsx[needs]``."""
        return self.table_pattern.format(table=table)

    @classmethod
    def csv(cls, prefix: str = "") -> Source:
        """A folder (or zip) of CSV files; ``prefix`` e.g. ``"s.zip/"``."""
        return cls(f"{prefix}scenario.yaml", prefix + "{table}.csv")

    @classmethod
    def xlsx(cls, name: str = "scenario.xlsx") -> Source:
        """One workbook, one sheet per table."""
        return cls(f"{name}[scenario]", name + "[{table}]")

    @classmethod
    def json(cls, name: str = "scenario.json") -> Source:
        """One JSON document, one list of row objects per table."""
        return cls(f"{name}#scenario", name + "#{table}", first_row=1, has_header=False)

    @classmethod
    def of(cls, source: str | Path | Source | None) -> Source:
        """Interpret the ``source`` argument of ``from_tables``: by suffix, or a folder."""
        if source is None:
            return cls.csv()
        if isinstance(source, Source):
            return source
        name = Path(source).name or str(source)
        suffix = Path(name).suffix.lower()
        if suffix == ".xlsx":
            return cls.xlsx(name)
        if suffix == ".json":
            return cls.json(name)
        if suffix == ".zip":
            return cls.csv(f"{name}/")
        return cls.csv()

"""A municipality's own tables on the pages: read, edit in a table, upload, download.

A thin layer over ``api.services.rows``: every write goes through
``rows.replace`` (authorisation, If-Match, whole-scenario validation,
audit), after two steps that only make messages readable for a committee:
the file (or the edited table, turned into CSV) is read by
``models.read_table``, whose problems already name ``file:row: column``,
and the scenario is checked with the new rows in place so that problems
about references (an unknown item, a need for an emission) name the
row of the file too, not a database id.

Work-around: ``rows.collection_etag`` reads a ``version`` column that only
needs and endowments have, so ``rows.replace`` fails for capacities and
mandates; for those tables this module applies the difference row by row
with ``rows.create``/``rows.update``/``rows.remove`` (the same checks and
audit, one commit per row) behind an ETag of its own.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy.orm import Session

import models
from api.config import Settings
from api.errors import Forbidden, Invalid, PreconditionFailed, PreconditionRequired
from api.orm import Municipality
from api.security import Principal
from api.services import authz, rows, scenarios
from api.services.kinds import KINDS

OWN = ("needs", "endowments", "capacities", "mandates")
"""The tables an assembly keeps for its municipality, in page order."""

TITLES = {
    "needs": "Needs",
    "endowments": "Endowments",
    "capacities": "Capacities",
    "mandates": "Mandates",
}
BLANK_ROWS = 3
"""Empty rows offered at the end of an edit table, for new entries."""


@dataclass
class TownData:
    """Everything the municipality page shows."""

    town: Municipality
    scenario_id: str
    confederations: list[str]
    tables: dict[str, list[dict]]
    etags: dict[str, str]
    items: dict[str, dict]
    processes: dict[str, dict]
    editable: dict[str, bool] = field(default_factory=dict)


def _norm(value: Any) -> str:
    """A key cell as text, so a file's ``1``/``1.0``/`` 1 `` and a stored ``1`` compare equal."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() and math.isfinite(number) else text


def key_of(table: str, row: dict) -> tuple[str, ...]:
    """A row's key (SPEC key columns), normalised."""
    return tuple(_norm(row.get(k)) for k in models.TABLES[table].key)


def list_etag(session: Session, table: str, town: str) -> str:
    """The ETag of the town's rows of one table (the API's own where the table is versioned)."""
    kind = KINDS[table]
    if hasattr(kind.model, "version"):
        return rows.collection_etag(session, kind, town)
    found, _ = rows.listing(session, kind, town, 100_000, 0)
    digest = hashlib.sha256(
        repr(
            sorted(key_of(table, rows.spec(kind, o)) + (repr(rows.spec(kind, o)),) for o in found)
        ).encode()
    ).hexdigest()[:16]
    return f'"{table}-{town}-{digest}"'


def may_edit(session: Session, principal: Principal, town: str, table: str) -> bool:
    """Whether the service would let ``principal`` change the town's rows of ``table``."""
    kind = KINDS[table]
    try:
        sid = rows.scenario_for(session, kind, town)
        kind.check(session, principal, sid, None, {"municipality": town})
    except Forbidden:
        return False
    return True


def town_data(session: Session, principal: Principal, town_id: str) -> TownData:
    """The municipality, its four tables, their ETags, and the scenario's items and processes."""
    town = rows.find(session, KINDS["municipalities"], None, town_id)
    sid = town.scenario_id
    tables, etags, editable = {}, {}, {}
    for table in OWN:
        kind = KINDS[table]
        found, _ = rows.listing(session, kind, town_id, 100_000, 0)
        tables[table] = sorted(
            (rows.public(kind, o) for o in found),
            key=lambda r, t=table: tuple(
                (0, int(x)) if x.isdigit() else (1, x) for x in key_of(t, r)
            ),
        )
        etags[table] = list_etag(session, table, town_id)
        editable[table] = may_edit(session, principal, town_id, table)
    items, _ = rows.listing(session, KINDS["items"], sid, 100_000, 0)
    procs, _ = rows.listing(session, KINDS["processes"], sid, 100_000, 0)
    return TownData(
        town=town,
        scenario_id=sid,
        confederations=authz.ancestors(session, town.confederation),
        tables=tables,
        etags=etags,
        items={i.id: rows.spec(KINDS["items"], i) for i in items},
        processes={p.id: rows.spec(KINDS["processes"], p) for p in procs},
        editable=editable,
    )


# -- reading what was sent ----------------------------------------------------------------


def form_rows(table: str, town: str, form: Any) -> tuple[list[dict[str, str]], list[int]]:
    """The edit table's fields (``row-<n>-<column>``) as rows of text, and each row's number ``n``.

    Rows ticked for removal and rows left entirely empty are left out.
    """
    columns = [c for c in models.TABLES[table].names if c != "municipality"]
    numbers = sorted(
        {int(k.split("-")[1]) for k in form.keys() if k.startswith("row-") and k.count("-") >= 2}
    )
    out, shown = [], []
    for n in numbers:
        if form.get(f"row-{n}-remove"):
            continue
        cells = {c: str(form.get(f"row-{n}-{c}", "") or "").strip() for c in columns}
        if not any(cells.values()):
            continue
        out.append({"municipality": town, **cells})
        shown.append(n)
    return out, shown


def to_csv(table: str, records: list[dict[str, Any]]) -> bytes:
    """Rows as a CSV with the table's columns (what ``read_table`` reads back)."""
    names = models.TABLES[table].names
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(names)
    for r in records:
        writer.writerow(["" if _missing(r.get(c)) else _cell(r.get(c)) for c in names])
    return buf.getvalue().encode()


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value)


def file_rows(table: str, data: bytes, filename: str) -> dict[tuple[str, ...], int]:
    """Key -> spreadsheet row number (header = row 1) of a CSV or xlsx table, best effort."""
    try:
        records = _records(table, data, filename)
    except Exception:  # noqa: BLE001 - only labels are at stake; read_table reports the real problem
        return {}
    if not records:
        return {}
    header = [str(h or "").strip() for h in records[0]]
    out: dict[tuple[str, ...], int] = {}
    for number, rec in enumerate(records[1:], start=2):
        row = {h: (rec[i] if i < len(rec) else "") for i, h in enumerate(header)}
        out.setdefault(key_of(table, row), number)
    return out


def _records(table: str, data: bytes, filename: str) -> list[list[Any]]:
    suffix = PurePosixPath(filename).suffix.lower()
    if suffix == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book[table] if table in book.sheetnames else book.worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True)]
    text = data.decode("utf-8-sig", errors="replace")
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


# -- saving ---------------------------------------------------------------------------


def save(
    session: Session,
    principal: Principal,
    settings: Settings,
    town: str,
    table: str,
    data: bytes,
    filename: str,
    if_match: str | None,
    label: str | None = None,
    rows_shown: list[int] | None = None,
) -> int:
    """Make the town's ``table`` exactly the rows of ``data`` (a .csv or .xlsx); returns how many.

    Raises ``Invalid`` whose problems read ``file:row: column: message``
    (the file's own rows, or with ``rows_shown`` the numbers the edit
    table shows for its rows), ``Forbidden`` for anyone but the town's
    assembly (or an admin), ``PreconditionFailed`` when the rows changed
    since the page was loaded.
    """
    kind = KINDS[table]
    sid = rows.scenario_for(session, kind, town)
    kind.check(session, principal, sid, None, {"municipality": town})
    label = label or PurePosixPath(filename).name or filename

    def shown(row: int) -> int:
        if rows_shown is None:
            return row
        return rows_shown[row - 2] if 2 <= row < len(rows_shown) + 2 else 0

    def line(row: int, column: str, message: str) -> str:
        if rows_shown is None:
            return f"{label}:{row}: {column}: {message}"
        return f"row {row}: {column}: {message}"

    def refuse(problems: list[str]) -> Invalid:
        n = len(problems)
        return Invalid(
            f"{label} has {n} problem{'' if n == 1 else 's'}; nothing was saved.", problems=problems
        )

    try:
        new = models.read_table(table, data, filename)
    except models.ScenarioError as exc:
        raise refuse(
            [line(shown(p.row), p.column, p.message) for p in exc.problems if p.is_error]
        ) from None
    where = {k: shown(r) for k, r in file_rows(table, data, filename).items()}
    wrong = [
        line(
            where.get(key_of(table, r), 0),
            "municipality",
            f"{r['municipality']!r} is not {town!r} (this page keeps {town}'s rows only)",
        )
        for r in new
        if r["municipality"] != town
    ]
    if wrong:
        raise refuse(wrong)
    new = [{k: (None if _missing(v) else v) for k, v in r.items()} for r in new]
    problems = _precheck(session, sid, table, town, new, where, line)
    if problems:
        raise refuse(problems)
    if hasattr(kind.model, "version"):
        rows.replace(session, principal, kind, town, new, if_match, settings.max_rows)
    else:
        _replace_row_by_row(session, principal, settings, table, town, new, if_match)
    return len(new)


def _precheck(
    session: Session,
    sid: str,
    table: str,
    town: str,
    new: list[dict],
    where: dict[tuple[str, ...], int],
    line: Any,
) -> list[str]:
    """Validate the scenario with ``new`` in place: the problems, those in ``new`` naming the file's rows."""
    stored = scenarios.stored_rows(session, sid)
    tables = {t: [r for _, r in rs] for t, rs in stored.items()}
    others = [r for r in tables[table] if r["municipality"] != town]
    tables[table] = new + others
    meta = scenarios.meta_of(scenarios.get(session, sid))
    try:
        models.from_tables(meta, tables, source=scenarios.SOURCE)
    except models.ScenarioError as exc:
        problems = []
        for p in exc.problems:
            if not p.is_error:
                continue
            if p.file == table and 1 <= p.row <= len(new):
                row = where.get(key_of(table, new[p.row - 1]), 0)
                problems.append(line(row, p.column, p.message))
            else:
                problems.append(str(p))
        return problems
    return []


def _replace_row_by_row(
    session: Session,
    principal: Principal,
    settings: Settings,
    table: str,
    town: str,
    new: list[dict],
    if_match: str | None,
) -> None:
    """``rows.replace`` for tables without a version column: remove, change, add."""
    kind = KINDS[table]
    scenarios.check_rows({table: len(new)}, settings.max_rows)
    if if_match is None:
        raise PreconditionRequired(f"send the ETag of the {table} list")
    current = list_etag(session, table, town)
    if not rows.matches(if_match, current):
        raise PreconditionFailed(f"{town}'s {table} changed since you read them; nothing was saved")
    found, _ = rows.listing(session, kind, town, 100_000, 0)
    old = {key_of(table, rows.spec(kind, o)): o for o in found}
    wanted = {key_of(table, r): r for r in new}
    for key, obj in old.items():
        if key not in wanted:
            rows.remove(session, principal, kind, obj)
    for key, r in wanted.items():
        obj = old.get(key)
        if obj is None:
            rows.create(session, principal, kind, rows.scenario_for(session, kind, town), r)
        elif rows.spec(kind, obj) != r:
            rows.update(session, principal, kind, obj, r)


# -- downloading -------------------------------------------------------------------------


def workbook(data: TownData) -> bytes:
    """The town's four tables as one .xlsx (one sheet each, re-uploadable), plus the items for reference."""
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    book.remove(book.active)
    for table in OWN:
        sheet = book.create_sheet(table)
        names = models.TABLES[table].names
        sheet.append(names)
        for r in data.tables[table]:
            sheet.append([None if _missing(r.get(c)) else r.get(c) for c in names])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for i, name in enumerate(names):
            sheet.column_dimensions[chr(ord("A") + i)].width = max(12, len(name) + 4)
    ref = book.create_sheet("items")
    ref.append(["id", "name", "unit", "kind"])
    for item in data.items.values():
        ref.append([item["id"], item["name"], item["unit"], item["kind"]])
    for cell in ref[1]:
        cell.font = Font(bold=True)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


# -- the edit table ----------------------------------------------------------------------


@dataclass
class EditRow:
    """One row of a table on the page: its number, its cells as text, and what it means."""

    n: int
    cells: dict[str, str]
    unit: str = ""
    need: float | None = None
    blank: bool = False


def _text(value: Any) -> str:
    return "" if _missing(value) else _cell(value)


def _float(text: str) -> float | None:
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def edit_groups(
    data: TownData, table: str, posted: list[dict] | None, blanks: int
) -> list[tuple[str, list[EditRow]]]:
    """The table's rows in groups (needs by tier), then ``blanks`` empty rows to add to.

    ``posted`` (the rows of a refused save) is shown instead of the stored rows,
    so nothing typed is lost.
    """
    columns = [c for c in models.TABLES[table].names if c != "municipality"]
    if posted is not None:
        source = [(r["n"], {c: str(r.get(c, "") or "") for c in columns}) for r in posted]
    else:
        source = [
            (k, {c: _text(r.get(c)) for c in columns})
            for k, r in enumerate(
                sorted(
                    data.tables[table], key=lambda r: (r.get("tier", 0), str(r.get("item", "")))
                ),
                start=1,
            )
        ]
    population = float(data.town.population or 0)
    out_rows = []
    for n, cells in source:
        item = cells.get("item", "")
        unit = data.items.get(item, {}).get("unit", "") if item else ""
        need = None
        if table == "needs":
            q, pc = _float(cells.get("quantity", "")), _float(cells.get("per_capita", ""))
            need = q if q is not None else (pc * population if pc is not None else None)
        out_rows.append(EditRow(n, cells, unit, need))
    groups: list[tuple[str, list[EditRow]]] = []
    if table == "needs":
        tiers = {"1": "Tier 1: vital", "2": "Tier 2: standard", "3": "Tier 3: desired"}
        for tier, title in tiers.items():
            group = [r for r in out_rows if r.cells.get("tier", "").strip() == tier]
            groups.append((title, group))
        rest = [r for r in out_rows if r.cells.get("tier", "").strip() not in tiers]
        if rest:
            groups.append(("Other rows", rest))
    else:
        groups.append(("", out_rows))
    last = max((r.n for r in out_rows), default=0)
    empty = {c: "" for c in columns}
    groups.append(
        ("New rows", [EditRow(last + k, dict(empty), blank=True) for k in range(1, blanks + 1)])
    )
    return groups

"""A municipality's own tables on the pages: read, edit in a table, upload, download.

A thin layer over the service layer: every save is ``uploads.read_file``
(the file, or the edited table turned into CSV, read by
``models.read_table``; problems name ``file:row: column``) and then
``rows.replace`` (authorisation, If-Match, whole-scenario validation whose
problems name the file's rows too, audit), exactly as the JSON API's
``PUT /municipalities/{id}/<table>`` does.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy.orm import Session

import models
from api.config import Settings
from api.errors import Forbidden, Invalid
from api.orm import Municipality
from api.security import Principal
from api.services import authz, rows, uploads
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


key_of = uploads.key_of


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
        etags[table] = rows.collection_etag(session, kind, town_id)
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
        writer.writerow(["" if uploads.missing(r.get(c)) else _cell(r.get(c)) for c in names])
    return buf.getvalue().encode()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value)


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
) -> tuple[int, list[str]]:
    """Make the town's ``table`` exactly the rows of ``data`` (a .csv or .xlsx).

    Returns how many rows were saved, and notes on how the file was read
    (a ';'-separated CSV with decimal commas is read as the CLI reads it).

    Raises ``Invalid`` whose problems read ``file:row: column: message``
    (the file's own rows, or with ``rows_shown`` ``row n: column: message``
    with the numbers the edit table shows for its rows), ``Forbidden`` for
    anyone but the town's assembly (or an admin; mandates: the assembly
    only), ``PreconditionFailed`` when the rows changed since the page was
    loaded.
    """
    kind = KINDS[table]
    sid = rows.scenario_for(session, kind, town)
    kind.check(session, principal, sid, None, {"municipality": town})
    label = label or PurePosixPath(filename).name or filename
    where = None
    if rows_shown is not None:

        def where(row: int) -> str:
            shown = rows_shown[row - 2] if 2 <= row < len(rows_shown) + 2 else 0
            return f"row {shown}"

    try:
        sent = uploads.read_file(table, town, data, filename, where, partly=True)
        rows.replace(
            session,
            principal,
            kind,
            town,
            sent.rows,
            if_match,
            settings.max_rows,
            origins=sent.origins,
            pending=sent.problems,
        )
    except Invalid as exc:
        n = len(exc.problems or []) or 1
        raise Invalid(
            f"{label} has {n} problem{'' if n == 1 else 's'}; nothing was saved.",
            problems=exc.problems or [exc.detail],
        ) from None
    return len(sent.rows), sent.notes


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
            sheet.append([None if uploads.missing(r.get(c)) else r.get(c) for c in names])
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
    return "" if uploads.missing(value) else _cell(value)


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

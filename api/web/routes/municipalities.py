"""The municipality's page: needs by tier, endowments, capacities, mandates; edit, upload, download."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

import models
from api.deps import SessionDep, SettingsDep
from api.errors import Invalid, NotFound, PreconditionFailed
from api.security import Principal
from api.web import tables
from api.web.auth import PREFIX, WebPrincipal
from api.web.pages import redirect, render
from api.web.routes.common import SOLVED, page_router, plans_for

router = page_router()
MAX_UPLOAD = 5 * 2**20


def _town_page(
    request: Request,
    session,
    principal: Principal,
    town: str,
    status_code: int = 200,
    problems: dict[str, Any] | None = None,
) -> Response:
    data = tables.town_data(session, principal, town)
    plans = plans_for(session, data.confederations)
    saved = request.query_params.get("saved")
    problems = problems or {}
    groups, etags = {}, {}
    for t in tables.OWN:
        problem = problems.get(t) or {}
        blanks = tables.BLANK_ROWS if data.editable[t] else 0
        groups[t] = tables.edit_groups(data, t, problem.get("posted"), blanks)
        etags[t] = problem.get("etag") or data.etags[t]
    return render(
        request,
        "municipality.html",
        principal,
        status_code=status_code,
        d=data,
        town=data.town,
        plans=plans,
        latest=next((p for p in plans if p.status in SOLVED), None),
        saved=saved if saved in tables.OWN else None,
        saved_rows=request.query_params.get("rows"),
        saved_note=(request.query_params.get("note") or "")[:300],
        problems=problems,
        groups=groups,
        etags=etags,
        own=tables.OWN,
        titles=tables.TITLES,
        blank_rows=tables.BLANK_ROWS,
        mandate_kinds=models.MANDATE_KINDS,
    )


@router.get("/municipalities/{town}")
def municipality(
    town: str, request: Request, session: SessionDep, principal: WebPrincipal
) -> Response:
    """Needs by tier, endowments, capacities, mandates; edit, upload, download."""
    return _town_page(request, session, principal, town)


def _check_table(table: str) -> None:
    if table not in tables.OWN:
        raise NotFound(f"no table {table!r} here (tables: {', '.join(tables.OWN)})")


@dataclass
class Sent:
    """What a save brings: the table, its bytes and file name, the page's ETag, and (edit table) the rows."""

    table: str
    data: bytes
    filename: str
    if_match: str
    label: str | None = None
    rows_shown: list[int] | None = None
    posted: list[dict] | None = None


@dataclass
class Saving:
    """The request a save runs in: who, where, with which settings."""

    request: Request
    session: Any
    principal: Principal
    settings: Any


def _saving(
    request: Request, session: SessionDep, principal: WebPrincipal, settings: SettingsDep
) -> Saving:
    return Saving(request, session, principal, settings)


SavingDep = Annotated[Saving, Depends(_saving)]


async def _save(ctx: Saving, town: str, sent: Sent) -> Response:
    request, session, principal, settings = ctx.request, ctx.session, ctx.principal, ctx.settings
    table = sent.table

    def run() -> Response:
        try:
            n, notes = tables.save(
                session, principal, settings, town, table, sent.data, sent.filename,
                sent.if_match or None, sent.label, sent.rows_shown,
            )  # fmt: skip
        except (Invalid, PreconditionFailed) as exc:
            session.rollback()
            problem = {
                "detail": exc.detail,
                "problems": exc.problems or [],
                "stale": isinstance(exc, PreconditionFailed),
                "posted": sent.posted,
                "etag": sent.if_match,
            }
            return _town_page(request, session, principal, town, exc.status, {table: problem})
        note = f"&note={quote(notes[0])}" if notes else ""
        return redirect(
            f"{PREFIX}/municipalities/{quote(town)}?saved={table}&rows={n}{note}#{table}", 303
        )

    return await run_in_threadpool(run)


@router.post("/municipalities/{town}/{table}")
async def edit_table(town: str, table: str, ctx: SavingDep) -> Response:
    """Save the edit table: the rows as shown (removed and empty rows left out)."""
    _check_table(table)
    form = await ctx.request.form()
    found, shown = tables.form_rows(table, town, form)
    posted = [{"n": n, **r} for n, r in zip(shown, found, strict=True)]
    data = tables.to_csv(table, found)
    sent = Sent(table, data, f"{table}.csv", str(form.get("etag", "")), f"the {table} table")
    sent.rows_shown, sent.posted = shown, posted
    return await _save(ctx, town, sent)


@router.post("/municipalities/{town}/{table}/upload")
async def upload_table(
    town: str,
    table: str,
    ctx: SavingDep,
    file: Annotated[UploadFile | None, File()] = None,
    etag: Annotated[str, Form()] = "",
) -> Response:
    """Replace the table with an uploaded .csv or .xlsx; every bad row is named."""
    _check_table(table)
    if file is None or not file.filename:
        raise Invalid("choose a .csv or .xlsx file to upload")
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise Invalid(f"{file.filename}: the file is larger than {MAX_UPLOAD // 2**20} MiB")
    sent = Sent(table, data, file.filename, etag)
    return await _save(ctx, town, sent)


@router.get("/municipalities/{town}/data.xlsx")
def download_workbook(town: str, session: SessionDep, principal: WebPrincipal) -> Response:
    """The municipality's needs, endowments, capacities and mandates as one workbook."""
    data = tables.town_data(session, principal, town)
    return Response(
        tables.workbook(data),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="{town}.xlsx"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/municipalities/{town}/{table}.csv")
def download_csv(town: str, table: str, session: SessionDep, principal: WebPrincipal) -> Response:
    """One of the municipality's tables as CSV."""
    _check_table(table)
    data = tables.town_data(session, principal, town)
    return Response(
        tables.to_csv(table, data.tables[table]),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{town}-{table}.csv"',
            "Cache-Control": "no-store",
        },
    )

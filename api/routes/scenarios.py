"""Whole scenarios: import (JSON, xlsx, zip of CSVs), export, metadata, delete."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from api.deps import PageDep, PrincipalDep, SessionDep, SettingsDep, page
from api.errors import Invalid
from api.routes._upload import UPLOAD_DOC, XLSX, off_the_loop, read_upload
from api.schemas.common import ErrorOut, Page
from api.schemas.scenario import ImportResult, ScenarioDetail, ScenarioPublic, ScenarioUpdate
from api.services import scenarios

router = APIRouter(prefix="/scenarios", tags=["scenarios"], responses={422: {"model": ErrorOut}})
MEDIA = {"json": "application/json", "xlsx": XLSX, "zip": "application/zip"}


@router.get("", response_model=Page[ScenarioPublic])
def list_scenarios(session: SessionDep, _p: PrincipalDep, paging: PageDep) -> dict:
    """Every stored scenario."""
    rows, total = scenarios.listing(session, paging.limit, paging.offset)
    return page(rows, total, paging)


def _parse(settings, data, form, filename):
    if form not in ("json", "xlsx", "zip"):
        raise Invalid(f"a scenario comes as json, xlsx or zip, not {form}")
    return scenarios.parse_upload(data, form, filename, settings.max_rows)


def _store(session, principal, scenario, replace=None) -> dict:
    row = scenarios.store(session, principal, scenario, replace)
    return {
        "id": row.id,
        "name": row.name,
        "hash": scenario.content_hash,
        "counts": scenarios.counts(session, row.id),
        "warnings": [str(w) for w in scenario.warnings],
    }


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ImportResult, openapi_extra=UPLOAD_DOC
)
async def import_scenario(
    request: Request, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> dict:
    """Import a scenario (admins): the SPEC JSON document, an .xlsx workbook or a .zip of CSVs.

    Invalid input answers 422 with every problem as ``file:row: column: message``.
    """
    await run_in_threadpool(scenarios.may_store, session, principal, None)
    data, form, filename = await read_upload(request)
    scenario = await off_the_loop(settings, _parse, settings, data, form, filename)
    return await run_in_threadpool(_store, session, principal, scenario)


@router.get("/{scenario_id}", response_model=ScenarioDetail)
def get_scenario(scenario_id: str, session: SessionDep, _p: PrincipalDep) -> dict:
    """A scenario's metadata and row counts."""
    row = scenarios.get(session, scenario_id)
    return {
        **ScenarioPublic.model_validate(row).model_dump(),
        "counts": scenarios.counts(session, scenario_id),
    }


@router.put("/{scenario_id}", response_model=ImportResult, openapi_extra=UPLOAD_DOC)
async def replace_scenario(
    scenario_id: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> dict:
    """Replace every table of a scenario at once (a coordinator of its root, or an admin)."""
    await run_in_threadpool(scenarios.may_store, session, principal, scenario_id)
    data, form, filename = await read_upload(request)
    scenario = await off_the_loop(settings, _parse, settings, data, form, filename)
    return await run_in_threadpool(_store, session, principal, scenario, scenario_id)


@router.patch("/{scenario_id}", response_model=ScenarioPublic)
def update_scenario(
    scenario_id: str, body: ScenarioUpdate, session: SessionDep, principal: PrincipalDep
):
    """Change name, period, description or policy."""
    return scenarios.update_meta(
        session, principal, scenario_id, body.model_dump(exclude_unset=True)
    )


@router.delete("/{scenario_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_scenario(scenario_id: str, session: SessionDep, principal: PrincipalDep) -> Response:
    """Delete a scenario's tables (admins; plans and the audit log are kept)."""
    scenarios.remove(session, principal, scenario_id)
    return Response(status_code=204)


@router.get("/{scenario_id}/export", response_class=Response)
def export_scenario(
    scenario_id: str,
    session: SessionDep,
    _p: PrincipalDep,
    format: Annotated[
        Literal["json", "xlsx", "zip"], Query(description="json, xlsx or zip")
    ] = "json",
) -> Response:
    """The scenario as the SPEC JSON document, an .xlsx workbook or a .zip of CSVs."""
    data = scenarios.export(session, scenario_id, format)
    disposition = f'attachment; filename="{scenario_id}.{format}"'
    return Response(data, media_type=MEDIA[format], headers={"Content-Disposition": disposition})

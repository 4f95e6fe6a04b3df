"""Processes with their coefficients (managed by a coordinator of the whole confederation)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import PageDep, PrincipalDep, SessionDep, page
from api.schemas.common import ErrorOut, Page
from api.schemas.rows import ProcessCreate, ProcessPublic, ProcessUpdate
from api.services import catalogue, rows

router = APIRouter(
    prefix="/scenarios/{scenario_id}/processes",
    tags=["items and processes"],
    responses={422: {"model": ErrorOut}},
)


@router.get("", response_model=Page[ProcessPublic])
def list_processes(
    scenario_id: str, session: SessionDep, _p: PrincipalDep, paging: PageDep
) -> dict:
    """Every process with its coefficients."""
    found, total = rows.listing(session, catalogue.PROC, scenario_id, paging.limit, paging.offset)
    return page([catalogue.public(session, o) for o in found], total, paging)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProcessPublic)
def create_process(
    scenario_id: str, body: ProcessCreate, session: SessionDep, principal: PrincipalDep
) -> dict:
    """A new process and its coefficients."""
    rows.scenario_for(session, catalogue.PROC, scenario_id)
    data = body.model_dump(exclude={"coefficients"})
    obj = catalogue.create(
        session, principal, scenario_id, data, [c.model_dump() for c in body.coefficients]
    )
    return catalogue.public(session, obj)


@router.get("/{process}", response_model=ProcessPublic)
def get_process(scenario_id: str, process: str, session: SessionDep, _p: PrincipalDep) -> dict:
    """One process and its coefficients."""
    rows.scenario_for(session, catalogue.PROC, scenario_id)
    return catalogue.public(session, rows.find(session, catalogue.PROC, scenario_id, process))


@router.patch("/{process}", response_model=ProcessPublic)
def update_process(
    scenario_id: str,
    process: str,
    body: ProcessUpdate,
    session: SessionDep,
    principal: PrincipalDep,
) -> dict:
    """Change a process; ``coefficients``, when given, replaces them all."""
    rows.scenario_for(session, catalogue.PROC, scenario_id)
    obj = rows.find(session, catalogue.PROC, scenario_id, process)
    changes = body.model_dump(exclude_unset=True, exclude={"coefficients"})
    coeffs = None if body.coefficients is None else [c.model_dump() for c in body.coefficients]
    return catalogue.public(session, catalogue.update(session, principal, obj, changes, coeffs))


@router.delete("/{process}", status_code=status.HTTP_204_NO_CONTENT)
def delete_process(
    scenario_id: str, process: str, session: SessionDep, principal: PrincipalDep
) -> Response:
    """Delete a process and its coefficients (422 while capacities or mandates name it)."""
    rows.scenario_for(session, catalogue.PROC, scenario_id)
    catalogue.remove(session, principal, rows.find(session, catalogue.PROC, scenario_id, process))
    return Response(status_code=204)

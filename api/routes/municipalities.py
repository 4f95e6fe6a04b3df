"""Municipalities (coordinator-managed: population, labour hours, membership)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import PageDep, PrincipalDep, SessionDep, page
from api.schemas.common import ErrorOut, Page
from api.schemas.scenario import MunicipalityCreate, MunicipalityPublic, MunicipalityUpdate
from api.services import rows, tree

router = APIRouter(prefix="/municipalities", tags=["tree"], responses={422: {"model": ErrorOut}})


def _public(obj) -> dict:
    return {**rows.spec(tree.TOWN, obj), "scenario_id": obj.scenario_id}


@router.get("", response_model=Page[MunicipalityPublic])
def list_municipalities(
    session: SessionDep,
    _p: PrincipalDep,
    paging: PageDep,
    scenario: str | None = None,
    confederation: str | None = None,
) -> dict:
    """Every municipality (``?scenario=``, ``?confederation=`` for direct members)."""
    found, total = rows.listing(
        session, tree.TOWN, scenario, paging.limit, paging.offset, confederation=confederation
    )
    return page([_public(o) for o in found], total, paging)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MunicipalityPublic)
def create_municipality(
    body: MunicipalityCreate, session: SessionDep, principal: PrincipalDep
) -> dict:
    """A new municipality (a coordinator of its confederation)."""
    return _public(tree.create_municipality(session, principal, body.model_dump()))


@router.get("/{town}", response_model=MunicipalityPublic)
def get_municipality(town: str, session: SessionDep, _p: PrincipalDep) -> dict:
    """One municipality."""
    return _public(rows.find(session, tree.TOWN, None, town))


@router.patch("/{town}", response_model=MunicipalityPublic)
def update_municipality(
    town: str, body: MunicipalityUpdate, session: SessionDep, principal: PrincipalDep
) -> dict:
    """Change name, population, labour hours or confederation."""
    return _public(
        tree.update_municipality(session, principal, town, body.model_dump(exclude_unset=True))
    )


@router.delete("/{town}", status_code=status.HTTP_204_NO_CONTENT)
def delete_municipality(town: str, session: SessionDep, principal: PrincipalDep) -> Response:
    """Remove a municipality and its own rows (422 while links or limits name it)."""
    tree.delete_municipality(session, principal, town)
    return Response(status_code=204)

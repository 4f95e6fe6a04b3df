"""The confederation tree (coordinator-managed)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import select

from api.deps import PageDep, PrincipalDep, SessionDep, page
from api.orm import Confederation, Municipality
from api.schemas.common import ErrorOut, Page
from api.schemas.scenario import (
    ConfederationCreate,
    ConfederationDetail,
    ConfederationPublic,
    ConfederationUpdate,
)
from api.services import authz, rows, tree

router = APIRouter(prefix="/confederations", tags=["tree"], responses={422: {"model": ErrorOut}})


def _detail(session, obj: Confederation) -> dict:
    children = session.scalars(
        select(Confederation.id).where(Confederation.parent == obj.id).order_by(Confederation.id)
    )
    towns = session.scalars(
        select(Municipality.id)
        .where(Municipality.confederation == obj.id)
        .order_by(Municipality.id)
    )
    return {
        **rows.spec(tree.CONF, obj),
        "scenario_id": obj.scenario_id,
        "ancestors": authz.ancestors(session, obj.id)[1:],
        "children": list(children),
        "municipalities": list(towns),
    }


@router.get("", response_model=Page[ConfederationPublic])
def list_confederations(
    session: SessionDep, _p: PrincipalDep, paging: PageDep, scenario: str | None = None
) -> dict:
    """Every confederation (of one scenario with ``?scenario=``)."""
    found, total = rows.listing(session, tree.CONF, scenario, paging.limit, paging.offset)
    return page(found, total, paging)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ConfederationDetail)
def create_confederation(
    body: ConfederationCreate, session: SessionDep, principal: PrincipalDep
) -> dict:
    """A new member confederation under ``parent`` (a coordinator of the parent)."""
    return _detail(session, tree.create_confederation(session, principal, body.model_dump()))


@router.get("/{conf_id}", response_model=ConfederationDetail)
def get_confederation(conf_id: str, session: SessionDep, _p: PrincipalDep) -> dict:
    """A confederation with its ancestors, member confederations and municipalities."""
    return _detail(session, rows.find(session, tree.CONF, None, conf_id))


@router.patch("/{conf_id}", response_model=ConfederationDetail)
def update_confederation(
    conf_id: str, body: ConfederationUpdate, session: SessionDep, principal: PrincipalDep
) -> dict:
    """Rename it, or move it under another parent (both must be in your subtree)."""
    return _detail(
        session,
        tree.update_confederation(session, principal, conf_id, body.model_dump(exclude_unset=True)),
    )


@router.delete("/{conf_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_confederation(conf_id: str, session: SessionDep, principal: PrincipalDep) -> Response:
    """Remove an empty confederation (422 while anything names it)."""
    tree.delete_confederation(session, principal, conf_id)
    return Response(status_code=204)

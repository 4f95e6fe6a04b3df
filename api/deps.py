"""Typed dependencies: ``SessionDep``, ``SettingsDep``, ``PrincipalDep``, ``PageDep``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.config import Settings
from api.security import Principal
from api.services import tokens


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; rolled back unless a service committed."""
    with request.app.state.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
bearer = HTTPBearer(
    auto_error=False, description="a token from `planner token create` or POST /tokens"
)


def get_principal(
    session: SessionDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The principal of the request's bearer token (401 without a valid one)."""
    return tokens.authenticate(session, creds.credentials if creds else None)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


@dataclass
class Paging:
    """``?limit=&offset=`` (limit 1..1000, default 100)."""

    limit: int = 100
    offset: int = 0


def get_paging(
    limit: Annotated[int, Query(ge=1, le=1000, description="rows per page")] = 100,
    offset: Annotated[int, Query(ge=0, description="rows to skip")] = 0,
) -> Paging:
    """The page a list request asks for."""
    return Paging(limit, offset)


PageDep = Annotated[Paging, Depends(get_paging)]


def page(rows: list, total: int, p: Paging) -> dict:
    """The page envelope."""
    return {"data": rows, "count": total, "limit": p.limit, "offset": p.offset}

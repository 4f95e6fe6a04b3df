"""Liveness and the acting principal."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import PrincipalDep, SessionDep
from api.schemas.auth import Me
from api.services.plans import software_version

router = APIRouter(tags=["service"])


@router.get("/health")
def health(session: SessionDep) -> dict:
    """Is the service up and its database reachable (no token needed)."""
    session.execute(text("SELECT 1"))
    return {
        "status": "ok",
        "database": session.get_bind().dialect.name,
        "version": software_version(),
    }


@router.get("/me", response_model=Me)
def me(principal: PrincipalDep) -> dict:
    """Who the bearer token acts as."""
    return {**principal.__dict__, "actor": principal.actor}

"""Domain errors raised by the service layer, and their HTTP form.

Services raise these (never ``HTTPException``), so the JSON routes and the
web pages can both call them; ``install`` turns them into responses shaped
``{"detail": message, "problems": [...], ...extra}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class ApiError(Exception):
    """Base: a message, optional problem list, extra body keys and headers."""

    status = 400

    def __init__(
        self,
        detail: str,
        problems: list[str] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body of the response."""
        out: dict[str, Any] = {"detail": self.detail}
        if self.problems is not None:
            out["problems"] = self.problems
        return {**out, **self.extra}


class Unauthorized(ApiError):
    """401: no token, an unknown or revoked one, or a recalled delegate's."""

    status = 401


class Forbidden(ApiError):
    """403: the principal may not do this to this object."""

    status = 403


class NotFound(ApiError):
    """404."""

    status = 404


class Conflict(ApiError):
    """409: duplicate key, or a state that forbids the change."""

    status = 409


class PreconditionFailed(ApiError):
    """412: If-Match does not match the current ETag (body has the current row)."""

    status = 412


class Invalid(ApiError):
    """422: invalid input, with every problem listed."""

    status = 422


class PreconditionRequired(ApiError):
    """428: an edit of a versioned row without If-Match."""

    status = 428


def problem_lines(errs: list[dict]) -> list[str]:
    """Pydantic errors as ``where:row: column: message`` lines."""
    out = []
    for e in errs:
        loc = list(e.get("loc", ()))
        where = str(loc.pop(0)) if loc else "request"
        row = loc.pop(0) if loc and isinstance(loc[0], int) else 0
        out.append(f"{where}:{row}: {'.'.join(map(str, loc)) or '-'}: {e.get('msg', 'invalid')}")
    return out


def install(app: FastAPI) -> None:
    """Register the handler that renders every ``ApiError``."""

    @app.exception_handler(ApiError)
    async def _render(_request: Request, exc: ApiError) -> JSONResponse:
        headers = dict(exc.headers)
        if exc.status == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

"""Domain errors raised by the service layer, and their HTTP form.

Services raise these (never ``HTTPException``), so the JSON routes and the
web pages can both call them; ``install`` turns them into responses shaped
``{"detail": message, "problems": [...], ...extra}``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError

log = logging.getLogger("api")

MAX_PROBLEMS = 100
"""Problems an error answer lists (the first ones, in order); ``problem_count`` tells them all."""
MAX_PROBLEM_CHARS = 500


def bounded(problems: list[str]) -> tuple[list[str], int]:
    """The first ``MAX_PROBLEMS`` problems (each cut to ``MAX_PROBLEM_CHARS``), and how many there are."""
    shown = [
        p if len(p) <= MAX_PROBLEM_CHARS else p[: MAX_PROBLEM_CHARS - 1] + "…"
        for p in problems[:MAX_PROBLEMS]
    ]
    return shown, len(problems)


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
        """The JSON body of the response: at most ``MAX_PROBLEMS`` problems, and their count."""
        out: dict[str, Any] = {"detail": self.detail}
        if self.problems is not None:
            out["problems"], out["problem_count"] = bounded(self.problems)
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


RETRY_AFTER = 2
"""Seconds a client is asked to wait when the database is busy (503)."""


def _busy(exc: OperationalError) -> bool:
    """SQLite's "database is locked" / "busy", or a PostgreSQL lock or serialisation timeout."""
    text = str(getattr(exc, "orig", exc)).lower()
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return "database is locked" in text or "database is busy" in text or code in BUSY_STATES


BUSY_STATES = {"40001", "40P01", "55P03", "57014"}
"""PostgreSQL: serialization failure, deadlock, lock not available, statement timeout."""


def install(app: FastAPI) -> None:
    """Register the handlers that render every ``ApiError``, and input that no route expects.

    Numbers too large for the database, and input nested too deeply for
    the parser, are the client's: 422, never 500. A database too busy to
    take a write in time answers 503 with ``Retry-After``.
    """

    @app.exception_handler(ApiError)
    async def _render(_request: Request, exc: ApiError) -> JSONResponse:
        headers = dict(exc.headers)
        if exc.status == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
        log.info("%s %s: %s", request.method, request.url.path, type(exc).__name__)
        return await _render(
            request, Invalid("a number in the request is out of range", problems=[RANGE_PROBLEM])
        )

    async def _too_deep(request: Request, _exc: Exception) -> JSONResponse:
        return await _render(
            request, Invalid("the request is nested too deeply", problems=[DEPTH_PROBLEM])
        )

    async def _database(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, OperationalError) and _busy(exc):
            log.warning("%s %s: database busy: %s", request.method, request.url.path, exc.orig)
            return await _render(request, Busy())
        raise exc

    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range)
    app.add_exception_handler(RecursionError, _too_deep)
    app.add_exception_handler(OperationalError, _database)


RANGE_PROBLEM = "request:0: -: a number is too large (or too small) to be an id, count or offset"
DEPTH_PROBLEM = "request:0: -: nested too deeply"


class Busy(ApiError):
    """503: the database did not take the write in time; try again after ``Retry-After`` s."""

    status = 503

    def __init__(self) -> None:
        super().__init__(
            "the database is busy: nothing was changed; try again shortly",
            headers={"Retry-After": str(RETRY_AFTER)},
        )

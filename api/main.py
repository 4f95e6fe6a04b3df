"""The app factory: settings, database, error rendering, body limit, one router per resource."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api import errors, migrate, web
from api.config import Settings, get_settings
from api.db import make_engine, make_sessionmaker
from api.errors import MAX_PROBLEMS, bounded, problem_lines
from api.limits import BodySizeLimit
from api.routes import ROUTERS
from api.services.plans import software_version

DESCRIPTION = """
Commune plans production and distribution across a confederation of
municipalities, according to need. Assemblies declare their municipality's
needs, endowments, capacities and mandates; coordinators (delegates named
and recallable by their assemblies) keep the shared tables and request
plans; plans are solved as durable jobs and ratified by all citizens'
votes. Authenticate with `Authorization: Bearer <token>`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application (migrating the database at start-up unless told not to)."""
    settings = settings or get_settings()
    engine = make_engine(settings.sqlalchemy_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if settings.auto_migrate:
            await run_in_threadpool(migrate.upgrade, engine)
        yield
        engine.dispose()

    app = FastAPI(
        title="Commune",
        version=software_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from the swagger-ui-bundle package instead (api/web/apidocs.py)
        redoc_url=None,  # ReDoc loads from a CDN: /docs is the documentation
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    errors.install(app)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for router in ROUTERS:
        app.include_router(router)
    web.install(app)  # the web pages (api/web): /web/...
    app.openapi = lambda: _openapi(app)
    return app


ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
WRITES = ("post", "put", "patch", "delete")


def _openapi(app: FastAPI) -> dict:
    """FastAPI's document, with the error answers each operation can give (401, 404, 409, ...)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = FastAPI.openapi(app)
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            for status, why in _errors(path, method, op):
                op.setdefault("responses", {}).setdefault(status, {"description": why, **ERROR})
    app.openapi_schema = schema
    return schema


def _errors(path: str, method: str, op: dict) -> list[tuple[str, str]]:
    """(status, description) of the errors an operation may answer."""
    headers = {p["name"].lower() for p in op.get("parameters", []) if p.get("in") == "header"}
    out = []
    if op.get("security"):
        out += [("401", "no token, or an unknown, revoked or recalled one")]
        out += [("403", "the token's principal may not do this")]
    if "{" in path or method in WRITES:
        out += [("404", "no such object (or one this request names)")]
    if method in WRITES:
        out += [("409", "a duplicate key, or a state that forbids the change")]
        out += [("503", "the database is busy: try again after Retry-After seconds")]
    if "if-match" in headers:
        out += [("412", "If-Match is stale: the body holds the current row(s)")]
        out += [("428", "If-Match is needed (the ETag from GET, or *)")]
    if "requestBody" in op:
        out += [("413", "the body is larger than the limit")]
    return out


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """FastAPI's own answer; a 405 lists in ``Allow`` every method the path has (not one route's)."""
    response = await http_exception_handler(request, exc)
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
    return response


def allowed_methods(app: FastAPI, scope: dict) -> list[str]:
    """Every method some route answers at the request's path."""
    return [
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**scope, "method": method})[0] == Match.FULL
            for route in app.router.routes
        )
    ]


async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errs = [{k: e[k] for k in ("type", "loc", "msg") if k in e} for e in exc.errors()]
    errs = jsonable_encoder(errs)
    problems, count = bounded(problem_lines(errs))
    return JSONResponse(
        {
            "detail": "invalid request",
            "problems": problems,
            "problem_count": count,
            "errors": errs[:MAX_PROBLEMS],
        },
        status_code=422,
    )

"""The app factory: settings, database, error rendering, body limit, one router per resource."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api import errors, migrate, web
from api.config import Settings, get_settings
from api.db import make_engine, make_sessionmaker
from api.errors import problem_lines
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
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for router in ROUTERS:
        app.include_router(router)
    web.install(app)  # the web pages (api/web): /web/...
    return app


async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errs = [{k: e[k] for k in ("type", "loc", "msg") if k in e} for e in exc.errors()]
    errs = jsonable_encoder(errs)
    return JSONResponse(
        {"detail": "invalid request", "problems": problem_lines(errs), "errors": errs},
        status_code=422,
    )

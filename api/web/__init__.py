"""The web pages: server-rendered Jinja2 over the service layer, for assemblies and coordinators.

``install(app)`` adds the pages under ``/web`` and their static files
(CSS and a little plain JavaScript; plotly's JavaScript comes from the
installed plotly package). Pages sign in with a token kept in an
HttpOnly, SameSite=Strict cookie and call ``api.services`` exactly as the
JSON routes do.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"


def install(app: FastAPI) -> None:
    """Add the page routes, mount ``/web/static``, and serve ``/docs`` without a CDN."""
    from api.web import apidocs, assets
    from api.web.routes import ROUTERS

    for router in ROUTERS:
        app.include_router(router)
    app.include_router(assets.router)
    apidocs.install(app)
    app.mount("/web/static", StaticFiles(directory=str(STATIC)), name="web-static")

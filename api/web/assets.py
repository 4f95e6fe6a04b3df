"""Static assets served by the pages: plotly's JavaScript from the installed plotly package."""

from __future__ import annotations

import gzip
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.web.auth import PREFIX

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _plotly() -> tuple[bytes, bytes, str]:
    import plotly
    from plotly.offline import get_plotlyjs

    raw = get_plotlyjs().encode()
    return raw, gzip.compress(raw, 6), plotly.__version__


def plotly_url() -> str:
    """The versioned URL of plotly's JavaScript (cached for a year: a new version, a new URL)."""
    import plotly

    return f"{PREFIX}/assets/plotly-{plotly.__version__}.min.js"


@router.get(PREFIX + "/assets/plotly-{version}.min.js")
def plotly_js(version: str, request: Request) -> Response:
    """plotly.js from the installed plotly package (no CDN), gzipped when the browser accepts it."""
    raw, packed, current = _plotly()
    if version != current:
        return RedirectResponse(plotly_url(), status_code=307)
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type="text/javascript; charset=utf-8", headers=headers)
    return Response(raw, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    """The pages start at /web/."""
    return RedirectResponse(PREFIX + "/", status_code=307)

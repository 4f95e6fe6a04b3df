"""Templates, the page frame (role, navigation, security headers) and the error pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.errors import ApiError
from api.security import Principal
from api.web import auth
from api.web.assets import plotly_url
from api.web.format import FILTERS, ROLE_NAMES

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters.update(FILTERS)
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def nav(principal: Principal | None) -> list[tuple[str, str]]:
    """The links a role is offered: its own places only."""
    if principal is None:
        return []
    p = auth.PREFIX
    if principal.role == "assembly":
        return [
            (f"{p}/municipalities/{principal.municipality}", "My municipality"),
            (f"{p}/plans", "Plans"),
        ]
    if principal.role == "coordinator":
        return [
            (f"{p}/confederations/{principal.confederation}", "Confederation"),
            (f"{p}/plans", "Plans"),
            (f"{p}/compare", "Compare rules"),
        ]
    if principal.role == "analyst":
        return [(f"{p}/", "Overview"), (f"{p}/plans", "Plans"), (f"{p}/compare", "Compare rules")]
    return [(f"{p}/", "Overview"), (f"{p}/plans", "Plans"), (f"{p}/compare", "Compare rules")]


def who(principal: Principal | None) -> str:
    """How the header names the signed-in principal."""
    if principal is None:
        return ""
    scope = principal.municipality or principal.confederation or ""
    text = ROLE_NAMES.get(principal.role, principal.role)
    if scope:
        text += f" of {scope}"
    if principal.label:
        text += f" ({principal.label})"
    return text


def render(
    request: Request,
    name: str,
    principal: Principal | None,
    status_code: int = 200,
    charts: bool = False,
    **context: Any,
) -> HTMLResponse:
    """A page in the frame; ``charts`` loads plotly."""
    response = templates.TemplateResponse(
        request,
        name,
        {
            "principal": principal,
            "nav": nav(principal),
            "who": who(principal),
            "prefix": auth.PREFIX,
            "charts": charts,
            "plotly_url": plotly_url(),
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def redirect(url: str, status_code: int = 303) -> RedirectResponse:
    """See other (after a POST) or a plain redirect."""
    response = RedirectResponse(url, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect_to_sign_in(request: Request, exc: auth.SignInNeeded) -> Response:
    """No token or a dead one: to the sign-in page (forgetting a dead cookie)."""
    if request.headers.get("accept", "").startswith("application/json"):
        return Response('{"detail": "sign in"}', 401, media_type="application/json")
    response = redirect(auth.sign_in_url(exc.next_url, exc.message), 303)
    if exc.message:
        auth.clear_token_cookie(response)
    return response


TITLES = {
    400: "That request could not be done",
    403: "Not yours to do",
    404: "Not found",
    409: "Not possible now",
    412: "Changed meanwhile",
    413: "Too large",
    415: "Unsupported file",
    422: "Please correct the input",
    428: "Reload first",
    500: "Something went wrong on our side",
}


def error_page(request: Request, exc: ApiError) -> Response:
    """A service error as a page, with its problem list and a way back."""
    if request.headers.get("accept", "").startswith("application/json"):
        return Response(
            json.dumps(exc.body(), default=str), exc.status, media_type="application/json"
        )
    principal = getattr(request.state, "principal", None)
    back = request.headers.get("referer") or f"{auth.PREFIX}/"
    return render(
        request,
        "error.html",
        principal,
        status_code=exc.status,
        title=TITLES.get(exc.status, "Something went wrong"),
        error=exc,
        back=back,
    )

"""Signing in and out, each role's start page, and the overview of every scenario."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.errors import Unauthorized
from api.services import plans as plan_service
from api.services import rows, scenarios, tokens
from api.services.kinds import KINDS
from api.web import auth
from api.web.auth import MaybePrincipal, WebPrincipal
from api.web.pages import redirect, render
from api.web.routes.common import home_of, page_router, safe_next

router = page_router()


@router.get("/")
def home(request: Request, principal: MaybePrincipal) -> Response:
    """Each role's own start page (or the sign-in form)."""
    if principal is None:
        return redirect(auth.sign_in_url(), 303)
    return redirect(home_of(principal), 303)


@router.get("/signin")
def sign_in_form(
    request: Request, principal: MaybePrincipal, next: str = "", expired: int = 0
) -> Response:
    """The sign-in form: one token field."""
    return render(
        request,
        "signin.html",
        principal,
        next=safe_next(next) or "",
        message="Your sign-in has ended (the token was revoked or its delegate recalled). "
        "Sign in again."
        if expired
        else "",
    )


@router.post("/signin")
def sign_in(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the token with the API's own service; keep it in an HttpOnly, SameSite=Strict cookie."""
    token = token.strip()
    try:
        principal = tokens.authenticate(session, token)
    except Unauthorized as exc:
        message = "Enter your token." if not token else f"That token does not work: {exc.detail}."
        return render(
            request,
            "signin.html",
            None,
            status_code=401,
            next=safe_next(next) or "",
            error=message,
        )
    response = redirect(safe_next(next) or home_of(principal), 303)
    auth.set_token_cookie(response, request, token)
    return response


@router.post("/signout")
def sign_out() -> Response:
    """Forget the cookie."""
    response = redirect(auth.sign_in_url() + "?signed_out=1", 303)
    auth.clear_token_cookie(response)
    return response


@router.get("/overview")
def overview(request: Request, session: SessionDep, principal: WebPrincipal) -> Response:
    """Every scenario: its confederations and municipalities, and its latest plans."""
    found, _ = scenarios.listing(session, 100, 0)
    out = []
    for sc in found:
        confs, _ = rows.listing(session, KINDS["confederations"], sc.id, 10_000, 0)
        towns, _ = rows.listing(session, KINDS["municipalities"], sc.id, 10_000, 0)
        plans, _ = plan_service.listing(session, 5, 0, confederation=sc.id, purpose="proposal")
        out.append(
            {"scenario": sc, "confederations": confs, "municipalities": towns, "plans": plans}
        )
    return render(request, "overview.html", principal, scenarios=out)

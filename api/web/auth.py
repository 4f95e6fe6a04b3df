"""Signing in on the pages: the bearer token kept in an HttpOnly, SameSite=Strict cookie.

The token is checked on every request by the same service as the API's
bearer header (``tokens.authenticate``), so a revoked token or a recalled
delegate's stops working on the pages at once. Every POST must also come
from our own origin (the cookie's SameSite=Strict already keeps other
sites' forms from carrying it; this is the second lock).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response

from api.deps import SessionDep
from api.errors import Forbidden, Unauthorized
from api.security import Principal
from api.services import tokens

COOKIE = "commune_token"
PREFIX = "/web"


def set_token_cookie(response: Response, request: Request, token: str) -> None:
    """Keep the token where scripts cannot read it and other sites cannot send it."""
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=PREFIX,
    )


def clear_token_cookie(response: Response) -> None:
    """Sign out: forget the cookie."""
    response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")


class SignInNeeded(Exception):
    """No (valid) token: the page sends the visitor to the sign-in form."""

    def __init__(self, message: str, next_url: str) -> None:
        super().__init__(message)
        self.message = message
        self.next_url = next_url


def current(request: Request, session: SessionDep) -> Principal:
    """The principal of the request's cookie; sends the visitor to sign in without one."""
    raw = request.cookies.get(COOKIE)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not raw:
        raise SignInNeeded("", target)
    try:
        principal = tokens.authenticate(session, raw)
    except Unauthorized as exc:
        raise SignInNeeded(exc.detail, target) from None
    request.state.principal = principal
    return principal


def optional(request: Request, session: SessionDep) -> Principal | None:
    """The principal, or None (pages that also serve visitors who have not signed in)."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        return tokens.authenticate(session, raw)
    except Unauthorized:
        return None


WebPrincipal = Annotated[Principal, Depends(current)]
MaybePrincipal = Annotated[Principal | None, Depends(optional)]


def same_origin(request: Request) -> None:
    """403 for a POST whose Origin (or, lacking it, Referer) is another site."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return
    parts = urlsplit(source)
    host = request.headers.get("host", "")
    if parts.netloc != host:
        raise Forbidden(f"a form from {parts.scheme}://{parts.netloc} may not post here")


def sign_in_url(next_url: str = "", message: str = "") -> str:
    """The sign-in page, remembering where to go afterwards."""
    out = f"{PREFIX}/signin"
    query = []
    if next_url:
        query.append("next=" + quote(next_url, safe="/"))
    if message:
        query.append("expired=1")
    return out + ("?" + "&".join(query) if query else "")

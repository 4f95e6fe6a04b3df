"""What several page groups share: the routers' shape, who may do what, plan statuses."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from api.errors import ApiError, Forbidden, Invalid, NotFound, Unauthorized, problem_lines
from api.orm import PlanRow
from api.security import Principal
from api.services import authz, compare
from api.services import plans as plan_service
from api.web import auth, pages
from api.web.auth import PREFIX

SOLVED = ("optimal", "shortfall")
log = logging.getLogger("commune.web")


class PageFailed(ApiError):
    """500: a page could not be made (the details are in the server's log, never on the page)."""

    status = 500


class PageRoute(APIRoute):
    """A route whose service errors become HTML pages (and 401s a trip to the sign-in form)."""

    def get_route_handler(self) -> Callable:
        """Wrap the handler: ``ApiError`` -> error page, ``SignInNeeded`` -> redirect."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                auth.same_origin(request)
                return await handler(request)
            except auth.SignInNeeded as exc:
                return pages.redirect_to_sign_in(request, exc)
            except ApiError as exc:
                return pages.error_page(request, exc)
            except RequestValidationError as exc:
                errs = jsonable_encoder(exc.errors(), custom_encoder={Exception: str})
                if any(e.get("loc", ("",))[0] == "path" for e in errs):
                    return pages.error_page(request, NotFound(f"no page {request.url.path}"))
                return pages.error_page(
                    request, Invalid("the form is not complete", problems=problem_lines(errs))
                )
            except Exception:  # a page never shows a traceback: it goes to the log
                log.exception("page %s %s failed", request.method, request.url.path)
                failed = PageFailed(
                    "this page could not be made; the details are in the server's log"
                )
                return pages.error_page(request, failed)

        return route


def page_router() -> APIRouter:
    """A router of pages under ``/web`` whose service errors become error pages."""
    return APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)


def allowed(check: Callable[[], Any]) -> bool:
    """Whether a service's authorisation check passes (to decide which actions to offer)."""
    try:
        check()
    except (Forbidden, Unauthorized):
        return False
    return True


def may_run(session, principal: Principal, conf: str) -> bool:
    """May this principal request a plan of ``conf``? (asks ``authz``, as ``plans.request`` does)."""

    def check() -> None:
        authz.require_writer(principal)
        authz.require_coordinator(session, principal, conf)

    return allowed(check)


def may_compare(session, principal: Principal, conf: str | None = None) -> bool:
    """Whether this principal may ask for a rule comparison (of ``conf``, or of any it covers)."""
    return allowed(lambda: compare.require_may_compare(session, principal, conf))


def may_vote(principal: Principal, town: str | None) -> bool:
    """Whether this is the town's own assembly (``ratification.record``'s check)."""
    return bool(town) and allowed(lambda: authz.require_assembly(principal, town, "tally"))


def safe_next(url: str | None) -> str | None:
    """``url`` if it is one of our pages (never another site), else None."""
    if url and url.startswith(PREFIX + "/") and not url.startswith("//") and "\\" not in url:
        return url
    return None


def home_of(principal: Principal) -> str:
    """Where a role starts."""
    if principal.role == "assembly" and principal.municipality:
        return f"{PREFIX}/municipalities/{quote(principal.municipality)}"
    if principal.role == "coordinator" and principal.confederation:
        return f"{PREFIX}/confederations/{quote(principal.confederation)}"
    return f"{PREFIX}/overview"


def plans_for(session, confs: list[str], limit: int = 10) -> list[PlanRow]:
    """The proposals of these confederations, newest first."""
    found: list[PlanRow] = []
    for conf in confs:
        got, _ = plan_service.listing(session, limit, 0, confederation=conf, purpose="proposal")
        found += got
    return sorted(found, key=lambda p: p.id, reverse=True)[:limit]


def shown_message(message: str | None) -> str:
    """A stored message as the pages show it: no traceback, at most 300 characters.

    (A plan stored before failures were made one clear line may carry a traceback.)
    """
    text = (message or "").split("Traceback (most recent call last)", 1)[0]
    return text.strip()[:300]


def status_of(session, plan: PlanRow) -> dict[str, Any]:
    """What the pages poll: the plan's status and its job's progress."""
    job = plan_service.job_of(session, plan.id)
    return {
        "id": plan.id,
        "status": plan.status,
        "final": plan.status in plan_service.FINAL,
        "message": shown_message(plan.message),
        "job": None
        if job is None
        else {"id": job.id, "state": job.state, "progress": job.progress, "attempts": job.attempts},
    }

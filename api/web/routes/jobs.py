"""Jobs: cancelling a queued or running plan."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response

from api.deps import SessionDep
from api.services import plans as plan_service
from api.web.auth import PREFIX, WebPrincipal
from api.web.pages import redirect
from api.web.routes.common import page_router

router = page_router()


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: int, session: SessionDep, principal: WebPrincipal) -> Response:
    """Cancel a queued or running plan."""
    job = plan_service.cancel(session, principal, job_id)
    plan = plan_service.get(session, job.plan_id)
    return redirect(f"{PREFIX}/confederations/{quote(plan.confederation)}#jobs", 303)

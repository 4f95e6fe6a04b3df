"""The page handlers, one module per page group (as ``api/routes`` is split).

Handlers read and write only through ``api.services`` (the same calls,
checks and audit as the JSON API); whether a button is shown is asked of
the services' own authorisation checks, and the services refuse anyway.
A new page group is a module with its own ``router = page_router()``,
listed in ``ROUTERS``.
"""

from __future__ import annotations

from api.web.routes import (
    compare,
    confederations,
    courses,
    jobs,
    municipalities,
    plans,
    reconcile,
    signin,
)

ROUTERS = tuple(
    m.router
    for m in (signin, municipalities, plans, reconcile, confederations, jobs, compare, courses)
)

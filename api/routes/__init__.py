"""One router per resource; ``ROUTERS`` is what the app factory includes, in order."""

from api.routes import (
    confederations,
    courses,
    health,
    municipalities,
    people,
    plans,
    processes,
    reconciliations,
    scenarios,
)
from api.routes import rows as _rows

ROUTERS = [
    health.router,
    scenarios.router,
    confederations.router,
    municipalities.router,
    _rows.items,
    processes.router,
    _rows.links,
    _rows.limits,
    _rows.needs,
    _rows.endowments,
    _rows.capacities,
    _rows.mandates,
    people.router,
    plans.router,
    reconciliations.router,
    courses.router,
]

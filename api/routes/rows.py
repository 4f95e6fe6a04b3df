"""Row resources: items, links, limits (per scenario); needs, endowments, capacities, mandates."""

from api.routes._rows import row_router
from api.schemas import rows as s

items = row_router(
    "items",
    "/scenarios/{scenario_id}/items",
    s.ItemCreate,
    s.ItemUpdate,
    s.ItemPublic,
    "items and processes",
    id_type=str,
)
links = row_router(
    "links",
    "/scenarios/{scenario_id}/links",
    s.LinkCreate,
    s.LinkUpdate,
    s.LinkPublic,
    "links and limits",
)
limits = row_router(
    "limits",
    "/scenarios/{scenario_id}/limits",
    s.LimitCreate,
    s.LimitUpdate,
    s.LimitPublic,
    "links and limits",
)
needs = row_router(
    "needs",
    "/municipalities/{municipality}/needs",
    s.NeedCreate,
    s.NeedUpdate,
    s.NeedPublic,
    "assemblies",
    bulk=True,
)
endowments = row_router(
    "endowments",
    "/municipalities/{municipality}/endowments",
    s.EndowmentCreate,
    s.EndowmentUpdate,
    s.EndowmentPublic,
    "assemblies",
    bulk=True,
)
capacities = row_router(
    "capacities",
    "/municipalities/{municipality}/capacities",
    s.CapacityCreate,
    s.CapacityUpdate,
    s.CapacityPublic,
    "assemblies",
    bulk=True,
)
mandates = row_router(
    "mandates",
    "/municipalities/{municipality}/mandates",
    s.MandateCreate,
    s.MandateUpdate,
    s.MandatePublic,
    "assemblies",
    bulk=True,
)
ROUTERS = [items, links, limits, needs, endowments, capacities, mandates]

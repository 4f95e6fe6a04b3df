"""Object-level authorisation: every write route, every role.

For each write route, each principal that may not make the change gets
403 (401 without a token) and nothing changes (the scenario exports the
same and no audit entry is added); then the principal that may, can. Above
all: an assembly can never change another municipality's data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

import models
from api.orm import AuditEntry, Token
from api.services import scenarios

pytest_plugins = ["api_fixtures"]

VALLEY_DOC = None


def _doc() -> bytes:
    global VALLEY_DOC
    if VALLEY_DOC is None:
        VALLEY_DOC = models.dumps(models.load("data/valley"), "json")
    return VALLEY_DOC


def first_id(w, path: str, **match) -> int:
    rows = w.client.get(f"{path}?limit=1000", headers=w.h["admin"]).json()["data"]
    return next(r["id"] for r in rows if all(r.get(k) == v for k, v in match.items()))


def solved_plan(w, conf: str = "valley") -> int:
    return w.plan(conf)["id"]


def infeasible_plan(w) -> int:
    """Elmstead's two mandates that exclude each other: an infeasible plan of the valley."""
    h = w.h["assembly:elmstead"]
    share = first_id(w, "/municipalities/elmstead/mandates", kind="max_labour_share")
    w.client.patch(f"/municipalities/elmstead/mandates/{share}", json={"value": 0.001}, headers=h)
    body = {"kind": "min_local_share", "target": "vegetables", "value": 0.5}
    w.client.post("/municipalities/elmstead/mandates", json=body, headers=h)
    return w.plan()["id"]


def finished_courses(w) -> int:
    """One course of action of the valley, solved in this process (no batch processes)."""
    import tempfile

    w.app.state.settings.batch_workers = 0
    w.app.state.settings.batch_journal_dir = tempfile.mkdtemp(prefix="commune-batches-")
    r = w.client.post(
        "/confederations/valley/courses", json={"count": 1}, headers=w.h["coord:valley"]
    )
    w.run_jobs()
    return r.json()["plan"]["id"]


def proposed_reconciliation(w) -> int:
    plan = infeasible_plan(w)
    r = w.client.post(f"/plans/{plan}/reconciliations", headers=w.h["coord:valley"])
    return r.json()["id"]


@dataclass
class Case:
    """A write route: who may, who may not, and how to call it."""

    name: str
    method: str
    url: Callable
    allowed: str
    denied: tuple[str, ...]
    json: object = None
    setup: Callable | None = None
    headers: dict | None = None


OTHER_TOWN = ("assembly:birchwood", "coord:valley", "coord:upper", "analyst", None)
UPPER = ("coord:lower", "assembly:ashford", "analyst", None)
ROOT = ("coord:upper", "assembly:ashford", "analyst", None)
ANY = "*"


def _add_mandate(w):
    body = {"kind": "max_export", "target": "flour", "value": 5}
    w.client.post("/municipalities/ashford/mandates", json=body, headers=w.h["assembly:ashford"])


def _municipal(table: str, new: dict, change: dict, match: dict) -> list[Case]:
    hdr = {"If-Match": ANY}
    setup = _add_mandate if table == "mandates" else None
    others = OTHER_TOWN + ("admin",)  # an assembly's own decisions: the assembly alone
    return [
        Case(
            f"create {table}",
            "post",
            lambda w, s: f"/municipalities/ashford/{table}",
            "assembly:ashford",
            others,
            new,
        ),
        Case(
            f"replace {table}",
            "put",
            lambda w, s: f"/municipalities/ashford/{table}",
            "assembly:ashford",
            others,
            [],
            headers=hdr,
        ),
        Case(
            f"update {table}",
            "patch",
            lambda w, s: (
                f"/municipalities/ashford/{table}/{first_id(w, f'/municipalities/ashford/{table}', **match)}"
            ),
            "assembly:ashford",
            others,
            change,
            headers=hdr,
            setup=setup,
        ),
        Case(
            f"delete {table}",
            "delete",
            lambda w, s: (
                f"/municipalities/ashford/{table}/{first_id(w, f'/municipalities/ashford/{table}', **match)}"
            ),
            "assembly:ashford",
            others,
            headers=hdr,
            setup=setup,
        ),
    ]


def _add_conf(w):
    w.client.post("/confederations", json={"id": "hills", "parent": "upper"}, headers=w.h["admin"])


def _add_town(w):
    body = {"id": "glen", "confederation": "upper", "population": 10, "labour_hours": 100}
    w.client.post("/municipalities", json=body, headers=w.h["admin"])


def _add_item(w):
    w.client.post(
        "/scenarios/valley/items", json={"id": "cheese", "kind": "good"}, headers=w.h["admin"]
    )


def _add_process(w):
    w.client.post(
        "/scenarios/valley/processes", json={"id": "dairy", "labour_hours": 1}, headers=w.h["admin"]
    )


def _queued_plan(w):
    r = w.client.post("/confederations/upper/plans", json={}, headers=w.h["coord:upper"])
    return r.json()["job"]["id"]


def _extra_token(w):
    return w.client.post(
        "/tokens", json={"role": "assembly", "municipality": "cedar_falls"}, headers=w.h["admin"]
    ).json()["id"]


CASES = [
    Case(
        "import scenario",
        "post",
        lambda w, s: "/scenarios",
        "admin",
        ("coord:valley", "assembly:ashford", "analyst", None),
        "DOC",
    ),
    Case("replace scenario", "put", lambda w, s: "/scenarios/valley", "coord:valley", ROOT, "DOC"),
    Case(
        "update scenario",
        "patch",
        lambda w, s: "/scenarios/valley",
        "coord:valley",
        ROOT,
        {"period": "2030"},
    ),
    Case(
        "delete scenario",
        "delete",
        lambda w, s: "/scenarios/valley",
        "admin",
        ("coord:valley", "assembly:ashford", "analyst", None),
    ),
    Case(
        "create confederation",
        "post",
        lambda w, s: "/confederations",
        "coord:upper",
        UPPER,
        {"id": "hills", "parent": "upper"},
    ),
    Case(
        "update confederation",
        "patch",
        lambda w, s: "/confederations/upper",
        "coord:upper",
        UPPER,
        {"name": "Up"},
    ),
    Case(
        "delete confederation",
        "delete",
        lambda w, s: "/confederations/hills",
        "coord:upper",
        UPPER,
        setup=_add_conf,
    ),
    Case(
        "create municipality",
        "post",
        lambda w, s: "/municipalities",
        "coord:upper",
        UPPER,
        {"id": "glen", "confederation": "upper", "population": 10, "labour_hours": 100},
    ),
    Case(
        "update municipality",
        "patch",
        lambda w, s: "/municipalities/ashford",
        "coord:upper",
        UPPER + ("assembly:birchwood",),  # labour hours: see test_labour_hours_are_the_assembly_s
        {"population": 1},
    ),
    Case(
        "delete municipality",
        "delete",
        lambda w, s: "/municipalities/glen",
        "coord:upper",
        UPPER,
        setup=_add_town,
    ),
    Case(
        "create item",
        "post",
        lambda w, s: "/scenarios/valley/items",
        "coord:valley",
        ROOT,
        {"id": "cheese", "kind": "good"},
    ),
    Case(
        "update item",
        "patch",
        lambda w, s: "/scenarios/valley/items/bread",
        "coord:valley",
        ROOT,
        {"name": "Loaf"},
    ),
    Case(
        "delete item",
        "delete",
        lambda w, s: "/scenarios/valley/items/cheese",
        "coord:valley",
        ROOT,
        setup=_add_item,
    ),
    Case(
        "create process",
        "post",
        lambda w, s: "/scenarios/valley/processes",
        "coord:valley",
        ROOT,
        {"id": "dairy", "labour_hours": 1},
    ),
    Case(
        "update process",
        "patch",
        lambda w, s: "/scenarios/valley/processes/bakery",
        "coord:valley",
        ROOT,
        {"labour_hours": 31},
    ),
    Case(
        "delete process",
        "delete",
        lambda w, s: "/scenarios/valley/processes/dairy",
        "coord:valley",
        ROOT,
        setup=_add_process,
    ),
    Case(
        "create link",
        "post",
        lambda w, s: "/scenarios/valley/links",
        "coord:valley",
        ("coord:upper", "coord:lower", "assembly:birchwood", "analyst", None),
        {"from": "birchwood", "to": "fernhill", "labour_per_unit": 1},
    ),
    Case(
        "update link",
        "patch",
        lambda w, s: (
            f"/scenarios/valley/links/{first_id(w, '/scenarios/valley/links', **{'from': 'ashford', 'to': 'birchwood'})}"
        ),
        "coord:upper",
        UPPER,
        {"capacity": 10},
    ),
    Case(
        "delete link",
        "delete",
        lambda w, s: (
            f"/scenarios/valley/links/{first_id(w, '/scenarios/valley/links', **{'from': 'ashford', 'to': 'birchwood'})}"
        ),
        "coord:upper",
        UPPER,
    ),
    Case(
        "create limit",
        "post",
        lambda w, s: "/scenarios/valley/limits",
        "coord:upper",
        UPPER,
        {"item": "co2", "scope": "upper", "cap": 5},
    ),
    Case(
        "update limit",
        "patch",
        lambda w, s: (
            f"/scenarios/valley/limits/{first_id(w, '/scenarios/valley/limits', scope='lower')}"
        ),
        "coord:lower",
        ("coord:upper", "assembly:dunmore", "analyst", None),
        {"cap": 6000},
    ),
    Case(
        "delete limit",
        "delete",
        lambda w, s: (
            f"/scenarios/valley/limits/{first_id(w, '/scenarios/valley/limits', scope='lower')}"
        ),
        "coord:lower",
        ("coord:upper", "assembly:dunmore", "analyst", None),
    ),
    *_municipal(
        "needs", {"item": "timber", "tier": 3, "quantity": 1}, {"quantity": 2}, {"item": "bread"}
    ),
    *_municipal(
        "endowments", {"item": "timber", "quantity": 1}, {"quantity": 2}, {"item": "grain"}
    ),
    *_municipal(
        "capacities",
        {"process": "fertiliser_plant", "max_level": 1},
        {"max_level": 2},
        {"process": "bakery"},
    ),
    *_municipal(
        "mandates", {"kind": "max_export", "target": "bread", "value": 1}, {"value": 2}, {}
    ),
    Case(
        "request plan", "post", lambda w, s: "/confederations/upper/plans", "coord:upper", UPPER, {}
    ),
    Case(
        "cancel job",
        "post",
        lambda w, s: f"/jobs/{s}/cancel",
        "coord:upper",
        UPPER,
        setup=_queued_plan,
    ),
    Case(
        "request rule comparison",
        "post",
        lambda w, s: "/confederations/upper/comparisons",
        "analyst",
        ("assembly:ashford", "coord:lower", None),
        {"rules": ["leximin"]},
    ),
    Case(
        "record tally",
        "put",
        lambda w, s: f"/plans/{s}/tallies/ashford",
        "assembly:ashford",
        ("assembly:birchwood", "coord:valley", "analyst", None),
        {"yes": 1, "no": 1},
        setup=solved_plan,
    ),
    Case(
        "propose reconciliation",
        "post",
        lambda w, s: f"/plans/{s}/reconciliations",
        "coord:valley",
        ("coord:upper", "assembly:elmstead", "analyst", None),
        setup=infeasible_plan,
    ),
    Case(
        "decide on a reconciliation",
        "post",
        lambda w, s: f"/reconciliations/{s}/decisions",
        "assembly:elmstead",  # its own part, with its own token: not even an admin
        ("assembly:ashford", "coord:valley", "admin", "analyst", None),
        {"municipality": "elmstead", "decision": "approve"},
        setup=proposed_reconciliation,
    ),
    Case(
        "request courses of action",
        "post",
        lambda w, s: "/confederations/valley/courses",
        "coord:valley",
        ("coord:upper", "assembly:ashford", "analyst", None),
        {"count": 1},
    ),
    Case(
        "vote on courses of action",
        "put",
        lambda w, s: f"/courses/{s}/votes/ashford",
        "assembly:ashford",
        ("assembly:birchwood", "coord:valley", "analyst", None),
        {"votes": [3, 1]},
        setup=finished_courses,
    ),
    Case(
        "name delegate",
        "post",
        lambda w, s: "/municipalities/ashford/delegates",
        "assembly:ashford",
        ("assembly:birchwood", "coord:valley", "analyst", None),
        {"name": "Ann"},
    ),
    Case(
        "recall delegate",
        "post",
        lambda w, s: f"/delegates/{w.delegate_ids['valley']}/recall",
        "assembly:ashford",
        ("assembly:birchwood", "coord:lower", "coord:valley", "analyst", None),
    ),
    Case(
        "delegate token",
        "post",
        lambda w, s: f"/delegates/{w.delegate_ids['valley']}/tokens",
        "assembly:ashford",
        ("assembly:birchwood", "coord:valley", "coord:lower", "analyst", None),
        {},
    ),
    Case(
        "create token",
        "post",
        lambda w, s: "/tokens",
        "admin",
        ("assembly:ashford", "coord:valley", "analyst", None),
        {"role": "analyst"},
    ),
    Case(
        "revoke token",
        "delete",
        lambda w, s: f"/tokens/{s}",
        "admin",
        ("assembly:birchwood", "coord:valley", "analyst", None),
        setup=_extra_token,
    ),
]


def _state(w) -> tuple:
    """The audit log's length (every write is audited) and every stored row."""
    with w.session() as s:
        n = s.scalar(select(func.count()).select_from(AuditEntry))
        return (
            n,
            repr(scenarios.stored_rows(s, "valley")),
            repr(s.scalars(select(Token.revoked_at)).all()),
        )


def _call(w, case: Case, url: str, who: str | None):
    headers = dict(case.headers or {})
    if who:
        headers.update(w.h[who])
    body = case.json
    if body == "DOC":
        return w.client.request(
            case.method,
            url,
            content=_doc(),
            headers={**headers, "content-type": "application/json"},
        )
    return w.client.request(case.method, url, json=body, headers=headers)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_only_the_rightful_principal_may_write(world, case):
    made = case.setup(world) if case.setup else None
    url = case.url(world, made)
    before = _state(world)
    for who in case.denied:
        r = _call(world, case, url, who)
        assert r.status_code == (401 if who is None else 403), (who, r.status_code, r.text)
        assert _state(world) == before, f"{who} changed something through {case.name}"
    if case.name == "import scenario":
        world.client.delete("/scenarios/valley", headers=world.h["admin"])
    r = _call(world, case, url, case.allowed)
    assert r.status_code < 300, (case.allowed, r.status_code, r.text)


def test_every_write_route_is_covered(app):
    """As many cases as the JSON API has POST/PUT/PATCH/DELETE operations."""
    writes = [
        (method, path)
        for path, ops in app.openapi()["paths"].items()
        for method in ops
        if method in ("post", "put", "patch", "delete") and not path.startswith("/web")
    ]
    assert len(writes) == len(CASES), sorted(writes)


# Issue 18: an assembly named itself delegate of the root council, took a root
# coordinator token, changed another municipality's labour hours and deleted it.

ABOVE = [(town, conf) for town in ("ashford", "dunmore", "elmstead") for conf in ("valley",)]
"""(municipality, a council above its own confederation's)."""
OWN_CONF = {"ashford": "upper", "dunmore": "lower", "elmstead": "lower"}


@pytest.mark.parametrize("town,conf", ABOVE)
def test_no_assembly_names_itself_to_a_council_above_its_own(world, town, conf):
    url = f"/municipalities/{town}/delegates"
    body = {"name": "me", "confederation": conf}
    before = _state(world)
    wrong_council = "coord:upper" if OWN_CONF[town] == "lower" else "coord:lower"
    for who in (f"assembly:{town}", "assembly:birchwood", wrong_council, "coord:valley", "analyst"):
        r = world.client.post(url, json=body, headers=world.h[who])
        assert r.status_code == 403, (who, r.text)
        assert _state(world) == before, who
    r = world.client.post(url, json={"name": "me"}, headers=world.h[f"assembly:{town}"])
    assert r.status_code == 201 and r.json()["confederation"] == OWN_CONF[town]
    # a council above is reached through the council below, which sends the delegate
    r = world.client.post(url, json=body, headers=world.h[f"coord:{OWN_CONF[town]}"])
    assert r.status_code == 201, r.text
    sent = r.json()["id"]
    r = world.client.post(f"/delegates/{sent}/tokens", json={}, headers=world.h[wrong_council])
    assert r.status_code == 403


def test_a_root_coordinator_never_acts_for_an_assembly(world):
    c = world.client
    before = _state(world)
    for who in ("coord:valley", "coord:lower", "admin", "assembly:ashford"):
        h = world.h[who]
        r = c.patch("/municipalities/dunmore", json={"labour_hours": 1}, headers=h)
        assert r.status_code == 403, (who, r.text)
        r = c.delete("/municipalities/fernhill", headers=h)
        assert r.status_code in (403, 409), (who, r.text)
        r = c.put("/municipalities/fernhill/needs", json=[], headers={**h, "If-Match": "*"})
        assert r.status_code == 403, (who, r.text)
    assert _state(world) == before
    r = c.patch(
        "/municipalities/dunmore", json={"labour_hours": 1}, headers=world.h["assembly:dunmore"]
    )
    assert r.status_code == 200 and r.json()["labour_hours"] == 1


def test_labour_hours_are_the_assembly_s(world):
    c = world.client
    for who in ("coord:upper", "coord:valley", "admin", "assembly:birchwood"):
        r = c.patch("/municipalities/ashford", json={"labour_hours": 5}, headers=world.h[who])
        assert r.status_code == 403, who
    h = world.h["assembly:ashford"]
    assert c.patch("/municipalities/ashford", json={"population": 5}, headers=h).status_code == 403
    assert (
        c.patch("/municipalities/ashford", json={"labour_hours": 5}, headers=h).status_code == 200
    )
    doc = models.to_json(models.loads(_doc(), "json"))
    doc["municipalities"][0]["labour_hours"] = 7
    for who in ("coord:valley", "admin"):
        r = c.put("/scenarios/valley", json=doc, headers=world.h[who])
        assert r.status_code == 403 and "labour_hours" in " ".join(r.json()["problems"]), r.text


def test_tokens_die_with_their_municipality(world):
    c, up = world.client, world.h["coord:upper"]
    town = {"id": "glen", "confederation": "upper", "population": 10, "labour_hours": 100}
    assert c.post("/municipalities", json=town, headers=up).status_code == 201
    glen = world.token("assembly", "glen")
    d = c.post("/municipalities/glen/delegates", json={"name": "Gil"}, headers=glen).json()["id"]
    delegate = c.post(f"/delegates/{d}/tokens", json={}, headers=glen).json()["token"]
    coord = {"Authorization": f"Bearer {delegate}"}
    need = {"item": "bread", "tier": 1, "quantity": 3}
    assert c.post("/municipalities/glen/needs", json=need, headers=glen).status_code == 201
    r = c.delete("/municipalities/glen", headers=up)
    assert r.status_code == 409 and r.json()["problems"] == ["needs: 1 row(s) of glen"]
    assert c.delete("/municipalities/glen", headers=world.h["admin"]).status_code == 409
    assert c.delete("/municipalities/glen", headers=glen).status_code == 204  # its own choice
    log = c.get("/audit?resource=municipalities", headers=world.h["admin"]).json()["data"]
    archived = next(e for e in log if e["action"] == "archive")
    assert [n["quantity"] for n in archived["before"]["needs"]] == [3]  # history kept
    assert c.post("/municipalities", json=town, headers=up).status_code == 201  # made again
    for h in (glen, coord):
        assert c.get("/municipalities/glen", headers=h).status_code == 401

"""Smaller holes of issue 18 (points 5, 6 and 8), each as it was found.

Numbers too large for the database, strict body types, the ``Allow``
header of a 405, the error answers in the OpenAPI document, the audit
log's scope, sign-in's origin check, a busy database's 503, and bounded
error lists.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from api.errors import MAX_PROBLEMS

pytest_plugins = ["api_fixtures"]

HUGE = "8522763959108150659715317104640"


@pytest.mark.parametrize(
    "path",
    [
        f"/jobs/{HUGE}",
        f"/plans/{HUGE}",
        "/scenarios?offset=10000000000000000001",
        "/delegates/3000000000",
        f"/municipalities/ashford/needs/{HUGE}",
        f"/audit/{HUGE}",
    ],
)
def test_numbers_out_of_range_are_the_client_s(world, path):
    r = world.client.get(path, headers=world.h["admin"])
    assert r.status_code in (404, 422), r.text
    if r.status_code == 422:
        assert all(p.count(":") >= 3 for p in r.json()["problems"])


@pytest.mark.parametrize(
    "path,body",
    [
        ("/scenarios/valley/items", {"id": "cake", "kind": "good", "transportable": 0}),
        ("/municipalities/ashford/needs", {"item": "timber", "tier": 3, "quantity": False}),
        ("/municipalities/ashford/needs", {"item": "timber", "tier": "3", "quantity": 1}),
    ],
)
def test_body_types_are_strict(world, path, body):
    who = "coord:valley" if "items" in path else "assembly:ashford"
    r = world.client.post(path, json=body, headers=world.h[who])
    assert r.status_code == 422, r.text


def test_a_whole_number_is_still_a_number(world):
    body = {"item": "timber", "tier": 3, "quantity": 1}
    r = world.client.post(
        "/municipalities/ashford/needs", json=body, headers=world.h["assembly:ashford"]
    )
    assert r.status_code == 201 and r.json()["quantity"] == 1.0


@pytest.mark.parametrize(
    "method,path,allowed",
    [
        ("delete", "/scenarios", {"GET", "POST"}),
        ("post", "/municipalities/ashford", {"GET", "PATCH", "DELETE"}),
        ("patch", "/municipalities/ashford/needs", {"GET", "POST", "PUT"}),
    ],
)
def test_a_405_lists_every_method_of_the_path(world, method, path, allowed):
    r = world.client.request(method, path, headers=world.h["admin"])
    assert r.status_code == 405
    assert {m.strip() for m in r.headers["Allow"].split(",")} >= allowed


def test_the_openapi_document_lists_the_error_answers(app):
    doc = app.openapi()
    put = doc["paths"]["/municipalities/{municipality}/needs"]["put"]["responses"]
    assert {"401", "403", "404", "409", "412", "422", "428"} <= set(put)
    patch = doc["paths"]["/municipalities/{municipality}/needs/{id}"]["patch"]["responses"]
    assert {"412", "428"} <= set(patch)
    assert "401" in doc["paths"]["/scenarios"]["get"]["responses"]


def test_the_audit_log_is_read_within_one_s_scope(world):
    c = world.client
    other = {"scenario": {"name": "Hills"}, "confederations": [{"id": "hills", "parent": ""}]}
    other["municipalities"] = [
        {"id": "hilltop", "confederation": "hills", "population": 1, "labour_hours": 10}
    ]
    other["items"] = [{"id": "bread", "kind": "good"}]
    other["needs"] = [{"municipality": "hilltop", "item": "bread", "tier": 1, "quantity": 1}]
    assert c.post("/scenarios", json=other, headers=world.h["admin"]).status_code == 201
    hilltop = world.token("assembly", "hilltop")
    body = {"item": "bread", "tier": 2, "quantity": 1}
    assert c.post("/municipalities/hilltop/needs", json=body, headers=hilltop).status_code == 201
    seen = {
        who: {e["scenario_id"] for e in c.get("/audit?limit=1000", headers=h).json()["data"]}
        for who, h in (("ashford", world.h["assembly:ashford"]), ("hilltop", hilltop))
    }
    assert seen == {"ashford": {"valley"}, "hilltop": {"hills"}}
    everything = c.get("/audit?limit=1000", headers=world.h["admin"]).json()["data"]
    theirs = next(e["id"] for e in everything if e["scenario_id"] == "hills")
    assert c.get(f"/audit/{theirs}", headers=world.h["assembly:ashford"]).status_code == 404
    assert c.get(f"/audit/{theirs}", headers=hilltop).status_code == 200
    tokens_log = [e for e in everything if e["resource"] == "tokens"]
    assert tokens_log
    analyst = c.get("/audit?limit=1000", headers=world.h["analyst"]).json()["data"]
    assert not [e for e in analyst if e["resource"] == "tokens"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": "null"}, {"Origin": "https://evil.example"}, {"Referer": "null"}],
    ids=["no origin", "null", "another site", "null referer"],
)
def test_sign_in_needs_our_own_origin(world, headers):
    token = world.h["assembly:ashford"]["Authorization"].removeprefix("Bearer ")
    r = world.client.post(
        "/web/signin", data={"token": token}, headers=headers, follow_redirects=False
    )
    assert r.status_code == 403
    assert "commune_token" not in r.headers.get("set-cookie", "")
    ok = {"Origin": "http://testserver"}
    r = world.client.post("/web/signin", data={"token": token}, headers=ok, follow_redirects=False)
    assert r.status_code == 303


def test_a_busy_database_answers_503_with_retry_after(world, monkeypatch):
    from api.services import scenarios

    def locked(*_a, **_k):
        raise OperationalError("UPDATE scenarios", {}, Exception("database is locked"))

    monkeypatch.setattr(scenarios, "lock", locked)
    body = {"item": "timber", "tier": 3, "quantity": 1}
    r = world.client.post(
        "/municipalities/ashford/needs", json=body, headers=world.h["assembly:ashford"]
    )
    assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0, r.text


def test_error_lists_are_bounded(world):
    body = [{"item": "x", "tier": 9, "quantity": -1}] * 300
    r = world.client.put(
        "/municipalities/ashford/needs",
        json=body,
        headers={**world.h["assembly:ashford"], "If-Match": "*"},
    )
    assert r.status_code == 422
    assert len(r.json()["problems"]) == MAX_PROBLEMS and r.json()["problem_count"] == 600


def test_an_upload_not_read_in_time_is_refused(world):
    world.app.state.settings.upload_seconds = 1e-6
    lines = "".join(f"ashford,bread,{1 + i % 3},{i}\n" for i in range(400))
    r = world.client.put(
        "/municipalities/ashford/needs",
        content=("municipality,item,tier,quantity\n" + lines).encode(),
        headers={**world.h["assembly:ashford"], "If-Match": "*", "content-type": "text/csv"},
    )
    assert r.status_code == 422 and "not read within" in r.json()["detail"], r.text
    needs = world.client.get("/municipalities/ashford/needs", headers=world.h["analyst"]).json()
    assert needs["count"] == 16

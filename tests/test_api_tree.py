"""The confederation tree and municipalities: create, read, update, delete, every error path."""

from __future__ import annotations

pytest_plugins = ["api_fixtures"]


def test_list_and_read_confederations(world):
    c, h = world.client, world.h["analyst"]
    r = c.get("/confederations?scenario=valley", headers=h)
    assert r.json()["count"] == 3
    r = c.get("/confederations/upper", headers=h)
    body = r.json()
    assert body["ancestors"] == ["valley"] and body["municipalities"] == [
        "ashford",
        "birchwood",
        "cedar_falls",
    ]
    assert c.get("/confederations/valley", headers=h).json()["children"] == ["lower", "upper"]
    assert c.get("/confederations/nope", headers=h).status_code == 404
    assert c.get("/confederations?limit=1&offset=1", headers=h).json()["data"][0]["id"] == "upper"


def test_create_update_delete_confederation(world):
    c, h = world.client, world.h["coord:upper"]
    r = c.post(
        "/confederations", json={"id": "hills", "name": "Hills", "parent": "upper"}, headers=h
    )
    assert r.status_code == 201 and r.json()["ancestors"] == ["upper", "valley"]
    r = c.patch("/confederations/hills", json={"name": "High hills"}, headers=h)
    assert r.status_code == 200 and r.json()["name"] == "High hills"
    assert c.patch("/confederations/hills", json={"parent": "lower"}, headers=h).status_code == 403
    r = c.patch("/confederations/hills", json={"parent": "lower"}, headers=world.h["coord:valley"])
    assert r.status_code == 200 and r.json()["parent"] == "lower"
    assert c.delete("/confederations/hills", headers=h).status_code == 403
    assert c.delete("/confederations/hills", headers=world.h["coord:lower"]).status_code == 204
    assert c.get("/confederations/hills", headers=h).status_code == 404


def test_confederation_errors(world):
    c, h = world.client, world.h["coord:valley"]
    assert (
        c.post("/confederations", json={"id": "x", "parent": "nope"}, headers=h).status_code == 422
    )
    assert (
        c.post("/confederations", json={"id": "bad id", "parent": "upper"}, headers=h).status_code
        == 422
    )
    assert c.post("/confederations", json={"id": "x"}, headers=h).status_code == 422
    r = c.post("/confederations", json={"id": "upper", "parent": "valley"}, headers=h)
    assert r.status_code == 409
    r = c.post("/confederations", json={"id": "ashford", "parent": "valley"}, headers=h)
    assert r.status_code == 422  # an id that is a municipality's
    r = c.patch("/confederations/valley", json={"parent": "upper"}, headers=h)
    assert r.status_code == 403  # the root has no parent
    r = c.patch("/confederations/upper", json={"parent": "upper"}, headers=h)
    assert r.status_code == 422 and r.json()["problems"]  # a cycle
    assert c.patch("/confederations/nope", json={"name": "x"}, headers=h).status_code == 404
    r = c.delete("/confederations/upper", headers=h)
    assert r.status_code == 422 and any("upper" in p for p in r.json()["problems"])
    assert c.delete("/confederations/valley", headers=h).status_code == 403
    assert c.delete("/confederations/nope", headers=h).status_code == 404
    assert (
        c.post(
            "/confederations", json={"id": "x", "parent": "upper"}, headers=world.h["analyst"]
        ).status_code
        == 403
    )


def test_municipalities(world):
    c, h = world.client, world.h["coord:upper"]
    r = c.get("/municipalities?confederation=upper", headers=h)
    assert [m["id"] for m in r.json()["data"]] == ["ashford", "birchwood", "cedar_falls"]
    body = {
        "id": "glen",
        "name": "Glen",
        "confederation": "upper",
        "population": 100,
        "labour_hours": 80000,
    }
    r = c.post("/municipalities", json=body, headers=h)
    assert r.status_code == 201 and r.json()["scenario_id"] == "valley"
    assert c.post("/municipalities", json=body, headers=h).status_code == 409
    assert (
        c.post(
            "/municipalities", json={**body, "id": "g2", "population": -1}, headers=h
        ).status_code
        == 422
    )
    assert (
        c.post(
            "/municipalities", json={**body, "id": "g2", "confederation": "nope"}, headers=h
        ).status_code
        == 422
    )
    assert (
        c.post(
            "/municipalities", json={**body, "id": "g2", "confederation": "lower"}, headers=h
        ).status_code
        == 403
    )
    r = c.patch("/municipalities/glen", json={"population": 150}, headers=h)
    assert r.status_code == 200 and r.json()["population"] == 150
    assert (
        c.patch("/municipalities/glen", json={"confederation": "lower"}, headers=h).status_code
        == 403
    )
    assert (
        c.patch("/municipalities/glen", json={"labour_hours": None}, headers=h).status_code == 422
    )
    assert c.patch("/municipalities/nope", json={"population": 1}, headers=h).status_code == 404
    assert c.get("/municipalities/glen", headers=h).json()["population"] == 150
    assert c.get("/municipalities/nope", headers=h).status_code == 404
    assert c.delete("/municipalities/glen", headers=h).status_code == 204
    assert c.delete("/municipalities/glen", headers=h).status_code == 404


def test_delete_municipality_takes_its_rows_but_not_links(world):
    c, h = world.client, world.h["coord:valley"]
    own = world.h["assembly:elmstead"]
    r = c.delete("/municipalities/elmstead", headers=h)
    assert r.status_code == 409 and any("needs" in p for p in r.json()["problems"])
    r = c.delete("/municipalities/elmstead", headers=own)
    assert r.status_code == 422 and any("links" in p for p in r.json()["problems"])
    links = c.get("/scenarios/valley/links?limit=100", headers=h).json()["data"]
    for link in links:
        if "elmstead" in (link["from"], link["to"]):
            assert c.delete(f"/scenarios/valley/links/{link['id']}", headers=h).status_code == 204
    assert c.delete("/municipalities/elmstead", headers=own).status_code == 204
    assert c.get("/municipalities/elmstead/needs", headers=h).status_code == 404
    r = c.get("/audit?resource=municipalities", headers=h).json()["data"]
    assert r[0]["action"] == "delete" and r[0]["key"] == "elmstead"
    assert r[1]["action"] == "archive" and r[1]["before"]["needs"]  # its history is kept

"""Whole scenarios: import in every form, 422 with every problem, export, replace, limits."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

import models

pytest_plugins = ["api_fixtures"]

VALLEY_DOC = models.dumps(models.load("data/valley"), "json")
JSON = {"content-type": "application/json"}


def test_health_needs_no_token(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_import_json_as_admin(world):
    c, admin = world.client, world.h["admin"]
    c.delete("/scenarios/valley", headers=admin)
    r = c.post("/scenarios", content=VALLEY_DOC, headers={**admin, **JSON})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] == "valley" and body["counts"]["needs"] == 96
    assert body["hash"] == models.load("data/valley").content_hash


@pytest.mark.parametrize("form", ["xlsx", "zip"])
def test_import_xlsx_and_zip_raw_and_multipart(world, form):
    c, admin = world.client, world.h["admin"]
    data = models.dumps(models.load("data/valley"), form)
    ctype = {
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "zip": "application/zip",
    }[form]
    assert c.delete("/scenarios/valley", headers=admin).status_code == 204
    r = c.post("/scenarios", content=data, headers={**admin, "content-type": ctype})
    assert r.status_code == 201, r.text
    assert c.delete("/scenarios/valley", headers=admin).status_code == 204
    r = c.post("/scenarios", files={"file": (f"valley.{form}", data)}, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["hash"] == models.load("data/valley").content_hash


def test_import_lists_every_problem(client, world):
    doc = json.loads(VALLEY_DOC)
    doc["scenario"]["name"] = "other"
    doc["confederations"] = [{"id": "other", "parent": ""}]
    doc["municipalities"] = [
        {"id": "a", "confederation": "other", "population": -1, "labour_hours": 10},
        {"id": "b", "confederation": "nowhere", "population": 1, "labour_hours": "x"},
    ]
    doc["needs"] = [{"municipality": "a", "item": "co2", "tier": 1, "quantity": 1}]
    r = client.post("/scenarios", json=doc, headers=world.h["admin"])
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert len(problems) >= 4
    assert all(p.count(":") >= 3 for p in problems)
    text = "\n".join(problems)
    assert (
        "population" in text and "labour_hours" in text and "nowhere" in text and "emission" in text
    )


def test_import_errors(client, world):
    admin = world.h["admin"]
    assert client.post("/scenarios", content=VALLEY_DOC, headers=JSON).status_code == 401
    r = client.post("/scenarios", content=VALLEY_DOC, headers={**world.h["coord:valley"], **JSON})
    assert r.status_code == 403
    assert (
        client.post("/scenarios", content=VALLEY_DOC, headers={**admin, **JSON}).status_code == 409
    )
    assert (
        client.post(
            "/scenarios", content=b"x", headers={**admin, "content-type": "text/plain"}
        ).status_code
        == 415
    )
    r = client.post("/scenarios", files={"file": ("v.txt", b"x")}, headers=admin)
    assert r.status_code == 415
    r = client.post("/scenarios", files={"other": ("v.json", b"{}")}, headers=admin)
    assert r.status_code == 422
    r = client.post("/scenarios", content=b"{not json", headers={**admin, **JSON})
    assert r.status_code == 422 and r.json()["problems"]
    r = client.post("/scenarios", content=b"", headers={**admin, **JSON})
    assert r.status_code == 422
    r = client.post("/scenarios", files={"file": ("v.csv", b"a,b")}, headers=admin)
    assert r.status_code == 422


def test_ids_are_unique_across_scenarios(client, world):
    doc = json.loads(VALLEY_DOC)
    rename = {"valley": "v2"}
    doc["confederations"] = [
        {**c, "id": rename.get(c["id"], c["id"]), "parent": rename.get(c["parent"], c["parent"])}
        for c in doc["confederations"]
    ]
    doc["limits"] = [{**x, "scope": rename.get(x["scope"], x["scope"])} for x in doc["limits"]]
    r = client.post("/scenarios", json=doc, headers=world.h["admin"])
    assert r.status_code == 409
    assert any("upper" in p for p in r.json()["problems"])


def test_no_root_is_refused(client, world):
    doc = {"scenario": {"name": "x"}, "municipalities": [], "items": [], "needs": []}
    r = client.post("/scenarios", json=doc, headers=world.h["admin"])
    assert r.status_code == 422 and "root" in r.json()["detail"]


@pytest.mark.parametrize("form", ["json", "xlsx", "zip"])
def test_export_round_trips(world, form):
    r = world.client.get(f"/scenarios/valley/export?format={form}", headers=world.h["analyst"])
    assert r.status_code == 200
    assert "valley." + form in r.headers["content-disposition"]
    assert models.loads(r.content, form).content_hash == models.load("data/valley").content_hash


def test_export_errors(world):
    c = world.client
    assert (
        c.get("/scenarios/valley/export?format=csv", headers=world.h["analyst"]).status_code == 422
    )
    assert c.get("/scenarios/nope/export", headers=world.h["analyst"]).status_code == 404
    assert c.get("/scenarios/valley/export").status_code == 401


def test_list_and_get(world):
    c, h = world.client, world.h["analyst"]
    r = c.get("/scenarios", headers=h)
    assert r.status_code == 200 and r.json()["count"] == 1 and r.json()["data"][0]["id"] == "valley"
    r = c.get("/scenarios/valley", headers=h)
    assert r.status_code == 200 and r.json()["counts"]["municipalities"] == 6
    assert c.get("/scenarios/nope", headers=h).status_code == 404
    assert c.get("/scenarios?limit=0", headers=h).status_code == 422
    assert c.get("/scenarios?limit=1001", headers=h).status_code == 422
    assert c.get("/scenarios?offset=-1", headers=h).status_code == 422


def test_replace_may_not_change_what_assemblies_decide(world):
    c = world.client
    doc = json.loads(VALLEY_DOC)
    doc["mandates"] = [m for m in doc["mandates"] if m["municipality"] != "birchwood"]
    doc["needs"][0]["per_capita"] = 1.0
    r = c.put("/scenarios/valley", json=doc, headers=world.h["coord:valley"])
    assert r.status_code == 403
    assert r.json()["problems"] == ["needs: ashford", "mandates: birchwood"]
    assert c.put("/scenarios/valley", json=doc, headers=world.h["admin"]).status_code == 403


def test_replace(world):
    c = world.client
    doc = json.loads(VALLEY_DOC)
    doc["municipalities"][0]["population"] = 4000
    r = c.put("/scenarios/valley", json=doc, headers=world.h["coord:valley"])
    assert r.status_code == 200, r.text
    assert c.get("/municipalities/ashford", headers=world.h["analyst"]).json()["population"] == 4000
    assert c.put("/scenarios/valley", json=doc, headers=world.h["coord:upper"]).status_code == 403
    assert (
        c.put("/scenarios/valley", json=doc, headers=world.h["assembly:ashford"]).status_code == 403
    )
    assert c.put("/scenarios/other", json=doc, headers=world.h["admin"]).status_code == 422
    bad = {
        **doc,
        "needs": [{"municipality": "ashford", "item": "nothing", "tier": 1, "quantity": 1}],
    }
    r = c.put("/scenarios/valley", json=bad, headers=world.h["admin"])
    assert r.status_code == 422
    assert c.get("/scenarios/valley", headers=world.h["admin"]).json()["counts"]["needs"] == 96


def test_update_metadata(world):
    c = world.client
    r = c.patch(
        "/scenarios/valley",
        json={"period": "2027", "policy": {"rule": "utilitarian"}},
        headers=world.h["coord:valley"],
    )
    assert (
        r.status_code == 200
        and r.json()["period"] == "2027"
        and r.json()["policy"]["rule"] == "utilitarian"
    )
    r = c.patch(
        "/scenarios/valley", json={"policy": {"rule": "nonsense"}}, headers=world.h["admin"]
    )
    assert r.status_code == 422 and r.json()["problems"]
    assert (
        c.patch("/scenarios/valley", json={"colour": "red"}, headers=world.h["admin"]).status_code
        == 422
    )
    assert (
        c.patch(
            "/scenarios/valley", json={"period": "x"}, headers=world.h["coord:lower"]
        ).status_code
        == 403
    )
    assert (
        c.patch("/scenarios/nope", json={"period": "x"}, headers=world.h["admin"]).status_code
        == 404
    )
    assert (
        c.patch(
            "/scenarios/nope", json={"period": "x"}, headers=world.h["coord:valley"]
        ).status_code
        == 403
    )


def test_delete(world):
    c = world.client
    assert c.delete("/scenarios/valley", headers=world.h["coord:valley"]).status_code == 403
    assert c.delete("/scenarios/valley", headers=world.h["admin"]).status_code == 204
    assert c.delete("/scenarios/valley", headers=world.h["admin"]).status_code == 404
    assert c.get("/municipalities", headers=world.h["admin"]).json()["count"] == 0


def test_row_limit(world):
    doc = json.loads(VALLEY_DOC)
    doc["needs"] = doc["needs"] * 6  # 576 rows > max_rows 500 (duplicates too, but counted first)
    c = world.client
    c.delete("/scenarios/valley", headers=world.h["admin"])
    r = c.post("/scenarios", json=doc, headers=world.h["admin"])
    assert r.status_code == 422


def test_row_limit_counts_valid_rows(world):
    doc = json.loads(VALLEY_DOC)
    doc["needs"] = [
        {"municipality": "ashford", "item": "bread", "tier": 1 + i % 3, "quantity": i}
        for i in range(3)
    ]
    doc["process_io"] = doc["process_io"]
    big = [{"municipality": "ashford", "item": f"x{i}", "quantity": 1.0} for i in range(501)]
    doc["items"] += [{"id": f"x{i}", "kind": "good"} for i in range(501)]
    doc["endowments"] = big
    c = world.client
    c.delete("/scenarios/valley", headers=world.h["admin"])
    r = c.post("/scenarios", json=doc, headers=world.h["admin"])
    assert r.status_code == 422 and "too many rows" in r.json()["detail"]


def test_body_size_limit(world):
    big = b" " * (3 * 2**20)
    r = world.client.post("/scenarios", content=big, headers={**world.h["admin"], **JSON})
    assert r.status_code == 413 and "too large" in r.json()["detail"]

    def chunks():
        for _ in range(30):
            yield b" " * 2**17

    r = world.client.post("/scenarios", content=chunks(), headers={**world.h["admin"], **JSON})
    assert r.status_code == 413


def test_zip_of_csvs_from_folder(world):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in sorted(__import__("pathlib").Path("data/valley").iterdir()):
            if p.suffix in (".csv", ".yaml"):
                z.write(p, f"valley/{p.name}")
    c = world.client
    c.delete("/scenarios/valley", headers=world.h["admin"])
    r = c.post(
        "/scenarios",
        content=buf.getvalue(),
        headers={**world.h["admin"], "content-type": "application/zip"},
    )
    assert r.status_code == 201, r.text

"""Row resources: items, processes, links, limits, needs, endowments, capacities, mandates.

Create, read, update, delete, bulk replace, every error path; ETag/If-Match
on needs and endowments (two committee members editing at once: the second
gets 412 and nothing is lost).
"""

from __future__ import annotations

import io

import openpyxl
import pytest

pytest_plugins = ["api_fixtures"]


def test_items_crud(world):
    c, h = world.client, world.h["coord:valley"]
    r = c.get("/scenarios/valley/items?limit=5", headers=h)
    assert r.json()["count"] == 17 and len(r.json()["data"]) == 5
    r = c.post(
        "/scenarios/valley/items", json={"id": "cheese", "kind": "good", "unit": "t"}, headers=h
    )
    assert r.status_code == 201 and r.json()["transportable"] is None
    assert (
        c.post(
            "/scenarios/valley/items", json={"id": "cheese", "kind": "good"}, headers=h
        ).status_code
        == 409
    )
    assert (
        c.post("/scenarios/valley/items", json={"id": "x", "kind": "gas"}, headers=h).status_code
        == 422
    )
    assert (
        c.post(
            "/scenarios/valley/items", json={"id": "x", "kind": "good", "extra": 1}, headers=h
        ).status_code
        == 422
    )
    assert (
        c.post("/scenarios/nope/items", json={"id": "x", "kind": "good"}, headers=h).status_code
        == 404
    )
    assert c.get("/scenarios/valley/items/cheese", headers=h).json()["unit"] == "t"
    r = c.patch("/scenarios/valley/items/cheese", json={"name": "Cheese"}, headers=h)
    assert r.status_code == 200 and r.json()["name"] == "Cheese"
    r = c.patch("/scenarios/valley/items/bread", json={"kind": "emission"}, headers=h)
    assert r.status_code == 422 and r.json()["problems"]  # needs for an emission
    assert c.delete("/scenarios/valley/items/bread", headers=h).status_code == 422  # still needed
    assert c.delete("/scenarios/valley/items/cheese", headers=h).status_code == 204
    assert c.get("/scenarios/valley/items/cheese", headers=h).status_code == 404
    assert c.patch("/scenarios/valley/items/cheese", json={}, headers=h).status_code == 404
    assert c.delete("/scenarios/valley/items/cheese", headers=h).status_code == 404


def test_processes_with_coefficients(world):
    c, h = world.client, world.h["coord:valley"]
    body = {
        "id": "dairy",
        "labour_hours": 5,
        "coefficients": [{"item": "land", "quantity": -0.5}, {"item": "co2", "quantity": 0.1}],
    }
    r = c.post("/scenarios/valley/processes", json=body, headers=h)
    assert r.status_code == 201 and len(r.json()["coefficients"]) == 2
    assert c.post("/scenarios/valley/processes", json=body, headers=h).status_code == 409
    bad = {**body, "id": "d2", "coefficients": [{"item": "nothing", "quantity": 1}]}
    assert c.post("/scenarios/valley/processes", json=bad, headers=h).status_code == 422
    dup = {
        **body,
        "id": "d3",
        "coefficients": [{"item": "land", "quantity": 1}, {"item": "land", "quantity": 2}],
    }
    assert c.post("/scenarios/valley/processes", json=dup, headers=h).status_code == 422
    r = c.patch(
        "/scenarios/valley/processes/dairy",
        json={"coefficients": [{"item": "land", "quantity": -1}]},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["coefficients"] == [{"item": "land", "quantity": -1.0}]
    r = c.patch("/scenarios/valley/processes/dairy", json={"labour_hours": 6}, headers=h)
    assert r.json()["labour_hours"] == 6 and len(r.json()["coefficients"]) == 1
    assert c.get("/scenarios/valley/processes?limit=100", headers=h).json()["count"] == 19
    assert c.get("/scenarios/valley/processes/dairy", headers=h).status_code == 200
    assert c.get("/scenarios/valley/processes/nope", headers=h).status_code == 404
    assert (
        c.delete("/scenarios/valley/processes/bakery", headers=h).status_code == 422
    )  # capacities name it
    assert c.delete("/scenarios/valley/processes/dairy", headers=h).status_code == 204
    assert c.patch("/scenarios/valley/processes/dairy", json={}, headers=h).status_code == 404
    r = c.get("/audit?resource=process_io", headers=h).json()
    assert r["count"] >= 2


def test_links_and_limits(world):
    c, h = world.client, world.h["coord:valley"]
    r = c.post(
        "/scenarios/valley/links",
        json={"from": "birchwood", "to": "fernhill", "labour_per_unit": 1},
        headers=h,
    )
    assert r.status_code == 201 and r.json()["from"] == "birchwood"
    link = r.json()["id"]
    assert (
        c.post(
            "/scenarios/valley/links",
            json={"from": "birchwood", "to": "fernhill", "labour_per_unit": 1},
            headers=h,
        ).status_code
        == 409
    )
    assert (
        c.post(
            "/scenarios/valley/links",
            json={"from": "birchwood", "to": "birchwood", "labour_per_unit": 1},
            headers=h,
        ).status_code
        == 422
    )
    assert (
        c.post(
            "/scenarios/valley/links",
            json={"from": "x", "to": "birchwood", "labour_per_unit": 1},
            headers=h,
        ).status_code
        == 422
    )
    assert (
        c.post(
            "/scenarios/valley/links",
            json={"from": "ashford", "to": "fernhill", "labour_per_unit": 1, "loss": 1},
            headers=h,
        ).status_code
        == 422
    )
    r = c.patch(f"/scenarios/valley/links/{link}", json={"capacity": 50, "loss": 0.1}, headers=h)
    assert r.status_code == 200 and r.json()["capacity"] == 50
    assert c.get(f"/scenarios/valley/links/{link}", headers=h).json()["loss"] == 0.1
    assert c.get("/scenarios/valley/links/99999", headers=h).status_code == 404
    assert c.get("/scenarios/valley/links/abc", headers=h).status_code == 422
    assert c.delete(f"/scenarios/valley/links/{link}", headers=h).status_code == 204
    r = c.post(
        "/scenarios/valley/limits", json={"item": "co2", "scope": "upper", "cap": 100}, headers=h
    )
    assert r.status_code == 201
    lim = r.json()["id"]
    assert (
        c.post(
            "/scenarios/valley/limits",
            json={"item": "co2", "scope": "nowhere", "cap": 1},
            headers=h,
        ).status_code
        == 422
    )
    assert (
        c.post(
            "/scenarios/valley/limits", json={"item": "co2", "scope": "upper", "cap": 1}, headers=h
        ).status_code
        == 409
    )
    assert (
        c.patch(f"/scenarios/valley/limits/{lim}", json={"cap": -1}, headers=h).status_code == 422
    )
    assert (
        c.patch(f"/scenarios/valley/limits/{lim}", json={"cap": 200}, headers=h).json()["cap"]
        == 200
    )
    assert c.get("/scenarios/valley/limits", headers=h).json()["count"] == 3
    assert c.delete(f"/scenarios/valley/limits/{lim}", headers=h).status_code == 204


def _first(c, town, table, h):
    r = c.get(f"/municipalities/{town}/{table}?limit=1", headers=h)
    row = r.json()["data"][0]
    r = c.get(f"/municipalities/{town}/{table}/{row['id']}", headers=h)
    return r.json(), r.headers.get("etag")


@pytest.mark.parametrize(
    "table,change", [("needs", {"quantity": 10}), ("endowments", {"quantity": 10})]
)
def test_two_committee_members_edit_at_once(world, table, change):
    c, h = world.client, world.h["assembly:ashford"]
    row, tag = _first(c, "ashford", table, h)
    assert tag
    first = c.patch(
        f"/municipalities/ashford/{table}/{row['id']}", json=change, headers={**h, "If-Match": tag}
    )
    assert first.status_code == 200 and first.headers["etag"] != tag
    second = c.patch(
        f"/municipalities/ashford/{table}/{row['id']}",
        json={"quantity": 99},
        headers={**h, "If-Match": tag},
    )
    assert second.status_code == 412
    assert (
        second.json()["current"]["quantity"] == 10
        and second.headers["etag"] == first.headers["etag"]
    )
    assert c.get(f"/municipalities/ashford/{table}/{row['id']}", headers=h).json()["quantity"] == 10
    assert (
        c.patch(f"/municipalities/ashford/{table}/{row['id']}", json=change, headers=h).status_code
        == 428
    )
    assert c.delete(f"/municipalities/ashford/{table}/{row['id']}", headers=h).status_code == 428
    assert (
        c.delete(
            f"/municipalities/ashford/{table}/{row['id']}", headers={**h, "If-Match": tag}
        ).status_code
        == 412
    )
    assert c.delete(
        f"/municipalities/ashford/{table}/{row['id']}",
        headers={**h, "If-Match": first.headers["etag"]},
    ).status_code in (204, 422)


def test_needs(world):
    c, h = world.client, world.h["assembly:ashford"]
    r = c.post(
        "/municipalities/ashford/needs",
        json={"item": "timber", "tier": 3, "per_capita": 0.01},
        headers=h,
    )
    assert r.status_code == 201 and r.headers["etag"]
    nid = r.json()["id"]
    r = c.patch(
        f"/municipalities/ashford/needs/{nid}", json={"quantity": 5}, headers={**h, "If-Match": "*"}
    )
    assert (
        r.json()["per_capita"] is None and r.json()["quantity"] == 5
    )  # setting one clears the other
    both = {"item": "timber", "tier": 2, "quantity": 1, "per_capita": 1}
    r = c.post("/municipalities/ashford/needs", json=both, headers=h)
    assert r.status_code == 422 and r.json()["problems"]
    assert (
        c.post(
            "/municipalities/ashford/needs",
            json={"item": "timber", "tier": 4, "quantity": 1},
            headers=h,
        ).status_code
        == 422
    )
    assert (
        c.post(
            "/municipalities/ashford/needs",
            json={"item": "timber", "tier": 3, "quantity": 1},
            headers=h,
        ).status_code
        == 409
    )
    assert (
        c.post(
            "/municipalities/ashford/needs",
            json={"item": "co2", "tier": 3, "quantity": 1},
            headers=h,
        ).status_code
        == 422
    )
    nan = b'{"item": "timber", "tier": 2, "quantity": NaN}'
    r = c.post(
        "/municipalities/ashford/needs",
        content=nan,
        headers={**h, "content-type": "application/json"},
    )
    assert r.status_code == 422
    assert (
        c.post(
            "/municipalities/nope/needs",
            json={"item": "timber", "tier": 2, "quantity": 1},
            headers=h,
        ).status_code
        == 404
    )
    assert c.get(f"/municipalities/birchwood/needs/{nid}", headers=h).status_code == 404
    assert (
        c.delete(f"/municipalities/ashford/needs/{nid}", headers={**h, "If-Match": "*"}).status_code
        == 204
    )


@pytest.mark.parametrize(
    "table,body",
    [
        ("capacities", {"process": "fertiliser_plant", "max_level": 5}),
        ("mandates", {"kind": "max_export", "target": "bread", "value": 3}),
    ],
)
def test_capacities_and_mandates(world, table, body):
    c, h = world.client, world.h["assembly:ashford"]
    r = c.post(f"/municipalities/ashford/{table}", json=body, headers=h)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert c.post(f"/municipalities/ashford/{table}", json=body, headers=h).status_code == 409
    field = "max_level" if table == "capacities" else "value"
    assert (
        c.patch(f"/municipalities/ashford/{table}/{rid}", json={field: 7}, headers=h).json()[field]
        == 7
    )
    assert (
        c.patch(f"/municipalities/ashford/{table}/{rid}", json={field: -7}, headers=h).status_code
        == 422
    )
    assert c.delete(f"/municipalities/ashford/{table}/{rid}", headers=h).status_code == 204
    assert c.delete(f"/municipalities/ashford/{table}/{rid}", headers=h).status_code == 404


def test_mandate_errors(world):
    c, h = world.client, world.h["assembly:elmstead"]
    assert (
        c.post(
            "/municipalities/elmstead/mandates", json={"kind": "max_cake"}, headers=h
        ).status_code
        == 422
    )
    r = c.post(
        "/municipalities/elmstead/mandates",
        json={"kind": "min_local_share", "target": "bread", "value": 2},
        headers=h,
    )
    assert r.status_code == 422
    r = c.post(
        "/municipalities/elmstead/mandates",
        json={"kind": "forbid_process", "target": "nothing"},
        headers=h,
    )
    assert r.status_code == 422


def test_replace_needs_json(world):
    c, h = world.client, world.h["assembly:fernhill"]
    r = c.get("/municipalities/fernhill/needs?limit=1000", headers=h)
    tag, rows = r.headers["etag"], r.json()["data"]
    keep = rows[0]
    new = [
        {
            "item": x["item"],
            "tier": x["tier"],
            "quantity": x["quantity"],
            "per_capita": x["per_capita"],
        }
        for x in rows[:3]
    ]
    new[1]["per_capita"], new[1]["quantity"] = None, 1234
    assert c.put("/municipalities/fernhill/needs", json=new, headers=h).status_code == 428
    assert (
        c.put(
            "/municipalities/fernhill/needs", json=new, headers={**h, "If-Match": '"stale"'}
        ).status_code
        == 412
    )
    r = c.put("/municipalities/fernhill/needs", json=new, headers={**h, "If-Match": tag})
    assert r.status_code == 200, r.text
    assert len(r.json()) == 3 and r.headers["etag"] != tag
    same = [x for x in r.json() if x["id"] == keep["id"]]
    assert same and same[0]["version"] == keep["version"]  # unchanged rows keep their ETag
    assert c.get("/municipalities/fernhill/needs", headers=h).json()["count"] == 3
    dup = [new[0], new[0]]
    assert (
        c.put(
            "/municipalities/fernhill/needs", json=dup, headers={**h, "If-Match": "*"}
        ).status_code
        == 422
    )
    assert (
        c.put(
            "/municipalities/fernhill/needs", json=[{"item": 1}], headers={**h, "If-Match": "*"}
        ).status_code
        == 422
    )
    too_many = [{"item": "bread", "tier": 1, "quantity": i} for i in range(501)]
    r = c.put("/municipalities/fernhill/needs", json=too_many, headers={**h, "If-Match": "*"})
    assert r.status_code == 422 and "too many rows" in r.json()["detail"]
    r = c.put(
        "/municipalities/fernhill/needs",
        json=[{"item": "unknown", "tier": 1, "quantity": 1}],
        headers={**h, "If-Match": "*"},
    )
    assert (
        r.status_code == 422
        and c.get("/municipalities/fernhill/needs", headers=h).json()["count"] == 3
    )


def test_replace_needs_csv_and_xlsx(world):
    c, h = world.client, world.h["assembly:fernhill"]
    csv = b"municipality,item,tier,quantity,per_capita\nfernhill,bread,1,,0.05\nfernhill,vegetables,1,100,\n"
    r = c.put(
        "/municipalities/fernhill/needs",
        content=csv,
        headers={**h, "If-Match": "*", "content-type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    assert {x["item"] for x in r.json()} == {"bread", "vegetables"}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "needs"
    for row in (["municipality", "item", "tier", "quantity"], ["fernhill", "bread", 1, 10]):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    r = c.put(
        "/municipalities/fernhill/needs",
        files={"file": ("needs.xlsx", buf.getvalue())},
        headers={**h, "If-Match": "*"},
    )
    assert r.status_code == 200 and len(r.json()) == 1
    other = b"municipality,item,tier,quantity\nashford,bread,1,1\n"
    r = c.put(
        "/municipalities/fernhill/needs",
        content=other,
        headers={**h, "If-Match": "*", "content-type": "text/csv"},
    )
    assert r.status_code == 422 and "ashford" in r.json()["problems"][0]
    bad = b"municipality,item,tier,quantity\nfernhill,bread,9,-1\n"
    r = c.put(
        "/municipalities/fernhill/needs",
        content=bad,
        headers={**h, "If-Match": "*", "content-type": "text/csv"},
    )
    assert r.status_code == 422 and len(r.json()["problems"]) >= 2
    r = c.put(
        "/municipalities/fernhill/needs",
        content=b"x",
        headers={**h, "If-Match": "*", "content-type": "image/png"},
    )
    assert r.status_code == 415


def test_replace_other_tables(world):
    c, h = world.client, world.h["assembly:dunmore"]
    for table in ("endowments", "capacities", "mandates"):
        r = c.get(f"/municipalities/dunmore/{table}?limit=1000", headers=h)
        rows = [
            {k: v for k, v in x.items() if k not in ("id", "municipality", "version")}
            for x in r.json()["data"]
        ]
        r = c.put(
            f"/municipalities/dunmore/{table}",
            json=rows,
            headers={**h, "If-Match": r.headers.get("etag", "*")},
        )
        assert r.status_code == 200, (table, r.text)


def _bare(data: list[dict]) -> list[dict]:
    return [
        {k: v for k, v in x.items() if k not in ("id", "municipality", "version")} for x in data
    ]


@pytest.mark.parametrize(
    "table,change,add",
    [
        ("capacities", "max_level", {"process": "fertiliser_plant", "max_level": 5.0}),
        ("mandates", "value", {"kind": "max_export", "target": "bread", "value": 3.0}),
    ],
)
def test_replace_capacities_and_mandates(world, table, change, add):
    c, h = world.client, world.h["assembly:dunmore"]
    url = f"/municipalities/dunmore/{table}"
    r = c.get(f"{url}?limit=1000", headers=h)
    tag, before = r.headers["etag"], r.json()["data"]
    new = _bare(before)
    new[0][change] = 0.25
    new = new[:1] + new[2:] + [add]  # one changed, one dropped (if there were two), one added
    assert c.put(url, json=new, headers=h).status_code == 428
    r = c.put(url, json=new, headers={**h, "If-Match": tag})
    assert r.status_code == 200, r.text
    assert _bare(r.json()) == new and r.json()[0]["id"] == before[0]["id"]
    listed = c.get(f"{url}?limit=1000", headers=h)
    assert listed.headers["etag"] == r.headers["etag"] != tag
    assert sorted(map(str, _bare(listed.json()["data"]))) == sorted(map(str, new))
    stale = c.put(url, json=_bare(before), headers={**h, "If-Match": tag})
    assert stale.status_code == 412
    assert stale.json()["current"] == listed.json()["data"]  # nothing is lost
    assert stale.headers["etag"] == listed.headers["etag"]
    assert c.get(f"{url}?limit=1000", headers=h).json() == listed.json()
    log = c.get(f"/audit?resource={table}", headers=h).json()["data"]
    assert [e["action"] for e in log] == ["replace"]  # one audited change, not one per row


def test_the_list_etag_changes_with_any_row_etag(world):
    c, h = world.client, world.h["assembly:ashford"]
    r = c.get("/municipalities/ashford/needs?limit=1000", headers=h)
    tag, rows = r.headers["etag"], r.json()["data"]
    row, row_tag = _first(c, "ashford", "needs", h)
    url = f"/municipalities/ashford/needs/{row['id']}"
    r = c.patch(url, json={"quantity": 1}, headers={**h, "If-Match": row_tag})
    r = c.patch(
        url,
        json={"quantity": row["quantity"], "per_capita": row["per_capita"]},
        headers={**h, "If-Match": r.headers["etag"]},
    )
    assert r.status_code == 200 and r.headers["etag"] != row_tag
    # the same values again, but someone edited meanwhile: the list's ETag says so
    r = c.get("/municipalities/ashford/needs?limit=1000", headers=h)
    assert _bare(r.json()["data"]) == _bare(rows) and r.headers["etag"] != tag
    r = c.put("/municipalities/ashford/needs", json=_bare(rows), headers={**h, "If-Match": tag})
    assert r.status_code == 412


def _needs_csv(c, h, town="ashford") -> list[str]:
    """The town's needs as CSV lines in reverse key order (so file order is not sorted order)."""
    data = c.get(f"/municipalities/{town}/needs?limit=1000", headers=h).json()["data"]
    cell = lambda v: "" if v is None else f"{v:g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = [
        ",".join(cell(x[k]) for k in ("municipality", "item", "tier", "quantity", "per_capita"))
        for x in data
    ]
    return sorted(lines, reverse=True)


def test_upload_problems_name_the_file_and_its_own_rows(world):
    c, h = world.client, world.h["assembly:ashford"]
    header = "municipality,item,tier,quantity,per_capita"
    lines = _needs_csv(c, h)
    assert len(lines) == 16
    url = "/municipalities/ashford/needs"
    csv_h = {**h, "If-Match": "*", "content-type": "text/csv"}

    def put(text: str, name: str | None = None):
        if name:
            return c.put(url, files={"file": (name, text.encode())}, headers={**h, "If-Match": "*"})
        return c.put(url, content=text.encode(), headers=csv_h)

    r = put("\n".join([header, *lines, "ashford,bread,3,-5,"]) + "\n")
    assert r.status_code == 422
    assert r.json()["problems"] == ["needs.csv:18: quantity: must not be negative (got -5)"]
    # a row of another town, found after reading: its own row in the file, not its sorted place
    r = put("\n".join([header, "ashford,timber,3,1,", "birchwood,bread,1,3,", *lines]))
    assert r.json()["problems"] == [
        "needs.csv:3: municipality: 'birchwood' is not 'ashford'"
        " (only ashford's own rows can be saved here)"
    ]
    # problems found against the whole scenario name the file's rows, not database ids
    sheet = "\n".join([header, "ashford,zzz_unknown,3,1,", *lines, "ashford,co2,3,4,"])
    for name, label in ((None, "needs.csv"), ("our needs.csv", "our needs.csv")):
        r = put(sheet, name)
        assert r.status_code == 422
        assert sorted(r.json()["problems"]) == [
            f"{label}:19: item: a need for an emission (emissions are capped by limits, not needed)",
            f"{label}:2: item: unknown item 'zzz_unknown'",
        ]
    assert len(c.get(f"{url}?limit=1000", headers=h).json()["data"]) == 16  # nothing changed
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "needs"
    ws.append(header.split(","))
    ws.append(["ashford", "vegetables", 1, 3, None])
    ws.append(["ashford", "breadd", 2, 4, None])
    buf = io.BytesIO()
    book.save(buf)
    r = c.put(url, files={"file": ("ours.xlsx", buf.getvalue())}, headers={**h, "If-Match": "*"})
    assert r.json()["problems"] == [
        "ours.xlsx[needs]:3: item: unknown item 'breadd' (did you mean 'bread'?)"
    ]


def test_json_problems_name_the_rows_of_the_array(world):
    c, h = world.client, world.h["assembly:ashford"]
    url, hh = "/municipalities/ashford/needs", {**h, "If-Match": "*"}
    ok = {"item": "vegetables", "tier": 1, "quantity": 3}
    r = c.put(url, json=[ok, {"item": "bread"}], headers=hh)
    assert r.status_code == 422 and r.json()["problems"] == ["needs.json:2: tier: Field required"]
    r = c.put(url, json=[ok, {"item": "co2", "tier": 2, "quantity": 1}], headers=hh)
    assert r.json()["problems"] == [
        "needs.json:2: item: a need for an emission (emissions are capped by limits, not needed)"
    ]
    r = c.put(url, json=[ok, {"item": "bread", "tier": 1, "quantity": 1}, ok], headers=hh)
    assert r.json()["problems"] == [
        "needs.json:3: -: duplicate of needs.json:1 (ashford/vegetables/1)"
    ]

"""Issue 15 through the API and the worker: numbers out of range, solver failures, /docs offline."""

from __future__ import annotations

import pytest

pytest_plugins = ["api_fixtures"]


@pytest.mark.parametrize("population", [1e17, 1e20])
def test_a_population_too_large_is_refused_with_its_field(world, population):
    c = world.client
    r = c.patch(
        "/municipalities/ashford", json={"population": population}, headers=world.h["admin"]
    )
    assert r.status_code == 422, r.text
    body = r.json()
    assert any("population: too large" in p for p in body["problems"]), body
    assert "Traceback" not in r.text
    got = c.get("/municipalities/ashford", headers=world.h["admin"]).json()
    assert got["population"] == 3200  # nothing stored


def test_a_solver_failure_fails_the_job_with_one_clear_line(world, monkeypatch, caplog):
    import api.worker

    def broken(*args, **kwargs):
        raise RuntimeError("highs: passModel failed\nmore lines of detail")

    monkeypatch.setattr(api.worker, "solve_document", broken)
    c, h = world.client, world.h["coord:valley"]
    plan_id = c.post("/confederations/valley/plans", json={}, headers=h).json()["plan"]["id"]
    world.run_jobs()
    got = c.get(f"/plans/{plan_id}", headers=h).json()
    assert got["status"] == "error" and got["job"]["state"] == "failed"
    assert got["message"] == (
        "the solver failed: highs: passModel failed (the details are in the worker's log)"
    )
    assert "Traceback" in caplog.text  # the details went to the log
    page = c.get(f"/web/plans/{plan_id}", cookies={"commune_token": h["Authorization"][7:]})
    assert page.status_code == 200
    assert "passModel failed" in page.text and "Traceback" not in page.text


def test_docs_load_swagger_ui_from_the_server_not_a_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    for asset in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"):
        assert asset in page.text
        got = client.get(asset)
        assert got.status_code == 200 and len(got.content) > 10_000


SEMICOLONS = (
    "municipality;item;tier;quantity;per_capita\n"
    "ashford;bread;1;;0,045\n"
    "ashford;vegetables;1;12,5;\n"
)


def test_a_semicolon_csv_with_decimal_commas_is_read_as_the_cli_reads_it(world):
    c = world.client
    h = {**world.h["assembly:ashford"], "If-Match": "*"}
    r = c.put("/municipalities/ashford/needs", files={"file": ("needs.csv", SEMICOLONS)}, headers=h)
    assert r.status_code == 200, r.text
    got = {x["item"]: x for x in r.json()}
    assert got["bread"]["per_capita"] == 0.045 and got["vegetables"]["quantity"] == 12.5


def test_cell_and_scenario_problems_come_at_once_naming_the_files_rows(world):
    c = world.client
    h = {**world.h["assembly:ashford"], "If-Match": "*"}
    sheet = (
        "municipality,item,tier,quantity\n"
        "ashford,breadd,1,3\n"  # unknown item: found only against the scenario
        "ashford,bread,1,lots\n"  # a cell error: found reading the file
        "ashford,co2,2,4\n"  # a need for an emission: against the scenario
    )
    r = c.put("/municipalities/ashford/needs", files={"file": ("ours.csv", sheet)}, headers=h)
    assert r.status_code == 422
    assert r.json()["problems"] == [
        "ours.csv:2: item: unknown item 'breadd' (did you mean 'bread'?)",
        "ours.csv:3: quantity: not a number: 'lots'",
        "ours.csv:4: item: a need for an emission (emissions are capped by limits, not needed)",
    ]


def test_a_changed_row_is_named_by_its_key_not_a_database_id(world):
    r = world.client.patch(
        "/municipalities/ashford", json={"labour_hours": 1e13}, headers=world.h["assembly:ashford"]
    )
    assert r.status_code == 422
    assert r.json()["problems"] == [
        "municipalities:ashford: labour_hours: too large: 10000000000000 (at most 1e+12; "
        "use a larger unit)"
    ]


def test_a_failing_page_is_an_error_page_without_a_traceback(world, monkeypatch, caplog):
    import api.web.routes.plans as plan_pages

    world.plan()

    def broken(*args, **kwargs):
        raise RuntimeError("highs: passModel failed")

    monkeypatch.setattr(plan_pages.views, "satisfaction", broken)
    token = world.h["coord:valley"]["Authorization"][7:]
    page = world.client.get("/web/plans/1", cookies={"commune_token": token})
    assert page.status_code == 500
    assert "Something went wrong on our side" in page.text
    assert "Traceback" not in page.text and "passModel" not in page.text
    assert "passModel failed" in caplog.text  # the details are in the log


def test_an_old_message_with_a_traceback_is_shown_without_it(world):
    from api.orm import PlanRow

    got = world.plan()
    with world.session() as s:
        row = s.get(PlanRow, got["id"])
        row.status, row.result = "error", None
        row.message = 'RuntimeError: highs: passModel failed\nTraceback (most recent call last):\n  File "x.py"'
        s.commit()
    token = world.h["coord:valley"]["Authorization"][7:]
    page = world.client.get(f"/web/plans/{got['id']}", cookies={"commune_token": token})
    assert "RuntimeError: highs: passModel failed" in page.text and "Traceback" not in page.text


def test_the_worker_child_sends_one_line_and_the_details_apart(monkeypatch):
    import multiprocessing as mp
    import os

    import api.worker

    def broken(*args, **kwargs):
        raise RuntimeError("highs: passModel failed\nsecond line")

    monkeypatch.setattr(api.worker, "solve_document", broken)
    ours, theirs = mp.Pipe(duplex=False)
    api.worker._solve_child(theirs, {}, None, "highs", 10.0, 0.0, os.getppid())
    kind, (message, details) = ours.recv()
    assert kind == "error"
    assert (
        message
        == "the solver failed: highs: passModel failed (the details are in the worker's log)"
    )
    assert "Traceback" in details


def test_json_rows_report_bad_cells_and_unknown_items_together(world):
    h = {**world.h["assembly:ashford"], "If-Match": "*"}
    body = [
        {"item": "bread", "tier": 1, "quantity": "lots"},
        {"item": "breadd", "tier": 1, "quantity": 3},
    ]
    r = world.client.put("/municipalities/ashford/needs", json=body, headers=h)
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert len(problems) == 2, problems
    assert problems[0].startswith("needs.json:1: quantity: ")
    assert problems[1] == "needs.json:2: item: unknown item 'breadd' (did you mean 'bread'?)"


def test_no_vote_is_taken_on_a_plan_of_a_changed_scenario(world):
    got = world.plan()
    c = world.client
    h = world.h["assembly:elmstead"]
    body = {"yes": 10, "no": 5, "abstain": 0}
    url = f"/plans/{got['id']}/tallies/elmstead"
    r = c.put(url, json=body, headers=h)
    assert r.status_code == 200, r.text
    c.patch("/municipalities/elmstead", json={"population": 701}, headers=world.h["admin"])
    r = c.put(url, json=body, headers=h)
    assert r.status_code == 409
    assert "the scenario has changed since plan" in r.json()["detail"]

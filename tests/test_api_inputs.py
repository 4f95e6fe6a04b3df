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

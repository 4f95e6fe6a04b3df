"""Certified exact plans through the API and the pages: ``certify`` (the exact plan then
proved leximin at its exact levels, as ``planner solve --exact --certify``), its summary in
the plan's ``certificate``; refused up front without ``exact``."""

from __future__ import annotations

import html
import math
import re

import pytest

import models
import planner
from api.orm import PlanRow

pytest_plugins = ["api_fixtures"]

REFUSED = "body:0: certify: works with exact plans only (ask for exact too)"


@pytest.fixture(autouse=True)
def _esolver():
    """Exact plans are part of the API: without their solver these tests fail, not skip."""
    from solvers._exact import available

    if not available():
        pytest.fail("QSopt_ex's esolver is missing: run `make install` (Debian's qsopt-ex)")


def _valley_levels(doc: dict) -> int:
    """How many levels the certificate of the valley's exact plan checks (planned here)."""
    from planner.certificate import exact_levels_certificate

    scenario = models.from_json(doc)
    plan = planner.solve(scenario, rule="leximin", time_limit=60, exact=True)
    return len(exact_levels_certificate(scenario, plan))


def test_a_certified_exact_plan_stores_its_certificate_and_keeps_its_plan(world):
    c, h = world.client, world.h["coord:valley"]
    r = c.post(
        "/confederations/valley/plans",
        json={"rule": "leximin", "time_limit": 60, "exact": True, "certify": True},
        headers=h,
    )
    assert r.status_code == 202, r.text
    plan_id = r.json()["plan"]["id"]
    assert r.json()["plan"]["certify"] is True and r.json()["plan"]["exact"] is True
    with world.session() as s:
        row = s.get(PlanRow, plan_id)
        assert row.certify is True and row.certificate is None
    waiting = c.get(f"/plans/{plan_id}", headers=h).json()
    assert waiting["certify"] is True and waiting["certificate"] is None
    assert world.run_jobs() == 1
    got = c.get(f"/plans/{plan_id}", headers=world.h["analyst"]).json()
    assert got["status"] == "shortfall" and got["job"]["state"] == "done", got["message"]
    cert = got["certificate"]
    doc = c.get(f"/plans/{plan_id}/input", headers=h).json()
    levels = _valley_levels(doc)
    assert levels > 0
    assert set(cert) == {"levels", "passed", "seconds", "failed", "undecided"}
    assert cert["levels"] == levels and cert["passed"] is True
    assert cert["failed"] == [] and cert["undecided"] == []
    assert isinstance(cert["seconds"], float) and 0 <= cert["seconds"] < 60
    assert planner.check_plan(models.from_json(doc), got["plan"]) == []
    with world.session() as s:
        assert s.get(PlanRow, plan_id).certificate == cert
    # the plan JSON is the exact plan's own: the same content as one made without certify
    plain = world.plan(rule="leximin", time_limit=60, exact=True)
    assert plain["certify"] is False and plain["certificate"] is None
    assert "certificate" not in got["plan"] and set(got["plan"]) == set(plain["plan"])
    assert got["plan_hash"] == plain["plan_hash"]
    listed = c.get("/confederations/valley/plans", headers=h).json()["data"]
    assert [p["certify"] for p in listed] == [False, True]


def test_certify_without_exact_is_refused_naming_the_field(world):
    c, h = world.client, world.h["coord:valley"]
    for body in ({"certify": True}, {"certify": True, "exact": False, "rule": "leximin"}):
        r = c.post("/confederations/valley/plans", json=body, headers=h)
        assert r.status_code == 422, r.text
        assert r.json()["problems"] == [REFUSED]
        assert "Traceback" not in r.text
    r = c.post(  # every problem at once
        "/confederations/valley/plans",
        json={"solver": "scipy", "precise": True, "certify": True},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["problems"] == [
        "body:0: precise: works with the highs solver only, not 'scipy'",
        REFUSED,
    ]
    r = c.post("/confederations/valley/plans", json={"exact": True, "certify": 1}, headers=h)
    assert r.status_code == 422 and any("certify" in p for p in r.json()["problems"])
    assert c.get("/jobs", headers=h).json()["count"] == 0  # nothing queued
    r = c.post("/confederations/valley/plans", json={"certify": False}, headers=h)
    assert r.status_code == 202 and r.json()["plan"]["certify"] is False


def test_idempotency_tells_a_certified_request_from_an_exact_one(world):
    import hashlib
    import json

    from api.services.plans import request_hash

    c, h = world.client, world.h["coord:valley"]
    key = {**h, "Idempotency-Key": "plan-certify"}
    exact = {"rule": "leximin", "exact": True}
    first = c.post("/confederations/valley/plans", json=exact, headers=key)
    assert first.status_code == 202 and first.json()["plan"]["certify"] is False
    same = c.post("/confederations/valley/plans", json={**exact, "certify": False}, headers=key)
    assert same.status_code == 202 and same.headers["idempotent-replayed"] == "true"
    other = c.post("/confederations/valley/plans", json={**exact, "certify": True}, headers=key)
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    # a request without ``certify`` hashes as before the option existed (keys stay valid)
    body = {"confederation": "valley", "rule": "leximin", "solver": "highs", "time_limit": 60.0}
    before = hashlib.sha256(json.dumps({**body, "exact": True}, sort_keys=True).encode())
    assert request_hash({**body, "precise": True, "exact": True, "certify": False}) == (
        before.hexdigest()
    )
    assert request_hash({**body, "precise": True, "exact": True, "certify": True}) != (
        before.hexdigest()
    )


def test_a_certificate_that_raises_stores_one_line_and_keeps_the_plan(world, monkeypatch, caplog):
    import planner.certificate

    def broken(*args, **kwargs):
        raise RuntimeError("esolver: the rational check failed\nmore lines of detail")

    monkeypatch.setattr(planner.certificate, "exact_levels_certificate", broken)
    got = world.plan(rule="leximin", time_limit=60, exact=True, certify=True)
    assert got["status"] == "shortfall" and got["job"]["state"] == "done", got["message"]
    assert got["plan"]["deliveries"] and got["plan"]["timings"]["exact_rounds"] >= 1
    assert got["certificate"] == {
        "error": "the certificate failed: esolver: the rational check failed (details in the "
        "worker's log)"
    }
    assert "Traceback" in caplog.text and "more lines of detail" in caplog.text  # in the log
    doc = world.client.get(f"/plans/{got['id']}/input", headers=world.h["analyst"]).json()
    assert planner.check_plan(models.from_json(doc), got["plan"]) == []
    page = world.signed_in().get(f"/web/plans/{got['id']}")
    assert page.status_code == 200 and "Traceback" not in page.text
    verdict = _verdict(page.text)
    assert verdict["state"] == "error"
    assert verdict["text"].startswith("Not proved: the certificate could not be made.")
    assert "the certificate failed: esolver: the rational check failed" in verdict["text"]
    assert "The plan itself is not affected" in verdict["text"]


def test_failed_and_undecided_levels_are_stored_and_said(world, monkeypatch):
    import planner.certificate
    from planner.certificate import Level

    levels = [
        Level(tier=1, level=0.25, needs=3, plan_sum=0.75, best_sum=0.75),
        Level(tier=3, level=0.5, needs=2, plan_sum=1.0, best_sum=1.002),
        Level(tier=3, level=0.75, needs=1, plan_sum=0.75, best_sum=math.nan),
    ]
    monkeypatch.setattr(planner.certificate, "exact_levels_certificate", lambda *a, **k: levels)
    got = world.plan(rule="leximin", time_limit=60, exact=True, certify=True)
    cert = got["certificate"]
    assert cert["levels"] == 3 and cert["passed"] is False
    assert cert["failed"] == [{"tier": 3, "level": 0.5, "needs": 2, "rise": pytest.approx(0.002)}]
    assert cert["undecided"] == [{"tier": 3, "level": 0.75, "needs": 1}]
    verdict = _verdict(world.signed_in().get(f"/web/plans/{got['id']}").text)
    assert verdict["state"] == "failed"
    assert verdict["text"].startswith(
        "Not proved fair (leximin): at 1 of the 3 levels, needs can rise without lowering a "
        "need at or below them and 1 of the 3 levels could not be decided in time."
    )
    assert verdict["lines"] == [
        "Tier 3 (desired) at 50.0 %: its 2 needs could rise by 0.2 percentage points "
        "together without lowering any need at or below them.",
        "Tier 3 (desired) at 75.0 %: undecided; the exact solver found no answer for its 1 "
        "need within the level's time.",
    ]


def test_the_certificate_stops_between_levels_when_its_time_is_up():
    """``certify_plan`` in no time: one level checked, then one line saying so."""
    from api.worker import certify_plan
    from planner.certificate import exact_levels_certificate

    scenario = models.load("data/valley")
    plan = planner.solve(scenario, rule="leximin", time_limit=60, exact=True)
    n = len(exact_levels_certificate(scenario, plan))
    assert n > 1
    assert certify_plan(scenario, plan, 0.0) == {
        "error": "the certificate ran out of time (0 s, as much as the plan's time limit) "
        f"after 1 of {n} levels; ask for a longer time limit"
    }
    plan.status = "time_limit"
    assert certify_plan(scenario, plan, 60.0) == {
        "error": "nothing to certify: the plan ended time_limit"
    }
    plan.status, plan.exact_levels = "shortfall", {}
    assert certify_plan(scenario, plan, 60.0) == {
        "error": "nothing to certify: the plan has no exact levels"
    }


def test_solve_document_reports_the_certificate_as_progress():
    from api.worker import progress_text, solve_document

    doc = models.to_json(models.load("data/valley"))
    said: list[str] = []
    out, cert = solve_document(
        doc,
        "leximin",
        "highs",
        60,
        progress=lambda stage, k, value: said.append(progress_text(stage, k, value, 1.3)),
        exact=True,
        certify=True,
    )
    n = cert["levels"]
    assert cert["passed"] is True and n > 0 and out["status"] == "shortfall"
    certifying = [s for s in said if s.startswith("certifying")]
    assert certifying == ["certifying · 1.3 s"] + [
        f"certifying · level {k} of {n} · 1.3 s" for k in range(1, n + 1)
    ]
    plain, none = solve_document(doc, "leximin", "highs", 60, exact=True)
    assert none is None and plain["hash"] == out["hash"]


def test_the_worker_child_certifies_an_exact_plan(world):
    """The worker's own path (a spawned child process, as ``planner worker`` runs it)."""
    from api.worker import Worker

    c, h = world.client, world.h["coord:valley"]
    body = {"time_limit": 60, "exact": True, "certify": True}
    plan_id = c.post("/confederations/valley/plans", json=body, headers=h).json()["plan"]["id"]
    worker = Worker(world.app.state.settings, world.app.state.engine, inline=False)
    assert worker.run_once() and not worker.run_once()
    got = c.get(f"/plans/{plan_id}", headers=h).json()
    assert got["status"] == "shortfall" and got["job"]["state"] == "done", got["message"]
    assert got["certificate"]["passed"] is True and got["certificate"]["levels"] > 0


# -- the pages ---------------------------------------------------------------------------------


def _verdict(page: str) -> dict:
    """The plan page's certificate: its state, its words (tags out) and its lines."""
    box = re.search(
        r'<div class="alert [^"]*" id="certificate-verdict" data-state="(\w+)">(.*?)</div>',
        page,
        re.S,
    )
    assert box, "no certificate section on the page"
    lines = re.findall(r"<li>(.*?)</li>", box[2], re.S)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", box[2])).split())
    return {
        "state": box[1],
        "text": text,
        "lines": [html.unescape(x).replace("\xa0", " ") for x in lines],
    }


def test_a_coordinator_asks_for_a_certificate_with_a_checkbox(world):
    c = world.signed_in()
    page = c.get("/web/confederations/valley").text
    unticked = (  # by default
        '<input type="checkbox" id="certify" name="certify" value="1" '
        'aria-describedby="certify-help">\n      '
        '<label for="certify">Prove it leximin (exact certificate)</label>'
    )
    assert unticked in page
    assert page.index('id="exact"') < page.index('id="certify"')  # beside the exact box
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)[1]
    form = {"rule": "leximin", "precise": "1", "exact": "1", "certify": "1", "idempotency_key": key}
    origin = {"Origin": "http://testserver"}
    r = c.post(
        "/web/confederations/valley/plans", data=form, headers=origin, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?requested=1#jobs")
    with world.session() as s:
        assert s.get(PlanRow, 1).certify is True and s.get(PlanRow, 1).exact is True
    waiting = _verdict(c.get("/web/plans/1").text)
    assert waiting == {
        "state": "waiting",
        "text": "The proof comes once the plan is made.",
        "lines": [],
    }
    assert world.run_jobs() == 1
    with world.session() as s:
        levels = s.get(PlanRow, 1).certificate["levels"]
    assert levels > 0
    verdict = _verdict(c.get("/web/plans/1").text)
    assert verdict["state"] == "passed" and verdict["lines"] == []
    assert verdict["text"].startswith(
        f"Proved fair (leximin): at each of the {levels} levels checked in exact arithmetic, "
        "no need can rise without lowering a need at or below it."
    )
    assert "Checked in " in verdict["text"]
    jobs = c.get("/web/confederations/valley").text
    assert re.search(
        r"Plan 1</a></th>\s*<td[^>]*>leximin <span class=\"muted\">· exact, with certificate", jobs
    )
    # a plan without the box: no certificate section at all
    form = {"rule": "leximin", "exact": "1", "idempotency_key": key + "-plain"}
    c.post("/web/confederations/valley/plans", data=form, headers=origin, follow_redirects=False)
    world.run_jobs()
    assert 'id="certificate"' not in c.get("/web/plans/2").text


def test_certify_without_exact_on_the_page_is_said_in_the_form(world):
    c = world.signed_in()
    origin = {"Origin": "http://testserver"}
    page = c.get("/web/confederations/valley").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)[1]
    form = {"rule": "proportional", "time_limit": "30", "certify": "1", "idempotency_key": key}
    r = c.post(
        "/web/confederations/valley/plans", data=form, headers=origin, follow_redirects=False
    )
    assert r.status_code == 422 and "Traceback" not in r.text
    box = re.search(
        r'<div class="alert alert-error" role="alert" id="run-problems"[^>]*>(.*?)</div>',
        r.text,
        re.S,
    )
    assert box, "the problem is not shown above the form"
    listed = [html.unescape(m) for m in re.findall(r"<li><code>(.*?)</code></li>", box[1], re.S)]
    assert listed == [REFUSED]
    # the form again, as it was filled in, below the problem
    assert r.text.index('id="run-problems"') < r.text.index('class="run-form"')
    assert re.search(r'<input type="checkbox" id="certify"[^>]* checked>', r.text)
    exact = re.search(r'<input type="checkbox" id="exact"[^>]*>', r.text)[0]
    assert " checked" not in exact
    assert '<option value="proportional" selected>' in r.text
    assert (
        'name="time_limit" type="text" inputmode="decimal" placeholder="default" value="30"'
        in r.text
    )
    with world.session() as s:
        assert s.query(PlanRow).count() == 0  # nothing queued

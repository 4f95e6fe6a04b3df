"""Exact plans through the API and the pages: ``exact`` (the need stages in rational
arithmetic, as ``planner solve --exact``), refused up front for other rules and policies."""

from __future__ import annotations

import html
import re

import pytest
from api_fixtures import spy_on_solves

import models
from api.orm import PlanRow

pytest_plugins = ["api_fixtures"]


@pytest.fixture(autouse=True)
def _esolver():
    """Exact plans are part of the API: without their solver these tests fail, not skip."""
    from solvers._exact import available

    if not available():
        pytest.fail("QSopt_ex's esolver is missing: run `make install` (Debian's qsopt-ex)")


EXACT_TIMINGS = (
    "exact_rounds",
    "exact_seconds",
    "exact_rational_seconds",
    "exact_iterations",
    "exact_rational_iterations",
)


def test_an_exact_plan_is_stored_reported_and_solved_exactly(world, monkeypatch):
    """``"exact": true`` reaches the engine as ``exact=True``; without it the engine is
    not handed the option at all."""
    import planner

    seen = spy_on_solves(monkeypatch)
    c, h = world.client, world.h["coord:valley"]
    r = c.post(
        "/confederations/valley/plans",
        json={"rule": "leximin", "time_limit": 60, "exact": True},
        headers=h,
    )
    assert r.status_code == 202, r.text
    plan_id = r.json()["plan"]["id"]
    assert r.json()["plan"]["exact"] is True and r.json()["plan"]["precise"] is True
    with world.session() as s:
        assert s.get(PlanRow, plan_id).exact is True
    assert world.run_jobs() == 1
    assert seen == [{"precise": True, "exact": True}]
    got = c.get(f"/plans/{plan_id}", headers=world.h["analyst"]).json()
    assert got["exact"] is True and got["status"] == "shortfall", got["message"]
    assert got["job"]["state"] == "done"
    timings = got["plan"]["timings"]
    assert set(EXACT_TIMINGS) <= set(timings) and timings["exact_rounds"] >= 1
    doc = c.get(f"/plans/{plan_id}/input", headers=h).json()
    assert planner.check_plan(models.from_json(doc), got["plan"]) == []
    listed = c.get("/confederations/valley/plans", headers=h).json()["data"]
    assert [p["exact"] for p in listed] == [True]

    seen.clear()  # by default: not exact, and the engine is not handed ``exact``
    plain = world.plan(rule="leximin", time_limit=60)
    assert plain["exact"] is False and seen == [{"precise": True}]
    assert not set(EXACT_TIMINGS) & set(plain["plan"]["timings"])
    seen.clear()
    plain = world.plan(rule="leximin", time_limit=60, exact=False)
    assert plain["exact"] is False and seen == [{"precise": True}]


def test_exact_with_another_rule_is_refused(world):
    c, h = world.client, world.h["coord:valley"]
    for rule in ("utilitarian", "proportional", "min_labour_full"):
        r = c.post("/confederations/valley/plans", json={"rule": rule, "exact": True}, headers=h)
        assert r.status_code == 422, r.text
        assert r.json()["problems"] == [
            f"body:0: exact: works with the leximin rule only, not {rule!r}"
        ]
        assert "Traceback" not in r.text
    r = c.post(  # every problem at once
        "/confederations/valley/plans",
        json={"rule": "utilitarian", "solver": "scipy", "precise": True, "exact": True},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["problems"] == [
        "body:0: precise: works with the highs solver only, not 'scipy'",
        "body:0: exact: works with the leximin rule only, not 'utilitarian'",
    ]
    r = c.post("/confederations/valley/plans", json={"exact": "yes"}, headers=h)
    assert r.status_code == 422 and any("exact" in p for p in r.json()["problems"])
    assert c.get("/jobs", headers=h).json()["count"] == 0  # nothing queued
    r = c.post(
        "/confederations/valley/plans", json={"rule": "utilitarian", "exact": False}, headers=h
    )
    assert r.status_code == 202 and r.json()["plan"]["exact"] is False


def test_exact_on_a_policy_that_does_not_start_with_leximin_need_stages_is_refused(world):
    c, h = world.client, world.h["coord:valley"]
    policies = {  # the policy's own stages, or its rule when the request names none
        "stages": (
            {"rule": "leximin", "stages": ["min_labour", "needs:tier1", "needs:tier2"]},
            "body:0: exact: works on leximin need stages (needs:tier1..3) at the start of the "
            "policy; the scenario's stages start with 'min_labour'",
        ),
        "rule": (
            {"rule": "proportional"},
            "body:0: exact: works with the leximin rule only; the scenario's policy is "
            "'proportional' (ask for rule 'leximin')",
        ),
    }
    for policy, problem in policies.values():
        r = c.patch("/scenarios/valley", json={"policy": policy}, headers=world.h["admin"])
        assert r.status_code == 200, r.text
        r = c.post("/confederations/valley/plans", json={"exact": True}, headers=h)
        assert r.status_code == 422, r.text
        assert r.json()["problems"] == [problem]
    assert c.get("/jobs", headers=h).json()["count"] == 0
    # leximin stages the policy lists itself are planned exactly
    policy = {"rule": "leximin", "stages": ["leximin:tier1", "needs:tier2", "min_labour"]}
    assert c.patch(
        "/scenarios/valley", json={"policy": policy}, headers=world.h["admin"]
    ).is_success
    got = world.plan(exact=True, time_limit=60)
    assert got["exact"] is True and got["status"] == "shortfall", got["message"]
    assert [s["name"] for s in got["plan"]["stages"]] == policy["stages"]
    assert got["plan"]["timings"]["exact_rounds"] >= 1
    # the preset rule asked for over the policy's own stages: its stages are refused
    r = c.post(
        "/confederations/valley/plans", json={"rule": "utilitarian", "exact": True}, headers=h
    )
    assert r.status_code == 422


def test_a_stored_exact_plan_the_planner_refuses_fails_in_one_line(world, caplog):
    """A row the request would have refused (here: exact with utilitarian) fails with the
    planner's own line, not a traceback."""
    c, h = world.client, world.h["coord:valley"]
    r = c.post("/confederations/valley/plans", json={"rule": "utilitarian"}, headers=h)
    plan_id = r.json()["plan"]["id"]
    with world.session() as s:
        s.get(PlanRow, plan_id).exact = True
        s.commit()
    assert world.run_jobs() == 1
    got = c.get(f"/plans/{plan_id}", headers=h).json()
    assert got["status"] == "error" and got["job"]["state"] == "failed"
    assert got["message"] == (
        "exact planning works on leximin need stages (needs:tier1..3) at the start of the "
        "policy; this policy starts with needs:tier1"
    )
    assert "\n" not in got["message"] and "Traceback" not in got["message"]
    assert got["failure"].startswith("Exact planning works on leximin need stages")
    token = h["Authorization"].removeprefix("Bearer ")
    c.cookies.set("commune_token", token)
    page = c.get(f"/web/plans/{plan_id}")
    assert page.status_code == 200 and "Exact planning works on leximin" in page.text
    assert "Traceback" not in page.text


def test_without_esolver_exact_is_refused_and_a_stored_exact_plan_fails_in_one_line(
    world, monkeypatch
):
    import solvers._exact

    c, h = world.client, world.h["coord:valley"]
    r = c.post("/confederations/valley/plans", json={"exact": True}, headers=h)
    assert r.status_code == 202
    plan_id = r.json()["plan"]["id"]
    monkeypatch.setattr(solvers._exact, "available", lambda: False)
    r = c.post("/confederations/valley/plans", json={"exact": True}, headers=h)
    assert r.status_code == 422
    assert r.json()["problems"] == [
        "body:0: exact: this server cannot plan exactly (QSopt_ex's esolver is not installed)"
    ]
    assert world.run_jobs() == 1  # the plan queued before esolver went away
    got = c.get(f"/plans/{plan_id}", headers=h).json()
    assert got["status"] == "error" and got["job"]["state"] == "failed"
    assert got["message"].startswith("the solver failed: exact solving needs QSopt_ex's esolver")
    assert "\n" not in got["message"]


def test_idempotency_tells_an_exact_request_from_a_plain_one(world):
    import hashlib
    import json

    from api.services.plans import request_hash

    c, h = world.client, world.h["coord:valley"]
    key = {**h, "Idempotency-Key": "plan-exact"}
    first = c.post("/confederations/valley/plans", json={"rule": "leximin"}, headers=key)
    assert first.status_code == 202 and first.json()["plan"]["exact"] is False
    same = c.post(
        "/confederations/valley/plans", json={"exact": False, "rule": "leximin"}, headers=key
    )
    assert same.status_code == 202 and same.headers["idempotent-replayed"] == "true"
    other = c.post(
        "/confederations/valley/plans", json={"rule": "leximin", "exact": True}, headers=key
    )
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    key = {**h, "Idempotency-Key": "plan-exact-2"}
    exact = c.post(
        "/confederations/valley/plans", json={"rule": "leximin", "exact": True}, headers=key
    )
    again = c.post(
        "/confederations/valley/plans", json={"rule": "leximin", "exact": True}, headers=key
    )
    assert exact.status_code == again.status_code == 202
    assert again.headers["idempotent-replayed"] == "true" and again.json()["plan"]["exact"] is True
    assert again.json()["plan"]["id"] == exact.json()["plan"]["id"] != first.json()["plan"]["id"]
    # a request without ``exact`` hashes as before the option existed (keys stay valid)
    body = {"confederation": "valley", "rule": "leximin", "solver": "highs", "time_limit": 60.0}
    before = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    assert request_hash({**body, "precise": True, "exact": False}) == before
    assert request_hash({**body, "precise": True, "exact": True}) != before


def test_the_worker_child_solves_an_exact_plan_exactly(world):
    """The worker's own path (a spawned child process, as ``planner worker`` runs it)."""
    from api.worker import Worker

    c, h = world.client, world.h["coord:valley"]
    r = c.post("/confederations/valley/plans", json={"time_limit": 60, "exact": True}, headers=h)
    plan_id = r.json()["plan"]["id"]
    worker = Worker(world.app.state.settings, world.app.state.engine, inline=False)
    assert worker.run_once() and not worker.run_once()
    got = c.get(f"/plans/{plan_id}", headers=h).json()
    assert got["status"] == "shortfall" and got["job"]["state"] == "done", got["message"]
    assert got["exact"] is True and got["plan"]["timings"]["exact_rounds"] >= 1


def test_an_exact_rule_comparison(world, monkeypatch):
    seen = spy_on_solves(monkeypatch)
    c, h = world.client, world.h["analyst"]
    r = c.post(
        "/confederations/valley/comparisons", json={"rules": ["leximin"], "exact": True}, headers=h
    )
    assert r.status_code == 202, r.text
    assert r.json()["exact"] is True
    assert world.run_jobs() == 1 and seen == [{"precise": True, "exact": True}]
    body = c.get(f"/comparisons/{r.json()['id']}", headers=h).json()
    assert body["state"] == "done" and body["exact"] is True
    plan = c.get(f"/plans/{body['rules'][0]['plan_id']}", headers=h).json()
    assert plan["exact"] is True and plan["plan"]["timings"]["exact_rounds"] >= 1
    r = c.post(
        "/confederations/valley/comparisons",
        json={"rules": ["leximin", "utilitarian", "proportional"], "exact": True},
        headers=h,
    )
    assert r.status_code == 422
    assert r.json()["problems"] == [
        "body:0: exact: works with the leximin rule only, not 'utilitarian', 'proportional'"
    ]
    plain = c.post("/confederations/valley/comparisons", json={"rules": ["leximin"]}, headers=h)
    assert plain.status_code == 202 and plain.json()["exact"] is False


# -- the pages ---------------------------------------------------------------------------------


def test_a_coordinator_asks_for_exact_levels_with_a_checkbox(world, monkeypatch):
    """The box is not ticked by default; ticked, the plan is exact, and the plan page and
    the jobs table say so."""
    c = world.signed_in()
    origin = {"Origin": "http://testserver"}
    page = c.get("/web/confederations/valley").text
    box = re.search(r'<input type="checkbox" id="exact" name="exact" value="1"[^>]*>', page)
    assert box and 'aria-describedby="exact-help"' in box[0] and " checked" not in box[0]
    assert '<label for="exact">Exact levels (slower: rational arithmetic)</label>' in page
    hint = re.search(r'<p class="help" id="exact-help">(.*?)</p>', page, re.S)
    assert hint and "planner solve --exact" in hint[1] and "leximin" in hint[1]
    seen = spy_on_solves(monkeypatch)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)[1]
    form = {"rule": "leximin", "precise": "1", "exact": "1", "idempotency_key": key}
    r = c.post(
        "/web/confederations/valley/plans", data=form, headers=origin, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?requested=1#jobs")
    unticked = {"rule": "leximin", "precise": "1", "idempotency_key": key + "-plain"}
    r = c.post(
        "/web/confederations/valley/plans", data=unticked, headers=origin, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?requested=2#jobs")
    with world.session() as s:
        assert s.get(PlanRow, 1).exact is True and s.get(PlanRow, 2).exact is False
    assert world.run_jobs() == 2
    assert seen == [{"precise": True, "exact": True}, {"precise": True}]
    exact = c.get("/web/plans/1").text
    shown = re.search(r'<dd id="exact-levels">(.*?)</dd>', exact, re.S)
    assert shown and shown[1].startswith("yes: planned exactly, in rational arithmetic (")
    assert "exact round" in shown[1]
    assert 'id="exact-levels"' not in c.get("/web/plans/2").text
    jobs = c.get("/web/confederations/valley").text
    assert re.search(r"Plan 1</a></th>\s*<td[^>]*>leximin <span class=\"muted\">· exact", jobs)
    assert not re.search(r"Plan 2</a></th>\s*<td[^>]*>leximin <span class=\"muted\">· exact", jobs)
    # another rule with the box ticked: refused, naming the field
    form = {"rule": "utilitarian", "exact": "1", "idempotency_key": key + "-u"}
    r = c.post(
        "/web/confederations/valley/plans", data=form, headers=origin, follow_redirects=False
    )
    assert r.status_code == 422 and "Traceback" not in r.text
    listed = [html.unescape(m) for m in re.findall(r"<li><code>(.*?)</code></li>", r.text, re.S)]
    assert listed == ["body:0: exact: works with the leximin rule only, not 'utilitarian'"]

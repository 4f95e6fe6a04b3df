"""Plans as jobs: request (202), idempotency, the queue's guarantees, cancellation, comparisons."""

from __future__ import annotations

from datetime import timedelta

from api_fixtures import spy_on_solves
from sqlalchemy import update

import models
from api.db import utcnow
from api.orm import Job, PlanRow
from api.services import queue

pytest_plugins = ["api_fixtures"]

SPEC_KEYS = {
    "status",
    "scenario",
    "rule",
    "stages",
    "deliveries",
    "production",
    "flows",
    "labour",
    "limits",
    "prices",
    "binding",
    "metrics",
}


def test_plan_cycle(world):
    c, h = world.client, world.h["coord:valley"]
    r = c.post(
        "/confederations/valley/plans", json={"rule": "leximin", "time_limit": 60}, headers=h
    )
    assert r.status_code == 202
    body = r.json()
    plan_id = body["plan"]["id"]
    assert r.headers["location"] == f"/plans/{plan_id}"
    assert body["plan"]["status"] == "queued" and body["job"]["state"] == "queued"
    assert body["plan"]["input_hash"] == models.load("data/valley").content_hash
    assert body["plan"]["software_version"] and body["plan"]["solver"] == "highs"
    assert (
        c.get(f"/plans/{plan_id}", headers=h).json()["plan"] is None
    )  # nothing solved in the request
    assert world.run_jobs() == 1
    got = c.get(f"/plans/{plan_id}", headers=world.h["analyst"]).json()
    assert (
        got["status"] == "shortfall"
        and got["job"]["state"] == "done"
        and got["job"]["attempts"] == 1
    )
    assert SPEC_KEYS <= set(got["plan"]) and got["plan"]["scenario"]["hash"] == got["input_hash"]
    assert got["ratification"]["state"] == "open"
    assert c.get(f"/plans/{plan_id}/input", headers=h).json()["scenario"]["name"] == "valley"
    assert c.get("/plans?status=shortfall", headers=h).json()["count"] == 1
    assert (
        c.get("/confederations/valley/plans", headers=h).json()["data"][0]["metrics"][
            "total_labour"
        ]
        > 0
    )
    assert c.get("/jobs?state=done", headers=h).json()["count"] == 1
    assert c.get(f"/jobs/{got['job']['id']}", headers=h).json()["plan_id"] == plan_id


def test_input_is_snapshotted_at_request(world):
    c, h = world.client, world.h["coord:valley"]
    plan_id = c.post("/confederations/valley/plans", json={}, headers=h).json()["plan"]["id"]
    c.patch("/municipalities/ashford", json={"population": 9999}, headers=world.h["coord:upper"])
    world.run_jobs()
    doc = c.get(f"/plans/{plan_id}/input", headers=h).json()
    assert next(m for m in doc["municipalities"] if m["id"] == "ashford")["population"] == 3200


def test_subtree_plan(world):
    got = world.plan("upper", "coord:upper")
    assert got["status"] in ("optimal", "shortfall")
    towns = {r["municipality"] for r in got["plan"]["labour"]}
    assert towns == {"ashford", "birchwood", "cedar_falls"}
    assert got["ratification"]["towns"]["total"] == 3


def test_plan_request_errors(world):
    c, h = world.client, world.h["coord:valley"]
    assert c.post("/confederations/nope/plans", json={}, headers=h).status_code == 404
    r = c.post(
        "/confederations/valley/plans",
        json={"rule": "nonsense", "solver": "nope", "time_limit": 10**9},
        headers=h,
    )
    assert r.status_code == 422 and len(r.json()["problems"]) == 3
    assert (
        c.post("/confederations/valley/plans", json={"time_limit": -1}, headers=h).status_code
        == 422
    )
    assert c.post("/confederations/valley/plans", json={"colour": 1}, headers=h).status_code == 422
    assert (
        c.post("/confederations/valley/plans", json={}, headers=world.h["coord:upper"]).status_code
        == 403
    )
    assert c.post("/confederations/valley/plans", json={}).status_code == 401
    assert c.get("/plans/999", headers=h).status_code == 404
    assert c.get("/plans/999/input", headers=h).status_code == 404
    assert c.get("/jobs/999", headers=h).status_code == 404


def test_idempotency_key(world):
    c, h = world.client, world.h["coord:valley"]
    key = {"Idempotency-Key": "plan-2026-a"}
    first = c.post(
        "/confederations/valley/plans", json={"rule": "utilitarian"}, headers={**h, **key}
    )
    again = c.post(
        "/confederations/valley/plans", json={"rule": "utilitarian"}, headers={**h, **key}
    )
    assert first.status_code == again.status_code == 202
    assert again.headers["idempotent-replayed"] == "true"
    assert first.json()["plan"]["id"] == again.json()["plan"]["id"]
    assert c.get("/jobs", headers=h).json()["count"] == 1
    other = c.post("/confederations/valley/plans", json={"rule": "leximin"}, headers={**h, **key})
    assert other.status_code == 422
    mine = c.post(
        "/confederations/valley/plans",
        json={"rule": "utilitarian"},
        headers={**world.h["admin"], **key},
    )
    assert mine.json()["plan"]["id"] != first.json()["plan"]["id"]  # keys are per token


def test_cancel(world):
    c, h = world.client, world.h["coord:valley"]
    job = c.post("/confederations/valley/plans", json={}, headers=h).json()["job"]
    r = c.post(f"/jobs/{job['id']}/cancel", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert c.get(f"/plans/{job['plan_id']}", headers=h).json()["status"] == "cancelled"
    assert world.run_jobs() == 0
    assert c.post(f"/jobs/{job['id']}/cancel", headers=h).status_code == 409
    assert c.post("/jobs/999/cancel", headers=h).status_code == 404
    job = c.post("/confederations/valley/plans", json={}, headers=h).json()["job"]
    with world.session() as s:
        claim = queue.claim(s, "elsewhere:1")
    r = c.post(f"/jobs/{job['id']}/cancel", headers=h)
    assert r.status_code == 202 and r.json()["cancel_requested"]
    with world.session() as s:
        assert queue.heartbeat(s, claim) == (True, True)
    assert (
        c.post(f"/jobs/{job['id']}/cancel", headers=world.h["assembly:ashford"]).status_code == 403
    )


def test_queue_claims_each_job_once_and_results_are_written_once(world):
    c, h = world.client, world.h["coord:valley"]
    jobs = [
        c.post("/confederations/valley/plans", json={}, headers=h).json()["job"] for _ in range(2)
    ]
    with world.session() as s:
        a, b, none = queue.claim(s, "w:1"), queue.claim(s, "w:2"), queue.claim(s, "w:3")
    assert {a.job_id, b.job_id} == {j["id"] for j in jobs} and none is None
    with world.session() as s:
        assert queue.finish(s, a, "optimal", {"status": "optimal"})
        assert not queue.finish(s, a, "error", None, "late")  # no longer running: ignored
        stranger = queue.Claim(b.job_id, b.plan_id, b.attempt, "w:9")
        assert not queue.finish(s, stranger, "error")
        assert queue.heartbeat(s, stranger) == (False, False)
        plan = s.get(PlanRow, a.plan_id)
        assert plan.status == "optimal" and plan.result == {"status": "optimal"}


def test_stale_jobs_are_queued_again_then_given_up(world):
    c, h = world.client, world.h["coord:valley"]
    job = c.post("/confederations/valley/plans", json={}, headers=h).json()["job"]
    for attempt in (1, 2, 3):
        with world.session() as s:
            claim = queue.claim(s, "far-away-host:1")
            assert claim.attempt == attempt
            s.execute(update(Job).values(heartbeat_at=utcnow() - timedelta(minutes=5)))
            s.commit()
            assert queue.requeue_stale(s, stale_seconds=30, max_attempts=3) == [job["id"]]
    got = c.get(f"/plans/{job['plan_id']}", headers=h).json()
    assert (
        got["job"]["state"] == "failed"
        and got["status"] == "error"
        and "interrupted" in got["message"]
    )


def test_a_dead_local_worker_is_noticed_at_once(world):
    c, h = world.client, world.h["coord:valley"]
    job = c.post("/confederations/valley/plans", json={}, headers=h).json()["job"]
    host = queue.worker_name().rpartition(":")[0]
    with world.session() as s:
        queue.claim(s, f"{host}:{2**22 + 12345}")  # no such pid
        assert queue.requeue_stale(s, stale_seconds=3600, max_attempts=3) == [job["id"]]
        live = queue.claim(s, queue.worker_name())
        assert queue.requeue_stale(s, stale_seconds=3600, max_attempts=3) == []
        queue.release(s, live)
    assert world.run_jobs() == 1
    got = c.get(f"/plans/{job['plan_id']}", headers=h).json()
    assert got["status"] == "shortfall" and got["job"]["attempts"] == 2


def test_compare_plans(world):
    a = world.plan(rule="leximin")
    b = world.plan(rule="utilitarian")
    r = world.client.get(f"/plans/{a['id']}/compare/{b['id']}", headers=world.h["assembly:ashford"])
    assert r.status_code == 200
    body = r.json()
    assert body["same_input"] and {m["name"] for m in body["metrics"]} >= {"gini", "total_labour"}
    assert all("labour_change" in t for t in body["municipalities"])
    q = world.client.post(
        "/confederations/valley/plans", json={}, headers=world.h["coord:valley"]
    ).json()
    assert (
        world.client.get(
            f"/plans/{a['id']}/compare/{q['plan']['id']}", headers=world.h["analyst"]
        ).status_code
        == 409
    )
    assert (
        world.client.get(f"/plans/{a['id']}/compare/999", headers=world.h["analyst"]).status_code
        == 404
    )


def test_rule_comparison(world):
    c, h = world.client, world.h["analyst"]
    r = c.post(
        "/confederations/valley/comparisons",
        json={"rules": ["leximin", "utilitarian", "min_labour_full"]},
        headers=h,
    )
    assert r.status_code == 202 and r.json()["state"] == "running"
    comp = r.json()["id"]
    assert r.headers["location"] == f"/comparisons/{comp}"
    world.run_jobs()
    body = c.get(f"/comparisons/{comp}", headers=h).json()
    assert body["state"] == "done"
    assert {x["rule"]: x["status"] for x in body["rules"]} == {
        "leximin": "shortfall",
        "utilitarian": "shortfall",
        "min_labour_full": "infeasible",
    }
    assert body["worst_ratio"] and set(body["worst_ratio"][0]["ratios"]) == {
        "leximin",
        "utilitarian",
    }
    plan = c.get(f"/plans/{body['rules'][0]['plan_id']}", headers=h).json()
    assert (
        plan["purpose"] == "analysis" and "ratification" not in plan or plan["ratification"] is None
    )
    assert (
        c.post(
            "/confederations/valley/comparisons", json={"rules": ["magic"]}, headers=h
        ).status_code
        == 422
    )
    assert (
        c.post(
            "/confederations/valley/comparisons", json={}, headers=world.h["assembly:ashford"]
        ).status_code
        == 403
    )
    assert c.post("/confederations/nope/comparisons", json={}, headers=h).status_code == 404
    assert c.get("/comparisons/999", headers=h).status_code == 404


def test_infeasible_plan_names_the_conflict(world):
    c = world.client
    body = {"kind": "max_labour_share", "value": 0.0}
    r = c.post("/municipalities/ashford/mandates", json=body, headers=world.h["assembly:ashford"])
    assert r.status_code == 201
    got = world.plan(rule="min_labour_full")
    assert got["status"] == "infeasible" and got["plan"]["conflicts"]


# -- precise: levels planned more exactly (planner.engine.PRECISE, as `planner solve --precise`) --


def test_a_precise_plan_is_stored_reported_and_solved_with_the_precise_options(world, monkeypatch):
    """Precise levels are the default with HiGHS; ``"precise": false`` asks for the classic
    rounds. The worker hands the engine ``precise`` as stored, either way."""
    import planner

    seen = spy_on_solves(monkeypatch)
    c, h = world.client, world.h["coord:valley"]
    r = c.post(
        "/confederations/valley/plans",
        json={"rule": "leximin", "time_limit": 60, "precise": True},
        headers=h,
    )
    assert r.status_code == 202, r.text
    plan_id = r.json()["plan"]["id"]
    assert r.json()["plan"]["precise"] is True
    with world.session() as s:
        assert s.get(PlanRow, plan_id).precise is True
    assert world.run_jobs() == 1
    assert seen == [{"precise": True}]
    got = c.get(f"/plans/{plan_id}", headers=world.h["analyst"]).json()
    assert got["precise"] is True and got["status"] == "shortfall", got["message"]
    assert got["job"]["state"] == "done"
    doc = c.get(f"/plans/{plan_id}/input", headers=h).json()
    assert planner.check_plan(models.from_json(doc), got["plan"]) == []
    listed = c.get("/confederations/valley/plans", headers=h).json()["data"]
    assert [p["precise"] for p in listed] == [True]

    seen.clear()  # by default: precise too
    default = world.plan(rule="leximin", time_limit=60)
    assert default["precise"] is True and seen == [{"precise": True}]
    seen.clear()  # the classic rounds, asked for, and reported so
    r = c.post(
        "/confederations/valley/plans",
        json={"rule": "leximin", "time_limit": 60, "precise": False},
        headers=h,
    )
    assert r.status_code == 202 and r.json()["plan"]["precise"] is False
    assert world.run_jobs() == 1 and seen == [{"precise": False}]
    with world.session() as s:
        assert s.get(PlanRow, r.json()["plan"]["id"]).precise is False


def test_precise_with_another_solver_than_highs_is_refused(world):
    c, h = world.client, world.h["coord:valley"]
    for solver in ("scipy", "highs-kept"):
        r = c.post(
            "/confederations/valley/plans", json={"solver": solver, "precise": True}, headers=h
        )
        assert r.status_code == 422, r.text
        assert r.json()["problems"] == [
            f"body:0: precise: works with the highs solver only, not {solver!r}"
        ]
        assert "Traceback" not in r.text
    r = c.post("/confederations/valley/plans", json={"precise": "yes"}, headers=h)
    assert r.status_code == 422 and any("precise" in p for p in r.json()["problems"])
    assert c.get("/jobs", headers=h).json()["count"] == 0  # nothing queued
    r = c.post("/confederations/valley/plans", json={"solver": "scipy"}, headers=h)
    assert r.status_code == 202 and r.json()["plan"]["precise"] is False


def test_idempotency_tells_a_precise_request_from_a_plain_one(world):
    import hashlib
    import json

    from api.services.plans import request_hash

    c, h = world.client, world.h["coord:valley"]
    key = {"Idempotency-Key": "plan-precise"}
    first = c.post("/confederations/valley/plans", json={"rule": "leximin"}, headers={**h, **key})
    assert first.status_code == 202 and first.json()["plan"]["precise"] is True  # the default
    same = c.post(  # the default spelt out is the same request
        "/confederations/valley/plans",
        json={"rule": "leximin", "precise": True},
        headers={**h, **key},
    )
    assert same.status_code == 202 and same.headers["idempotent-replayed"] == "true"
    other = c.post(
        "/confederations/valley/plans",
        json={"rule": "leximin", "precise": False},
        headers={**h, **key},
    )
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    key = {"Idempotency-Key": "plan-classic"}
    classic = c.post(
        "/confederations/valley/plans",
        json={"rule": "leximin", "precise": False},
        headers={**h, **key},
    )
    again = c.post(
        "/confederations/valley/plans",
        json={"rule": "leximin", "precise": False},
        headers={**h, **key},
    )
    assert classic.status_code == again.status_code == 202
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["plan"]["id"] == classic.json()["plan"]["id"] != first.json()["plan"]["id"]
    assert again.json()["plan"]["precise"] is False
    plain = c.post("/confederations/valley/plans", json={"rule": "leximin"}, headers={**h, **key})
    assert plain.status_code == 422
    assert c.get("/jobs", headers=h).json()["count"] == 2
    with world.session() as s:
        stored = {p.id: p.request_hash for p in s.query(PlanRow)}
    assert stored[first.json()["plan"]["id"]] != stored[classic.json()["plan"]["id"]]
    # a request with the solver's default hashes as before the option existed (keys stay valid)
    body = {"confederation": "valley", "rule": "leximin", "solver": "highs", "time_limit": 60.0}
    before = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    assert request_hash({**body, "precise": True}) == before
    assert request_hash({**body, "precise": False}) != before
    scipy = {**body, "solver": "scipy"}
    assert (
        request_hash({**scipy, "precise": False})
        == hashlib.sha256(json.dumps(scipy, sort_keys=True).encode()).hexdigest()
    )


def test_the_worker_child_solves_a_precise_plan_precisely(world):
    """The worker's own path (a spawned child process, as ``planner worker`` runs it): the
    plan it makes is the precise plan of its input, not the plain one."""
    from api.worker import Worker, solve_document

    c, h = world.client, world.h["coord:valley"]
    r = c.post("/confederations/valley/plans", json={"time_limit": 60, "precise": True}, headers=h)
    plan_id = r.json()["plan"]["id"]
    worker = Worker(world.app.state.settings, world.app.state.engine, inline=False)
    assert worker.run_once() and not worker.run_once()
    got = c.get(f"/plans/{plan_id}", headers=h).json()
    assert got["status"] == "shortfall" and got["job"]["state"] == "done", got["message"]
    doc = c.get(f"/plans/{plan_id}/input", headers=h).json()
    exact = solve_document(doc, got["rule"], "highs", 60, precise=True)[0]["hash"]
    usual = solve_document(doc, got["rule"], "highs", 60, precise=False)[0]["hash"]
    assert exact != usual, "the valley's precise and plain plans must differ for this test"
    assert got["plan_hash"] == exact


def test_a_precise_rule_comparison(world, monkeypatch):
    seen = spy_on_solves(monkeypatch)
    c, h = world.client, world.h["analyst"]
    r = c.post(
        "/confederations/valley/comparisons",
        json={"rules": ["leximin", "proportional"], "precise": True},
        headers=h,
    )
    assert r.status_code == 202, r.text
    assert r.json()["precise"] is True
    assert world.run_jobs() == 2
    assert seen == [{"precise": True}] * 2
    body = c.get(f"/comparisons/{r.json()['id']}", headers=h).json()
    assert body["state"] == "done" and body["precise"] is True
    for member in body["rules"]:
        plan = c.get(f"/plans/{member['plan_id']}", headers=h).json()
        assert plan["precise"] is True and plan["status"] == "shortfall"
    r = c.post(
        "/confederations/valley/comparisons",
        json={"rules": ["leximin"], "solver": "pulp", "precise": True},
        headers=h,
    )
    assert r.status_code == 422
    assert r.json()["problems"] == ["body:0: precise: works with the highs solver only, not 'pulp'"]
    plain = c.post("/confederations/valley/comparisons", json={"rules": ["leximin"]}, headers=h)
    assert plain.status_code == 202 and plain.json()["precise"] is True  # HiGHS's default
    classic = c.post(
        "/confederations/valley/comparisons",
        json={"rules": ["leximin"], "precise": False},
        headers=h,
    )
    assert classic.status_code == 202 and classic.json()["precise"] is False

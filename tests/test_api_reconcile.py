"""Explanations in the plan resource, and the reconciliation flow: a coordinator proposes,
each assembly concerned decides on its part with its own token, the last approval applies
the edits (audited, old values kept) and the plan can then be made."""

import pytest

pytest_plugins = ["api_fixtures"]


def conflicting_mandates(world):
    """Elmstead's assembly gives at most 0.1% of its labour yet wants half its vegetables
    grown at home (980 h of work): the valley cannot be planned."""
    c, h = world.client, world.h["assembly:elmstead"]
    r = c.get("/municipalities/elmstead/mandates", headers=h)
    share = next(m for m in r.json()["data"] if m["kind"] == "max_labour_share")
    assert (
        c.patch(
            f"/municipalities/elmstead/mandates/{share['id']}", json={"value": 0.001}, headers=h
        ).status_code
        == 200
    )
    body = {"kind": "min_local_share", "target": "vegetables", "value": 0.5}
    assert c.post("/municipalities/elmstead/mandates", json=body, headers=h).status_code == 201


def test_plan_resource_explains_every_short_need(world):
    got = world.plan()
    assert got["status"] == "shortfall" and got["failure"] is None
    ex = got["plan"]["explanations"]
    assert len(ex) == 31
    ash = next(e for e in ex if (e["municipality"], e["item"]) == ("ashford", "electricity"))
    assert ash["stage"] == "needs:tier3"
    assert ash["limited_by"][0]["where"] == "limit co2 in lower"
    assert "Lower Valley District's CO2 cap (7,000 t) is fully used" in ash["text"]


def test_conflict_proposal_approval_and_a_feasible_plan(world):
    c = world.client
    conflicting_mandates(world)
    got = world.plan()
    assert got["status"] == "infeasible"
    assert got["failure"].startswith("The scenario's hard constraints cannot all hold")
    plan = got["plan"]
    assert plan["conflicts"] == [
        "mandate min_local_share vegetables of elmstead",
        "mandate max_labour_share of elmstead",
    ]
    (edit,) = plan["reconciliation"]
    assert edit["text"] == "raise Elmstead's max_labour_share from 0.001 to 0.00175"

    # only a coordinator of the plan's confederation proposes
    pid = got["id"]
    assert (
        c.post(f"/plans/{pid}/reconciliations", headers=world.h["assembly:elmstead"]).status_code
        == 403
    )
    r = c.post(f"/plans/{pid}/reconciliations", headers=world.h["coord:valley"])
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["state"] == "open" and rec["assemblies"] == {"elmstead": None}
    url = f"/reconciliations/{rec['id']}/decisions"
    body = {"municipality": "elmstead", "decision": "approve"}
    # nobody decides for Elmstead's assembly: not another town, a coordinator or an admin
    for who in ("assembly:ashford", "coord:valley", "admin"):
        assert c.post(url, json=body, headers=world.h[who]).status_code == 403, who
    assert (
        c.post(
            url, json={**body, "municipality": "ashford"}, headers=world.h["assembly:ashford"]
        ).status_code
        == 404
    )
    assert (
        c.post(
            url, json={**body, "decision": "maybe"}, headers=world.h["assembly:elmstead"]
        ).status_code
        == 422
    )
    r = c.post(url, json=body, headers=world.h["assembly:elmstead"])
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "applied"
    assert c.post(url, json=body, headers=world.h["assembly:elmstead"]).status_code == 409

    mandates = c.get(
        "/municipalities/elmstead/mandates", headers=world.h["assembly:elmstead"]
    ).json()
    share = next(m for m in mandates["data"] if m["kind"] == "max_labour_share")
    assert share["value"] == pytest.approx(0.00175)
    log = c.get("/audit", params={"resource": "mandates"}, headers=world.h["admin"]).json()
    entry = next(e for e in log["data"] if e["action"] == "reconcile")
    assert entry["before"]["value"] == pytest.approx(0.001) and entry["after"][
        "value"
    ] == pytest.approx(0.00175)
    assert world.plan()["status"] in ("optimal", "shortfall")
    shown = c.get(f"/plans/{pid}", headers=world.h["coord:valley"]).json()
    assert shown["reconciliations"][0]["state"] == "applied"


def test_one_rejection_rejects(world):
    c = world.client
    conflicting_mandates(world)
    pid = world.plan()["id"]
    rec = c.post(f"/plans/{pid}/reconciliations", headers=world.h["coord:valley"]).json()
    r = c.post(
        f"/reconciliations/{rec['id']}/decisions",
        json={"municipality": "elmstead", "decision": "reject"},
        headers=world.h["assembly:elmstead"],
    )
    assert r.json()["state"] == "rejected"
    assert world.plan()["status"] == "infeasible"


def test_a_solved_plan_has_nothing_to_reconcile(world):
    pid = world.plan()["id"]
    r = world.client.post(f"/plans/{pid}/reconciliations", headers=world.h["coord:valley"])
    assert r.status_code == 409


def test_a_lifted_ban_is_deleted_and_audited(world):
    """The apply step of an edit that lifts a ban (field ``active``): the mandate row goes,
    its old row stays in the audit log."""
    from api.orm import Reconciliation

    pid = world.plan()["id"]
    where = {"municipality": "elmstead", "kind": "forbid_process", "target": "grain_intensive"}
    edit = {"kind": "mandate", "where": where, "field": "active", "from": 1.0, "to": 0.0}
    with world.session() as s:
        rec = Reconciliation(
            scenario_id="valley",
            confederation="valley",
            plan_id=pid,
            edits=[{**edit, "municipalities": ["elmstead"], "text": "lift the ban"}],
            state="open",
            actor="test",
        )
        s.add(rec)
        s.commit()
        rid = rec.id
    c, h = world.client, world.h["assembly:elmstead"]
    r = c.post(
        f"/reconciliations/{rid}/decisions",
        json={"municipality": "elmstead", "decision": "approve"},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["state"] == "applied", r.text
    kinds = [
        m["kind"] for m in c.get("/municipalities/elmstead/mandates", headers=h).json()["data"]
    ]
    assert "forbid_process" not in kinds
    log = c.get("/audit", params={"resource": "mandates"}, headers=world.h["admin"]).json()
    entry = next(e for e in log["data"] if e["action"] == "reconcile")
    assert entry["key"] == "elmstead/forbid_process/grain_intensive" and entry["after"] is None

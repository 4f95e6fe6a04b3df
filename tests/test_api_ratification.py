"""Ratification (all citizens count together; the town count beside it) and delegates."""

from __future__ import annotations

pytest_plugins = ["api_fixtures"]

POP = {
    "ashford": 3200,
    "birchwood": 900,
    "cedar_falls": 1400,
    "dunmore": 4200,
    "elmstead": 700,
    "fernhill": 1600,
}


def vote(w, plan_id, town, yes, no, abstain=0):
    return w.client.put(
        f"/plans/{plan_id}/tallies/{town}",
        json={"yes": yes, "no": no, "abstain": abstain},
        headers=w.h[f"assembly:{town}"],
    )


def test_citizens_decide_not_towns(world):
    plan = world.plan()["id"]
    # Dunmore (4200) and Ashford (3200) vote yes; the four smaller towns vote no.
    for town, (yes, no) in {
        "ashford": (3000, 100),
        "dunmore": (4000, 100),
        "birchwood": (100, 700),
        "cedar_falls": (100, 1200),
        "elmstead": (100, 500),
    }.items():
        r = vote(world, plan, town, yes, no)
        assert r.status_code == 200 and r.json()["state"] == "open"
    r = vote(world, plan, "fernhill", 100, 1400, 50)
    body = r.json()
    assert body["state"] == "adopted"
    assert body["citizens"] == {
        "yes": 7400,
        "no": 4000,
        "abstain": 50,
        "cast": 11400,
        "population": 12000.0,
        "majority": True,
    }
    assert (
        body["towns"]["for"] == 2
        and body["towns"]["against"] == 4
        and body["towns"]["majority"] is False
    )
    assert vote(world, plan, "fernhill", 1, 1).status_code == 409  # the count is final
    assert (
        world.client.get(f"/plans/{plan}", headers=world.h["analyst"]).json()["ratification"][
            "state"
        ]
        == "adopted"
    )
    audit = world.client.get("/audit?resource=plans", headers=world.h["analyst"]).json()["data"]
    assert audit[0]["action"] == "adopted"


def test_rejection_and_ties(world):
    plan = world.plan()["id"]
    for town in POP:
        vote(world, plan, town, 10, 10)
    r = world.client.get(f"/plans/{plan}/ratification", headers=world.h["analyst"])
    assert r.json()["state"] == "rejected" and r.json()["towns"]["tied"] == 6


def test_tally_errors(world):
    plan = world.plan()["id"]
    r = vote(world, plan, "elmstead", 600, 100, 1)
    assert r.status_code == 422 and "population" in r.json()["detail"]
    assert vote(world, plan, "elmstead", -1, 0).status_code == 422
    r = world.client.put(
        f"/plans/{plan}/tallies/elmstead",
        json={"yes": 1, "no": 1},
        headers=world.h["assembly:dunmore"],
    )
    assert r.status_code == 403
    r = world.client.put(
        f"/plans/{plan}/tallies/nowhere", json={"yes": 1, "no": 1}, headers=world.h["admin"]
    )
    assert r.status_code == 404
    assert (
        world.client.put(
            "/plans/999/tallies/elmstead", json={"yes": 1, "no": 1}, headers=world.h["admin"]
        ).status_code
        == 404
    )
    assert vote(world, plan, "elmstead", 300, 100).json()["tallies"][4]["yes"] == 300
    assert (
        vote(world, plan, "elmstead", 200, 100).json()["tallies"][4]["yes"] == 200
    )  # corrected while open
    upper = world.plan("upper", "coord:upper")["id"]
    assert (
        vote(world, upper, "dunmore", 1, 1).status_code == 404
    )  # not a member of that plan's confederation
    queued = world.client.post(
        "/confederations/valley/plans", json={}, headers=world.h["coord:valley"]
    ).json()["plan"]["id"]
    assert vote(world, queued, "elmstead", 1, 1).status_code == 409
    assert world.client.get("/plans/999/ratification", headers=world.h["admin"]).status_code == 404


def test_delegates_are_named_and_recalled_by_their_assembly(world):
    c = world.client
    h = world.h["assembly:cedar_falls"]
    body = {"name": "Cora", "confederation": "valley"}
    r = c.post("/municipalities/cedar_falls/delegates", json=body, headers=h)
    assert r.status_code == 403  # the council above is reached through the council below
    r = c.post("/municipalities/cedar_falls/delegates", json=body, headers=world.h["coord:upper"])
    assert r.status_code == 201 and r.json()["active"]
    cora = r.json()["id"]
    r = c.post(f"/delegates/{cora}/tokens", json={"label": "Cora's laptop"}, headers=h)
    assert (
        r.status_code == 201
        and r.json()["confederation"] == "valley"
        and r.json()["role"] == "coordinator"
    )
    token = {"Authorization": f"Bearer {r.json()['token']}"}
    assert c.get("/me", headers=token).json()["delegate_id"] == cora
    assert (
        c.patch("/scenarios/valley/items/bread", json={"name": "Loaf"}, headers=token).status_code
        == 200
    )
    assert (
        c.post(f"/delegates/{cora}/recall", headers=world.h["assembly:ashford"]).status_code == 403
    )
    r = c.post(f"/delegates/{cora}/recall", headers=h)
    assert r.status_code == 200 and r.json()["recalled_at"] and not r.json()["active"]
    r = c.patch("/scenarios/valley/items/bread", json={"name": "Bread"}, headers=token)
    assert r.status_code == 401 and "recalled" in r.json()["detail"]  # at once
    assert c.post(f"/delegates/{cora}/recall", headers=h).status_code == 409
    assert c.post(f"/delegates/{cora}/tokens", json={}, headers=h).status_code == 409
    assert c.get(f"/delegates/{cora}", headers=h).json()["name"] == "Cora"
    assert c.get("/delegates?active=false", headers=h).json()["count"] == 1
    assert (
        c.get("/municipalities/cedar_falls/delegates?active=true", headers=h).json()["count"] == 0
    )


def test_delegate_errors(world):
    c, h = world.client, world.h["assembly:ashford"]
    r = c.post(
        "/municipalities/ashford/delegates", json={"name": "X", "confederation": "lower"}, headers=h
    )
    assert r.status_code == 422  # ashford does not belong to lower
    assert (
        c.post("/municipalities/nowhere/delegates", json={"name": "X"}, headers=h).status_code
        == 404
    )
    assert c.post("/municipalities/ashford/delegates", json={}, headers=h).status_code == 422
    r = c.post("/municipalities/ashford/delegates", json={"name": "Al"}, headers=h)
    assert r.json()["confederation"] == "upper"
    assert c.get("/delegates/999", headers=h).status_code == 404
    assert c.post("/delegates/999/recall", headers=h).status_code == 404
    assert c.post("/delegates/999/tokens", json={}, headers=h).status_code == 422
    assert c.get("/delegates?confederation=upper", headers=h).json()["count"] == 2


def test_coordinator_scope_follows_the_delegate(world):
    """A delegate to ``upper`` coordinates upper's subtree only."""
    c, h = world.client, world.h["coord:upper"]
    assert (
        c.patch("/municipalities/cedar_falls", json={"population": 1500}, headers=h).status_code
        == 200
    )
    assert c.patch("/municipalities/dunmore", json={"population": 1}, headers=h).status_code == 403
    assert c.post("/confederations/lower/plans", json={}, headers=h).status_code == 403

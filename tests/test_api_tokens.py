"""Tokens (hashed, revocable), the acting principal, the append-only audit log, 401 paths."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.orm import Token
from api.security import hash_token

pytest_plugins = ["api_fixtures"]


def test_me_and_401s(world):
    c = world.client
    assert c.get("/me", headers=world.h["assembly:ashford"]).json()["municipality"] == "ashford"
    for bad in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer"},
    ):
        r = c.get("/me", headers=bad)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_tokens_are_stored_hashed(world):
    r = world.client.post(
        "/tokens", json={"role": "analyst", "label": "x"}, headers=world.h["admin"]
    )
    secret = r.json()["token"]
    with world.session() as s:
        row = s.get(Token, r.json()["id"])
        assert row.token_hash == hash_token(secret) and secret not in repr(row.__dict__)


def test_token_routes(world):
    c, admin = world.client, world.h["admin"]
    r = c.post("/tokens", json={"role": "assembly", "municipality": "elmstead"}, headers=admin)
    assert r.status_code == 201
    tid, secret = r.json()["id"], r.json()["token"]
    assert c.get("/me", headers={"Authorization": f"Bearer {secret}"}).json()["role"] == "assembly"
    assert c.post("/tokens", json={"role": "assembly"}, headers=admin).status_code == 422
    assert (
        c.post(
            "/tokens", json={"role": "assembly", "municipality": "nope"}, headers=admin
        ).status_code
        == 422
    )
    assert c.post("/tokens", json={"role": "coordinator"}, headers=admin).status_code == 422
    assert c.post("/tokens", json={"role": "king"}, headers=admin).status_code == 422
    r = c.post(
        "/tokens",
        json={"role": "coordinator", "delegate_id": world.delegate_ids["lower"]},
        headers=admin,
    )
    assert r.status_code == 201 and r.json()["confederation"] == "lower"
    assert c.get("/tokens", headers=admin).json()["count"] == 13
    assert c.get("/tokens", headers=world.h["analyst"]).json()["count"] == 1
    assert c.delete(f"/tokens/{tid}", headers=admin).json()["revoked_at"]
    r = c.get("/me", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert c.delete("/tokens/9999", headers=admin).status_code == 404
    own = c.get("/me", headers=world.h["analyst"]).json()["token_id"]
    assert c.delete(f"/tokens/{own}", headers=world.h["analyst"]).status_code == 200


def test_an_assembly_revokes_its_delegates_tokens(world):
    c = world.client
    tok = c.post(
        f"/delegates/{world.delegate_ids['lower']}/tokens",
        json={},
        headers=world.h["assembly:dunmore"],
    ).json()
    assert c.delete(f"/tokens/{tok['id']}", headers=world.h["assembly:fernhill"]).status_code == 403
    assert c.delete(f"/tokens/{tok['id']}", headers=world.h["assembly:dunmore"]).status_code == 200


def test_audit_log(world):
    c, h = world.client, world.h["assembly:ashford"]
    row = c.get("/municipalities/ashford/needs?limit=1", headers=h).json()["data"][0]
    c.patch(
        f"/municipalities/ashford/needs/{row['id']}",
        json={"quantity": 7},
        headers={**h, "If-Match": "*"},
    )
    r = c.get("/audit?resource=needs&scenario=valley", headers=world.h["analyst"])
    entry = r.json()["data"][0]
    assert entry["action"] == "update" and entry["actor"].startswith("assembly:ashford")
    assert entry["before"]["per_capita"] == row["per_capita"] and entry["after"]["quantity"] == 7
    assert c.get(f"/audit/{entry['id']}", headers=h).json()["key"] == entry["key"]
    assert c.get("/audit/99999", headers=h).status_code == 404
    assert c.get("/audit?actor=assembly:ashford", headers=h).json()["count"] == 1
    assert c.get(f"/audit?key={entry['key']}", headers=h).json()["count"] == 1
    assert c.get("/audit?limit=2&offset=1", headers=h).json()["limit"] == 2
    assert c.get("/audit").status_code == 401


def test_the_database_refuses_to_change_the_audit_log(world):
    world.client.patch("/scenarios/valley", json={"period": "2031"}, headers=world.h["admin"])
    for sql in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with world.session() as s, pytest.raises(DBAPIError, match="append-only"):
            s.execute(text(sql))
            s.commit()

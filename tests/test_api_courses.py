"""Courses of action through the API: request, side by side, mandate costs, the vote."""

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


def courses(w, tmp_path, count=3, who="coord:valley") -> dict:
    w.app.state.settings.batch_workers = 0
    w.app.state.settings.batch_journal_dir = str(tmp_path / "batches")
    r = w.client.post("/confederations/valley/courses", json={"count": count}, headers=w.h[who])
    assert r.status_code == 202, r.text
    assert r.headers["Location"] == f"/courses/{r.json()['plan']['id']}"
    assert w.run_jobs() == 1
    got = w.client.get(r.headers["Location"], headers=w.h["analyst"])
    assert got.status_code == 200, got.text
    return got.json()


def vote(w, plan_id, town, votes, abstain=0):
    return w.client.put(
        f"/courses/{plan_id}/votes/{town}",
        json={"votes": votes, "abstain": abstain},
        headers=w.h[f"assembly:{town}"],
    )


def test_courses_side_by_side_with_mandate_costs(world, tmp_path):
    body = courses(world, tmp_path)
    assert body["status"] == "shortfall" and body["purpose"] == "courses"
    side = body["courses"]
    assert [c["course"] for c in side] == [0, 1, 2, 3]
    assert side[0]["distance"] == 0 and all(c["distance"] > 0 for c in side[1:])
    assert len({c["description"] for c in side}) == 4
    costs = {c["mandate"]["where"]: c["text"] for c in body["mandate_costs"]}
    assert any(
        "Birchwood's max_export of timber costs" in t
        for t in costs["max_export timber of birchwood"]
    )
    full = world.client.get(f"/courses/{body['id']}/courses/2", headers=world.h["analyst"]).json()
    assert full["course"] == 2 and full["deliveries"] and full["production"]
    assert (
        world.client.get(f"/courses/{body['id']}/courses/9", headers=world.h["analyst"]).status_code
        == 404
    )
    # the batch journalled its plans: a rerun of the job would resume from it
    assert (tmp_path / "batches" / f"plan-{body['id']}.jsonl").exists()
    plain = world.client.get(f"/plans/{body['id']}", headers=world.h["analyst"])
    assert plain.status_code == 200 and plain.json()["plan"]["courses"]
    assert body["what_ifs"] and "checked by re-solve" in body["what_ifs"][0]["text"]


def test_citizens_choose_a_course_town_count_beside(world, tmp_path):
    plan = courses(world, tmp_path, count=2)["id"]
    # the big towns want course 2; the four small towns want the optimal plan
    ballots = {
        "ashford": [100, 200, 2800],
        "dunmore": [100, 100, 3900],
        "birchwood": [600, 100, 100],
        "cedar_falls": [1000, 200, 100],
        "elmstead": [500, 100, 50],
    }
    for town, v in ballots.items():
        r = vote(world, plan, town, v)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "open"
    r = vote(world, plan, "fernhill", [1200, 100, 100], abstain=50)
    body = r.json()
    assert body["state"] == "chosen"
    assert body["citizens"]["votes"] == [3500, 800, 7050]
    assert body["citizens"]["choice"] == 2 and body["citizens"]["majority"] is True
    assert body["towns"]["choices"] == [4, 0, 2]  # towns would have chosen the optimal plan
    assert vote(world, plan, "fernhill", [1, 1, 1]).status_code == 409  # the count is final
    got = world.client.get(f"/courses/{plan}", headers=world.h["analyst"]).json()
    assert got["vote"]["state"] == "chosen"


def test_vote_errors_and_rights(world, tmp_path):
    plan = courses(world, tmp_path, count=1)["id"]
    r = vote(world, plan, "elmstead", [600, 100], abstain=1)
    assert r.status_code == 422 and "population" in r.text
    assert vote(world, plan, "elmstead", [1, 1, 1]).status_code == 422  # 3 numbers, 2 options
    r = world.client.put(
        f"/courses/{plan}/votes/elmstead",
        json={"votes": [1, 1]},
        headers=world.h["assembly:dunmore"],
    )
    assert r.status_code == 403
    r = world.client.post(
        "/confederations/valley/courses", json={"count": 3}, headers=world.h["assembly:dunmore"]
    )
    assert r.status_code == 403
    r = world.client.post(
        "/confederations/valley/courses", json={"count": 0}, headers=world.h["coord:valley"]
    )
    assert r.status_code == 422
    r = world.client.post(
        "/confederations/valley/courses",
        json={"count": 2, "time_limit": 99999},
        headers=world.h["coord:valley"],
    )
    assert r.status_code == 422 and "time_limit" in r.text
    ordinary = world.plan()["id"]
    assert world.client.get(f"/courses/{ordinary}", headers=world.h["analyst"]).status_code == 404


def test_which_jobs_start_local_processes():
    from api.worker import _needs_pool

    assert not _needs_pool(None)
    assert _needs_pool({"workers": None, "scheduler": None})
    assert _needs_pool({"workers": 2, "scheduler": "local"})
    assert not _needs_pool({"workers": 0, "scheduler": None})
    assert not _needs_pool({"workers": None, "scheduler": "tcp://10.0.0.1:8786"})

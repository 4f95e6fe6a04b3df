"""Issue 15 on the pages: every problem at once, European CSV, the frictions seen on the pages."""

from __future__ import annotations

from tests.test_web import etag_of, problems, template, text_of  # noqa: F401 - a fixture
from tests.test_web import web as web  # noqa: F401 - the fixture


def test_the_edit_table_reports_cell_and_scenario_problems_at_once(web):
    client = web.as_("assembly:ashford")
    page = client.get("/web/municipalities/ashford").text
    form = {"etag": etag_of(page, "ashford", "endowments")}
    form |= {"row-1-item": "flour", "row-1-quantity": "20"}
    form |= {"row-2-item": "flourr", "row-2-quantity": "5"}  # unknown item
    form |= {"row-3-item": "water", "row-3-quantity": "lots"}  # not a number
    r = client.post("/web/municipalities/ashford/endowments", data=form)
    assert r.status_code == 422
    assert problems(r.text) == [
        "row 2: item: unknown item 'flourr' (did you mean 'flour'?)",
        "row 3: quantity: not a number: 'lots'",
    ]
    assert 'value="lots"' in r.text and 'value="flourr"' in r.text  # nothing typed is lost


def test_a_semicolon_upload_with_decimal_commas_is_saved_with_a_note(web):
    client = web.as_("assembly:ashford")
    page = client.get("/web/municipalities/ashford").text
    sheet = "municipality;item;quantity\nashford;flour;20,5\nashford;water;150\n"
    r = client.post(
        "/web/municipalities/ashford/endowments/upload",
        files={"file": ("endowments.csv", sheet.encode(), "text/csv")},
        data={"etag": etag_of(page, "ashford", "endowments")},
    )
    assert r.status_code == 200, problems(r.text)
    text = text_of(r.text)
    assert "Saved. Endowments now has 2 rows." in text
    assert "with decimal commas ('20,5' read as 20.5)" in text
    csv = client.get("/web/municipalities/ashford/endowments.csv").text.splitlines()
    assert csv == ["municipality,item,quantity", "ashford,flour,20.5", "ashford,water,150"]


def test_the_vote_form_keeps_what_was_typed_and_shows_the_recorded_tally(web):
    client = web.as_("assembly:elmstead")
    r = client.post(
        "/web/plans/1/tally", data={"town": "elmstead", "yes": "12x", "no": "-3", "abstain": "4"}
    )
    assert r.status_code == 422
    assert problems(r.text) == [
        "tally:0: yes: not a whole number: '12x'",
        "tally:0: no: must not be negative (got -3)",
    ]
    for field, value in (("yes", "12x"), ("no", "-3"), ("abstain", "4")):
        assert (
            f'name="{field}" type="number" min="0" step="1" inputmode="numeric" value="{value}"'
            in r.text
        )
    r = client.post("/web/plans/1/tally", data={"town": "elmstead", "yes": "500", "no": "300"})
    assert r.status_code == 422 and "more than elmstead's population" in text_of(r.text)
    assert 'value="500"' in r.text and 'value="300"' in r.text
    client.post(
        "/web/plans/1/tally", data={"town": "elmstead", "yes": "40", "no": "10", "abstain": "5"}
    )
    page = client.get("/web/plans/1?town=elmstead").text
    for field, value in (("yes", "40"), ("no", "10"), ("abstain", "5")):
        assert (
            f'name="{field}" type="number" min="0" step="1" inputmode="numeric" value="{value}"'
            in page
        )


def test_a_plan_of_a_changed_scenario_warns_and_takes_no_vote(web):
    client = web.as_("assembly:elmstead")
    page = client.get("/web/plans/1?town=elmstead").text
    assert 'id="input-changed"' not in page and 'action="/web/plans/1/tally"' in page
    admin = {"Authorization": f"Bearer {web.secrets['admin']}"}
    r = client.patch("/municipalities/elmstead", json={"population": 701}, headers=admin)
    assert r.status_code == 200, r.text
    page = client.get("/web/plans/1?town=elmstead").text
    assert 'id="input-changed"' in page
    assert "The scenario has changed since this plan was made." in text_of(page)
    assert 'action="/web/plans/1/tally"' not in page


def test_the_compare_form_starts_at_the_root_confederation(web):
    page = web.as_("analyst").get("/web/compare").text
    assert '<option value="valley" selected>' in page
    page = web.as_("coord:lower").get("/web/compare").text
    assert '<option value="lower" selected>' in page


def test_a_finished_job_shows_no_stale_progress(web):
    from api.services import queue

    client = web.as_("coord:valley")
    client.post("/web/confederations/valley/plans", data={"rule": "utilitarian"})
    with web.app.state.sessions() as s:  # a worker takes the job and reports a stage
        claim = queue.claim(s, "test-worker")
        queue.heartbeat(s, claim, "stage needs:tier1")
    assert client.get("/web/plans/2/status").json()["job"]["progress"] == "stage needs:tier1"
    with web.app.state.sessions() as s:
        queue.finish(s, claim, "error", None, "stopped for the test", "failed")
    status = client.get("/web/plans/2/status").json()
    assert status["final"] is True and status["job"]["progress"] == ""
    api = {"Authorization": f"Bearer {web.secrets['coord:valley']}"}
    assert client.get("/plans/2", headers=api).json()["job"]["progress"] == ""


def test_who_requested_a_plan_reads_as_a_name(web):
    client = web.as_("coord:valley")
    client.post("/web/confederations/valley/plans", data={"rule": "utilitarian"})
    web.run_jobs()
    text = text_of(client.get("/web/plans/2").text)
    assert "By Coordinator of Green Valley Confederation" in text
    assert "#" not in text.split("By ", 1)[1].split("Input", 1)[0]
    page = text_of(client.get("/web/confederations/valley").text)
    assert "coordinator:valley" not in page and "Coordinator of Green Valley Confederation" in page
    plans = text_of(client.get("/web/plans").text)
    assert "coordinator:valley" not in plans


def test_a_utilitarian_plan_does_not_speak_of_leximin(web):
    client = web.as_("coord:valley")
    client.post("/web/confederations/valley/plans", data={"rule": "utilitarian"})
    web.run_jobs()
    text = text_of(client.get("/web/plans/2").text)
    assert "leximin raises first" not in text and "utilitarian rule" in text
    assert "leximin raises first" in text_of(client.get("/web/plans/1").text)


def test_labour_values_read_per_one_unit():
    from api.web.format import per_unit

    assert per_unit(0.22, "child-hours") == "0.22\u00a0h per child-hour"
    assert per_unit(0.22, "care hours") == "0.22\u00a0h per care hour"
    assert per_unit(84.8, "t") == "84.8\u00a0h per t"
    assert per_unit(3, "hours per child") == "3\u00a0h per unit (hours per child)"


def test_a_plan_without_needs_shows_an_empty_state(web):
    client = web.as_("coord:valley")
    for town in ("ashford", "birchwood", "cedar_falls", "dunmore", "elmstead", "fernhill"):
        own = {"Authorization": f"Bearer {web.secrets[f'assembly:{town}']}", "If-Match": "*"}
        r = client.put(f"/municipalities/{town}/needs", json=[], headers=own)
        assert r.status_code == 200, r.text
    client.post("/web/confederations/valley/plans", data={"rule": "leximin"})
    assert web.run_jobs() == 1
    page = client.get("/web/plans/2").text
    assert 'id="no-needs"' in page and "nothing to satisfy" in text_of(page)
    assert '<caption id="sat-caption">' not in page
    conf = client.get("/web/confederations/valley?plan=2").text
    assert 'id="no-needs"' in conf

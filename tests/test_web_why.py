"""The plan page explains short needs, shows an infeasible plan's minimal conflict, and
carries the reconciliation from proposal through each assembly's approval to a new plan."""

from __future__ import annotations

import re

from tests import test_web
from tests.test_web import text_of

template, web = test_web.template, test_web.web  # the same fixtures: the valley and one plan

H = "Authorization"


def make_conflict(web) -> None:
    """Elmstead's assembly (through the API, with its token): at most 0.1% of its labour,
    and half its vegetables grown at home."""
    c, h = web.client, {H: f"Bearer {web.secrets['assembly:elmstead']}"}
    rows = c.get("/municipalities/elmstead/mandates", headers=h).json()["data"]
    share = next(m for m in rows if m["kind"] == "max_labour_share")
    r = c.patch(
        f"/municipalities/elmstead/mandates/{share['id']}", json={"value": 0.001}, headers=h
    )
    assert r.status_code == 200, r.text
    body = {"kind": "min_local_share", "target": "vegetables", "value": 0.5}
    assert c.post("/municipalities/elmstead/mandates", json=body, headers=h).status_code == 201


def test_an_assembly_reads_why_its_needs_are_short(web):
    client = web.as_("assembly:ashford")
    page = client.get("/web/plans/1").text
    text = text_of(page)
    assert "Why some of Ashford's needs are short" in text
    assert (
        "Ashford's desired electricity is at 34%: the Lower Valley District's CO2 cap (7,000 t) "
        "is fully used; each 100 t more would raise it by about 0.67 points"
    ) in text
    assert page.count('<li class="why"') == 5  # electricity, building, repair, transit, vegetables
    assert "<summary>The numbers</summary>" in page and "limit co2 in lower" in text
    assert 'href="#why"' in page


def test_conflict_proposal_approvals_and_a_feasible_plan(web):
    make_conflict(web)
    coord = web.as_("coord:valley")
    r = coord.post(
        "/web/confederations/valley/plans", data={"rule": "leximin"}, follow_redirects=False
    )
    assert r.status_code == 303
    web.run_jobs()
    page = coord.get("/web/plans/2").text
    text = text_of(page)
    assert "The scenario's hard constraints cannot all hold" in text
    assert "Why this plan could not be made" in text
    assert page.count('<li class="conflict">') == 2
    assert "Elmstead's mandate to give at most 0.1% of its labour hours (560 h)" in text
    assert "flow bread" not in text
    assert "raise Elmstead's max_labour_share from 0.001 to 0.00175" in text
    assert 'action="/web/plans/2/reconciliations"' in page
    # an assembly cannot propose
    elm = web.as_("assembly:elmstead")
    assert 'action="/web/plans/2/reconciliations"' not in elm.get("/web/plans/2").text
    assert elm.post("/web/plans/2/reconciliations").status_code == 403
    coord = web.as_("coord:valley")
    r = coord.post("/web/plans/2/reconciliations", follow_redirects=False)
    assert r.status_code == 303
    page = coord.get(r.headers["location"]).text
    assert "Proposal 1" in text_of(page) and "not yet decided" in text_of(page)
    assert 'action="/web/reconciliations/1/decide"' not in page  # the coordinator does not decide
    assert (
        coord.post(
            "/web/reconciliations/1/decide", data={"town": "elmstead", "decision": "approve"}
        ).status_code
        == 403
    )
    elm = web.as_("assembly:elmstead")
    home = text_of(elm.get("/web/municipalities/elmstead").text)
    assert (
        "Waiting for Elmstead's decision: Reconciliation 1 of plan 2 : "
        "raise Elmstead's max_labour_share from 0.001 to 0.00175"
    ) in home
    page = elm.get("/web/plans/2").text
    assert 'action="/web/reconciliations/1/decide"' in page
    r = elm.post(
        "/web/reconciliations/1/decide",
        data={"town": "elmstead", "decision": "approve"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = elm.get(r.headers["location"]).text
    assert "Approved by every assembly concerned and made." in text_of(page)
    coord = web.as_("coord:valley")
    page = coord.get("/web/plans/2").text
    assert re.search(r'action="/web/confederations/valley/plans"', page)
    coord.post("/web/confederations/valley/plans", data={"rule": "leximin"})
    web.run_jobs()
    assert coord.get("/web/plans/3/status").json()["status"] in ("optimal", "shortfall")


def test_a_failed_plan_says_why_in_words(web, monkeypatch):
    import api.worker

    def broken(*a, **k):
        raise RuntimeError("HiGHS returned garbage")

    monkeypatch.setattr(api.worker, "solve_document", broken)
    coord = web.as_("coord:valley")
    coord.post("/web/confederations/valley/plans", data={"rule": "leximin"})
    web.run_jobs()
    text = text_of(coord.get("/web/plans/2").text)
    assert (
        "The solver failed: HiGHS returned garbage (the details are in the worker's log)." in text
    )
    assert "Traceback" not in text
    api_view = coord.get("/plans/2", headers={H: f"Bearer {web.secrets['coord:valley']}"}).json()
    assert api_view["failure"].startswith("The solver failed: HiGHS returned garbage")


def test_a_time_limit_says_so(web):
    """A plan that ran out of time (as the worker records it) says so in words."""
    from api.orm import PlanRow

    coord = web.as_("coord:valley")
    coord.post("/web/confederations/valley/plans", data={"rule": "leximin"})
    with web.app.state.sessions() as s:
        plan = s.get(PlanRow, 2)
        plan.status, plan.message = "time_limit", "stage needs:tier3: Time limit reached"
        s.commit()
    text = text_of(coord.get("/web/plans/2").text)
    assert (
        "The time limit ran out before the plan was made; ask for a longer time limit "
        "(stage needs:tier3: Time limit reached)."
    ) in text

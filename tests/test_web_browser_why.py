"""In a real browser (as tests/test_web_browser.py): an assembly reads why its needs are short;
an infeasible plan's conflict goes from the coordinator's proposal through the assembly's
approval to a feasible plan. Screenshots in tests/artifacts/why-*.png."""

from __future__ import annotations

import re

import httpx
import pytest
import test_web_browser as wb

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(420)]

server, browser = wb.server, wb.browser  # the same fixtures: a fresh server for this module


def test_valley_short_needs_are_explained_on_the_plan_page(browser, server):
    from playwright.sync_api import expect

    town = wb.Visit(browser, server)
    page = town.page
    town.sign_in("assembly:ashford")
    page.goto("/web/plans/1?town=ashford")
    why = page.locator("#why")
    expect(why.get_by_role("heading", name="Why some of Ashford's needs are short")).to_be_visible()
    expect(why.locator("li.why")).to_have_count(5)
    electricity = why.locator("li.why").filter(has_text="Ashford's desired electricity is at 34%")
    expect(electricity).to_contain_text(
        "the Lower Valley District's CO2 cap (7,000 t) is fully used; "
        "each 100 t more would raise it by about 0.67 points"
    )
    numbers = electricity.locator("details")
    expect(numbers.locator("table")).not_to_be_visible()  # the numbers wait behind a disclosure
    numbers.locator("summary").click()
    expect(numbers.locator("table")).to_contain_text("limit co2 in lower")
    why.scroll_into_view_if_needed()
    town.shot("why-01-explained.png")
    town.close()

    phone = wb.Visit(browser, server, width=390, height=844)  # the same at phone width
    phone.sign_in("assembly:elmstead")
    phone.page.goto("/web/plans/1?town=elmstead")
    care = phone.page.locator("#why li.why").filter(
        has_text="Elmstead's desired child care is at 18%"
    )
    expect(care).to_contain_text("Elmstead's mandate to give at most 8.5% of its labour hours")
    care.locator("summary").click()
    expect(care.locator("table")).to_contain_text("max_labour_share of elmstead")
    care.scroll_into_view_if_needed()
    phone.page.screenshot(path=str(wb.ARTIFACTS / "why-01b-phone.png"))
    phone.close()


def test_conflict_proposal_approval_and_feasible_plan(browser, server):
    from playwright.sync_api import expect

    # Elmstead's assembly gives at most 0.1% of its labour yet wants half its vegetables grown
    # at home (980 h): the plan cannot be made
    h = {"Authorization": f"Bearer {server.secrets['assembly:elmstead']}"}
    base = f"{server.base}/municipalities/elmstead/mandates"
    share = next(
        m for m in httpx.get(base, headers=h).json()["data"] if m["kind"] == "max_labour_share"
    )
    assert httpx.patch(f"{base}/{share['id']}", json={"value": 0.001}, headers=h).status_code == 200
    body = {"kind": "min_local_share", "target": "vegetables", "value": 0.5}
    assert httpx.post(base, json=body, headers=h).status_code == 201

    coord = wb.Visit(browser, server)
    cpage = coord.page
    coord.sign_in("coord:valley")
    cpage.get_by_label("Rule").select_option("leximin")
    cpage.get_by_role("button", name="Run a plan").click()
    plan_id = int(re.search(r"requested=(\d+)", cpage.url).group(1))
    row = cpage.locator(f"#plan-row-{plan_id}")
    expect(row.locator(".badge")).to_have_text("infeasible", timeout=wb.PLAN_WAIT)
    cpage.goto(f"/web/plans/{plan_id}")
    conflicts = cpage.locator("#conflicts")
    expect(conflicts).to_contain_text("Why this plan could not be made")
    expect(conflicts.locator("li.conflict")).to_have_count(2)
    expect(conflicts).to_contain_text("Elmstead's mandate to give at most 0.1% of its labour hours")
    expect(conflicts).not_to_contain_text("flow ")
    rec = cpage.locator("#reconcile")
    expect(rec).to_contain_text("raise Elmstead's max_labour_share from 0.001 to 0.00175")
    coord.shot("why-02-conflict.png")
    rec.get_by_role("button", name="Propose this reconciliation to the assemblies").click()
    expect(rec.locator(".proposal")).to_contain_text("not yet decided")
    rec.scroll_into_view_if_needed()
    coord.shot("why-03-proposed.png")

    town = wb.Visit(browser, server)
    page = town.page
    town.sign_in("assembly:elmstead")  # its own page says a decision is waiting
    waiting = page.locator("#pending-reconciliations")
    expect(waiting).to_contain_text("Waiting for Elmstead's decision")
    town.shot("why-04a-waiting.png")
    waiting.get_by_role("link", name=re.compile("Reconciliation")).click()
    expect(page).to_have_url(re.compile(rf"/web/plans/{plan_id}\?town=elmstead"))
    form = page.locator(".decide-form")
    expect(form).to_contain_text("raise Elmstead's max_labour_share from 0.001 to 0.00175")
    town.shot("why-04-decide.png")
    form.get_by_role("button", name="Approve our part").click()
    expect(page.locator("#reconcile")).to_contain_text(
        "Approved by every assembly concerned and made."
    )
    town.shot("why-05-applied.png")
    town.close()
    got = httpx.get(base, headers=h).json()["data"]
    assert next(m for m in got if m["kind"] == "max_labour_share")["value"] == pytest.approx(
        0.00175
    )

    cpage.reload()
    cpage.get_by_role("button", name="Run the plan again").click()
    expect(cpage).to_have_url(re.compile(r"\?requested=\d+"))
    again = int(re.search(r"requested=(\d+)", cpage.url).group(1))
    expect(cpage.locator(f"#plan-row-{again} .badge")).to_have_text(
        re.compile("shortfall|optimal"), timeout=wb.PLAN_WAIT
    )
    coord.shot("why-06-feasible.png")
    coord.close()

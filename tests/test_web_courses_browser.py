"""Courses of action in a real browser: a coordinator asks for them and sees them side by side
with what each mandate costs; an assembly votes among them; the citizens' count decides.

The server, browser and page helper are those of ``test_web_browser`` (the real server and
worker on a free port, Debian's Chromium); screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re

import httpx
import pytest
from test_web_browser import PLAN_WAIT, Visit, browser, server  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(420)]


def test_courses_side_by_side_and_the_vote(browser, server):  # noqa: F811 - fixtures
    from playwright.sync_api import expect

    coord = Visit(browser, server)
    page = coord.page
    coord.sign_in("coord:valley")
    page.get_by_role("link", name="Courses of action, mandate costs and the vote").click()
    expect(page).to_have_url(re.compile(r"/web/confederations/valley/courses$"))
    page.get_by_label("Courses besides the optimal plan").fill("3")
    page.get_by_label("Slack (% of each stage's optimum)").fill("2")
    page.get_by_role("button", name="Find courses of action").click()
    expect(page).to_have_url(re.compile(r"/courses\?plan=\d+$"))
    plan_id = int(re.search(r"plan=(\d+)", page.url).group(1))
    coord.shot("20-courses-running.png")
    table = page.locator("#courses-table")
    expect(table).to_be_visible(timeout=PLAN_WAIT)
    heads = table.locator("thead th")
    expect(heads).to_have_text(["Optimal plan", "Course 1", "Course 2", "Course 3"])
    distances = table.locator("tbody tr").first.locator("td")
    expect(distances.first).to_have_text("0")
    for i in (1, 2, 3):
        assert float(distances.nth(i).inner_text()) > 0
    descriptions = page.locator(".course-descriptions li")
    expect(descriptions).to_have_count(4)
    texts = {descriptions.nth(i).inner_text() for i in range(4)}
    assert len(texts) == 4  # four different courses, in words
    costs = page.locator("#mandate-costs")
    expect(costs).to_contain_text("Birchwood's max_export of timber costs")
    expect(page.locator("#what-ifs")).to_contain_text("checked by re-solve")
    expect(page.get_by_role("button", name="Record the vote")).to_have_count(0)  # not a town's
    coord.shot("21-courses-side-by-side.png")
    coord.close()

    town = Visit(browser, server)
    tpage = town.page
    town.sign_in("assembly:dunmore")
    tpage.goto(f"/web/confederations/valley/courses?plan={plan_id}")
    tpage.get_by_role("spinbutton", name="Optimal plan", exact=True).fill("900")
    tpage.get_by_role("spinbutton", name="Course 1", exact=True).fill("200")
    tpage.get_by_role("spinbutton", name="Course 2", exact=True).fill("2800")
    tpage.get_by_role("spinbutton", name="Course 3", exact=True).fill("100")
    tpage.get_by_role("spinbutton", name="Abstain", exact=True).fill("50")
    tpage.get_by_role("button", name="Record the vote").click()
    expect(tpage.get_by_role("status").filter(has_text="Vote recorded")).to_be_visible()
    row = tpage.locator("#votes-table tbody tr").filter(has_text="Dunmore")
    expect(row).to_contain_text("2,800")
    for other, votes in {
        "ashford": [1500, 300, 1000, 100],
        "birchwood": [500, 100, 100, 100],
        "cedar_falls": [700, 100, 300, 100],
        "elmstead": [400, 100, 100, 50],
        "fernhill": [900, 100, 300, 100],
    }.items():
        r = httpx.put(
            f"{server.base}/courses/{plan_id}/votes/{other}",
            json={"votes": votes, "abstain": 0},
            headers={"Authorization": f"Bearer {server.secrets['assembly:' + other]}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
    tpage.reload()
    vote = tpage.locator("#vote")
    # citizens: 4900 for the optimal plan, 4600 for course 2: the optimal plan is chosen;
    # town by town, five of six towns chose the optimal plan too
    expect(vote.locator(".badge").first).to_have_text("chosen")
    expect(vote).to_contain_text("the optimal plan is chosen")
    expect(tpage.locator("#votes-table tfoot")).to_contain_text("4,900")
    expect(tpage.get_by_role("button", name="Record the vote")).to_have_count(0)
    vote.scroll_into_view_if_needed()
    town.shot("22-courses-voted.png")
    town.close()

    # the mandate's own assembly sees what its mandate costs the others on its page
    birch = Visit(browser, server)
    birch.sign_in("assembly:birchwood")
    bpage = birch.page
    expect(bpage).to_have_url(re.compile(r"/web/municipalities/birchwood$"))
    costs = bpage.locator("#mandate-costs")
    expect(costs).to_contain_text("max_export timber of birchwood")
    expect(costs).to_contain_text("Birchwood's max_export of timber costs Ashford")
    costs.scroll_into_view_if_needed()
    birch.shot("23-mandate-costs-on-assembly-page.png")
    birch.close()

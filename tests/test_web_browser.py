"""End to end in a real browser: Debian's headless Chromium, driven by Playwright for Python.

The real server and worker (``planner serve``) run as subprocesses on a
free 127.0.0.1 port with a temporary SQLite database holding the valley.
An assembly member signs in, uploads a needs sheet with one bad row, sees
that row's error, fixes it and sees the saved needs; a coordinator runs a
plan and watches it complete; the assembly ratifies. Every page is saved
as a screenshot in tests/artifacts/ (desktop and phone width).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from test_web import ROOT, valley_db

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(420)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "tests" / "artifacts"
WAIT = 15_000
"""Milliseconds any single page interaction may take."""
PLAN_WAIT = 150_000
"""Milliseconds a plan (or a comparison) may take from request to completion."""


@dataclass
class Server:
    base: str
    secrets: dict[str, str]
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """``planner serve`` (the API, the pages and one worker) on a fresh database with the valley."""
    tmp = tmp_path_factory.mktemp("web-e2e")
    url = f"sqlite:///{tmp / 'commune.db'}"
    secrets = valley_db(url, plan=True)
    port = _free_port()
    env = {**os.environ, "COMMUNE_DATABASE_URL": url, "COMMUNE_CHECK_PLANS": "1"}
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer within 60 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.25)
        yield Server(base, secrets, log)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # uvicorn stops, then stops its worker
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything of ours left in the session
        except ProcessLookupError:
            pass
        proc.wait(10)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless (installed by ``make install``; never downloaded)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make install` (it installs Debian's chromium package) "
            "to run the browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield b
        finally:
            b.close()


class Visit:
    """A browser context signed in as one principal; collects console and page errors."""

    def __init__(self, browser, server: Server, width: int = 1280, height: int = 900):
        self.server = server
        self.context = browser.new_context(
            base_url=server.base,
            viewport={"width": width, "height": height},
            accept_downloads=True,
        )
        self.context.set_default_timeout(WAIT)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _console(self, message) -> None:
        # a page answered 4xx on purpose (a refused upload is a 422 page) is logged as a
        # failed load; failed sub-resources are caught by _response instead
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console error: {message.text}")

    def _response(self, response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.errors.append(f"{response.status} for {response.url}")

    def sign_in(self, who: str, shot: str | None = None) -> None:
        from playwright.sync_api import expect

        page = self.page
        page.goto("/web/")
        expect(page).to_have_url(re.compile(r"/web/signin"))
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.get_by_label("Token").fill(self.server.secrets[who])
        if shot:
            self.shot(shot)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/web/signin"))

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def charts_drawn(self) -> None:
        """Wait until every plotly figure on the page is drawn."""
        page = self.page
        n = page.locator("[data-figure]").count()
        if n:
            page.wait_for_function(
                "n => document.querySelectorAll('[data-figure][data-drawn]').length === n",
                arg=n,
                timeout=WAIT,
            )

    def close(self) -> None:
        self.context.close()
        assert not self.errors, self.errors


def test_assembly_uploads_coordinator_plans_assembly_ratifies(browser, server):
    from playwright.sync_api import expect

    # -- an assembly member of Ashford signs in and fixes a needs sheet ------------------------
    town = Visit(browser, server)
    page = town.page
    town.sign_in("assembly:ashford", shot="01-sign-in.png")
    expect(page).to_have_url(re.compile(r"/web/municipalities/ashford$"))
    expect(page.get_by_role("heading", name="Ashford", exact=True)).to_be_visible()
    needs = page.locator("#needs-table")
    expect(needs.get_by_role("rowgroup").first).to_be_visible()
    assert needs.locator("tbody tr:not(.group):not(.blank)").count() == 16
    town.shot("02-municipality.png")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download needs (.csv)").click()
    sheet = Path(download.value.path()).read_text()
    assert sheet.startswith("municipality,item,tier,quantity,per_capita\n")
    assert len(sheet.splitlines()) == 17

    bad = sheet + "ashford,flour,3,-5,\n"  # row 18 of the sheet: a negative quantity
    page.set_input_files(
        "#needs-file", files=[{"name": "needs.csv", "mimeType": "text/csv", "buffer": bad.encode()}]
    )
    page.get_by_role("button", name="Upload and replace").first.click()
    alert = page.locator("#needs-problems")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("needs.csv:18: quantity: must not be negative (got -5)")
    expect(alert).to_contain_text("nothing was saved")
    alert.scroll_into_view_if_needed()
    town.shot("03-upload-error.png")

    good = sheet + "ashford,flour,3,5,\n"
    page.set_input_files(
        "#needs-file",
        files=[{"name": "needs.csv", "mimeType": "text/csv", "buffer": good.encode()}],
    )
    page.get_by_role("button", name="Upload and replace").first.click()
    expect(page.locator("#saved-message")).to_contain_text("Needs now has 17 rows")
    expect(page.locator("#needs-problems")).to_have_count(0)
    flour = page.locator("#needs-table tbody tr").filter(has=page.locator('input[value="flour"]'))
    expect(flour).to_have_count(1)
    expect(flour.locator('select[name$="-tier"]')).to_have_value("3")
    expect(flour.locator('input[name$="-quantity"]')).to_have_value("5")
    expect(flour.locator("td.need")).to_have_text("5\xa0t")
    town.shot("04-needs-saved.png")

    # -- a coordinator of the valley runs a plan and watches it complete -----------------------
    coord = Visit(browser, server)
    cpage = coord.page
    coord.sign_in("coord:valley")
    expect(cpage).to_have_url(re.compile(r"/web/confederations/valley$"))
    cpage.get_by_label("Rule").select_option("leximin")
    cpage.get_by_role("button", name="Run a plan").click()
    expect(cpage).to_have_url(re.compile(r"\?requested=\d+"))
    plan_id = int(re.search(r"requested=(\d+)", cpage.url).group(1))
    row = cpage.locator(f"#plan-row-{plan_id}")
    expect(row).to_be_visible()
    coord.shot("05-confederation-running.png")
    expect(row.locator(".badge")).to_have_text(re.compile("shortfall|optimal"), timeout=PLAN_WAIT)
    expect(cpage.get_by_text(f"(plan {plan_id}, leximin)")).to_be_visible()
    coord.charts_drawn()
    expect(cpage.locator("#sankey-item")).to_be_visible()
    cpage.get_by_label("Item", exact=True).select_option(
        index=1
    )  # switch the Sankey to another item
    cpage.wait_for_timeout(1000)  # let plotly's transition finish before the screenshot
    coord.shot("06-confederation.png")
    cpage.screenshot(  # the README's picture: the top of the page, charts drawn
        path=str(ARTIFACTS / "00-readme-confederation.png"),
        clip={"x": 0, "y": 0, "width": 1280, "height": 1340},
        full_page=True,
    )
    coord.close()

    # -- the assembly reads the plan and records its vote; the others vote by the API ---------
    page.goto("/web/municipalities/ashford")
    page.get_by_role("link", name=f"Plan {plan_id}", exact=True).first.click()
    expect(page).to_have_url(re.compile(rf"/web/plans/{plan_id}\?town=ashford"))
    expect(
        page.get_by_role("heading", name="Satisfaction per tier: Ashford and everyone")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="What Ashford receives")).to_be_visible()
    expect(page.get_by_role("heading", name="Labour values in Ashford")).to_be_visible()
    flour = page.locator("#receives tr").filter(has_text="Flour")
    expect(flour).to_contain_text("5\xa0t")  # the need saved above is in the plan
    town.charts_drawn()
    town.shot("07-plan.png")

    page.get_by_label("Yes").fill("1900")
    page.get_by_label("No", exact=True).fill("700")
    page.get_by_label("Abstain").fill("150")
    page.get_by_role("button", name="Record the vote").click()
    expect(page.get_by_role("status").filter(has_text="Vote recorded")).to_be_visible()
    expect(page.locator("#ratification")).to_contain_text("1,900 yes · 700 no · 150 abstain")
    for other, (yes, no) in {
        "birchwood": (500, 300),
        "cedar_falls": (800, 400),
        "dunmore": (1500, 2100),
        "elmstead": (300, 250),
        "fernhill": (900, 500),
    }.items():
        r = httpx.put(
            f"{server.base}/plans/{plan_id}/tallies/{other}",
            json={"yes": yes, "no": no, "abstain": 0},
            headers={"Authorization": f"Bearer {server.secrets['assembly:' + other]}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
    page.reload()
    rat = page.locator("#ratification")
    expect(rat.locator(".badge").first).to_have_text("adopted")
    expect(rat).to_contain_text("6 of 6 reported")
    expect(page.get_by_role("button", name="Record the vote")).to_have_count(
        0
    )  # the vote is closed
    rat.scroll_into_view_if_needed()
    town.shot("08-ratified.png")
    town.close()


def test_phone_width_and_keyboard(browser, server):
    from playwright.sync_api import expect

    phone = Visit(browser, server, width=390, height=844)
    page = phone.page
    phone.sign_in("assembly:elmstead")
    expect(page).to_have_url(re.compile(r"/web/municipalities/elmstead$"))

    # keyboard: the first Tab reaches the skip link, Enter moves to the main content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "A"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"

    def fits() -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{page.url} is {width}px wide at a 390px viewport"

    fits()
    # every edit input has an accessible name
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('main input:not([type=hidden]), main select')]
             .filter(e => !e.getAttribute('aria-label') && !(e.id && document.querySelector(`label[for="${e.id}"]`)))
             .map(e => e.name)"""
    )
    assert unnamed == []
    phone.shot("09-phone-municipality.png")

    page.get_by_role("link", name="Plan 1", exact=True).first.click()
    expect(page.get_by_role("heading", name="What Elmstead receives")).to_be_visible()
    phone.charts_drawn()
    fits()
    phone.shot("10-phone-plan.png")
    page.goto("/web/confederations/valley")
    phone.charts_drawn()
    fits()
    expect(page.get_by_role("button", name="Run a plan")).to_have_count(0)  # not an assembly's
    phone.shot("11-phone-confederation.png")
    phone.close()


def test_analyst_compares_rules_and_edits_nothing(browser, server):
    from playwright.sync_api import expect

    analyst = Visit(browser, server)
    page = analyst.page
    analyst.sign_in("analyst")
    page.goto("/web/municipalities/dunmore")
    expect(page.get_by_role("heading", name="Dunmore", exact=True)).to_be_visible()
    assert page.locator("main input, main select, main button").count() == 0  # no edit forms
    page.goto("/web/compare")
    page.get_by_label("Confederation").select_option("valley")
    page.get_by_label("equal per capita").uncheck()
    page.get_by_role("button", name="Compare").click()
    expect(page).to_have_url(re.compile(r"/web/comparisons/\d+$"))
    expect(page.locator(".job-status .badge")).to_have_text("done", timeout=PLAN_WAIT)
    table = page.get_by_role("table", name="Measures of each rule's plan")
    expect(table).to_contain_text("Lowest share met, tier 3 (desired)")
    expect(table.get_by_role("link", name="proportional")).to_be_visible()
    analyst.charts_drawn()
    analyst.shot("12-comparison.png")
    analyst.close()


def _run_plan_and_open(page, row_says: str) -> int:
    """Run a plan from the confederation page, wait for it, open its page; its id."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="Run a plan").click()
    expect(page).to_have_url(re.compile(r"\?requested=\d+"))
    plan_id = int(re.search(r"requested=(\d+)", page.url).group(1))
    row = page.locator(f"#plan-row-{plan_id}")
    expect(row).to_contain_text(row_says)
    expect(row.locator(".badge")).to_have_text(re.compile("shortfall|optimal"), timeout=PLAN_WAIT)
    page.get_by_role("link", name=f"Plan {plan_id}", exact=True).first.click()
    expect(page).to_have_url(re.compile(rf"/web/plans/{plan_id}"))
    return plan_id


def _plan_json(server: Server, plan_id: int) -> httpx.Response:
    """The plan as the API gives it to the valley's coordinator."""
    return httpx.get(
        f"{server.base}/plans/{plan_id}",
        headers={"Authorization": f"Bearer {server.secrets['coord:valley']}"},
        timeout=30,
    )


def test_coordinator_asks_for_precise_levels(browser, server):
    """Precise levels are the default (the box ticked); unticked, the classic rounds."""
    from playwright.sync_api import expect

    coord = Visit(browser, server)
    page = coord.page
    coord.sign_in("coord:valley")
    expect(page).to_have_url(re.compile(r"/web/confederations/valley$"))
    box = page.get_by_label("Plan levels more exactly (the default)")
    expect(box).to_be_checked()
    box.uncheck()
    box.scroll_into_view_if_needed()
    coord.shot("13-precise-box.png")
    plan_id = _run_plan_and_open(page, "classic rounds")
    expect(page.locator("#precise-levels")).to_have_text(re.compile(r"^no: the classic rounds"))
    r = _plan_json(server, plan_id)
    assert r.status_code == 200 and r.json()["precise"] is False
    coord.shot("14-precise-plan.png")
    coord.close()


def test_coordinator_asks_for_an_exact_plan_proved_leximin(browser, server):
    """Exact levels with the certificate: the plan page says, in words, that it is proved fair."""
    from playwright.sync_api import expect

    coord = Visit(browser, server)
    page = coord.page
    coord.sign_in("coord:valley")
    expect(page).to_have_url(re.compile(r"/web/confederations/valley$"))
    page.get_by_label("Prove it leximin (exact certificate)").check()
    page.locator("#exact").check()
    page.locator("#certify").scroll_into_view_if_needed()
    coord.shot("15-certify-box.png")
    plan_id = _run_plan_and_open(page, "exact, with certificate")
    verdict = page.locator("#certificate-verdict")
    expect(verdict).to_have_attribute("data-state", "passed", timeout=PLAN_WAIT)
    expect(verdict).to_contain_text("no need can rise")
    r = _plan_json(server, plan_id)
    cert = r.json()["certificate"]
    assert cert["passed"] is True and cert["levels"] > 0 and not cert["failed"]
    coord.shot("16-certified-plan.png")
    coord.close()

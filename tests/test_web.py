"""The web pages through the app (TestClient): signing in, role-bound actions, edits, uploads.

The browser tests (tests/test_web_browser.py) drive the same pages in
Chromium against the real server and worker; these check every refusal
and edge quickly and in-process. ``valley_db`` is shared with them.
"""

from __future__ import annotations

import html
import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

import models
from api import migrate
from api.config import Settings
from api.db import make_engine, make_sessionmaker
from api.main import create_app
from api.security import Principal
from api.services import delegates, plans, scenarios, tokens
from api.worker import run_pending

ROOT = Path(__file__).resolve().parent.parent
VALLEY = ROOT / "data" / "valley"
TOWNS = ("ashford", "birchwood", "cedar_falls", "dunmore", "elmstead", "fernhill")
NEEDS_HEADER = "municipality,item,tier,quantity,per_capita\n"


def valley_db(url: str, plan: bool = False) -> dict[str, str]:
    """Migrate ``url``, load the valley, and issue tokens; returns name -> token.

    Names: ``admin``, ``analyst``, ``assembly:<town>`` for every town,
    ``coord:valley`` (a delegate of Ashford to the whole valley) and
    ``coord:lower`` (a delegate of Dunmore to the Lower district). With
    ``plan``, one leximin plan of the valley is requested and solved here.
    """
    settings = Settings(database_url=url)
    engine = make_engine(settings.sqlalchemy_url)
    migrate.upgrade(engine)
    system = Principal.system("web-test")
    out: dict[str, str] = {}
    with make_sessionmaker(engine)() as s:
        scenarios.store(s, system, models.load(VALLEY))
        out["admin"] = tokens.issue(s, system, "admin", label="web test")[1]
        out["analyst"] = tokens.issue(s, system, "analyst", label="web test")[1]
        for town in TOWNS:
            out[f"assembly:{town}"] = tokens.issue(
                s, system, "assembly", town, label=f"{town} committee"
            )[1]
        for conf, town in (("valley", "ashford"), ("lower", "dunmore")):
            d = delegates.name(s, system, town, f"Delegate of {town}", conf)
            out[f"coord:{conf}"] = tokens.issue(s, system, "coordinator", delegate_id=d.id)[1]
        if plan:
            plans.request(s, system, settings, "valley", "leximin")
    if plan:
        run_pending(settings, engine)
    engine.dispose()
    return out


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A database file with the valley, tokens and one solved plan (copied for each test)."""
    path = tmp_path_factory.mktemp("webdb") / "template.db"
    secrets = valley_db(f"sqlite:///{path}", plan=True)
    return path, secrets


@dataclass
class Web:
    """A client of the app with the valley loaded; ``as_`` signs in as one of the tokens."""

    client: TestClient
    secrets: dict[str, str]
    app: object

    def as_(self, who: str) -> TestClient:
        self.client.cookies.clear()
        r = self.client.post(
            "/web/signin", data={"token": self.secrets[who]}, follow_redirects=False
        )
        assert r.status_code == 303, r.text
        return self.client

    def run_jobs(self) -> int:
        return run_pending(self.app.state.settings, self.app.state.engine)


@pytest.fixture
def web(template, tmp_path) -> Iterator[Web]:
    path, secrets = template
    db = tmp_path / "web.db"
    shutil.copy(path, db)
    app = create_app(Settings(database_url=f"sqlite:///{db}", auto_migrate=False))
    origin = {"Origin": "http://testserver"}  # as a browser sends it (sign-in needs it)
    with TestClient(app, base_url="http://testserver", headers=origin) as client:
        yield Web(client, secrets, app)
    app.state.engine.dispose()


def text_of(page: str) -> str:
    """The page's visible text, whitespace collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def problems(page: str) -> list[str]:
    """The problem lines of the page's error boxes."""
    return [html.unescape(m) for m in re.findall(r"<li><code>(.*?)</code></li>", page, re.S)]


def etag_of(page: str, town: str, table: str) -> str:
    """The ETag the edit form of ``table`` carries."""
    m = re.search(
        rf'action="/web/municipalities/{town}/{table}"[^>]*>\s*<input type="hidden" name="etag" value="([^"]*)"',
        page,
    )
    assert m, f"no edit form for {table}"
    return html.unescape(m.group(1))


def needs_csv(client: TestClient, town: str = "ashford") -> str:
    r = client.get(f"/web/municipalities/{town}/needs.csv")
    assert r.status_code == 200
    return r.text


# -- signing in --------------------------------------------------------------------------------


def test_pages_send_visitors_without_a_token_to_sign_in(web):
    r = web.client.get("/web/municipalities/ashford", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/web/signin?next=/web/municipalities/ashford"
    r = web.client.get("/", follow_redirects=False)
    assert r.headers["location"] == "/web/"
    r = web.client.get("/web/signin")
    assert r.status_code == 200 and 'name="token"' in r.text and 'for="token"' in r.text


def test_sign_in_keeps_the_token_in_a_strict_httponly_cookie(web):
    r = web.client.post(
        "/web/signin",
        data={"token": web.secrets["assembly:ashford"], "next": "/web/plans"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/web/plans"
    cookie = r.headers["set-cookie"]
    assert "commune_token=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/web" in cookie
    r = web.client.get("/web/", follow_redirects=False)
    assert r.headers["location"] == "/web/municipalities/ashford"
    page = web.client.get("/web/plans").text
    assert "Assembly of ashford" in text_of(page)
    r = web.client.post("/web/signout", follow_redirects=False)
    assert r.status_code == 303 and 'commune_token=""' in r.headers["set-cookie"]


def test_a_bad_token_is_refused_and_an_outside_next_is_ignored(web):
    r = web.client.post("/web/signin", data={"token": "cm_nonsense"})
    assert r.status_code == 401 and "That token does not work" in r.text
    assert "set-cookie" not in r.headers
    r = web.client.post(
        "/web/signin",
        data={"token": web.secrets["analyst"], "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/web/overview"


def test_a_revoked_token_ends_the_session(web):
    client = web.as_("assembly:ashford")
    with web.app.state.sessions() as s:
        tok = tokens.authenticate(s, web.secrets["assembly:ashford"])
        tokens.revoke(s, Principal.system("test"), tok.token_id)
    r = client.get("/web/municipalities/ashford", follow_redirects=False)
    assert r.status_code == 303 and "expired=1" in r.headers["location"]
    assert 'commune_token=""' in r.headers["set-cookie"]


def test_posts_from_another_site_are_refused(web):
    client = web.as_("assembly:ashford")
    page = client.get("/web/municipalities/ashford").text
    r = client.post(
        "/web/municipalities/ashford/needs",
        data={"etag": etag_of(page, "ashford", "needs")},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert len(needs_csv(client).splitlines()) == 17  # nothing changed


# -- each role sees its own actions, and the services refuse the rest --------------------------


def test_an_assembly_edits_only_its_own_municipality(web):
    client = web.as_("assembly:ashford")
    own = client.get("/web/municipalities/ashford").text
    for table in ("needs", "endowments", "capacities", "mandates"):
        assert f'action="/web/municipalities/ashford/{table}"' in own
        assert f'action="/web/municipalities/ashford/{table}/upload"' in own
    other = client.get("/web/municipalities/birchwood").text
    assert 'class="edit-form"' not in other and "/upload" not in other
    r = client.post(
        "/web/municipalities/birchwood/needs",
        data={"etag": "*", "row-1-item": "bread", "row-1-tier": "1", "row-1-quantity": "1"},
    )
    assert r.status_code == 403 and "only the assembly of 'birchwood'" in text_of(r.text)


def test_an_assembly_sees_no_run_button_and_cannot_run_or_compare(web):
    client = web.as_("assembly:ashford")
    page = client.get("/web/confederations/valley").text
    assert "Run a plan" not in page and 'action="/web/confederations/valley/plans"' not in page
    assert "Compare rules" not in page
    r = client.post("/web/confederations/valley/plans", data={"rule": "leximin"})
    assert r.status_code == 403
    r = client.post("/web/compare", data={"confederation": "valley", "rules": ["leximin"]})
    assert r.status_code == 403
    assert 'name="rules"' not in client.get("/web/compare").text


def test_an_analyst_sees_no_edit_forms_and_is_refused(web):
    client = web.as_("analyst")
    page = client.get("/web/municipalities/ashford").text
    assert "<input" not in page.split("<main", 1)[1]
    assert "Download all four tables" in page
    r = client.post(
        "/web/municipalities/ashford/needs/upload",
        files={"file": ("needs.csv", NEEDS_HEADER.encode(), "text/csv")},
        data={"etag": "*"},
    )
    assert r.status_code == 403 and "analysts may read, not change" in r.text
    assert "Run a plan" not in client.get("/web/confederations/valley").text
    plan = client.get("/web/plans/1").text
    assert "Record" not in plan and 'action="/web/plans/1/tally"' not in plan


def test_a_coordinator_runs_plans_only_for_their_confederation(web):
    client = web.as_("coord:lower")
    assert "Run a plan" in client.get("/web/confederations/lower").text
    assert "Run a plan" not in client.get("/web/confederations/valley").text
    r = client.post("/web/confederations/valley/plans", data={"rule": "leximin"})
    assert r.status_code == 403
    page = client.get("/web/municipalities/dunmore").text
    assert 'class="edit-form"' not in page  # a delegate does not edit the assembly's data


# -- the municipality's tables ---------------------------------------------------------------


def test_upload_names_the_bad_row_then_saves_the_fixed_sheet(web):
    client = web.as_("assembly:ashford")
    page = client.get("/web/municipalities/ashford").text
    etag = etag_of(page, "ashford", "needs")
    current = needs_csv(client)
    bad = current + "ashford,bread,3,-5,\n"
    r = client.post(
        "/web/municipalities/ashford/needs/upload",
        files={"file": ("our needs.csv", bad.encode(), "text/csv")},
        data={"etag": etag},
    )
    assert r.status_code == 422
    assert problems(r.text) == ["our needs.csv:18: quantity: must not be negative (got -5)"]
    assert "nothing was saved" in r.text
    good = current + "ashford,bread,3,5,\n"
    r = client.post(
        "/web/municipalities/ashford/needs/upload",
        files={"file": ("our needs.csv", good.encode(), "text/csv")},
        data={"etag": etag},
        follow_redirects=False,
    )
    assert r.status_code == 303, text_of(r.text)
    assert r.headers["location"] == "/web/municipalities/ashford?saved=needs&rows=17#needs"
    page = client.get(r.headers["location"]).text
    assert "Saved." in page and "Needs now has 17 rows" in text_of(page)
    assert "ashford,bread,3,5," in needs_csv(client)


def test_problems_found_against_the_scenario_name_the_file_row(web):
    client = web.as_("assembly:ashford")
    page = client.get("/web/municipalities/ashford").text
    sheet = (
        NEEDS_HEADER
        + "ashford,bread,1,,0.045\nashford,co2,2,4,\nashford,breadd,2,4,\nbirchwood,bread,1,3,\n"
    )
    r = client.post(
        "/web/municipalities/ashford/needs/upload",
        files={"file": ("needs.csv", sheet.encode(), "text/csv")},
        data={"etag": etag_of(page, "ashford", "needs")},
    )
    assert r.status_code == 422
    assert problems(r.text) == [  # every problem at once, in the file's order
        "needs.csv:3: item: a need for an emission (emissions are capped by limits, not needed)",
        "needs.csv:4: item: unknown item 'breadd' (did you mean 'bread'?)",
        "needs.csv:5: municipality: 'birchwood' is not 'ashford' (only ashford's own rows can be saved here)",
    ]
    sheet = NEEDS_HEADER + "ashford,bread,1,,0.045\nashford,co2,2,4,\nashford,breadd,2,4,\n"
    r = client.post(
        "/web/municipalities/ashford/needs/upload",
        files={"file": ("needs.csv", sheet.encode(), "text/csv")},
        data={"etag": etag_of(page, "ashford", "needs")},
    )
    assert sorted(problems(r.text)) == [
        "needs.csv:3: item: a need for an emission (emissions are capped by limits, not needed)",
        "needs.csv:4: item: unknown item 'breadd' (did you mean 'bread'?)",
    ]


def test_an_xlsx_upload_names_the_sheet_and_row(web):
    client = web.as_("assembly:ashford")
    page = client.get("/web/municipalities/ashford").text
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "needs"
    sheet.append(["municipality", "item", "tier", "quantity", "per_capita"])
    sheet.append(["ashford", "bread", 1, None, 0.045])
    sheet.append(["ashford", "vegetables", "one", 3, None])
    buf = io.BytesIO()
    book.save(buf)
    r = client.post(
        "/web/municipalities/ashford/needs/upload",
        files={"file": ("needs.xlsx", buf.getvalue(), "application/octet-stream")},
        data={"etag": etag_of(page, "ashford", "needs")},
    )
    assert r.status_code == 422
    [line] = problems(r.text)
    assert line.startswith("needs.xlsx") and line.endswith(":3: tier: not a number: 'one'")


def test_the_downloaded_workbook_uploads_back_unchanged(web):
    client = web.as_("assembly:ashford")
    r = client.get("/web/municipalities/ashford/data.xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["needs", "endowments", "capacities", "mandates", "items"]
    assert book["needs"].max_row == 17
    page = client.get("/web/municipalities/ashford").text
    for table, rows in (("needs", 16), ("endowments", 4), ("capacities", 12), ("mandates", 0)):
        r2 = client.post(
            f"/web/municipalities/ashford/{table}/upload",
            files={"file": ("ashford.xlsx", r.content, "application/octet-stream")},
            data={"etag": etag_of(page, "ashford", table)},
            follow_redirects=False,
        )
        assert r2.status_code == 303, (table, problems(r2.text), text_of(r2.text)[:300])
        assert f"rows={rows}" in r2.headers["location"]


def test_editing_the_table_names_the_rows_as_shown(web):
    client = web.as_("assembly:ashford")
    page = client.get("/web/municipalities/ashford").text
    form = {"etag": etag_of(page, "ashford", "endowments")}
    for n, (item, qty) in enumerate(
        [("flour", "20"), ("grain", "80"), ("land", "60"), ("water", "150")], start=1
    ):
        form |= {f"row-{n}-item": item, f"row-{n}-quantity": qty}
    form |= {"row-2-remove": "1", "row-6-item": "timber", "row-6-quantity": "lots"}
    r = client.post("/web/municipalities/ashford/endowments", data=form)
    assert r.status_code == 422
    assert problems(r.text) == ["row 6: quantity: not a number: 'lots'"]
    assert 'value="lots"' in r.text  # what was typed is kept
    form["row-6-quantity"] = "12.5"
    r = client.post("/web/municipalities/ashford/endowments", data=form, follow_redirects=False)
    assert r.status_code == 303, problems(r.text)
    csv = client.get("/web/municipalities/ashford/endowments.csv").text.splitlines()
    assert csv == [
        "municipality,item,quantity",
        "ashford,flour,20",
        "ashford,land,60",
        "ashford,timber,12.5",
        "ashford,water,150",
    ]
    r = client.post("/web/municipalities/ashford/endowments", data=form)
    assert r.status_code == 412 and "someone changed this table" in r.text


def test_capacities_and_mandates_are_edited_too(web):
    client = web.as_("assembly:elmstead")
    page = client.get("/web/municipalities/elmstead").text
    r = client.post(
        "/web/municipalities/elmstead/mandates",
        data={
            "etag": etag_of(page, "elmstead", "mandates"),
            "row-1-kind": "max_labour_share",
            "row-1-value": "0.09",
            "row-2-kind": "forbid_process",
            "row-2-target": "grain_intensive",
            "row-3-kind": "max_export",
            "row-3-target": "vegetables",
            "row-3-value": "10",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, problems(r.text)
    lines = client.get("/web/municipalities/elmstead/mandates.csv").text.splitlines()
    assert (
        "elmstead,max_labour_share,,0.09" in lines and "elmstead,max_export,vegetables,10" in lines
    )
    page = client.get("/web/municipalities/elmstead").text
    r = client.post(
        "/web/municipalities/elmstead/capacities",
        data={"etag": etag_of(page, "elmstead", "capacities"), "row-1-process": "no_such"},
    )
    assert r.status_code == 422
    assert problems(r.text) == ["row 1: process: unknown process 'no_such'"]


def test_capacities_are_saved_as_one_audited_replace_and_guarded_by_their_etag(web):
    client = web.as_("assembly:elmstead")
    page = client.get("/web/municipalities/elmstead").text
    etag = etag_of(page, "elmstead", "capacities")
    lines = client.get("/web/municipalities/elmstead/capacities.csv").text.splitlines()
    form = {"etag": etag}
    for n, line in enumerate(lines[1:], start=1):
        _, process, max_level = line.split(",")
        form |= {f"row-{n}-process": process, f"row-{n}-max_level": max_level}
    form["row-1-max_level"] = "123"
    form["row-2-remove"] = "1"
    r = client.post("/web/municipalities/elmstead/capacities", data=form, follow_redirects=False)
    assert r.status_code == 303, problems(r.text)
    admin = {"Authorization": f"Bearer {web.secrets['admin']}"}
    log = client.get("/audit?resource=capacities", headers=admin).json()["data"]
    assert [(e["action"], e["key"]) for e in log] == [("replace", "elmstead")]
    api = client.get("/municipalities/elmstead/capacities?limit=1000", headers=admin)
    page = client.get("/web/municipalities/elmstead").text
    assert etag_of(page, "elmstead", "capacities") == api.headers["etag"] != etag
    assert len(api.json()["data"]) == len(lines) - 2
    form["row-1-max_level"] = "456"  # the page was loaded before the save: stale
    r = client.post("/web/municipalities/elmstead/capacities", data=form)
    assert r.status_code == 412 and "someone changed this table" in r.text
    saved = client.get("/web/municipalities/elmstead/capacities.csv").text
    assert ",123\n" in saved and ",456" not in saved  # the first save stands, nothing mixed in


def test_the_pages_and_the_api_name_the_same_file_rows(web):
    sheet = (
        NEEDS_HEADER
        + "ashford,vegetables,1,3,\nashford,co2,2,4,\nashford,breadd,2,4,\nashford,bread,1,-1,\n"
    )
    fixed = sheet.replace("ashford,bread,1,-1,", "ashford,bread,1,1,")
    book = openpyxl.Workbook()
    book.active.title = "needs"
    for line in fixed.splitlines():
        book.active.append(line.split(","))
    buf = io.BytesIO()
    book.save(buf)
    cases = [
        (  # every problem at once: the cell and those found against the scenario
            "needs.csv",
            sheet.encode(),
            [
                "needs.csv:3: item: a need for an emission (emissions are capped by limits, not needed)",
                "needs.csv:4: item: unknown item 'breadd' (did you mean 'bread'?)",
                "needs.csv:5: quantity: must not be negative (got -1)",
            ],
        ),
        (
            "needs.csv",
            fixed.encode(),
            [
                "needs.csv:3: item: a need for an emission (emissions are capped by limits, not needed)",
                "needs.csv:4: item: unknown item 'breadd' (did you mean 'bread'?)",
            ],
        ),
        (
            "ours.xlsx",
            buf.getvalue(),
            [
                "ours.xlsx[needs]:3: item: a need for an emission (emissions are capped by limits, not needed)",
                "ours.xlsx[needs]:4: item: unknown item 'breadd' (did you mean 'bread'?)",
            ],
        ),
    ]
    client = web.as_("assembly:ashford")
    api = {"Authorization": f"Bearer {web.secrets['assembly:ashford']}", "If-Match": "*"}
    for name, data, expected in cases:
        page = client.get("/web/municipalities/ashford").text
        r = client.post(
            "/web/municipalities/ashford/needs/upload",
            files={"file": (name, data, "application/octet-stream")},
            data={"etag": etag_of(page, "ashford", "needs")},
        )
        assert r.status_code == 422 and sorted(problems(r.text)) == expected, problems(r.text)
        r = client.put("/municipalities/ashford/needs", files={"file": (name, data)}, headers=api)
        assert r.status_code == 422 and sorted(r.json()["problems"]) == expected


# -- plans, votes, the confederation, comparisons -------------------------------------------------


def test_the_plan_page_explains_the_plan_for_a_municipality(web):
    client = web.as_("assembly:birchwood")
    page = client.get("/web/plans/1").text
    text = text_of(page)
    assert "Satisfaction per tier: Birchwood and everyone" in text
    assert "Tier 1 (vital) 100.0 % 100.0 % 4 of 4" in text
    assert "What Birchwood receives" in text and "Arriving" in text and "Leaving" in text
    assert "Labour and free time in Birchwood" in text and "720,000 h" in text
    assert re.search(r"Bread [\d.,]+ h per t", text)  # a labour value with its unit
    assert "max export timber 1,000 m3 min_labour dual" in text  # Birchwood's cap binds
    assert "CO2 lower 7,000 t 7,000 t 100.0 %" in text
    assert 'data-figure="fig-satisfaction"' in page
    shown = re.search(r'<dt>Plan</dt><dd><code title="([0-9a-f]{64})">([0-9a-f]{12})</code>', page)
    assert shown and shown[1].startswith(shown[2])  # the plan's hash (docs/FORMAT.md section 8)
    assert 'action="/web/plans/1/tally"' in page  # its own assembly may vote
    other = client.get("/web/plans/1?town=ashford").text
    assert "What Ashford receives" in text_of(other)
    assert 'action="/web/plans/1/tally"' not in other  # but not for Ashford


def test_votes_are_recorded_by_the_own_assembly_within_its_population(web):
    client = web.as_("assembly:elmstead")
    r = client.post(
        "/web/plans/1/tally", data={"town": "elmstead", "yes": "500", "no": "300", "abstain": "0"}
    )
    assert r.status_code == 422 and "more than elmstead's population of 700" in text_of(r.text)
    r = client.post(
        "/web/plans/1/tally",
        data={"town": "elmstead", "yes": "400", "no": "100", "abstain": "50"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "Vote recorded" in page and "400 yes · 100 no · 50 abstain" in text_of(page)
    r = client.post("/web/plans/1/tally", data={"town": "ashford", "yes": "1", "no": "0"})
    assert r.status_code == 403
    r = client.post("/web/plans/1/tally", data={"town": "elmstead", "yes": "x", "no": "0"})
    assert r.status_code == 422


def test_the_confederation_page_and_a_plan_run(web):
    client = web.as_("coord:valley")
    page = client.get("/web/confederations/valley").text
    text = text_of(page)
    assert "Satisfaction per municipality" in text and "Elmstead 100.0 % 100.0 % 18.2 %" in text
    assert 'data-figure="fig-towns"' in page and 'data-figure="fig-sankey"' in page
    assert 'id="sankey-item"' in page and "Limits" in text
    m = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    form = {"rule": "proportional", "idempotency_key": m.group(1)}
    r = client.post("/web/confederations/valley/plans", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?requested=2#jobs")
    again = client.post("/web/confederations/valley/plans", data=form, follow_redirects=False)
    assert again.headers["location"] == r.headers["location"]  # a double submit makes one plan
    page = client.get(r.headers["location"]).text
    assert 'data-poll="/web/plans/2/status"' in page
    status = client.get("/web/plans/2/status").json()
    assert (
        status["status"] == "queued"
        and status["final"] is False
        and status["job"]["state"] == "queued"
    )
    assert web.run_jobs() == 1
    assert client.get("/web/plans/2/status").json()["final"] is True
    page = client.get("/web/confederations/valley").text
    assert "(plan 2, proportional)" in text_of(page) and 'data-poll="' not in page


def test_a_coordinator_asks_for_precise_levels_with_a_checkbox(web, monkeypatch):
    """The box is ticked by default (precise levels, as ``planner solve``); unticked, the
    plan is made by the classic rounds, and the plan page and the jobs table say so."""
    from api_fixtures import spy_on_solves

    from api.orm import PlanRow

    client = web.as_("coord:valley")
    page = client.get("/web/confederations/valley").text
    box = re.search(r'<input type="checkbox" id="precise" name="precise" value="1"[^>]*>', page)
    assert box and 'aria-describedby="precise-help"' in box[0] and " checked" in box[0]
    assert '<label for="precise">Plan levels more exactly (the default)</label>' in page
    hint = re.search(r'<p class="help" id="precise-help">(.*?)</p>', page, re.S)
    assert hint and "classic rounds" in hint[1] and "planner solve" in hint[1]
    seen = spy_on_solves(monkeypatch)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)[1]
    form = {"rule": "leximin", "precise": "1", "idempotency_key": key}
    r = client.post("/web/confederations/valley/plans", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?requested=2#jobs")
    unticked = {"rule": "leximin", "idempotency_key": key + "-plain"}  # a box not ticked: not sent
    r = client.post("/web/confederations/valley/plans", data=unticked, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?requested=3#jobs")
    with web.app.state.sessions() as s:
        assert s.get(PlanRow, 2).precise is True and s.get(PlanRow, 3).precise is False
    assert web.run_jobs() == 2
    assert seen == [{"precise": True}, {"precise": False}]
    text = text_of(client.get("/web/plans/2").text)
    assert "Solver highs" in text and "Precise levels yes: levels planned more exactly" in text
    assert "Precise levels no: the classic rounds, less exact" in text_of(
        client.get("/web/plans/3").text
    )
    jobs = text_of(client.get("/web/confederations/valley").text)
    assert "Plan 3 leximin · classic rounds" in jobs and "Plan 2 leximin · classic" not in jobs


def test_plotly_is_served_from_the_package_with_long_caching(web):
    import plotly

    r = web.client.get(
        f"/web/assets/plotly-{plotly.__version__}.min.js", headers={"Accept-Encoding": "gzip"}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert (
        "max-age=31536000" in r.headers["cache-control"]
        and "immutable" in r.headers["cache-control"]
    )
    assert r.headers.get("content-encoding") == "gzip" and b"plotly" in r.content[:2000].lower()
    r = web.client.get("/web/assets/plotly-0.0.0.min.js", follow_redirects=False)
    assert r.status_code == 307
    css = web.client.get("/web/static/commune.css")
    assert (
        css.status_code == 200 and ":focus-visible" in css.text and "@media (max-width" in css.text
    )


def test_pages_carry_security_headers_and_accessible_frame(web):
    page = web.as_("assembly:ashford").get("/web/municipalities/ashford")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert '<a class="skip-link" href="#main">' in page.text and '<main id="main"' in page.text
    assert '<meta name="viewport"' in page.text and '<html lang="en">' in page.text
    assert "<script>" not in page.text  # no inline scripts: the CSP forbids them


def test_an_analyst_compares_rules(web):
    client = web.as_("analyst")
    overview = text_of(client.get("/web/overview").text)
    assert "Green Valley Confederation" in overview and "Elmstead (700 people)" in overview
    page = client.get("/web/compare").text
    assert 'name="rules"' in page
    r = client.post(
        "/web/compare",
        data={"confederation": "valley", "rules": ["leximin", "proportional"]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    url = r.headers["location"]
    assert "data-poll" in client.get(url).text
    assert web.run_jobs() == 2
    page = client.get(url).text
    text = text_of(page)
    assert "Rules side by side" in text and "Worst-met need per municipality and tier" in text
    assert "Lowest share met, tier 3 (desired) 18.2 % 18.2 %" in text
    assert "Mean share of need met 87.0 % 69.3 %" in text and "Ashford 3 34.3 % 18.2 %" in text
    assert 'data-figure="fig-compare"' in page and "data-poll" not in page
    assert client.get(url + "/status").json()["final"] is True


def test_a_coordinator_cancels_a_queued_plan(web):
    client = web.as_("coord:valley")
    r = client.post("/web/confederations/valley/plans", data={"rule": "utilitarian"})
    assert r.status_code == 200
    page = r.text
    m = re.search(r'action="/web/jobs/(\d+)/cancel"', page)
    assert m, "no cancel button for the queued plan"
    r = client.post(f"/web/jobs/{m.group(1)}/cancel", follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/web/plans/2/status").json()["status"] == "cancelled"
    assert web.as_("assembly:ashford").post(f"/web/jobs/{m.group(1)}/cancel").status_code == 403


def test_unknown_things_are_404_pages(web):
    client = web.as_("analyst")
    r = client.get("/web/plans/not-a-number")
    assert r.status_code == 404 and "<html" in r.text
    r = client.post("/web/plans/1/tally", data={"yes": "1"})
    assert r.status_code == 422 and "the form is not complete" in r.text
    for url in ("/web/plans/99", "/web/municipalities/atlantis", "/web/confederations/nowhere"):
        r = client.get(url)
        assert r.status_code == 404 and "Not found" in r.text and "<html" in r.text

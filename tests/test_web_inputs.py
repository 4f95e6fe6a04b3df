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

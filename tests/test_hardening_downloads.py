"""No download carries a live formula (issue 18, point 4), and every export reads back unchanged.

An item named ``=HYPERLINK(...)`` came back as a formula in the workbook
download, and the zip export wrote CSV cells starting with ``=``, ``+``,
``-``, ``@`` as they were. Now text cells are neutralised (see
models/_formula.py); numbers, negative ones too, stay numbers.
"""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl

import models
from api.web import tables

pytest_plugins = ["api_fixtures"]

EVIL = ['=HYPERLINK("http://x.invalid","y")', "+1+2", "-3+4", "@SUM(A1)", "=1+1"]
"""(A leading tab or carriage return is neutralised too, but names are stored stripped.)"""


def _evil_valley() -> models.Scenario:
    doc = models.to_json(models.load("data/valley"))
    for item, name in zip(doc["items"], EVIL, strict=False):
        item["name"] = name
    doc["scenario"]["description"] = EVIL[0]
    return models.from_json(doc)


def _csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(), newline="")))


def test_the_zip_export_neutralises_text_and_reads_back_unchanged():
    scenario = _evil_valley()
    data = models.dumps(scenario, "zip")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        items = _csv_cells(zf.read("items.csv"))
        process_io = _csv_cells(zf.read("process_io.csv"))
    names = [row[1] for row in items[1:]]
    for name in EVIL:
        assert "'" + name in names
    assert not [n for n in names if n[:1] in "=+-@\t\r"]
    negative = [row[2] for row in process_io[1:] if row[2].startswith("-")]
    assert negative and all(float(q) < 0 for q in negative)  # numbers stay numbers
    back = models.loads(data, "zip")
    assert back.content_hash == scenario.content_hash
    assert list(back.items["name"][: len(EVIL)]) == EVIL


def test_the_workbook_export_has_no_formula_and_reads_back_unchanged():
    scenario = _evil_valley()
    data = models.dumps(scenario, "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = [c for row in book["items"].iter_rows() for c in row if c.value in EVIL]
    assert len(cells) == len(EVIL)
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    assert models.loads(data, "xlsx").content_hash == scenario.content_hash


def test_a_csv_upload_of_the_export_reads_back(world):
    """A table downloaded as CSV and uploaded again is the same (the apostrophe is dropped)."""
    rows = [{"id": "cake", "name": "@cake", "unit": "-kg", "kind": "good", "transportable": True}]
    data = tables.to_csv("items", rows)
    assert _csv_cells(data)[1] == ["cake", "'@cake", "'-kg", "good", "True"]
    [back] = models.read_table("items", data, "items.csv")
    assert back["name"] == "@cake" and back["unit"] == "-kg"


def test_the_pages_workbook_download_has_no_live_formula(world):
    c = world.client
    bad = {"name": EVIL[0]}
    r = c.patch("/scenarios/valley/items/bread", json=bad, headers=world.h["coord:valley"])
    assert r.status_code == 200
    token = world.h["assembly:ashford"]["Authorization"].removeprefix("Bearer ")
    signin = {"token": token}
    r = c.post("/web/signin", data=signin, headers={"Origin": "http://testserver"})
    assert r.status_code in (200, 303), r.text
    r = c.get("/web/municipalities/ashford/data.xlsx")
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    [cell] = [c for row in book["items"].iter_rows() for c in row if c.value == EVIL[0]]
    assert cell.data_type == "s" and cell.quotePrefix
    r = c.get("/scenarios/valley/export?format=zip", headers=world.h["analyst"])
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert _csv_cells(zf.read("items.csv"))[1][1] == "'" + EVIL[0]


def test_neutralising_round_trips_every_text():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from models._formula import neutralise, restore

    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(st.text(alphabet="'=+-@\t\rax1 ", max_size=6))
    def check(text):
        out = neutralise(text)
        assert restore(out) == text
        assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))

    check()

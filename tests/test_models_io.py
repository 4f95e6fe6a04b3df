"""Readers and writers: every form round-trips to every other without loss."""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl
import pytest
from models_fixtures import (
    META,
    MINIMAL_FILES,
    minimal,
    same_frames,
    tables,
    valley,
    write_folder,
)

import models

FILE_FORMS = ["folder", "s.xlsx", "s.json", "s.zip"]


def awkward() -> models.Scenario:
    """Text that needs quoting, unicode, exact floats, NaN, booleans, per-capita needs."""
    t = tables()
    t["municipalities"][0]["name"] = 'Ashford, "upper" ümlaut'
    t["municipalities"][1]["name"] = "=SUM(A1)"
    t["items"][0]["unit"] = "t\u00a0(metric)"
    t["process_io"][3]["quantity"] = -1 / 3
    t["endowments"][1]["quantity"] = 0.1 + 0.2
    t["links"][0]["loss"] = 1e-7
    t["mandates"][0]["value"] = 123456789.123456789
    meta = {
        **META,
        "description": "two\nlines, and: colons",
        "policy": {
            "rule": "utilitarian",
            "stages": ["needs:tier1", "min_labour", "needs:tier2"],
            "tolerance": 0.05,
        },
    }
    return models.from_tables(meta, t)


@pytest.mark.parametrize("form", FILE_FORMS)
@pytest.mark.parametrize("make", [valley, minimal, awkward])
def test_save_then_load_is_lossless(tmp_path, form, make):
    s = make()
    path = models.save(s, tmp_path / form)
    back = models.load(path)
    assert same_frames(back, s)
    assert back.content_hash == s.content_hash
    assert back.warnings == []


def test_every_form_converts_to_every_other(tmp_path):
    s = awkward()
    current = s
    for i, form in enumerate(FILE_FORMS * 2):
        current = models.load(models.save(current, tmp_path / f"{i}-{form}"))
        assert current == s and same_frames(current, s)


@pytest.mark.parametrize("form", models.FORMS)
def test_dumps_loads(form):
    s = awkward()
    data = models.dumps(s, form)
    assert isinstance(data, bytes)
    assert models.loads(data, form) == s
    assert models.loads(data, filename=f"upload.{form}") == s


def test_to_json_from_json():
    s = valley()
    doc = to = models.to_json(s)
    json.dumps(doc, allow_nan=False)  # strict JSON: NaN became null
    assert set(doc) == {"scenario", *models.TABLES}
    assert doc["scenario"]["name"] == "valley"
    assert {
        "municipality": "ashford",
        "item": "bread",
        "tier": 1,
        "quantity": None,
        "per_capita": 0.1,
    } in doc["needs"]
    assert models.from_json(to) == s
    assert models.from_json(json.loads(json.dumps(to))) == s


def test_hash_ignores_row_and_column_order_in_files(tmp_path):
    folder = write_folder(
        tmp_path / "a",
        {
            **MINIMAL_FILES,
            "municipalities.csv": "labour_hours,population,confederation,id\n50,5,root,b\n"
            "100.0,10,root,a\n",
            "needs.csv": "per_capita,quantity,tier,item,municipality\n2,,1,grain,b\n,3,1,grain,a\n",
        },
    )
    assert models.load(folder) == minimal()


def test_minimal_folder_and_missing_optional_files(tmp_path):
    folder = write_folder(tmp_path / "m", MINIMAL_FILES)
    s = models.load(folder)
    assert s == minimal()
    assert len(s.links) == 0 and list(s.links.columns) == models.TABLES["links"].names
    assert models.load(folder / "scenario.yaml") == s


def test_empty_optional_tables_round_trip_as_header_only(tmp_path):
    folder = models.save(minimal(), tmp_path / "m")
    assert (folder / "links.csv").read_text() == "from,to,labour_per_unit,capacity,loss,both_ways\n"
    assert models.load(folder) == minimal()
    wb = openpyxl.load_workbook(models.save(minimal(), tmp_path / "m.xlsx"))
    assert wb.sheetnames == ["scenario", *models.TABLES]
    assert [c.value for c in wb["links"][1]] == models.TABLES["links"].names
    assert models.to_json(minimal())["links"] == []


def test_csv_writing_is_plain_and_readable(tmp_path):
    folder = models.save(valley(), tmp_path / "v")
    assert (folder / "needs.csv").read_text() == (
        "municipality,item,tier,quantity,per_capita\n"
        "ashford,bread,1,,0.1\nbrook,bread,1,70,\ncarden,bread,3,,0.05\ncarden,grain,2,0,\n"
    )
    assert "brook,carden,3.5,,0,false\n" in (folder / "links.csv").read_text()
    assert (folder / "scenario.yaml").read_text().startswith("name: valley\nperiod: '2025'\n")


def test_bom_crlf_blank_lines_whitespace_and_boolean_spellings(tmp_path):
    files = dict(MINIMAL_FILES)
    files["municipalities.csv"] = (
        "\ufeff id , confederation,population,labour_hours\r\n a ,root, 10 ,100\r\n\r\n"
        "b,root,5,50\r\n,,,\r\n"
    )
    files["items.csv"] = "id,kind,transportable\ngrain,GOOD,YES\n"
    files["links.csv"] = "from,to,labour_per_unit,both_ways\na,b,1,No\n"
    files["needs.csv"] = MINIMAL_FILES["needs.csv"] + "\n"
    s = models.load(write_folder(tmp_path / "x", files))
    assert s.municipalities["id"].tolist() == ["a", "b"]
    assert s.items["kind"].tolist() == ["good"] and s.items["transportable"].tolist() == [True]
    assert s.links["both_ways"].tolist() == [False]
    for spelling, value in [("true", True), ("0", False), ("1", True), ("False", False)]:
        files["links.csv"] = f"from,to,labour_per_unit,both_ways\na,b,1,{spelling}\n"
        assert models.load(write_folder(tmp_path / spelling, files)).links[
            "both_ways"
        ].tolist() == [value]


def test_semicolon_csv_is_read_with_a_note(tmp_path):
    files = dict(MINIMAL_FILES)
    files["items.csv"] = "id;kind\ngrain;good\n"
    s = models.load(write_folder(tmp_path / "x", files))
    assert s == minimal()
    assert [str(w) for w in s.warnings] == [
        "items.csv:1: -: read as ';'-separated (as European spreadsheets save CSV); commas and "
        "points are the standard"
    ]


def test_semicolon_csv_with_decimal_commas_reads_them_as_numbers(tmp_path):
    files = dict(MINIMAL_FILES)
    files["needs.csv"] = (
        "municipality;item;tier;quantity;per_capita\na;grain;1;2,5;\nb;grain;1;;0,5\n"
    )
    s = models.load(write_folder(tmp_path / "x", files))
    got = s.needs.set_index("municipality")
    assert got.loc["a", "quantity"] == 2.5 and got.loc["b", "per_capita"] == 0.5
    assert [str(w) for w in s.warnings] == [
        "needs.csv:1: -: read as ';'-separated (as European spreadsheets save CSV), with decimal "
        "commas ('2,5' read as 2.5); commas and points are the standard"
    ]


def test_zip_with_a_top_level_folder_and_junk():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, text in MINIMAL_FILES.items():
            zf.writestr(f"valley/{name}", text)
        zf.writestr("__MACOSX/valley/._needs.csv", b"\x00\x01")
        zf.writestr("valley/.DS_Store", b"\x00")
        zf.writestr("valley/README.md", "notes")
    assert models.loads(out.getvalue(), "zip") == minimal()


def test_xlsx_scenario_sheet_dotted_keys_and_stage_lists():
    s = awkward()
    wb = openpyxl.load_workbook(io.BytesIO(models.dumps(s, "xlsx")))
    rows = {r[0]: r[1] for r in wb["scenario"].iter_rows(min_row=2, values_only=True)}
    assert rows["policy.rule"] == "utilitarian"
    assert rows["policy.stages"] == "needs:tier1, min_labour, needs:tier2"
    assert rows["policy.tolerance"] == 0.05
    assert wb["municipalities"]["B3"].value == "=SUM(A1)"  # text, not a formula
    ws = wb["scenario"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "policy.stages":
            row[1].value = '["needs:tier1", "min_labour", "needs:tier2"]'
    out = io.BytesIO()
    wb.save(out)
    assert models.loads(out.getvalue(), "xlsx") == s


def test_hand_made_workbook_with_numbers_as_ids_and_trailing_cells():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "scenario"
    ws.append(["key", "value"])
    ws.append(["name", " hand made "])
    ws.append(["policy.rule", "proportional"])
    ws = wb.create_sheet("municipalities")
    ws.append(["id", "confederation", "population", "labour_hours", None])
    ws.append([101, "root", 10, 100.0])
    ws.append([None, None, None, None])
    ws.append([102, "root", 5, 50])
    ws = wb.create_sheet("items")
    ws.append(["id", "kind"])
    ws.append(["grain", "good"])
    ws = wb.create_sheet("needs")
    ws.append(["municipality", "item", "tier", "quantity", "per_capita"])
    ws.append([101, "grain", 1.0, 3, None])
    ws.append(["102", "grain", 1, None, 2])
    out = io.BytesIO()
    wb.save(out)
    s = models.loads(out.getvalue(), "xlsx", "hand.xlsx")
    assert s.name == "hand made" and s.meta.policy.rule == "proportional"
    assert s.municipalities["id"].tolist() == ["101", "102"]
    assert s.resolved_needs()["need"].tolist() == [3.0, 10.0]


def test_read_table_csv_and_xlsx():
    rows = models.read_table(
        "needs",
        b"municipality,item,tier,quantity,per_capita\nb,grain,2,,1.5\na,grain,1,3,\n",
        "needs.csv",
    )
    assert rows == [
        {"municipality": "a", "item": "grain", "tier": 1, "quantity": 3.0, "per_capita": None},
        {"municipality": "b", "item": "grain", "tier": 2, "quantity": None, "per_capita": 1.5},
    ]
    wb = openpyxl.Workbook()
    wb.active.append(["id", "kind", "transportable"])
    wb.active.append(["grain", "good", None])
    wb.active.append(["co2", "emission", None])
    out = io.BytesIO()
    wb.save(out)
    assert models.read_table("items", out.getvalue(), "upload.xlsx") == [
        {"id": "co2", "name": "", "unit": "", "kind": "emission", "transportable": False},
        {"id": "grain", "name": "", "unit": "", "kind": "good", "transportable": True},
    ]
    s = minimal().replace(needs=rows)
    assert len(s.needs) == 2
    with pytest.raises(KeyError):
        models.read_table("nope", b"a\n", "x.csv")


def test_read_table_reports_file_row_column():
    with pytest.raises(models.ScenarioError) as e:
        models.read_table(
            "needs",
            b"municipality,item,tier,quantity\na,grain,5,-1\na,grain,5,2\n",
            "uploads/my needs.csv",
        )
    assert [str(p) for p in e.value.problems] == [
        "my needs.csv:2: tier: must be 1, 2 or 3 (got 5)",
        "my needs.csv:2: quantity: must not be negative (got -1)",
        "my needs.csv:3: tier: must be 1, 2 or 3 (got 5)",
    ]
    with pytest.raises(models.ScenarioError, match=r"x\.txt:0: -: give a \.csv or \.xlsx"):
        models.read_table("needs", b"a", "x.txt")


def test_save_returns_the_path_and_overwrites(tmp_path):
    path = models.save(valley(), tmp_path / "out")
    assert path == tmp_path / "out"
    models.save(minimal(), path)
    assert models.load(path) == minimal()
    with pytest.raises(ValueError, match="unknown form"):
        models.dumps(valley(), "csv")
    with pytest.raises(ValueError, match="unknown form"):
        models.loads(b"x", "yaml")


def test_workbooks_from_other_tools_dates_rich_text_formulas_and_gaps():
    import datetime

    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "scenario"
    ws.append(["key", "value"])
    ws.append(["name", CellRichText("min", TextBlock(InlineFont(b=True), "imal"))])
    ws.append(["period", datetime.date(2025, 1, 1)])
    ws = wb.create_sheet("municipalities")
    ws.append(["id", "confederation", "population", "labour_hours", "note"])
    ws.append(["a", "root", 10, "=50*2", "formula never calculated"])
    ws["A5"], ws["B5"], ws["C5"], ws["D5"] = "b", "root", 5, 50  # rows 3 and 4 left empty
    ws = wb.create_sheet("items")
    ws.append(["id", "kind", "transportable"])
    ws.append(["grain", "good", True])
    ws = wb.create_sheet("needs")
    for row in ([*MINIMAL_NEEDS_HEADER], ["a", "grain", 1, 3], ["b", "grain", 1, None, 2]):
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(models.ScenarioError) as e:
        models.loads(out.getvalue(), "xlsx", "book.xlsx")
    assert [str(p) for p in e.value.errors] == [
        "book.xlsx[municipalities]:2: labour_hours: missing value"
    ]
    wb["municipalities"]["D2"] = 100
    out = io.BytesIO()
    wb.save(out)
    s = models.loads(out.getvalue(), "xlsx", "book.xlsx")
    assert s.meta.name == "minimal" and s.meta.period == "2025-01-01"
    assert s.municipalities["id"].tolist() == ["a", "b"]
    assert [str(w) for w in s.warnings] == [
        "book.xlsx[municipalities]:1: note: unknown column; ignored (known: id, name, "
        "confederation, population, labour_hours)"
    ]


MINIMAL_NEEDS_HEADER = ("municipality", "item", "tier", "quantity", "per_capita")


def test_yaml_dates_and_numbers_in_metadata_are_text(tmp_path):
    files = {**MINIMAL_FILES, "scenario.yaml": "name: 2025\nperiod: 2025-01-01\n"}
    s = models.load(write_folder(tmp_path / "d", files))
    assert s.meta.name == "2025" and s.meta.period == "2025-01-01"
    assert models.load(models.save(s, tmp_path / "again")) == s

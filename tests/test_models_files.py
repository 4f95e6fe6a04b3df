"""Malformed files become Problems (file:row: column: message), never a traceback."""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl
import pytest
from models_fixtures import MINIMAL_FILES, minimal, write_folder

import models


def problems_of(tmp_path, **files) -> list[str]:
    """Every problem (errors and warnings) of the minimal folder with some files changed."""
    merged = {**MINIMAL_FILES, **files}
    folder = tmp_path / "s"
    folder.mkdir()
    for name, content in merged.items():
        if content is not None:
            data = content if isinstance(content, bytes) else content.encode()
            (folder / name).write_bytes(data)
    with pytest.raises(models.ScenarioError) as e:
        models.load(folder)
    return [str(p) for p in e.value.problems]


def warnings_of(tmp_path, **files) -> list[str]:
    folder = write_folder(tmp_path / "w", {**MINIMAL_FILES, **files})
    s = models.load(folder)
    assert s == minimal()
    return [str(w) for w in s.warnings]


NEEDS_HEAD = "municipality,item,tier,quantity,per_capita\n"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"needs.csv": NEEDS_HEAD + 'a,"grain,1,3,\nb,grain,1,,2\n'},
            ["needs.csv:2: -: bad CSV (line 3): unexpected end of data; check the quotes"],
        ),
        (
            {"needs.csv": NEEDS_HEAD + "a,grain,1,3,,7\nb,grain,1,,2\n"},
            ["needs.csv:2: -: 6 cells but the header has 5"],
        ),
        (
            {"needs.csv": "municipality,item,quantity\na,grain,3\n"},
            ["needs.csv:1: tier: missing required column"],
        ),
        (
            {"needs.csv": "municipality,item,tier\na,grain,1\n"},
            ["needs.csv:1: quantity: missing column: give a quantity or a per_capita column"],
        ),
        ({"items.csv": "id,kind,kind\ngrain,good,good\n"}, ["items.csv:1: kind: duplicate column"]),
        (
            {"scenario.yaml": "name: x\npolicy: {rule: [\n"},
            [
                "scenario.yaml:3: -: YAML syntax error: expected the node content, but found "
                "'<stream end>'"
            ],
        ),
        (
            {"scenario.yaml": "name: x\n  bad: indent\n"},
            ["scenario.yaml:2: -: YAML syntax error: mapping values are not allowed here"],
        ),
        (
            {"scenario.yaml": "period: 2025\npolicy:\n  rule: nope\n"},
            [
                "scenario.yaml:0: name: required key is missing",
                "scenario.yaml:3: policy.rule: unknown rule 'nope' (valid rules: leximin, utilitarian, "
                "proportional, equal_per_capita, min_labour_full)",
            ],
        ),
        (
            {"scenario.yaml": "- a list\n"},
            [
                "scenario.yaml:0: -: scenario metadata must be a mapping with keys name, period, "
                "description, policy"
            ],
        ),
        ({"scenario.yaml": ""}, ["scenario.yaml:0: name: required key is missing"]),
        (
            {"scenario.yaml": None},
            ["scenario.yaml:0: -: missing file (it holds at least the scenario's name)"],
        ),
        (
            {"items.csv": b"id,kind,name\ngrain,good,caf\xe9\n"},
            ["items.csv:2: -: not UTF-8: byte 0xe9 at offset 27; save the file as UTF-8"],
        ),
        (
            {"scenario.yaml": b"name: caf\xc3\n"},
            ["scenario.yaml:1: -: not UTF-8: byte 0xc3 at offset 9; save the file as UTF-8"],
        ),
        ({"items.csv": ""}, ["items.csv:0: -: file is empty (it needs at least a header row)"]),
        (
            {"items.csv": None},
            ["items.csv:0: -: missing file (municipalities, items and needs are mandatory)"],
        ),
        (
            {"items.csv": "", "links.csv": ""},
            [
                "items.csv:0: -: file is empty (it needs at least a header row)",
                "links.csv:0: -: file is empty (it needs at least a header row); read as an empty table",
            ],
        ),
    ],
)
def test_malformed_folder_files(tmp_path, files, expected):
    assert problems_of(tmp_path, **files) == expected


def test_unknown_files_and_columns_are_warnings(tmp_path):
    assert warnings_of(
        tmp_path,
        **{
            "need.csv": "x\n",
            "items.csv": "id,kind,colour\ngrain,good,red\n",
            "notes.txt": "hi",
        },
    ) == [  # problems outside the tables come first
        "need.csv:0: -: not a table name; file ignored (did you mean 'needs'?) (tables are "
        "confederations, municipalities, items, processes, process_io, capacities, endowments, "
        "needs, links, limits, mandates)",
        "items.csv:1: colour: unknown column; ignored (known: id, name, unit, kind, transportable)",
    ]


def test_empty_optional_file_is_an_empty_table(tmp_path):
    assert warnings_of(tmp_path, **{"links.csv": "\n"}) == [
        "links.csv:0: -: file is empty (it needs at least a header row); read as an empty table"
    ]


def test_bom_and_trailing_empty_columns(tmp_path):
    assert (
        warnings_of(
            tmp_path,
            **{
                "scenario.yaml": "\ufeffname: minimal\n",
                "items.csv": "\ufeffid,kind,,\ngrain, good ,,\n",
            },
        )
        == []
    )


def test_paths_that_are_not_scenarios(tmp_path):
    with pytest.raises(models.ScenarioError) as e:
        models.load(tmp_path / "nowhere")
    assert [str(p) for p in e.value.problems] == [
        f"{tmp_path / 'nowhere'}:0: -: no such file or folder"
    ]
    (tmp_path / "needs.csv").write_text("x\n")
    with pytest.raises(models.ScenarioError, match="not a scenario: give a folder"):
        models.load(tmp_path / "needs.csv")
    (tmp_path / "empty.json").write_bytes(b"")
    with pytest.raises(models.ScenarioError, match=r"empty\.json:0: -: file is empty"):
        models.load(tmp_path / "empty.json")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"{not json",
            [
                "scenario.json:1: -: JSON syntax error: Expecting property name enclosed "
                "in double quotes (column 2)"
            ],
        ),
        (
            b"[1, 2]",
            [
                "scenario.json:0: -: the document must be an object with key 'scenario' and "
                "one key per table"
            ],
        ),
        (
            b"\xff\xfe{}",
            ["scenario.json:1: -: not UTF-8: byte 0xff at offset 0; save the file as UTF-8"],
        ),
        (b"  \n", ["scenario.json:0: -: file is empty"]),
        (
            json.dumps({"municipalities": [], "items": [], "needs": []}).encode(),
            [
                "scenario.json#scenario:0: -: missing key 'scenario' (an object with at least a name)"
            ],
        ),
        (
            json.dumps(
                {
                    "scenario": {"name": "x"},
                    "municipalities": {"a": 1},
                    "items": [1],
                    "needs": [{"municipality": ["a"], "item": "grain", "tier": 1, "quantity": 1}],
                }
            ).encode(),
            [
                "scenario.json#municipalities:0: -: a table must be a list of row objects or a DataFrame, "
                "not dict",
                "scenario.json#items:1: -: a row must be an object of column: value",
                "scenario.json#needs:1: municipality: a cell must be a single value, not a list or object",
                "scenario.json#needs:1: item: unknown item 'grain'",
            ],
        ),
        (
            b'{"scenario": {"name": "x"}, "municipalities": [{"id": "a", "confederation": "c", '
            b'"population": NaN, "labour_hours": Infinity}], "items": [], "needs": []}',
            [
                "scenario.json#municipalities:1: population: NaN is not allowed",
                "scenario.json#municipalities:1: labour_hours: must be finite (not inf)",
            ],
        ),
        (
            b'{"scenario": {"name": "x"}, "municipalities": [{"id": "a", "confederation": "c", '
            b'"population": true, "labour_hours": 1}], "items": [], "needs": []}',
            ["scenario.json#municipalities:1: population: not a number: 'true'"],
        ),
    ],
)
def test_malformed_json(data, expected):
    with pytest.raises(models.ScenarioError) as e:
        models.loads(data, "json")
    assert [str(p) for p in e.value.problems if p.is_error] == expected


def test_json_unknown_keys_are_warnings():
    doc = models.to_json(minimal())
    doc["colour"] = []
    doc["needs"][0]["note"] = "x"
    s = models.from_json(doc, source="body.json")
    assert s == minimal()
    assert [str(w) for w in s.warnings] == [
        "body.json#colour:0: -: not a table name; ignored (tables are confederations, "
        "municipalities, items, processes, process_io, capacities, endowments, needs, links, "
        "limits, mandates)",
        "body.json#needs:1: note: unknown column; ignored (known: municipality, item, tier, "
        "quantity, per_capita)",
    ]


def _workbook(**sheets) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


GOOD_SHEETS = {
    "scenario": [["key", "value"], ["name", "minimal"]],
    "municipalities": [
        ["id", "confederation", "population", "labour_hours"],
        ["a", "root", 10, 100],
        ["b", "root", 5, 50],
    ],
    "items": [["id", "kind"], ["grain", "good"]],
    "needs": [
        ["municipality", "item", "tier", "quantity", "per_capita"],
        ["a", "grain", 1, 3, None],
        ["b", "grain", 1, None, 2],
    ],
}


def test_good_workbook():
    assert models.loads(_workbook(**GOOD_SHEETS), "xlsx") == minimal()


def test_workbook_sheet_names():
    sheets = dict(GOOD_SHEETS)
    sheets["Needs"] = sheets.pop("needs")
    sheets["Sheet1"] = []
    with pytest.raises(models.ScenarioError) as e:
        models.loads(_workbook(**sheets), "xlsx", "book.xlsx")
    valid = (
        "scenario, confederations, municipalities, items, processes, process_io, "
        "capacities, endowments, needs, links, limits, mandates"
    )
    assert [str(p) for p in e.value.problems] == [
        "book.xlsx[needs]:0: -: missing sheet",
        f"book.xlsx[Needs]:0: -: not a table name; sheet ignored (did you mean 'needs'?) "
        f"(sheets are {valid})",
        f"book.xlsx[Sheet1]:0: -: not a table name; sheet ignored (sheets are {valid})",
    ]
    assert [p.level for p in e.value.problems] == ["error", "warning", "warning"]


def test_workbook_problems_name_sheet_and_row():
    sheets = dict(GOOD_SHEETS)
    sheets["scenario"] = [["key", "value"], ["policy.rule", "nope"]]
    sheets["needs"] = [*GOOD_SHEETS["needs"], ["c", "grain", "x", 1, None]]
    sheets["links"] = []
    with pytest.raises(models.ScenarioError) as e:
        models.loads(_workbook(**sheets), "xlsx", "book.xlsx")
    assert [str(p) for p in e.value.problems] == [
        "book.xlsx[scenario]:0: name: required key is missing",
        "book.xlsx[scenario]:2: policy.rule: unknown rule 'nope' (valid rules: leximin, utilitarian, "
        "proportional, equal_per_capita, min_labour_full)",
        "book.xlsx[needs]:4: municipality: unknown municipality 'c'",
        "book.xlsx[needs]:4: tier: not a number: 'x'",
        "book.xlsx[links]:0: -: sheet is empty (it needs at least a header row); read as an "
        "empty table",
    ]


def test_workbook_without_scenario_sheet_and_bad_bytes():
    sheets = dict(GOOD_SHEETS)
    del sheets["scenario"]
    with pytest.raises(models.ScenarioError) as e:
        models.loads(_workbook(**sheets), "xlsx", "book.xlsx")
    assert [str(p) for p in e.value.problems] == [
        "book.xlsx:0: -: missing sheet 'scenario' (columns key, value; at least the row name)"
    ]
    with pytest.raises(models.ScenarioError) as e:
        models.loads(b"not a workbook", "xlsx", "book.xlsx")
    assert [str(p) for p in e.value.problems] == [
        "book.xlsx:0: -: not an .xlsx workbook (File is not a zip file)"
    ]


def test_zip_problems():
    with pytest.raises(models.ScenarioError, match=r"up\.zip:0: -: not a zip archive"):
        models.loads(b"PK no", "zip", "up.zip")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, text in MINIMAL_FILES.items():
            zf.writestr(name, text if name != "items.csv" else "id,kind\ngrain,gud\n")
    with pytest.raises(models.ScenarioError) as e:
        models.loads(out.getvalue(), "zip", "up.zip")
    assert [str(p) for p in e.value.problems] == [
        "up.zip/items.csv:2: kind: unknown kind 'gud' (known: good, resource, emission)"
    ]


def test_read_table_problems():
    assert models.read_table("items", b"id,kind\n", "items.csv") == []
    with pytest.raises(models.ScenarioError) as e:
        models.read_table("items", b"id,colour\nx y,red\n", "items.csv")
    assert [str(p) for p in e.value.problems] == [
        "items.csv:1: kind: missing required column",
        "items.csv:2: id: not a valid id 'x y' (use letters, digits, _ - . only)",
        "items.csv:1: colour: unknown column; ignored (known: id, name, unit, kind, transportable)",
    ]
    book = _workbook(Sheet1=[["id", "kind"], ["a", "good"]], Sheet2=[])
    with pytest.raises(models.ScenarioError) as e:
        models.read_table("items", book, "book.xlsx")
    assert [str(p) for p in e.value.problems] == [
        "book.xlsx:0: -: no sheet named 'items' (sheets: Sheet1, Sheet2)"
    ]
    with pytest.raises(models.ScenarioError, match=r"x\.csv:2: -: not UTF-8"):
        models.read_table("items", b"id,kind\n\xff,good\n", "x.csv")
    with pytest.raises(models.ScenarioError, match=r"x\.csv:0: -: file is empty"):
        models.read_table("items", b"", "x.csv")

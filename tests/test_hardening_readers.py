"""Every reader fuzzed: whatever the bytes, the answer is a scenario or a ``ScenarioError``.

Issue 18, point 5: fuzzing the zip and xlsx readers found 25 distinct
uncaught exception sites (``BadZipFile``, ``zlib.error``, bad cell
references such as ``1A`` or ``ZZZZZZZ2``, deep JSON's ``RecursionError``).
Each reader (CSV folder, zip of CSVs, xlsx, JSON, one uploaded table) gets
random bytes, valid files with bytes flipped, and well-formed containers
with generated content. Bounded: a fixed number of examples each.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models

EXAMPLES = 60
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
VALLEY = Path(__file__).resolve().parent.parent / "data" / "valley"
_VALID: dict[str, bytes] = {}


def valid(form: str) -> bytes:
    if form not in _VALID:
        _VALID[form] = models.dumps(models.load(VALLEY), form)
    return _VALID[form]


def read(data: bytes, form: str) -> None:
    """Read ``data``; only a clean refusal (``ScenarioError``) may be raised."""
    try:
        models.loads(data, form, f"fuzz.{form}")
    except models.ScenarioError as e:
        assert e.problems and all(str(p).count(":") >= 3 for p in e.problems)


def flipped(form: str) -> st.SearchStrategy[bytes]:
    """A valid file of ``form`` with a few bytes changed, cut or repeated."""

    @st.composite
    def build(draw) -> bytes:
        data = bytearray(valid(form))
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        if draw(st.booleans()):
            data = data[: draw(st.integers(0, len(data)))]
        return bytes(data)

    return build()


@pytest.mark.parametrize("form", ["zip", "xlsx", "json"])
@FUZZ
@given(data=st.binary(max_size=2000))
def test_random_bytes(form, data):
    read(data, form)


@pytest.mark.parametrize("form", ["zip", "xlsx", "json"])
@FUZZ
@given(data=st.data())
def test_a_valid_file_with_flipped_bytes(form, data):
    read(data.draw(flipped(form)), form)


NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REF = st.one_of(
    st.from_regex(r"[A-Z]{1,8}[0-9]{1,12}", fullmatch=True),
    st.from_regex(r"[0-9]{1,3}[A-Z]{1,3}", fullmatch=True),
    st.text(max_size=6),
)
CELL = st.builds(
    lambda ref, t, v: f'<c r="{ref}" t="{t}"><v>{v}</v></c>',
    REF.map(lambda r: r.replace('"', "").replace("<", "").replace("&", "")),
    st.sampled_from(["n", "s", "b", "str", "e", "d", "inlineStr", "x"]),
    st.one_of(
        st.integers(-(10**30), 10**30).map(str),
        st.floats(allow_nan=True).map(repr),
        st.text(alphabet="0123456789.eE-+x", max_size=12),
    ),
)
ROW = st.builds(
    lambda r, cells: f'<row r="{r}">{"".join(cells)}</row>',
    st.one_of(st.integers(-5, 10**12), st.just("x")),
    st.lists(CELL, max_size=4),
)


def book(sheets: dict[str, str]) -> bytes:
    """An .xlsx with one sheet per (name, sheetData content)."""
    rels, entries, files = [], [], {}
    for i, (name, rows) in enumerate(sheets.items(), start=1):
        entries.append(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>')
        rels.append(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships/worksheet" Target="worksheets/s{i}.xml"/>'
        )
        files[f"xl/worksheets/s{i}.xml"] = (
            f"<worksheet {NS}><sheetData>{rows}</sheetData></worksheet>"
        )
    files["xl/workbook.xml"] = (
        f'<workbook {NS} xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships"><sheets>{"".join(entries)}</sheets></workbook>'
    )
    files["xl/_rels/workbook.xml.rels"] = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(rels)
        + "</Relationships>"
    )
    files["[Content_Types].xml"] = "<Types/>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return out.getvalue()


@FUZZ
@given(rows=st.lists(ROW, max_size=6), name=st.sampled_from(["needs", "scenario", "items"]))
def test_generated_workbooks(rows, name):
    data = book({name: "".join(rows), "municipalities": "".join(rows[:2])})
    read(data, "xlsx")
    try:
        models.read_table("needs", data, "needs.xlsx")
    except models.ScenarioError:
        pass


CSV_TEXT = st.text(alphabet=st.sampled_from(list("ab1-=.,;\"'\n\r \t\x00é")), max_size=300)


@FUZZ
@given(
    files=st.dictionaries(
        st.sampled_from(
            [
                "scenario.yaml",
                "items.csv",
                "needs.csv",
                "municipalities.csv",
                "confederations.csv",
                "sub/needs.csv",
                "x.csv",
            ]
        ),
        CSV_TEXT,
        max_size=6,
    )
)
def test_generated_zips_of_csv(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text.encode("utf-8", "surrogatepass"))
    read(out.getvalue(), "zip")


@FUZZ
@given(text=CSV_TEXT, table=st.sampled_from(["needs", "items", "mandates"]))
def test_one_uploaded_csv_table(text, table):
    try:
        models.read_table(table, text.encode(), f"{table}.csv")
    except models.ScenarioError as e:
        assert all(str(p).count(":") >= 3 for p in e.problems)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=20,
)


@FUZZ
@given(
    doc=st.dictionaries(
        st.sampled_from(["scenario", "items", "needs", "municipalities", "x"]), JSON
    )
)
def test_generated_json_documents(doc):
    import json

    read(json.dumps(doc).encode(), "json")


def test_deep_json_is_refused_cleanly():
    with pytest.raises(models.ScenarioError, match="nested too deeply"):
        models.loads(b"[" * 100_000 + b"]" * 100_000, "json")


@FUZZ
@given(
    files=st.dictionaries(
        st.sampled_from(["scenario.yaml", "needs.csv", "items.csv"]), CSV_TEXT, min_size=1
    )
)
def test_csv_folders(tmp_path_factory, files):
    folder = tmp_path_factory.mktemp("folder")
    for name, text in files.items():
        (folder / name).write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        models.load(folder)
    except models.ScenarioError:
        pass


def test_a_row_past_the_limit_stops_the_reading_but_a_blank_one_is_skipped():
    header = "".join(
        f'<c r="{c}1" t="inlineStr"><is><t>{h}</t></is></c>'
        for c, h in zip("ABCD", ["municipality", "item", "tier", "quantity"], strict=True)
    )
    far = '<row r="1048576"><c r="A1048576" s="1"/></row>'  # formatting only, as Excel writes
    data = book({"needs": f'<row r="1">{header}</row>{far}'})
    limits = models.Limits(max_rows=100)
    assert models.read_table("needs", data, "needs.xlsx", limits) == []  # only the header
    hostile = '<row r="200000000"><c r="A200000000" t="inlineStr"><is><t>x</t></is></c></row>'
    with pytest.raises(models.ScenarioError) as e:
        models.read_table(
            "needs", book({"needs": f'<row r="1">{header}</row>{hostile}'}), "needs.xlsx", limits
        )
    assert [str(p) for p in e.value.problems] == [
        "needs.xlsx[needs]:200000000: -: a row past row 101 (at most 100 rows after the header)"
    ]

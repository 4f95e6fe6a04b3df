"""Reading and writing every form: CSV folder, zip of CSVs, .xlsx workbook, JSON."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from models._csv import read_csv_table, read_yaml, write_csv_table, write_yaml
from models._formula import neutralise_frame, restore_frame
from models._frozen import Scenario
from models._json import document, parse_json, split_document
from models._limits import DEFAULT, Limits, check_lines, open_zip, read_member
from models._normalise import RawTable
from models._problems import WARNING, Problem, ScenarioError
from models._scenario import assemble, raw_from_input
from models._schema import TABLES
from models._source import Source
from models._text import suggest
from models._xlsx import read_xlsx, write_xlsx

FORMS = ("json", "xlsx", "zip")
_META_NAMES = ("scenario.yaml", "scenario.yml")


def _from_csv_files(
    files: Mapping[str, bytes], source: Source, limits: Limits = DEFAULT
) -> Scenario:
    """Assemble a scenario from CSV files and scenario.yaml, by file name."""
    for fname, data in files.items():
        if fname.lower().endswith(".csv"):
            check_lines(data, source.file(fname.rpartition(".")[0]), limits)
    problems: list[Problem] = []
    meta, lines = None, {}
    meta_name = next((n for n in _META_NAMES if n in files), None)
    if meta_name is None:
        problems.append(
            Problem(
                source.meta_file, 0, "-", "missing file (it holds at least the scenario's name)"
            )
        )
    else:
        meta, lines, found = read_yaml(files[meta_name], source.meta_file)
        problems += found
        if meta is None and not found:
            problems.append(Problem(source.meta_file, 0, "-", "unreadable"))
    raws: dict[str, RawTable | None] = {}
    for fname, data in sorted(files.items()):
        stem, dot, suffix = fname.rpartition(".")
        if not dot or suffix.lower() != "csv":
            continue
        if stem not in TABLES:
            problems.append(
                Problem(
                    source.file(stem),
                    0,
                    "-",
                    "not a table name; file "
                    "ignored" + suggest(stem) + " (tables are " + ", ".join(TABLES) + ")",
                    WARNING,
                )
            )
            continue
        raws[stem], found = read_csv_table(
            data, source.file(stem), optional=not TABLES[stem].mandatory
        )
        if raws[stem] is not None:
            raws[stem].frame = restore_frame(raws[stem].frame)
        problems += found
    for t in TABLES.values():
        if t.mandatory and t.name not in raws:
            problems.append(
                Problem(
                    source.file(t.name),
                    0,
                    "-",
                    "missing file (municipalities, items and needs are mandatory)",
                )
            )
            raws[t.name] = None
    return assemble(meta, raws, source, problems, lines)


def _read_folder(path: Path) -> Scenario:
    files = {
        p.name: p.read_bytes()
        for p in sorted(path.iterdir())
        if p.is_file() and (p.suffix.lower() == ".csv" or p.name in _META_NAMES)
    }
    return _from_csv_files(files, Source.csv())


def _read_zip(data: bytes, name: str, limits: Limits = DEFAULT) -> Scenario:
    with open_zip(data, name, limits) as zf:
        infos = [
            i
            for i in zf.infolist()
            if not i.is_dir()
            and not i.filename.startswith("__MACOSX/")
            and not PurePosixPath(i.filename).name.startswith(".")
        ]
        paths = [PurePosixPath(i.filename) for i in infos]
        metas = [p for p in paths if p.name in _META_NAMES]
        root = min((p.parent for p in metas), key=lambda p: len(p.parts), default=None)
        if root is None:
            parents = {p.parent for p in paths if p.suffix.lower() == ".csv"}
            root = min(parents, key=lambda p: len(p.parts), default=PurePosixPath("."))
        files = {
            p.name: read_member(zf, i, name, limits)
            for p, i in zip(paths, infos, strict=True)
            if p.parent == root and (p.suffix.lower() == ".csv" or p.name in _META_NAMES)
        }
    return _from_csv_files(files, Source.csv(f"{name}/"), limits)


def _read_json_bytes(data: bytes, name: str, limits: Limits = DEFAULT) -> Scenario:
    doc, problems = parse_json(data, name)
    if doc is None:
        raise ScenarioError(problems)
    return _from_document(doc, name, problems)


def _from_document(doc: Any, name: str, problems: list[Problem]) -> Scenario:
    source = Source.json(name)
    meta, tables, found = split_document(doc, name)
    problems = problems + found
    if not isinstance(doc, dict):
        raise ScenarioError(problems)
    raws: dict[str, RawTable | None] = {}
    for key, value in tables.items():
        raws[key], found = raw_from_input(value, source.file(key), source)
        problems += found
    return assemble(meta, raws, source, problems)


def _read_xlsx_bytes(data: bytes, name: str, limits: Limits = DEFAULT) -> Scenario:
    meta, lines, raws, problems = read_xlsx(data, name, limits)
    if any(p.file == name and p.row == 0 and p.is_error for p in problems):
        raise ScenarioError(problems)  # not a workbook at all
    return assemble(meta, raws, Source.xlsx(name), problems, lines)


def load(path: str | Path) -> Scenario:
    """Read a scenario: a folder of CSVs, or a ``.xlsx``, ``.json`` or ``.zip`` file.

    A path to ``scenario.yaml`` reads its folder. Raises ``ScenarioError``
    (never another exception) for anything wrong with the input.
    """
    path = Path(path)
    label = str(path)
    try:
        if path.is_dir():
            return _read_folder(path)
        if not path.exists():
            raise ScenarioError([Problem(label, 0, "-", "no such file or folder")])
        if path.name in _META_NAMES:
            return _read_folder(path.parent)
        suffix = path.suffix.lower().lstrip(".")
        if suffix not in FORMS:
            raise ScenarioError(
                [
                    Problem(
                        label,
                        0,
                        "-",
                        "not a scenario: give a folder of "
                        "CSV files (with scenario.yaml), or a .xlsx, .json "
                        "or .zip file",
                    )
                ]
            )
        return loads(path.read_bytes(), suffix, path.name)
    except OSError as e:
        raise ScenarioError([Problem(label, 0, "-", f"cannot read: {e.strerror or e}")]) from None


def loads(
    data: bytes,
    form: str | None = None,
    filename: str | None = None,
    limits: Limits = DEFAULT,
) -> Scenario:
    """Read a scenario from bytes: ``form`` is ``json``, ``xlsx`` or ``zip``.

    ``form`` may be left out when ``filename`` has one of those suffixes;
    ``filename`` names the input in problems (default ``scenario.<form>``).
    Reading stops as soon as the input passes ``limits`` (rows per table,
    unpacked bytes, packing ratio): ``ScenarioError`` says which.
    """
    if form is None and filename:
        form = PurePosixPath(filename).suffix.lower().lstrip(".")
    form = (form or "").lower().lstrip(".")
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}; forms are {', '.join(FORMS)}")
    name = PurePosixPath(filename).name if filename else f"scenario.{form}"
    if not data:
        raise ScenarioError([Problem(name, 0, "-", "file is empty")])
    reader = {"json": _read_json_bytes, "xlsx": _read_xlsx_bytes, "zip": _read_zip}[form]
    return reader(data, name, limits)


def to_json(scenario: Scenario) -> dict:
    """The JSON document: {"scenario": {...}, "<table>": [row objects, ...]}."""
    return document(scenario.meta.to_dict(), scenario.tables())


def from_json(doc: Any, source: str = "scenario.json") -> Scenario:
    """Build a scenario from the JSON document (already parsed), e.g. an API body."""
    return _from_document(doc, PurePosixPath(source).name or source, [])


def _csv_files(scenario: Scenario) -> dict[str, bytes]:
    files = {"scenario.yaml": write_yaml(scenario.meta.to_dict())}
    for name, frame in scenario.tables().items():
        files[f"{name}.csv"] = write_csv_table(neutralise_frame(frame))
    return files


def dumps(scenario: Scenario, form: str) -> bytes:
    """The scenario as bytes: ``json``, ``xlsx`` or ``zip`` (of the CSV folder)."""
    form = form.lower().lstrip(".")
    if form == "json":
        return (
            json.dumps(to_json(scenario), ensure_ascii=False, indent=1, allow_nan=False) + "\n"
        ).encode()
    if form == "xlsx":
        return write_xlsx(scenario.meta.to_dict(), scenario.tables())
    if form == "zip":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for fname, data in _csv_files(scenario).items():
                zf.writestr(fname, data)
        return out.getvalue()
    raise ValueError(f"unknown form {form!r}; forms are {', '.join(FORMS)}")


def save(scenario: Scenario, path: str | Path) -> Path:
    """Write a scenario by the path's suffix (.xlsx, .json, .zip) or as a CSV folder.

    A folder gets scenario.yaml and one CSV per table (header only when the
    table is empty). Returns the path written.
    """
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(dumps(scenario, suffix))
        return path
    path.mkdir(parents=True, exist_ok=True)
    for fname, data in _csv_files(scenario).items():
        (path / fname).write_bytes(data)
    return path


__all__ = ["FORMS", "dumps", "from_json", "load", "loads", "save", "to_json"]

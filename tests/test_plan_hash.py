"""A plan's hash: the same input gives the same plan, byte for byte, once its timings are left out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import models
import planner
from planner.plan import plan_hash, without_timings
from planner.why import enrich_safely

pytest_plugins = ["api_fixtures"]

ROOT = Path(__file__).resolve().parents[1]
VALLEY = ROOT / "data" / "valley"


def _planner(*args: str, seed: int = 0) -> subprocess.CompletedProcess:
    """``planner ARGS`` in a process of its own (its own string-hash seed: set orders differ)."""
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    code = "from planner.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )


def _solve(path: Path, *flags: str, seed: int = 0) -> tuple[str, dict]:
    r = _planner("solve", str(path), "--json", "--quiet", *flags, seed=seed)
    assert r.returncode == 0, r.stderr
    return r.stdout, json.loads(r.stdout)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A small scenario written by ``planner generate``."""
    path = tmp_path_factory.mktemp("gen") / "g"
    r = _planner("generate", str(path), "--municipalities", "8", "--goods", "10", "--seed", "4")
    assert r.returncode == 0, r.stderr
    return path


@pytest.mark.parametrize("which", ["valley", "generated"])
def test_two_runs_print_the_same_plan_once_timings_are_left_out(which, request):
    path = VALLEY if which == "valley" else request.getfixturevalue("generated")
    s = models.load(path)
    text_a, a = _solve(path, "--no-timings", seed=1)
    text_b, b = _solve(path, "--no-timings", seed=2)
    assert text_a == text_b  # byte for byte
    assert a["hash"] == plan_hash(a) and len(a["hash"]) == 64
    assert all(st["seconds"] is None for st in a["stages"]) and {"name", "value", "solves"} <= set(
        a["stages"][0]
    )
    assert a["timings"]["solve"] is None and a["timings"]["lp_solves"] >= len(a["stages"])
    # with the timings: the same hash, and the documents differ in timings only
    _, timed = _solve(path, seed=3)
    assert timed["hash"] == a["hash"] == plan_hash(timed)
    assert all(isinstance(st["seconds"], float) for st in timed["stages"])
    assert without_timings(timed) == a
    for doc in (a, timed):
        assert planner.check_plan(s, doc) == []


def test_the_hash_changes_with_the_input_and_the_rule_but_not_the_timings(tmp_path):
    s = models.load(VALLEY)
    base = planner.solve(s).to_dict()
    changed = tmp_path / "valley"
    shutil.copytree(VALLEY, changed)
    needs = (changed / "needs.csv").read_text().splitlines()
    head = needs[0].split(",")
    row = needs[1].split(",")
    q = head.index("per_capita")  # ashford's bread: half as much again
    row[q] = str(float(row[q]) * 1.5)
    needs[1] = ",".join(row)
    (changed / "needs.csv").write_text("\n".join(needs) + "\n")
    s2 = models.load(changed)
    assert s2.content_hash != s.content_hash
    other_input = planner.solve(s2).to_dict()
    other_rule = planner.solve(s, rule="utilitarian").to_dict()
    hashes = {base["hash"], other_input["hash"], other_rule["hash"]}
    assert len(hashes) == 3
    for scen, doc in ((s, base), (s2, other_input), (s, other_rule)):
        assert doc["hash"] == plan_hash(doc) and planner.check_plan(scen, doc) == []
    # timings are outside the hash; any other field is inside it
    slower = json.loads(json.dumps(base))
    slower["stages"][0]["seconds"] = 99.0
    slower["timings"]["solve"] = 99.0
    assert plan_hash(slower) == base["hash"]
    tampered = json.loads(json.dumps(base))
    tampered["deliveries"][0]["delivered"] += 1.0
    assert plan_hash(tampered) != base["hash"]
    # explanations are part of the plan, and the hash covers them
    explained = enrich_safely(s, planner.solve(s))
    assert explained["explanations"] and explained["hash"] == plan_hash(explained)
    assert explained["hash"] != base["hash"]


def test_the_api_plan_carries_the_hash_of_the_same_input(world):
    first = world.plan()
    again = world.plan()
    doc = first["plan"]
    assert doc["hash"] == plan_hash(doc) == first["plan_hash"]
    assert again["plan"]["hash"] == doc["hash"] and again["id"] != first["id"]
    assert planner.check_plan(models.load(VALLEY), doc) == []
    # the same input solved by the planner itself (as the command line does) names the same plan
    s = models.load(VALLEY)
    assert s.content_hash == first["input_hash"]
    assert enrich_safely(s, planner.solve(s))["hash"] == doc["hash"]
    h = world.h["coord:valley"]
    listed = world.client.get("/plans", headers=h).json()["data"]
    assert {p["plan_hash"] for p in listed} == {doc["hash"]}
    cmp = world.client.get(f"/plans/{first['id']}/compare/{again['id']}", headers=h).json()
    assert cmp["same_input"] and cmp["same_plan"]
    other = world.plan(rule="utilitarian")
    assert other["plan_hash"] != doc["hash"]
    cmp = world.client.get(f"/plans/{first['id']}/compare/{other['id']}", headers=h).json()
    assert cmp["same_input"] and not cmp["same_plan"]

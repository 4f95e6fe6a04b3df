"""Properties: any valid scenario survives every form, and its hash ignores row order."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from models_fixtures import same_frames

import models

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
chars = st.characters(exclude_categories=("Cc", "Cs", "Cn"))
ids = st.text("abcXYZ019_.-", min_size=1, max_size=6)
amounts = st.one_of(st.integers(0, 10**6), st.floats(0, 1e6, allow_nan=False, allow_infinity=False))


@st.composite
def scenarios(draw):
    towns = draw(st.lists(ids, min_size=1, max_size=5, unique=True))
    goods = draw(st.lists(ids.map(lambda s: "g" + s), min_size=1, max_size=4, unique=True))
    muns = [
        {
            "id": t,
            "name": draw(st.text(chars, max_size=8)).strip(),
            "confederation": "root",
            "population": draw(amounts),
            "labour_hours": draw(amounts),
        }
        for t in towns
    ]
    items = [{"id": g, "kind": "good", "transportable": draw(st.booleans())} for g in goods]
    needs = []
    for t in towns:
        for g in goods:
            for tier in draw(st.sets(st.integers(1, 3), max_size=3)):
                key = draw(st.sampled_from(["quantity", "per_capita"]))
                needs.append({"municipality": t, "item": g, "tier": tier, key: draw(amounts)})
    links = []
    for a, b in zip(towns, towns[1:], strict=False):
        links.append(
            {
                "from": a,
                "to": b,
                "labour_per_unit": draw(st.sampled_from([0, 0.5, 2])),
                "capacity": draw(st.one_of(st.none(), amounts)),
                "loss": draw(st.floats(0, 0.99)),
                "both_ways": draw(st.booleans()),
            }
        )
    meta = {
        "name": draw(st.text(chars, min_size=1, max_size=10).filter(str.strip)),
        "policy": {"rule": draw(st.sampled_from(models.RULES))},
    }
    return meta, {"municipalities": muns, "items": items, "needs": needs, "links": links}


@SETTINGS
@given(scenarios(), st.sampled_from(["json", "xlsx", "zip"]), st.randoms())
def test_round_trip_and_row_order(case, form, rnd: random.Random):
    meta, tables = case
    s = models.from_tables(meta, tables)
    back = models.loads(models.dumps(s, form), form)
    assert back == s and same_frames(back, s)
    shuffled = {k: rnd.sample(v, len(v)) for k, v in tables.items()}
    assert models.from_tables(meta, shuffled).content_hash == s.content_hash
    assert models.from_json(models.to_json(s)) == s


@SETTINGS
@given(scenarios())
def test_folder_round_trip(tmp_path_factory, case):
    meta, tables = case
    s = models.from_tables(meta, tables)
    folder = models.save(s, tmp_path_factory.mktemp("s") / "folder")
    assert same_frames(models.load(folder), s)

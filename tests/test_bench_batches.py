"""bench.batches works on a tiny size and on the valley; it asserts nothing about speed."""

from __future__ import annotations

from bench import batches


def test_batches_measure_every_figure():
    rows = batches.run(["valley"], count=2, workers=0, log=lambda msg: None)
    row = rows[0]
    assert row["plan"]["status"] == "shortfall" and row["plan"]["iterations"] > 0
    c, m = row["courses"], row["mandate_costs"]
    assert c["found"] == 2 and c["tasks"] == 4  # two rounds of two directions
    assert m["mandates"] == 4 and m["tasks"] == 4
    for part in (c, m):
        assert part["wall"] > 0 and part["cpu"] > 0 and part["iterations"] > 0
        assert part["ratio"] == part["wall"] / row["plan"]["wall"]
    assert "x one plan" in batches.summary(row)

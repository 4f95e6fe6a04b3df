"""Scratch diagnosis, as run: plan a generated size in one mode of bench.exactness.MODES
(``PYTHONPATH=. python diag.py 25x50:11 verified ['{"scale": "both"}']``), print every
max-min round (level, needs fixed, how) and the certificate's failing levels."""

import json
import sys
import time

import planner
import planner.core as core
from bench.exactness import MODES, _scenario
from planner.certificate import failures, leximin_levels
from planner.engine import Engine

spec, mode = sys.argv[1], sys.argv[2]
extra = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
box = {}


class E(Engine):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        box["e"] = self

    def run(self, specs):
        r = super().run(specs)
        box["r"] = r
        return r


core.Engine = E
sc = _scenario(spec)
t0 = time.perf_counter()
plan = planner.solve(sc, **{**MODES[mode], **extra}).to_dict()
el = time.perf_counter() - t0
e = box["e"]
print(
    f"{spec} {mode} {extra} {el:.1f}s solves={e.solves} it={e.iterations} verif={e.verifications} stalls={e.stalls} repairs={e.repairs}"
)
for o in box["r"].outcomes:
    if o.rounds:
        print(o.name, [(round(r.level, 6), len(r.fixed), r.how) for r in o.rounds])
print("check", len(planner.check_plan(sc, plan)))
lv = leximin_levels(sc, plan["deliveries"])
bad = failures(lv)
print("levels", len(lv), "failing", len(bad))
for b in bad:
    print(
        f"  tier {b.tier} level {b.level:.7f} needs {b.needs} rise {b.rise:.4g} per need {b.rise / max(1, b.needs):.3g} unexpl {b.unexplained:.3g}"
    )

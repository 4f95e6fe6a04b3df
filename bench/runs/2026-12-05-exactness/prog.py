"""Scratch, as run: plan with a progress line per round (``prog.py M:1 verified '{}' 600``)."""

import json
import sys
import time

import planner
from bench.exactness import MODES, _scenario

spec, mode = sys.argv[1], sys.argv[2]
extra = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
sc = _scenario(spec)
t0 = time.perf_counter()


def prog(stage, k, v):
    print(f"{time.perf_counter() - t0:8.1f} {stage} {k} {v:.7f}", flush=True)


plan = planner.solve(
    sc,
    progress=prog,
    time_limit=float(sys.argv[4]) if len(sys.argv) > 4 else None,
    **{**MODES[mode], **extra},
).to_dict()
print(
    "status",
    plan["status"],
    time.perf_counter() - t0,
    plan["timings"].get("lp_solves"),
    plan["timings"].get("iterations"),
)

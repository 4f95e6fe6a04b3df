"""Plan a generated confederation with a given backend, printing progress and the kept pool.

``python bench/runs/2026-12-05-kept/tourk.py 200x100:1 highs-kept 900``: every tenth
round and every stage's end, the seconds so far, the stage, the round, the level, the
kept pool's counters (columns entered, pricing rounds, shrinks, columns dropped) and
its size; at the end the plan's stages and the checker's verdict.
"""

import sys
import time

import models
import planner
from planner import check_plan
from solvers import _kept

made = []
_init = _kept.KeptPoolBackend.__init__


def _record(self, **options):
    _init(self, **options)
    made.append(self)


_kept.KeptPoolBackend.__init__ = _record


def main() -> None:
    """Plan sys.argv[1] (MxG:seed) with backend sys.argv[2] within sys.argv[3] seconds."""
    m, g, seed = (int(v) for v in sys.argv[1].replace(":", "x").split("x"))
    s = models.generate(m, g, seed)
    t0 = time.time()

    def progress(stage, k, value):
        if k == -1 or k % 10 == 0:
            kept = [b.kept for b in made]
            size = [None if b._cols is None else len(b._cols) for b in made]
            print(f"{time.time() - t0:8.1f} {stage} {k} {value} {kept} {size}", flush=True)

    c0 = time.process_time()
    p = planner.solve(s, solver=sys.argv[2], time_limit=float(sys.argv[3]), progress=progress)
    print("done", p.status, time.time() - t0, time.process_time() - c0, p.timings["lp_solves"])
    for st in p.stages:
        print("  ", st["name"], st["value"], f"{st['seconds']:.1f}s", st["solves"], st["rounds"])
    print("check", len(check_plan(s, p.to_dict())))


if __name__ == "__main__":
    main()

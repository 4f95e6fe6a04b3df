"""`python -m bench.inputs [--out bench/INPUTS.md] [--repeat 3]`: how fast inputs are read.

Times, best and worst of ``--repeat`` runs (wall and CPU seconds), the input side at the size
of a large confederation, with the targets the tests used to hold as timed asserts (speed
targets live here, not in timed unit tests):

- validating 1,000 municipalities with 100,000 needs (``models.from_tables``): ≤ 5 s;
- the same tables with 100 bad quantities, every problem reported at once: ≤ 5 s;
- generating a 1,000 × 200 confederation (``models.generator.generate``): ≤ 20 s.

The tests keep what these do (counts, every error named); this file keeps how long they take.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

import models
from bench import report
from models.generator import generate

HERE = Path(__file__).resolve().parent
MUNICIPALITIES, GOODS = 1000, 100
GENERATE = (1000, 200)


def big_tables(bad_every: int = 0) -> tuple[dict, dict]:
    """1,000 municipalities on a chain, 100 goods, every good needed everywhere (tier 1)."""
    n, goods = MUNICIPALITIES, GOODS
    muns = pd.DataFrame(
        {
            "id": [f"m{i}" for i in range(n)],
            "confederation": "root",
            "population": 100.0,
            "labour_hours": 1e5,
        }
    )
    items = pd.DataFrame({"id": [f"g{i}" for i in range(goods)], "kind": "good"})
    needs = pd.DataFrame(
        {
            "municipality": muns["id"].repeat(goods).to_numpy(),
            "item": list(items["id"]) * n,
            "tier": 1,
            "quantity": 2.0,
        }
    )
    if bad_every:
        needs.loc[::bad_every, "quantity"] = -1.0
    links = pd.DataFrame(
        {
            "from": muns["id"][:-1].to_numpy(),
            "to": muns["id"][1:].to_numpy(),
            "labour_per_unit": 1.0,
        }
    )
    return {"name": "big"}, {"municipalities": muns, "items": items, "needs": needs, "links": links}


def _validate_good() -> str:
    s = models.from_tables(*big_tables())
    return f"{len(s.needs):,} needs"


def _validate_bad() -> str:
    try:
        models.from_tables(*big_tables(bad_every=1000))
    except models.ScenarioError as e:
        return f"{len(e.errors)} errors reported"
    raise SystemExit("the bad tables validated: the benchmark's input is wrong")


def _generate() -> str:
    s = generate(*GENERATE, seed=0)
    return f"{len(s.municipalities):,} municipalities, {len(s.needs):,} needs"


CASES = [
    ("validate 1,000 municipalities, 100,000 needs", _validate_good, 5.0),
    ("validate the same with 100 bad quantities", _validate_bad, 5.0),
    ("generate 1,000 × 200", _generate, 20.0),
]


def measure(repeat: int) -> list[dict]:
    rows = []
    for label, fn, target in CASES:
        walls, cpus, what = [], [], ""
        for _ in range(repeat):
            w, c = time.perf_counter(), time.process_time()
            what = fn()
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        rows.append({"case": label, "what": what, "target": target, "wall": walls, "cpu": cpus})
    return rows


def render(rows: list[dict]) -> str:
    lines = [
        "# Inputs: validation and generation at 1,000 municipalities",
        "",
        f"`python -m bench.inputs` (run by `make bench`). {report.machine()}. {report.git_state(HERE.parent)}.",
        "",
        "| case | result | wall s (best / worst) | CPU s (best / worst) | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ok = min(r["wall"]) <= r["target"]
        lines.append(
            f"| {r['case']} | {r['what']} | {min(r['wall']):.2f} / {max(r['wall']):.2f} | "
            f"{min(r['cpu']):.2f} / {max(r['cpu']):.2f} | ≤ {r['target']:g} s | "
            f"{'yes' if ok else 'no'} |"
        )
    lines += [
        "",
        "The target is met when the best wall time is within it (the machine's two cores are "
        "shared, so the worst run shows the load, not the code).",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.inputs", description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(HERE / "INPUTS.md"))
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    rows = measure(max(1, args.repeat))
    text = render(rows)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Solve one LP (an .npz written by bench.pool) with HiPO, no crossover; print a JSON row.

Run by bench.pool in an interpreter with ``highspy[extras]`` (it pins highspy 1.15),
so this file imports nothing of ours.
"""

from __future__ import annotations

import json
import sys
import time

import highspy
import numpy as np


def main(path: str) -> None:
    """Load, solve, print status, seconds, iterations and objective as JSON."""
    z = np.load(path)
    n = z["c"].size
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(
        n,
        int(z["m"]),
        int(z["data"].size),
        2,
        int(z["sense"]),
        0.0,
        z["c"],
        z["cl"],
        z["cu"],
        z["rl"],
        z["ru"],
        z["indptr"].astype(np.int32),
        z["indices"].astype(np.int32),
        z["data"],
        np.zeros(n, dtype=np.int32),
    )
    for k, v in {"solver": "hipo", "run_crossover": "off", "threads": 1}.items():
        h.setOptionValue(k, v)
    h.setOptionValue("time_limit", float(z["limit"]))
    w, c = time.perf_counter(), time.process_time()
    h.run()
    w, c = time.perf_counter() - w, time.process_time() - c
    info = h.getInfo()
    row = {
        "status": h.getModelStatus().name.removeprefix("k").lower(),
        "wall": w,
        "cpu": c,
        "iterations": max(0, int(info.ipm_iteration_count)),
        "objective": float(info.objective_function_value),
        "rounds": None,
        "pool": None,
        "highspy": highspy.__version__ if hasattr(highspy, "__version__") else "?",
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main(sys.argv[1])

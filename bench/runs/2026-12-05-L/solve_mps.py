"""Scratch, as run: one exported LP (MPS) by plain highspy in one mode (``solve_mps.py L_t2.mps ipm``)."""

import sys
import time

import highspy

path, mode = sys.argv[1], sys.argv[2]
h = highspy.Highs()
h.setOptionValue("output_flag", False)
h.readModel(path)
h.setOptionValue("time_limit", 300.0)
if mode == "ipm_nox":
    h.setOptionValue("solver", "ipm")
    h.setOptionValue("run_crossover", "off")
elif mode == "ipm":
    h.setOptionValue("solver", "ipm")
elif mode == "dual":
    h.setOptionValue("solver", "simplex")
    h.setOptionValue("simplex_strategy", 1)
elif mode == "pdlp":
    h.setOptionValue("solver", "pdlp")
elif mode == "hipo_nox":
    h.setOptionValue("solver", "hipo")
    h.setOptionValue("run_crossover", "off")
t0 = time.perf_counter()
c0 = time.process_time()
h.run()
info = h.getInfo()
print(
    mode,
    h.modelStatusToString(h.getModelStatus()),
    f"{time.perf_counter() - t0:.1f}s cpu {time.process_time() - c0:.1f}",
    "obj",
    info.objective_function_value,
    "simplex",
    info.simplex_iteration_count,
    "ipm",
    info.ipm_iteration_count,
    "xover",
    info.crossover_iteration_count,
    flush=True,
)

"""Benchmarks of the planner at confederation scale (`python -m bench`, `make bench`).

For each scenario (generated at a named size, or one of the examples in data/):
model size, assembly seconds and memory, the transfer to HiGHS, every stage's
LP solves, seconds and iterations, the whole policy, the plan check, and two
references measured in the same run: the first stage's LP exported as MPS and
solved cold by plain highspy (the solver floor), and the same stage-1 model
built term by term with PuLP. Results go to bench/RESULTS.md (tables, ratios,
the solver settings and the measurements that chose them) with a log-log plot.

Modules: ``measure`` (one scenario, run in a child process with a time budget),
``pulpref`` (the PuLP reference build), ``settings`` (solver-setting sweeps),
``report`` (RESULTS.md and the plot), ``__main__`` (the command line).
"""

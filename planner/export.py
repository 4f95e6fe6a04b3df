"""Write a stage's programme, as the engine holds it, for an independent solver.

Every earlier stage is run and held; the programme is written just before the
target stage's first solve (its objective and floor rows in place) and
nothing more is solved. Rows switched off by the engine (both bounds
infinite) are left out. Rows and columns are named from the scenario:
``balance[grain@ashford]``, ``labour[ashford]``, ``link[ashford>birchwood]``,
``limit[co2@valley]``, ``max_export[grain@ashford]``,
``activity[bakery@ashford]``, ``flow[grain:ashford>birchwood]``,
``need[bread:t2@ashford]``, ``floor``; rows the engine added are named by it
(``floor[needs:tier2#k]``, ``hold[min_labour]``...). The programme is written in
the scenario's units (the engine solves it scaled: see ``solvers.equilibrate``),
without the engine's spare verification columns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import solvers
from models import Scenario, stage_list
from planner.engine import Engine, ExportDone, StageFailed
from planner.formulation import build, export_names
from planner.stages import specs
from solvers import LinearProgram


class StageNotReached(Exception):
    """An earlier stage failed, so the target stage's programme does not exist."""


def held_programme(engine: Engine, row_names: list[str], col_names: list[str]) -> LinearProgram:
    """The engine's current programme without switched-off rows, with names."""
    lp = engine.scaling.original(engine.held())
    names = row_names + engine.row_names
    live = np.flatnonzero(np.isfinite(lp.row_lower) | np.isfinite(lp.row_upper))
    return LinearProgram(
        c=lp.c,
        A=lp.A[live],
        row_lower=lp.row_lower[live],
        row_upper=lp.row_upper[live],
        col_lower=lp.col_lower,
        col_upper=lp.col_upper,
        sense=lp.sense,
        offset=lp.offset,
        col_names=col_names,
        row_names=[names[i] for i in live],
    )


def export_stage(
    scenario: Scenario,
    stage: str,
    path: Path,
    rule: str | None = None,
    solver: str = "highs",
) -> LinearProgram:
    """Write stage ``stage``'s programme to ``path`` (.mps or .lp); returns it.

    ``rule``: the policy's rule (default: the scenario's policy). Raises
    ``models.PolicyError`` for a bad rule, ``KeyError`` for a stage not in the
    policy, :class:`StageNotReached` when an earlier stage fails.
    """
    pol = scenario.meta.policy
    refs = stage_list(rule or pol.rule, None if rule else pol.stages)
    names = [r.name for r in refs]
    if stage not in names:
        raise KeyError(f"no stage {stage!r} in this policy; stages: {', '.join(names)}")
    form = build(scenario)
    rows, cols = export_names(form.rows, form.cols)
    engine = Engine(form.lp, form.t_col, solver, pol.tolerance, scale=None)
    engine.stop_before = stage
    try:
        engine.run(specs(form, refs[: names.index(stage) + 1]))
    except ExportDone:
        lp = held_programme(engine, rows, cols)
        writer = solvers.get(solver)
        writer.load(lp)
        writer.write(path)
        return lp
    except StageFailed as exc:
        raise StageNotReached(f"stage {stage} was not reached: {exc}") from None
    raise StageNotReached(f"stage {stage} was not reached (an earlier stage failed)")

"""Commune's planner: policies, LP assembly, plans and explanations.

The notebook-facing API::

    import planner
    s = planner.load("data/valley")            # CSV folder, .xlsx or .json
    plan = planner.solve(s, rule="leximin")    # a Plan: DataFrames + SPEC JSON
    plan.deliveries                             # pandas
    planner.check_plan(s, plan.to_dict())       # [] when every constraint holds
    cmp = planner.compare(s, rules=["leximin", "proportional"])   # cmp.metrics: one row a rule
    planner.run_sweep(...)                      # what-if grids (planner.sweep, docs/lab.md)

Rules (SPEC section 4): ``leximin`` (default), ``utilitarian``,
``proportional``, ``equal_per_capita``, ``min_labour_full``.
"""

from models import RULES, PolicyError, Scenario, ScenarioError, StageRef, from_tables, stage_list
from planner.check import check_plan
from planner.core import solve
from planner.formulation import Formulation, build
from planner.lab import Comparison, compare
from planner.plan import Plan, atkinson, gini
from planner.sweep import sweep as run_sweep  # planner.sweep stays the module

__all__ = [
    "RULES",
    "Comparison",
    "Formulation",
    "Plan",
    "PolicyError",
    "Scenario",
    "ScenarioError",
    "StageRef",
    "atkinson",
    "build",
    "check_plan",
    "compare",
    "from_tables",
    "gini",
    "load",
    "solve",
    "stage_list",
    "run_sweep",
]


def load(path) -> Scenario:
    """Read a scenario from a CSV folder, an .xlsx workbook, a .json document or a .zip of CSVs."""
    import models

    return models.load(path)

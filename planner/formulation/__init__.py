"""The linear programme of SPEC section 3, assembled vectorised, one module per family.

Columns (all >= 0), in this order:

=========  ==================================================  =====================
``x``      activity of process p in municipality m             :mod:`.activity`
``f``      flow of good i along one direction of a link        :mod:`.flows`
``r``      satisfaction ratio of one need, in [0, 1]           :mod:`.needs`
``t``      the floor column of the max-min stages              (parked at 0)
=========  ==================================================  =====================

Rows, in this order: ``balance`` (:mod:`.balance`), ``labour``
(:mod:`.labour`), ``link`` (:mod:`.flows`), ``limit`` (:mod:`.limits`),
``mandate`` (:mod:`.mandates`). Capacities and ``forbid_process`` are column
bounds. Every family is one function of whole columns of the scenario's coded
tables (numpy, scipy.sparse): no Python loop over terms, rows or needs. The
result, :class:`Formulation`, holds the solver-neutral
:class:`solvers.LinearProgram` and label tables saying, in the scenario's own
ids, what each row and column is.
"""

from planner.formulation._build import Formulation, build, col_labels, columns, row_labels
from planner.formulation._context import Block, Coded, Columns, coded
from planner.formulation._index import (
    ancestors,
    codes,
    directed_arcs,
    reachability,
    scope_matrix,
)
from planner.formulation._labels import LabelFrame, describe_cols, describe_rows, export_names

# names the tests and older callers use
_codes = codes
_reachability = reachability

__all__ = [
    "Block",
    "Coded",
    "Columns",
    "Formulation",
    "LabelFrame",
    "ancestors",
    "build",
    "coded",
    "codes",
    "col_labels",
    "columns",
    "describe_cols",
    "describe_rows",
    "directed_arcs",
    "export_names",
    "reachability",
    "row_labels",
    "scope_matrix",
]

"""The programme of SPEC section 3, composed from its constraint families."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models import Scenario
from planner.formulation._context import INF, Block, Coded, Columns, coded
from planner.formulation._index import reachability
from planner.formulation._labels import (
    COL_KINDS,
    ROW_KINDS,
    LabelFrame,
    categorical,
    categories,
    describe_cols,
    describe_rows,
    kind_index,
)
from planner.formulation.activity import activity_columns, process_io, prune
from planner.formulation.balance import balance_rows
from planner.formulation.flows import flow_columns, link_rows, usable_arcs
from planner.formulation.labour import labour_matrix, labour_rows
from planner.formulation.limits import limit_rows
from planner.formulation.mandates import mandate_rows
from planner.formulation.needs import need_columns, needs_table
from solvers import LinearProgram


@dataclass(frozen=True)
class Formulation:
    """The programme plus labels that map it back to the scenario."""

    lp: LinearProgram
    cols: pd.DataFrame  # kind, municipality, process, item, dest, arc, need, forbidden, tier
    rows: pd.DataFrame  # kind, municipality, item, dest, scope, mandate, source_row, is_resource
    needs: pd.DataFrame  # every resolved need, with its column (-1 if none) and reason
    arcs: pd.DataFrame  # directed links: origin, dest, labour_per_unit, capacity, loss, link
    labour: sp.csr_array  # municipalities x columns: labour hours used
    municipalities: pd.DataFrame
    t_col: int
    timings: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of columns."""
        return self.lp.A.shape[1]

    @property
    def m(self) -> int:
        """Number of rows."""
        return self.lp.A.shape[0]

    def col_index(self, kind: str) -> np.ndarray:
        """Indices of the columns of one kind."""
        return kind_index(self.cols["kind"], kind)

    def row_index(self, kind: str) -> np.ndarray:
        """Indices of the rows of one kind."""
        return kind_index(self.rows["kind"], kind)

    def describe_rows(self, idx) -> np.ndarray:
        """The rows at ``idx`` in the scenario's own words."""
        return self.rows.describe_at(idx)

    def describe_cols(self, idx) -> np.ndarray:
        """The columns at ``idx`` in the scenario's own words."""
        return self.cols.describe_at(idx)

    @property
    def resource_rows(self) -> np.ndarray:
        """Balance rows of resources (land, water): their duals say what one more unit buys."""
        bal = self.row_index("balance")
        return bal[self.rows["is_resource"].to_numpy()[bal]]

    @property
    def labour_total(self) -> np.ndarray:
        """Objective coefficients of total labour hours."""
        return np.asarray(self.labour.sum(axis=0)).ravel()

    @property
    def transport_labour(self) -> np.ndarray:
        """Objective coefficients of labour spent moving goods."""
        c = np.zeros(self.n)
        f = self.col_index("f")
        c[f] = self.arcs["labour_per_unit"].to_numpy()[self.cols["arc"].to_numpy()[f]]
        return c


def columns(c: Coded) -> Columns:
    """The column layout: activity, flows and ratio columns for what can happen."""
    io = process_io(c)
    act = activity_columns(c, io)
    arcs, a_o, a_d = usable_arcs(c)
    R = reachability(c.nM, a_o, a_d)  # R[a, b]: b reachable from a
    act, have, forward = prune(c, act, R, io)
    r_need, reachable, _ = need_columns(c, have)
    f_item, f_arc = flow_columns(c, a_o, a_d, have, forward)
    r0 = len(act.xm) + len(f_item)
    return Columns(
        act.xm, act.xp, act.x_ub, act.x_forbidden, act.e_col, act.e_m, act.e_i, act.e_q,
        arcs, a_o, a_d, f_item, f_arc, r_need, needs_table(c, r_need, reachable, r0),
    )  # fmt: skip


def build(scenario: Scenario) -> Formulation:
    """Assemble the programme of SPEC section 3 for ``scenario``."""
    c = coded(scenario)
    cols = columns(c)
    lab = labour_matrix(c, cols)
    blocks = [
        balance_rows(c, cols),
        labour_rows(c, lab),
        link_rows(c, cols),
        limit_rows(c, cols),
        mandate_rows(c, cols, lab),
    ]
    A = sp.vstack([b.A for b in blocks], format="csr")
    A.sum_duplicates()
    lp = LinearProgram(
        c=np.zeros(cols.n),
        A=A,
        row_lower=np.concatenate([b.lower for b in blocks]),
        row_upper=np.concatenate([b.upper for b in blocks]),
        col_lower=np.zeros(cols.n),
        col_upper=np.concatenate([cols.x_ub, np.full(cols.nf, INF), np.ones(cols.nr), [INF]]),
        sense="min",
    )
    return Formulation(
        lp=lp,
        cols=col_labels(c, cols),
        rows=row_labels(c, blocks),
        needs=cols.needs,
        arcs=cols.arcs,
        labour=lab,
        municipalities=scenario.municipalities,
        t_col=cols.t_col,
    )


def col_labels(c: Coded, cols: Columns) -> LabelFrame:
    """What each column is: kind, municipality, process, item, destination, arc, need, tier."""
    nx, nf, nr = cols.nx, cols.nf, cols.nr
    cM, cI, cP = categories(c.M), categories(c.I), categories(c.P)
    none = lambda k: np.full(k, -1, dtype=np.int64)  # noqa: E731
    r = cols.r_need
    return LabelFrame(
        {
            "kind": categorical(np.repeat(np.arange(4), [nx, nf, nr, 1]), COL_KINDS),
            "municipality": categorical(
                np.concatenate([cols.xm, cols.a_o[cols.f_arc], c.nd_m[r], [-1]]), cM
            ),
            "process": categorical(np.concatenate([cols.xp, none(nf + nr + 1)]), cP),
            "item": categorical(np.concatenate([none(nx), cols.f_item, c.nd_i[r], [-1]]), cI),
            "dest": categorical(np.concatenate([none(nx), cols.a_d[cols.f_arc], none(nr + 1)]), cM),
            "arc": np.concatenate([none(nx), cols.f_arc, none(nr + 1)]).astype(np.int32),
            "need": np.concatenate([none(nx + nf), r, [-1]]).astype(np.int32),
            "forbidden": np.concatenate([cols.x_forbidden, np.zeros(nf + nr + 1, bool)]),
            "tier": np.concatenate([none(nx + nf), c.nd_tier[r], [-1]]).astype(np.int8),
        },
        describe=describe_cols,
    )


def _label(blocks: list[Block], key: str, default) -> np.ndarray:
    return np.concatenate([b.labels.get(key, np.full(b.size, default)) for b in blocks])


def _cats(blocks: list[Block], key: str) -> pd.Index:
    found = [b.categories[key] for b in blocks if key in b.categories]
    return found[0] if found else categories([])


def row_labels(c: Coded, blocks: list[Block]) -> LabelFrame:
    """What each row is, from the labels of the blocks in order (one kind per block)."""
    cM, cI = categories(c.M), categories(c.I)
    sizes = [b.size for b in blocks]
    return LabelFrame(
        {
            "kind": categorical(np.repeat(np.arange(len(blocks)), sizes), ROW_KINDS),
            "municipality": categorical(_label(blocks, "municipality", -1), cM),
            "item": categorical(_label(blocks, "item", -1), cI),
            "dest": categorical(_label(blocks, "dest", -1), cM),
            "scope": categorical(_label(blocks, "scope", -1), _cats(blocks, "scope")),
            "mandate": categorical(_label(blocks, "mandate", -1), _cats(blocks, "mandate")),
            "source_row": _label(blocks, "source_row", -1),
            "is_resource": _label(blocks, "is_resource", False).astype(bool),
        },
        describe=describe_rows,
    )

"""The scenario as integer-coded arrays, and the block every constraint family returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models import Scenario
from planner.formulation._index import codes

INF = np.inf


@dataclass
class Coded:
    """The scenario's tables as integer codes into its id arrays (municipality, item, process)."""

    scenario: Scenario
    M: pd.Index
    I: pd.Index  # noqa: E741 - items
    P: pd.Index
    L: np.ndarray  # labour hours per municipality
    kind: np.ndarray  # item kinds
    is_emission: np.ndarray
    transportable: np.ndarray  # goods that may move
    proc_lab: np.ndarray  # labour hours per unit of each process
    nd_m: np.ndarray  # needs: municipality, item, quantity, tier
    nd_i: np.ndarray
    need_q: np.ndarray
    nd_tier: np.ndarray
    en_m: np.ndarray  # endowments: municipality, item, quantity
    en_i: np.ndarray
    en_q: np.ndarray
    mk: np.ndarray  # mandates: kind, municipality, target, value
    mm: np.ndarray
    mtarget: np.ndarray
    mval: np.ndarray

    @property
    def nM(self) -> int:  # noqa: N802 - the model's notation
        """Number of municipalities."""
        return len(self.M)

    @property
    def nI(self) -> int:  # noqa: N802
        """Number of items."""
        return len(self.I)


def coded(scenario: Scenario) -> Coded:
    """Code every id of the scenario once; the families read only these arrays."""
    muni, items, procs = scenario.municipalities, scenario.items, scenario.processes
    M, I, P = pd.Index(muni["id"]), pd.Index(items["id"]), pd.Index(procs["id"])  # noqa: E741
    kind = items["kind"].to_numpy()
    nd, endw, mand = scenario.needs, scenario.endowments, scenario.mandates
    return Coded(
        scenario=scenario,
        M=M,
        I=I,
        P=P,
        L=muni["labour_hours"].to_numpy(float),
        kind=kind,
        is_emission=kind == "emission",
        transportable=items["transportable"].to_numpy(bool) & (kind == "good"),
        proc_lab=procs["labour_hours"].to_numpy(float),
        nd_m=codes(nd["municipality"], M),
        nd_i=codes(nd["item"], I),
        need_q=scenario.need_quantities(),
        nd_tier=nd["tier"].to_numpy(),
        en_m=codes(endw["municipality"], M),
        en_i=codes(endw["item"], I),
        en_q=endw["quantity"].to_numpy(float),
        mk=mand["kind"].to_numpy(),
        mm=codes(mand["municipality"], M),
        mtarget=mand["target"].to_numpy(),
        mval=mand["value"].to_numpy(float),
    )


@dataclass
class Columns:
    """The column layout ``x | f | r | t`` and what each column stands for."""

    xm: np.ndarray  # activity columns: municipality, process, upper bound, forbidden
    xp: np.ndarray
    x_ub: np.ndarray
    x_forbidden: np.ndarray
    e_col: np.ndarray  # process entries: one per (activity column, item of its process)
    e_m: np.ndarray
    e_i: np.ndarray
    e_q: np.ndarray
    arcs: pd.DataFrame  # directed arcs that can carry anything
    a_o: np.ndarray
    a_d: np.ndarray
    f_item: np.ndarray  # flow columns: item, arc
    f_arc: np.ndarray
    r_need: np.ndarray  # ratio columns: the need each stands for
    needs: pd.DataFrame  # every resolved need, its column (-1 if none) and why it has none

    @property
    def nx(self) -> int:
        """Number of activity columns."""
        return len(self.xm)

    @property
    def nf(self) -> int:
        """Number of flow columns."""
        return len(self.f_item)

    @property
    def nr(self) -> int:
        """Number of ratio columns."""
        return len(self.r_need)

    @property
    def f0(self) -> int:
        """First flow column."""
        return self.nx

    @property
    def r0(self) -> int:
        """First ratio column."""
        return self.nx + self.nf

    @property
    def t_col(self) -> int:
        """The floor column of the max-min stages (the last)."""
        return self.nx + self.nf + self.nr

    @property
    def n(self) -> int:
        """Number of columns."""
        return self.t_col + 1


@dataclass
class Block:
    """Rows of one constraint family: ``lower <= A @ v <= upper``, with their labels.

    ``labels``: integer codes per row (``municipality``, ``item``, ``dest`` into the
    scenario's ids; ``scope``, ``mandate`` into ``categories``; -1 for none),
    ``source_row`` (the scenario row or link it came from) and ``is_resource``.
    """

    A: sp.csr_array
    lower: np.ndarray
    upper: np.ndarray
    labels: dict[str, np.ndarray] = field(default_factory=dict)
    categories: dict[str, pd.Index] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Number of rows."""
        return self.A.shape[0]

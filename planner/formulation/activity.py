"""Activity columns ``x[p, m]``: capacity and ``forbid_process`` as bounds.

    0 <= x[p, m] <= max_level[p, m]        (units of activity per period)
    x[p, m] = 0   where m's assembly forbids p (mandate ``forbid_process``)

A column exists only where a capacity row exists and the process can run:
labour is available (or the process needs none) and every input it uses can
be had at that place (see :func:`prune`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from planner.formulation._context import INF, Coded
from planner.formulation._index import codes, ranges


@dataclass
class Activity:
    """Activity columns and their process entries (one per column and item of its process)."""

    xm: np.ndarray
    xp: np.ndarray
    x_ub: np.ndarray
    x_forbidden: np.ndarray
    e_col: np.ndarray
    e_m: np.ndarray
    e_i: np.ndarray
    e_q: np.ndarray

    def keep(self, mask: np.ndarray, io: tuple) -> Activity:
        """The columns where ``mask`` holds, with their entries re-derived."""
        return _with_entries(
            self.xm[mask], self.xp[mask], self.x_ub[mask], self.x_forbidden[mask], io
        )


def process_io(c: Coded) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """process_io sorted by process: (item, quantity, start, stop) per process code."""
    pio = c.scenario.process_io
    io_p, io_i = codes(pio["process"], c.P), codes(pio["item"], c.I)
    io_q = pio["quantity"].to_numpy(float)
    order = np.argsort(io_p, kind="stable")
    io_p, io_i, io_q = io_p[order], io_i[order], io_q[order]
    start = np.searchsorted(io_p, np.arange(len(c.P)), "left")
    stop = np.searchsorted(io_p, np.arange(len(c.P)), "right")
    return io_i, io_q, start, stop, io_p


def _with_entries(xm, xp, x_ub, x_forbidden, io) -> Activity:
    io_i, io_q, start, stop, _ = io
    per_x = stop[xp] - start[xp]
    e_col = np.repeat(np.arange(len(xm)), per_x)
    e_io = ranges(start[xp], per_x)
    return Activity(xm, xp, x_ub, x_forbidden, e_col, xm[e_col], io_i[e_io], io_q[e_io])


def activity_columns(c: Coded, io) -> Activity:
    """One column per capacity row whose process can run there, bounded by its capacity."""
    cap = c.scenario.capacities
    xm, xp = codes(cap["municipality"], c.M), codes(cap["process"], c.P)
    runnable = ~((c.L[xm] <= 0) & (c.proc_lab[xp] > 0))
    xm, xp = xm[runnable], xp[runnable]
    x_ub = cap["max_level"].to_numpy(float)[runnable]
    x_ub = np.where(np.isnan(x_ub), INF, x_ub)
    forb = np.flatnonzero(c.mk == "forbid_process")
    forb_key = c.mm[forb].astype(np.int64) * len(c.P) + codes(c.mtarget[forb], c.P)
    x_forbidden = np.isin(xm.astype(np.int64) * len(c.P) + xp, forb_key)
    return _with_entries(xm, xp, np.where(x_forbidden, 0.0, x_ub), x_forbidden, io)


def _incidence(c: Coded, i: np.ndarray, m: np.ndarray) -> sp.csr_array:
    """Matrix items x municipalities, positive where some pair (i, m) is listed."""
    return sp.csr_array((np.ones(len(i)), (i, m)), shape=(c.nI, c.nM))


def availability(c: Coded, act: Activity, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(have, forward), items x municipalities.

    ``have``: the item can be at the municipality (made or endowed there, or
    brought by transport if transportable); ``forward``: from the municipality,
    some user of the item (a need or a process input) is reachable. A process
    that cannot run (forbidden by its assembly's mandate, or a capacity of 0)
    makes nothing: a need whose item only such a process could make there has
    no column (its ratio is 0 in every plan; a generated 400 x 800 plan's tier 2
    otherwise starts at a level of 0, proved by a first LP of 49 minutes).
    """
    en = c.en_q > 0
    made = (act.e_q > 0) & (act.x_ub[act.e_col] > 0)
    src = _incidence(
        c,
        np.concatenate([c.en_i[en], act.e_i[made]]),
        np.concatenate([c.en_m[en], act.e_m[made]]),
    )
    wanted = c.need_q > 0
    use = _incidence(
        c,
        np.concatenate([c.nd_i[wanted], act.e_i[act.e_q < 0]]),
        np.concatenate([c.nd_m[wanted], act.e_m[act.e_q < 0]]),
    )
    have = (src @ R) > 0
    have = np.where(c.transportable[:, None], have, src.toarray() > 0)
    forward = (use @ R.T) > 0
    return have, forward


def prune(c: Coded, act: Activity, R: np.ndarray, io) -> tuple[Activity, np.ndarray, np.ndarray]:
    """Drop processes that can never run where they are (an input that cannot be had there).

    Their outputs then count as sources no more, so repeat until stable (at most
    once per process). Returns the columns and the final (have, forward).
    """
    for _ in range(len(c.P) + 1):
        have, forward = availability(c, act, R)
        short = (act.e_q < 0) & ~c.is_emission[act.e_i] & ~have[act.e_i, act.e_m]
        if not short.any():
            break
        keepx = np.ones(len(act.xm), bool)
        keepx[act.e_col[short]] = False
        act = act.keep(keepx, io)
    return act, have, forward

"""Ratio columns ``r[j]`` of the needs: delivery of need j = need_j * r[j].

    0 <= r[j] <= 1      (share of the declared need delivered)

A need of 0 gets no column ("zero need"), nor does one whose item can never be
had where it is needed ("unreachable"); both are kept in the needs table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.formulation._context import Coded


def need_columns(c: Coded, have: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(needs with a column, whether each need is reachable) in the scenario's need order."""
    reachable = have[c.nd_i, c.nd_m] & (c.need_q > 0)
    return np.flatnonzero(reachable), reachable, c.need_q > 0


def needs_table(c: Coded, r_need: np.ndarray, reachable: np.ndarray, r0: int) -> pd.DataFrame:
    """Every resolved need with its ratio column (-1 if none) and the reason it has none."""
    nd = c.scenario.needs
    col = np.full(len(c.need_q), -1, dtype=np.int64)
    col[r_need] = r0 + np.arange(len(r_need))
    reason = np.where(c.need_q <= 0, "zero need", np.where(reachable, "", "unreachable"))
    return pd.DataFrame(
        {
            "municipality": nd["municipality"],
            "item": nd["item"],
            "tier": c.nd_tier,
            "need": c.need_q,
            "col": col,
            "reason": reason,
        }
    ).reset_index(drop=True)

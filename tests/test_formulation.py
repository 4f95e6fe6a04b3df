"""Assembly helpers: id look-ups, reachability, and balance rows against a plain derivation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.generator import generate
from planner.formulation import _codes, _reachability, build


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["b", "z", "a", "b", None], dtype="str"),  # Arrow strings, as scenarios hold them
        pd.Series(["b", "z", "a", "b", None], dtype=object),
        np.array(["b", "z", "a", "b", None], dtype=object),
    ],
)
def test_codes_finds_positions_and_marks_absent_ids(values):
    index = pd.Index(["a", "b", "c"])
    assert _codes(values, index).tolist() == [1, -1, 0, 1, -1]


def test_codes_of_nothing():
    assert _codes(np.array([], dtype=object), pd.Index(["a"])).tolist() == []
    assert _codes(pd.Series(["a"], dtype="str"), pd.Index([], dtype=object)).tolist() == [-1]


def test_reachability_follows_directed_arcs():
    # arcs 0->1, 1->2, 3->0: from 3 everything but nothing reaches 3; 2 reaches only itself
    r = _reachability(4, np.array([0, 1, 3]), np.array([1, 2, 0]))
    assert r.tolist() == [
        [1, 1, 1, 0],
        [0, 1, 1, 0],
        [0, 0, 1, 0],
        [1, 1, 1, 1],
    ]
    assert _reachability(2, np.array([], int), np.array([], int)).tolist() == [[1, 0], [0, 1]]


@pytest.mark.parametrize("seed", [0, 3])
def test_balance_rows_are_the_pairs_something_is_taken_from(seed):
    """Re-derive the balance rows from the label tables with pandas, term by term."""
    s = generate(8, 15, seed)
    form = build(s)
    A = form.lp.A.tocoo()
    rows, cols = form.rows, form.cols
    bal = np.flatnonzero(rows["kind"].to_numpy() == "balance")
    # every balance row has a negative entry (something is taken) ...
    neg = pd.Series(A.data < 0).groupby(A.row).any()
    assert neg.reindex(bal, fill_value=False).all()
    # ... and no (municipality, item) pair appears twice
    pairs = rows.iloc[bal][["municipality", "item"]].astype(str)
    assert not pairs.duplicated().any()
    # each need's ratio column sits in its own municipality's row for its item, with -need
    r_cols = np.flatnonzero(cols["kind"].to_numpy() == "r")
    where = {(m, i): k for k, (m, i) in zip(bal, pairs.itertuples(index=False), strict=True)}
    needs = form.needs.set_index("col")
    dense = form.lp.A.tocsc()
    for c in r_cols[:50]:
        nd = needs.loc[c]
        k = where[(str(nd["municipality"]), str(nd["item"]))]
        assert dense[:, [c]].toarray().ravel().nonzero()[0].tolist() == [k]
        assert dense[k, c] == pytest.approx(-nd["need"])
    # endowments are the balance rows' lower bounds, negated
    endw = s.endowments.groupby(["municipality", "item"])["quantity"].sum()
    for k, (m, i) in zip(bal, pairs.itertuples(index=False), strict=True):
        assert -form.lp.row_lower[k] == pytest.approx(endw.get((m, i), 0.0))

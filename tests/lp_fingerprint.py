"""A fingerprint of an assembled programme that does not depend on row or column order.

Rows and columns are named by their descriptions in the scenario's own words
(plus the scenario row a mandate or limit came from), so two builds of the same
scenario give the same fingerprint whatever order they list rows and columns in.
"""

from __future__ import annotations

import hashlib

import numpy as np
import scipy.sparse as sp


def _names(frame, describe, extra: str | None) -> np.ndarray:
    d = np.asarray(describe(np.arange(len(frame))), dtype=object)
    if extra is not None and extra in frame.columns:
        d = d + "#" + frame[extra].astype(str).to_numpy(dtype=object)
    return d


def fingerprint(form) -> dict[str, str]:
    """Hashes of the matrix, the row bounds and the column bounds, keyed by label."""
    rn = _names(form.rows, form.describe_rows, "source_row")
    cn = _names(form.cols, form.describe_cols, None)
    assert len(set(rn)) == len(rn), "row labels are not unique"
    assert len(set(cn)) == len(cn), "column labels are not unique"
    A = sp.coo_array(form.lp.A)
    keep = A.data != 0
    trip = sorted(
        zip(rn[A.row[keep]], cn[A.col[keep]], np.round(A.data[keep], 12).tolist(), strict=True)
    )
    lp = form.lp
    rows = sorted(zip(rn, lp.row_lower.tolist(), lp.row_upper.tolist(), strict=True))
    cols = sorted(zip(cn, lp.col_lower.tolist(), lp.col_upper.tolist(), strict=True))

    def h(v) -> str:
        return hashlib.sha256(repr(v).encode()).hexdigest()[:16]

    return {"matrix": h(trip), "rows": h(rows), "cols": h(cols), "shape": f"{lp.A.shape}"}

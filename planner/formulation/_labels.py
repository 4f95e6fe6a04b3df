"""Label tables: what each row and column of the programme is, in the scenario's ids.

Labels are categorical columns (integer codes into the id arrays, ``""`` for
none), so no string is made per row or column; descriptions ("balance grain of
ashford", "flow grain a -> b") are made on demand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COL_KINDS = pd.Index(["x", "f", "r", "t"], dtype=object)
ROW_KINDS = pd.Index(["balance", "labour", "link", "limit", "mandate"], dtype=object)


def kind_index(kinds: pd.Series, kind: str) -> np.ndarray:
    """Positions where a (categorical) kind column equals ``kind``."""
    if isinstance(kinds.dtype, pd.CategoricalDtype):
        cats = kinds.cat.categories
        if kind not in cats:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(kinds.cat.codes.to_numpy() == cats.get_loc(kind))
    return np.flatnonzero(kinds.to_numpy() == kind)


def categories(values) -> pd.Index:
    """Category labels: ``values`` (distinct, non-empty strings) followed by ``""``."""
    return pd.Index(np.append(np.asarray(values, dtype=object), ""), dtype=object)


def categorical(codes: np.ndarray, cats: pd.Index) -> pd.Categorical:
    """A categorical column from integer codes into ``cats``; -1 means ``""`` (the last)."""
    k = len(cats)
    codes = np.where(np.asarray(codes) < 0, k - 1, codes)
    dtype = np.int8 if k < 127 else np.int16 if k < 32_767 else np.int32
    return pd.Categorical.from_codes(codes.astype(dtype), dtype=pd.CategoricalDtype(cats))


class LabelFrame(pd.DataFrame):
    """A label table whose ``description`` column is made on first use.

    At a million columns one string per column would cost more time and memory
    than the whole programme, and only binding rows and conflicts ever show
    them. Reading ``frame["description"]`` makes them all (once);
    ``describe_at(idx)`` makes a few. Frames derived from this one are plain.
    """

    _metadata = ["_describe"]

    def __init__(self, data=None, *args, describe=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self._describe = describe

    @property
    def _constructor(self):
        return pd.DataFrame

    def __getitem__(self, key):
        if (
            isinstance(key, str)
            and key == "description"
            and key not in self.columns
            and self._describe
        ):
            self[key] = self.describe_at(None)
        return super().__getitem__(key)

    def describe_at(self, idx) -> np.ndarray:
        """Descriptions of the rows at positions ``idx`` (all when None), as an object array."""
        if "description" in self.columns:
            d = super().__getitem__("description").to_numpy()
            return d if idx is None else d[idx]
        return self._describe(self, idx)


def _at(frame: pd.DataFrame, col: str, idx) -> np.ndarray:
    v = pd.DataFrame.__getitem__(frame, col).to_numpy()
    return v if idx is None else v[idx]


def describe_rows(rows: pd.DataFrame, idx=None) -> np.ndarray:
    """Rows in the scenario's own words, e.g. ``mandate max_export grain of ashford``."""
    k, m, i = _at(rows, "kind", idx), _at(rows, "municipality", idx), _at(rows, "item", idx)
    out = np.full(len(k), "", dtype=object)
    sel = k == "balance"
    out[sel] = "balance " + i[sel] + " of " + m[sel]
    sel = k == "labour"
    out[sel] = "labour of " + m[sel]
    sel = k == "link"
    out[sel] = "link " + m[sel] + " -> " + _at(rows, "dest", idx)[sel]
    sel = k == "limit"
    out[sel] = "limit " + i[sel] + " in " + _at(rows, "scope", idx)[sel]
    sel = k == "mandate"
    tgt = np.where(i[sel] == "", "", " " + i[sel])
    out[sel] = "mandate " + _at(rows, "mandate", idx)[sel] + tgt + " of " + m[sel]
    return out


def describe_cols(cols: pd.DataFrame, idx=None) -> np.ndarray:
    """Columns' bounds in the scenario's own words (capacity, forbidden process, need)."""
    k = _at(cols, "kind", idx)
    m, forb = _at(cols, "municipality", idx), _at(cols, "forbidden", idx)
    out = np.full(len(k), "", dtype=object)
    proc = _at(cols, "process", idx)
    sel = (k == "x") & ~forb
    out[sel] = "capacity " + proc[sel] + " of " + m[sel]
    sel = (k == "x") & forb
    out[sel] = "mandate forbid_process " + proc[sel] + " of " + m[sel]
    item = _at(cols, "item", idx)
    sel = k == "f"
    out[sel] = "flow " + item[sel] + " " + m[sel] + " -> " + _at(cols, "dest", idx)[sel]
    sel = k == "r"
    tier = _at(cols, "tier", idx)[sel].astype(str).astype(object)
    out[sel] = "need " + item[sel] + " tier " + tier + " of " + m[sel]
    out[k == "t"] = "floor"
    return out


def export_names(rows: pd.DataFrame, cols: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Row and column names for LP/MPS files, e.g. ``balance[grain@ashford]``.

    Columns: ``activity[bakery@ashford]``, ``flow[grain:ashford>birchwood]``,
    ``need[bread:t2@ashford]``, ``floor``. Rows: ``balance[item@m]``,
    ``labour[m]``, ``link[a>b]``, ``limit[item@scope]``,
    ``max_export[item@m]`` (mandates by kind, numbered when a municipality has
    several of the same kind and target).
    """
    k = _at(cols, "kind", None).astype(object)
    m = _at(cols, "municipality", None).astype(object)
    p = _at(cols, "process", None).astype(object)
    i = _at(cols, "item", None).astype(object)
    d = _at(cols, "dest", None).astype(object)
    t = _at(cols, "tier", None).astype(str).astype(object)
    cn = np.where(
        k == "x",
        "activity[" + p + "@" + m + "]",
        np.where(
            k == "f",
            "flow[" + i + ":" + m + ">" + d + "]",
            np.where(k == "r", "need[" + i + ":t" + t + "@" + m + "]", "floor"),
        ),
    )
    k = _at(rows, "kind", None).astype(object)
    m = _at(rows, "municipality", None).astype(object)
    i = _at(rows, "item", None).astype(object)
    d = _at(rows, "dest", None).astype(object)
    s = _at(rows, "scope", None).astype(object)
    mk = _at(rows, "mandate", None).astype(object)
    tgt = np.where(i == "", "", i + "@")
    rn = np.where(
        k == "balance",
        "balance[" + i + "@" + m + "]",
        np.where(
            k == "labour",
            "labour[" + m + "]",
            np.where(
                k == "link",
                "link[" + m + ">" + d + "]",
                np.where(k == "limit", "limit[" + i + "@" + s + "]", mk + "[" + tgt + m + "]"),
            ),
        ),
    )
    return _unique(rn), _unique(cn)


def _unique(names: np.ndarray) -> list[str]:
    """Names made unique by a ``#k`` suffix on the second and later repeats."""
    s = pd.Series(names, dtype=object)
    k = s.groupby(s).cumcount().to_numpy()
    return np.where(k == 0, s.to_numpy(), s.to_numpy() + "#" + k.astype(str)).tolist()

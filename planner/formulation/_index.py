"""Vectorised look-ups shared by the constraint families: id codes, ranges, the tree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from models import Scenario


def codes(values: pd.Series | np.ndarray, index: pd.Index) -> np.ndarray:
    """Integer position of each value in ``index`` (-1 where absent).

    The scenario's id columns are Arrow strings: Arrow's hash lookup reads them in
    place, where ``Index.get_indexer`` would first convert every value.
    """
    try:
        found = pc.index_in(pa.array(values), value_set=pa.array(index))
    except (pa.ArrowException, TypeError, ValueError):
        return index.get_indexer(pd.Index(values))
    if found.null_count == 0:
        return found.to_numpy(zero_copy_only=False)
    return pc.fill_null(found, -1).to_numpy()


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + k)`` for each start s and length k, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offs = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + (np.arange(total) - offs)


def select_rows(keys_rows, keys_entries, cols, vals, n) -> sp.csr_array:
    """Row k sums the entries whose key equals ``keys_rows[k]`` (repeated keys: equal rows)."""
    k = len(keys_rows)
    if k == 0:
        return sp.csr_array((0, n))
    order = np.argsort(keys_rows, kind="stable")
    sk = keys_rows[order]
    pos_c = np.minimum(np.searchsorted(sk, keys_entries), k - 1)
    hit = sk[pos_c] == keys_entries
    first = pos_c[hit]
    reps = np.searchsorted(sk, keys_entries, "right")[hit] - first
    r = order[ranges(first, reps)]
    return sp.csr_array((np.repeat(vals[hit], reps), (r, np.repeat(cols[hit], reps))), shape=(k, n))


def reachability(n: int, origin: np.ndarray, dest: np.ndarray) -> np.ndarray:
    """Dense 0/1 n x n matrix R with R[a, b] = 1 when b can be reached from a (a reaches a).

    Dense, as the all-pairs search makes it anyway (n x n distances).
    """
    if len(origin) == 0:
        return np.eye(n)
    g = sp.csr_array((np.ones(len(origin)), (origin, dest)), shape=(n, n))
    d = shortest_path(g, method="D", unweighted=True, directed=True)
    return np.isfinite(d).astype(float)


def directed_arcs(scenario: Scenario) -> pd.DataFrame:
    """Each link as one or two directed arcs (a both-ways link is two arcs)."""
    links = scenario.links
    both = links["both_ways"].to_numpy(bool)
    link = np.concatenate([np.arange(len(links)), np.flatnonzero(both)])
    o, d = links["from"].to_numpy(), links["to"].to_numpy()
    return pd.DataFrame(
        {
            "origin": np.concatenate([o, d[both]]),
            "dest": np.concatenate([d, o[both]]),
            "labour_per_unit": links["labour_per_unit"].to_numpy(float)[link],
            "capacity": links["capacity"].to_numpy(float)[link],
            "loss": links["loss"].to_numpy(float)[link],
            "link": link,
        }
    )


def ancestors(scenario: Scenario) -> pd.DataFrame:
    """Pairs (municipality, scope): each municipality lies in itself and every ancestor.

    Walks the confederation tree one level at a time for all municipalities at
    once (the depth of the tree, not the number of municipalities, bounds the loop).
    """
    parent = pd.Series(
        scenario.confederations["parent"].to_numpy(), index=scenario.confederations["id"].to_numpy()
    )
    muni = scenario.municipalities["id"].to_numpy()
    level = scenario.municipalities["confederation"].to_numpy(dtype=object)
    pairs = [pd.DataFrame({"municipality": muni, "scope": muni})]
    for _ in range(len(parent) + 1):
        alive = (level != "") & pd.notna(level)
        if not alive.any():
            break
        pairs.append(pd.DataFrame({"municipality": muni[alive], "scope": level[alive]}))
        level = np.where(alive, parent.reindex(level).fillna("").to_numpy(dtype=object), "")
    return pd.concat(pairs, ignore_index=True).drop_duplicates()


def scope_matrix(scenario: Scenario, scopes: pd.Series) -> sp.csr_array:
    """0/1 matrix (len(scopes) x municipalities): municipality m lies in scope s.

    The same membership as :func:`ancestors`, on integer codes: one pass per level
    of the confederation tree.
    """
    muni = pd.Index(scenario.municipalities["id"])
    conf = scenario.confederations
    cids = pd.Index(conf["id"])
    par = codes(conf["parent"], cids)  # -1 at the root
    nM, nC = len(muni), len(cids)
    m = np.arange(nM)
    lvl = codes(scenario.municipalities["confederation"], cids)
    r, c = [m], [m]  # scope codes: municipalities 0..nM-1, confederations nM..
    for _ in range(nC + 1):
        alive = lvl >= 0
        if not alive.any():
            break
        r.append(nM + lvl[alive])
        c.append(m[alive])
        lvl = np.where(alive, par[np.maximum(lvl, 0)], -1)
    r, c = np.concatenate(r), np.concatenate(c)
    member = sp.csr_array((np.ones(len(r)), (r, c)), shape=(nM + nC, nM))
    s = np.asarray(scopes, dtype=object)
    k = np.arange(len(s))
    as_m, as_c = codes(s, muni), codes(s, cids)
    pr = np.concatenate([k[as_m >= 0], k[as_c >= 0]])
    pcol = np.concatenate([as_m[as_m >= 0], nM + as_c[as_c >= 0]])
    pick = sp.csr_array((np.ones(len(pr)), (pr, pcol)), shape=(len(s), nM + nC))
    S = sp.csr_array(pick @ member)
    S.data = np.minimum(S.data, 1.0)
    return S

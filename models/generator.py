"""Synthetic scenarios of any size: feasible, sparse, reproducible.

``generate(municipalities, goods, seed)`` builds a ``Scenario`` whose shape
resembles a real confederation, so that the planner can be tested and timed
on instances far larger than the hand-made examples:

- **Tree.** Municipalities lie at random on a plane (about 10 km apart).
  Up to 30 of them form one confederation; beyond that, spatially compact
  districts of about 20 municipalities sit under the root, and beyond 200
  municipalities districts are grouped into regions of about 10 districts.
- **Goods.** About 20% are primary (raw materials, using land and often
  water), 25% are local services (not transportable, final only) and the rest
  are manufactured. Each good has one technique, about 30% a second one
  (cleaner but more labour or land hungry).
- **Productive input-output structure.** Every good ``i`` has a labour value
  ``v_i``. A process making ``i`` uses a handful of transportable inputs
  ``j`` with ``a_ji = alpha * share_j * v_i / v_j`` (shares summing to 1,
  ``alpha`` in 0.2..0.55), so the inputs of any unit of output are worth
  ``alpha < 1`` of it: with ``D = diag(v)``, ``D^-1 A D`` has row sums
  ``alpha``, hence spectral radius < 1 for *every* choice of techniques
  and the system can always produce net output.
- **Links.** Each municipality links to its 3 nearest neighbours, plus the
  edges of a Euclidean minimum spanning tree (from a Delaunay triangulation)
  so the network is connected; labour per unit grows with distance; some
  links have a capacity, a loss, or run one way (never a spanning-tree edge).
- **Calibration.** Needs (a few vital goods per municipality in tier 1,
  a sparse selection in tiers 2 and 3, mostly per capita for vital goods and
  services) are scaled so that meeting all of them would take about 45% of
  all labour hours. Gross outputs ``q = (I - A)^-1 n`` give a reference plan;
  capacities (only some municipalities can run each process), land and
  water endowments and the CO2 caps are set around it, with random slack or
  shortage per good, so plans show shortfalls in some goods.
- **Mandates**, a few of each kind, all satisfiable together: each
  ``min_local_share`` names a good that the municipality can make from
  local resources and labour alone (no goods inputs); the generator sizes
  capacity, resources, labour share mandates and caps so that running just
  those processes (and nothing else, nothing moved) satisfies every hard
  constraint. That point is the feasibility certificate.

Everything is vectorised numpy/pandas; the same arguments give the same
scenario (``numpy.random.Generator``), and ``models.save`` writes it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError, cKDTree

from models._scenario import Scenario, from_tables

__all__ = ["SIZES", "generate", "generate_tables"]

SIZES: dict[str, tuple[int, int]] = {
    "tiny": (5, 5),
    "small": (30, 40),
    "medium": (200, 100),
    "large": (1000, 200),
    "wide": (300, 600),
}
"""Named instance sizes: name -> (municipalities, goods)."""

HOURS_PER_PERSON = 800.0
"""Labour hours per inhabitant and year (about half the people, 1,600 h each)."""

LABOUR_TARGET = 0.45
"""Share of all labour hours that meeting every need would take."""


def _sig(x: np.ndarray, digits: int = 4) -> np.ndarray:
    """Round to ``digits`` significant digits (zeros stay zero)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where(x != 0, np.floor(np.log10(np.abs(x))), 0.0)
    scale = 10.0 ** (digits - 1 - mag)
    return np.round(x * scale) / scale


def _clip(x: np.ndarray, lo: float = 1e-4, hi: float = 1e4) -> np.ndarray:
    """Keep non-zero coefficients within ``lo..hi`` in magnitude (zeros stay zero)."""
    return np.where(x != 0, np.sign(x) * np.clip(np.abs(x), lo, hi), 0.0)


def _ids(prefix: str, n: int) -> np.ndarray:
    width = max(2, len(str(n)))
    return np.array([f"{prefix}{k:0{width}d}" for k in range(1, n + 1)], dtype=object)


def _spatial_groups(xy: np.ndarray, size: int) -> np.ndarray:
    """Label points with compact groups of about ``size``: strips by x, chunks by y."""
    n = len(xy)
    k = max(1, round(n / size))
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    cols = max(1, round(math.sqrt(k)))
    labels = np.empty(n, dtype=np.int64)
    by_x = np.argsort(xy[:, 0], kind="stable")
    start = 0
    for strip in np.array_split(by_x, cols):
        g = max(1, round(len(strip) / n * k))
        order = strip[np.argsort(xy[strip, 1], kind="stable")]
        for j, chunk in enumerate(np.array_split(order, g)):
            labels[chunk] = start + j
        start += g
    return labels


def _edges(xy: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected edges (i < j): k nearest neighbours plus a minimum spanning tree.

    Returns ``(i, j, in_tree)``.
    """
    n = len(xy)
    if n < 2:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0, dtype=bool)
    kk = min(k + 1, n)
    _, nb = cKDTree(xy).query(xy, k=kk)
    nb = np.asarray(nb).reshape(n, kk)
    a = np.repeat(np.arange(n), kk - 1)
    b = nb[:, 1:].ravel()
    # candidate graph for the spanning tree: Delaunay edges (or all pairs when tiny)
    try:
        if n < 4:
            raise QhullError("too few points")
        tri = Delaunay(xy).simplices
        ca = np.concatenate([tri[:, 0], tri[:, 1], tri[:, 2]])
        cb = np.concatenate([tri[:, 1], tri[:, 2], tri[:, 0]])
    except (QhullError, ValueError):
        ca, cb = np.triu_indices(n, 1)
    lo, hi = np.minimum(ca, cb), np.maximum(ca, cb)
    dist = np.hypot(*(xy[lo] - xy[hi]).T) + 1e-9
    g = sp.coo_matrix((dist, (lo, hi)), shape=(n, n)).tocsr()
    t = minimum_spanning_tree(g).tocoo()
    ti, tj = np.minimum(t.row, t.col), np.maximum(t.row, t.col)
    ai, aj = np.minimum(a, b), np.maximum(a, b)
    key = np.concatenate([ti * n + tj, ai * n + aj])
    tree = np.concatenate([np.ones(len(ti), bool), np.zeros(len(ai), bool)])
    key, first = np.unique(key, return_index=True)
    keep = key // n != key % n
    return key[keep] // n, key[keep] % n, tree[first][keep]


def generate_tables(
    municipalities: int,
    goods: int,
    seed: int = 0,
    *,
    name: str | None = None,
) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """The scenario's metadata and tables (plain DataFrames) before validation."""
    M, G = int(municipalities), int(goods)
    if M < 1 or G < 1:
        raise ValueError("need at least one municipality and one good")
    rng = np.random.default_rng(seed)

    # ---- goods -------------------------------------------------------------
    n_pri = max(1, round(0.2 * G))
    n_srv = round(0.25 * G) if G >= 3 else 0
    n_man = G - n_pri - n_srv
    sector = np.repeat(np.array([0, 1, 2]), [n_pri, n_man, n_srv])  # 0 raw, 1 made, 2 service
    trans = sector < 2
    n_tr = int(trans.sum())
    value = np.exp(rng.uniform(np.log(0.5), np.log(50.0), G))  # hours per unit
    good_ids = np.concatenate([_ids("raw", n_pri), _ids("prod", n_man), _ids("serv", n_srv)])
    good_names = np.concatenate(
        [
            np.char.add("raw material ", np.arange(1, n_pri + 1).astype(str)),
            np.char.add("product ", np.arange(1, n_man + 1).astype(str)),
            np.char.add("service ", np.arange(1, n_srv + 1).astype(str)),
        ]
    ).astype(object)
    units = np.array(["t", "unit", "h"], dtype=object)[sector]

    # ---- processes ---------------------------------------------------------
    alt = rng.random(G) < 0.3
    p_good = np.concatenate([np.arange(G), np.flatnonzero(alt)])
    p_alt = np.concatenate([np.zeros(G, bool), np.ones(int(alt.sum()), bool)])
    P = len(p_good)
    p_sec = sector[p_good]
    p_ids = np.where(p_alt, "b", "a").astype(object)
    p_ids = good_ids[p_good] + "_" + p_ids
    p_names = np.where(p_alt, "alternative technique for ", "making ").astype(object)
    p_names = p_names + good_names[p_good]

    # inputs: a handful of transportable goods, upstream (raw) goods preferred
    k_in = np.select(
        [p_sec == 0, p_sec == 1],
        [(rng.random(P) < 0.3).astype(int), 1 + rng.binomial(3, 0.5, P)],
        rng.binomial(2, 0.5, P),
    )
    if n_tr > 0:
        w = np.where(sector[:n_tr] == 0, 3.0, 1.0)
        cand = rng.choice(n_tr, size=(P, 4), p=w / w.sum())
    else:
        cand = np.zeros((P, 4), dtype=np.int64)
    slot = np.broadcast_to(np.arange(4), (P, 4))
    use = (slot < k_in[:, None]) & (cand != p_good[:, None]) & (n_tr > 0)
    ip, islot = np.nonzero(use)
    ij = cand[ip, islot]
    pair = np.unique(ip * G + ij)
    ip, ij = pair // G, pair % G
    share = rng.gamma(1.0, size=len(ip))
    share /= np.bincount(ip, weights=share, minlength=P)[ip]
    alpha = rng.uniform(0.2, 0.55, P)
    a_in = _sig(alpha[ip] * share * value[p_good[ip]] / value[ij])
    a_in = np.maximum(a_in, 1e-4)
    has_goods_input = np.bincount(ip, minlength=P) > 0

    labour = (1 - alpha) * value[p_good] * rng.uniform(0.4, 1.0, P)
    labour = np.where(p_alt, labour * rng.uniform(1.1, 1.8, P), labour)
    labour = _sig(np.maximum(labour, 1e-3))
    co2 = value[p_good] * np.exp(rng.normal(np.log(0.03), 0.8, P))
    co2 = np.where(p_alt, co2 * rng.uniform(0.05, 0.4, P), co2)
    co2 = np.where((p_sec == 2) & (rng.random(P) < 0.3), 0.0, _sig(co2))
    land = np.where(p_sec == 0, np.exp(rng.normal(np.log(0.05), 0.7, P)), 0.0)
    land = _sig(np.where(p_alt, land * rng.uniform(1.5, 2.5, P), land))
    water_p = np.where(p_sec == 0, 0.5, np.where(p_sec == 1, 0.1, 0.0))
    water = _sig(np.where(rng.random(P) < water_p, np.exp(rng.normal(np.log(0.2), 0.7, P)), 0.0))

    labour, co2, land, water = (_clip(v) for v in (labour, co2, land, water))

    # input matrix A[j, p] (goods x processes) and the primary-technique Leontief system
    A = sp.csr_matrix((a_in, (ij, ip)), shape=(G, P))

    # ---- municipalities, tree ---------------------------------------------
    side = 10.0 * math.sqrt(M)
    xy = rng.uniform(0, side, (M, 2))
    pop = np.clip(np.round(np.exp(rng.normal(np.log(1500), 1.0, M))), 100, 200_000)
    hours = np.round(pop * HOURS_PER_PERSON * rng.uniform(0.9, 1.1, M), -1)
    m_ids = _ids("m", M)
    m_names = np.char.add("Town ", np.arange(1, M + 1).astype(str)).astype(object)

    conf_rows: list[tuple[str, str, str]] = [("root", "Confederation", "")]
    if M <= 30:
        m_conf = np.full(M, "root", dtype=object)
        scopes = {"root": np.arange(M)}
    else:
        dist_lab = _spatial_groups(xy, 20)
        nd = int(dist_lab.max()) + 1
        d_ids = _ids("d", nd)
        m_conf = d_ids[dist_lab]
        if M > 200:
            cent = np.c_[np.bincount(dist_lab, xy[:, 0]), np.bincount(dist_lab, xy[:, 1])]
            cent /= np.bincount(dist_lab)[:, None]
            reg_lab = _spatial_groups(cent, 10)
            r_ids = _ids("r", int(reg_lab.max()) + 1)
            conf_rows += [(r, f"Region {k + 1}", "root") for k, r in enumerate(r_ids)]
            conf_rows += [(d, f"District {k + 1}", r_ids[reg_lab[k]]) for k, d in enumerate(d_ids)]
        else:
            conf_rows += [(d, f"District {k + 1}", "root") for k, d in enumerate(d_ids)]
        scopes = {"root": np.arange(M)}
        order = np.argsort(dist_lab, kind="stable")
        bounds = np.cumsum(np.bincount(dist_lab, minlength=nd))[:-1]
        for d, members in zip(d_ids, np.split(order, bounds), strict=True):
            scopes[d] = members

    # ---- needs -------------------------------------------------------------
    vital_pool = np.flatnonzero((sector == 0) | (sector == 2))
    if len(vital_pool) == 0:
        vital_pool = np.arange(G)
    n_vital = min(len(vital_pool), 6)
    vital = rng.choice(vital_pool, n_vital, replace=False)
    t1 = np.zeros((M, G), bool)
    t1[:, vital] = rng.random((M, n_vital)) < 0.7
    t1[np.arange(M), vital[rng.integers(0, n_vital, M)]] = True
    popular = np.where(sector == 2, 2.0, 1.0) * rng.uniform(0.3, 1.7, G)
    n2, n3 = min(G, 5 + 0.08 * G), min(G, 3 + 0.06 * G)
    p2 = np.minimum(0.9, n2 / G * popular / popular.mean())
    p3 = np.minimum(0.9, n3 / G * popular / popular.mean())
    u = rng.random((M, G))
    t2 = u < p2
    t3 = (u >= 1 - p3) & ~t1  # tier 3: desired extras, not for goods already vital
    nm, ng, ntier = [], [], []
    for tier, mask in ((1, t1), (2, t2), (3, t3)):
        mm, gg = np.nonzero(mask)
        nm.append(mm)
        ng.append(gg)
        ntier.append(np.full(len(mm), tier))
    nm, ng, ntier = np.concatenate(nm), np.concatenate(ng), np.concatenate(ntier)
    # hours of value per inhabitant, per need: vital needs weigh most
    budget = np.exp(rng.normal(0, 0.6, len(nm))) * np.array([0, 12.0, 5.0, 3.0])[ntier]
    per_cap = budget / value[ng]
    per_capita_form = (ntier == 1) | (sector[ng] == 2) | (rng.random(len(nm)) < 0.5)

    # ---- reference plan: gross outputs for all needs ------------------------
    # technique shares: primary technique 1, or split 60/40 with the alternative
    alt_of = np.full(G, -1)
    alt_of[p_good[p_alt]] = np.flatnonzero(p_alt)
    split = np.where(alt, 0.6, 1.0)
    tech = np.zeros(P)
    tech[:G] = split
    tech[alt_of[alt]] = 0.4
    S = sp.csr_matrix((tech, (p_good, np.arange(P))), shape=(G, P))  # good -> process mix
    Amix = (A @ S.T).tocsr()  # inputs per unit of good, technique-mixed

    def gross(final: np.ndarray) -> np.ndarray:
        q = final.copy()
        term = final.copy()
        for _ in range(200):
            term = Amix @ term
            q += term
            if term.sum() <= 1e-10 * max(q.sum(), 1e-300):
                break
        return q

    need_qty = per_cap * pop[nm]
    final = np.bincount(ng, weights=need_qty, minlength=G)
    q = gross(final)
    lab_req = float((S.T @ q) @ labour)
    scale = LABOUR_TARGET * hours.sum() / max(lab_req, 1e-300)
    per_cap = _sig(per_cap * scale, 3)
    need_qty = _sig(per_cap * pop[nm], 3)
    need_true = np.where(per_capita_form, per_cap * pop[nm], need_qty)  # as the scenario reads it
    final = np.bincount(ng, weights=need_true, minlength=G)
    q = gross(final)
    x_tot = S.T @ q  # reference activity per process
    vital_final = np.bincount(ng, weights=np.where(ntier == 1, need_true, 0.0), minlength=G)
    x_vital = S.T @ gross(vital_final)  # the part of it that vital needs take

    # ---- capacities ----------------------------------------------------------
    need_mg = sp.csr_matrix((need_true, (nm, ng)), shape=(M, G)).toarray()
    vital_w = np.where(ntier == 1, need_true, 0.0)
    need_vital = sp.csr_matrix((vital_w, (nm, ng)), shape=(M, G)).toarray()
    host_p = np.where(p_sec == 0, rng.uniform(0.2, 0.6, P), rng.uniform(0.03, 0.3, P))
    host = rng.random((M, P)) < host_p
    srv = p_sec == 2
    host[:, srv] = need_mg[:, p_good[srv]] > 0
    host[:, srv & p_alt] &= rng.random((M, int((srv & p_alt).sum()))) < 0.5
    # every transportable process runs in at least min(M, 3) places
    few = ~srv & (host.sum(axis=0) < min(M, 3))
    if few.any():
        extra = np.argsort(rng.random((M, int(few.sum()))), axis=0)[: min(M, 3)]
        host[extra, np.flatnonzero(few)[None, :]] = True
    cm, cp = np.nonzero(host)
    # production is spread in proportion to labour, with noise
    weight = hours[cm] * rng.gamma(4.0, size=len(cm))
    weight /= np.bincount(cp, weights=weight, minlength=P)[cp]
    slack = np.exp(rng.normal(np.log(1.3), 0.35, G)).clip(0.6, 3.0)
    x_ref = weight * x_tot[cp]
    is_srv = srv[cp]
    local = need_mg[cm, p_good[cp]]
    local_vital = need_vital[cm, p_good[cp]]
    x_ref = np.where(is_srv, local * tech[cp], x_ref)
    cap = np.where(is_srv, local * rng.uniform(0.7, 1.5, len(cm)), x_ref * slack[p_good[cp]])
    # vital needs and their supply chains always have room (1.3 x, with either technique)
    vital_room = np.where(is_srv, local_vital, weight * x_vital[cp] / tech[cp])
    cap = np.maximum(cap, 1.3 * vital_room)
    unbounded = rng.random(len(cm)) < np.where(is_srv, 0.7, 0.1)
    cap = np.where(unbounded, np.nan, _sig(np.maximum(cap, 1e-3), 3))

    # a municipality whose share of the reference plan would take more than
    # 85% of its labour hours gets more hours (commuters from outside)
    lab_ref = np.bincount(cm, weights=x_ref * labour[cp], minlength=M)
    hours = np.maximum(hours, np.round(lab_ref / 0.85, -1))

    # ---- resources ------------------------------------------------------------
    land_use = np.bincount(cm, weights=x_ref * land[cp], minlength=M)
    water_use = np.bincount(cm, weights=x_ref * water[cp], minlength=M)
    land_end = np.ceil(land_use * rng.uniform(1.0, 1.8, M))
    water_end = np.ceil(water_use * rng.uniform(1.0, 1.8, M))
    emis_ref = np.bincount(cm, weights=x_ref * co2[cp], minlength=M)

    # ---- mandates and their certificate x0 --------------------------------------
    n_each = max(1, round(0.02 * M))
    x0 = np.zeros(len(cm))
    # min_local_share: a need met by a local process without goods inputs
    ok = (~has_goods_input[cp]) & (need_mg[cm, p_good[cp]] > 0) & ~p_alt[cp]
    cand_rows = np.flatnonzero(ok)
    cand_rows = cand_rows[rng.permutation(len(cand_rows))]
    _, first = np.unique(cm[cand_rows], return_index=True)  # at most one per municipality
    cand_rows = cand_rows[np.sort(first)]
    mls = cand_rows[:n_each]
    mls_m, mls_g = cm[mls], p_good[cp[mls]]
    mls_val = np.round(rng.uniform(0.2, 0.6, len(mls)), 2)
    need_tot = need_mg[mls_m, mls_g]
    room = 0.3 * hours[mls_m] / np.maximum(labour[cp[mls]] * need_tot, 1e-300)
    mls_val = np.floor(np.minimum(mls_val, room) * 100) / 100
    keep = mls_val >= 0.01
    mls, mls_m, mls_g, mls_val = mls[keep], mls_m[keep], mls_g[keep], mls_val[keep]
    x0[mls] = mls_val * need_mg[mls_m, mls_g]
    cap[mls] = np.where(np.isnan(cap[mls]), np.nan, np.maximum(cap[mls], _sig(1.2 * x0[mls], 3)))
    cap[mls] = np.where(cap[mls] < x0[mls], x0[mls] * 1.01, cap[mls])
    land_end = np.maximum(land_end, np.ceil(1.2 * np.bincount(cm, x0 * land[cp], M)))
    water_end = np.maximum(water_end, np.ceil(1.2 * np.bincount(cm, x0 * water[cp], M)))
    lab0 = np.bincount(cm, x0 * labour[cp], M)
    emis0 = np.bincount(cm, x0 * co2[cp], M)
    wat0 = np.bincount(cm, x0 * water[cp], M)

    mls_rows = pd.DataFrame(
        {
            "municipality": m_ids[mls_m],
            "kind": "min_local_share",
            "target": good_ids[mls_g],
            "value": mls_val,
        }
    )
    mls_m_set = np.zeros(M, bool)
    mls_m_set[mls_m] = True
    # max_labour_share
    mlm = rng.choice(M, min(M, n_each), replace=False)
    share0 = lab0[mlm] / np.maximum(hours[mlm], 1e-300)
    mlv = np.minimum(
        1.0, np.ceil(np.maximum(rng.uniform(0.3, 0.8, len(mlm)), share0 + 0.05) * 100) / 100
    )
    mlab_rows = pd.DataFrame(
        {
            "municipality": m_ids[mlm],
            "kind": "max_labour_share",
            "target": "",
            "value": mlv,
        }
    )
    # max_export: a transportable good the municipality can make
    tr_rows = np.flatnonzero(trans[p_good[cp]])
    mex = rng.choice(tr_rows, min(len(tr_rows), n_each), replace=False) if len(tr_rows) else tr_rows
    mex_val = _sig(np.nan_to_num(x_ref[mex]) * rng.uniform(0.0, 0.5, len(mex)), 3)
    mex_rows = pd.DataFrame(
        {
            "municipality": m_ids[cm[mex]],
            "kind": "max_export",
            "target": good_ids[p_good[cp[mex]]],
            "value": mex_val,
        }
    ).drop_duplicates(["municipality", "target"])
    # forbid_process: a process the municipality could run, not one x0 runs
    free = np.flatnonzero(x0 == 0)
    fb = rng.choice(free, min(len(free), n_each), replace=False)
    fb_rows = pd.DataFrame(
        {
            "municipality": m_ids[cm[fb]],
            "kind": "forbid_process",
            "target": p_ids[cp[fb]],
            "value": np.nan,
        }
    )
    mandates = pd.concat([mls_rows, mlab_rows, mex_rows, fb_rows], ignore_index=True)

    # ---- limits ---------------------------------------------------------------
    lim = [("co2", "root", 0.95 * emis_ref.sum(), emis0.sum())]
    others = [k for k in scopes if k != "root"]
    if others:
        pick = rng.choice(len(others), max(1, round(0.15 * len(others))), replace=False)
        for k in np.sort(pick):
            mem = scopes[others[k]]
            lim.append(("co2", others[k], 0.9 * emis_ref[mem].sum(), emis0[mem].sum()))
        pickw = rng.choice(len(others), max(1, round(0.1 * len(others))), replace=False)
        for k in np.sort(pickw):
            mem = scopes[others[k]]
            lim.append(("water", others[k], 0.9 * water_use[mem].sum(), wat0[mem].sum()))
    limits = pd.DataFrame(lim, columns=["item", "scope", "ref", "x0"])
    limits["cap"] = _sig(np.maximum(limits["ref"], 1.25 * limits["x0"]) + 1.0, 4)
    limits = limits[["item", "scope", "cap"]]

    # ---- links ------------------------------------------------------------------
    li, lj, tree = _edges(xy)
    km = np.hypot(*(xy[li] - xy[lj]).T)
    L = len(li)
    tr_pc = final[trans].sum() / max(pop.sum(), 1.0)  # transportable units needed per head
    has_cap = rng.random(L) < 0.15
    lcap = _sig(rng.uniform(0.2, 1.0, L) * tr_pc * (pop[li] + pop[lj]) / 2, 3)
    lossy = rng.random(L) < 0.1
    one_way = (~tree) & (rng.random(L) < 0.05)
    flip = rng.random(L) < 0.5
    links = pd.DataFrame(
        {
            "from": m_ids[np.where(flip, lj, li)],
            "to": m_ids[np.where(flip, li, lj)],
            "labour_per_unit": _sig(0.02 + 0.01 * km, 3),
            "capacity": np.where(has_cap, np.maximum(lcap, 1.0), np.nan),
            "loss": np.where(lossy, np.round(rng.uniform(0.01, 0.05, L), 3), 0.0),
            "both_ways": ~one_way,
        }
    )

    # ---- endowments (resources, some stocks of goods) -------------------------------
    em = [np.flatnonzero(land_end > 0), np.flatnonzero(water_end > 0)]
    endow = [
        pd.DataFrame({"municipality": m_ids[em[0]], "item": "land", "quantity": land_end[em[0]]}),
        pd.DataFrame({"municipality": m_ids[em[1]], "item": "water", "quantity": water_end[em[1]]}),
    ]
    if n_tr:
        k = max(1, round(0.02 * M * n_tr))
        sm, sg = rng.integers(0, M, k), rng.integers(0, n_tr, k)
        key = np.unique(sm * G + sg)
        sm, sg = key // G, key % G
        mean_need = final[sg] / M
        stock = _sig(mean_need * rng.uniform(0.05, 0.3, len(sm)), 3)
        keep = stock > 0
        endow.append(
            pd.DataFrame(
                {
                    "municipality": m_ids[sm[keep]],
                    "item": good_ids[sg[keep]],
                    "quantity": stock[keep],
                }
            )
        )
    endowments = pd.concat(endow, ignore_index=True)

    # ---- tables --------------------------------------------------------------------
    items = pd.DataFrame(
        {
            "id": np.concatenate([good_ids, ["land", "water", "co2"]]),
            "name": np.concatenate([good_names, ["Land", "Water", "CO2"]]),
            "unit": np.concatenate([units, ["ha", "ML", "t"]]),
            "kind": np.concatenate(
                [np.full(G, "good", object), ["resource", "resource", "emission"]]
            ),
            "transportable": np.concatenate([trans, [False, False, False]]),
        }
    )
    processes = pd.DataFrame({"id": p_ids, "name": p_names, "labour_hours": labour})
    parts = [
        (np.arange(P), good_ids[p_good], np.ones(P)),
        (ip, good_ids[ij], -a_in),
        (np.flatnonzero(co2 > 0), "co2", co2[co2 > 0]),
        (np.flatnonzero(land > 0), "land", -land[land > 0]),
        (np.flatnonzero(water > 0), "water", -water[water > 0]),
    ]
    process_io = pd.concat(
        [pd.DataFrame({"process": p_ids[pp], "item": it, "quantity": qq}) for pp, it, qq in parts],
        ignore_index=True,
    )
    capacities = pd.DataFrame(
        {
            "municipality": m_ids[cm],
            "process": p_ids[cp],
            "max_level": cap,
        }
    )
    needs = pd.DataFrame(
        {
            "municipality": m_ids[nm],
            "item": good_ids[ng],
            "tier": ntier,
            "quantity": np.where(per_capita_form, np.nan, need_qty),
            "per_capita": np.where(per_capita_form, per_cap, np.nan),
        }
    )
    tables = {
        "confederations": pd.DataFrame(conf_rows, columns=["id", "name", "parent"]),
        "municipalities": pd.DataFrame(
            {
                "id": m_ids,
                "name": m_names,
                "confederation": m_conf,
                "population": pop,
                "labour_hours": hours,
            }
        ),
        "items": items,
        "processes": processes,
        "process_io": process_io,
        "capacities": capacities,
        "endowments": endowments,
        "needs": needs,
        "links": links,
        "limits": limits,
        "mandates": mandates,
    }
    meta = {
        "name": name or f"synthetic-{M}x{G}-seed{seed}",
        "period": "synthetic",
        "description": (
            f"Synthetic scenario: {M} municipalities, {G} goods, seed {seed} "
            "(models.generator). Feasible by construction; figures are random."
        ),
    }
    return meta, tables


def generate(
    municipalities: int,
    goods: int,
    seed: int = 0,
    *,
    name: str | None = None,
) -> Scenario:
    """A validated synthetic ``Scenario`` (see the module docstring for its shape).

    The same ``(municipalities, goods, seed)`` always gives the same scenario
    (same ``content_hash``). Write it with ``models.save(scenario, path)``.
    """
    meta, tables = generate_tables(municipalities, goods, seed, name=name)
    return from_tables(meta, tables)

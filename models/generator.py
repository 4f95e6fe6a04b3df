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
from types import SimpleNamespace
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


# 10**k for k = -POW10_SPAN..POW10_SPAN, each correctly rounded (Python parses "1e-4" so).
# numpy's own 10.0 ** k differs in the last bit between its SIMD paths: with AVX-512 it gave
# a capacity of 11400000.000000002 where other machines give 11399999.999999998, so the
# same seed made another scenario on another machine (tests/test_generator_golden.py)
POW10_SPAN = 30
_POW10 = np.array([float(f"1e{k}") for k in range(-POW10_SPAN, POW10_SPAN + 1)])


def _sig(x: np.ndarray, digits: int = 4) -> np.ndarray:
    """Round to ``digits`` significant digits (zeros stay zero), the same on every machine."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where(x != 0, np.floor(np.log10(np.abs(x))), 0.0)
    k = (digits - 1 - mag).astype(int)
    if k.size and np.abs(k).max() > POW10_SPAN:
        raise ValueError(f"_sig: {digits} digits of values down to 1e{-int(k.max())}")
    scale = _POW10[k + POW10_SPAN]
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


def _goods(rng: np.random.Generator, G: int) -> SimpleNamespace:
    """Sectors (raw, made, service), labour values, ids, names and units of the goods."""
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
    return SimpleNamespace(
        G=G,
        sector=sector,
        trans=trans,
        n_tr=n_tr,
        value=value,
        ids=good_ids,
        names=good_names,
        units=units,
    )


def _process_inputs(
    rng: np.random.Generator, gd: SimpleNamespace, p_good: np.ndarray, p_sec: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Goods inputs ``(ip, ij, a_in, alpha)``: a handful of transportable goods, raw preferred."""
    G, P, n_tr, sector, value = gd.G, len(p_good), gd.n_tr, gd.sector, gd.value
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
    return ip, ij, a_in, alpha


def _processes(rng: np.random.Generator, gd: SimpleNamespace) -> SimpleNamespace:
    """One technique per good, a second for about 30%: inputs, labour, CO2, land, water."""
    G, sector, value = gd.G, gd.sector, gd.value
    alt = rng.random(G) < 0.3
    p_good = np.concatenate([np.arange(G), np.flatnonzero(alt)])
    p_alt = np.concatenate([np.zeros(G, bool), np.ones(int(alt.sum()), bool)])
    P = len(p_good)
    p_sec = sector[p_good]
    p_ids = np.where(p_alt, "b", "a").astype(object)
    p_ids = gd.ids[p_good] + "_" + p_ids
    p_names = np.where(p_alt, "alternative technique for ", "making ").astype(object)
    p_names = p_names + gd.names[p_good]
    ip, ij, a_in, alpha = _process_inputs(rng, gd, p_good, p_sec)
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
    # input matrix A[j, p] (goods x processes)
    A = sp.csr_matrix((a_in, (ij, ip)), shape=(G, P))
    return SimpleNamespace(
        alt=alt,
        good=p_good,
        is_alt=p_alt,
        P=P,
        sec=p_sec,
        ids=p_ids,
        names=p_names,
        ip=ip,
        ij=ij,
        a_in=a_in,
        has_goods_input=has_goods_input,
        labour=labour,
        co2=co2,
        land=land,
        water=water,
        A=A,
    )


def _tree(rng: np.random.Generator, M: int) -> SimpleNamespace:
    """Municipalities on a plane, grouped into districts and regions; scopes by id."""
    side = 10.0 * math.sqrt(M)
    xy = rng.uniform(0, side, (M, 2))
    pop = np.clip(np.round(np.exp(rng.normal(np.log(1500), 1.0, M))), 100, 200_000)
    hours = np.round(pop * HOURS_PER_PERSON * rng.uniform(0.9, 1.1, M), -1)
    m_ids = _ids("m", M)
    m_names = np.char.add("Town ", np.arange(1, M + 1).astype(str)).astype(object)

    conf_rows: list[tuple[str, str, str]] = [("root", "Confederation", "")]
    scopes = {"root": np.arange(M)}
    if M <= 30:
        m_conf = np.full(M, "root", dtype=object)
    else:
        dist_lab = _spatial_groups(xy, 20)
        nd = int(dist_lab.max()) + 1
        d_ids = _ids("d", nd)
        m_conf = d_ids[dist_lab]
        conf_rows += _districts(xy, dist_lab, d_ids, regions=M > 200)
        order = np.argsort(dist_lab, kind="stable")
        bounds = np.cumsum(np.bincount(dist_lab, minlength=nd))[:-1]
        for d, members in zip(d_ids, np.split(order, bounds), strict=True):
            scopes[d] = members
    return SimpleNamespace(
        M=M,
        xy=xy,
        pop=pop,
        hours=hours,
        ids=m_ids,
        names=m_names,
        conf_rows=conf_rows,
        conf=m_conf,
        scopes=scopes,
    )


def _districts(
    xy: np.ndarray, dist_lab: np.ndarray, d_ids: np.ndarray, regions: bool
) -> list[tuple[str, str, str]]:
    """Confederation rows of the districts (and of their regions when ``regions``)."""
    if not regions:
        return [(d, f"District {k + 1}", "root") for k, d in enumerate(d_ids)]
    cent = np.c_[np.bincount(dist_lab, xy[:, 0]), np.bincount(dist_lab, xy[:, 1])]
    cent /= np.bincount(dist_lab)[:, None]
    reg_lab = _spatial_groups(cent, 10)
    r_ids = _ids("r", int(reg_lab.max()) + 1)
    rows = [(r, f"Region {k + 1}", "root") for k, r in enumerate(r_ids)]
    return rows + [(d, f"District {k + 1}", r_ids[reg_lab[k]]) for k, d in enumerate(d_ids)]


def _needs(rng: np.random.Generator, gd: SimpleNamespace, M: int) -> SimpleNamespace:
    """Needs per municipality and tier, per capita before calibration."""
    G, sector, value = gd.G, gd.sector, gd.value
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
    return SimpleNamespace(m=nm, g=ng, tier=ntier, per_cap=per_cap, per_capita=per_capita_form)


def _calibrate(gd: SimpleNamespace, pr: SimpleNamespace, tw: SimpleNamespace, nd: SimpleNamespace):
    """Scale the needs to ``LABOUR_TARGET`` of all hours; the reference plan's gross outputs.

    Sets ``nd.per_cap``, ``nd.qty`` and ``nd.true`` (as the scenario reads it) and
    returns ``(final, x_tot, x_vital, tech)``: final demand per good, reference
    activity per process, the part of it that vital needs take, technique shares.
    """
    G, P, p_good, p_alt, alt = gd.G, pr.P, pr.good, pr.is_alt, pr.alt
    nm, ng, ntier, pop = nd.m, nd.g, nd.tier, tw.pop
    # technique shares: primary technique 1, or split 60/40 with the alternative
    alt_of = np.full(G, -1)
    alt_of[p_good[p_alt]] = np.flatnonzero(p_alt)
    split = np.where(alt, 0.6, 1.0)
    tech = np.zeros(P)
    tech[:G] = split
    tech[alt_of[alt]] = 0.4
    S = sp.csr_matrix((tech, (p_good, np.arange(P))), shape=(G, P))  # good -> process mix
    Amix = (pr.A @ S.T).tocsr()  # inputs per unit of good, technique-mixed

    def gross(final: np.ndarray) -> np.ndarray:
        q = final.copy()
        term = final.copy()
        for _ in range(200):
            term = Amix @ term
            q += term
            if term.sum() <= 1e-10 * max(q.sum(), 1e-300):
                break
        return q

    need_qty = nd.per_cap * pop[nm]
    final = np.bincount(ng, weights=need_qty, minlength=G)
    q = gross(final)
    lab_req = float((S.T @ q) @ pr.labour)
    scale = LABOUR_TARGET * tw.hours.sum() / max(lab_req, 1e-300)
    nd.per_cap = per_cap = _sig(nd.per_cap * scale, 3)
    nd.qty = _sig(per_cap * pop[nm], 3)
    nd.true = need_true = np.where(nd.per_capita, per_cap * pop[nm], nd.qty)
    final = np.bincount(ng, weights=need_true, minlength=G)
    q = gross(final)
    x_tot = S.T @ q  # reference activity per process
    vital_final = np.bincount(ng, weights=np.where(ntier == 1, need_true, 0.0), minlength=G)
    x_vital = S.T @ gross(vital_final)  # the part of it that vital needs take
    return final, x_tot, x_vital, tech


def _hosts(
    rng: np.random.Generator, pr: SimpleNamespace, M: int, need_mg: np.ndarray
) -> np.ndarray:
    """Which municipality may run which process (M x P)."""
    P, p_sec, p_good, p_alt = pr.P, pr.sec, pr.good, pr.is_alt
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
    return host


def _capacities(
    rng: np.random.Generator,
    gd: SimpleNamespace,
    pr: SimpleNamespace,
    tw: SimpleNamespace,
    nd: SimpleNamespace,
    ref: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> SimpleNamespace:
    """Capacity rows ``(cm, cp, cap)`` around the reference plan ``x_ref``; more hours where needed."""
    M, G, P, p_good = tw.M, gd.G, pr.P, pr.good
    nm, ng, ntier, need_true = nd.m, nd.g, nd.tier, nd.true
    _, x_tot, x_vital, tech = ref
    need_mg = sp.csr_matrix((need_true, (nm, ng)), shape=(M, G)).toarray()
    vital_w = np.where(ntier == 1, need_true, 0.0)
    need_vital = sp.csr_matrix((vital_w, (nm, ng)), shape=(M, G)).toarray()
    srv = pr.sec == 2
    cm, cp = np.nonzero(_hosts(rng, pr, M, need_mg))
    # production is spread in proportion to labour, with noise
    weight = tw.hours[cm] * rng.gamma(4.0, size=len(cm))
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
    lab_ref = np.bincount(cm, weights=x_ref * pr.labour[cp], minlength=M)
    tw.hours = np.maximum(tw.hours, np.round(lab_ref / 0.85, -1))
    return SimpleNamespace(m=cm, p=cp, x_ref=x_ref, cap=cap, need_mg=need_mg)


def _resources(
    rng: np.random.Generator, pr: SimpleNamespace, M: int, ca: SimpleNamespace
) -> SimpleNamespace:
    """Land and water endowments around the reference plan's use; its emissions."""
    cm, cp, x_ref = ca.m, ca.p, ca.x_ref
    land_use = np.bincount(cm, weights=x_ref * pr.land[cp], minlength=M)
    water_use = np.bincount(cm, weights=x_ref * pr.water[cp], minlength=M)
    return SimpleNamespace(
        land_end=np.ceil(land_use * rng.uniform(1.0, 1.8, M)),
        water_end=np.ceil(water_use * rng.uniform(1.0, 1.8, M)),
        water_use=water_use,
        emis_ref=np.bincount(cm, weights=x_ref * pr.co2[cp], minlength=M),
    )


def _min_local_share(
    rng: np.random.Generator,
    pr: SimpleNamespace,
    tw: SimpleNamespace,
    ca: SimpleNamespace,
    res: SimpleNamespace,
    n_each: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``min_local_share`` mandates ``(m, g, value)`` and the certificate ``x0`` they need.

    Each names a need met by a local process without goods inputs; capacity
    and endowments are raised so that running ``x0`` fits.
    """
    M, cm, cp, cap, need_mg, labour = tw.M, ca.m, ca.p, ca.cap, ca.need_mg, pr.labour
    x0 = np.zeros(len(cm))
    ok = (~pr.has_goods_input[cp]) & (need_mg[cm, pr.good[cp]] > 0) & ~pr.is_alt[cp]
    cand_rows = np.flatnonzero(ok)
    cand_rows = cand_rows[rng.permutation(len(cand_rows))]
    _, first = np.unique(cm[cand_rows], return_index=True)  # at most one per municipality
    cand_rows = cand_rows[np.sort(first)]
    mls = cand_rows[:n_each]
    mls_m, mls_g = cm[mls], pr.good[cp[mls]]
    mls_val = np.round(rng.uniform(0.2, 0.6, len(mls)), 2)
    need_tot = need_mg[mls_m, mls_g]
    room = 0.3 * tw.hours[mls_m] / np.maximum(labour[cp[mls]] * need_tot, 1e-300)
    mls_val = np.floor(np.minimum(mls_val, room) * 100) / 100
    keep = mls_val >= 0.01
    mls, mls_m, mls_g, mls_val = mls[keep], mls_m[keep], mls_g[keep], mls_val[keep]
    x0[mls] = mls_val * need_mg[mls_m, mls_g]
    cap[mls] = np.where(np.isnan(cap[mls]), np.nan, np.maximum(cap[mls], _sig(1.2 * x0[mls], 3)))
    cap[mls] = np.where(cap[mls] < x0[mls], x0[mls] * 1.01, cap[mls])
    res.land_end = np.maximum(res.land_end, np.ceil(1.2 * np.bincount(cm, x0 * pr.land[cp], M)))
    res.water_end = np.maximum(res.water_end, np.ceil(1.2 * np.bincount(cm, x0 * pr.water[cp], M)))
    return mls_m, mls_g, mls_val, x0


def _mandate_rows(municipality, kind: str, target, value) -> pd.DataFrame:
    return pd.DataFrame(
        {"municipality": municipality, "kind": kind, "target": target, "value": value}
    )


def _mandates(
    rng: np.random.Generator,
    gd: SimpleNamespace,
    pr: SimpleNamespace,
    tw: SimpleNamespace,
    ca: SimpleNamespace,
    res: SimpleNamespace,
) -> tuple[pd.DataFrame, np.ndarray]:
    """A few mandates of each kind, all met by the certificate ``x0`` (returned too)."""
    M, m_ids, cm, cp, x_ref = tw.M, tw.ids, ca.m, ca.p, ca.x_ref
    n_each = max(1, round(0.02 * M))
    mls_m, mls_g, mls_val, x0 = _min_local_share(rng, pr, tw, ca, res, n_each)
    lab0 = np.bincount(cm, x0 * pr.labour[cp], M)
    mls_rows = _mandate_rows(m_ids[mls_m], "min_local_share", gd.ids[mls_g], mls_val)
    # max_labour_share
    mlm = rng.choice(M, min(M, n_each), replace=False)
    share0 = lab0[mlm] / np.maximum(tw.hours[mlm], 1e-300)
    mlv = np.minimum(
        1.0, np.ceil(np.maximum(rng.uniform(0.3, 0.8, len(mlm)), share0 + 0.05) * 100) / 100
    )
    mlab_rows = _mandate_rows(m_ids[mlm], "max_labour_share", "", mlv)
    # max_export: a transportable good the municipality can make
    tr_rows = np.flatnonzero(gd.trans[pr.good[cp]])
    mex = rng.choice(tr_rows, min(len(tr_rows), n_each), replace=False) if len(tr_rows) else tr_rows
    mex_val = _sig(np.nan_to_num(x_ref[mex]) * rng.uniform(0.0, 0.5, len(mex)), 3)
    mex_rows = _mandate_rows(
        m_ids[cm[mex]], "max_export", gd.ids[pr.good[cp[mex]]], mex_val
    ).drop_duplicates(["municipality", "target"])
    # forbid_process: a process the municipality could run, not one x0 runs
    free = np.flatnonzero(x0 == 0)
    fb = rng.choice(free, min(len(free), n_each), replace=False)
    fb_rows = _mandate_rows(m_ids[cm[fb]], "forbid_process", pr.ids[cp[fb]], np.nan)
    mandates = pd.concat([mls_rows, mlab_rows, mex_rows, fb_rows], ignore_index=True)
    return mandates, x0


def _limits(
    rng: np.random.Generator,
    pr: SimpleNamespace,
    tw: SimpleNamespace,
    ca: SimpleNamespace,
    res: SimpleNamespace,
    x0: np.ndarray,
) -> pd.DataFrame:
    """CO2 caps on the root and some scopes, water caps on some; all met by ``x0``."""
    M, cm, cp, scopes, emis_ref = tw.M, ca.m, ca.p, tw.scopes, res.emis_ref
    emis0 = np.bincount(cm, x0 * pr.co2[cp], M)
    wat0 = np.bincount(cm, x0 * pr.water[cp], M)
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
            lim.append(("water", others[k], 0.9 * res.water_use[mem].sum(), wat0[mem].sum()))
    limits = pd.DataFrame(lim, columns=["item", "scope", "ref", "x0"])
    limits["cap"] = _sig(np.maximum(limits["ref"], 1.25 * limits["x0"]) + 1.0, 4)
    return limits[["item", "scope", "cap"]]


def _links(
    rng: np.random.Generator, gd: SimpleNamespace, tw: SimpleNamespace, final: np.ndarray
) -> pd.DataFrame:
    """Links between neighbours: labour by distance, some capacities, losses, one-way links."""
    xy, pop, m_ids = tw.xy, tw.pop, tw.ids
    li, lj, tree = _edges(xy)
    km = np.hypot(*(xy[li] - xy[lj]).T)
    L = len(li)
    tr_pc = final[gd.trans].sum() / max(pop.sum(), 1.0)  # transportable units needed per head
    has_cap = rng.random(L) < 0.15
    lcap = _sig(rng.uniform(0.2, 1.0, L) * tr_pc * (pop[li] + pop[lj]) / 2, 3)
    lossy = rng.random(L) < 0.1
    one_way = (~tree) & (rng.random(L) < 0.05)
    flip = rng.random(L) < 0.5
    return pd.DataFrame(
        {
            "from": m_ids[np.where(flip, lj, li)],
            "to": m_ids[np.where(flip, li, lj)],
            "labour_per_unit": _sig(0.02 + 0.01 * km, 3),
            "capacity": np.where(has_cap, np.maximum(lcap, 1.0), np.nan),
            "loss": np.where(lossy, np.round(rng.uniform(0.01, 0.05, L), 3), 0.0),
            "both_ways": ~one_way,
        }
    )


def _endowments(
    rng: np.random.Generator,
    gd: SimpleNamespace,
    tw: SimpleNamespace,
    res: SimpleNamespace,
    final: np.ndarray,
) -> pd.DataFrame:
    """Land and water endowments, and some stocks of transportable goods."""
    M, G, n_tr, m_ids = tw.M, gd.G, gd.n_tr, tw.ids
    land_end, water_end = res.land_end, res.water_end
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
                    "item": gd.ids[sg[keep]],
                    "quantity": stock[keep],
                }
            )
        )
    return pd.concat(endow, ignore_index=True)


def _item_tables(gd: SimpleNamespace, pr: SimpleNamespace) -> dict[str, pd.DataFrame]:
    """The items, processes and process_io tables."""
    G, P, good_ids, co2, land, water = gd.G, pr.P, gd.ids, pr.co2, pr.land, pr.water
    items = pd.DataFrame(
        {
            "id": np.concatenate([good_ids, ["land", "water", "co2"]]),
            "name": np.concatenate([gd.names, ["Land", "Water", "CO2"]]),
            "unit": np.concatenate([gd.units, ["ha", "ML", "t"]]),
            "kind": np.concatenate(
                [np.full(G, "good", object), ["resource", "resource", "emission"]]
            ),
            "transportable": np.concatenate([gd.trans, [False, False, False]]),
        }
    )
    processes = pd.DataFrame({"id": pr.ids, "name": pr.names, "labour_hours": pr.labour})
    parts = [
        (np.arange(P), good_ids[pr.good], np.ones(P)),
        (pr.ip, good_ids[pr.ij], -pr.a_in),
        (np.flatnonzero(co2 > 0), "co2", co2[co2 > 0]),
        (np.flatnonzero(land > 0), "land", -land[land > 0]),
        (np.flatnonzero(water > 0), "water", -water[water > 0]),
    ]
    process_io = pd.concat(
        [pd.DataFrame({"process": pr.ids[pp], "item": it, "quantity": qq}) for pp, it, qq in parts],
        ignore_index=True,
    )
    return {"items": items, "processes": processes, "process_io": process_io}


def _town_tables(tw: SimpleNamespace, gd: SimpleNamespace, nd: SimpleNamespace) -> dict:
    """The confederations, municipalities and needs tables."""
    return {
        "confederations": pd.DataFrame(tw.conf_rows, columns=["id", "name", "parent"]),
        "municipalities": pd.DataFrame(
            {
                "id": tw.ids,
                "name": tw.names,
                "confederation": tw.conf,
                "population": tw.pop,
                "labour_hours": tw.hours,
            }
        ),
        "needs": pd.DataFrame(
            {
                "municipality": tw.ids[nd.m],
                "item": gd.ids[nd.g],
                "tier": nd.tier,
                "quantity": np.where(nd.per_capita, np.nan, nd.qty),
                "per_capita": np.where(nd.per_capita, nd.per_cap, np.nan),
            }
        ),
    }


def generate_tables(
    municipalities: int,
    goods: int,
    seed: int = 0,
    *,
    name: str | None = None,
) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """The scenario's metadata and tables (plain DataFrames) before validation.

    One step per part of the scenario, in a fixed order of random draws:
    goods, processes, municipalities, needs, calibration, capacities,
    resources, mandates, limits, links, endowments.
    """
    M, G = int(municipalities), int(goods)
    if M < 1 or G < 1:
        raise ValueError("need at least one municipality and one good")
    rng = np.random.default_rng(seed)
    gd = _goods(rng, G)
    pr = _processes(rng, gd)
    tw = _tree(rng, M)
    nd = _needs(rng, gd, M)
    ref = _calibrate(gd, pr, tw, nd)
    ca = _capacities(rng, gd, pr, tw, nd, ref)
    res = _resources(rng, pr, M, ca)
    mandates, x0 = _mandates(rng, gd, pr, tw, ca, res)
    limits = _limits(rng, pr, tw, ca, res, x0)
    links = _links(rng, gd, tw, ref[0])
    endowments = _endowments(rng, gd, tw, res, ref[0])
    capacities = pd.DataFrame(
        {"municipality": tw.ids[ca.m], "process": pr.ids[ca.p], "max_level": ca.cap}
    )
    tables = {
        **_town_tables(tw, gd, nd),
        **_item_tables(gd, pr),
        "capacities": capacities,
        "endowments": endowments,
        "links": links,
        "limits": limits,
        "mandates": mandates,
    }
    order = ["confederations", "municipalities", "items", "processes", "process_io"]
    order += ["capacities", "endowments", "needs", "links", "limits", "mandates"]
    meta = {
        "name": name or f"synthetic-{M}x{G}-seed{seed}",
        "period": "synthetic",
        "description": (
            f"Synthetic scenario: {M} municipalities, {G} goods, seed {seed} "
            "(models.generator). Feasible by construction; figures are random."
        ),
    }
    return meta, {k: tables[k] for k in order}


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

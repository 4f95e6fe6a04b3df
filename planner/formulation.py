"""Assembly of the linear programme of SPEC section 3, vectorised.

Every constraint family is built by one function from whole columns of the
scenario's canonical tables with numpy and scipy.sparse: there is no Python
loop over terms, rows or needs. The result, :class:`Formulation`, holds the
solver-neutral :class:`solvers.LinearProgram` and two label tables (``cols``
and ``rows``) that say, in the scenario's own ids, what each column and row is.

Columns (all >= 0)
    ``x``  activity of process p in municipality m (only where a capacity row
           exists and the process can run: labour is available);
    ``f``  flow of transportable good i along one direction of a link (only
           goods that some municipality needs or consumes, only from places
           that can hold the good to places that can pass it on to a user);
    ``r``  satisfaction ratio of one need, in [0, 1]; delivery = need * r
           (only needs that are non-zero and reachable);
    ``t``  one auxiliary "floor" column used by the max-min stages.

Rows
    ``balance``  endowment + production - consumption + inflow*(1-loss)
                 - outflow - deliveries >= 0, per municipality and good or
                 resource (only where something is taken out);
    ``labour``   process labour + labour of outgoing flows <= labour_hours;
    ``link``     sum of flows on one link direction <= its capacity;
    ``limit``    emissions (or resource use) over a scope <= cap;
    ``mandate``  max_export, min_local_share, max_labour_share.
Process capacities and ``forbid_process`` mandates are column bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from models import Scenario
from solvers import LinearProgram

INF = np.inf


@dataclass(frozen=True)
class Formulation:
    """The programme plus labels that map it back to the scenario."""

    lp: LinearProgram
    cols: pd.DataFrame  # kind, municipality, process, item, origin, dest, need, tier
    rows: pd.DataFrame  # kind, municipality, item, process, origin, dest, scope, mandate
    needs: pd.DataFrame  # every resolved need, with its column (-1 if none) and reason
    arcs: pd.DataFrame  # directed links: origin, dest, labour_per_unit, capacity, loss
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
        return _kind_index(self.cols["kind"], kind)

    def row_index(self, kind: str) -> np.ndarray:
        """Indices of the rows of one kind."""
        return _kind_index(self.rows["kind"], kind)

    def describe_rows(self, idx) -> np.ndarray:
        """The rows at ``idx`` in the scenario's own words (``rows["description"]`` makes all)."""
        return (
            self.rows.describe_at(idx)
            if isinstance(self.rows, LabelFrame)
            else self.rows["description"].to_numpy()[idx]
        )

    def describe_cols(self, idx) -> np.ndarray:
        """The columns at ``idx`` in the scenario's own words."""
        return (
            self.cols.describe_at(idx)
            if isinstance(self.cols, LabelFrame)
            else self.cols["description"].to_numpy()[idx]
        )

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


# --------------------------------------------------------------------------- helpers


def _kind_index(kinds: pd.Series, kind: str) -> np.ndarray:
    if isinstance(kinds.dtype, pd.CategoricalDtype):
        cats = kinds.cat.categories
        if kind not in cats:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(kinds.cat.codes.to_numpy() == cats.get_loc(kind))
    return np.flatnonzero(kinds.to_numpy() == kind)


def _codes(values: pd.Series | np.ndarray, index: pd.Index) -> np.ndarray:
    """Integer position of each value in ``index`` (-1 where absent).

    The scenario's id columns are Arrow strings: Arrow's hash lookup reads them in
    place, where ``Index.get_indexer`` would first convert every value.
    """
    try:
        found = pc.index_in(pa.array(values), value_set=pa.array(index))
    except (pa.ArrowException, TypeError, ValueError):
        return index.get_indexer(pd.Index(values))
    return (
        found.to_numpy(zero_copy_only=False)
        if found.null_count == 0
        else pc.fill_null(found, -1).to_numpy()
    )


COL_KINDS = pd.Index(["x", "f", "r", "t"], dtype=object)
ROW_KINDS = pd.Index(["balance", "labour", "link", "limit", "mandate"], dtype=object)


def _categories(values) -> pd.Index:
    """Category labels: ``values`` (distinct, non-empty strings) followed by ``""``."""
    return pd.Index(np.append(np.asarray(values, dtype=object), ""), dtype=object)


def _cat(codes: np.ndarray, categories: pd.Index) -> pd.Categorical:
    """A categorical column from integer codes into ``categories`` (no string per row)."""
    k = len(categories)
    dtype = np.int8 if k < 127 else np.int16 if k < 32_767 else np.int32
    return pd.Categorical.from_codes(
        np.asarray(codes).astype(dtype), dtype=pd.CategoricalDtype(categories)
    )


class LabelFrame(pd.DataFrame):
    """A label table whose ``description`` column is made on first use.

    Descriptions ("balance grain of ashford", "flow grain a -> b") are one string per
    row or column: at a million columns they would cost more time and memory than the
    whole programme, and only binding rows and conflicts ever show them. Reading
    ``frame["description"]`` makes them all (once); ``describe(idx)`` makes a few.
    Frames derived from this one are plain DataFrames.
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
    par = _codes(conf["parent"], cids)  # -1 at the root
    nM, nC = len(muni), len(cids)
    m = np.arange(nM)
    lvl = _codes(scenario.municipalities["confederation"], cids)
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
    as_m, as_c = _codes(s, muni), _codes(s, cids)
    pr = np.concatenate([k[as_m >= 0], k[as_c >= 0]])
    pc = np.concatenate([as_m[as_m >= 0], nM + as_c[as_c >= 0]])
    pick = sp.csr_array((np.ones(len(pr)), (pr, pc)), shape=(len(s), nM + nC))
    S = sp.csr_array(pick @ member)
    S.data = np.minimum(S.data, 1.0)
    return S


def _reachability(n: int, origin: np.ndarray, dest: np.ndarray) -> np.ndarray:
    """Dense 0/1 n x n matrix R with R[a, b] = 1 when b can be reached from a (a reaches itself).

    Dense, as the all-pairs search makes it anyway (n x n distances).
    """
    from scipy.sparse.csgraph import shortest_path

    if len(origin) == 0:
        return np.eye(n)
    g = sp.csr_array((np.ones(len(origin)), (origin, dest)), shape=(n, n))
    d = shortest_path(g, method="D", unweighted=True, directed=True)
    return np.isfinite(d).astype(float)


# --------------------------------------------------------------------------- build


def build(scenario: Scenario) -> Formulation:
    """Assemble the programme of SPEC section 3 for ``scenario``."""
    muni = scenario.municipalities
    items = scenario.items
    procs = scenario.processes
    pio = scenario.process_io
    M_ids = pd.Index(muni["id"])
    I_ids = pd.Index(items["id"])
    P_ids = pd.Index(procs["id"])
    nM, nI = len(M_ids), len(I_ids)
    L = muni["labour_hours"].to_numpy(float)
    kind = items["kind"].to_numpy()
    is_emission = kind == "emission"
    transportable = items["transportable"].to_numpy(bool) & (kind == "good")
    proc_lab = procs["labour_hours"].to_numpy(float)

    # ---- process activity columns x[p, m]
    cap = scenario.capacities
    xm = _codes(cap["municipality"], M_ids)
    xp = _codes(cap["process"], P_ids)
    runnable = ~((L[xm] <= 0) & (proc_lab[xp] > 0))
    xm, xp = xm[runnable], xp[runnable]
    x_ub = cap["max_level"].to_numpy(float)[runnable]
    x_ub = np.where(np.isnan(x_ub), INF, x_ub)
    mand = scenario.mandates
    mk = mand["kind"].to_numpy()
    mm = _codes(mand["municipality"], M_ids)
    mtarget = mand["target"].to_numpy()
    forb = np.flatnonzero(mk == "forbid_process")
    forb_key = mm[forb].astype(np.int64) * len(P_ids) + _codes(mtarget[forb], P_ids)
    x_forbidden = np.isin(xm.astype(np.int64) * len(P_ids) + xp, forb_key)
    x_ub = np.where(x_forbidden, 0.0, x_ub)
    nx = len(xm)

    # process_io joined to x: one entry per (x column, item of its process)
    io_p = _codes(pio["process"], P_ids)
    io_i = _codes(pio["item"], I_ids)
    io_q = pio["quantity"].to_numpy(float)
    order = np.argsort(io_p, kind="stable")
    io_p, io_i, io_q = io_p[order], io_i[order], io_q[order]
    start = np.searchsorted(io_p, np.arange(len(P_ids)), "left")
    stop = np.searchsorted(io_p, np.arange(len(P_ids)), "right")
    per_x = stop[xp] - start[xp]
    e_col = np.repeat(np.arange(nx), per_x)
    e_io = _ranges(start[xp], per_x)
    e_m, e_i, e_q = xm[e_col], io_i[e_io], io_q[e_io]

    # ---- needs and ratio columns r
    nd = scenario.needs
    nd_m = _codes(nd["municipality"], M_ids)
    nd_i = _codes(nd["item"], I_ids)
    need_q = scenario.need_quantities()  # the need, or per_capita x population where not given
    nd_tier = nd["tier"].to_numpy()

    # ---- directed arcs that can carry anything
    arcs = directed_arcs(scenario)
    a_o = _codes(arcs["origin"], M_ids)
    a_d = _codes(arcs["dest"], M_ids)
    usable = ~((L[a_o] <= 0) & (arcs["labour_per_unit"].to_numpy() > 0))
    usable &= ~(arcs["capacity"].to_numpy() <= 0)
    arcs = arcs[usable].reset_index(drop=True)
    a_o, a_d = a_o[usable], a_d[usable]
    nA = len(arcs)
    R = _reachability(nM, a_o, a_d)  # R[a, b]: b reachable from a

    # where can each item be had (sources) and where is it used (demand)
    endw = scenario.endowments
    en_m = _codes(endw["municipality"], M_ids)
    en_i = _codes(endw["item"], I_ids)
    en_q = endw["quantity"].to_numpy(float)
    wanted = need_q > 0

    def incidence(i: np.ndarray, m: np.ndarray) -> sp.csr_array:
        """Matrix items x municipalities, positive where some pair (i, m) is listed."""
        return sp.csr_array((np.ones(len(i)), (i, m)), shape=(nI, nM))

    def availability(e_m, e_i, e_q):
        src = incidence(
            np.concatenate([en_i[en_q > 0], e_i[e_q > 0]]),
            np.concatenate([en_m[en_q > 0], e_m[e_q > 0]]),
        )
        use = incidence(
            np.concatenate([nd_i[wanted], e_i[e_q < 0]]),
            np.concatenate([nd_m[wanted], e_m[e_q < 0]]),
        )
        have = (src @ R) > 0  # item can be at municipality (by transport if transportable)
        have = np.where(transportable[:, None], have, src.toarray() > 0)
        forward = (use @ R.T) > 0  # from municipality, some user of the item is reachable
        return have, forward

    # processes that can never run where they are (an input that cannot be had there)
    # get no column; their outputs then count as sources no more, so repeat until stable
    for _ in range(len(P_ids) + 1):
        have, forward = availability(e_m, e_i, e_q)
        short = (e_q < 0) & ~is_emission[e_i] & ~have[e_i, e_m]
        if not short.any():
            break
        keepx = np.ones(nx, bool)
        keepx[e_col[short]] = False
        xm, xp, x_ub, x_forbidden = xm[keepx], xp[keepx], x_ub[keepx], x_forbidden[keepx]
        nx = len(xm)
        per_x = stop[xp] - start[xp]
        e_col = np.repeat(np.arange(nx), per_x)
        e_io = _ranges(start[xp], per_x)
        e_m, e_i, e_q = xm[e_col], io_i[e_io], io_q[e_io]

    reachable = have[nd_i, nd_m] & (need_q > 0)
    r_need = np.flatnonzero(reachable)
    nr = len(r_need)

    # ---- flow columns f[i, a]: transportable items that can be at the origin and are wanted past the destination
    t_items = np.flatnonzero(transportable)
    if nA and len(t_items):
        ok = have[np.ix_(t_items, a_o)] & forward[np.ix_(t_items, a_d)]
        fi_local, fa = np.nonzero(ok)
        f_item = t_items[fi_local]
        f_arc = fa
    else:
        f_item = np.zeros(0, int)
        f_arc = np.zeros(0, int)
    nf = len(f_item)

    # ---- column layout: x | f | r | t
    x0, f0, r0 = 0, nx, nx + nf
    t_col = nx + nf + nr
    n = t_col + 1
    need_col = np.full(len(need_q), -1, dtype=np.int64)
    need_col[r_need] = r0 + np.arange(nr)
    needs = pd.DataFrame(  # scenario.resolved_needs(), with each need's column and why it has none
        {
            "municipality": nd["municipality"],
            "item": nd["item"],
            "tier": nd_tier,
            "need": need_q,
            "col": need_col,
            "reason": np.where(need_q <= 0, "zero need", np.where(reachable, "", "unreachable")),
        }
    ).reset_index(drop=True)

    a_lpu = arcs["labour_per_unit"].to_numpy(float)
    a_loss = arcs["loss"].to_numpy(float)
    a_cap = arcs["capacity"].to_numpy(float)

    # ---- balance rows, from triplets (municipality, item, column, coefficient)
    keep = ~is_emission[e_i]
    bm = [e_m[keep], a_o[f_arc], a_d[f_arc], nd_m[r_need]]
    bi = [e_i[keep], f_item, f_item, nd_i[r_need]]
    bc = [x0 + e_col[keep], f0 + np.arange(nf), f0 + np.arange(nf), r0 + np.arange(nr)]
    bv = [e_q[keep], -np.ones(nf), 1.0 - a_loss[f_arc], -need_q[r_need]]
    bm, bi, bc, bv = (np.concatenate(v) for v in (bm, bi, bc, bv))
    key = bm.astype(np.int64) * nI + bi
    # only pairs from which something is taken need a row; row_of maps a pair to its row
    # (-1: none), a table over all municipality x item pairs (4 bytes each)
    taken = np.zeros(nM * nI, dtype=bool)
    taken[key[bv < 0]] = True
    takes = np.flatnonzero(taken)
    del taken
    row_of = np.full(nM * nI, -1, dtype=np.int32)
    row_of[takes] = np.arange(len(takes), dtype=np.int32)
    rk = row_of[key]
    inrow = rk >= 0
    A_bal = sp.csr_array((bv[inrow], (rk[inrow], bc[inrow])), shape=(len(takes), n))
    del bm, bi, bc, bv, key, rk, inrow  # the largest temporaries: free them before the rest
    bal_m, bal_i = takes // nI, takes % nI
    endow = np.zeros(len(takes))
    if len(en_q):
        pos = row_of[en_m.astype(np.int64) * nI + en_i]
        hit = pos >= 0
        np.add.at(endow, pos[hit], en_q[hit])
    del row_of
    bal_lo, bal_hi = -endow, np.full(len(takes), INF)

    # ---- labour used per municipality (x labour + labour of outgoing flows)
    lab_rows = np.concatenate([xm, a_o[f_arc]])
    lab_cols = np.concatenate([x0 + np.arange(nx), f0 + np.arange(nf)])
    lab_vals = np.concatenate([proc_lab[xp], a_lpu[f_arc]])
    nzl = lab_vals != 0
    Lab = sp.csr_array((lab_vals[nzl], (lab_rows[nzl], lab_cols[nzl])), shape=(nM, n))
    lab_used = np.flatnonzero(np.diff(Lab.indptr) > 0)
    A_lab = Lab[lab_used]
    lab_lo, lab_hi = np.full(len(lab_used), -INF), L[lab_used]

    # ---- link capacity rows, one per arc with a finite capacity
    capped = np.flatnonzero(np.isfinite(a_cap))
    cap_row = np.full(nA, -1)
    cap_row[capped] = np.arange(len(capped))
    sel = cap_row[f_arc] >= 0
    A_link = sp.csr_array(
        (np.ones(int(sel.sum())), (cap_row[f_arc][sel], f0 + np.flatnonzero(sel))),
        shape=(len(capped), n),
    )
    link_lo, link_hi = np.full(len(capped), -INF), a_cap[capped]

    # ---- limits: emissions (net output) or resource use (gross input) over a scope
    lim = scenario.limits
    lim_i = _codes(lim["item"], I_ids)
    amount_q = np.where(is_emission[e_i], e_q, np.where(e_q < 0, -e_q, 0.0))
    S = scope_matrix(scenario, lim["scope"])  # limits x municipalities
    # limit row l = sum over x entries whose item is lim_i[l] and municipality in scope
    if len(lim):
        # for each limit, select entries with its item: build item-indicator (limits x items)
        Litem = sp.csr_array(
            (np.ones(len(lim)), (np.arange(len(lim)), lim_i)), shape=(len(lim), nI)
        )
        # entry e belongs to limit l iff Litem[l, e_i] and S[l, e_m]
        Ei = sp.csr_array((np.ones(len(e_i)), (e_i, np.arange(len(e_i)))), shape=(nI, len(e_i)))
        Em = sp.csr_array((np.ones(len(e_m)), (e_m, np.arange(len(e_m)))), shape=(nM, len(e_m)))
        member = (Litem @ Ei).multiply(S @ Em)  # limits x entries
        Ent = sp.csr_array((amount_q, (np.arange(len(e_i)), x0 + e_col)), shape=(len(e_i), n))
        A_lim = sp.csr_array(member @ Ent)
    else:
        A_lim = sp.csr_array((0, n))
    lim_lo, lim_hi = np.full(len(lim), -INF), lim["cap"].to_numpy(float)

    # ---- mandates as rows
    mval = mand["value"].to_numpy(float)
    # max_export: flows of the item leaving the municipality
    me = np.flatnonzero(mk == "max_export")
    me_i = _codes(mtarget[me], I_ids)
    A_exp = _select_rows(
        keys_rows=mm[me].astype(np.int64) * nI + me_i,
        keys_entries=a_o[f_arc].astype(np.int64) * nI + f_item,
        cols=f0 + np.arange(nf),
        vals=np.ones(nf),
        n=n,
    )
    # min_local_share: gross production at home >= share * total need
    ms = np.flatnonzero(mk == "min_local_share")
    ms_i = _codes(mtarget[ms], I_ids)
    prod = e_q > 0
    A_loc = _select_rows(
        keys_rows=mm[ms].astype(np.int64) * nI + ms_i,
        keys_entries=(e_m.astype(np.int64) * nI + e_i)[prod],
        cols=(x0 + e_col)[prod],
        vals=e_q[prod],
        n=n,
    )
    ms_key = mm[ms].astype(np.int64) * nI + ms_i
    nd_key = nd_m.astype(np.int64) * nI + nd_i
    uk, inv = np.unique(nd_key, return_inverse=True)
    tot_need = np.bincount(inv, weights=need_q, minlength=len(uk))
    at = np.minimum(np.searchsorted(uk, ms_key), max(len(uk) - 1, 0))
    ms_need = np.where(uk[at] == ms_key, tot_need[at], 0.0) if len(uk) else np.zeros(len(ms))
    # max_labour_share: labour used <= share * labour_hours
    ml = np.flatnonzero(mk == "max_labour_share")
    A_mls = Lab[mm[ml]]
    mand_rows = np.concatenate([me, ms, ml])
    A_man = sp.vstack([A_exp, A_loc, A_mls], format="csr")
    man_lo = np.concatenate([np.full(len(me), -INF), mval[ms] * ms_need, np.full(len(ml), -INF)])
    man_hi = np.concatenate([mval[me], np.full(len(ms), INF), mval[ml] * L[mm[ml]]])

    A = sp.vstack([A_bal, A_lab, A_link, A_lim, A_man], format="csr")
    del A_bal, A_link, A_lim, A_man
    A.sum_duplicates()
    row_lower = np.concatenate([bal_lo, lab_lo, link_lo, lim_lo, man_lo])
    row_upper = np.concatenate([bal_hi, lab_hi, link_hi, lim_hi, man_hi])

    col_lower = np.zeros(n)
    col_upper = np.concatenate([x_ub, np.full(nf, INF), np.ones(nr), [INF]])

    # ---- labels: categorical columns (codes into the id arrays, "" for none), so no
    # string is made per column; descriptions are made on demand (LabelFrame)
    Mi, Ii, Pi = M_ids.to_numpy(), I_ids.to_numpy(), P_ids.to_numpy()
    cM, cI, cP = _categories(Mi), _categories(Ii), _categories(Pi)
    eM, eI, eP = nM, nI, len(Pi)  # the code of ""
    full = lambda k, v: np.full(k, v, dtype=np.int64)  # noqa: E731
    nrow_bal, nrow_lab, nrow_link, nrow_lim, nrow_man = (
        len(takes),
        len(lab_used),
        len(capped),
        len(lim),
        len(mand_rows),
    )
    cols = LabelFrame(
        {
            "kind": _cat(np.repeat(np.arange(4), [nx, nf, nr, 1]), COL_KINDS),
            "municipality": _cat(np.concatenate([xm, a_o[f_arc], nd_m[r_need], [eM]]), cM),
            "process": _cat(np.concatenate([xp, full(nf + nr + 1, eP)]), cP),
            "item": _cat(np.concatenate([full(nx, eI), f_item, nd_i[r_need], [eI]]), cI),
            "dest": _cat(np.concatenate([full(nx, eM), a_d[f_arc], full(nr + 1, eM)]), cM),
            "arc": np.concatenate([np.full(nx, -1), f_arc, np.full(nr + 1, -1)]).astype(np.int32),
            "need": np.concatenate([np.full(nx + nf, -1), r_need, [-1]]).astype(np.int32),
            "forbidden": np.concatenate([x_forbidden, np.zeros(nf + nr + 1, bool)]),
            "tier": np.concatenate([np.full(nx + nf, -1), nd_tier[r_need], [-1]]).astype(np.int8),
        },
        describe=describe_cols,
    )
    links_arr = arcs["link"].to_numpy()
    mcode = lambda c: np.where(c < 0, eM, c)  # noqa: E731
    icode = lambda c: np.where(c < 0, eI, c)  # noqa: E731
    scopes = _categories(pd.unique(np.asarray(lim["scope"].to_numpy(), dtype=object)))
    mkinds = _categories(pd.unique(np.asarray(mk, dtype=object)))
    rows = LabelFrame(
        {
            "kind": _cat(
                np.repeat(np.arange(5), [nrow_bal, nrow_lab, nrow_link, nrow_lim, nrow_man]),
                ROW_KINDS,
            ),
            "municipality": _cat(
                np.concatenate(
                    [bal_m, lab_used, a_o[capped], full(nrow_lim, eM), mcode(mm[mand_rows])]
                ),
                cM,
            ),
            "item": _cat(
                np.concatenate(
                    [
                        bal_i,
                        full(nrow_lab + nrow_link, eI),
                        icode(lim_i),
                        icode(_codes(mtarget[mand_rows], I_ids)),
                    ]
                ),
                cI,
            ),
            "dest": _cat(
                np.concatenate(
                    [full(nrow_bal + nrow_lab, eM), a_d[capped], full(nrow_lim + nrow_man, eM)]
                ),
                cM,
            ),
            "scope": _cat(
                np.concatenate(
                    [
                        full(nrow_bal + nrow_lab + nrow_link, len(scopes) - 1),
                        _codes(lim["scope"], scopes[:-1]),
                        full(nrow_man, len(scopes) - 1),
                    ]
                ),
                scopes,
            ),
            "mandate": _cat(
                np.concatenate(
                    [
                        full(nrow_bal + nrow_lab + nrow_link + nrow_lim, len(mkinds) - 1),
                        _codes(pd.Series(mk[mand_rows]), mkinds[:-1]),
                    ]
                ),
                mkinds,
            ),
            "source_row": np.concatenate(
                [
                    np.full(nrow_bal + nrow_lab, -1),
                    links_arr[capped],
                    np.arange(nrow_lim),
                    mand_rows,
                ]
            ),
            "is_resource": np.concatenate(
                [
                    kind[bal_i] == "resource",
                    np.zeros(nrow_lab + nrow_link + nrow_lim + nrow_man, bool),
                ]
            ),
        },
        describe=describe_rows,
    )
    lp = LinearProgram(
        c=np.zeros(n),
        A=A,
        row_lower=row_lower,
        row_upper=row_upper,
        col_lower=col_lower,
        col_upper=col_upper,
        sense="min",
    )
    return Formulation(
        lp=lp,
        cols=cols,
        rows=rows,
        needs=needs,
        arcs=arcs,
        labour=Lab,
        municipalities=muni,
        t_col=t_col,
    )


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + k)`` for each start s and length k, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offs = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + (np.arange(total) - offs)


def _select_rows(keys_rows, keys_entries, cols, vals, n) -> sp.csr_array:
    """Rows ``k`` summing the entries whose key equals ``keys_rows[k]``."""
    k = len(keys_rows)
    if k == 0:
        return sp.csr_array((0, n))
    order = np.argsort(keys_rows, kind="stable")
    sk = keys_rows[order]
    pos = np.searchsorted(sk, keys_entries)
    pos_c = np.minimum(pos, k - 1)
    hit = sk[pos_c] == keys_entries
    # several mandates with the same key: each gets its own row with the same entries
    first = pos_c[hit]
    rows_out, cols_out, vals_out = [], [], []
    last = np.searchsorted(sk, keys_entries, "right")[hit]
    reps = last - first
    r = order[_ranges(first, reps)]
    rows_out = r
    cols_out = np.repeat(cols[hit], reps)
    vals_out = np.repeat(vals[hit], reps)
    return sp.csr_array((vals_out, (rows_out, cols_out)), shape=(k, n))


def _at(frame: pd.DataFrame, col: str, idx) -> np.ndarray:
    v = pd.DataFrame.__getitem__(frame, col).to_numpy()
    return v if idx is None else v[idx]


def describe_rows(rows: pd.DataFrame, idx=None) -> np.ndarray:
    """Rows in the scenario's own words, e.g. ``mandate max_export grain of ashford``.

    ``idx``: positions to describe (all when None). Returns an object array.
    """
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

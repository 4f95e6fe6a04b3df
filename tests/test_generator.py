"""The synthetic scenario generator: valid, reproducible, sparse, feasible."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

import models
from models.generator import SIZES, generate, generate_tables


@pytest.fixture(scope="module")
def mid():
    return generate(200, 100, seed=3)


def test_same_seed_same_scenario_other_seed_other_scenario():
    a, b, c = generate(30, 40, seed=7), generate(30, 40, seed=7), generate(30, 40, seed=8)
    assert a.content_hash == b.content_hash
    assert a.content_hash != c.content_hash
    for name in models.TABLES:
        pd.testing.assert_frame_equal(a.table(name), b.table(name))


@pytest.mark.parametrize(("m", "g"), [(1, 1), (2, 3), (5, 5), (30, 40), (200, 100), (250, 12)])
def test_valid_at_every_size(m, g):
    s = generate(m, g, seed=1)
    assert s.warnings == []
    assert len(s.municipalities) == m
    assert (s.items["kind"] == "good").sum() == g
    assert set(s.items["kind"]) <= {"good", "resource", "emission"}
    assert "co2" in set(s.limits["item"])


def test_generate_tables_gives_plain_frames():
    meta, tables = generate_tables(5, 5, seed=0)
    assert meta["name"]
    assert set(tables) == set(models.TABLES)
    assert all(isinstance(t, pd.DataFrame) for t in tables.values())
    assert models.from_tables(meta, tables).content_hash == generate(5, 5, 0).content_hash


def test_round_trip_through_a_folder(tmp_path):
    s = generate(30, 40, seed=2)
    models.save(s, tmp_path / "synthetic")
    assert models.load(tmp_path / "synthetic").content_hash == s.content_hash


def test_sizes_are_named():
    assert SIZES["large"] == (1000, 200)
    assert all(m > 0 and g > 0 for m, g in SIZES.values())


def _graph(s):
    ids = {m: k for k, m in enumerate(s.municipalities["id"])}
    a = s.links["from"].map(ids).to_numpy()
    b = s.links["to"].map(ids).to_numpy()
    return sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(len(ids), len(ids)))


def test_links_connect_everyone_sparsely(mid):
    assert connected_components(_graph(mid), directed=False)[0] == 1
    degree = np.asarray((_graph(mid) + _graph(mid).T).astype(bool).sum(axis=0)).ravel()
    assert degree.min() >= 1
    assert 2 <= degree.mean() <= 8
    links = mid.links
    assert links["capacity"].notna().any() and (links["loss"] > 0).any()
    assert links["both_ways"].mean() > 0.8
    assert (links["from"] != links["to"]).all()


def test_tree_levels():
    small = generate(30, 5, seed=1)
    assert len(small.confederations) == 1
    s = generate(200, 5, seed=1)
    conf = s.confederations
    assert set(conf.loc[conf["id"] != "root", "parent"]) == {"root"}
    sizes = s.municipalities.groupby("confederation").size()
    assert sizes.between(8, 40).all()
    big = generate(250, 5, seed=1)
    conf = big.confederations.set_index("id")["parent"]
    districts = set(big.municipalities["confederation"])
    regions = set(conf[list(districts)])
    assert "root" not in regions and set(conf[list(regions)]) == {"root"}


def test_processes_are_leontief_like(mid):
    io = mid.process_io.merge(mid.items[["id", "kind"]], left_on="item", right_on="id")
    goods = io[io["kind"] == "good"]
    out = goods[goods["quantity"] > 0]
    assert out.groupby("process").size().eq(1).all()  # one output good each
    assert (out["quantity"] == 1).all()
    assert set(out["process"]) == set(mid.processes["id"])
    inputs = goods[goods["quantity"] < 0].groupby("process").size()
    assert inputs.max() <= 4
    # one or two techniques per good
    per_good = out.groupby("item").size()
    assert per_good.between(1, 2).all() and (per_good == 2).any()
    q = mid.process_io["quantity"].abs()
    assert ((q >= 1e-6) & (q <= 1e6)).all()
    # productive: every technique mix has spectral radius < 1
    gid = {g: k for k, g in enumerate(out["item"].unique())}
    first = out.drop_duplicates("item").set_index("process")["item"]
    ins = goods[(goods["quantity"] < 0) & goods["process"].isin(first.index)]
    A = np.zeros((len(gid), len(gid)))
    A[ins["item"].map(gid), ins["process"].map(first).map(gid)] = -ins["quantity"]
    assert max(abs(np.linalg.eigvals(A))) < 1


def test_capacities_are_sparse_and_services_local(mid):
    items = mid.items.set_index("id")
    n_m, n_p = len(mid.municipalities), len(mid.processes)
    assert len(mid.capacities) < 0.6 * n_m * n_p
    services = set(items.index[(items["kind"] == "good") & ~items["transportable"]])
    assert services and (items.loc[list(services), "transportable"] == False).all()  # noqa: E712
    # services are needed and made locally; nothing needs an emission
    assert not mid.needs["item"].isin(items.index[items["kind"] != "good"]).any()


def test_needs_in_every_tier(mid):
    needs = mid.needs
    assert set(needs["tier"]) == {1, 2, 3}
    vital = needs[needs["tier"] == 1].groupby("municipality").size()
    assert len(vital) == len(mid.municipalities) and vital.max() <= 6
    assert needs["per_capita"].notna().any() and needs["quantity"].notna().any()


def test_a_few_mandates_of_each_kind(mid):
    kinds = mid.mandates["kind"].value_counts()
    assert set(kinds.index) == set(models.MANDATE_KINDS)
    assert kinds.max() <= 0.05 * len(mid.municipalities) + 1


@pytest.mark.parametrize("seed", range(4))
def test_min_local_share_can_be_met_at_home(seed):
    s = generate(200, 100, seed=seed)
    io = s.process_io.merge(s.items[["id", "kind"]], left_on="item", right_on="id")
    goods_in = set(io[(io["kind"] == "good") & (io["quantity"] < 0)]["process"])
    forbidden = s.mandates[s.mandates["kind"] == "forbid_process"]
    for m in s.mandates[s.mandates["kind"] == "min_local_share"].itertuples():
        makers = set(io[(io["item"] == m.target) & (io["quantity"] > 0)]["process"]) - goods_in
        here = s.capacities[
            (s.capacities["municipality"] == m.municipality) & s.capacities["process"].isin(makers)
        ]
        here = here[
            ~here["process"].isin(
                forbidden.loc[forbidden["municipality"] == m.municipality, "target"]
            )
        ]
        assert len(here), f"{m.municipality} has no way to make {m.target} from local resources"


class _Rows:
    """Rows ``entries . x <= b`` of a sparse LP, each ``entries`` a list of ``(column, coefficient)``."""

    def __init__(self):
        self.rows, self.rhs = [], []

    def add(self, entries, b):
        self.rows.append(entries)
        self.rhs.append(b)

    def matrix(self, n):
        ii = [k for k, e in enumerate(self.rows) for _ in e]
        jj = [c for e in self.rows for c, _ in e]
        vv = [v for e in self.rows for _, v in e]
        return sp.csr_matrix((vv, (ii, jj)), shape=(len(self.rows), n))


def _directed_arcs(links: pd.DataFrame) -> pd.DataFrame:
    cols = ["from", "to", "labour_per_unit", "capacity", "loss"]
    back = links.loc[links["both_ways"], ["to", "from", "labour_per_unit", "capacity", "loss"]]
    return pd.concat([links[cols], back.set_axis(cols, axis=1)], ignore_index=True)


def _upper_bounds(s: models.Scenario, cap: pd.DataFrame, nf: int) -> list[float]:
    forb = s.mandates[s.mandates["kind"] == "forbid_process"]
    forbidden = set(zip(forb["municipality"], forb["target"], strict=True))
    ub = [
        0.0
        if (r.municipality, r.process) in forbidden
        else (np.inf if np.isnan(r.max_level) else r.max_level)
        for r in cap.itertuples()
    ]
    return ub + [np.inf] * nf


def _balance_and_labour(s, cap, arcs, trans, out: _Rows) -> dict:
    """Balance rows and link capacity rows; returns the labour entries per municipality."""
    items = s.items.set_index("id")
    io = s.process_io.groupby("process")
    lab = s.processes.set_index("id")["labour_hours"]
    nx = len(cap)
    bal: dict = {}
    labour: dict = {m: [] for m in s.municipalities["id"]}
    for k, r in enumerate(cap.itertuples()):
        for it, q in zip(
            io.get_group(r.process)["item"], io.get_group(r.process)["quantity"], strict=True
        ):
            if items.loc[it, "kind"] != "emission":
                bal.setdefault((r.municipality, it), []).append((k, -q))
        labour[r.municipality].append((k, lab[r.process]))
    for a, arc in enumerate(arcs.itertuples(index=False)):
        for t, i in enumerate(trans):
            c = nx + a * len(trans) + t
            bal.setdefault((arc[0], i), []).append((c, 1.0))
            bal.setdefault((arc[1], i), []).append((c, -(1 - arc[4])))
            labour[arc[0]].append((c, arc[2]))
        if not np.isnan(arc[3]):
            out.add([(nx + a * len(trans) + t, 1.0) for t in range(len(trans))], arc[3])
    endow = {(e.municipality, e.item): e.quantity for e in s.endowments.itertuples()}
    for key, entries in bal.items():
        out.add(entries, endow.get(key, 0.0))
    return labour


def _labour_rows(s, labour: dict, out: _Rows) -> None:
    mun = list(s.municipalities["id"])
    share = dict.fromkeys(mun, 1.0)
    mand = s.mandates
    for r in mand[mand["kind"] == "max_labour_share"].itertuples():
        share[r.municipality] = r.value
    hours = s.municipalities.set_index("id")["labour_hours"]
    for m in mun:
        out.add(labour[m], share[m] * hours[m])


def _limit_rows(s, cap, out: _Rows) -> None:
    items = s.items.set_index("id")
    io = s.process_io.groupby("process")
    conf = s.confederations.set_index("id")["parent"].to_dict()
    home = s.municipalities.set_index("id")["confederation"].to_dict()

    def within(m, scope):
        c = home[m] if m != scope else scope
        while c:
            if c == scope:
                return True
            c = conf.get(c, "")
        return False

    for lim in s.limits.itertuples():
        sign = 1.0 if items.loc[lim.item, "kind"] == "emission" else -1.0
        entries = []
        for k, r in enumerate(cap.itertuples()):
            g = io.get_group(r.process)
            q = g.loc[g["item"] == lim.item, "quantity"].sum()
            if q and within(r.municipality, lim.scope):
                entries.append((k, sign * q))
        out.add(entries, lim.cap)


def _mandate_rows(s, cap, arcs, trans, out: _Rows) -> None:
    """max_export and min_local_share rows."""
    io = s.process_io.groupby("process")
    mand = s.mandates
    nx, ti = len(cap), {i: t for t, i in enumerate(trans)}
    need = s.resolved_needs().groupby(["municipality", "item"])["need"].sum()
    for r in mand[mand["kind"] == "max_export"].itertuples():
        a_out = np.flatnonzero(arcs["from"].to_numpy() == r.municipality)
        out.add([(nx + a * len(trans) + ti[r.target], 1.0) for a in a_out], r.value)
    for r in mand[mand["kind"] == "min_local_share"].itertuples():
        entries = []
        for k, c in enumerate(cap.itertuples()):
            if c.municipality == r.municipality:
                g = io.get_group(c.process)
                q = g.loc[(g["item"] == r.target) & (g["quantity"] > 0), "quantity"].sum()
                if q:
                    entries.append((k, -q))
        out.add(entries, -r.value * need.get((r.municipality, r.target), 0.0))


def _hard_constraints_feasible(s: models.Scenario) -> bool:
    """SPEC section 3's hard constraints with no deliveries (d = 0), by linprog."""
    items = s.items.set_index("id")
    goods = [i for i in items.index if items.loc[i, "kind"] == "good"]
    trans = [i for i in goods if items.loc[i, "transportable"]]
    cap = s.capacities.reset_index(drop=True)
    arcs = _directed_arcs(s.links)
    nf = len(arcs) * len(trans)
    n = len(cap) + nf
    out = _Rows()
    labour = _balance_and_labour(s, cap, arcs, trans, out)
    _labour_rows(s, labour, out)
    _limit_rows(s, cap, out)
    _mandate_rows(s, cap, arcs, trans, out)
    res = linprog(
        np.zeros(n),
        A_ub=out.matrix(n),
        b_ub=np.array(out.rhs),
        bounds=list(zip([0] * n, _upper_bounds(s, cap, nf), strict=True)),
        method="highs",
    )
    return res.status == 0


@pytest.mark.parametrize(
    ("m", "g", "seed"), [(1, 1, 0), (5, 5, 0), (5, 5, 1), (12, 9, 2), (30, 12, 3), (40, 10, 4)]
)
def test_hard_constraints_are_feasible(m, g, seed):
    assert _hard_constraints_feasible(generate(m, g, seed))


def test_a_large_instance_generates():
    """Its time is bench/inputs.py's (a speed target, not a timed test)."""
    s = generate(1000, 200, seed=0)
    assert len(s.municipalities) == 1000 and len(s.items) > 200


def test_the_feasibility_check_has_teeth():
    meta, tables = generate_tables(5, 5, seed=0)
    mls = tables["mandates"][tables["mandates"]["kind"] == "min_local_share"].iloc[0]
    io = tables["process_io"]
    makers = io.loc[(io["item"] == mls["target"]) & (io["quantity"] > 0), "process"]
    here = tables["capacities"]["municipality"] == mls["municipality"]
    tables["capacities"] = tables["capacities"][
        ~(here & tables["capacities"]["process"].isin(makers))
    ]
    assert not _hard_constraints_feasible(models.from_tables(meta, tables))

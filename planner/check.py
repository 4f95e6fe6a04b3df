"""The plan checker: whether a plan satisfies every constraint of SPEC section 3.

It reads only the scenario and the plan's JSON (never the formulation), so it
checks the engine from the outside: balances, labour, capacities, links,
limits, mandates, deliveries, and that the plan's own reported figures
(labour used, limit amounts, ratios) agree with its production and flows.
Every comparison allows 1e-6 relative to the size of the terms involved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models import Scenario

TOL = 1e-6


def _frame(plan: dict, key: str, cols: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(plan.get(key) or [])
    for c in cols:
        if c not in df:
            df[c] = pd.Series(
                dtype=float if c in ("level", "quantity", "delivered", "need") else object
            )
    return df


def _over(lhs: np.ndarray, rhs: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Where ``lhs <= rhs`` fails by more than the tolerance."""
    return lhs - rhs > TOL * np.maximum(1.0, scale)


def check_plan(scenario: Scenario, plan: dict) -> list[str]:
    """Every violated constraint of SPEC section 3, in words; empty when the plan is valid.

    One checker per family of constraints (signs, capacity, links, balance,
    labour, limits, needs, mandates), in that order.
    """
    if plan.get("status") not in ("optimal", "shortfall"):
        return []
    prod = _frame(plan, "production", ["municipality", "process", "level"])
    flows = _frame(plan, "flows", ["from", "to", "item", "quantity"])
    dl = _frame(plan, "deliveries", ["municipality", "item", "tier", "need", "delivered", "ratio"])
    merged = flows.merge(_arcs(scenario), on=["from", "to"], how="left", indicator=True)
    fa = merged[merged["_merge"] == "both"]
    fa["loss"] = fa["loss"].fillna(0.0)
    io = _io_amounts(scenario, prod)
    used = _labour_used(scenario, prod, fa)
    needs = scenario.resolved_needs()
    return [
        *_check_signs(prod, flows, dl),
        *_check_capacity(scenario, prod),
        *_check_forbidden(scenario, prod),
        *_check_links(scenario, flows, merged, fa),
        *_check_balance(scenario, io, fa, dl),
        *_check_labour(scenario, plan, used),
        *_check_limits(scenario, io),
        *_check_needs(needs, dl),
        *_check_mandates(scenario, fa, io, needs, used),
    ]


def _io_amounts(scenario: Scenario, prod: pd.DataFrame) -> pd.DataFrame:
    """Every process io entry of the plan's production: ``amount`` = level x quantity."""
    io = prod.merge(scenario.process_io, on="process")
    io["amount"] = io["level"].astype(float) * io["quantity"].astype(float)
    io["kind"] = scenario.items.set_index("id")["kind"].reindex(io["item"]).to_numpy()
    return io


def _labour_used(scenario: Scenario, prod: pd.DataFrame, fa: pd.DataFrame) -> pd.Series:
    """Hours per municipality: process labour plus labour of the flows leaving it."""
    procs = scenario.processes.set_index("id")
    plab = prod.assign(
        h=prod["level"].astype(float)
        * procs["labour_hours"].reindex(prod["process"]).to_numpy(float)
    )
    flab = fa.assign(municipality=fa["from"], h=fa["quantity"] * fa["labour_per_unit"])
    used = (
        pd.concat([plab[["municipality", "h"]], flab[["municipality", "h"]]])
        .groupby("municipality")["h"]
        .sum()
    )
    return used.reindex(scenario.municipalities["id"]).fillna(0.0)


def _check_signs(prod: pd.DataFrame, flows: pd.DataFrame, dl: pd.DataFrame) -> list[str]:
    """All variables are >= 0."""
    bad: list[str] = []
    for name, df, col in (
        ("production", prod, "level"),
        ("flows", flows, "quantity"),
        ("deliveries", dl, "delivered"),
    ):
        neg = df[df[col].astype(float) < -TOL]
        bad += [f"{name}: negative {col} {v}" for v in neg[col].head(20)]
    return bad


def _check_capacity(scenario: Scenario, prod: pd.DataFrame) -> list[str]:
    """A capacity row must exist for every process run, and level <= max_level."""
    p = prod.merge(scenario.capacities, on=["municipality", "process"], how="left", indicator=True)
    bad = [
        f"capacity: {r.process} runs in {r.municipality} without a capacity row"
        for r in p[p["_merge"] == "left_only"].head(20).itertuples()
    ]
    over = p[
        (p["_merge"] == "both")
        & _over(
            p["level"].to_numpy(float),
            p["max_level"].fillna(np.inf).to_numpy(float),
            p["max_level"].fillna(0).to_numpy(float),
        )
    ]
    bad += [
        f"capacity: {r.process} in {r.municipality} at {r.level} > {r.max_level}"
        for r in over.head(20).itertuples()
    ]
    return bad


def _check_forbidden(scenario: Scenario, prod: pd.DataFrame) -> list[str]:
    """Mandates ``forbid_process``: the process never runs there."""
    mand = scenario.mandates
    forb = mand[mand["kind"] == "forbid_process"].rename(columns={"target": "process"})
    fp = prod[prod["level"] > TOL].merge(
        forb[["municipality", "process"]], on=["municipality", "process"]
    )
    return [
        f"mandate forbid_process {r.process} of {r.municipality}: level {r.level}"
        for r in fp.itertuples()
    ]


def _check_links(
    scenario: Scenario, flows: pd.DataFrame, merged: pd.DataFrame, fa: pd.DataFrame
) -> list[str]:
    """Flows only on links, only of transportable goods, within each direction's capacity."""
    items = scenario.items.set_index("id")
    bad = [
        f"flow {r.item} {r._1} -> {r.to} on no link"
        for r in merged[merged["_merge"] == "left_only"].head(20).itertuples()
    ]
    tr = items["transportable"].reindex(flows["item"]).fillna(False).to_numpy(bool)
    kinds = items["kind"].reindex(flows["item"]).to_numpy()
    nt = flows[~tr | (kinds != "good")]
    bad += [f"flow of {r.item}, which cannot move" for r in nt.head(20).itertuples()]
    per_arc = fa.groupby(["from", "to"], as_index=False).agg(
        q=("quantity", "sum"), capacity=("capacity", "first")
    )
    lc = per_arc[
        np.isfinite(per_arc["capacity"].fillna(np.inf))
        & _over(
            per_arc["q"].to_numpy(float),
            per_arc["capacity"].fillna(np.inf).to_numpy(float),
            per_arc["q"].to_numpy(float),
        )
    ]
    bad += [f"link {r._1} -> {r.to}: {r.q} > capacity {r.capacity}" for r in lc.itertuples()]
    return bad


def _check_balance(
    scenario: Scenario, io: pd.DataFrame, fa: pd.DataFrame, dl: pd.DataFrame
) -> list[str]:
    """Per municipality and good or resource: nothing used or delivered that is not there."""
    cols = ["municipality", "item", "v"]
    terms = [
        scenario.endowments.assign(v=lambda d: d["quantity"].astype(float))[cols],
        io[io["kind"] != "emission"].assign(v=lambda d: d["amount"])[cols],
        fa.assign(municipality=fa["to"], v=fa["quantity"] * (1 - fa["loss"]))[cols],
        fa.assign(municipality=fa["from"], v=-fa["quantity"])[cols],
        dl.assign(v=-dl["delivered"].astype(float))[cols],
    ]
    allt = pd.concat(terms, ignore_index=True)
    allt["absv"] = allt["v"].abs()
    bal = allt.groupby(["municipality", "item"], as_index=False).agg(
        net=("v", "sum"), scale=("absv", "sum")
    )
    neg = bal[_over(-bal["net"].to_numpy(), np.zeros(len(bal)), bal["scale"].to_numpy())]
    return [
        f"balance {r.item} of {r.municipality}: short by {-r.net}"
        for r in neg.head(50).itertuples()
    ]


def _check_labour(scenario: Scenario, plan: dict, used: pd.Series) -> list[str]:
    """Labour used <= labour hours, and the plan reports the hours its activity needs."""
    muni = scenario.municipalities.set_index("id")
    avail = muni["labour_hours"].astype(float)
    lo = used[_over(used.to_numpy(), avail.to_numpy(), avail.to_numpy())]
    bad = [f"labour of {m}: {u} > {avail[m]}" for m, u in lo.items()]
    rep = pd.DataFrame(plan.get("labour") or [])
    if len(rep):
        rep = rep.set_index("municipality")["used"].reindex(muni.index).fillna(0.0)
        off = rep[np.abs(rep - used) > TOL * np.maximum(1.0, used)]
        bad += [
            f"labour of {m}: reported {v}, production and flows need {used[m]}"
            for m, v in off.items()
        ]
    return bad


def _check_limits(scenario: Scenario, io: pd.DataFrame) -> list[str]:
    """Emissions (or resource use) summed over each limit's scope <= cap."""
    if not len(scenario.limits):
        return []
    from planner.formulation import ancestors

    io = io.assign(
        lim=np.where(
            io["kind"] == "emission", io["amount"], np.where(io["amount"] < 0, -io["amount"], 0.0)
        )
    )
    em = (
        io[io["kind"].isin(["emission", "resource"])]
        .groupby(["municipality", "item"], as_index=False)["lim"]
        .sum()
    )
    em = em.merge(ancestors(scenario), on="municipality")
    tot = em.groupby(["scope", "item"])["lim"].sum()
    bad: list[str] = []
    for r in scenario.limits.itertuples():
        amt = float(tot.get((r.scope, r.item), 0.0))
        if _over(np.array([amt]), np.array([r.cap]), np.array([r.cap]))[0]:
            bad.append(f"limit {r.item} in {r.scope}: {amt} > cap {r.cap}")
    return bad


def _check_needs(needs: pd.DataFrame, dl: pd.DataFrame) -> list[str]:
    """Every need has a delivery, delivered <= need, and the ratio is delivered/need."""
    d = needs.merge(dl, on=["municipality", "item", "tier"], how="left", suffixes=("", "_plan"))
    miss = d[d["delivered"].isna()]
    bad = [
        f"deliveries: need {r.item} tier {r.tier} of {r.municipality} missing from the plan"
        for r in miss.head(20).itertuples()
    ]
    d = d[d["delivered"].notna()]
    ov = d[
        _over(d["delivered"].to_numpy(float), d["need"].to_numpy(float), d["need"].to_numpy(float))
    ]
    bad += [
        f"need {r.item} tier {r.tier} of {r.municipality}: delivered {r.delivered} > need {r.need}"
        for r in ov.itertuples()
    ]
    pos = d[d["need"] > 0]
    rat = pos[np.abs(pos["delivered"] / pos["need"] - pos["ratio"]) > TOL]
    bad += [
        f"need {r.item} tier {r.tier} of {r.municipality}: ratio {r.ratio} != delivered/need"
        for r in rat.head(20).itertuples()
    ]
    return bad


def _check_mandates(
    scenario: Scenario,
    fa: pd.DataFrame,
    io: pd.DataFrame,
    needs: pd.DataFrame,
    used: pd.Series,
) -> list[str]:
    """Mandates max_export, min_local_share and max_labour_share (forbid_process: above)."""
    avail = scenario.municipalities.set_index("id")["labour_hours"].astype(float)
    bad: list[str] = []
    for r in scenario.mandates.itertuples():
        if r.kind == "max_export":
            out = float(
                fa[(fa["from"] == r.municipality) & (fa["item"] == r.target)]["quantity"].sum()
            )
            if _over(np.array([out]), np.array([r.value]), np.array([r.value]))[0]:
                bad.append(f"mandate max_export {r.target} of {r.municipality}: {out} > {r.value}")
        elif r.kind == "min_local_share":
            made = io[
                (io["municipality"] == r.municipality)
                & (io["item"] == r.target)
                & (io["amount"] > 0)
            ]["amount"].sum()
            need = needs[(needs["municipality"] == r.municipality) & (needs["item"] == r.target)][
                "need"
            ].sum()
            if _over(np.array([r.value * need]), np.array([made]), np.array([need]))[0]:
                bad.append(
                    f"mandate min_local_share {r.target} of {r.municipality}: made {made} < {r.value} x {need}"
                )
        elif r.kind == "max_labour_share":
            cap_h = r.value * float(avail[r.municipality])
            if _over(np.array([used[r.municipality]]), np.array([cap_h]), np.array([cap_h]))[0]:
                bad.append(
                    f"mandate max_labour_share of {r.municipality}: {used[r.municipality]} > {cap_h}"
                )
    return bad


def _arcs(scenario: Scenario) -> pd.DataFrame:
    links = scenario.links
    cols = ["from", "to", "labour_per_unit", "capacity", "loss"]
    fwd = links[cols]
    back = links[links["both_ways"].astype(bool)].rename(columns={"from": "to", "to": "from"})[cols]
    return pd.concat([fwd, back], ignore_index=True).drop_duplicates(["from", "to"])

"""Infeasible scenarios: which hard constraints conflict, and the least change that reconciles them.

:func:`minimal_conflicts` finds an irreducible set of the scenario's hard
constraints (SPEC section 6, ``conflicts``): dropping any one of them makes
the scenario feasible. Its members are *groups* an assembly can name and
change: each mandate, each limit, each capacity, each municipality's labour
hours, each link's capacity, each resource endowment, and (for the rule
``min_labour_full``) each need met in full. Balances and flows are structure,
never members; where they take part, they are summarised as what they mean
("nothing brings bread to Elmstead except the link from Fernhill").

Method: HiGHS's irreducible infeasible subset of rows and bounds proposes
candidate groups (fast); the scenario restricted to them is checked to be
infeasible (else every group is a candidate), then a deletion filter over the
groups drops each member whose absence leaves the scenario infeasible. Every
member kept was tried: without it the scenario is feasible.

:func:`reconcile` solves the elastic programme: one non-negative elastic per
mandate and limit, each weighed in its own units (docs/PLANNING.md,
"Reconciliation"), minimising the total weighed relaxation; the non-zero
elastics become edits (planner/edits.py) for the assemblies concerned to approve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

import solvers
from models import Scenario
from planner.edits import Words, edit_text, fmt
from planner.formulation import Formulation
from planner.why import OutOfTime, solve_within, time_left
from solvers import LinearProgram, Status

INF = np.inf


@dataclass
class _Group:
    """One hard constraint of the scenario: rows and column bounds of the programme."""

    kind: str
    where: str
    rows: list[int] = field(default_factory=list)
    cols: list[int] = field(default_factory=list)
    col_relaxed: list[tuple[float, float]] = field(default_factory=list)


# --------------------------------------------------------------------------- groups


def _base_lp(form: Formulation, full_needs: bool) -> LinearProgram:
    lp = form.lp
    lo = lp.col_lower.copy()
    if full_needs:
        lo[form.col_index("r")] = 1.0
    return LinearProgram(lp.c, lp.A, lp.row_lower, lp.row_upper, lo, lp.col_upper)


def _capacity_levels(scenario: Scenario, form: Formulation, cols: np.ndarray) -> np.ndarray:
    """The capacities.csv max_level of x columns (inf where empty): a ban lifted leaves it."""
    cap = scenario.capacities
    level = dict(
        zip(zip(cap["municipality"], cap["process"], strict=True), cap["max_level"], strict=True)
    )
    m = form.cols["municipality"].to_numpy()[cols]
    p = form.cols["process"].to_numpy()[cols]
    out = np.array([level.get((a, b), INF) for a, b in zip(m, p, strict=True)], float)
    return np.where(np.isnan(out), INF, out)


def _groups(scenario: Scenario, form: Formulation, full_needs: bool) -> list[_Group]:
    """Every hard constraint an assembly can name, as rows and column bounds."""
    rows = form.rows
    kinds = rows["kind"].to_numpy().astype(object)
    kinds[_resource_rows(scenario, form)] = "resource"
    desc = form.describe_rows(np.arange(len(kinds)))
    groups = [
        _Group(str(kinds[i]), str(desc[i]), rows=[int(i)])
        for i in np.flatnonzero(np.isin(kinds, ["labour", "link", "limit", "mandate", "resource"]))
    ]
    xs = form.col_index("x")
    ub = form.lp.col_upper[xs]
    forb = form.cols["forbidden"].to_numpy()[xs]
    capped = xs[np.isfinite(ub) & ~forb]
    banned = xs[forb]
    level = _capacity_levels(scenario, form, banned)
    cdesc = form.describe_cols(np.concatenate([capped, banned]).astype(int))
    for k, j in enumerate(capped):
        groups.append(_Group("capacity", str(cdesc[k]), cols=[int(j)], col_relaxed=[(0.0, INF)]))
    for k, j in enumerate(banned):
        d = str(cdesc[len(capped) + k])
        groups.append(_Group("mandate", d, cols=[int(j)], col_relaxed=[(0.0, level[k])]))
    if full_needs:
        r = form.col_index("r")
        for j, d in zip(r, form.describe_cols(r), strict=True):
            groups.append(
                _Group("need", f"{d} (met in full)", cols=[int(j)], col_relaxed=[(0.0, 1.0)])
            )
    return groups


def _resource_rows(scenario: Scenario, form: Formulation) -> np.ndarray:
    """Balance rows of resources (land, water): endowments of nature, never moved."""
    resources = scenario.items.loc[scenario.items["kind"] == "resource", "id"].to_numpy()
    rows = form.rows
    bal = form.row_index("balance")
    return bal[np.isin(rows["item"].to_numpy()[bal], resources)]


class _Checker:
    """One HiGHS model of the programme whose groups can be switched off and on."""

    def __init__(self, lp: LinearProgram, groups: list[_Group], deadline: float | None = None):
        self.lp, self.groups = lp, groups
        self.be = solvers.get("highs")
        self.be.load(lp)
        self.solves = 0
        self.deadline = deadline  # time.monotonic(); past it a solve raises OutOfTime

    def switch(self, g: _Group, on: bool) -> None:
        if g.rows:
            r = np.array(g.rows)
            lo = self.lp.row_lower[r] if on else np.full(len(r), -INF)
            up = self.lp.row_upper[r] if on else np.full(len(r), INF)
            self.be.set_row_bounds(r, lo, up)
        if g.cols:
            c = np.array(g.cols)
            relaxed = np.array(g.col_relaxed, float).reshape(-1, 2)
            lo = self.lp.col_lower[c] if on else relaxed[:, 0]
            up = self.lp.col_upper[c] if on else relaxed[:, 1]
            self.be.set_col_bounds(c, lo, up)

    def infeasible(self) -> bool:
        self.solves += 1
        res = solve_within(self.be, self.deadline)
        if res.status not in (Status.OPTIMAL, Status.INFEASIBLE):
            raise RuntimeError(f"conflict search: a solve ended {res.status}: {res.message}")
        return res.status == Status.INFEASIBLE


def _candidates(lp: LinearProgram, groups: list[_Group]) -> list[int]:
    """Groups met by HiGHS's IIS of the whole programme (all groups if it finds none)."""
    be = solvers.get("highs")
    be.load(lp)
    try:
        iis = be.iis()
    except Exception:  # noqa: BLE001 - the deletion filter over every group still decides
        iis = None
    if iis is None:
        return list(range(len(groups)))
    rows, cols = set(map(int, iis[0])), set(map(int, iis[1]))
    hit = [k for k, g in enumerate(groups) if rows & set(g.rows) or cols & set(g.cols)]
    return hit or list(range(len(groups)))


def _deletion_filter(chk: _Checker, members: list[int]) -> list[int]:
    """Drop each member whose absence leaves the programme infeasible; the rest is irreducible."""
    keep = list(members)
    for k in list(members):
        chk.switch(chk.groups[k], on=False)
        if chk.infeasible():
            keep.remove(k)
        else:
            chk.switch(chk.groups[k], on=True)
    return keep


def conflict_groups(
    scenario: Scenario, form: Formulation, full_needs: bool = False, deadline: float | None = None
) -> tuple[list[_Group], list[int], LinearProgram]:
    """(every group, the indices of an irreducible conflicting set, the programme); [] if feasible.

    ``deadline`` (``time.monotonic()``): checked before every solve; past it
    :class:`planner.why.OutOfTime` is raised (no set half filtered is returned).
    """
    lp = _base_lp(form, full_needs)
    groups = _groups(scenario, form, full_needs)
    chk = _Checker(lp, groups, deadline)
    if not chk.infeasible():
        return groups, [], lp
    time_left(deadline)
    cand = _candidates(lp, groups)
    for k in set(range(len(groups))) - set(cand):
        chk.switch(groups[k], on=False)
    if not chk.infeasible():  # the IIS met structure only: every group is a candidate
        for k in set(range(len(groups))) - set(cand):
            chk.switch(groups[k], on=True)
        cand = list(range(len(groups)))
    return groups, _deletion_filter(chk, cand), lp


def minimal_conflicts(
    scenario: Scenario, form: Formulation, full_needs: bool = False, deadline: float | None = None
) -> list[dict]:
    """An irreducible set of conflicting hard constraints, then what the structure adds.

    Members: ``{"kind", "where", "text", "member": True}``; dropping any one makes the
    scenario feasible. Structure (balances that take part): ``{"kind": "structure",
    "where", "text", "member": False}``. ``deadline``: as for :func:`conflict_groups`.
    """
    groups, members, lp = conflict_groups(scenario, form, full_needs, deadline)
    words = Words(scenario)
    out = [
        {
            "kind": groups[k].kind,
            "where": groups[k].where,
            "text": _member_text(groups[k], form, words),
            "member": True,
        }
        for k in members
    ]
    if not members:
        unreachable = form.needs[form.needs["reason"] == "unreachable"] if full_needs else []
        return [
            {"kind": "need", "where": f"need {r.item} tier {r.tier} of {r.municipality}",
             "text": f"nothing can bring {words.item.get(r.item, r.item)} to {words.place.get(r.municipality)}", "member": True}
            for r in getattr(unreachable, "itertuples", lambda: [])()
        ]  # fmt: skip
    try:
        time_left(deadline)
    except OutOfTime:  # the members stand without the summary of the structure
        return out
    return out + _structure(scenario, form, lp, [groups[k] for k in members], words)


def conflict_texts(found: list[dict]) -> list[str]:
    """The plan's ``conflicts``: members as the scenario names them, then the structure."""
    return [d["where"] if d["member"] else d["text"] for d in found]


# --------------------------------------------------------------------------- words


def _member_text(g: _Group, form: Formulation, words: Words) -> str:
    """A member in a committee's words."""
    if g.rows:
        i = g.rows[0]
        rows = form.rows
        m, item = str(rows["municipality"].iat[i]), str(rows["item"].iat[i])
        lo, up = form.lp.row_lower[i], form.lp.row_upper[i]
        if g.kind == "mandate":
            mk = str(rows["mandate"].iat[i])
            v = words.mandate_values[int(rows["source_row"].iat[i])]
            what = {
                "max_export": f"export at most {words.qty(v, item)} of {words.item.get(item)}",
                "min_local_share": f"make at least {v:.0%} of its {words.item.get(item)} at home ({words.qty(lo, item)})",
                "max_labour_share": f"give at most {v:.1%} of its labour hours ({fmt(up)} h)",
            }.get(mk, mk)
            return f"{words.of(m)} mandate to {what}"
        if g.kind == "labour":
            return f"{words.of(m)} labour hours ({fmt(up)} h)"
        if g.kind == "limit":
            scope = str(rows["scope"].iat[i])
            return f"{words.of(scope)} {words.item.get(item)} cap ({words.qty(up, item)})"
        if g.kind == "link":
            dest = str(rows["dest"].iat[i])
            return (
                f"the link from {words.place.get(m)} to {words.place.get(dest)} ({fmt(up)} at most)"
            )
        return f"{words.of(m)} {words.item.get(item)} ({words.qty(-lo, item)})"
    j = g.cols[0]
    m, p = str(form.cols["municipality"].iat[j]), str(form.cols["process"].iat[j])
    if g.kind == "capacity":
        return f"{words.of(m)} {words.process.get(p)} capacity ({fmt(form.lp.col_upper[j])})"
    if g.kind == "mandate":
        return f"{words.of(m)} ban on {words.process.get(p)}"
    item, tier = str(form.cols["item"].iat[j]), int(form.cols["tier"].iat[j])
    return f"{words.of(m)} tier-{tier} need of {words.item.get(item)} met in full"


def _structure(
    scenario: Scenario, form: Formulation, lp: LinearProgram, members: list[_Group], words: Words
) -> list[dict]:
    """The balances that take part in the conflict, each as where the good can come from."""
    chk = _Checker(lp, _groups_all_off(form, lp, members))
    for g in chk.groups:
        chk.switch(g, on=False)
    try:
        iis = chk.be.iis()
    except Exception:  # noqa: BLE001 - the members stand without the summary
        return []
    if iis is None:
        return []
    bal = [i for i in map(int, iis[0]) if str(form.rows["kind"].iat[i]) == "balance"]
    nature = set(_resource_rows(scenario, form).tolist())
    bal = [i for i in bal if i not in nature]
    return [_balance_summary(form, lp, i, words) for i in bal[:10]]


def _groups_all_off(form, lp, members):
    """Groups of every non-member hard constraint (for the structure's IIS)."""
    keep_rows = {r for g in members for r in g.rows}
    keep_cols = {c for g in members for c in g.cols}
    rows = [
        i for i in np.flatnonzero(form.rows["kind"].to_numpy() != "balance") if i not in keep_rows
    ]
    out = [_Group("x", "", rows=[int(i)]) for i in rows]
    xs = form.col_index("x")
    for j in xs[np.isfinite(lp.col_upper[xs])]:
        if j not in keep_cols:
            out.append(_Group("x", "", cols=[int(j)], col_relaxed=[(0.0, INF)]))
    r = form.col_index("r")
    lifted = r[lp.col_lower[r] > 0]
    out += [
        _Group("x", "", cols=[int(j)], col_relaxed=[(0.0, 1.0)])
        for j in lifted
        if j not in keep_cols
    ]
    return out


def _balance_summary(form: Formulation, lp: LinearProgram, i: int, words: Words) -> dict:
    """'Elmstead cannot make bread; it can get it only from Fernhill (by the link)'."""
    m, item = str(form.rows["municipality"].iat[i]), str(form.rows["item"].iat[i])
    row = sp.csr_array(lp.A[[i]])
    cols, vals = row.indices, row.data
    kind = form.cols["kind"].to_numpy()[cols]
    makers = cols[(kind == "x") & (vals > 0) & (lp.col_upper[cols] > 0)]
    sources = cols[(kind == "f") & (vals > 0)]
    name, thing = words.place.get(m, m), words.item.get(item, item)
    procs = sorted(
        {words.process.get(str(p), str(p)) for p in form.cols["process"].to_numpy()[makers]}
    )
    origins = sorted(
        {words.place.get(str(o), str(o)) for o in form.cols["municipality"].to_numpy()[sources]}
    )
    stock = -lp.row_lower[i]
    parts = [f"{name} has {words.qty(stock, item)} of {thing}"] if stock > 0 else []
    parts.append(
        f"{name} can make {thing} only with its {', '.join(procs)}"
        if procs
        else f"{name} cannot make {thing}"
    )
    parts.append(
        f"{thing} can reach {name} only by the links from {' and '.join(origins)}"
        if origins
        else f"nothing can bring {thing} to {name} from elsewhere"
    )
    return {
        "kind": "structure",
        "where": str(form.describe_rows([i])[0]),
        "text": "; ".join(parts),
        "member": False,
    }


# --------------------------------------------------------------------------- reconciliation

# the weight of one unit of each elastic, chosen so that a cost of 1 is "one percent" of the
# constraint (a percentage point for shares); docs/PLANNING.md, "Reconciliation"
BAN_WEIGHT = 10.0  # per percent of the process's capacity there (per unit when it has none)


def _elastics(scenario: Scenario, form: Formulation):
    """One elastic column for each mandate and limit.

    Each is (row or -1, banned x column or -1, sign in its row, weight per unit,
    edit template: kind, where, field, value, value change per unit).
    """
    rows, words = form.rows, Words(scenario)
    need = scenario.resolved_needs()
    tot = need.groupby(["municipality", "item"])["need"].sum()
    out = []
    for i in np.concatenate([form.row_index("mandate"), form.row_index("limit")]):
        m, item = str(rows["municipality"].iat[i]), str(rows["item"].iat[i])
        up = form.lp.row_upper[i]
        if str(rows["kind"].iat[i]) == "limit":
            where = {"item": item, "scope": str(rows["scope"].iat[i])}
            out.append((i, -1, -1.0, 100 / max(up, 1.0), ("limit", where, "cap", up, 1.0)))
            continue
        mk = str(rows["mandate"].iat[i])
        v = float(words.mandate_values[int(rows["source_row"].iat[i])])
        where = {"municipality": m, "kind": mk, "target": item}
        if mk == "max_export":
            out.append((i, -1, -1.0, 100 / max(v, 1.0), ("mandate", where, "value", v, 1.0)))
        elif mk == "max_labour_share":
            hours = words.labour[m]
            out.append((i, -1, -1.0, 100 / hours, ("mandate", where, "value", v, 1 / hours)))
        elif mk == "min_local_share":
            n = float(tot.get((m, item), 0.0)) or 1.0
            out.append((i, -1, 1.0, 100 / n, ("mandate", where, "value", v, -1 / n)))
    xs = form.col_index("x")
    banned = xs[form.cols["forbidden"].to_numpy()[xs]]
    level = _capacity_levels(scenario, form, banned)
    for j, cap in zip(banned, level, strict=True):
        m, p = str(form.cols["municipality"].iat[j]), str(form.cols["process"].iat[j])
        where = {"municipality": m, "kind": "forbid_process", "target": p}
        w = BAN_WEIGHT * 100 / cap if math.isfinite(cap) and cap > 0 else BAN_WEIGHT
        out.append((-1, int(j), -1.0, w, ("mandate", where, "active", 1.0, 0.0)))
    return out


def _elastic_lp(form: Formulation, full_needs: bool, el) -> LinearProgram:
    base = _base_lp(form, full_needs)
    (m, n), k = form.lp.A.shape, len(el)
    rws = [e[0] for e in el if e[0] >= 0]
    E = sp.csr_array(
        ([e[2] for e in el if e[0] >= 0], (rws, [q for q, e in enumerate(el) if e[0] >= 0])),
        shape=(m, k),
    )
    bans = [(q, e[1]) for q, e in enumerate(el) if e[1] >= 0]
    B = sp.csr_array(
        (np.r_[np.ones(len(bans)), -np.ones(len(bans))],
         (np.r_[np.arange(len(bans)), np.arange(len(bans))], np.r_[[b[1] for b in bans], [n + b[0] for b in bans]])),
        shape=(len(bans), n + k),
    )  # fmt: skip
    A = sp.vstack([sp.hstack([base.A, E]), B], format="csr")
    col_up = base.col_upper.copy()
    col_up[[b[1] for b in bans]] = INF  # the ban's elastic row bounds it instead
    c = np.r_[np.zeros(n), [e[3] for e in el]]
    return LinearProgram(
        c, A, np.r_[base.row_lower, np.full(len(bans), -INF)], np.r_[base.row_upper, np.zeros(len(bans))],
        np.r_[base.col_lower, np.zeros(k)], np.r_[col_up, np.full(k, INF)],
    )  # fmt: skip


def _outward(v: float, up: bool) -> float:
    """``v`` to 3 significant digits, rounded in the loosening direction."""
    if v == 0:
        return 0.0
    q = 10.0 ** (math.floor(math.log10(abs(v))) - 2)
    return (math.ceil(v / q - 1e-9) if up else math.floor(v / q + 1e-9)) * q


def reconcile(
    scenario: Scenario, form: Formulation, full_needs: bool = False, deadline: float | None = None
) -> list[dict]:
    """The least weighed relaxation of mandates and limits that makes the scenario feasible.

    Edits ``{kind, where, field, from, to, text, municipalities, cost}`` (``municipalities``:
    the assemblies whose mandate or limit it changes, for their approval); [] when the
    scenario is feasible or no change of mandates and limits alone can make it so.
    ``deadline`` (``time.monotonic()``): the solve stops there and
    :class:`planner.why.OutOfTime` is raised.
    """
    el = _elastics(scenario, form)
    if not el:
        return []
    be = solvers.get("highs")
    be.load(_elastic_lp(form, full_needs, el))
    res = solve_within(be, deadline)
    if res.status != Status.OPTIMAL:
        return []
    s = res.x[form.lp.A.shape[1] :]
    words = Words(scenario)
    owners = _owners(scenario)
    out = []
    for q, e in enumerate(el):
        kind, where, fld, start, per = e[4]
        if s[q] <= 1e-9 * max(1.0, abs(start)):
            continue
        if fld == "active":
            edit = {"kind": kind, "where": where, "field": fld, "from": 1.0, "to": 0.0}
        else:
            new = start + per * s[q]
            new = _outward(max(new, 0.0), up=per > 0)
            if kind == "mandate" and where["kind"] in ("min_local_share", "max_labour_share"):
                new = min(max(new, 0.0), 1.0)
            edit = {"kind": kind, "where": where, "field": fld, "from": start, "to": new}
        edit["cost"] = float(e[3] * s[q])
        edit["municipalities"] = owners(kind, where)
        edit["text"] = edit_text(edit, words)
        out.append(edit)
    return out


def _owners(scenario: Scenario):
    """The assemblies that approve an edit: a mandate's municipality, a limit's scope's members."""
    parent = dict(
        zip(scenario.confederations["id"], scenario.confederations["parent"], strict=True)
    )
    muni = scenario.municipalities
    chains = {}
    for m, c in zip(muni["id"], muni["confederation"], strict=True):
        chain = {m}
        while c and c not in chain:
            chain.add(c)
            c = parent.get(c, "")
        chains[m] = chain

    def owners(kind: str, where: dict) -> list[str]:
        if kind == "mandate":
            return [where["municipality"]]
        return sorted(m for m, chain in chains.items() if where["scope"] in chain)

    return owners

"""Checks across tables: references, the tree, and rules that tie columns together."""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from models._normalise import MAX_MAGNITUDE, Table, shown
from models._problems import WARNING, Problem

COEFFICIENT_RANGE = (1e-6, 1e6)
"""Non-zero LP coefficients outside this magnitude range draw a warning."""
SOLVER_ZERO = 1e-9
"""HiGHS treats matrix entries below this in magnitude as zero: a non-zero coefficient
this small is refused (it would silently vanish)."""
SPREAD = 1e12
"""Largest / smallest non-zero coefficient above this draws a warning (the scenario is
merely wide; the solver's 1e-7 tolerances may lose the small ones)."""
_SINGULAR = {
    "confederations": "confederation",
    "municipalities": "municipality",
    "items": "item",
    "processes": "process",
}
_ON_ITEM = ("max_export", "min_local_share")
_COEFFICIENTS = (
    ("processes", "labour_hours"),
    ("process_io", "quantity"),
    ("links", "labour_per_unit"),
)


def _unknown(
    t: Table, column: str, known: set[str] | pd.Index, what: str, mask: pd.Series | None = None
) -> list[Problem]:
    """Problems for non-empty references in ``column`` that are not in ``known``."""
    values = t.frame[column]
    bad = (values != "") & ~values.isin(known)
    if mask is not None:
        bad &= mask
    if not bad.any():
        return []
    msg = "unknown " + what + " '" + values + "'"
    if bad.sum() <= 50 and 0 < len(known) <= 5000:
        pool = list(known)
        hints = {v: difflib.get_close_matches(v, pool, n=1, cutoff=0.75) for v in set(values[bad])}
        msg = msg + values.map(
            lambda v: f" (did you mean '{hints[v][0]}'?)" if hints.get(v) else ""
        )
    return t.report(bad, column, msg)


def _ids(t: Table) -> pd.Index:
    return pd.Index(t.frame["id"][t.frame["id"] != ""].unique())


def _tree(t: Table) -> list[Problem]:
    """A confederation tree: no cycles, exactly one root."""
    f = t.frame
    problems: list[Problem] = []
    named = f[f["id"] != ""]
    parent = dict(zip(named["id"], named["parent"], strict=True))
    row_of = {i: r for r, i in zip(f.index, f["id"], strict=True)}
    in_cycle: set[str] = set()
    for start in parent:
        path, node = [], start
        seen: dict[str, int] = {}
        while node in parent and node not in seen and node not in in_cycle:
            seen[node] = len(path)
            path.append(node)
            node = parent[node]
        if node in seen:
            cycle = path[seen[node] :]
            in_cycle.update(cycle)
            chain = " -> ".join([*cycle, cycle[0]])
            for c in cycle:
                problems.append(
                    Problem(
                        t.file,
                        int(row_of[c]),
                        "parent",
                        f"cycle in the confederation tree: {chain}",
                    )
                )
    roots = f[(f["parent"] == "") & (f["id"] != "")]
    if len(roots) > 1:
        first = roots["id"].iloc[0]
        problems += t.report(
            pd.Series(True, index=roots.index[1:]),
            "parent",
            "more than one root: '" + roots["id"].iloc[1:] + f"' and '{first}' both have no parent",
        )
    problems.sort(key=lambda p: p.row)
    return problems


def _implied_confederation(tables: dict[str, Table]) -> list[Problem]:
    """No confederations table: every municipality must name the same one, implied."""
    conf, mun = tables["confederations"], tables["municipalities"]
    names = mun.frame["confederation"]
    named = names[names != ""]
    if not len(named):
        return []
    first = named.iloc[0]
    problems = mun.report(
        names.ne(first) & names.ne(""),
        "confederation",
        "no confederations table, so every municipality must name the same "
        f"(root) confederation as the first ('{first}')",
    )
    conf.frame = pd.DataFrame(
        {"id": [first], "name": [""], "parent": [""]}, index=pd.Index([0]), dtype="str"
    )
    conf.given = {c: pd.Series([c == "id"], index=conf.frame.index) for c in conf.frame}
    return problems


def _items(t: Table) -> list[Problem]:
    f = t.frame
    good = f["kind"] == "good"
    said_true = f["transportable"] == 1.0
    problems = t.report(
        ~good & (f["kind"] != "") & said_true,
        "transportable",
        "a " + f["kind"] + " is never transported; read as false",
        WARNING,
    )
    f["transportable"] = good & f["transportable"].fillna(1.0).astype(bool)
    return problems


def _mandates(t: Table) -> list[Problem]:
    """Target and value by kind (whether a target exists is checked across tables)."""
    f, problems = t.frame, []
    kind, value = f["kind"], f["value"]
    on_process = kind == "forbid_process"
    problems += t.report(
        kind.isin(_ON_ITEM) & ~t.given["target"], "target", kind + " needs a target item"
    )
    problems += t.report(
        on_process & ~t.given["target"], "target", "forbid_process needs a target process"
    )
    problems += t.report(
        (kind == "max_labour_share") & t.given["target"],
        "target",
        "max_labour_share takes no target (it limits all labour)",
    )
    needs_value = kind.isin(["max_export", "min_local_share", "max_labour_share"])
    problems += t.report(needs_value & ~t.given["value"], "value", kind + " needs a value")
    share = kind.isin(["min_local_share", "max_labour_share"])
    text = shown(value)
    problems += t.report(
        share & ((value < 0) | (value > 1)),
        "value",
        "a share must be between 0 and 1 (got " + text + ")",
    )
    problems += t.report(~share & (value < 0), "value", "must not be negative (got " + text + ")")
    problems += t.report(
        on_process & t.given["value"], "value", "forbid_process takes no value; ignored", WARNING
    )
    f["value"] = value.mask(on_process)
    return problems


def _mandate_targets(t: Table, items: pd.Index, procs: pd.Index) -> list[Problem]:
    """An item for max_export / min_local_share, a process for forbid_process."""
    kind, target = t.frame["kind"], t.frame["target"]
    on_item, on_process = kind.isin(_ON_ITEM), kind == "forbid_process"
    item_not_process = on_item & target.isin(procs) & ~target.isin(items)
    process_not_item = on_process & target.isin(items) & ~target.isin(procs)
    p = t.report(item_not_process, "target", kind + " needs an item; '" + target + "' is a process")
    p += t.report(
        process_not_item, "target", kind + " needs a process; '" + target + "' is an item"
    )
    p += _unknown(t, "target", items, "item", on_item & ~item_not_process)
    p += _unknown(t, "target", procs, "process", on_process & ~process_not_item)
    return p


def _needs(t: Table) -> list[Problem]:
    if t.header is not None and not {"quantity", "per_capita"} & set(t.header):
        return [
            Problem(t.file, 1, "quantity", "missing column: give a quantity or a per_capita column")
        ]
    gq, gp = t.given["quantity"], t.given["per_capita"]
    return t.report(gq & gp, "per_capita", "give quantity or per_capita, not both") + t.report(
        ~gq & ~gp, "quantity", "give quantity or per_capita"
    )


def _links(t: Table) -> list[Problem]:
    f = t.frame
    problems = t.report((f["from"] != "") & (f["from"] == f["to"]), "to", "a link to itself")
    ends = pd.DataFrame(
        {
            "from": f["from"],
            "to": f["to"],
            "row": f.index,
            "both": f["both_ways"].fillna(1.0).astype(bool),
        }
    )
    ends = ends[(ends["from"] != "") & (ends["to"] != "") & (ends["from"] != ends["to"])]
    ends = ends.drop_duplicates(["from", "to"])  # exact repeats are reported as duplicates
    m = ends.merge(ends, left_on=["from", "to"], right_on=["to", "from"], suffixes=("", "_rev"))
    m = m[(m["row_rev"] < m["row"]) & (m["both"] | m["both_rev"])]
    m = m.drop_duplicates("row").set_index("row")
    problems += t.report(
        pd.Series(True, index=m.index),
        "from/to",
        "duplicates the link in row "
        + m["row_rev"].astype("str")
        + " (a both-ways link already runs in both directions)",
    )
    return problems


def _coefficients(t: Table, column: str) -> list[Problem]:
    lo, hi = COEFFICIENT_RANGE
    v = t.frame[column].abs()
    vanish = (v > 0) & (v < SOLVER_ZERO)
    problems = t.report(
        vanish,
        column,
        "coefficient "
        + shown(t.frame[column])
        + f" is below the solver's resolution ({SOLVER_ZERO:g}: it would be read as 0); "
        "change the unit",
    )
    odd = (v > 0) & ((v < lo) | (v > hi)) & ~vanish
    return problems + t.report(
        odd,
        column,
        "coefficient "
        + shown(t.frame[column])
        + f" is outside {lo:g}..{hi:g} in magnitude: the solver may lose it "
        "(HiGHS treats entries below 1e-9 as zero); change the unit",
        WARNING,
    )


def resolved_needs(needs: pd.DataFrame, municipalities: pd.DataFrame) -> pd.Series:
    """Each need's quantity: ``quantity``, or ``per_capita`` x the municipality's population."""
    if not len(needs):
        return pd.Series(dtype="float64", index=needs.index)
    towns = municipalities.drop_duplicates("id")  # a repeated id is reported elsewhere
    where = pd.Index(towns["id"]).get_indexer(needs["municipality"])
    population = np.append(pd.to_numeric(towns["population"]).to_numpy(float), np.nan)
    quantity = pd.to_numeric(needs["quantity"]).to_numpy(float)
    per_capita = pd.to_numeric(needs["per_capita"]).to_numpy(float)
    q = np.where(np.isnan(quantity), per_capita * population[where], quantity)
    return pd.Series(q, index=needs.index)


def coefficient_range(frames: dict[str, pd.DataFrame], needs: pd.Series) -> tuple[float, float]:
    """The smallest and largest non-zero coefficient magnitude the programme will hold.

    Process inputs and outputs, labour per unit of activity and per unit moved,
    1 - loss on links, and the need quantities (a delivery is need x ratio).
    (nan, nan) when there is none.
    """
    parts = [frames[t][c] for t, c in _COEFFICIENTS if c in frames[t]]
    if "loss" in frames["links"]:
        parts.append(1.0 - frames["links"]["loss"].fillna(0.0))
    parts.append(needs)
    v = np.abs(np.concatenate([pd.to_numeric(p, errors="coerce").to_numpy(float) for p in parts]))
    v = v[np.isfinite(v) & (v > 0)]
    return (float(v.min()), float(v.max())) if len(v) else (float("nan"), float("nan"))


def _magnitudes(tables: dict[str, Table]) -> list[Problem]:
    """Needs per head x population within range; a warning when coefficients spread too wide."""
    needs, mun = tables["needs"], tables["municipalities"]
    q = resolved_needs(needs.frame, mun.frame)
    p = needs.report(
        needs.given["per_capita"] & (q > MAX_MAGNITUDE),
        "per_capita",
        "per_capita x population is " + shown(q) + f", too large (at most {MAX_MAGNITUDE:g}; "
        "use a larger unit)",
    )
    lo, hi = coefficient_range({n: t.frame for n, t in tables.items()}, q)
    if hi / lo > SPREAD:
        p.append(
            Problem(
                "scenario",
                0,
                "-",
                f"coefficients span {lo:.3g} .. {hi:.3g} (a ratio of {hi / lo:.1e}, above "
                f"{SPREAD:g}): the solver may lose the small ones; change some units",
                WARNING,
            )
        )
    return p


def _confederations(t: Table) -> list[Problem]:
    return _unknown(t, "parent", _ids(t), "confederation") + _tree(t)


_ALONE = {
    "confederations": _confederations,
    "items": _items,
    "needs": _needs,
    "links": _links,
    "mandates": _mandates,
}


def check_alone(t: Table) -> list[Problem]:
    """The rules one table must keep by itself (may fill defaults, e.g. transportable)."""
    name = t.schema.name
    problems = _ALONE[name](t) if name in _ALONE else []
    for table, column in _COEFFICIENTS:
        if table == name:
            problems += _coefficients(t, column)
    return problems


def validate(tables: dict[str, Table], broken: set[str] | frozenset = frozenset()) -> list[Problem]:
    """Every check of each table alone, then every reference across tables.

    References into a ``broken`` table (one that could not be read) are not
    checked: its reader has reported the real problem.
    """
    p: list[Problem] = []
    conf, mun, items = tables["confederations"], tables["municipalities"], tables["items"]
    if len(conf.frame) == 0:
        p += _implied_confederation(tables)
    for t in tables.values():
        p += check_alone(t)
    confs, muns = _ids(conf), _ids(mun)
    item_ids, procs = _ids(items), _ids(tables["processes"])
    clash = mun.frame["id"].isin(confs) & (mun.frame["id"] != "")
    p += mun.report(clash, "id", "'" + mun.frame["id"] + "' is also a confederation id")
    ids = {"confederations": confs, "municipalities": muns, "items": item_ids, "processes": procs}
    for t in tables.values():
        for col in t.schema.columns:
            if col.type != "ref" or col.name in ("parent", "target"):
                continue  # parent: checked with the tree; target: by mandate kind
            targets = col.refers.split("|")
            if not broken.intersection(targets):
                known = set().union(*(ids[x] for x in targets))
                what = " or ".join(_SINGULAR[x] for x in targets)
                p += _unknown(t, col.name, known, what)
    kind = dict(zip(items.frame["id"], items.frame["kind"], strict=True))

    def kinds(t: Table) -> pd.Series:
        return t.frame["item"].map(kind).astype(object).fillna("")

    io, end, needs, lim = (tables[n] for n in ("process_io", "endowments", "needs", "limits"))
    p += io.report(
        (kinds(io) == "emission") & (io.frame["quantity"] < 0),
        "quantity",
        "an emission can only be an output (quantity > 0)",
    )
    p += end.report(
        kinds(end) == "emission",
        "item",
        "an endowment of an emission is ignored (emissions enter no balance)",
        WARNING,
    )
    p += needs.report(
        kinds(needs) == "emission",
        "item",
        "a need for an emission (emissions are capped by limits, not needed)",
    )
    p += lim.report(
        kinds(lim) == "good", "item", "a limit on a good (limits are for emissions and resources)"
    )
    if not broken.intersection(("items", "processes")):
        p += _mandate_targets(tables["mandates"], item_ids, procs)
    if not broken.intersection(("needs", "municipalities")):
        p += _magnitudes(tables)
    return p

"""The rule comparison report: plotly figures and one self-contained HTML page.

The page embeds plotly's JavaScript from the installed ``plotly`` package
(``plotly.offline.get_plotlyjs()``), once, inline: it opens in a browser from
disk, with no server and no network. Figures:

``satisfaction``
    mean satisfaction ratio per municipality, one panel per tier, one bar per
    rule (hover: the lowest ratio and the quantities);
``needs``
    every need's ratio, municipality by item, one heat map per rule;
``lorenz``
    Lorenz curves of the satisfaction ratios of all needs, one per rule
    (the diagonal is perfect equality; the Gini coefficient is in the legend);
``labour``
    labour share (hours used / labour hours) per municipality, one bar per rule;
``flows``
    a Sankey of the flows between municipalities: senders on the left,
    receivers on the right, one panel per rule (a menu picks the rule). Goods
    are counted in different units, so the widths are hours of social labour:
    quantity arrived × the item's labour value where it arrives (the plan's
    prices). Hovering a band shows the quantity in the item's own unit.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from planner.lab import METRIC_LABELS, TIERS, Comparison, lorenz

FULL_TOL = 1e-6  # a ratio this close to 1 counts as met in full
TIER_NAMES = {1: "vital (tier 1)", 2: "standard (tier 2)", 3: "desired (tier 3)"}
RULE_COLOURS = ["#1b6ca8", "#e07b39", "#3a9e5c", "#b8336a", "#7a5195", "#8c8c8c"]
ITEM_COLOURS = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
]
PERCENT_METRICS = {
    "min_ratio_tier1",
    "min_ratio_tier2",
    "min_ratio_tier3",
    "mean_ratio",
    "max_share",
    "min_share",
    "share_spread",
}


def rule_colour(comparison: Comparison, rule: str) -> str:
    """The colour of a rule, the same in every figure."""
    return RULE_COLOURS[comparison.rules.index(rule) % len(RULE_COLOURS)]


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _solved(c: Comparison) -> list[str]:
    return [r for r in c.rules if c.plans[r].ok]


def satisfaction_figure(c: Comparison) -> go.Figure:
    """Mean ratio per municipality, one row of bars per tier, one bar per rule."""
    sat = c.satisfaction
    sat = sat[sat["rule"].isin(_solved(c))] if len(sat) else sat
    present = [t for t in TIERS if len(sat) and (sat["tier"] == t).any()]
    full = [t for t in present if (sat.loc[sat["tier"] == t, "min_ratio"] >= 1 - FULL_TOL).all()]
    tiers = [t for t in present if t not in full] or present or [1]
    fig = make_subplots(
        rows=len(tiers),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        subplot_titles=[TIER_NAMES[t] for t in tiers],
    )
    munis = list(c.scenario.municipalities["id"])
    for i, t in enumerate(tiers, start=1):
        for rule in _solved(c):
            s = (
                sat[(sat["rule"] == rule) & (sat["tier"] == t)]
                .set_index("municipality")
                .reindex(munis)
            )
            fig.add_trace(
                go.Bar(
                    x=munis,
                    y=s["mean_ratio"],
                    name=rule,
                    legendgroup=rule,
                    showlegend=i == 1,
                    marker_color=rule_colour(c, rule),
                    customdata=np.stack([s["min_ratio"], s["delivered"], s["need"]], axis=-1),
                    hovertemplate=(
                        f"<b>{rule}</b> %{{x}}<br>mean ratio %{{y:.1%}}<br>lowest %{{customdata[0]:.1%}}"
                        "<br>delivered %{customdata[1]:,.4~r} of %{customdata[2]:,.4~r}<extra></extra>"
                    ),
                ),
                row=i,
                col=1,
            )
        fig.update_yaxes(range=[0, 1.05], tickformat=".0%", row=i, col=1)
    fig.update_layout(
        barmode="group",
        height=260 * len(tiers) + 80,
        title="Satisfaction per municipality and tier (mean ratio delivered / need)"
        + (
            f"<br><sup>{' and '.join(TIER_NAMES[t] for t in full)} needs are met in full under every rule</sup>"
            if full and len(tiers) < len(present)
            else ""
        ),
        legend_title_text="rule",
        margin=dict(t=90, l=60, r=20, b=40),
    )
    return fig


def needs_figure(c: Comparison) -> go.Figure:
    """Every need's ratio as a heat map (municipality × item·tier), one panel per rule."""
    rules = _solved(c)
    fig = make_subplots(
        rows=1,
        cols=max(1, len(rules)),
        shared_yaxes=True,
        subplot_titles=rules or ["no plan"],
        horizontal_spacing=0.02,
    )
    munis = list(c.scenario.municipalities["id"])
    frames = {}
    for rule in rules:
        d = c.plans[rule].deliveries
        frames[rule] = d[d["need"] > 0].assign(
            need_of=lambda x: x["item"] + " · t" + x["tier"].astype(str)
        )
    short = sorted(
        {n for d in frames.values() for n in d.loc[d["ratio"] < 1 - FULL_TOL, "need_of"]},
        key=lambda s: (s.rsplit("t", 1)[-1], s),
    )
    n_full = len({n for d in frames.values() for n in d["need_of"]} - set(short))
    for j, rule in enumerate(rules, start=1):
        d = frames[rule]
        cols = short
        z = d.pivot_table(index="municipality", columns="need_of", values="ratio").reindex(
            index=munis, columns=cols
        )
        fig.add_trace(
            go.Heatmap(
                z=z.to_numpy(),
                x=cols,
                y=munis,
                zmin=0,
                zmax=1,
                colorscale="RdYlGn",
                showscale=j == 1,
                colorbar=dict(title="ratio", tickformat=".0%"),
                hovertemplate=f"<b>{rule}</b> %{{y}}<br>%{{x}}: %{{z:.1%}}<extra></extra>",
            ),
            row=1,
            col=j,
        )
    fig.update_xaxes(tickangle=-60, tickfont=dict(size=9))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(
        title="Needs not met in full under some rule: ratio delivered / need (blank: no such need)"
        + (
            f"<br><sup>{n_full} other item·tier needs are met in full everywhere under every rule</sup>"
            if n_full
            else ""
        ),
        height=420 + 14 * len(munis),
        margin=dict(t=90, l=100, r=20, b=140),
    )
    return fig


def lorenz_figure(c: Comparison) -> go.Figure:
    """Lorenz curves of the satisfaction ratios of all needs, one per rule."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="perfect equality",
            line=dict(color="#999", dash="dash"),
            hoverinfo="skip",
        )
    )
    for rule in _solved(c):
        d = c.plans[rule].deliveries
        x, y = lorenz(d.loc[d["need"] > 0, "ratio"])
        g = c.metrics.set_index("rule").at[rule, "gini"]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                name=f"{rule} (Gini {g:.3f})",
                line=dict(color=rule_colour(c, rule), width=2.5),
                hovertemplate=f"<b>{rule}</b><br>the worst-served %{{x:.0%}} of needs get %{{y:.1%}} of all satisfaction<extra></extra>",
            )
        )
    fig.update_layout(
        title="Lorenz curves of satisfaction (needs ordered from worst to best served)",
        xaxis=dict(title="share of needs", tickformat=".0%", range=[0, 1]),
        yaxis=dict(title="share of the sum of satisfaction ratios", tickformat=".0%", range=[0, 1]),
        height=520,
        margin=dict(t=70, l=70, r=20, b=60),
    )
    return fig


def labour_figure(c: Comparison) -> go.Figure:
    """Labour share per municipality, one bar per rule."""
    fig = go.Figure()
    m = c.municipalities
    for rule in _solved(c):
        r = m[m["rule"] == rule]
        fig.add_trace(
            go.Bar(
                x=r["municipality"],
                y=r["labour_share"],
                name=rule,
                marker_color=rule_colour(c, rule),
                customdata=np.stack([r["labour_used"], r["labour_available"]], axis=-1),
                hovertemplate=(
                    f"<b>{rule}</b> %{{x}}<br>share %{{y:.1%}}<br>"
                    "%{customdata[0]:,.0f} of %{customdata[1]:,.0f} h<extra></extra>"
                ),
            )
        )
    fig.update_layout(
        barmode="group",
        title="Labour burden per municipality (hours used / labour hours)",
        yaxis=dict(title="labour share", tickformat=".0%", rangemode="tozero"),
        legend_title_text="rule",
        height=440,
        margin=dict(t=70, l=70, r=20, b=60),
    )
    return fig


def flow_links(c: Comparison, rule: str) -> pd.DataFrame:
    """Flows of one rule's plan with their value in hours of social labour.

    Columns: from, to, item, quantity, arrived, labour_value (of the item where
    it arrives), hours (arrived × labour_value). Flows of less than a
    millionth of the largest flow of the same item are dropped.
    """
    plan = c.plans[rule]
    f = plan.flows.copy()
    if f.empty:
        return f.assign(labour_value=[], hours=[])
    big = f.groupby("item")["quantity"].transform("max")
    f = f[f["quantity"] > 1e-6 * big]
    p = (
        plan.prices.set_index(["municipality", "item"])["labour_value"]
        if len(plan.prices)
        else None
    )
    if p is None:
        f["labour_value"] = 1.0
    else:
        key = pd.MultiIndex.from_arrays([f["to"], f["item"]])
        f["labour_value"] = p.reindex(key).to_numpy()
        f["labour_value"] = f["labour_value"].fillna(0.0).clip(lower=0.0)
    f["hours"] = f["arrived"] * f["labour_value"]
    return f.reset_index(drop=True)


def flows_figure(c: Comparison, flows_rule: str | None = None) -> go.Figure:
    """Sankey of flows between municipalities, one trace per rule, a menu to switch rules."""
    rules = _solved(c)
    if flows_rule is not None:
        if flows_rule not in c.rules:
            raise ValueError(f"rule {flows_rule!r} is not in the comparison: {', '.join(c.rules)}")
        rules = [flows_rule] if flows_rule in rules else []
    munis = list(c.scenario.municipalities["id"])
    n = len(munis)
    units = c.scenario.items.set_index("id")["unit"].to_dict()
    items = sorted({i for r in rules for i in c.plans[r].flows.get("item", [])})
    icol = {i: ITEM_COLOURS[k % len(ITEM_COLOURS)] for k, i in enumerate(items)}
    fig = go.Figure()
    for k, rule in enumerate(rules):
        f = flow_links(c, rule)
        f = f[f["hours"] > 0] if len(f) else f
        pos = {m: i for i, m in enumerate(munis)}
        fig.add_trace(
            go.Sankey(
                visible=k == 0,
                name=rule,
                arrangement="snap",
                valueformat=",.0f",
                valuesuffix=" h",
                node=dict(
                    label=[f"{m} sends" for m in munis] + [f"{m} receives" for m in munis],
                    color=[rule_colour(c, rule)] * n + ["#777"] * n,
                    pad=14,
                    thickness=16,
                ),
                link=dict(
                    source=[pos[x] for x in f["from"]],
                    target=[n + pos[x] for x in f["to"]],
                    value=list(f["hours"]),
                    color=[_rgba(icol[i], 0.55) for i in f["item"]],
                    customdata=[
                        f"{i}: {num(q, 4)} {units.get(i, '')}".rstrip()
                        for i, q in zip(f["item"], f["arrived"], strict=True)
                    ],
                    hovertemplate="%{source.label} → %{target.label}<br>%{customdata}<br>%{value:,.4~r} h of labour<extra></extra>",
                ),
            )
        )
    buttons = [
        dict(
            label=rule,
            method="update",
            args=[
                {"visible": [j == k for j in range(len(rules))]},
                {
                    "title.text": f"Flows between municipalities under {rule} (width: hours of social labour)"
                },
            ],
        )
        for k, rule in enumerate(rules)
    ]
    first = rules[0] if rules else "no solved plan"
    fig.update_layout(
        title=f"Flows between municipalities under {first} (width: hours of social labour)",
        height=560,
        margin=dict(t=110, l=20, r=20, b=20),
        updatemenus=[
            dict(buttons=buttons, direction="down", x=0.0, xanchor="left", y=1.13, yanchor="top")
        ]
        if len(rules) > 1
        else [],
    )
    # the colours of the items, as a line of text under the diagram
    if items:
        legend = " ".join(f"<span style='color:{icol[i]}'>■</span> {i}" for i in items)
        fig.add_annotation(
            text=legend,
            x=0.5,
            y=-0.02,
            xref="paper",
            yref="paper",
            showarrow=False,
            xanchor="center",
            yanchor="top",
            font=dict(size=11),
        )
        fig.update_layout(margin=dict(t=110, l=20, r=20, b=50))
    return fig


def figures(c: Comparison, flows_rule: str | None = None) -> dict[str, go.Figure]:
    """Every figure of the report by name: satisfaction, needs, lorenz, labour, flows."""
    return {
        "satisfaction": satisfaction_figure(c),
        "needs": needs_figure(c),
        "lorenz": lorenz_figure(c),
        "labour": labour_figure(c),
        "flows": flows_figure(c, flows_rule),
    }


def num(value, digits: int = 6) -> str:
    """A number as the command line prints it: ``153.675``, ``1,500``, ``5,093``, ``2.5e-7``.

    Up to ``digits`` significant figures (so 1.0000000000000004 reads ``1`` and
    153.674999846 reads ``153.675``), thousands separators from 1,000, whole
    numbers from 100,000, and powers of ten only below 0.001 or from 1e15.
    """
    if value is None or value != value:
        return "—"
    v = float(value)
    a = abs(v)
    if a == 0:
        return "0"
    if a < 1e-3 or a >= 1e15:
        mantissa, exponent = f"{v:.{max(digits - 4, 1)}e}".split("e")
        return f"{float(mantissa):g}e{int(exponent)}"
    if a >= min(1e5, 10**digits):
        return f"{v:,.0f}"
    text = f"{v:,.{digits}g}"
    return "0" if text == "-0" else text


def format_metric(name: str, value) -> str:
    """A metric as a reader sees it: ratios and shares in %, hours and quantities with separators."""
    if isinstance(value, str):
        return value
    if value is None or value != value:
        return "—"
    if name in PERCENT_METRICS:
        return f"{value:.1%}"
    if name in ("gini", "atkinson"):
        return f"{value:.3f}"
    if 0 < abs(value) < 1e-3:
        return "≈0"
    return num(value, 4)


def pct(value) -> str:
    """A ratio or share in whole percent ("—" when missing)."""
    return "—" if value is None or value != value else f"{value:.0%}"


def metric_rows(c: Comparison) -> list[tuple[str, str, list[str]]]:
    """(column, label, one formatted value per rule) for every metric of the comparison."""
    m = c.metrics.set_index("rule")
    names = [k for k in METRIC_LABELS if k in m.columns] + c.emission_columns
    caps = {f"emissions:{r.item}@{r.scope}": r.cap for r in c.scenario.limits.itertuples()}
    out = []
    for k in names:
        if k.startswith("emissions:"):
            label = f"{k.removeprefix('emissions:').replace('@', ' in ')} (cap {format_metric('cap', caps.get(k))})"
        else:
            label = METRIC_LABELS[k]
        out.append((k, label, [format_metric(k, m.at[r, k]) for r in c.rules]))
    return out


CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1150px;
       color: #222; line-height: 1.45; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } .sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .92rem; }
th, td { padding: .3rem .7rem; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #555; }
.note { background: #fff6e0; border-left: 4px solid #e0a000; padding: .4rem .8rem; }
.fig { margin: 2rem 0; } .caption { color: #555; font-size: .9rem; max-width: 60rem; }
"""

CAPTIONS = {
    "satisfaction": "Each bar is the mean ratio delivered / need of a municipality's needs of that tier under one "
    "rule; hover for the lowest ratio and the quantities. Leximin raises the worst-off need first; proportional gives "
    "every need of a tier one common ratio; utilitarian serves the most need, whoever it serves; equal_per_capita "
    "shares each good per head.",
    "needs": "Every need that some rule leaves short, by municipality (rows) and item and tier (columns), coloured by "
    "the ratio delivered / need (red: little, green: in full): who gains and who loses between the rules.",
    "lorenz": "Needs sorted from worst to best served: the further a curve bends below the diagonal, the more unequal "
    "the satisfaction. The Gini coefficient in the legend is one minus twice the area under the curve.",
    "labour": "Hours of labour the plan asks of each municipality, as a share of its labour hours: the burden "
    "('from each according to ability').",
    "flows": "Goods moved between municipalities: senders on the left, receivers on the right. Widths are hours of "
    "social labour (quantity arrived × the item's labour value where it arrives, from the plan's prices), so that "
    "goods counted in different units can be drawn together; hover a band for the quantity. Use the menu to switch "
    "rules.",
}


def _metric_table_html(c: Comparison) -> str:
    head = "".join(f"<th>{html.escape(r)}</th>" for r in c.rules)
    body = "".join(
        f"<tr><td>{html.escape(label)}</td>"
        + "".join(f"<td>{html.escape(v)}</td>" for v in vals)
        + "</tr>"
        for _, label, vals in metric_rows(c)
    )
    return f"<table><thead><tr><th>metric</th>{head}</tr></thead><tbody>{body}</tbody></table>"


def _municipality_table_html(c: Comparison) -> str:
    m = c.municipalities
    rules = _solved(c)
    head = "".join(f"<th>{html.escape(r)}</th>" for r in rules)
    rows = []
    for muni in c.scenario.municipalities["id"]:
        cells = []
        for r in rules:
            x = m[(m["rule"] == r) & (m["municipality"] == muni)].iloc[0]
            cells.append(f"<td>{pct(x['mean_ratio'])} · {pct(x['labour_share'])}</td>")
        rows.append(f"<tr><td>{html.escape(str(muni))}</td>{''.join(cells)}</tr>")
    return (
        "<table><thead><tr><th>municipality (mean ratio · labour share)</th>"
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def html_report(c: Comparison, flows_rule: str | None = None) -> str:
    """The whole report as one HTML document with plotly's JavaScript inline."""
    s = c.scenario
    figs = figures(c, flows_rule)
    parts = []
    for i, (name, fig) in enumerate(figs.items()):
        div = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"fig-{name}",
            config={"displaylogo": False, "responsive": True},
        )
        parts.append(
            f'<div class="fig"><p class="caption">{i + 1}. {html.escape(CAPTIONS[name])}</p>{div}</div>'
        )
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in c.notes)
    desc = f"<p>{html.escape(s.meta.description)}</p>" if s.meta.description else ""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = f"{s.meta.name}: allocation rules compared"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head><body>
<h1>{html.escape(title)}</h1>
<p class="sub">scenario {html.escape(s.meta.name)} ({s.content_hash[:12]}) · {len(s.municipalities)} municipalities ·
rules {html.escape(", ".join(c.rules))} · solver {html.escape(c.solver)} · made {when} by <code>planner compare</code></p>
{desc}{notes}
<h2>Figures per rule</h2>
{_metric_table_html(c)}
<h2>Per municipality</h2>
{_municipality_table_html(c)}
{"".join(parts)}
</body></html>
"""

"""RESULTS.md and the log-log plot from the benchmark records."""

from __future__ import annotations

import math
import os
import platform
import subprocess
from pathlib import Path

# columns of the main table: (header, function of a record -> cell text)
TARGET_US_PER_NNZ = 0.5
TARGET_SHARE = 0.02
TARGET_PULP = 15.0
TARGET_BYTES = 100.0
TARGET_POLICY = 3.0


def _f(v, digits=3):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, int):
        return f"{v:,}"
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}g}"


def _div(a, b):
    if a is None or b is None or not b:
        return None
    return a / b


def ratios(r: dict) -> dict:
    """The derived figures of one record (None where a part is missing)."""
    nnz = r.get("nonzeros")
    asm = r.get("assembly_s")
    transfer = r.get("transfer_s")
    at = None if asm is None or transfer is None else asm + transfer
    solve = r.get("policy_s")
    floor = (
        (r.get("floor") or {}).get("seconds")
        if (r.get("floor") or {}).get("status") == "Optimal"
        else None
    )
    total = None
    if r.get("planner_s") is not None and asm is not None:
        total = asm + r["planner_s"]
    pulp = (r.get("pulp") or {}).get("build_s")
    pulp_aff = (r.get("pulp") or {}).get("build_affine_s")
    return {
        "asm_transfer_s": at,
        "us_per_nnz": None if at is None or not nnz else at / nnz * 1e6,
        "asm_share": _div(at, solve),
        "total_s": total,
        "total_over_floor": _div(total, floor),
        "policy_over_floor": _div(r.get("planner_s"), floor),
        "pulp_over_ours": _div(pulp, asm),
        "pulp_affine_over_ours": _div(pulp_aff, asm),
        "peak_b_per_nnz": _div(r.get("assembly_peak_bytes"), nnz),
        "kept_b_per_nnz": _div(r.get("assembly_kept_bytes"), nnz),
        "rss_b_per_nnz": _div(r.get("assembly_rss_bytes"), nnz),
        "lp_b_per_nnz": _div(r.get("lp_bytes"), nnz),
        "pulp_b_per_nnz": _div(
            (r.get("pulp") or {}).get("build_rss_bytes"), (r.get("pulp") or {}).get("nonzeros")
        ),
        "floor_s": floor,
    }


def _label(r: dict) -> str:
    if r.get("kind") == "generated" and r.get("municipalities"):
        seed = f", seed {r['seed']}" if r.get("seed") else ""
        return f"{r['name']} ({r['municipalities']}×{r['goods']}{seed})"
    return r["name"]


def _state(r: dict) -> str:
    """How the run of this scenario ended, in words."""
    st = r.get("status")
    if st == "done":
        ps = r.get("plan_status")
        if ps in ("optimal", "shortfall"):
            return ps
        if ps == "time_limit":
            failed = next(
                (s["name"] for s in r.get("stages", []) if s.get("value") is None and s["solves"]),
                "?",
            )
            return f"**budget exceeded** in {failed}"
        return f"{ps}: {r.get('plan_message', '')}"
    if st == "budget":
        return f"**budget exceeded** (stopped in phase {r.get('phase')})"
    if st == "error":
        return f"error in phase {r.get('phase')}: {r.get('error', '')[:120]}"
    return str(st)


def main_table(records: list[dict]) -> list[str]:
    head = [
        "scenario",
        "variables",
        "rows",
        "non-zeros",
        "assembly s",
        "transfer s",
        "µs/nnz (asm+transfer)",
        "peak B/nnz",
        "kept B/nnz",
        "LP solves",
        "iterations",
        "policy s",
        "planner CPU s",
        "total s",
        "floor s",
        "total / floor",
        "(asm+transfer) / solve",
        "PuLP build s",
        "PuLP / ours",
        "check",
        "outcome",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in records:
        q = ratios(r)
        cells = [
            _label(r),
            _f(r.get("variables")),
            _f(r.get("rows")),
            _f(r.get("nonzeros")),
            _f(r.get("assembly_s")),
            _f(r.get("transfer_s")),
            _f(q["us_per_nnz"]),
            _f(q["peak_b_per_nnz"]),
            _f(q["kept_b_per_nnz"]),
            _f(r.get("lp_solves")),
            _f(r.get("iterations")),
            _f(r.get("policy_s")),
            _f(r.get("planner_cpu_s")),
            _f(q["total_s"]),
            _f(q["floor_s"]) if q["floor_s"] is not None else _floor_state(r),
            _f(q["total_over_floor"]),
            _pct(q["asm_share"]),
            _f((r.get("pulp") or {}).get("build_s")),
            _f(q["pulp_over_ours"]),
            r.get("check", "–"),
            _state(r),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _per_level(objective, r: dict):
    """The written first LP's objective in the plan's units (a weighted round's, divided)."""
    return None if objective is None else objective / r.get("floor_weight", 1.0)


def _floor_state(r: dict) -> str:
    fl = r.get("floor")
    if not fl:
        return "–"
    return f"{fl.get('status')} after {_f(fl.get('seconds'))}"


def _pct(v):
    return "–" if v is None else f"{100 * v:.2g}%"


def stage_tables(records: list[dict]) -> list[str]:
    out = []
    for r in records:
        if not r.get("stages"):
            continue
        cold = r.get("stage_floors") or {}
        out += [
            f"**{_label(r)}**",
            "",
            "| stage | LP solves | saturation levels | seconds | iterations | value | its first LP, cold (plain highspy) |",
            "|---|---|---|---|---|---|---|",
        ]
        for s in r["stages"]:
            c = cold.get(s["name"])
            cs = (
                "–"
                if not c
                else _cold_cell(c)
                + (f"; primal {_cold_cell(c['primal'])}" if c.get("primal") else "")
            )
            out.append(
                f"| {s['name']} | {s['solves']} | {s['levels']} | {_f(s['seconds'])} | {_f(s['iterations'])} | {_f(s['value'], 6)} | {cs} |"
            )
        if cold:
            tot, limited = cold_sum(cold)
            pol = r.get("policy_s")
            at_least = "at least " if limited else ""
            out += [
                "",
                f"Every stage's first LP solved cold, by the faster of the dual and the primal "
                f"simplex: {at_least}{_f(tot)} s together, "
                f"{at_least}{_f(_div(tot, (r.get('floor') or {}).get('seconds')))}× the stage-1 floor; "
                f"the whole policy took {_f(_div(pol, tot))}× that sum"
                + (
                    " (a solve that reached its time limit counts as the limit)."
                    if limited
                    else "."
                ),
            ]
        out.append("")
    return out


def _cold_cell(c: dict) -> str:
    if c["status"] == "Optimal":
        return f"{_f(c['seconds'])} s, {_f(c['iterations'])} it."
    if c["status"] == "TimeLimit":
        return f"> {_f(c['seconds'])} s (time limit), {_f(c['iterations'])} it."
    return f"{_f(c['seconds'])} s ({c['status']})"


def cold_sum(cold: dict) -> tuple[float, bool]:
    """Sum over stages of the faster cold solve (dual or primal simplex) of its first LP;
    True when some stage only has a time-limited one (the sum is then a lower bound)."""
    tot, limited = 0.0, False
    for c in cold.values():
        tries = [c] + ([c["primal"]] if c.get("primal") else [])
        ok = [t["seconds"] for t in tries if t["status"] == "Optimal"]
        if ok:
            tot += min(ok)
        else:
            tot += max(t["seconds"] for t in tries)
            limited = True
    return tot, limited


def targets(records: list[dict]) -> list[str]:
    """Each target of the issue, per scenario where it applies: measured, met or not."""
    rows = []

    def add(target, r, measured, ok):
        met = ok if isinstance(ok, str) else ("yes" if ok else "**no**")
        rows.append(f"| {target} | {_label(r)} | {measured} | {met} |")

    small = "n/a: below 10k variables fixed costs (~10 ms of pandas) dominate"

    for r in records:
        q = ratios(r)
        big = (r.get("variables") or 0) >= 10_000
        if big and q["us_per_nnz"] is not None:
            add(
                "assembly + transfer ≤ 0.5 µs per non-zero (≥ 10k variables)",
                r,
                f"{q['us_per_nnz']:.3g} µs",
                q["us_per_nnz"] <= TARGET_US_PER_NNZ,
            )
        if big and q["asm_share"] is not None:
            add(
                "assembly + transfer ≤ 2% of solve time (≥ 10k variables)",
                r,
                _pct(q["asm_share"]),
                q["asm_share"] <= TARGET_SHARE,
            )
        if q["pulp_over_ours"] is not None:
            add(
                "≥ 15× faster than the PuLP term-by-term build",
                r,
                f"{q['pulp_over_ours']:.0f}×",
                q["pulp_over_ours"] >= TARGET_PULP if big else small,
            )
        if q["peak_b_per_nnz"] is not None:
            add(
                "≤ 100 bytes per non-zero before the solver (tracemalloc peak of the build)",
                r,
                f"{q['peak_b_per_nnz']:.0f} B",
                q["peak_b_per_nnz"] <= TARGET_BYTES if big else small,
            )
        if r.get("name") in ("M", "L") and q["total_over_floor"] is not None:
            add(
                "whole default policy ≤ 3× the cold solve of stage 1 (sizes M and L)",
                r,
                f"{q['total_over_floor']:.1f}×",
                q["total_over_floor"] <= TARGET_POLICY,
            )
        cold = r.get("stage_floors") or {}
        if r.get("name") in ("M", "L") and cold and r.get("policy_s"):
            tot, limited = cold_sum(cold)
            least = "at least " if limited else ""
            add(
                "(context) whole policy ÷ every stage's first LP solved cold (faster of dual and primal simplex), summed",
                r,
                f"{r['policy_s'] / tot:.1f}× (that sum is {least}{_f(_div(tot, (r.get('floor') or {}).get('seconds')))}× the stage-1 floor)",
                "–",
            )
        if r.get("stages"):
            extra = [s for s in r["stages"] if s["levels"] and s["solves"] > s["levels"]]
            meas = (
                ", ".join(f"{s['name']} {s['solves']}/{s['levels']}" for s in extra)
                or "every saturation stage"
            )
            add(
                "saturation rounds = distinct saturation levels (solves/levels)",
                r,
                meas if extra else "equal in " + meas,
                not extra,
            )
    head = ["| target | scenario | measured | met |", "|---|---|---|---|"]
    return head + rows


def pruning_table(records: list[dict]) -> list[str]:
    out = [
        "| scenario | needs | need columns | needs left out | capacity rows | process columns | flow columns | goods×arcs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        p = r.get("pruning")
        if not p:
            continue
        left = ", ".join(f"{k}: {v}" for k, v in p["needs_left_out"].items()) or "0"
        out.append(
            f"| {_label(r)} | {_f(p['needs'])} | {_f(p['need_columns'])} | {left} | {_f(p['capacity_rows'])} | {_f(p['process_columns'])} | {_f(p['flow_columns'])} | {_f(p['flow_columns_if_unpruned'])} |"
        )
    return out


def memory_table(records: list[dict]) -> list[str]:
    out = [
        "| scenario | non-zeros | build peak (tracemalloc) | B/nnz | kept after build | B/nnz | peak RSS rise | B/nnz | LP arrays B/nnz | PuLP build RSS B/nnz |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        q = ratios(r)
        if r.get("assembly_peak_bytes") is None:
            continue
        out.append(
            f"| {_label(r)} | {_f(r.get('nonzeros'))} | {_mb(r.get('assembly_peak_bytes'))} | {_f(q['peak_b_per_nnz'])} | {_mb(r.get('assembly_kept_bytes'))} | {_f(q['kept_b_per_nnz'])} | {_mb(r.get('assembly_rss_bytes'))} | {_f(q['rss_b_per_nnz'])} | {_f(q['lp_b_per_nnz'])} | {_f(q['pulp_b_per_nnz'])} |"
        )
    return out


def _mb(b):
    return "–" if b is None else f"{b / 2**20:,.1f} MB"


def pulp_table(records: list[dict]) -> list[str]:
    out = [
        "| scenario | stage-1 non-zeros | our assembly s | PuLP lpSum build s | × | PuLP LpAffineExpression build s | × | PuLP+HiGHS solve s | objective (ours / PuLP) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        p = r.get("pulp")
        if not p:
            continue
        q = ratios(r)
        solve = _f(p.get("solve_s")) if p.get("solve_s") is not None else "not run (size)"
        obj = "–"
        if p.get("solve_objective") is not None:
            obj = f"{_f(r.get('first_value'), 9)} / {_f(_per_level(p['solve_objective'], r), 9)}"
        out.append(
            f"| {_label(r)} | {_f(p.get('nonzeros'))} | {_f(r.get('assembly_s'))} | {_f(p.get('build_s'))} | {_f(q['pulp_over_ours'])} | {_f(p.get('build_affine_s'))} | {_f(q['pulp_affine_over_ours'])} | {solve} | {obj} |"
        )
    return out


def floor_table(records: list[dict]) -> list[str]:
    out = [
        "| scenario | floor: plain highspy, cold | status | iterations | objective (floor / our stage 1) | our whole planner s | planner / floor | HiGHS first instance s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        fl = r.get("floor")
        if not fl:
            continue
        q = ratios(r)
        out.append(
            f"| {_label(r)} | {_f(fl['seconds'])} | {fl['status']} | {_f(fl['iterations'])} | {_f(_per_level(fl.get('objective'), r), 9)} / {_f(r.get('first_value'), 9)} | {_f(r.get('planner_s'))} | {_f(q['policy_over_floor'])} | {_f(r.get('highs_first_instance_s'))} |"
        )
    return out


def settings_tables(records: list[dict]) -> list[str]:
    out = []
    for r in records:
        if r.get("settings_cold"):
            out += [
                f"Cold solve of the stage-1 LP of **{_label(r)}** ({_f(r.get('variables'))} variables), HiGHS {_highs_version()}:",
                "",
                "| configuration | status | seconds | simplex it. | ipm it. | crossover it. |",
                "|---|---|---|---|---|---|",
            ]
            for c in r["settings_cold"]:
                secs = _f(c["seconds"]) if c["status"] != "TimeLimit" else f"> {_f(c['limit'])}"
                out.append(
                    f"| {c['config']} | {c['status']} | {secs} | {_f(c['simplex_iterations'])} | {_f(c['ipm_iterations'])} | {_f(c['crossover_iterations'])} |"
                )
            out.append("")
        if r.get("settings_warm"):
            out += [
                f"Whole default policy on **{_label(r)}** by re-solve mode (engine only, no assembly or extraction):",
                "",
                "| re-solve after edits | status | seconds | CPU s | LP solves | iterations | pooled solves | stage values |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for c in r["settings_warm"]:
                secs = _f(c["seconds"])
                if c["status"] == "time_limit":
                    secs = f"> {_f(c['limit'])} (limit, in {c['failed_stage']})"
                values = ", ".join(_f(v, 7) for v in c.get("values") or [])
                out.append(
                    f"| {_warm_label(c['warm'])} | {c['status']} | {secs} | {_f(c.get('cpu_s'))} | {_f(c['lp_solves'])} | {_f(c['iterations'])} | {_f(c.get('pooled'))} | {values} |"
                )
            out.append("")
    return out


def _warm_label(mode: str) -> str:
    return {
        "pooled": "short primal simplex from the last basis, then cold over a pool of flows (chosen)",
        "primal": "primal simplex from the last basis, capped, then dual, then cold over everything",
        "dual": "dual simplex from the last basis (the engine's setting before)",
        "off": "cold every time (dual simplex with presolve)",
    }.get(mode, mode)


def _highs_version() -> str:
    try:
        from importlib.metadata import version

        return version("highspy")
    except Exception:  # noqa: BLE001
        return "?"


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    load = ""
    try:
        load = f", load average at the end {os.getloadavg()[0]:.1f}"
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}{load}; Python {platform.python_version()}"


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for pkg in ("numpy", "scipy", "pandas", "highspy", "pulp"):
        try:
            out.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            pass
    return ", ".join(out)


def git_state(root: Path) -> str:
    try:

        def git(*args: str) -> str:
            out = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10
            )
            return out.stdout.strip()

        head = git("rev-parse", "--short", "HEAD")
        outputs = (":!bench/RESULTS.md", ":!bench/results.json", ":!bench/scaling.png")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", *outputs)
        return f"{head}{' + uncommitted changes' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return "?"


def plot(records: list[dict], path: Path) -> bool:
    """Log-log plot of seconds against non-zeros; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    gen = sorted((r for r in records if r.get("nonzeros")), key=lambda r: r["nonzeros"])
    series = {
        "assembly + transfer (ours)": lambda r: ratios(r)["asm_transfer_s"],
        "PuLP term-by-term build": lambda r: (r.get("pulp") or {}).get("build_s"),
        "solver floor: stage 1 cold, plain highspy": lambda r: ratios(r)["floor_s"],
        "whole default policy (ours, total)": lambda r: (
            ratios(r)["total_s"] if r.get("plan_status") in ("optimal", "shortfall") else None
        ),
    }
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for (label, fn), mark in zip(series.items(), "osD^", strict=True):
        pts = [(r["nonzeros"], fn(r)) for r in gen if fn(r)]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.plot(xs, ys, marker=mark, label=label)
    over = [r for r in gen if r.get("plan_status") == "time_limit" or r.get("status") == "budget"]
    lb = [
        (r["nonzeros"], (r.get("assembly_s") or 0) + (r.get("planner_s") or r.get("budget") or 0))
        for r in over
    ]
    lb = [(x, y) for x, y in lb if y > 0]
    if lb:
        xs, ys = zip(*lb, strict=True)
        ax.plot(
            xs,
            ys,
            ls="none",
            marker="^",
            mfc="none",
            color="tab:red",
            label="whole policy: budget exceeded (at least)",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    for r in gen:
        ax.text(
            r["nonzeros"],
            0.02,
            r["name"],
            transform=ax.get_xaxis_transform(),
            fontsize=8,
            ha="center",
            color="dimgrey",
        )
    ax.set_xlabel("non-zeros of the assembled LP")
    ax.set_ylabel("seconds")
    ax.set_title("Commune planner: time against model size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def certificate_table(records: list[dict]) -> list[str]:
    """Per scenario: levels checked, failures, the largest rise per need (planner.certificate)."""
    rows = [
        "For each level of each need tier: with every need at or below it held and every need",
        "above it kept at or above it, can the needs at the level rise together? (one LP each)",
        "",
        "| scenario | levels | failures (rise > 1e-6 per need) | largest rise per need | seconds |",
        "|---|---|---|---|---|",
    ]
    for r in records:
        c = r.get("certificate")
        if not c:
            continue
        rows.append(
            f"| {_label(r)} | {c['levels']} | {c['failures']} | {c['worst_rise_per_need']:.3g} "
            f"| {c['seconds']:.1f} |"
        )
    return rows


def exact_table(records: list[dict]) -> list[str]:
    """Per scenario planned exactly: the plan's time and work, its check, its exact certificate."""
    rows = [
        "The need stages in rational arithmetic (`planner solve --exact`: HiGHS finds each",
        "round's basis, QSopt_ex proves it optimal in rationals), then the certificate held at",
        "the plan's exact levels, each level's LP solved exactly: a level passes when its needs",
        "cannot rise at all. CPU seconds include QSopt_ex's (a child process).",
        "",
        "| scenario | status | plan s | CPU s | LP solves | exact rounds | QSopt_ex s | check "
        "| certificate levels | with a rise | certificate s | certificate CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        e = r.get("exact")
        if not e:
            continue
        c = e.get("certificate") or {}

        def f(v, fmt="{:.1f}"):
            return "–" if v is None else fmt.format(v)

        rows.append(
            f"| {_label(r)} | {e['status']} | {f(e.get('seconds'))} | {f(e.get('cpu_s'))} "
            f"| {f(e.get('lp_solves'), '{}')} | {f(e.get('exact_rounds'), '{}')} "
            f"| {f(e.get('exact_rational_seconds'))} | {e.get('check', '–')} "
            f"| {f(c.get('levels'), '{}')} | {f(c.get('not_zero'), '{}')} "
            f"| {f(c.get('seconds'))} | {f(c.get('cpu_s'))} |"
        )
    return rows


def write(
    records: list[dict],
    path: Path,
    argv: str,
    budget: float,
    plot_path: Path | None,
    notes: list[str] | None = None,
) -> None:
    """Write RESULTS.md (and the plot next to it)."""
    root = Path(__file__).resolve().parent.parent
    has_plot = plot(records, plot_path) if plot_path else False
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{argv}` on {machine()}. {versions()}. Code: {records[0].get('code') if records and records[0].get('code') else git_state(root)}.",
        f"Time budget per scenario: {budget:.0f} s for the planner (assembly, transfer, every stage, extraction); the solver-floor solve has the same limit.",
        "",
        "All times are wall-clock seconds on this machine in this run; the references were measured in the same run, right after the planner, on the same LP.",
        "",
        "## Summary",
        "",
        *main_table(records),
        "",
        "- *assembly*: `planner.formulation.build` (scenario tables → sparse LP and label frames), best of up to 10 runs (fewer once they add up to 10 s; every run is in results.json, the first of the process included);",
        "  *transfer*: creating the HiGHS model and passing the LP to it (`Engine` construction), after the process's first HiGHS instance: loading highspy and making its first instance is a one-off cost of any planning process, timed apart (*HiGHS first instance* in the solver floor table);",
        "- *policy*: every stage of the scenario's policy (default `leximin`: needs tier 1-3 leximin, min_labour, fair_burden, min_transport): LP solves, in-place edits, saturation tests, binding rows;",
        "- *planner CPU s*: CPU seconds of the process over transfer + policy + extraction (wall seconds above it include waiting for the CPU when the machine is shared);",
        "- *total*: assembly + transfer + policy + plan extraction (the whole of `planner.solve` after the scenario is loaded);",
        "- *floor*: the LP of the first stage's first solve, written as MPS by the engine just before it solved it, read by plain highspy and solved cold with its default settings;",
        "- *PuLP build*: the same stage-1 LP built term by term in PuLP (`lpSum` of coefficient × variable per row), construction only;",
        "- *peak / kept B/nnz*: tracemalloc peak during the build, and what the build's result keeps, per non-zero of the LP;",
        "- *check*: `planner.check_plan` on the plan (every SPEC §3 constraint).",
        "",
        "## Targets",
        "",
        *targets(records),
        "",
    ]
    if has_plot:
        lines += ["## Time against size", "", f"![time against size]({plot_path.name})", ""]
    lines += ["## Stages", "", *stage_tables(records)]
    lines += ["## Leximin certificate", "", *certificate_table(records), ""]
    if any(r.get("exact") for r in records):
        lines += ["## Exact plans and their exact certificates", "", *exact_table(records), ""]
    lines += ["## Solver floor", "", *floor_table(records), ""]
    lines += [
        "## PuLP reference",
        "",
        *pulp_table(records),
        "",
        "The PuLP model is built from the rows of the very matrix the planner assembled (the least work PuLP can be given); code written from the scenario's tables would also spend time on look-ups and joins, so the ratios are lower bounds.",
        "",
    ]
    lines += [
        "## Memory",
        "",
        *memory_table(records),
        "",
        "tracemalloc sees numpy, scipy and Python allocations (not pyarrow's pool, which pandas uses for string columns); the RSS rise covers everything but is coarse (pages, allocator caches).",
        "",
    ]
    lines += [
        "## Variables not created",
        "",
        *pruning_table(records),
        "",
        "Needs left out: zero needs and needs nothing can reach (no endowment, no process and no route brings the item there). Process columns exist only where a capacity row exists and the process can run (labour available when it needs labour); flow columns only for transportable goods that can be at the link's origin and are used somewhere reachable past its destination.",
        "",
    ]
    sett = settings_tables(records)
    lines += ["## Solver settings", "", *(notes or []), "", *sett]
    extra = Path(__file__).with_name("NOTES.md")
    if extra.exists():  # hand-written findings, kept apart from the generated figures
        lines += ["", extra.read_text().strip()]
    path.write_text("\n".join(lines).rstrip() + "\n")

"""Exact planning: rational LP (solvers._exact), exact need rounds (planner.exact), --exact.

The exact solver is QSopt_ex's ``esolver`` (Debian package qsopt-ex, installed by
``make install``); HiGHS finds each basis, QSopt_ex proves it optimal in rationals.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp

import models
import planner
from planner.certificate import exact_levels_certificate, failures, leximin_levels
from solvers import LinearProgram
from solvers import _exact as exact_lp


@pytest.fixture(autouse=True)
def _esolver():
    """Exact planning is part of the project: without its solver these tests fail, not skip."""
    if not exact_lp.available():
        pytest.fail("QSopt_ex's esolver is missing: run `make install` (Debian's qsopt-ex)")


def _lp(c, rows, lo, up, col_lo, col_up, sense="max"):
    return LinearProgram(
        np.asarray(c, float), sp.csr_array(np.asarray(rows, float)), lo, up, col_lo, col_up, sense
    )


def test_a_two_by_two_optimum_and_its_duals_are_exact_fractions():
    """max x + y s.t. 3x + y <= 1, x + 3y <= 1, x, y >= 0.

    Derivation: both rows bind at the optimum (by symmetry x = y, 4x = 1), so
    x = y = 1/4, value 1/2; the duals solve 3u + v = 1, u + 3v = 1: u = v = 1/4.
    In floats 1/4 is exact but the check is that the values are Fractions equal to it.
    """
    ex = exact_lp.ExactLP(
        _lp([1, 1], [[3, 1], [1, 3]], [-np.inf] * 2, [1, 1], [0, 0], [np.inf] * 2)
    )
    res = ex.solve()
    assert res.ok and res.warm
    assert res.objective == Fraction(1, 2)
    assert res.x == [Fraction(1, 4), Fraction(1, 4)]
    assert res.row_duals == [Fraction(1, 4), Fraction(1, 4)]


def test_numbers_are_read_as_the_decimals_they_print():
    """max y s.t. x + y <= 0.3, x >= 0.1: y = 0.2 = 1/5 exactly.

    In binary floating point 0.3 - 0.1 is 0.19999999999999998; the exact solver reads
    the decimals the scenario wrote, so the answer is the rational 1/5.
    """
    ex = exact_lp.ExactLP(_lp([0, 1], [[1, 1]], [-np.inf], [0.3], [0.1, 0], [np.inf] * 2))
    res = ex.solve()
    assert res.objective == Fraction(1, 5)
    assert 0.3 - 0.1 != 0.2  # why it matters


def test_an_exact_bound_is_written_as_the_rational_it_is():
    """max -x - y s.t. x >= 1/3, y >= 2/7 (exact lower bounds): the optimum is -13/21.

    Derivation: both objective coefficients are negative, so each variable sits at its
    lower bound; -(1/3 + 2/7) = -(7 + 6)/21. A decimal would round 1/3; the MPS file
    spells ``1/3`` and QSopt_ex reads it as that rational.
    """
    ex = exact_lp.ExactLP(_lp([-1, -1], [[1, 1]], [-np.inf], [np.inf], [0, 0], [np.inf] * 2))
    ex.set_col_bounds([0, 1], [Fraction(1, 3), Fraction(2, 7)], [np.inf, np.inf])
    res = ex.solve()
    assert res.ok
    assert res.objective == Fraction(-13, 21)
    assert res.x == [Fraction(1, 3), Fraction(2, 7)]
    assert exact_lp.decimal(Fraction(1, 3)) == "1/3"
    assert exact_lp.decimal(Fraction(-2, 3)) == "-2/3"
    assert exact_lp.decimal(Fraction(3, 8)) == "0.375"  # terminating: a decimal
    assert exact_lp.decimal(Fraction(-5, 4)) == "-1.25"
    assert exact_lp.decimal(Fraction(7)) == "7"
    assert Fraction(exact_lp.decimal(Fraction(1, 2**60))) == Fraction(1, 2**60)  # all 60 places
    assert (
        exact_lp.float_side(Fraction(1, 3), -1) <= 1 / 3 <= exact_lp.float_side(Fraction(1, 3), 1)
    )
    assert Fraction(exact_lp.float_side(Fraction(1, 3), -1)) < Fraction(1, 3)


def test_an_infeasible_programme_is_said_so():
    ex = exact_lp.ExactLP(_lp([1], [[1]], [2], [np.inf], [0], [1]))
    assert ex.solve().status == "infeasible"


def test_an_exactly_optimal_basis_left_to_multi_precision_is_read_from_the_library(
    monkeypatch, tmp_path
):
    """QSopt_ex 2.5.10 can find a basis exactly optimal and still go on to its 128-bit
    simplex (its double pass had called the programme infeasible; the README's tour had
    such a certificate level, bench/NOTES.md). The run is stopped there and the basis's
    exact solution read from QSopt_ex's library (solvers._qslib). A stand-in esolver
    plays that log, then would sleep for a minute and write nothing. The programme is
    the 2 x 2 of the first test: value 1/2, x = duals = (1/4, 1/4)."""
    fake = tmp_path / "esolver"
    fake.write_text(
        "#!/bin/sh\n"
        "echo 'Performing Rational Basic Solve on commune, RAT_optimal, check done in "
        "0.1 seconds, PS F 0, DS F 0'\n"
        "echo 'Trying mpf with 128 bits'\n"
        "exec sleep 60\n"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(exact_lp, "ESOLVER", str(fake))
    ex = exact_lp.ExactLP(
        _lp([1, 1], [[3, 1], [1, 3]], [-np.inf] * 2, [1, 1], [0, 0], [np.inf] * 2)
    )
    res = ex.solve()  # without the stop: a minute's sleep, then no solution ("error")
    assert res.ok and res.objective == Fraction(1, 2)
    assert res.x == [Fraction(1, 4), Fraction(1, 4)]
    assert res.row_duals == [Fraction(1, 4), Fraction(1, 4)]
    assert ex.stranded == 1


def test_a_stranded_basis_that_is_not_ours_is_solved_cold(monkeypatch):
    """esolver strands (its rational check found a basis optimal and it goes on in 128-bit
    floats) but the library finds our basis not optimal (esolver's check was of the basis
    its double pass ended at): QSopt_ex then solves cold, not again from our basis, where
    it strands again and then works in 128-bit floats from scratch (a level of the README's
    tour's certificate ran out of its 245 s that way, bench/NOTES.md). Stand-ins: esolver
    strands once; the library rejects; the cold run is the real esolver: the 2 x 2 of the
    first test, value 1/2."""
    real, cmds = exact_lp._run, []

    def stranding(cmd, env, timeout, check_only, **kw):
        cmds.append((list(cmd), check_only, kw.get("stop_stranded", True)))
        if len(cmds) == 1:
            return exact_lp._STRANDED
        return real(cmd, env, timeout, check_only, **kw)

    monkeypatch.setattr(exact_lp, "_run", stranding)
    monkeypatch.setattr(exact_lp, "_basic_solution", lambda d, env, t: exact_lp._REJECTED)
    ex = exact_lp.ExactLP(
        _lp([1, 1], [[3, 1], [1, 3]], [-np.inf] * 2, [1, 1], [0, 0], [np.inf] * 2)
    )
    res = ex.solve()
    assert res.ok and res.objective == Fraction(1, 2) and not res.warm
    assert res.x == [Fraction(1, 4), Fraction(1, 4)]
    assert ex.stranded == 1 and ex.cold == 1 and len(cmds) == 2
    assert "-B" in cmds[0][0] and "-B" not in cmds[1][0]
    assert cmds[1][1:] == (False, False)  # to the end: not a check, not stopped


def test_a_basis_failing_both_checks_is_left_to_qsopt_ex_from_scratch(monkeypatch):
    """HiGHS's basis fails QSopt_ex's rational check, and again at tight tolerances:
    QSopt_ex then solves the programme cold (no basis), not in multi-precision from that
    basis (21,000 iterations on levels of the README's tour certificate, against one
    double-precision pass cold; bench/NOTES.md). Both checks are made to fail here; the
    cold run is the real esolver. The 2 x 2: value 1/2."""
    real, cmds = exact_lp._run, []

    def failing_checks(cmd, env, timeout, check_only, **kw):
        cmds.append((list(cmd), check_only, kw.get("stop_stranded", True)))
        return exact_lp._REJECTED if check_only else real(cmd, env, timeout, check_only, **kw)

    monkeypatch.setattr(exact_lp, "_run", failing_checks)
    ex = exact_lp.ExactLP(
        _lp([1, 1], [[3, 1], [1, 3]], [-np.inf] * 2, [1, 1], [0, 0], [np.inf] * 2)
    )
    res = ex.solve()
    assert res.ok and res.objective == Fraction(1, 2) and res.tightened
    assert ex.cold == 1 and not res.warm
    # the two failed checks' time is their own, not HiGHS's (nor the answer's run)
    assert res.rejected_seconds > 0 and res.highs_seconds >= 0
    assert ex.exact_seconds == pytest.approx(res.exact_seconds + res.rejected_seconds)
    assert [c for _, c, _ in cmds] == [True, True, False]
    assert [stop for _, _, stop in cmds] == [True, True, False]  # cold: no basis of ours
    assert "-B" in cmds[0][0] and "-B" in cmds[1][0] and "-B" not in cmds[2][0]
    quick = exact_lp.ExactLP(ex.lp)  # without multi-precision: no cold run, "rejected"
    assert quick.solve(multi_precision=False).status == "rejected" and quick.cold == 0


def test_after_three_tight_misses_in_a_row_a_failed_check_goes_cold_at_once(monkeypatch):
    """At the README's tour certificate no tight re-solve rescued a basis (34 of 34) and
    they were most of HiGHS's time there (bench/NOTES.md). After TIGHT_GIVE_UP (3) tight
    re-solves in a row failed, a failed check goes cold without one, but for every
    TIGHT_RETRY-th (10th) failed check; a rescue starts the count again. Without
    multi-precision the tight re-solve is always tried (nothing else would answer).
    Each solve's answer is the real esolver's cold one: the 2 x 2, value 1/2."""
    real, checks = exact_lp._run, []
    rescue = {"at": None}

    def failing_checks(cmd, env, timeout, check_only, **kw):
        if check_only:
            checks.append(1)
            if len(checks) != rescue["at"]:
                return exact_lp._REJECTED
        return real(cmd, env, timeout, check_only, **kw)

    monkeypatch.setattr(exact_lp, "_run", failing_checks)
    ex = exact_lp.ExactLP(
        _lp([1, 1], [[3, 1], [1, 3]], [-np.inf] * 2, [1, 1], [0, 0], [np.inf] * 2)
    )
    per_solve = []
    for _ in range(14):
        before = len(checks)
        res = ex.solve()
        assert res.ok and res.objective == Fraction(1, 2) and res.tightened
        per_solve.append(len(checks) - before)  # 2: first check and tight; 1: skipped
    # solves 1-3 try tight (3 misses), 4-12 skip it (9), the 13th tries, the 14th skips
    assert per_solve == [2, 2, 2] + [1] * 9 + [2, 1]
    assert ex.tight_skipped == 10 and ex.cold == 14 and ex.tightened == 14
    # a rescue (the tight check passes) starts the count again
    again = exact_lp.ExactLP(ex.lp)
    rescue["at"] = len(checks) + 4  # the second solve's tight check
    per_solve = []
    for _ in range(6):
        before = len(checks)
        assert again.solve().ok
        per_solve.append(len(checks) - before)
    assert per_solve == [2, 2, 2, 2, 2, 1] and again.cold == 5 and again.tight_skipped == 1
    quick = exact_lp.ExactLP(ex.lp)
    quick._tight.misses = 10  # without multi-precision: tight still tried, then "rejected"
    n = len(checks)
    assert quick.solve(multi_precision=False).status == "rejected"
    assert len(checks) - n == 2 and quick.tight_skipped == 0


def test_after_three_failed_first_checks_in_a_row_the_basis_is_not_checked(monkeypatch):
    """At the README's tour certificate the first check of HiGHS's basis failed 50 times
    in 64 levels (1,604 s of failed checks) while a cold run took about as long as a
    check that passed (bench/NOTES.md). With ``check_give_up`` 3, after three failed
    first checks in a row QSopt_ex solves cold at once (no check, no tight re-solve), but
    for every CHECK_RETRY-th (4th) solve; a check that passes starts the count again.
    Off by default (the exact plan's checks mostly pass). Each answer is the real
    esolver's: the 2 x 2, value 1/2."""
    assert exact_lp.CHECK_RETRY == 4
    real, runs = exact_lp._run, []
    passing = set()

    def checks(cmd, env, timeout, check_only, **kw):
        runs.append("check" if "-B" in cmd else "cold")
        if check_only and len(runs) not in passing:
            return exact_lp._REJECTED
        return real(cmd, env, timeout, check_only, **kw)

    monkeypatch.setattr(exact_lp, "_run", checks)
    lp = _lp([1, 1], [[3, 1], [1, 3]], [-np.inf] * 2, [1, 1], [0, 0], [np.inf] * 2)
    ex = exact_lp.ExactLP(lp, check_give_up=3)
    per_solve = []
    for _ in range(9):
        before = len(runs)
        res = ex.solve()
        assert res.ok and res.objective == Fraction(1, 2)
        per_solve.append(runs[before:])
    failed = ["check", "check", "cold"]  # first check, tight check, cold
    # solves 1-3 check and fail; 4-6 go cold unchecked; the 7th checks again (and fails,
    # its tight re-solve skipped after three tight misses); 8 and 9 cold unchecked
    assert per_solve[:3] == [failed] * 3
    assert per_solve[3:6] == [["cold"]] * 3
    assert per_solve[6] == ["check", "cold"] and per_solve[7:] == [["cold"]] * 2
    assert ex.check_skipped == 5 and ex.cold == 9 and ex.tight_skipped == 1
    # a first check that passes starts the count again
    again = exact_lp.ExactLP(lp, check_give_up=3)
    start = len(runs)
    passing.add(start + 3 + 1)  # the second solve's first check (after the first's 3 runs)
    per_solve = []
    for _ in range(6):
        before = len(runs)
        assert again.solve().ok
        per_solve.append(runs[before:])
    # 1 fails, 2 passes, 3-5 fail (the 5th's tight re-solve skipped: three tight misses),
    # so only the 6th goes cold unchecked
    assert per_solve == [failed, ["check"], failed, failed, ["check", "cold"], ["cold"]]
    assert again.check_skipped == 1 and again.tight_skipped == 1
    # off (the default) or without multi-precision: every basis is checked
    for give_up, mp in ((None, True), (3, False)):
        plain = exact_lp.ExactLP(lp, check_give_up=give_up)
        plain._check.misses = 10
        before = len(runs)
        plain.solve(multi_precision=mp)
        assert runs[before] == "check" and plain.check_skipped == 0


def test_the_library_gives_esolvers_exact_solution_of_a_basis(monkeypatch, tmp_path):
    """solvers._qslib against esolver on one programme and its optimal basis: a
    minimisation with ranged and equality rows, bounded columns and fractions, where x,
    the row duals and the reduced costs must agree exactly (signs included)."""
    from solvers import _qslib

    rng = np.random.default_rng(3)
    A = rng.integers(-3, 6, size=(6, 9)).astype(float)
    x0 = rng.uniform(0, 2, 9).round(1)
    lo, up = A @ x0 - 1.5, A @ x0 + 2.0
    lo[0] = up[0] = A[0] @ x0  # an equality row
    ex = exact_lp.ExactLP(
        _lp(rng.uniform(-1, 2, 9).round(2), A, lo.round(2), up.round(2), [0] * 9,
            [3.3] * 9, sense="min")
    )  # fmt: skip
    kept = tmp_path / "kept"
    monkeypatch.setenv("COMMUNE_EXACT_KEEP", str(kept))
    res = ex.solve()
    assert res.ok
    d = next(kept.iterdir())
    written = _qslib.basic_solution(str(d / "lp.mps"), str(d / "lp.bas"), str(tmp_path / "l.sol"))
    assert written == 0
    n, m = 9, 6
    esolver_esol = exact_lp.read_solution(d / "lp.sol", n, m)
    library = exact_lp.read_solution(tmp_path / "l.sol", n, m)
    assert library == esolver_esol
    assert library[1] == res.objective and any(v != 0 for v in library[3])


@pytest.mark.parametrize(
    ("ending", "how"), [("kill -TERM $$", "stopped by signal 15"), ("exit 3", "exit status 3")]
)
def test_an_esolver_that_writes_no_solution_is_an_error_saying_how_it_ended(
    monkeypatch, tmp_path, ending, how
):
    """An esolver stopped from outside (here a signal, as a stray pkill did to a run of
    the generated 150 x 300 in the eighteenth session, which then read as a QSopt_ex
    failure) ends like a failed one, with no solution file: the answer is "error" and
    its message says how esolver ended, then its log's last lines."""
    fake = tmp_path / "esolver"
    fake.write_text(f"#!/bin/sh\necho 'LP Value: 0.5, status 1'\n{ending}\n")
    fake.chmod(0o755)
    monkeypatch.setattr(exact_lp, "ESOLVER", str(fake))
    ex = exact_lp.ExactLP(
        _lp([1, 1], [[3, 1], [1, 3]], [-np.inf] * 2, [1, 1], [0, 0], [np.inf] * 2)
    )
    res = ex.solve()
    assert res.status == "error" and not res.ok
    assert res.message == (
        f"QSopt_ex's esolver wrote no solution ({how}); its log ends: LP Value: 0.5, status 1"
    )


def test_without_esolver_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setattr(exact_lp, "ESOLVER", "no-such-esolver")
    with pytest.raises(exact_lp.ExactUnavailable, match="qsopt-ex"):
        exact_lp.ExactLP(_lp([1], [[1]], [0], [1], [0], [1]))


@pytest.fixture(scope="module")
def plans_25x50():
    out = {}
    for seed in (11, 12):
        s = models.generate(25, 50, seed)
        plan = planner.solve(s, exact=True)
        out[seed] = (s, plan.to_dict(), plan.exact_levels)
    return out


def _tier(plan, tier):
    d = plan["deliveries"]
    return np.sort([r["ratio"] for r in d if r["tier"] == tier])


def test_exact_plans_pass_the_checker(plans_25x50):
    for s, plan, _ in plans_25x50.values():
        assert planner.check_plan(s, plan) == []
        assert plan["timings"]["exact_rounds"] > 0


def test_exact_plans_reach_what_an_independent_planner_found(plans_25x50):
    """The issue's witnesses: an independent planner's tier-2 allocations passing the
    checker, with the fifth-lowest ratio 0.9240 (seed 11) and the second-lowest 0.7013
    (seed 12) where the project's plans had 0.9192 and 0.6987. A leximin plan is at
    least as high at the first place where they differ; here, at those places."""
    assert _tier(plans_25x50[11][1], 2)[4] >= 0.9240
    assert _tier(plans_25x50[12][1], 2)[1] >= 0.7013


def test_exact_plans_are_leximin_by_the_exact_certificate(plans_25x50):
    """No need fixed at a level can rise without lowering one at or below it: every
    level's LP solved exactly (QSopt_ex), held at the plan's printed ratios."""
    for s, plan, _ in plans_25x50.values():
        levels = leximin_levels(s, plan["deliveries"], exact=True)
        assert len(levels) >= 5
        assert failures(levels) == []


def test_exact_plans_pass_the_certificate_held_at_their_exact_levels(plans_25x50):
    """Held at the plan's own rationals (``Plan.exact_levels``), every level's LP has
    the plan's sum as its exact optimum: a rise of exactly 0, not one under a tolerance."""
    for s, plan, held in plans_25x50.values():
        levels = exact_levels_certificate(s, plan["deliveries"], held)
        assert len(levels) >= 5
        assert {lv.tier for lv in levels} >= {2, 3}
        assert all(lv.rise == 0.0 for lv in levels)
        assert failures(levels, tol=0.0) == []


def test_the_exact_certificate_fails_a_level_held_too_low(plans_25x50):
    """The certificate can fail: the needs at the lowest tier-2 level of seed 11's exact
    plan said to be 1% lower (and delivered so) can rise back, and that level fails
    first (a level that fails fixes no face). Measured: a rise of 0.0069 at 0.6866 for
    its one need."""
    s, plan, held = plans_25x50[11]
    low = min(v for k, v in held.items() if k[2] == "2")
    bad = {k: v * Fraction(99, 100) if v == low else v for k, v in held.items()}
    rows = [dict(r) for r in plan["deliveries"]]
    for r in rows:
        k = (str(r["municipality"]), str(r["item"]), str(r["tier"]))
        if k in bad:
            r["ratio"] = float(bad[k])
    levels = exact_levels_certificate(s, rows, bad)
    bad_levels = failures(levels)
    assert bad_levels and bad_levels[0].tier == 2
    assert bad_levels[0].level == pytest.approx(float(low) * 0.99, abs=1e-12)
    assert bad_levels[0].rise >= float(low) * 0.01 * 0.99


def test_an_exact_level_without_an_answer_in_its_cap_is_undecided_and_the_rest_go_on(
    plans_25x50, monkeypatch
):
    """Each level's exact solve is capped; a level that gets no answer (here the second:
    its solve said "time_limit") is undecided and fails, and the levels after it are
    still decided, with the faces of the levels that passed (measured at 25 x 50 seed 12:
    every other level's rise exactly 0, as uncapped)."""
    from solvers import ExactResult
    from solvers._exact import ExactLP

    s, plan, held = plans_25x50[12]
    full = exact_levels_certificate(s, plan["deliveries"], held)
    real, calls, caps = ExactLP.solve, [0], []

    def second_times_out(self, *a, **k):
        calls[0] += 1
        caps.append(self.time_limit)
        if calls[0] == 2:
            return ExactResult("time_limit")
        return real(self, *a, **k)

    monkeypatch.setattr(ExactLP, "solve", second_times_out)
    levels = exact_levels_certificate(s, plan["deliveries"], held)
    assert [(lv.tier, lv.level) for lv in levels] == [(lv.tier, lv.level) for lv in full]
    assert levels[1].undecided and failures(levels) == [levels[1]]
    assert all(lv.rise == 0.0 for i, lv in enumerate(levels) if i != 1)
    assert caps[0] is None and all(c >= 60.0 for c in caps[1:])  # set by the first level


def test_exact_levels_that_are_not_the_plans_are_refused(plans_25x50):
    s, plan, held = plans_25x50[12]
    k = next(k for k, v in held.items() if 0 < v < 1)
    other = dict(held)
    other[k] = held[k] / 2
    with pytest.raises(ValueError, match="not the plan's ratios"):
        exact_levels_certificate(s, plan["deliveries"], other)


def test_exact_stages_report_their_levels_and_rounds(plans_25x50):
    s, plan, _ = plans_25x50[11]
    st = {x["name"]: x for x in plan["stages"]}
    tier2 = st["needs:tier2"]
    assert tier2["rounds"] >= len(tier2["levels"]) >= 5
    assert tier2["levels"] == sorted(tier2["levels"])
    assert tier2["value"] == tier2["levels"][0] == pytest.approx(_tier(plan, 2)[0], abs=1e-9)
    assert plan["timings"]["exact_rational_seconds"] > 0
    assert set(plan["timings"]["exact_rational_iterations"]) >= {"dbl"}


def test_exact_needs_leximin_need_stages_first():
    s = models.generate(6, 10, 1)
    with pytest.raises(ValueError, match="leximin need stages"):
        planner.solve(s, rule="utilitarian", exact=True)


def test_the_cli_plans_exactly(tmp_path):
    from typer.testing import CliRunner

    from planner.cli import app

    folder = tmp_path / "s"
    models.save(models.generate(6, 10, 1), folder)
    res = CliRunner().invoke(app, ["solve", str(folder), "--exact", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["timings"]["exact_rounds"] >= 1
    res = CliRunner().invoke(app, ["solve", str(folder), "--exact", "--rule", "utilitarian"])
    assert res.exit_code == 2
    assert "leximin need stages" in res.output and "Traceback" not in res.output


def test_the_cli_proves_an_exact_plan_leximin_when_asked(tmp_path):
    """``--certify``: after the exact plan, its certificate at its exact levels, one line
    on stderr (the JSON on stdout unchanged); without ``--exact`` it is refused."""
    from typer.testing import CliRunner

    from planner.cli import app

    folder = tmp_path / "s"
    models.save(models.generate(6, 10, 1), folder)
    res = CliRunner().invoke(app, ["solve", str(folder), "--exact", "--certify", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["timings"]["exact_rounds"] >= 1
    assert "leximin certificate:" in res.stderr and "levels checked exactly" in res.stderr
    assert "can rise without lowering one at or below it" in res.stderr
    res = CliRunner().invoke(app, ["solve", str(folder), "--certify"])
    assert res.exit_code == 2
    assert "--certify proves an exact plan: add --exact" in res.output


def test_a_failing_certificate_is_an_error_on_the_cli(monkeypatch, tmp_path):
    """A certificate that finds a rise says where and exits 1 (the plan is still printed)."""
    from typer.testing import CliRunner

    import planner.certificate as pc
    from planner.cli import app

    real = pc.exact_levels_certificate

    def lowered(s, plan, **kw):
        levels = real(s, plan, **kw)
        lv = levels[0]
        levels[0] = pc.Level(lv.tier, lv.level, lv.needs, lv.plan_sum, lv.plan_sum + 0.25)
        return levels

    monkeypatch.setattr(pc, "exact_levels_certificate", lowered)
    folder = tmp_path / "s"
    models.save(models.generate(6, 10, 1), folder)
    res = CliRunner().invoke(app, ["solve", str(folder), "--exact", "--certify", "-q"])
    assert res.exit_code == 1, res.output
    assert "the leximin certificate failed at 1 of" in res.stderr
    assert "can rise by 0.25 together" in res.stderr and "Traceback" not in res.output

    def undecided(s, plan, **kw):  # a level with no answer within its cap
        levels = real(s, plan, **kw)
        lv = levels[-1]
        levels[-1] = pc.Level(lv.tier, lv.level, lv.needs, lv.plan_sum, float("nan"))
        return levels

    monkeypatch.setattr(pc, "exact_levels_certificate", undecided)
    res = CliRunner().invoke(app, ["solve", str(folder), "--exact", "--certify", "-q"])
    assert res.exit_code == 1, res.output
    assert "could not decide 1 of" in res.stderr and "within each level's time cap" in res.stderr
    assert "nan" not in res.stderr and "failed at" not in res.stderr


def test_an_exact_plan_repeats_to_its_hash():
    """The exact rounds' seconds are timings (null in the hash); their counts repeat."""
    from planner.plan import plan_hash

    s = models.generate(6, 10, 1)
    a, b = (planner.solve(s, exact=True).to_dict() for _ in range(2))
    assert a["timings"]["exact_rounds"] == b["timings"]["exact_rounds"]
    assert plan_hash(a) == plan_hash(b)


def test_exact_levels_are_fractions_and_each_round_proves_its_needs():
    """Every level is a Fraction (a float would round a hold above what the programme
    allows and make the next round infeasible); levels rise within a tier."""
    from planner.exact import exact_levels
    from planner.formulation import build

    form = build(models.generate(25, 50, 11))
    res = exact_levels(form, [1, 2, 3])
    assert all(isinstance(lv, Fraction) for lv in res.level if lv is not None)
    for t in (1, 2, 3):
        lv = [r.level for r in res.rounds if r.tier == t]
        assert lv == sorted(lv) and all(r.fixed >= 1 for r in res.rounds)
    assert res.rounds[-1].level == 1  # tier 3 ends with its needs met in full
    # needs that can have nothing are at exactly 0 (the holds are exact: no rounding hair)
    assert min(r.level for r in res.rounds if r.tier == 3) == 0


def test_faces_and_settled_ties_change_no_level():
    """Two routes to the same rationals. The default fixes each round's optimal face
    (complementary slackness with exact duals) and settles the needs a round at 0 leaves
    tied (one LP proves many at once); the plain route holds the needs its duals prove
    and nothing else. Neither may cut a later optimum, so every need's level agrees."""
    from planner.exact import exact_levels
    from planner.formulation import build

    form = build(models.generate(25, 50, 12))
    full = exact_levels(form, [1, 2, 3])
    plain = exact_levels(form, [1, 2, 3], face=False, ties=False)
    assert full.face_fixed > 0 and full.tie_solves > 0 and full.tied > 0
    assert plain.face_fixed == 0 and plain.tie_solves == 0
    assert full.level == plain.level
    assert sum(lv is not None for lv in full.level) == 452


def test_a_time_limit_stops_the_exact_rounds_with_one_line(tmp_path):
    from typer.testing import CliRunner

    from planner.cli import app

    folder = tmp_path / "s"
    models.save(models.generate(25, 50, 11), folder)
    res = CliRunner().invoke(app, ["solve", str(folder), "--exact", "--time-limit", "1e-9"])
    assert res.exit_code == 5, res.output
    assert "time limit reached in the exact rounds" in res.output
    assert "Traceback" not in res.output


def test_exact_rounds_report_progress():
    """Each exact round reports its stage, round and level, as the engine's rounds do."""
    seen = []
    s = models.generate(6, 10, 1)
    planner.solve(s, exact=True, progress=lambda *a: seen.append(a))
    exact = [a for a in seen if a[0].startswith("needs:") and a[1] > 0]
    assert exact and all(0 <= a[2] <= 1 for a in exact)
    assert [a[1] for a in exact if a[0] == exact[0][0]][:2] in ([1], [1, 2])


def test_a_ranged_row_is_read_as_its_two_bounds():
    """max x s.t. 1 <= x + y <= 3, 0 <= x, y <= 10: x = 3 (the upper side binds);
    min x: x = 0 with y = 1 (the lower side)."""
    ex = exact_lp.ExactLP(_lp([1, 0], [[1, 1]], [1], [3], [0, 0], [10, 10]))
    assert ex.solve().objective == 3
    ex.set_objective(np.array([1.0, 0.0]), "min")
    res = ex.solve()
    assert res.objective == 0 and res.x[1] >= 1


def test_a_ranged_row_with_decimal_bounds_is_read_as_those_decimals():
    """max x s.t. 0.1 <= x + y <= 0.3, x, y >= 0: x = 3/10 exactly. The range was once
    written as the difference of the floats' binary values (0.3 - 0.1 in binary is
    0.19999999999999998335...), so the upper side read 0.29999999999999998335..."""
    ex = exact_lp.ExactLP(_lp([1, 0], [[1, 1]], [0.1], [0.3], [0, 0], [np.inf, np.inf]))
    assert ex.solve().objective == Fraction(3, 10)
    assert exact_lp.written(0.1) == Fraction(1, 10) != Fraction(0.1)


def test_the_m_plan_planned_exactly_is_leximin_by_its_exact_certificate():
    """The issue's certificate at M size: the benchmark's M (generated 60 x 120, seed 0)
    planned exactly passes the checker, and every level of tiers 2 and 3 (tier 1 is met
    in full there) has its needs' exact sum as the exact optimum of its certificate LP:
    no need fixed at a level can rise without lowering one at or below it. Measured
    (2026-12-07, beside CI): the plan about 57 s, the certificate 63 levels in 74 s."""
    s = models.generate(60, 120, 0)
    plan = planner.solve(s, exact=True)
    d = plan.to_dict()
    assert planner.check_plan(s, d) == []
    levels = exact_levels_certificate(s, d["deliveries"], plan.exact_levels)
    assert len(levels) >= 50
    assert {lv.tier for lv in levels} == {2, 3}
    assert all(lv.rise == 0.0 for lv in levels)
    # the plan's ratios are its exact levels (the float at or just below each)
    got = {(r["municipality"], r["item"], str(r["tier"])): r["ratio"] for r in d["deliveries"]}
    assert set(plan.exact_levels) <= set(got)
    assert all(abs(got[k] - float(v)) <= 1e-12 for k, v in plan.exact_levels.items())

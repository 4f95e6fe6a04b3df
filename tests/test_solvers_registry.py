"""The registry, LinearProgram's checks, and what only HiGHS promises."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from test_solvers import random_lp, wyndor

import solvers
from solvers import Backend, LinearProgram, Result, Status
from solvers import _registry as registry

INF = np.inf
ROOT = Path(__file__).resolve().parents[1]


class Missing(Backend):
    """A backend whose solver is never installed."""

    name = "missing"
    probes = 0

    @classmethod
    def _probe(cls):
        cls.probes += 1
        return False

    def _load(self, lp):
        pass

    def _solve(self, time_limit, method):
        return Result.empty(Status.ERROR, 0, 0)


@pytest.fixture
def with_missing(monkeypatch):
    monkeypatch.setattr(registry, "_BACKENDS", dict(registry._BACKENDS))
    solvers.add(Missing)
    return Missing


def test_builtin_backends_are_listed_default_first():
    assert solvers.list(only_available=False)[:4] == ["highs", "scipy", "pulp", "highs-kept"]
    assert solvers.DEFAULT == "highs" and solvers.list()[0] == "highs"
    assert solvers.available() == {"highs": True, "scipy": True, "pulp": True, "highs-kept": True}


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(
        ValueError, match="unknown solver 'gurobi'; valid: highs, scipy, pulp, highs-kept"
    ):
        solvers.get("gurobi")


def test_names_are_case_insensitive():
    assert isinstance(solvers.get("HiGHS"), solvers.HighsBackend)


def test_unavailable_backend(with_missing):
    assert "missing" not in solvers.list() and "missing" in solvers.list(only_available=False)
    assert solvers.available()["missing"] is False
    with pytest.raises(RuntimeError, match="'missing' is not available here; available: highs"):
        solvers.get("missing")
    assert Missing.probes == 1  # is_available() is cached


def test_add_warns_when_shadowing(with_missing):
    class Other(Missing):
        name = "highs"

    with pytest.warns(UserWarning, match="replaces HighsBackend"):
        solvers.add(Other)
    assert solvers.backend_class("highs") is Other


def test_add_rejects_non_backends():
    with pytest.raises(TypeError):
        solvers.add(dict)


def test_options_are_checked():
    with pytest.raises(ValueError, match="unknown option"):
        solvers.get("highs", pulp_solver="GLPK_CMD")
    with pytest.raises(ValueError, match="method"):
        solvers.get("scipy", method="barrier")
    with pytest.raises(ValueError, match="unknown PuLP solver 'NOPE'"):
        solvers.get("pulp", pulp_solver="NOPE")
    with pytest.raises(RuntimeError, match="not available"):
        solvers.get("pulp", pulp_solver="CPLEX_CMD")


def test_glpk_declares_no_duals():
    be = solvers.get("pulp", pulp_solver="GLPK_CMD")
    assert "duals" not in be.features and "duals" in solvers.PulpBackend.features


class TestLinearProgram:
    def test_coerces_and_freezes(self):
        A = sp.coo_array(([1.0, 2.0, 3.0], ([0, 0, 0], [1, 1, 0])), shape=(1, 2))
        lp = LinearProgram([1, 2], A, [0], [1], [0, 0], [1, 1])
        assert lp.A.format == "csr" and lp.A.toarray().tolist() == [[3, 3]]
        assert (lp.num_rows, lp.num_cols) == (1, 2)
        with pytest.raises(ValueError):
            lp.c[0] = 5
        with pytest.raises(AttributeError):
            lp.sense = "max"

    def test_does_not_touch_the_callers_matrix(self):
        A = sp.csr_array((np.array([1.0, 2.0]), np.array([1, 0]), np.array([0, 2])), shape=(1, 2))
        A.has_sorted_indices = False
        LinearProgram([1, 2], A, [0], [1], [0, 0], [1, 1])
        assert A.indices.tolist() == [1, 0]
        same = sp.csr_array(np.eye(2))
        assert LinearProgram([1, 2], same, [0, 0], [1, 1], [0, 0], [1, 1]).A is same

    @pytest.mark.parametrize(
        "change, message",
        [
            ({"sense": "maximise"}, "sense"),
            ({"row_lower": [0, 0]}, "broadcast"),
            ({"c": [1, np.nan]}, "finite"),
            ({"col_lower": [INF, 0]}, "lower bound is \\+inf"),
            ({"A": np.ones((1, 3))}, "columns"),
            ({"col_names": ["a"]}, "col_names"),
        ],
    )
    def test_rejects(self, change, message):
        args = {"c": [1, 2], "A": np.ones((1, 2)), "row_lower": [0], "row_upper": [1]}
        args |= {"col_lower": [0, 0], "col_upper": [1, 1]} | change
        with pytest.raises(ValueError, match=message):
            LinearProgram(**args)


class TestHighs:
    def test_no_banner_on_stdout(self):
        code = "import solvers; b = solvers.get('highs'); b.load(solvers.LinearProgram([1], [[1]], [1], [2], [0], [5])); print(b.solve().status)"
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        )
        assert out.stdout == "optimal\n"

    def test_solvers_imports_nothing_of_ours(self):
        code = "import sys, solvers; print(sorted({'planner', 'models', 'api'} & set(sys.modules)))"
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        )
        assert out.stdout == "[]\n"

    def test_warm_start(self):
        lp = random_lp(7, m=300, n=400)
        be = solvers.get("highs", method="simplex")
        be.load(lp)
        cold = be.solve()
        assert cold.ok and cold.iterations > 0
        assert be.solve().iterations == 0  # nothing changed: the basis is still optimal
        be.set_objective(lp.c * 1.01, lp.sense, lp.offset)
        warm = be.solve()
        fresh = solvers.get("highs", method="simplex")
        fresh.load(be.lp)
        assert warm.objective == pytest.approx(fresh.solve().objective)
        assert warm.iterations < cold.iterations

    def test_ipm_gives_duals_and_a_basis(self):
        lp, want = wyndor("max")
        be = solvers.get("highs", method="ipm", threads=1)
        be.load(lp)
        res = be.solve()
        assert res.row_duals == pytest.approx(want["row_duals"], abs=1e-7)
        assert be.solve(method="simplex").iterations == 0

    def test_native_iis_is_used(self, monkeypatch):
        from solvers import _iis

        monkeypatch.setattr(_iis, "elastic_iis", lambda *a, **k: pytest.fail("fell back"))
        be = solvers.get("highs")
        be.load(LinearProgram([0, 0], [[1, 1]], [-INF], [1], [1, 1], [INF, INF]))
        rows, cols = be.iis()
        assert list(rows) == [0] and list(cols) == [0, 1]
        assert be.solve().status is Status.INFEASIBLE  # the model is as it was
        be.set_col_bounds([0, 1], 0, INF)
        assert be.solve().status is Status.OPTIMAL

    def test_large_load_is_one_call(self):
        """A million non-zeros load and solve in well under a second each (no per-row loops)."""
        m = n = 100_000
        rng = np.random.default_rng(0)
        A = sp.random(m, n, density=10 / n, random_state=rng, format="csr")
        lp = LinearProgram(-np.ones(n), A, np.full(m, -INF), np.ones(m), np.zeros(n), np.ones(n))
        be = solvers.get("highs")
        be.load(lp)
        rows = be.add_rows(
            sp.random(10, n, density=0.01, random_state=rng, format="csr"), -INF, 1.0
        )
        assert rows[0] == m and be.lp.num_rows == m + 10

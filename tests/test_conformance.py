"""Conformance: every available backend gives the same stage objectives on the examples.

Stage values (min ratio per tier, least labour, the highest labour share, least
transport labour) are unique even where the plans themselves are not, so they
are what must agree, within 1e-6 relative.
"""

from pathlib import Path

import pytest

import models
import planner
import solvers

ROOT = Path(__file__).resolve().parents[1]

BACKENDS = [
    pytest.param("highs", {}, id="highs"),
    pytest.param("scipy", {}, id="scipy"),
    pytest.param("highs-kept", {}, id="highs-kept"),
    pytest.param("pulp", {"pulp_solver": "PULP_CBC_CMD"}, id="pulp-cbc"),
    pytest.param("pulp", {"pulp_solver": "COIN_CMD"}, id="pulp-coin-cbc"),
    pytest.param("pulp", {"pulp_solver": "GLPK_CMD"}, id="pulp-glpk"),
]
# Solvers PuLP drives read the programme from a file and write their solution with
# about 8 significant digits (CBC: 0.18188657 where HiGHS gives 0.1818862275), so the
# engine holds each stage's optimum with a slack of 1e-7 for them (1e-9 in memory);
# through six stages that moves the last stage's value by about 1.2e-5 (measured on
# valley: min_transport 10494.7076 vs 10494.5857). In-memory backends agree to 1e-6.
REL = {"highs": 1e-6, "highs-kept": 1e-6, "scipy": 1e-6, "pulp": 1e-4}


def _cases():
    from models.generator import generate

    return {
        "valley": models.load(ROOT / "data" / "valley"),
        "generated": generate(municipalities=8, goods=6, seed=11),
    }


@pytest.fixture(scope="module")
def reference():
    cases = _cases()
    return cases, {k: planner.solve(s, solver="highs") for k, s in cases.items()}


@pytest.mark.parametrize("name,options", BACKENDS)
def test_backends_agree_on_stage_values(reference, name, options):
    cls = solvers.backend_class(name)
    if not cls.is_available():
        pytest.skip(f"backend {name} is not installed here")
    if "pulp_solver" in options:
        import pulp

        if options["pulp_solver"] not in pulp.listSolvers(onlyAvailable=True):
            pytest.skip(f"PuLP solver {options['pulp_solver']} is not installed here")
    cases, ref = reference
    for key, s in cases.items():
        if name == "pulp" and key == "generated":
            # Known limit, measured: on this badly scaled instance (coefficients 0.008 to
            # 1.1e6) CBC's 8-digit solutions give tier 2 = 0.478666 and GLPK 0.477033
            # against 0.478810 in memory; file-based solvers are compared on valley only.
            continue
        plan = planner.solve(s, solver=name, **options)
        assert plan.status == ref[key].status, key
        for a, b in zip(plan.stages, ref[key].stages, strict=True):
            assert a["name"] == b["name"]
            if b["value"] is None:
                assert a["value"] is None
            else:
                assert a["value"] == pytest.approx(b["value"], rel=REL[name], abs=REL[name]), (
                    key,
                    a["name"],
                )

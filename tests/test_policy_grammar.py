"""One grammar of rules and stages: what validation accepts is planned, what it refuses
is refused everywhere (validation, planner, command line, API) with one message."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from planner_cases import towns
from typer.testing import CliRunner

import models
import planner
from planner.cli import app

NAMES = [
    "needs:tier1",
    "needs:tier2",
    "needs:tier3",
    "needs:full",
    "leximin:tier2",
    "utilitarian:tier1",
    "proportional:tier3",
    "equal_per_capita:tier2",
    "min_labour",
    "fair_burden",
    "min_transport",
    # refused
    "needs:tier4",
    "min_labour_full:tier1",
    "needs",
    "tier1",
    "leximin",
    "",
]
RULES = [*models.RULES, "nope"]


def scenario(policy: dict | None = None):
    return towns(
        names=("a", "b"),
        items=(("grain", "good"),),
        processes=(("farm", 1.0),),
        io=(("farm", "grain", 1.0),),
        capacities=(("a", "farm", 5.0),),
        needs=(("a", "grain", 1, 2.0), ("b", "grain", 2, 2.0), ("b", "grain", 3, 9.0)),
        links=(("a", "b", 0.1, "", 0.0, True),),
        policy=policy,
    )


def grammar_message(rule, stages) -> str | None:
    try:
        models.stage_list(rule, stages)
    except models.PolicyError as exc:
        return str(exc)
    return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rule=st.sampled_from(RULES),
    stages=st.one_of(st.none(), st.lists(st.sampled_from(NAMES), max_size=5)),
)
def test_accepted_lists_are_planned_and_refused_ones_refused_alike(rule, stages):
    message = grammar_message(rule, stages)
    # validation of scenario.yaml
    try:
        models.Policy(rule=rule, stages=stages)
        accepted = True
    except Exception as exc:  # pydantic's ValidationError
        accepted = False
        assert message is not None and message in str(exc)
    assert accepted == (message is None)
    # the planner, on a scenario with the default policy
    s = scenario()
    if accepted:
        plan = planner.solve(s, rule=rule, stages=stages)
        assert plan.status in ("optimal", "shortfall", "infeasible")
        names = [st_.name for st_ in models.stage_list(rule, stages)]
        assert [x["name"] for x in plan.to_dict()["stages"]][: len(names)] == names or (
            plan.status == "infeasible"
        )
    else:
        with pytest.raises(models.PolicyError) as info:
            planner.solve(s, rule=rule, stages=stages)
        assert str(info.value) == message


def test_refused_rule_reads_the_same_on_cli_and_api(tmp_path):
    message = grammar_message("nope", None)
    s = scenario()
    folder = tmp_path / "s"
    models.save(s, folder)
    r = CliRunner().invoke(app, ["solve", str(folder), "--rule", "nope"])
    assert r.exit_code == 2
    assert message in " ".join(r.output.split())
    from api.config import Settings
    from api.errors import Invalid
    from api.services.plans import check_options

    with pytest.raises(Invalid) as info:
        check_options(Settings(), "nope", "highs", 10)
    assert info.value.problems == [f"body:0: rule: {message}"]


def test_refused_stages_in_scenario_yaml_name_the_field(tmp_path):
    folder = tmp_path / "s"
    models.save(scenario(), folder)
    (folder / "scenario.yaml").write_text(
        "name: x\npolicy:\n  stages: [needs:tier1, min_labour_full:tier1]\n"
    )
    with pytest.raises(models.ScenarioError) as info:
        models.load(folder)
    text = "\n".join(str(p) for p in info.value.problems)
    expected = grammar_message("leximin", ["needs:tier1", "min_labour_full:tier1"])
    assert f"policy.stages: {expected}" in text

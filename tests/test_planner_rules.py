"""Known answers for every rule, each derived by hand in its docstring.

Every plan made here also passes the plan checker (tests/conftest.py).
"""

import pytest

import planner
from tests.planner_cases import link, ratios, towns

APPROX = {"rel": 1e-6, "abs": 1e-7}


def scarce_grain(**kw):
    """80 t of grain at a; a needs 60, b needs 40 (tier 1); free transport.

    Populations: a 300, b 100.
    """
    return towns(
        population={"a": 300, "b": 100},
        endowments=[("a", "grain", 80)],
        needs=[("a", "grain", 1, 60), ("b", "grain", 1, 40)],
        links=[link("a", "b")],
        **kw,
    )


def test_leximin_shares_scarcity_in_proportion_to_need():
    """Leximin: 60 r_a + 40 r_b <= 80 with r_a = r_b at the optimum -> r = 80/100 = 0.8."""
    plan = planner.solve(scarce_grain())
    r = ratios(plan)
    assert r[("a", "grain", 1)] == pytest.approx(0.8, **APPROX)
    assert r[("b", "grain", 1)] == pytest.approx(0.8, **APPROX)
    assert plan.status == "shortfall"
    assert plan.metrics["min_ratio"]["1"] == pytest.approx(0.8, **APPROX)
    assert plan.metrics["unmet_tier1"] == pytest.approx(20, **APPROX)
    assert plan.stages[0]["name"] == "needs:tier1"
    # one saturation round: the level's LP, and one LP verifying that neither need can
    # rise without the other falling (both sit on the floor)
    assert plan.stages[0]["levels"] == [pytest.approx(0.8, **APPROX)]
    assert plan.stages[0]["solves"] == 2


def test_utilitarian_serves_the_cheapest_ratio_first():
    """max r_a + r_b s.t. 60 r_a + 40 r_b <= 80: a unit of grain buys 1/40 of b's ratio but
    only 1/60 of a's, so r_b = 1 (40 t) and r_a = 40/60 = 2/3; sum = 5/3."""
    plan = planner.solve(scarce_grain(), rule="utilitarian")
    r = ratios(plan)
    assert r[("b", "grain", 1)] == pytest.approx(1.0, **APPROX)
    assert r[("a", "grain", 1)] == pytest.approx(2 / 3, **APPROX)
    assert plan.stages[0]["value"] == pytest.approx(5 / 3, **APPROX)


def test_equal_per_capita_equalises_delivery_per_head():
    """Per head: d_a/300 = d_b/100 and d_a + d_b = 80 -> d_b = 20, d_a = 60 (0.2 t a head):
    r_a = 60/60 = 1, r_b = 20/40 = 0.5 (capped by a's declared need, which is met)."""
    plan = planner.solve(scarce_grain(), rule="equal_per_capita")
    r = ratios(plan)
    assert r[("a", "grain", 1)] == pytest.approx(1.0, **APPROX)
    assert r[("b", "grain", 1)] == pytest.approx(0.5, **APPROX)


def bottleneck(**kw):
    """20 t of grain at a; a and b each need 10; the link a->b carries at most 2 t."""
    return towns(
        endowments=[("a", "grain", 20)],
        needs=[("a", "grain", 1, 10), ("b", "grain", 1, 10)],
        links=[link("a", "b", capacity=2)],
        **kw,
    )


def test_leximin_raises_the_rest_after_the_worst_off_is_blocked():
    """b can get at most 2 (link capacity): r_b = 0.2 is the first saturation level; then a,
    no longer held back, rises to 1. Two distinct levels -> two LP solves, not one per need."""
    plan = planner.solve(bottleneck())
    r = ratios(plan)
    assert r[("b", "grain", 1)] == pytest.approx(0.2, **APPROX)
    assert r[("a", "grain", 1)] == pytest.approx(1.0, **APPROX)
    st = plan.stages[0]
    assert st["levels"] == pytest.approx([0.2, 1.0], **APPROX)
    assert st["solves"] == 2
    # the link was what limited b: it is binding in stage 1 with a positive dual
    # (one more unit of link capacity raises the floor by 1/10)
    b = plan.binding
    row = b[(b["stage"] == "needs:tier1") & (b["kind"] == "link")]
    assert len(row) == 1 and row["dual"].iloc[0] == pytest.approx(0.1, **APPROX)


def test_proportional_gives_everyone_the_same_ratio_even_if_goods_stay_unused():
    """Proportional rationing: one common ratio, the largest: b's link caps it at 0.2, so a
    also gets 0.2 (2 t) and 16 t of grain stay at a undelivered."""
    plan = planner.solve(bottleneck(), rule="proportional")
    r = ratios(plan)
    assert r[("a", "grain", 1)] == pytest.approx(0.2, **APPROX)
    assert r[("b", "grain", 1)] == pytest.approx(0.2, **APPROX)


def test_tiers_are_served_in_order():
    """30 t at a: b's vital need (20) is served in full before a's standard need (30): then
    a gets the remaining 10 t, r = 1/3, although the utilitarian sum would not care."""
    s = towns(
        endowments=[("a", "grain", 30)],
        needs=[("a", "grain", 2, 30), ("b", "grain", 1, 20)],
        links=[link("a", "b")],
    )
    r = ratios(planner.solve(s))
    assert r[("b", "grain", 1)] == pytest.approx(1.0, **APPROX)
    assert r[("a", "grain", 2)] == pytest.approx(1 / 3, **APPROX)


def farming(**kw):
    """Grain from land: 'organic' 3 h and 1 ha a tonne; 'intensive' 1 h, 0.5 ha and 1 t CO2."""
    base = dict(
        items=(("grain", "good"), ("land", "resource"), ("co2", "emission")),
        processes=(("organic", 3), ("intensive", 1)),
        io=(
            ("organic", "grain", 1),
            ("organic", "land", -1),
            ("intensive", "grain", 1),
            ("intensive", "land", -0.5),
            ("intensive", "co2", 1),
        ),
        capacities=(("a", "organic", ""), ("a", "intensive", "")),
        endowments=(("a", "land", 100),),
        needs=(("a", "grain", 1, 60),),
    )
    base.update(kw)
    return towns(names=("a",), **base)


def test_min_labour_chooses_the_technique_and_the_co2_cap_binds():
    """Without a cap: 60 t intensive = 60 h. With CO2 <= 20: 20 t intensive (20 h) and 40 t
    organic (120 h) = 140 h; land 10 + 40 = 50 ha <= 100. Labour value of grain (dual of its
    balance in min_labour): one more tonne must be organic = 3 h. The CO2 limit's dual:
    one more tonne of CO2 lets 1 t move from organic to intensive, saving 2 h -> -2."""
    free = planner.solve(farming())
    assert free.metrics["total_labour"] == pytest.approx(60, **APPROX)
    capped = planner.solve(farming(limits=(("co2", "c", 20),)))
    assert capped.metrics["total_labour"] == pytest.approx(140, **APPROX)
    prod = {r.process: r.level for r in capped.production.itertuples()}
    assert prod["intensive"] == pytest.approx(20, **APPROX)
    assert prod["organic"] == pytest.approx(40, **APPROX)
    price = capped.prices.set_index(["municipality", "item"])["labour_value"]
    assert price[("a", "grain")] == pytest.approx(3, **APPROX)
    b = capped.binding
    lim = b[(b["stage"] == "min_labour") & (b["kind"] == "limit")]
    assert lim["dual"].iloc[0] == pytest.approx(-2, **APPROX)
    assert capped.limits["amount"].iloc[0] == pytest.approx(20, **APPROX)


def test_fair_burden_spreads_work_by_ability():
    """c needs 100 t, made at 2 h a tonne in a (1000 h) or b (500 h): total labour is 200 h
    either way; the fair split equalises shares: 2 q_a/1000 = 2 q_b/500, q_a + q_b = 100
    -> q_a = 200/3, q_b = 100/3, both shares 2/15."""
    s = towns(
        names=("a", "b", "cc"),
        labour={"a": 1000, "b": 500, "cc": 0},
        processes=(("farm", 2),),
        io=(("farm", "grain", 1),),
        capacities=(("a", "farm", ""), ("b", "farm", "")),
        needs=(("cc", "grain", 1, 100),),
        links=(link("a", "cc"), link("b", "cc")),
    )
    plan = planner.solve(s)
    lab = plan.labour.set_index("municipality")
    assert lab.loc["a", "share"] == pytest.approx(2 / 15, **APPROX)
    assert lab.loc["b", "share"] == pytest.approx(2 / 15, **APPROX)
    assert plan.metrics["total_labour"] == pytest.approx(200, **APPROX)
    assert plan.metrics["max_share"] == pytest.approx(2 / 15, **APPROX)


def test_transport_loss_and_labour():
    """b needs 9 t from a over a link losing 10 % with 0.5 h a tonne: 10 t leave a (5 h)."""
    s = towns(
        endowments=[("a", "grain", 50)],
        needs=[("b", "grain", 1, 9)],
        links=[link("a", "b", labour=0.5, loss=0.1, both=False)],
    )
    plan = planner.solve(s)
    f = plan.flows.iloc[0]
    assert (f["from"], f["to"]) == ("a", "b")
    assert f["quantity"] == pytest.approx(10, **APPROX)
    assert f["arrived"] == pytest.approx(9, **APPROX)
    assert plan.metrics["total_labour"] == pytest.approx(5, **APPROX)
    assert plan.status == "optimal"


def test_min_labour_full_and_its_infeasibility():
    """Full: 60 + 40 t of organic grain at a (3 h each) + 40 t moved at 0.5 h = 320 h. With only
    50 ha of land the needs (100 t, 1 ha each) cannot all be met: infeasible, and the
    conflict names the land balance and the needs."""
    kw = dict(
        names=("a", "b"),
        processes=(("organic", 3),),
        io=(("organic", "grain", 1), ("organic", "land", -1)),
        items=(("grain", "good"), ("land", "resource")),
        capacities=(("a", "organic", ""),),
        needs=(("a", "grain", 1, 60), ("b", "grain", 2, 40)),
        links=(link("a", "b", labour=0.5),),
    )
    ok = planner.solve(towns(endowments=(("a", "land", 100),), **kw), rule="min_labour_full")
    assert ok.status == "optimal"
    assert ok.metrics["total_labour"] == pytest.approx(320, **APPROX)
    bad = planner.solve(towns(endowments=(("a", "land", 50),), **kw), rule="min_labour_full")
    assert bad.status == "infeasible"
    text = " | ".join(bad.conflicts)
    assert "balance land of a" in text
    assert "need grain tier 1 of a" in text or "need grain tier 2 of b" in text


def test_mandates_bind_and_conflicts_are_named():
    """a may export at most 10 t (max_export): b's need of 40 gets only 10 (r_b = 0.25) while
    a keeps 60 for itself. The mandate is binding in tier 1 with dual 1/40 (one more tonne
    exported raises b's ratio, the floor, by 1/40)."""
    s = scarce_grain(mandates=[("a", "max_export", "grain", 10)])
    plan = planner.solve(s)
    r = ratios(plan)
    assert r[("b", "grain", 1)] == pytest.approx(0.25, **APPROX)
    assert r[("a", "grain", 1)] == pytest.approx(1.0, **APPROX)
    b = plan.binding
    m = b[(b["stage"] == "needs:tier1") & (b["kind"] == "mandate")]
    assert m["where"].iloc[0] == "max_export grain of a"
    assert m["dual"].iloc[0] == pytest.approx(1 / 40, **APPROX)

    # b must make all its grain at home (min_local_share 1) but has no farm: infeasible
    s2 = scarce_grain(mandates=[("b", "min_local_share", "grain", 1.0)])
    plan2 = planner.solve(s2)
    assert plan2.status == "infeasible"
    assert "mandate min_local_share grain of b" in plan2.conflicts


def test_custom_stage_list_and_tolerance():
    """policy.stages puts min_labour before tier 2: the plan then serves tier 2 only with what
    the least-labour plan of tier 1 leaves (here nothing is produced for it)."""
    s = towns(
        names=("a",),
        processes=(("farm", 1),),
        io=(("farm", "grain", 1),),
        capacities=(("a", "farm", ""),),
        needs=(("a", "grain", 1, 10), ("a", "grain", 2, 10)),
        policy={"stages": ["needs:tier1", "min_labour", "needs:tier2"]},
    )
    plan = planner.solve(s)
    r = ratios(plan)
    assert r[("a", "grain", 1)] == pytest.approx(1.0, **APPROX)
    assert r[("a", "grain", 2)] == pytest.approx(0.0, abs=1e-6)
    assert [x["name"] for x in plan.stages] == ["needs:tier1", "min_labour", "needs:tier2"]
    default = planner.solve(s, rule="leximin", stages=None)
    assert ratios(default)[("a", "grain", 2)] == pytest.approx(1.0, **APPROX)


def test_unknown_rule_lists_the_valid_ones():
    with pytest.raises(planner.PolicyError, match="valid rules: leximin"):
        planner.solve(scarce_grain(), rule="greedy")


def test_fair_burden_skips_shares_that_cannot_move():
    """c needs 300 t, farmed at 2 h a tonne in a (200 h) or b (400 h): only 100 + 200 = 300 t
    can be made, so the need takes every hour and both shares are 1 in every plan. The
    least-labour stage already fixes both labour rows (their duals are non-zero), so
    fair_burden has no share left to move: it spends no LP solve on them (it used to spend
    one round per municipality at level 1, the floor row's dual being 0 beside the labour
    row it duplicates there)."""
    s = towns(
        names=("a", "b", "cc"),
        labour={"a": 200, "b": 400, "cc": 0},
        processes=(("farm", 2),),
        io=(("farm", "grain", 1),),
        capacities=(("a", "farm", ""), ("b", "farm", "")),
        needs=(("cc", "grain", 1, 300),),
        links=(link("a", "cc"), link("b", "cc")),
    )
    plan = planner.solve(s)
    lab = plan.labour.set_index("municipality")
    assert lab.loc["a", "share"] == pytest.approx(1, **APPROX)
    assert lab.loc["b", "share"] == pytest.approx(1, **APPROX)
    fb = next(st for st in plan.stages if st["name"] == "fair_burden")
    assert fb["value"] == pytest.approx(1, **APPROX)
    # one round at most (a verification LP confirms that neither share can fall)
    assert fb["rounds"] == len(fb["levels"]) <= 1
    assert fb["solves"] <= 2


def test_fair_burden_a_mandate_at_the_level_saturates():
    """a (1000 h) may work at most 10 % of its hours (mandate); b has 1000 h; c needs 100 t at
    2 h a tonne. Least labour: 200 h in all, however split. Fair burden equalises the shares:
    2 q_a / 1000 = 2 q_b / 1000 with q_a + q_b = 100 -> q = 50 t each, both shares 0.1, which
    is exactly a's mandate: one level, one LP solve, whichever of the two identical rows
    (a's floor, a's mandate) the solver puts the dual on."""
    s = towns(
        names=("a", "b", "cc"),
        labour={"a": 1000, "b": 1000, "cc": 0},
        processes=(("farm", 2),),
        io=(("farm", "grain", 1),),
        capacities=(("a", "farm", ""), ("b", "farm", "")),
        needs=(("cc", "grain", 1, 100),),
        links=(link("a", "cc"), link("b", "cc")),
        mandates=(("a", "max_labour_share", "", 0.1),),
    )
    plan = planner.solve(s)
    lab = plan.labour.set_index("municipality")
    assert lab.loc["a", "share"] == pytest.approx(0.1, **APPROX)
    assert lab.loc["b", "share"] == pytest.approx(0.1, **APPROX)
    fb = next(st for st in plan.stages if st["name"] == "fair_burden")
    assert fb["levels"] == pytest.approx([0.1], **APPROX)
    assert fb["rounds"] == 1
    assert fb["solves"] <= 2  # the round and its verification LP


def test_fair_burden_takes_one_round_per_level_on_a_generated_plan():
    """Generated 20 towns x 30 goods, seed 1: several municipalities use all their hours in
    every least-labour plan. fair_burden took 20 LP solves for 19 distinct levels before
    their fixed labour rows were recognised; now each round finds a new level."""
    from models.generator import generate

    plan = planner.solve(generate(20, 30, 1))
    fb = next(st for st in plan.stages if st["name"] == "fair_burden")
    assert fb["rounds"] == len(fb["levels"])
    assert fb["rounds"] < 20

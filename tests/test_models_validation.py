"""Validation: every problem at once, as file:row: column: message."""

from __future__ import annotations

import pandas as pd
import pytest
from models_fixtures import META, errors_of, tables, valley

import models


def one_error(source=None, meta=META, **changes) -> str:
    """The single error the changed fixture raises."""
    errors = errors_of(meta, tables(**changes), source)
    assert len(errors) == 1, errors
    return errors[0]


def add(table: str, *rows: dict) -> dict:
    """The fixture's table plus some rows (which get rows n+2... in CSV terms)."""
    return {table: tables()[table] + list(rows)}


MUN = {"confederation": "north", "population": 1, "labour_hours": 1}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # unknown ids, one per kind of reference
        (
            add("municipalities", {"id": "dale", **MUN, "confederation": "south"}),
            "municipalities.csv:5: confederation: unknown confederation 'south'",
        ),
        (
            add("confederations", {"id": "east", "parent": "westt"}),
            "confederations.csv:4: parent: unknown confederation 'westt'",
        ),
        (
            add("needs", {"municipality": "ashfrod", "item": "grain", "tier": 1, "quantity": 1}),
            "needs.csv:6: municipality: unknown municipality 'ashfrod' (did you mean 'ashford'?)",
        ),
        (
            add("endowments", {"municipality": "brook", "item": "salt", "quantity": 1}),
            "endowments.csv:4: item: unknown item 'salt'",
        ),
        (
            add("capacities", {"municipality": "brook", "process": "mill"}),
            "capacities.csv:5: process: unknown process 'mill'",
        ),
        (
            add("process_io", {"process": "mill", "item": "grain", "quantity": 1}),
            "process_io.csv:7: process: unknown process 'mill'",
        ),
        (
            add("limits", {"item": "co2", "scope": "mars", "cap": 1}),
            "limits.csv:4: scope: unknown municipality or confederation 'mars'",
        ),
        (
            add("links", {"from": "brook", "to": "dale", "labour_per_unit": 1}),
            "links.csv:4: to: unknown municipality 'dale'",
        ),
        (
            add(
                "mandates",
                {"municipality": "ashford", "kind": "max_export", "target": "salt", "value": 1},
            ),
            "mandates.csv:6: target: unknown item 'salt'",
        ),
        (
            add(
                "mandates", {"municipality": "ashford", "kind": "forbid_process", "target": "mill"}
            ),
            "mandates.csv:6: target: unknown process 'mill'",
        ),
        # duplicates
        (
            add("municipalities", {"id": "brook", **MUN}),
            "municipalities.csv:5: id: duplicate id 'brook' (first at row 3)",
        ),
        (
            add("items", {"id": "co2", "kind": "emission"}),
            "items.csv:6: id: duplicate id 'co2' (first at row 5)",
        ),
        (
            add("needs", {"municipality": "brook", "item": "bread", "tier": 1, "per_capita": 1}),
            "needs.csv:6: municipality/item/tier: duplicate row for the same municipality, item and "
            "tier (first at row 3)",
        ),
        (
            add("endowments", {"municipality": "ashford", "item": "water", "quantity": 1}),
            "endowments.csv:4: municipality/item: duplicate row for the same municipality and item "
            "(first at row 2)",
        ),
        (
            add("capacities", {"municipality": "brook", "process": "farm", "max_level": 3}),
            "capacities.csv:5: municipality/process: duplicate row for the same municipality and "
            "process (first at row 3)",
        ),
        (
            add("links", {"from": "ashford", "to": "brook", "labour_per_unit": 1}),
            "links.csv:4: from/to: duplicate row for the same from and to (first at row 2)",
        ),
        (
            add(
                "links",
                {"from": "brook", "to": "ashford", "labour_per_unit": 1, "both_ways": False},
            ),
            "links.csv:4: from/to: duplicates the link in row 2 (a both-ways link already runs in "
            "both directions)",
        ),
        (
            add("limits", {"item": "co2", "scope": "valley", "cap": 5}),
            "limits.csv:4: item/scope: duplicate row for the same item and scope (first at row 2)",
        ),
        (
            add("mandates", {"municipality": "brook", "kind": "max_labour_share", "value": 0.5}),
            "mandates.csv:6: municipality/kind/target: duplicate row for the same municipality, kind "
            "and target (first at row 4)",
        ),
        # numbers
        (
            add("endowments", {"municipality": "brook", "item": "water", "quantity": -2}),
            "endowments.csv:4: quantity: must not be negative (got -2)",
        ),
        (
            add("endowments", {"municipality": "brook", "item": "water", "quantity": "12,5"}),
            "endowments.csv:4: quantity: not a number: '12,5'",
        ),
        (
            add("endowments", {"municipality": "brook", "item": "water", "quantity": "NaN"}),
            "endowments.csv:4: quantity: NaN is not allowed",
        ),
        (
            add("endowments", {"municipality": "brook", "item": "water", "quantity": float("inf")}),
            "endowments.csv:4: quantity: must be finite (not inf)",
        ),
        (
            add("limits", {"item": "water", "scope": "brook", "cap": "-inf"}),
            "limits.csv:4: cap: must be finite (not -inf)",
        ),
        (
            add("municipalities", {"id": "dale", **MUN, "population": -5}),
            "municipalities.csv:5: population: must not be negative (got -5)",
        ),
        (
            add("municipalities", {"id": "dale", **MUN, "labour_hours": -0.5}),
            "municipalities.csv:5: labour_hours: must not be negative (got -0.5)",
        ),
        (
            add("processes", {"id": "mill", "labour_hours": -1}),
            "processes.csv:4: labour_hours: must not be negative (got -1)",
        ),
        (
            add("capacities", {"municipality": "ashford", "process": "bake", "max_level": -1}),
            "capacities.csv:5: max_level: must not be negative (got -1)",
        ),
        (
            add("links", {"from": "carden", "to": "ashford", "labour_per_unit": 1, "capacity": -3}),
            "links.csv:4: capacity: must not be negative (got -3)",
        ),
        # needs
        (
            add("needs", {"municipality": "brook", "item": "co2", "tier": 1, "quantity": 1}),
            "needs.csv:6: item: a need for an emission (emissions are capped by limits, not needed)",
        ),
        (
            add(
                "needs",
                {
                    "municipality": "brook",
                    "item": "grain",
                    "tier": 1,
                    "quantity": 1,
                    "per_capita": 1,
                },
            ),
            "needs.csv:6: per_capita: give quantity or per_capita, not both",
        ),
        (
            add("needs", {"municipality": "brook", "item": "grain", "tier": 1}),
            "needs.csv:6: quantity: give quantity or per_capita",
        ),
        (
            add("needs", {"municipality": "brook", "item": "grain", "tier": 4, "quantity": 1}),
            "needs.csv:6: tier: must be 1, 2 or 3 (got 4)",
        ),
        (
            add("needs", {"municipality": "brook", "item": "grain", "tier": 0, "quantity": 1}),
            "needs.csv:6: tier: must be 1, 2 or 3 (got 0)",
        ),
        (
            add("needs", {"municipality": "brook", "item": "grain", "tier": 1.5, "quantity": 1}),
            "needs.csv:6: tier: must be a whole number (got 1.5)",
        ),
        (
            add(
                "needs", {"municipality": "brook", "item": "grain", "tier": "vital", "quantity": 1}
            ),
            "needs.csv:6: tier: not a number: 'vital'",
        ),
        (
            add("needs", {"municipality": "brook", "item": "grain", "tier": 1, "per_capita": -1}),
            "needs.csv:6: per_capita: must not be negative (got -1)",
        ),
        # items, tree, links, limits
        (
            add("items", {"id": "salt", "kind": "mineral"}),
            "items.csv:6: kind: unknown kind 'mineral' (known: good, resource, emission)",
        ),
        (
            add("items", {"id": "salt", "kind": "good", "transportable": "maybe"}),
            "items.csv:6: transportable: not a boolean: 'maybe' (use true/false, yes/no or 1/0)",
        ),
        (
            add("confederations", {"id": "east", "parent": ""}),
            "confederations.csv:4: parent: more than one root: 'east' and 'valley' both have no "
            "parent",
        ),
        (
            add("links", {"from": "carden", "to": "carden", "labour_per_unit": 1}),
            "links.csv:4: to: a link to itself",
        ),
        (
            add("links", {"from": "carden", "to": "ashford", "labour_per_unit": 1, "loss": 1}),
            "links.csv:4: loss: must be at least 0 and below 1 (got 1)",
        ),
        (
            add("links", {"from": "carden", "to": "ashford", "labour_per_unit": 1, "loss": -0.1}),
            "links.csv:4: loss: must be at least 0 and below 1 (got -0.1)",
        ),
        (
            add(
                "links", {"from": "carden", "to": "ashford", "labour_per_unit": 1, "both_ways": "2"}
            ),
            "links.csv:4: both_ways: not a boolean: '2' (use true/false, yes/no or 1/0)",
        ),
        (
            add("limits", {"item": "grain", "scope": "valley", "cap": 5}),
            "limits.csv:4: item: a limit on a good (limits are for emissions and resources)",
        ),
        (
            add("process_io", {"process": "bake", "item": "co2", "quantity": -1}),
            "process_io.csv:7: quantity: an emission can only be an output (quantity > 0)",
        ),
        # mandates
        (
            add(
                "mandates",
                {"municipality": "ashford", "kind": "max_import", "target": "grain", "value": 1},
            ),
            "mandates.csv:6: kind: unknown kind 'max_import' (known: max_export, min_local_share, "
            "max_labour_share, forbid_process)",
        ),
        (
            add(
                "mandates",
                {"municipality": "ashford", "kind": "max_export", "target": "farm", "value": 1},
            ),
            "mandates.csv:6: target: max_export needs an item; 'farm' is a process",
        ),
        (
            add(
                "mandates", {"municipality": "ashford", "kind": "forbid_process", "target": "grain"}
            ),
            "mandates.csv:6: target: forbid_process needs a process; 'grain' is an item",
        ),
        (
            add("mandates", {"municipality": "ashford", "kind": "min_local_share", "value": 0.5}),
            "mandates.csv:6: target: min_local_share needs a target item",
        ),
        (
            add("mandates", {"municipality": "ashford", "kind": "forbid_process"}),
            "mandates.csv:6: target: forbid_process needs a target process",
        ),
        (
            add(
                "mandates",
                {
                    "municipality": "ashford",
                    "kind": "max_labour_share",
                    "target": "grain",
                    "value": 0.5,
                },
            ),
            "mandates.csv:6: target: max_labour_share takes no target (it limits all labour)",
        ),
        (
            add("mandates", {"municipality": "ashford", "kind": "max_labour_share", "value": 1.5}),
            "mandates.csv:6: value: a share must be between 0 and 1 (got 1.5)",
        ),
        (
            add(
                "mandates",
                {
                    "municipality": "ashford",
                    "kind": "min_local_share",
                    "target": "bread",
                    "value": -0.5,
                },
            ),
            "mandates.csv:6: value: a share must be between 0 and 1 (got -0.5)",
        ),
        (
            add("mandates", {"municipality": "ashford", "kind": "max_labour_share"}),
            "mandates.csv:6: value: max_labour_share needs a value",
        ),
        (
            add(
                "mandates",
                {"municipality": "brook", "kind": "max_export", "target": "grain", "value": -1},
            ),
            "mandates.csv:6: value: must not be negative (got -1)",
        ),
        # ids and missing values
        (
            add("municipalities", {"id": "dale hill", **MUN}),
            "municipalities.csv:5: id: not a valid id 'dale hill' (use letters, digits, _ - . only)",
        ),
        (
            add("items", {"id": "salt/fine", "kind": "good"}),
            "items.csv:6: id: not a valid id 'salt/fine' (use letters, digits, _ - . only)",
        ),
        (
            add("municipalities", {"id": "dale", "confederation": "north", "population": 1}),
            "municipalities.csv:5: labour_hours: missing value",
        ),
        (add("processes", {"id": "mill"}), "processes.csv:4: labour_hours: missing value"),
        (add("limits", {"item": "co2", "scope": "north"}), "limits.csv:4: cap: missing value"),
        (
            add("links", {"from": "carden", "to": "ashford"}),
            "links.csv:4: labour_per_unit: missing value",
        ),
        (add("items", {"id": "", "kind": "good"}), "items.csv:6: id: missing value"),
    ],
)
def test_one_fault_one_message(change, expected):
    assert one_error(**change) == expected


def test_cycles_in_the_tree():
    errors = errors_of(
        META,
        tables(
            confederations=[
                {"id": "valley", "parent": ""},
                {"id": "north", "parent": "valley"},
                {"id": "a", "parent": "b"},
                {"id": "b", "parent": "a"},
                {"id": "self", "parent": "self"},
            ]
        ),
    )
    assert errors == [
        "confederations.csv:4: parent: cycle in the confederation tree: a -> b -> a",
        "confederations.csv:5: parent: cycle in the confederation tree: a -> b -> a",
        "confederations.csv:6: parent: cycle in the confederation tree: self -> self",
    ]


def test_municipality_and_confederation_ids_may_not_clash():
    assert (
        one_error(**add("municipalities", {"id": "north", **MUN}))
        == "municipalities.csv:5: id: 'north' is also a confederation id"
    )


def test_without_confederations_all_municipalities_share_one_root():
    t = tables(confederations=[], limits=[])
    t["municipalities"][2]["confederation"] = "valley"
    assert errors_of(META, t) == [
        "municipalities.csv:4: confederation: no confederations table, so every municipality "
        "must name the same (root) confederation as the first ('north')",
    ]


def test_every_problem_is_reported_at_once_in_file_order():
    t = tables()
    t["needs"].append({"municipality": "zed", "item": "co2", "tier": 9, "quantity": -1})
    t["items"].append({"id": "x y", "kind": "good"})
    t["links"].append({"from": "brook", "to": "brook", "labour_per_unit": "fast"})
    errors = errors_of(META, t)
    assert errors == [
        "items.csv:6: id: not a valid id 'x y' (use letters, digits, _ - . only)",
        "needs.csv:6: municipality: unknown municipality 'zed'",
        "needs.csv:6: item: a need for an emission (emissions are capped by limits, not needed)",
        "needs.csv:6: tier: must be 1, 2 or 3 (got 9)",
        "needs.csv:6: quantity: must not be negative (got -1)",
        "links.csv:4: to: a link to itself",
        "links.csv:4: labour_per_unit: not a number: 'fast'",
    ]


def test_json_rows_and_xlsx_names():
    change = add("needs", {"municipality": "brook", "item": "co2", "tier": 1, "quantity": 1})
    assert (
        one_error("s.json", **change)
        == "s.json#needs:5: item: a need for an emission (emissions are capped by limits, not needed)"
    )
    assert (
        one_error("book.xlsx", **change)
        == "book.xlsx[needs]:6: item: a need for an emission (emissions are capped by limits, not "
        "needed)"
    )


def test_problem_objects():
    with pytest.raises(models.ScenarioError) as e:
        models.from_tables(
            META, tables(**add("links", {"from": "x", "to": "x", "labour_per_unit": 1e-9}))
        )
    p = e.value.problems
    assert [str(x) for x in p] == [
        "links.csv:4: from: unknown municipality 'x'",
        "links.csv:4: to: a link to itself",  # one problem per cell: the first found
        "links.csv:4: labour_per_unit: coefficient 1e-09 is outside 1e-06..1e+06 in magnitude: "
        "the solver may lose it (HiGHS treats entries below 1e-9 as zero); change the unit",
    ]
    assert [x.level for x in p] == ["error", "error", "warning"]
    assert p[0] == models.Problem("links.csv", 4, "from", "unknown municipality 'x'")
    assert p[0].to_dict() == {
        "file": "links.csv",
        "row": 4,
        "column": "from",
        "message": "unknown municipality 'x'",
        "level": "error",
    }
    assert len(e.value.errors) == 2 and len(e.value.warnings) == 1
    assert str(e.value).splitlines()[0] == "2 problem(s) in the scenario"
    assert isinstance(e.value, ValueError)


def test_warnings_are_kept_on_the_scenario():
    t = tables()
    t["processes"].append({"id": "mill", "labour_hours": 2e6})
    t["process_io"].append({"process": "mill", "item": "grain", "quantity": 1e-7})
    t["process_io"].append({"process": "mill", "item": "bread", "quantity": 0})
    t["links"].append({"from": "carden", "to": "ashford", "labour_per_unit": 5e-7})
    t["items"].append({"id": "sand", "kind": "resource", "transportable": True})
    t["endowments"].append({"municipality": "brook", "item": "co2", "quantity": 1})
    t["mandates"].append(
        {"municipality": "ashford", "kind": "forbid_process", "target": "bake", "value": 3}
    )
    s = models.from_tables(META, t)
    assert [str(w) for w in s.warnings] == [
        "scenario:0: -: coefficients span 1e-07 .. 2e+06 (a ratio of 2.0e+13, above 1e+12): the "
        "solver may lose the small ones; change some units",
        "items.csv:6: transportable: a resource is never transported; read as false",
        "processes.csv:4: labour_hours: coefficient 2000000 is outside 1e-06..1e+06 in "
        "magnitude: the solver may lose it (HiGHS treats entries below 1e-9 as zero); change "
        "the unit",
        "process_io.csv:7: quantity: coefficient 1e-07 is outside 1e-06..1e+06 in magnitude: "
        "the solver may lose it (HiGHS treats entries below 1e-9 as zero); change the unit",
        "endowments.csv:4: item: an endowment of an emission is ignored (emissions enter no "
        "balance)",
        "links.csv:4: labour_per_unit: coefficient 5e-07 is outside 1e-06..1e+06 in magnitude: "
        "the solver may lose it (HiGHS treats entries below 1e-9 as zero); change the unit",
        "mandates.csv:6: value: forbid_process takes no value; ignored",
    ]
    assert all(w.level == "warning" for w in s.warnings)
    assert not s.items.set_index("id").loc["sand", "transportable"]
    m = s.mandates.set_index(["municipality", "kind"])
    assert pd.isna(m.loc[("ashford", "forbid_process"), "value"])


def test_resources_may_be_inputs_and_process_io_may_be_negative():
    s = valley()
    io = s.process_io.set_index(["process", "item"])["quantity"]
    assert io[("farm", "water")] == -300 and io[("bake", "grain")] == -1.1


def test_metadata_problems():
    assert errors_of({"period": 1}, tables()) == ["scenario.yaml:0: name: required key is missing"]
    assert errors_of({"name": " "}, tables()) == ["scenario.yaml:0: name: must not be empty"]
    errors = errors_of(
        {"name": "x", "policy": {"rule": "nope", "stages": ["needs:tier1", "x"], "tolerance": -1}},
        tables(),
    )
    assert errors == [
        "scenario.yaml:0: policy.rule: unknown rule 'nope' (valid rules: leximin, utilitarian, "
        "proportional, equal_per_capita, min_labour_full)",
        "scenario.yaml:0: policy.stages: unknown stage 'x' (valid stages: needs:tier1..3, "
        "needs:full, leximin:tierN, utilitarian:tierN, proportional:tierN, "
        "equal_per_capita:tierN, min_labour, fair_burden, min_transport)",
        "scenario.yaml:0: policy.tolerance: must not be negative (got -1)",
    ]
    assert errors_of({"name": "x", "policy": {"colour": 1}}, tables()) == [
        "scenario.yaml:0: policy.colour: unknown key"
    ]
    assert errors_of(None, tables()) == [
        "scenario.yaml:0: -: missing scenario metadata (at least a name)"
    ]
    s = models.from_tables({"name": "x", "colour": "red"}, tables())
    assert [str(w) for w in s.warnings] == [
        "scenario.yaml:0: colour: unknown key (known: name, period, description, policy); ignored"
    ]


def test_stage_names():
    assert (
        models.Policy(stages=["utilitarian:tier2", "fair_burden"]).stages[0] == "utilitarian:tier2"
    )
    with pytest.raises(ValueError):
        models.Policy(stages=[])


def test_missing_mandatory_tables_and_unknown_tables():
    t = tables()
    del t["items"]
    t["itemz"] = []
    with pytest.raises(models.ScenarioError) as e:
        models.from_tables(META, t)
    assert [str(p) for p in e.value.problems] == [
        "items.csv:0: -: missing mandatory table",
        "itemz.csv:0: -: not a table name; ignored (tables are confederations, municipalities, "
        "items, processes, process_io, capacities, endowments, needs, links, limits, mandates)",
    ]


def test_dataframe_input_with_typed_columns():
    t = {k: pd.DataFrame(v) for k, v in tables().items()}
    t["needs"]["tier"] = t["needs"]["tier"].astype("int64")
    t["links"]["both_ways"] = [True, False]
    assert models.from_tables(META, t) == valley()
    t["needs"].loc[0, "tier"] = 7
    assert errors_of(META, t) == ["needs.csv:2: tier: must be 1, 2 or 3 (got 7)"]
    t = {k: pd.DataFrame(v) for k, v in tables().items()}
    t["links"] = pd.DataFrame()
    assert len(models.from_tables(META, t).links) == 0
    t["needs"] = t["needs"].drop(columns=["tier"])
    assert errors_of(META, t) == ["needs.csv:1: tier: missing required column"]


def test_a_thousand_municipalities_validate_and_every_bad_cell_is_named():
    """What bench/inputs.py times (its speed targets live there): 100,000 needs validate,
    and 100 bad quantities among them are each reported with their row."""
    from bench.inputs import big_tables

    s = models.from_tables(*big_tables())
    assert len(s.needs) == 100_000 and s.content_hash
    errors = errors_of(*big_tables(bad_every=1000))
    assert len(errors) == 100
    assert errors[0] == "needs.csv:2: quantity: must not be negative (got -1)"
    assert errors[-1] == "needs.csv:99002: quantity: must not be negative (got -1)"


def test_text_cells_control_characters_surrogates_and_line_ends():
    t = tables()
    t["municipalities"][0]["name"] = "Ash\x07ford"
    t["items"][0]["name"] = "Gr\ud800ain"
    t["items"].append({"id": "br\ud800ead", "kind": "good"})
    assert errors_of(META, t) == [
        "municipalities.csv:2: name: contains a control character or lone surrogate (not "
        "allowed in a spreadsheet cell)",
        "items.csv:2: name: contains a control character or lone surrogate (not allowed in a "
        "spreadsheet cell)",
        "items.csv:6: id: not a valid id 'br\uffffead' (use letters, digits, _ - . only)",
    ]
    assert errors_of({"name": "x\x00"}, tables()) == [
        "scenario.yaml:0: name: contains a control character or lone surrogate"
    ]
    t = tables()
    t["municipalities"][0]["name"] = "two\r\nlines\rhere"
    s = models.from_tables({**META, "description": "a\r\nb"}, t)
    assert s.municipalities["name"][0] == "two\nlines\nhere" and s.meta.description == "a\nb"

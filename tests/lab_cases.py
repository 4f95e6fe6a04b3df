"""A small scenario on which the allocation rules differ, for the lab's tests (solves in milliseconds)."""

from tests.planner_cases import link, towns


def harvest():
    """Three towns share a harvest capped by CO2; vital needs are met, desired needs are short.

    a (300 people) and c (200) farm grain (2 h and 1 land a unit, 0.5 t CO2 a unit); the
    confederation's CO2 cap of 70 allows 140 t; b (100) has 10 t in store. Vital needs
    60 + 40 + 30 = 130 t are met; the 20 t left serve desired needs of 50 (a), 20 (b) and
    30 (c): leximin and proportional give every desired need 0.2, utilitarian fills b's
    small need (1.0) and leaves a and c at 0, equal_per_capita gives 1/30 t a head.
    """
    return towns(
        names=("a", "b", "c"),
        population={"a": 300, "b": 100, "c": 200},
        labour={"a": 1000, "b": 1000, "c": 1000},
        items=(("grain", "good"), ("land", "resource"), ("co2", "emission")),
        processes=(("farm", 2.0),),
        io=(("farm", "grain", 1.0), ("farm", "land", -1.0), ("farm", "co2", 0.5)),
        capacities=(("a", "farm", 120), ("c", "farm", 60)),
        endowments=(("a", "land", 120), ("c", "land", 60), ("b", "grain", 10)),
        needs=(
            ("a", "grain", 1, 60),
            ("b", "grain", 1, 40),
            ("c", "grain", 1, 30),
            ("a", "grain", 3, 50),
            ("b", "grain", 3, 20),
            ("c", "grain", 3, 30),
        ),
        links=(link("a", "b", 0.1), link("a", "c", 0.1), link("b", "c", 0.1)),
        limits=(("co2", "all", 70),),
        confederations=[{"id": "all", "parent": ""}],
    )

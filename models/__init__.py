"""The domain model of Commune: scenarios, their tables, validation and file forms.

A scenario is metadata (``ScenarioMeta``: name, period, description,
``Policy``) plus one canonical DataFrame per table of ``TABLES``. Build one
with ``from_tables`` or read one with ``load``/``loads``/``from_json``;
write it with ``save``/``dumps``/``to_json``. Bad input raises
``ScenarioError`` whose ``.problems`` list every ``Problem`` at once as
``file:row: column: message``. See docs/INTERNALS.md and docs/FORMAT.md.
"""

from models._frozen import Scenario
from models._io import FORMS, dumps, from_json, load, loads, save, to_json
from models._meta import Policy, ScenarioMeta
from models._policy import (
    NEED_RULES,
    RULES,
    STAGES,
    TAIL,
    PolicyError,
    StageRef,
    check_rule,
    parse_stage,
    stage_list,
)
from models._problems import Problem, ScenarioError
from models._scenario import from_tables
from models._schema import ITEM_KINDS, MANDATE_KINDS, MANDATORY, TABLES, Column, TableSchema
from models._source import Source
from models._upload import read_table, read_table_partly
from models._validate import COEFFICIENT_RANGE, SOLVER_ZERO


def coefficient_range(scenario: Scenario) -> tuple[float, float]:
    """The smallest and largest non-zero coefficient magnitude of the scenario's programme."""
    import pandas as pd

    from models._validate import coefficient_range as _range

    frames = {t: scenario.table(t) for t in ("processes", "process_io", "links")}
    return _range(frames, pd.Series(scenario.need_quantities()))


def own_use_count(scenario: Scenario) -> int:
    """How many processes use some of their own output (rows added up to net coefficients)."""
    from models._normalise import own_use_count as _count

    return _count(scenario.warnings)


__all__ = [
    "COEFFICIENT_RANGE",
    "SOLVER_ZERO",
    "coefficient_range",
    "own_use_count",
    "FORMS",
    "ITEM_KINDS",
    "MANDATE_KINDS",
    "MANDATORY",
    "NEED_RULES",
    "RULES",
    "STAGES",
    "TAIL",
    "TABLES",
    "Column",
    "Policy",
    "PolicyError",
    "Problem",
    "Scenario",
    "ScenarioError",
    "ScenarioMeta",
    "Source",
    "StageRef",
    "TableSchema",
    "check_rule",
    "dumps",
    "from_json",
    "from_tables",
    "generate",
    "load",
    "parse_stage",
    "stage_list",
    "loads",
    "read_table",
    "read_table_partly",
    "save",
    "to_json",
]


def generate(municipalities: int, goods: int, seed: int = 0, **kwargs) -> Scenario:
    """A feasible synthetic scenario (see models/generator.py); same seed, same content."""
    from models.generator import generate as _generate

    return _generate(municipalities, goods, seed, **kwargs)

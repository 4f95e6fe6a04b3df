"""The domain model of Commune: scenarios, their tables, validation and file forms.

A scenario is metadata (``ScenarioMeta``: name, period, description,
``Policy``) plus one canonical DataFrame per table of ``TABLES``. Build one
with ``from_tables`` or read one with ``load``/``loads``/``from_json``;
write it with ``save``/``dumps``/``to_json``. Bad input raises
``ScenarioError`` whose ``.problems`` list every ``Problem`` at once as
``file:row: column: message``. See docs/INTERNALS.md and docs/SCENARIO_FORMAT.md.
"""

from models._frozen import Scenario
from models._io import FORMS, dumps, from_json, load, loads, save, to_json
from models._limits import Limits
from models._meta import RULES, STAGES, Policy, ScenarioMeta
from models._problems import Problem, ScenarioError
from models._scenario import from_tables
from models._schema import ITEM_KINDS, MANDATE_KINDS, MANDATORY, TABLES, Column, TableSchema
from models._source import Source
from models._upload import read_table

__all__ = [
    "FORMS",
    "ITEM_KINDS",
    "Limits",
    "MANDATE_KINDS",
    "MANDATORY",
    "RULES",
    "STAGES",
    "TABLES",
    "Column",
    "Policy",
    "Problem",
    "Scenario",
    "ScenarioError",
    "ScenarioMeta",
    "Source",
    "TableSchema",
    "dumps",
    "from_json",
    "from_tables",
    "generate",
    "load",
    "loads",
    "read_table",
    "save",
    "to_json",
]


def generate(municipalities: int, goods: int, seed: int = 0, **kwargs) -> Scenario:
    """A feasible synthetic scenario (see models/generator.py); same seed, same content."""
    from models.generator import generate as _generate

    return _generate(municipalities, goods, seed, **kwargs)

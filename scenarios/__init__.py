"""What a run is: the parameter schema and the shipped scenarios (TOML)."""

from berdaya.scenarios.loader import (
    LoadedScenario,
    ScenarioError,
    load_scenario,
    parse_set,
    shipped,
)
from berdaya.scenarios.scenario import P2KPScenario
from berdaya.scenarios.schema import Parameters, ParamInfo, schema

__all__ = [
    "LoadedScenario",
    "P2KPScenario",
    "ParamInfo",
    "Parameters",
    "ScenarioError",
    "load_scenario",
    "parse_set",
    "schema",
    "shipped",
]

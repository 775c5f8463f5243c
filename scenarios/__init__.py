"""What a run is: the parameter schema and the shipped scenarios (TOML).

:class:`P2KPScenario` (a Mesa ``Scenario``) is imported on first use (PEP 562), so that
reading the schema or a TOML file, as the command line does, does not import Mesa.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from berdaya.scenarios.loader import (
    LoadedScenario,
    ScenarioError,
    load_scenario,
    parse_set,
    shipped,
)
from berdaya.scenarios.sampling import salib_problem, sample_values, sampled
from berdaya.scenarios.schema import RULES, Parameters, ParamInfo, Rule, check, schema

if TYPE_CHECKING:
    from berdaya.scenarios.scenario import P2KPScenario

__all__ = [
    "RULES",
    "LoadedScenario",
    "P2KPScenario",
    "ParamInfo",
    "Parameters",
    "Rule",
    "ScenarioError",
    "check",
    "load_scenario",
    "parse_set",
    "salib_problem",
    "sample_values",
    "sampled",
    "schema",
    "shipped",
]


def __getattr__(name: str) -> Any:
    """Import :class:`P2KPScenario` (and with it Mesa) when it is first asked for."""
    if name == "P2KPScenario":
        from berdaya.scenarios.scenario import P2KPScenario  # noqa: PLC0415

        globals()[name] = P2KPScenario
        return P2KPScenario
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""The validated scenario in Mesa's own idiom.

Mesa 3.5 examples pass parameters as a :class:`mesa.experimental.scenarios.Scenario` whose
attributes are the parameters and whose ``rng`` is the run's seed. :class:`P2KPScenario`
is that, with every value checked against :class:`~berdaya.scenarios.schema.Parameters`
when it is made, so a model can never be built from an invalid scenario.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mesa.experimental.scenarios import Scenario

from berdaya.scenarios.loader import (
    check_seed,
    load_scenario,
    plain_values,
    validate,
)
from berdaya.scenarios.schema import Parameters


class P2KPScenario(Scenario):
    """Parameters of one run, validated, with the seed carried as ``rng``.

    Attributes:
        name: Scenario name (a shipped scenario, a file stem, or "custom").
        params: The validated :class:`Parameters`.
    """

    def __init__(self, *, rng: Any = None, name: str = "custom", **values: Any) -> None:
        """Validate the values and build the scenario.

        Numpy scalars and 0-d arrays count as the Python values they hold, for the
        seed too.

        Args:
            rng: Seed (a non-negative integer), generator or ``None`` of the run.
            name: Label of the scenario.
            **values: Parameter values; the rest take their schema defaults.

        Raises:
            ScenarioError: A value is unknown, of the wrong type or out of range.
        """
        rng = check_seed(rng, "rng", generators=True)
        params = validate(values, f"scenario '{name}'")
        self._set(rng, name, params)

    def _set(self, rng: Any, name: str, params: Parameters) -> None:
        """Fill in a scenario from a checked seed and validated parameters."""
        super().__init__(rng=rng, **params.model_dump())
        self.__dict__["name"] = name
        self.__dict__["params"] = params

    @classmethod
    def _validated(cls, params: Parameters, *, rng: Any, name: str) -> P2KPScenario:
        """A scenario from parameters already validated (they are not checked again)."""
        scenario = cls.__new__(cls)
        scenario._set(check_seed(rng, "rng", generators=True), name, params)
        return scenario

    @classmethod
    def load(
        cls,
        name_or_path: str | Path = "kedungkandang-2008",
        *,
        rng: Any = None,
        overrides: dict[str, Any] | None = None,
    ) -> P2KPScenario:
        """Load a shipped scenario or TOML file as a Mesa scenario.

        Args:
            name_or_path: Shipped scenario name or path to a TOML file.
            rng: Seed of the run.
            overrides: Parameter values replacing those of the file.

        Returns:
            The scenario, ready for ``P2KPModel(scenario=...)``.

        Raises:
            ScenarioError: The file, an override or the seed is not valid.
        """
        loaded = load_scenario(name_or_path, overrides)  # validated here, once
        return cls._validated(loaded.params, rng=rng, name=loaded.name)

    def with_seed(self, rng: Any) -> P2KPScenario:
        """Return the same scenario with another seed."""
        return type(self)._validated(self.params, rng=rng, name=self.name)

    def updated(
        self, values: dict[str, Any], *, rng: Any = None, source: str = "overrides"
    ) -> P2KPScenario:
        """Return the scenario with some values replaced, checked as a whole again.

        The name stays; numpy scalars and 0-d arrays count as the Python values they
        hold.

        Args:
            values: Parameter values replacing the scenario's.
            rng: Another seed, or ``None`` to keep this scenario's.
            source: What the values are called in a message about them.

        Returns:
            The new scenario (this one is not changed).

        Raises:
            ScenarioError: A value is unknown, of the wrong type or out of range, or the
                values together break a rule of the schema; the message names the
                source, the parameter and what is allowed.
        """
        params = self.params
        if values:
            merged = {**params.model_dump(), **plain_values(values)}
            params = validate(merged, source, strict=False)
        seed = self.rng if rng is None else rng
        return type(self)._validated(params, rng=seed, name=self.name)


# Mesa (and SolaraViz, rebuilding a scenario on Reset) read a scenario's attributes and
# their defaults from this class attribute: the name and every parameter.
P2KPScenario._scenario_defaults = {"name": "custom", **Parameters().model_dump()}

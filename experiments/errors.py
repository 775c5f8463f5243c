"""The experiment layer's one error: an input (spec, folder, address, option) not usable.

It sits below every other module of the layer (the executors raise it for a cluster
address, the specs for a bad field), and is a :class:`ScenarioError`, so the command line
prints its one line and exits non-zero, as for a bad scenario.
"""

import numbers
from typing import Any

from berdaya.scenarios import ScenarioError


class SweepError(ScenarioError):
    """A sweep spec, results folder or cluster address is not usable; one line."""


def is_int(value: object) -> bool:
    """Whether ``value`` is an integer (a Python or numpy one), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(
    name: str, value: Any, low: int = 1, error: type[Exception] = SweepError
) -> None:
    """Raise ``error``, one line naming the argument ``name``, unless ``value >= low``."""
    if not is_int(value) or value < low:
        raise error(f"{name} must be an integer >= {low} (got {value!r})")

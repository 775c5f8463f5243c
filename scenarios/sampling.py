"""What a sampler needs from the schema: the plausible ranges, as SALib takes them.

A sampler (SALib, EMA Workbench, ``scipy.stats.qmc``) draws each parameter
independently from its ``plausible`` range; the ranges are chosen so that such draws
keep every rule between parameters (:data:`~berdaya.scenarios.schema.RULES`), so no
drawn point is refused. Integer parameters are drawn as numbers and rounded
(:func:`sample_values`)::

    from SALib.sample import sobol

    from berdaya.scenarios import P2KPScenario, salib_problem, sample_values

    problem = salib_problem()
    for row in sobol.sample(problem, 64, seed=1):
        scenario = P2KPScenario(rng=1, **sample_values(problem, row))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from berdaya.scenarios.loader import ScenarioError
from berdaya.scenarios.schema import ParamInfo, schema

NUMERIC = ("int", "float")


def sampled(kinds: Iterable[str] = ("uncertainty",)) -> list[str]:
    """The numeric parameters of these kinds that declare a plausible range.

    Args:
        kinds: Kinds of parameter ("uncertainty", "lever").

    Returns:
        Their names, in the schema's order.
    """
    wanted = set(kinds)
    return [
        p.name
        for p in schema().values()
        if p.kind in wanted and p.type in NUMERIC and p.plausible is not None
    ]


def plausible_range(p: ParamInfo) -> tuple[float, float]:
    """A numeric parameter's plausible range, or a one-line error naming it."""
    if p.type not in NUMERIC or p.plausible is None:
        allowed = ", ".join(sampled(("uncertainty", "lever")))
        raise ScenarioError(
            f"parameter '{p.name}' has no plausible numeric range to sample "
            f"(allowed: {allowed})"
        )
    low, high = p.plausible
    return float(low), float(high)


def salib_problem(names: Sequence[str] | None = None) -> dict[str, Any]:
    """A SALib ``problem`` dict over the plausible ranges of the schema.

    Args:
        names: Parameters to vary (numeric, with a plausible range); default every
            numeric uncertainty.

    Returns:
        ``{"num_vars", "names", "bounds"}``, the bounds the plausible ranges.

    Raises:
        ScenarioError: An unknown name, a repeated one, or one with no plausible range.
    """
    info = schema()
    names = list(sampled() if names is None else names)
    if isinstance(names, str) or not names:
        raise ScenarioError("names must be a non-empty list of parameter names")
    bounds = []
    for name in names:
        if name not in info:
            raise ScenarioError(
                f"unknown parameter {name!r}; `berdaya params` lists the parameters"
            )
        bounds.append(list(plausible_range(info[name])))
    if len(set(names)) != len(names):
        raise ScenarioError(f"names repeat a parameter: {names}")
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def sample_values(
    problem: Mapping[str, Any] | Sequence[str], row: Sequence[Any]
) -> dict[str, Any]:
    """One sampled row as parameter values: integers rounded, numbers as floats.

    Args:
        problem: A :func:`salib_problem` dict, or the parameter names of the columns.
        row: One row of the sample, in the order of the names.

    Returns:
        ``{name: value}``, ready for ``P2KPScenario(**values)`` or ``run(overrides=)``.

    Raises:
        ScenarioError: The row's length differs from the names'.
    """
    names = list(problem["names"] if isinstance(problem, Mapping) else problem)
    values = list(row)
    if len(values) != len(names):
        raise ScenarioError(
            f"a sample row has {len(values)} values for {len(names)} parameters"
        )
    info = schema()
    return {
        name: round(float(x)) if info[name].type == "int" else float(x)
        for name, x in zip(names, values, strict=True)
    }

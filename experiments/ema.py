"""berdaya as an EMA Workbench model: uncertainties, levers and outcomes from one source.

:func:`ema_model` builds an ``ema_workbench.Model`` whose uncertainties and levers are
parameters of the scenario schema over their plausible ranges (``berdaya params``), and
whose outcomes are records of the record registry (``berdaya outcomes``) at one moment
of each run: ``followup``, the run's last month, or ``end``, the month the programme
cycle completed or withdrew (NaN when it had not by then), as
:mod:`berdaya.experiments.compare` takes them. Values sampled independently from the
plausible ranges keep every rule between parameters, so no experiment is refused::

    from ema_workbench import MultiprocessingEvaluator, perform_experiments

    from berdaya.ema import ema_model

    model = ema_model(n_households=400)
    experiments, outcomes = perform_experiments(model, scenarios=20)
    with MultiprocessingEvaluator(model, n_processes=2) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=20)

EMA Workbench is an optional dependency: ``pip install 'berdaya[ema]'``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from berdaya.experiments.compare import HEADLINE_OUTCOMES, MOMENTS
from berdaya.experiments.defaults import DEFAULT_SCENARIO
from berdaya.experiments.engine import replication_seeds
from berdaya.experiments.run import run
from berdaya.model.registry import RECORDS
from berdaya.scenarios import ParamInfo, ScenarioError, load_scenario, sampled, schema
from berdaya.scenarios.loader import check_seed

if TYPE_CHECKING:
    from ema_workbench import Model, ReplicatorModel

__all__ = ["ema_model", "evaluate", "parameter"]

#: Names the model function takes besides the scenario's parameters.
RESERVED = ("scenario", "seed", "moment")


def evaluate(
    *,
    scenario: str = DEFAULT_SCENARIO,
    seed: int = 1,
    moment: str = "followup",
    **values: Any,
) -> dict[str, float]:
    """Run one experiment and return every record at the moment asked for.

    The function EMA Workbench calls for each experiment (top-level, so the
    multiprocessing evaluator's workers import it): the sampled uncertainties and
    levers and the model's constants arrive as keyword arguments.

    Args:
        scenario: Shipped scenario name or TOML path the values override.
        seed: The run's seed.
        moment: ``followup`` (the run's last month) or ``end`` (the month the cycle
            ended; NaN for every record when it had not).
        **values: Parameter values (numpy scalars are taken as the numbers they hold).

    Returns:
        ``{record: value}`` for every record of the registry, as floats.
    """
    records = run(scenario, seed, overrides=values).records
    last = records.iloc[-1]
    if moment == "followup":
        row = last
    else:
        exit_month = float(last["exit_month"])
        if exit_month < 0:
            return dict.fromkeys(RECORDS, math.nan)
        row = records.set_index("month").loc[int(exit_month)]
    return {name: float(row[name]) for name in RECORDS}


def parameter(p: ParamInfo) -> Any:
    """The EMA Workbench parameter of a schema parameter, over its plausible range.

    Numbers become ``RealParameter`` or ``IntegerParameter`` over the plausible range,
    a choice a ``CategoricalParameter`` over its choices, a switch a
    ``BooleanParameter``.

    Raises:
        ScenarioError: A number without a plausible range (one line naming it).
    """
    import ema_workbench as ema  # noqa: PLC0415 (an optional dependency)

    if p.type == "bool":
        return ema.BooleanParameter(p.name)
    if p.choices:
        return ema.CategoricalParameter(p.name, list(p.choices))
    if p.plausible is None:
        raise ScenarioError(
            f"parameter '{p.name}' has no plausible range to sample (the numbers that "
            f"have one: {', '.join(sampled(('uncertainty', 'lever')))})"
        )
    low, high = p.plausible
    if p.type == "int":
        return ema.IntegerParameter(p.name, int(low), int(high))
    return ema.RealParameter(p.name, float(low), float(high))


def _names(
    given: Sequence[str] | None, kind: str, default: list[str], taken: set[str]
) -> list[str]:
    """Check the names of one kind of parameter; refuse unknown and repeated ones."""
    info = schema()
    names = list(default if given is None else given)
    for name in names:
        if name not in info or name in RESERVED:
            raise ScenarioError(
                f"{kind}: unknown parameter {name!r}; `berdaya params` lists them"
            )
        if name in taken:
            raise ScenarioError(
                f"{kind}: parameter {name!r} is named twice (an uncertainty, a lever "
                "or a constant: one of them)"
            )
        taken.add(name)
    return names


def _default_uncertainties() -> list[str]:
    """Every uncertainty: the numeric ones over their ranges, the choices over theirs."""
    return [
        p.name
        for p in schema().values()
        if p.kind == "uncertainty" and (p.plausible is not None or p.choices)
    ]


def ema_model(
    scenario: str = DEFAULT_SCENARIO,
    *,
    uncertainties: Sequence[str] | None = None,
    levers: Sequence[str] | None = None,
    outcomes: Sequence[str] = HEADLINE_OUTCOMES,
    moment: str = "followup",
    seed: int = 1,
    replications: int | None = None,
    name: str = "berdaya",
    **constants: Any,
) -> Model | ReplicatorModel:
    """Build berdaya as an EMA Workbench model.

    Args:
        scenario: Shipped scenario name or TOML path: the values of every parameter
            not sampled.
        uncertainties: Parameters sampled as uncertainties (default: every
            uncertainty of the schema, over its plausible range or choices).
        levers: Parameters sampled as levers (default: the numeric levers with a
            plausible range).
        outcomes: Records of the registry, each a ``ScalarOutcome`` (an
            ``ArrayOutcome`` of the replications when ``replications`` is given;
            EMA Workbench keeps one class per outcome name in a process).
        moment: When each outcome is taken: ``followup`` or ``end``.
        seed: The seed of every experiment (common random numbers), or the master seed
            the replications' seeds are spawned from.
        replications: Run each experiment with this many seeds (a ``ReplicatorModel``).
        name: The model's name (a Python identifier, as EMA Workbench requires).
        **constants: Parameter values held fixed in every experiment (for instance
            ``n_households=400``), checked with the scenario now.

    Returns:
        An ``ema_workbench.Model`` (or ``ReplicatorModel``) for ``perform_experiments``.

    Raises:
        ScenarioError: An unknown or repeated parameter or record, a number without a
            plausible range, a bad moment, seed, replication count or constant.
    """
    import ema_workbench as ema  # noqa: PLC0415 (an optional dependency)

    if moment not in MOMENTS:
        raise ScenarioError(
            f"moment must be one of {', '.join(MOMENTS)} (got {moment!r})"
        )
    seed = check_seed(seed)
    load_scenario(scenario, constants, overrides_source="constants")
    info = schema()
    taken = set(constants)
    unc = _names(uncertainties, "uncertainties", _default_uncertainties(), taken)
    lev = _names(levers, "levers", sampled(("lever",)), taken)
    for record in outcomes:
        if record not in RECORDS:
            raise ScenarioError(
                f"outcomes: unknown record {record!r}; `berdaya outcomes` lists them"
            )
    if replications is None:
        model: Any = ema.Model(name, function=evaluate)
        fixed = {"seed": seed}
        kind = ema.ScalarOutcome
    else:
        if isinstance(replications, bool) or not replications >= 1:
            raise ScenarioError(
                f"replications must be a positive integer (got {replications!r})"
            )
        model = ema.ReplicatorModel(name, function=evaluate)
        model.replications = [
            {"seed": s} for s in replication_seeds(seed, replications)
        ]
        fixed = {}
        kind = ema.ArrayOutcome
    model.uncertainties = [parameter(info[n]) for n in unc]
    model.levers = [parameter(info[n]) for n in lev]
    model.outcomes = [kind(record) for record in outcomes]
    model.constants = [
        ema.Constant(key, value)
        for key, value in {
            "scenario": str(scenario),
            "moment": moment,
            **fixed,
            **constants,
        }.items()
    ]
    return model

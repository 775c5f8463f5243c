"""berdaya.ema: EMA Workbench's perform_experiments on berdaya, serially and in processes."""

from __future__ import annotations

import math

import numpy as np
import pytest

ema = pytest.importorskip("ema_workbench")

from berdaya.ema import ema_model, evaluate  # noqa: E402
from berdaya.experiments.compare import HEADLINE_OUTCOMES  # noqa: E402
from berdaya.experiments.run import run  # noqa: E402
from berdaya.scenarios import ScenarioError, sampled, schema  # noqa: E402

SMALL = {"n_households": 100}
INFO = schema()


@pytest.fixture(scope="module")
def serial():
    model = ema_model(**SMALL)
    return ema.perform_experiments(
        model,
        scenarios=20,
        policies=2,
        combine="sample",
        uncertainty_sampling_kwargs={"rng": 16},
        lever_sampling_kwargs={"rng": 17},
    )


def test_twenty_sampled_scenarios_run_none_refused_outcomes_finite(serial):
    experiments, outcomes = serial
    assert len(experiments) == 20
    assert list(outcomes) == list(HEADLINE_OUTCOMES)
    for name, values in outcomes.items():
        assert values.shape == (20,), name
        assert np.isfinite(values.astype(float)).all(), name
    # each experiment's sampled values lie in the schema's plausible ranges
    for name in sampled(("uncertainty", "lever")):
        low, high = INFO[name].plausible
        assert experiments[name].between(low, high).all(), name
    assert set(experiments["works_catchment"]) <= {"rt", "rw"}
    assert experiments["contagion_min_ties"].nunique() > 1  # sampled, not fixed


def test_an_experiment_is_the_run_of_its_values(serial):
    experiments, outcomes = serial
    row = experiments.iloc[3]
    values = {
        n: row[n] for n in (*sampled(("uncertainty", "lever")), "works_catchment")
    }
    final = run("kedungkandang-2008", 1, overrides={**values, **SMALL}).final
    for name in HEADLINE_OUTCOMES:
        assert outcomes[name][3] == pytest.approx(float(final[name]), nan_ok=True)


# EMA Workbench's pool forks; Python warns of that in a process with threads
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded")
def test_the_multiprocessing_evaluator_gives_the_serial_results():
    model = ema_model(**SMALL)
    kwargs = {"scenarios": 4, "uncertainty_sampling_kwargs": {"rng": 3}}
    _, alone = ema.perform_experiments(model, **kwargs)
    with ema.MultiprocessingEvaluator(model, n_processes=2) as evaluator:
        experiments, pooled = evaluator.perform_experiments(**kwargs)
    assert len(experiments) == 4
    for name in HEADLINE_OUTCOMES:
        np.testing.assert_array_equal(pooled[name], alone[name])


def test_replications_give_an_array_of_seeds_per_experiment():
    model = ema_model(
        uncertainties=["meeting_reach", "poor_share"],
        levers=[],
        # EMA Workbench keeps one outcome class per name in a process: records the
        # other tests take as scalars would clash as arrays
        outcomes=["ksm_poor_joined", "awareness_mean"],
        replications=2,
        months=24,
        **SMALL,
    )
    assert isinstance(model, ema.ReplicatorModel)
    _, outcomes = ema.perform_experiments(
        model, scenarios=2, uncertainty_sampling_kwargs={"rng": 1}
    )
    assert outcomes["awareness_mean"].shape == (2, 2)
    assert (outcomes["awareness_mean"][:, 0] != outcomes["awareness_mean"][:, 1]).any()


def test_at_the_end_of_the_cycle_or_nan_when_it_had_not_ended():
    full = evaluate(moment="end", seed=2, **SMALL)
    result = run("kedungkandang-2008", 2, overrides=SMALL)
    end = int(result.final["exit_month"])
    assert end > 0 and full["exit_month"] == end
    at_end = result.records.set_index("month").loc[end]
    assert full["poverty_rate"] == float(at_end["poverty_rate"])
    assert full["poverty_rate"] != float(result.final["poverty_rate"])
    cut = evaluate(moment="end", seed=2, months=6, **SMALL)
    assert all(math.isnan(v) for v in cut.values())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"uncertainties": ["poor_shar"]},
            "uncertainties: unknown parameter 'poor_shar'",
        ),
        ({"levers": ["tridaya_economic"]}, "'tridaya_economic' has no plausible range"),
        ({"levers": ["poor_share"], "uncertainties": ["poor_share"]}, "named twice"),
        ({"levers": ["n_households"]}, "named twice"),
        ({"outcomes": ["gov_suport"]}, "unknown record 'gov_suport'"),
        ({"moment": "start"}, "moment must be one of end, followup"),
        ({"replications": 0}, "replications must be a positive integer"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"n_households": 5}, "field 'n_households' must be an integer in [20"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(kwargs, message):
    with pytest.raises(ScenarioError) as refused:
        ema_model(**{"n_households": 100, **kwargs})
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)

"""Mesa's own idioms: keyword parameters, ``rng``, a DataCollector, ``mesa.batch_run``.

``P2KPModel(scenario=None, *, rng=None, record_households=False, **params)`` takes every
schema parameter as a keyword (checked by the schema, numpy values as the Python values
they hold), ``rng`` as Mesa 3.5 takes it, and collects the headline records each month in
a Mesa ``DataCollector``, so ``mesa.batch_run`` gives a row per run and month.
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest

from berdaya.experiments.compare import HEADLINE_OUTCOMES
from berdaya.experiments.run import run
from berdaya.model import P2KPModel
from berdaya.model.records import MONTHLY_TABLE
from berdaya.model.registry import HEADLINE, RECORDS
from berdaya.scenarios import P2KPScenario, ScenarioError, load_scenario

SMALL = {"n_households": 80}


def _steps(model: P2KPModel, months: int) -> P2KPModel:
    for _ in range(months):
        model.step()
    return model


def _same_run(a: P2KPModel, b: P2KPModel) -> None:
    pd.testing.assert_frame_equal(a.records(), b.records(), check_exact=True)


def _one_line_api_error(err: pytest.ExceptionInfo, *parts: str) -> None:
    message = str(err.value)
    assert "\n" not in message
    assert "--" not in message, f"a command-line option in {message!r}"
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


# --- keyword parameters ----------------------------------------------------------------
def test_every_keyword_is_a_schema_parameter_as_in_a_scenario():
    by_keyword = _steps(P2KPModel(rng=3, poor_share=0.3, **SMALL), 4)
    by_scenario = _steps(P2KPModel(P2KPScenario(rng=3, poor_share=0.3, **SMALL)), 4)
    assert by_keyword.p == by_scenario.p
    assert by_keyword.p.poor_share == 0.3
    _same_run(by_keyword, by_scenario)


def test_numpy_keywords_count_as_the_values_they_hold():
    model = P2KPModel(
        rng=np.int64(3),
        n_households=np.int64(80),
        poor_share=np.array(0.3),
        mean_degree=np.float32(6.5),
        joint_liability=np.bool_(False),
    )
    p = model.p
    assert (p.n_households, p.poor_share, p.mean_degree) == (80, 0.3, 6.5)
    assert p.joint_liability is False
    assert type(p.n_households) is int and type(p.poor_share) is float
    plain = P2KPModel(
        rng=3, n_households=80, poor_share=0.3, mean_degree=6.5, joint_liability=False
    )
    _same_run(_steps(model, 3), _steps(plain, 3))


def test_keywords_replace_a_shipped_scenarios_values_and_keep_the_rest():
    shipped = load_scenario("kelurahan-partner").params
    model = P2KPModel("kelurahan-partner", rng=2, **SMALL)
    assert model.scenario.name == "kelurahan-partner"
    assert model.p == shipped.model_copy(update=SMALL)
    assert model.p.kelurahan_involvement == shipped.kelurahan_involvement == 1.0


def test_keywords_replace_a_scenario_objects_values_and_leave_it_alone():
    scen = P2KPScenario.load("kelurahan-partner", rng=5, overrides=SMALL)
    more = scen.params.faskel_count + 1
    model = P2KPModel(scen, faskel_count=more)
    assert model.p.faskel_count == more
    assert scen.params.faskel_count == more - 1  # the scenario given is not changed
    assert model.p == scen.params.model_copy(update={"faskel_count": more})
    assert model.scenario.rng == 5  # its seed stays


def test_a_scenario_alone_is_used_as_it_is():
    scen = P2KPScenario.load("kedungkandang-2008", rng=4, overrides=SMALL)
    assert P2KPModel(scen).scenario is scen


BAD = [
    ("poor_share", 1.5, "a number in [0, 1]", "(got 1.5)"),
    ("poor_share", np.float64(-0.5), "a number in [0, 1]", "(got -0.5)"),
    ("faskel_count", np.array(30), "an integer in [0, 20]", "(got 30)"),
    ("n_households", 5, "an integer in [20, 2,000,000]", "(got 5)"),
    ("joint_liability", np.int64(2), "true or false", "(got 2)"),
    ("progression", "soon", "one of schedule, readiness, hybrid", "(got 'soon')"),
]


@pytest.mark.parametrize(("name", "value", "allowed", "got"), BAD)
def test_a_bad_keyword_is_refused_naming_it_and_what_is_allowed(
    name, value, allowed, got
):
    with pytest.raises(ScenarioError) as err:
        P2KPModel(**{name: value})
    _one_line_api_error(err, "P2KPModel", f"field '{name}'", allowed, got)
    with pytest.raises(ScenarioError) as err:
        P2KPModel("kelurahan-partner", **{name: value})
    _one_line_api_error(err, f"field '{name}'", allowed)


def test_an_unknown_keyword_is_refused_by_name():
    with pytest.raises(ScenarioError) as err:
        P2KPModel(poor_shar=0.3)
    _one_line_api_error(err, "unknown field 'poor_shar'", "did you mean 'poor_share'")


def test_rules_between_parameters_hold_for_keywords():
    with pytest.raises(ScenarioError) as err:
        P2KPModel(tridaya_economic=0.9)
    _one_line_api_error(err, "P2KPModel", "must sum to 1")


# --- rng ---------------------------------------------------------------------------------
def test_rng_is_the_scenarios_seed():
    a = _steps(P2KPModel(rng=7, **SMALL), 3)
    b = _steps(P2KPModel(P2KPScenario(rng=7, **SMALL)), 3)
    c = _steps(P2KPModel(P2KPScenario(rng=1, **SMALL), rng=7), 3)  # rng replaces it
    assert a.scenario.rng == b.scenario.rng == c.scenario.rng == 7
    _same_run(a, b)
    _same_run(a, c)
    other = _steps(P2KPModel(rng=8, **SMALL), 3)
    assert not a.records().equals(other.records())


def test_rng_takes_what_mesa_takes():
    seq = np.random.SeedSequence(11)
    for rng in (np.random.default_rng(seq), seq, np.int64(11), None):
        model = P2KPModel(rng=rng, **SMALL)
        model.step()
        assert isinstance(model.rng, np.random.Generator)
    same = [_steps(P2KPModel(rng=np.random.default_rng(11), **SMALL), 2) for _ in "ab"]
    _same_run(*same)


def test_seed_is_mesas_older_name_for_rng():
    _same_run(
        _steps(P2KPModel(seed=6, **SMALL), 2), _steps(P2KPModel(rng=6, **SMALL), 2)
    )
    with pytest.raises(ScenarioError) as err:
        P2KPModel(seed=6, rng=6)
    _one_line_api_error(err, "rng or seed, not both")


@pytest.mark.parametrize("rng", [-1, 1.5, "7", True, 2**64])
def test_bad_rng_is_refused(rng):
    with pytest.raises(ScenarioError) as err:
        P2KPModel(rng=rng, **SMALL)
    _one_line_api_error(err, "rng must be a non-negative integer")


def test_the_run_api_and_the_keywords_give_the_same_run():
    """``run`` (the experiments' way) and Mesa's way build the same model."""
    result = run("kelurahan-partner", 9, months=6, overrides=SMALL)
    model = P2KPModel("kelurahan-partner", rng=9, months=6, **SMALL)
    while model.running:
        model.step()
    pd.testing.assert_frame_equal(result.records, model.records(), check_exact=True)


# --- the DataCollector -------------------------------------------------------------------
def test_headline_outcomes_are_records_of_the_registry():
    assert HEADLINE_OUTCOMES == HEADLINE
    assert len(set(HEADLINE)) == len(HEADLINE)
    assert all(name in RECORDS for name in HEADLINE)


def test_the_datacollector_reports_each_headline_record_every_month():
    model = _steps(P2KPModel(rng=2, **SMALL), 5)
    dc = model.datacollector
    assert isinstance(dc, mesa.DataCollector)
    assert dc._collection_steps == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    reported = dc.get_model_vars_dataframe()
    assert list(reported.columns) == list(HEADLINE)
    records = model.records()
    for name in HEADLINE:
        assert reported[name].tolist() == records[name].tolist(), name
    table = dc.get_table_dataframe(MONTHLY_TABLE)
    pd.testing.assert_frame_equal(
        table, records.drop(columns=["month", "phase_name"]), check_exact=True
    )


def test_a_citys_datacollector_reports_the_citys_records():
    model = _steps(P2KPModel(rng=2, n_kelurahan=2, **SMALL), 3)
    reported = model.datacollector.get_model_vars_dataframe()
    assert len(reported) == 4
    for name in HEADLINE:
        assert reported[name].tolist() == model.records()[name].tolist(), name


# --- mesa.batch_run ----------------------------------------------------------------------
PARAMETERS = {"n_households": 80, "kelurahan_involvement": [0.0, 1.0]}
MONTHS = 4


def _batch(processes: int) -> pd.DataFrame:
    rows = mesa.batch_run(
        P2KPModel,
        parameters=PARAMETERS,
        max_steps=MONTHS,
        number_processes=processes,
        rng=[1, 2],
        data_collection_period=1,
        display_progress=False,
    )
    return pd.DataFrame(rows).sort_values(["RunId", "Step"], ignore_index=True)


@pytest.fixture(scope="module")
def batch() -> pd.DataFrame:
    return _batch(1)


def test_batch_run_gives_a_row_per_run_and_month_with_the_outcomes(batch):
    assert len(batch) == 2 * 2 * (MONTHS + 1)
    assert {"RunId", "iteration", "Step", "rng", *PARAMETERS, *HEADLINE} <= set(batch)
    per_run = batch.groupby("RunId")["Step"].apply(list)
    assert all(steps == [0.0, 1.0, 2.0, 3.0, 4.0] for steps in per_run)
    assert batch[list(HEADLINE)].notna().all().all()


def test_batch_run_rows_are_the_runs_records(batch):
    for (seed, involvement), rows in batch.groupby(["rng", "kelurahan_involvement"]):
        model = P2KPModel(
            rng=int(seed), n_households=80, kelurahan_involvement=involvement
        )
        records = _steps(model, MONTHS).records()
        for name in HEADLINE:
            assert rows[name].tolist() == records[name].tolist(), (seed, name)


def test_batch_run_on_two_processes_gives_the_same_rows(batch):
    pd.testing.assert_frame_equal(_batch(2), batch, check_exact=True)

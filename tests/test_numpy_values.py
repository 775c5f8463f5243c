"""Numpy scalars where numbers and flags go: samplers and array code hand them out.

``np.int64``, ``np.float32``, ``np.bool_`` and 0-d arrays count as the Python values they
hold, in ``run(overrides=...)``, ``P2KPScenario(...)`` and ``P2KPScenario.load``, seeds
included; a bad one is refused by the Python API in one line that names the parameter
and what is allowed, and no command-line option.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from berdaya.experiments.compare import compare
from berdaya.experiments.files import read_table
from berdaya.experiments.run import run
from berdaya.model import P2KPModel
from berdaya.scenarios import P2KPScenario, ScenarioError

SMALL = {"n_households": 60}
# field, numpy value, the Python value it stands for
GOOD = [
    ("n_households", np.int64(80), 80),
    ("faskel_count", np.array(3), 3),
    ("mean_degree", np.float32(6.5), 6.5),
    ("poor_share", np.array(0.25), 0.25),
    ("meeting_reach", np.array(0.5, dtype=np.float32), 0.5),
    ("joint_liability", np.bool_(False), False),
    ("joint_liability", np.bool_(True), True),
]
IDS = [f"{name}={type(value).__name__}" for name, value, _ in GOOD]


def _check(params, name, expected):
    got = getattr(params, name)
    assert got == expected and type(got) is type(expected), (got, type(got))


@pytest.mark.parametrize(("name", "value", "expected"), GOOD, ids=IDS)
def test_run_takes_numpy_overrides(name, value, expected):
    result = run("kedungkandang-2008", 2, months=1, overrides={**SMALL, name: value})
    assert result.params[name] == expected
    assert type(result.params[name]) is type(expected)


@pytest.mark.parametrize(("name", "value", "expected"), GOOD, ids=IDS)
def test_p2kp_scenario_takes_numpy_values(name, value, expected):
    _check(P2KPScenario(**{name: value}).params, name, expected)


@pytest.mark.parametrize(("name", "value", "expected"), GOOD, ids=IDS)
def test_load_takes_numpy_overrides_and_seed(name, value, expected):
    scen = P2KPScenario.load(
        "kelurahan-partner", rng=np.int64(3), overrides={name: value}
    )
    _check(scen.params, name, expected)
    assert scen.rng == 3 and type(scen.rng) is int
    assert scen.kelurahan_involvement == 1.0  # the file's own values stay


def test_a_numpy_seed_is_the_same_seed():
    scen = P2KPScenario.load("kedungkandang-2008", rng=np.int64(7), overrides=SMALL)
    model = P2KPModel(scen)
    model.step()
    plain = P2KPModel(P2KPScenario.load("kedungkandang-2008", rng=7, overrides=SMALL))
    plain.step()
    assert np.array_equal(model.households.welfare, plain.households.welfare)
    a = run("kedungkandang-2008", np.uint32(5), months=2, overrides=SMALL)
    b = run("kedungkandang-2008", 5, months=2, overrides=SMALL)
    assert a.seed == 5 and type(a.seed) is int
    pd.testing.assert_frame_equal(a.records, b.records, check_exact=True)


def test_numpy_overrides_reach_the_comparison_file(tmp_path):
    done = compare(
        "kedungkandang-2008",
        "kelurahan-partner",
        replications=1,
        months=np.int64(1),
        overrides={"n_households": np.int64(60), "mean_degree": np.float32(4.0)},
    )
    assert done.overrides == {"n_households": 60, "mean_degree": 4.0}
    _, meta = read_table(done.to_file(tmp_path / "c.parquet"))
    assert meta["overrides"] == {"n_households": 60, "mean_degree": 4.0}


BAD = [
    ("poor_share", np.float64(1.5), "a number in [0, 1]", "(got 1.5)"),
    ("faskel_count", np.array(30), "an integer in [0, 20]", "(got 30)"),
    ("n_households", np.int64(5), "an integer in [20, 2,000,000]", "(got 5)"),
    ("mean_degree", np.float32(np.nan), "a number in [2, 30]", "(got nan)"),
    ("joint_liability", np.int64(2), "true or false", "(got 2)"),
    ("faskel_count", np.array([1, 2]), "an integer in [0, 20]", "field"),
]
BAD_IDS = [f"{n}={type(v).__name__}" for n, v, *_ in BAD]


def _one_line_api_error(err: pytest.ExceptionInfo, *parts: str) -> None:
    message = str(err.value)
    assert "\n" not in message
    assert "--" not in message, f"a command-line option in {message!r}"
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


@pytest.mark.parametrize(("name", "value", "allowed", "got"), BAD, ids=BAD_IDS)
def test_bad_numpy_values_are_refused_by_name(name, value, allowed, got):
    with pytest.raises(ScenarioError) as err:
        run("kedungkandang-2008", 1, months=1, overrides={**SMALL, name: value})
    _one_line_api_error(err, "overrides", f"field '{name}'", allowed)
    with pytest.raises(ScenarioError) as err:
        P2KPScenario.load("kedungkandang-2008", rng=1, overrides={name: value})
    _one_line_api_error(err, f"field '{name}'", allowed)
    with pytest.raises(ScenarioError) as err:
        P2KPScenario(**{name: value})
    _one_line_api_error(err, "scenario 'custom'", f"field '{name}'", allowed)


@pytest.mark.parametrize(
    "seed", [np.bool_(True), True, -1, np.int64(-3), 1.5, np.float64(2.0), "7", 2**64]
)
def test_bad_seeds_are_refused(seed):
    with pytest.raises(ScenarioError) as err:
        run("kedungkandang-2008", seed, months=1, overrides=SMALL)
    _one_line_api_error(err, "seed must be a non-negative integer")
    with pytest.raises(ScenarioError) as err:
        P2KPScenario(rng=seed)
    _one_line_api_error(err, "rng must be a non-negative integer", "or None")


def test_generators_are_still_seeds_of_a_scenario():
    gen = np.random.default_rng(4)
    assert P2KPScenario(rng=gen).rng is gen
    assert P2KPScenario().rng is None


def test_file_and_plot_errors_from_python_name_no_option(tmp_path):
    """``to_file`` and the envelope plot say ``path``, as the Python argument is named."""
    result = run("kedungkandang-2008", 1, months=1, overrides=SMALL)
    with pytest.raises(ValueError) as err:
        result.to_file(tmp_path / "run.txt")
    _one_line_api_error(err, "path: ", "must end in .parquet or .csv")
    from berdaya.experiments.plots import comparison_envelopes  # noqa: PLC0415

    done = compare("kedungkandang-2008", "kelurahan-partner", replications=1, months=1)
    with pytest.raises(ValueError) as err:
        comparison_envelopes(done, tmp_path / "plot.txt")
    _one_line_api_error(err, "path: ", "must end in", ".png")

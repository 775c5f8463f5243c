"""A run is a pure function of (scenario, seed): same table in any process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from support import build, last_month, step

from berdaya.agents.household import COLUMNS
from berdaya.experiments.run import RunResult, run
from berdaya.scenarios import P2KPScenario, shipped

SHIPPED = sorted(shipped())


@pytest.mark.parametrize("name", SHIPPED)
def test_same_seed_same_table_in_process(name):
    a = run(name, 11)
    b = run(name, 11)
    pd.testing.assert_frame_equal(a.records, b.records, check_exact=True)
    pd.testing.assert_frame_equal(a.phases, b.phases, check_exact=True)
    # a row per month and month 0, up to followup_months after the programme ends
    last = last_month(a.records, a.params)
    assert last < a.params["months"], "the run should stop on its own, not at the cap"
    assert len(a.records) == last + 1, "a row per month plus month 0"


def test_same_seed_same_households_in_process():
    a = step(build(4), 24)
    b = step(build(4), 24)
    for col in COLUMNS:
        np.testing.assert_array_equal(
            getattr(a.households, col), getattr(b.households, col), err_msg=col
        )


@pytest.mark.parametrize("hash_seed", ["0", "4242"])
def test_same_seed_same_table_in_fresh_process(tmp_path, hash_seed):
    """A fresh interpreter (other hash seed) writes the table the in-process run makes."""
    out = tmp_path / "run.parquet"
    phases = tmp_path / "phases.parquet"
    code = textwrap.dedent(
        f"""
        from berdaya.experiments.run import run
        result = run("kedungkandang-2008", 7)
        result.to_file({str(out)!r})
        result.phases.to_parquet({str(phases)!r})
        """
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    there = RunResult.read(out)
    here = run("kedungkandang-2008", 7)
    pd.testing.assert_frame_equal(there.records, here.records, check_exact=True)
    # the phase table is compared from its own file: the copy kept in the Parquet
    # metadata is rounded (see test_parquet_phase_table_is_exact in test_cli.py)
    pd.testing.assert_frame_equal(
        pd.read_parquet(phases), here.phases, check_exact=True
    )
    assert (there.scenario, there.seed, there.params) == (
        here.scenario,
        here.seed,
        here.params,
    )


@pytest.mark.parametrize("name", SHIPPED)
def test_different_seeds_different_tables(name):
    a = run(name, 1).records
    b = run(name, 2).records
    assert not a.equals(b), f"{name}: seeds 1 and 2 gave identical monthly tables"
    # the difference is in the dynamics, not only in one column
    numeric = a.select_dtypes("number").columns
    differing = [c for c in numeric if not np.array_equal(a[c], b[c])]
    assert len(differing) >= 10, f"only {differing} differ between seeds 1 and 2"


def test_recording_households_does_not_change_the_run():
    """Observation must not consume randomness or alter state."""
    a = run("kedungkandang-2008", 5, months=24, overrides={"n_households": 500})
    b = run(
        "kedungkandang-2008",
        5,
        months=24,
        overrides={"n_households": 500},
        record_households=True,
    )
    pd.testing.assert_frame_equal(a.records, b.records, check_exact=True)
    assert len(b.snapshots["stage"]) == 25
    assert not a.snapshots


def test_scenario_object_and_name_give_the_same_run():
    by_name = run("p2kp-design", 3, months=12)
    by_object = run(P2KPScenario.load("p2kp-design", rng=99), 3, months=12)
    pd.testing.assert_frame_equal(by_name.records, by_object.records, check_exact=True)


@pytest.mark.parametrize(
    ("name", "households"), [("kedungkandang-2008", 400), ("kota-malang", 60)]
)
@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_a_copied_model_goes_on_as_the_original(name, households, how):
    """A model pickled (or deep-copied) mid-run and stepped on gives the same run.

    Each kelurahan's households are a view of the model's table; a copy whose views had
    become arrays of their own would write rows the model no longer reads, and diverge.
    """
    import copy  # noqa: PLC0415
    import pickle  # noqa: PLC0415

    from berdaya.model import P2KPModel  # noqa: PLC0415

    scenario = P2KPScenario.load(
        name, rng=3, overrides={"n_households": households, "months": 36}
    )
    original = P2KPModel(scenario)
    for _ in range(14):
        original.step()
    if how == "pickle":
        twin = pickle.loads(pickle.dumps(original))
    else:
        twin = copy.deepcopy(original)
    for site in twin.sites:
        assert np.shares_memory(site.households.welfare, twin.households.welfare)
    for model in (original, twin):
        while model.running:
            model.step()
    pd.testing.assert_frame_equal(twin.records(), original.records(), check_exact=True)

"""Calibration (issue 14, point 2): the distance, the fit data, the command, the ensemble.

The quick calibration runs once for the module (about half a minute on two cores); the
test that continues a calibration on another number of workers runs two more small ones
and is marked slow.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

from berdaya import cli
from berdaya.experiments.calibrate import (
    CALIBRATED,
    QUICK_POPULATION,
    CalibrationConfig,
    CalibrationError,
    RangeDistance,
    Simulator,
    calibrate,
    evaluation_state,
    fit_targets,
    priors,
    target_distance,
    target_excess,
)
from berdaya.experiments.ensemble import (
    BOOKKEEPING,
    EnsembleError,
    draw_members,
    ensemble_path,
    load_ensemble,
    load_provenance,
    parameter_names,
)
from berdaya.experiments.targets import Target, load_targets
from berdaya.scenarios import schema

SHIPPED = "kedungkandang-2008"


def _target(name: str, low: float, high: float, use: str = "fit") -> Target:
    return Target(
        name=name,
        label=name,
        statistic="ksm_count",
        scenario="kedungkandang-2008",
        low=low,
        high=high,
        unit="x",
        use=use,
        source="made up",
    )


# --- the distance ---------------------------------------------------------------------------
def test_the_excess_is_zero_inside_the_range_and_grows_in_range_widths_outside():
    t = _target("a", 10.0, 20.0)
    for inside in (10.0, 15.0, 20.0):
        assert target_excess(inside, t) == 0.0
    assert target_excess(25.0, t) == pytest.approx(0.5)
    assert target_excess(30.0, t) == pytest.approx(1.0)
    assert target_excess(5.0, t) == pytest.approx(0.5)
    assert target_excess(-10.0, t) == pytest.approx(2.0)
    assert target_excess(float("nan"), t) == math.inf


def test_the_distance_is_zero_exactly_when_every_target_is_in_range():
    a, b = _target("a", 0.0, 1.0), _target("b", 10.0, 20.0)
    b = b.model_copy(update={"statistic": "relawan"})
    assert target_distance({"ksm_count": 0.5, "relawan": 15.0}, [a, b]) == 0.0
    assert target_distance(
        {"ksm_count": 1.5, "relawan": 15.0}, [a, b]
    ) == pytest.approx(0.5)
    assert target_distance(
        {"ksm_count": 1.5, "relawan": 25.0}, [a, b]
    ) == pytest.approx(1.0)
    further = target_distance({"ksm_count": 3.0, "relawan": 25.0}, [a, b])
    assert further == pytest.approx(2.5)


def test_the_fit_uses_the_fit_targets_only():
    targets = load_targets()
    fit = fit_targets(targets)
    assert fit, "no fit target"
    assert {t.use for t in fit} == {"fit"}
    assert [t.name for t in fit] == [t.name for t in targets if t.use == "fit"]


def test_held_out_statistics_do_not_move_the_distance():
    targets = load_targets()
    distance = RangeDistance(tuple(fit_targets(targets)))
    inside = {t.statistic: (t.low + t.high) / 2 for t in targets if t.use == "fit"}
    assert distance(inside, {}) == 0.0
    # every held-out (and input) statistic far outside its range
    wild = {**inside}
    for t in targets:
        if t.use != "fit" and t.statistic not in inside:
            wild[t.statistic] = t.high + 1000.0 * (t.high - t.low + 1.0)
    assert distance(wild, {}) == 0.0
    # and a simulation never measures a statistic only the holdouts use
    stats = Simulator("kedungkandang-2008", tuple(inside)).statistics
    holdout_only = {t.statistic for t in targets if t.use == "holdout"} - set(inside)
    assert holdout_only and not holdout_only & set(stats)


# --- the priors ------------------------------------------------------------------------------
def test_the_priors_are_the_schemas_plausible_ranges():
    info = schema()
    ranges = priors(CALIBRATED)
    assert list(ranges) == list(CALIBRATED)
    for name, (low, high) in ranges.items():
        assert info[name].kind == "uncertainty"
        assert (low, high) == tuple(info[name].plausible)
        assert low < high


@pytest.mark.parametrize("name", ["bogus", "n_households", "timetable_pace"])
def test_a_parameter_without_a_plausible_range_is_refused(name):
    with pytest.raises(CalibrationError, match="--parameters"):
        priors([name])


def test_seeds_depend_on_the_master_seed_generation_and_index():
    base = evaluation_state(1, 0, 0)
    assert np.array_equal(base, evaluation_state(1, 0, 0))
    for other in (
        evaluation_state(2, 0, 0),
        evaluation_state(1, 1, 0),
        evaluation_state(1, 0, 1),
    ):
        assert not np.array_equal(base, other)


# --- the command ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick(tmp_path_factory) -> Path:
    """``berdaya calibrate --quick`` into a temporary folder (about half a minute)."""
    out = tmp_path_factory.mktemp("quick") / "ensemble.parquet"
    assert cli.main(["calibrate", "--quick", "--out", str(out)]) == 0
    return out


def test_quick_writes_a_valid_ensemble_and_provenance(quick):
    frame = load_ensemble(quick)
    assert len(frame) == QUICK_POPULATION
    assert parameter_names(frame) == list(CALIBRATED)
    assert list(frame["member"]) == list(range(QUICK_POPULATION))
    assert frame["weight"].sum() == pytest.approx(1.0)
    assert (frame["weight"] > 0).all()
    for name, (low, high) in priors(CALIBRATED).items():
        assert frame[name].between(low, high).all(), name
    meta = load_provenance(quick)
    assert meta == json.loads(quick.with_suffix(".json").read_text(encoding="utf-8"))
    # the default schedule: one generation at epsilon 0, every fitting target in range
    assert meta["generations"] == 1 and meta["population"] == QUICK_POPULATION
    assert meta["epsilons"] == [0.0]
    assert (frame["distance"] == 0.0).all()
    assert frame["weight"].to_numpy() == pytest.approx(1.0 / QUICK_POPULATION)
    fit = [t.name for t in load_targets() if t.use == "fit"]
    assert [t["name"] for t in meta["fit_targets"]] == fit
    assert len(meta["acceptance_rates"]) == 1
    assert all(0 < a <= 1 for a in meta["acceptance_rates"])
    assert meta["pyabc"] and meta["seed"] == 2008
    assert quick.with_suffix(".db").is_file()
    assert not list(quick.parent.glob(".*.tmp")), "a temporary file was left"


def test_a_second_invocation_continues_and_adds_nothing_when_done(quick, capsys):
    before = pd.read_parquet(quick)
    assert cli.main(["calibrate", "--quick", "--out", str(quick)]) == 0
    assert "nothing left to run" in capsys.readouterr().err
    pd.testing.assert_frame_equal(pd.read_parquet(quick), before)


def _refused(capsys, code: int, *expected: str) -> str:
    out, err = capsys.readouterr()
    assert code == 2, f"exit {code}"
    assert out == "", f"something ran: {out[:200]!r}"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"not one line: {err!r}"
    assert "Traceback" not in err
    for text in expected:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"
    return lines[0]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--population", "0"], ["--population", "[10, 100,000]"]),
        (["--generations", "0"], ["--generations"]),
        (["--workers", "0"], ["--workers"]),
        (["--seed", "-1"], ["--seed"]),
        (["--min-epsilon", "-1"], ["--min-epsilon"]),
        (["--min-epsilon", "nan"], ["--min-epsilon"]),
        (["--population", "many"], ["--population", "invalid int"]),
        (["--out", "ensemble.csv"], ["--out", ".parquet"]),
        (["--db", "history.sqlite"], ["--db", ".db"]),
        (["--parameters", "bogus"], ["--parameters", "bogus", "allowed"]),
        (["--parameters", "n_households"], ["--parameters", "n_households"]),
        (["--report", "report.txt"], ["--report", ".md"]),
        (["--bogus"], ["unrecognized arguments"]),
    ],
)
def test_bad_options_get_one_line_and_write_nothing(
    args, names, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    argv = ["calibrate", "--quick", "--out", str(tmp_path / "e.parquet"), *args]
    try:
        code = cli.main(argv)
    except SystemExit as stop:
        code = stop.code
    _refused(capsys, code, *names)
    assert list(tmp_path.iterdir()) == [], "something was written"


def test_a_database_of_another_calibration_is_refused(quick, tmp_path, capsys):
    out = tmp_path / "other.parquet"
    argv = ["calibrate", "--quick", "--seed", "7", "--out", str(out)]
    code = cli.main([*argv, "--db", str(quick.with_suffix(".db"))])
    line = _refused(capsys, code, "--db", "another calibration", "seed", "--fresh")
    assert "7" in line
    assert not out.exists()


@pytest.mark.slow
def test_the_same_seed_gives_the_same_ensemble_on_any_workers_and_when_continued(
    tmp_path,
):
    """Two adaptive calibrations of 10 particles (about half a minute).

    One runs two generations straight on one worker; the other runs its first
    generation, stops, and is continued to the second on two workers. (That another
    seed gives other draws: test_seeds_depend_on_the_master_seed_generation_and_index.)
    """
    small = CalibrationConfig(
        population=10, generations=2, workers=1, seed=11, adaptive=True
    )
    straight = calibrate(small, tmp_path / "a.db").ensemble
    first = CalibrationConfig(
        population=10, generations=1, workers=1, seed=11, adaptive=True
    )
    calibrate(first, tmp_path / "b.db")
    on_two = CalibrationConfig(
        population=10, generations=2, workers=2, seed=11, adaptive=True
    )
    continued = calibrate(on_two, tmp_path / "b.db").ensemble
    pd.testing.assert_frame_equal(straight, continued)


# --- the shipped ensemble -----------------------------------------------------------------------
def test_the_shipped_ensemble_loads_with_200_members_inside_the_priors():
    frame = load_ensemble(SHIPPED)
    assert len(frame) >= 200
    names = parameter_names(frame)
    assert set(CALIBRATED) <= set(names)
    info = schema()
    for name in names:
        low, high = info[name].plausible
        assert frame[name].between(low, high).all(), name
    assert frame["weight"].sum() == pytest.approx(1.0)
    assert frame[list(BOOKKEEPING)].notna().all().all()


def test_the_shipped_provenance_names_the_fit_targets_and_no_holdout():
    meta = load_provenance(SHIPPED)
    named = [t["name"] for t in meta["fit_targets"]]
    targets = load_targets()
    assert named == [t.name for t in targets if t.use == "fit"]
    assert not set(named) & {t.name for t in targets if t.use != "fit"}
    for key in (
        "pyabc",
        "berdaya_commit",
        "priors",
        "epsilons",
        "acceptance_rates",
        "seed",
    ):
        assert meta[key] not in (None, "", [], {}), key
    assert meta["population"] >= 200
    assert ensemble_path(SHIPPED).with_suffix(".json").is_file()


def test_members_are_drawn_by_weight_reproducibly():
    frame = load_ensemble(SHIPPED)
    a = draw_members(frame, 5, np.random.default_rng(1))
    b = draw_members(frame, 5, np.random.default_rng(1))
    assert a == b and len(a) == 5
    assert set(a[0]) == set(parameter_names(frame))


def test_an_unknown_ensemble_is_one_clear_error(tmp_path):
    with pytest.raises(
        EnsembleError, match=f"no shipped ensemble named 'nowhere'.*{SHIPPED}"
    ):
        load_ensemble("nowhere")
    with pytest.raises(EnsembleError, match="does not exist"):
        load_ensemble(tmp_path / "missing.parquet")
    table = tmp_path / "table.parquet"
    pd.DataFrame({"x": [1.0]}).to_parquet(table)
    with pytest.raises(EnsembleError, match="not an ensemble"):
        load_ensemble(table)


def test_a_terminated_calibration_leaves_no_worker_behind(berdaya_exe, tmp_path):
    """SIGTERM (as a batch system stops a job) ends the command and its workers."""
    out = str(tmp_path / "e.parquet")
    proc = subprocess.Popen(
        [berdaya_exe, "calibrate", "--quick", "--workers", "2", "--out", out],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 120
        while len(parent.children(recursive=True)) < 2:
            assert proc.poll() is None, "the calibration ended before its pool started"
            assert time.monotonic() < deadline, "no worker processes appeared"
            time.sleep(0.2)
        workers = parent.children(recursive=True)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        _, alive = psutil.wait_procs(workers, timeout=15)
        assert not alive, f"workers left running: {[p.pid for p in alive]}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

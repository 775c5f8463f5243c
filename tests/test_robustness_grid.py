"""The robustness grid on the engine's store: a killed or repeated grid runs only what is missing."""

import pandas as pd
import pytest

from berdaya.experiments import engine, robustness
from berdaya.experiments.robustness import (
    DEGREE,
    THRESHOLD,
    RunTask,
    grid_key,
    run_grid,
)

GRID = {"thresholds": [0.2, 0.44], "degrees": [6.0, 12.0], "replications": 2, "seed": 5}


@pytest.fixture
def model_runs(monkeypatch):
    """The seeds the grid runs the model with, in this process (workers=1)."""
    real = robustness.run
    ran: list[int] = []

    def counted(scenario, seed, **kw):
        ran.append(seed)
        return real(scenario, seed, **kw)

    monkeypatch.setattr(robustness, "run", counted)
    return ran


@pytest.fixture(scope="module")
def uncached() -> pd.DataFrame:
    return run_grid(**GRID)


def test_an_interrupted_grid_resumes_with_only_the_missing_runs(
    uncached, tmp_path, monkeypatch, model_runs
):
    cache = tmp_path / "cache"
    counted = robustness.run
    kill_at = [3]

    def killed(scenario, seed, **kw):
        if len(model_runs) == kill_at[0]:
            raise KeyboardInterrupt  # as a command killed after three runs
        return counted(scenario, seed, **kw)

    monkeypatch.setattr(robustness, "run", killed)
    with pytest.raises(KeyboardInterrupt):
        run_grid(**GRID, cache=cache)
    assert len(list((cache / "grid" / "results").glob("*.parquet"))) == 3
    kill_at[0] = -1
    resumed = run_grid(**GRID, cache=cache)
    assert len(model_runs) == 3 + (8 - 3) and resumed.attrs["cached_runs"] == 3
    pd.testing.assert_frame_equal(resumed, uncached)


def test_a_subset_then_the_whole_grid_runs_each_run_once(
    uncached, tmp_path, model_runs
):
    cache = tmp_path / "cache"
    part = run_grid(**{**GRID, "degrees": [12.0]}, cache=cache)
    assert len(model_runs) == 4 and part.attrs["cached_runs"] == 0
    whole = run_grid(**GRID, cache=cache)
    assert len(model_runs) == 8 and whole.attrs["cached_runs"] == 4
    pd.testing.assert_frame_equal(whole, uncached)
    # same seeds: replication_seeds(5, 2) at every point, as without a cache
    assert (
        whole.groupby([THRESHOLD, DEGREE])["seed"].apply(list).map(tuple).nunique() == 1
    )
    again = run_grid(**GRID, cache=cache)
    assert len(model_runs) == 8 and again.attrs["cached_runs"] == 8
    pd.testing.assert_frame_equal(again, uncached)


def test_a_damaged_cached_run_is_run_again_and_not_counted_as_read(
    uncached, tmp_path, model_runs
):
    cache = tmp_path / "cache"
    run_grid(**{**GRID, "degrees": [12.0]}, cache=cache)
    first = sorted((cache / "grid" / "results").glob("*.parquet"))[0]
    first.write_bytes(first.read_bytes()[:100])  # as a disk that filled mid-write
    whole = run_grid(**GRID, cache=cache)
    assert len(model_runs) == 4 + 5 and whole.attrs["cached_runs"] == 3
    assert len(list((cache / "grid" / "results").glob("*.damaged"))) == 1
    pd.testing.assert_frame_equal(whole, uncached)


def test_the_key_covers_what_the_row_depends_on(monkeypatch):
    task = RunTask("kedungkandang-2008", {THRESHOLD: 0.2, DEGREE: 6.0}, 0, 11)
    key = grid_key(task)
    assert grid_key(RunTask(*task)) == key  # stable
    others = [
        task._replace(seed=12),
        task._replace(replication=1),
        task._replace(overrides={THRESHOLD: 0.2, DEGREE: 8.0}),
        # the same values, but the row has another column
        task._replace(overrides={**task.overrides, "endorsement_weight": 1.0}),
        task._replace(scenario="kelurahan-partner"),
    ]
    assert len({key, *map(grid_key, others)}) == 1 + len(others)
    monkeypatch.setattr(engine, "code_version", lambda: "0.0.0+changed")
    assert grid_key(task) != key  # another model's code


def test_the_grid_command_reads_its_runs_back_and_writes_the_same_table(
    tmp_path, capsys, model_runs
):
    out = tmp_path / "validation.md"
    argv = [
        *("--out", str(out), "--thresholds", "2", "--degrees", "2"),
        *("--replications", "2", "--spread-replications", "3", "--workers", "1"),
        *("--cache", str(tmp_path / "cache")),
    ]
    assert robustness.main(argv) == 0
    first = robustness.section_of(out.read_text(encoding="utf-8"))
    assert len(model_runs) == 8 + 3
    assert "read from the cache" not in first
    assert f"--cache {tmp_path / 'cache'}" in first  # the command says where
    capsys.readouterr()
    assert robustness.main(argv) == 0
    assert len(model_runs) == 8 + 3  # nothing ran again
    second = robustness.section_of(out.read_text(encoding="utf-8"))
    assert "11 runs in" in second and "11 of them read from the cache" in second

    def table(section: str) -> list[str]:
        return [line for line in section.splitlines() if not line.startswith("- ")]

    assert table(second) == table(first)

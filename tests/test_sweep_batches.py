"""A sweep's runs in batches: many runs a task, a Parquet file a batch, resumable by key.

Issue 19, point 3 and issue 15's store: a batch's file is written whole or not at all;
a resume runs only the runs whose key has no whole result on disk (a damaged batch file
is moved aside and its runs alone run again); a run that raises is recorded alone and its
batch's other runs are kept; the results are those of one run a file, on one process or
many; a folder written one file a run (before batches) resumes and reads the same way.
"""

from __future__ import annotations

import json
import os

import pandas as pd
import pyarrow.parquet as pq
import pytest

import berdaya.experiments.sweep as sweep_module
from berdaya.cli import main
from berdaya.experiments import executors, read_errors, read_results, run_sweep
from berdaya.experiments.files import read_table, write_table
from berdaya.experiments.sweep import (
    DAMAGED,
    MAX_BATCH,
    SweepFolder,
    batch_size,
    toml_of,
)

SPEC = {
    "description": "four points, four seeds",
    "scenario": "kedungkandang-2008",
    "replications": 4,
    "seed": 5,
    "design": "grid",
    "set": {"n_households": 100, "months": 6},
    "levers": {"kelurahan_involvement": [0.0, 0.5, 1.0]},
    "outcomes": {"keep": ["pendayaan_poor", "gov_support"], "every": 3},
}
RUNS = 16


@pytest.fixture(scope="module")
def one_a_file(tmp_path_factory):
    """The sweep with one run a batch, in this process: the reference."""
    out = tmp_path_factory.mktemp("one") / "out"
    return out, run_sweep(SPEC, out, workers=1, batch=1)


def test_the_batch_size_is_chosen_from_the_runs_and_workers():
    assert batch_size(300, 2) == 10  # 16 batches a worker at least
    assert batch_size(10**6, 8) == MAX_BATCH
    assert batch_size(5, 4) == 1
    assert batch_size(300, 1, in_flight=4) == 4  # no more than the runs in flight


@pytest.mark.parametrize("workers", [1, 2])
def test_batches_give_the_results_of_one_run_a_file(one_a_file, tmp_path, workers):
    _, expected = one_a_file
    out = tmp_path / "out"
    got = run_sweep(SPEC, out, workers=workers, batch=5)
    pd.testing.assert_frame_equal(got, expected)
    files = sorted((out / "runs").glob("*.parquet"))
    assert len(files) == 4  # 5 + 5 + 5 + 1
    meta = read_table(files[0])[1]
    assert [r["run_id"] for r in meta["runs"]] == [  # in the design's order
        *(f"p000{p}-r000" for p in range(4)),
        "p0000-r001",
    ]
    assert meta["rows"] == pq.read_metadata(files[0]).num_rows
    assert meta["batch"] == files[0].stem and meta["host"]


def test_a_damaged_batch_is_moved_aside_and_its_runs_alone_run_again(
    runs_counter, one_a_file, tmp_path, monkeypatch
):
    _, expected = one_a_file
    out = tmp_path / "out"
    run_sweep(SPEC, out, workers=1, batch=5)
    path = SweepFolder(out).file_of("p0001-r001")
    held = [r["run_id"] for r in SweepFolder(out).index()[path]]
    path.write_bytes(path.read_bytes()[:-200])  # cut short
    ran = runs_counter()
    got = run_sweep(SPEC, out, workers=1)
    assert sorted(ran) == sorted(held) and len(held) == 5
    assert (path.parent / (path.name + DAMAGED)).is_file()
    pd.testing.assert_frame_equal(got, expected)


def test_a_run_that_raises_in_a_batch_loses_none_of_the_others(
    runs_counter, one_a_file, tmp_path, monkeypatch
):
    _, expected = one_a_file
    real = sweep_module.run

    def flaky(scenario, seed, *args, **kwargs):
        if (
            scenario.params.kelurahan_involvement == 0.5
            and seed == expected.loc[expected["replication"] == 2, "seed"].iloc[0]
        ):
            raise FloatingPointError("simulated failure")
        return real(scenario, seed, *args, **kwargs)

    monkeypatch.setattr(sweep_module, "run", flaky)
    out = tmp_path / "out"
    got = run_sweep(SPEC, out, workers=1, batch=8)
    assert list(read_errors(out)["run_id"]) == ["p0002-r002"]
    assert got["run_id"].nunique() == RUNS - 1
    same = expected[expected["run_id"] != "p0002-r002"].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, same)
    # retried alone: its own batch, the error file gone
    monkeypatch.setattr(sweep_module, "run", real)
    ran = runs_counter()
    got = run_sweep(SPEC, out, workers=1, retry_errors=True)
    assert ran == ["p0002-r002"] and read_errors(out).empty
    pd.testing.assert_frame_equal(got, expected)


def test_a_limit_then_the_rest_in_other_batches_equals_one_go(one_a_file, tmp_path):
    _, expected = one_a_file
    out = tmp_path / "out"
    run_sweep(SPEC, out, workers=2, limit=7)
    got = run_sweep(SPEC, out, workers=2, batch=3)
    pd.testing.assert_frame_equal(got, expected)
    assert len(SweepFolder(out).run_records()) == RUNS


def test_a_folder_of_one_file_a_run_resumes_and_reads_the_same(
    runs_counter, one_a_file, tmp_path, monkeypatch
):
    """Sweep folders written before batches: each file a run, named by its id."""
    _, expected = one_a_file
    out = tmp_path / "out"
    run_sweep(SPEC, out, workers=1, batch=1, limit=10)
    for path, (run,) in SweepFolder(out).index().items():  # the older layout
        table, _ = read_table(path)
        write_table(table, out / "runs" / f"{run['run_id']}.parquet", run)
        path.unlink()
    ids = sorted(p.stem for p in (out / "runs").iterdir())
    assert len(ids) == 10
    part = expected[expected["run_id"].isin(ids)].reset_index(drop=True)
    pd.testing.assert_frame_equal(read_results(out), part)
    ran = runs_counter()
    got = run_sweep(SPEC, out, workers=1)
    assert len(ran) == RUNS - 10
    pd.testing.assert_frame_equal(got, expected)
    names = [p.name for p in (out / "runs").iterdir()]
    assert sum("+" in n for n in names) >= 1 and len(names) > 10
    assert all(os.path.getsize(out / "runs" / n) > 0 for n in names)
    assert json.loads((out / "meta.json").read_text())["runs"] == RUNS


def test_cli_batch_option(one_a_file, tmp_path, capsys):
    _, expected = one_a_file
    spec = tmp_path / "spec.toml"
    spec.write_text(toml_of(SPEC))
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--batch", "0"]) == 2
    err = capsys.readouterr().err
    assert err == "berdaya: error: --batch must be at least 1 (got 0)\n"
    assert not out.exists()
    args = ["sweep", str(spec), "--out", str(out), "--batch", "6", "--workers", "1"]
    assert main(args) == 0
    assert len(list((out / "runs").glob("*.parquet"))) == 3  # 6 + 6 + 4
    pd.testing.assert_frame_equal(read_results(out), expected)


def test_local_workers_start_warm():
    """The pool's initializer imports the model and loads numba's kernels, once."""
    pool = executors.local_pool(1)
    try:
        assert pool._initializer is executors._start_worker
    finally:
        pool.shutdown()
    assert executors.warm_worker()


def test_the_national_benchmark_reads_every_run_of_a_batch(tmp_path):
    """benchmarks.national counts kelurahan by run, not by file, and shares a file's bytes.

    Its cost model (seconds and bytes a kelurahan) read one run a file before batches; a
    batch file's runs must each be a row, their bytes adding up to the files' sizes.
    """
    from benchmarks.national import run_files, write_seconds  # noqa: PLC0415

    out = tmp_path / "out"
    run_sweep(SPEC, out, workers=1, batch=5)
    files = list((out / "runs").glob("*.parquet"))
    rows = run_files(out)
    assert len(files) < RUNS == len(rows)
    assert {r["households"] for r in rows} == {100}
    assert all(r["seconds"] > 0 and r["host"] for r in rows)
    assert sum(r["bytes"] for r in rows) == pytest.approx(
        sum(p.stat().st_size for p in files)
    )
    assert write_seconds(out, tmp_path, n=2) > 0

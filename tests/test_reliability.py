"""Issue 18: bounded resources, checked outputs, self-verifying results, a locked folder.

Each test is one of the issue's problems, reproduced on real files (and, for TLS, a real
Dask cluster on 127.0.0.1): the command either does its work or stops in one line on
stderr, before anything runs, never with a traceback, never after the work is lost.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from support import within

from berdaya.cli import main
from berdaya.experiments import calibrate as cal
from berdaya.experiments import limits, read_results, run_sweep
from berdaya.experiments.engine import local_executor
from berdaya.experiments.lock import LOCK_NAME, folder_lock
from berdaya.experiments.sweep import DAMAGED, SweepFolder
from berdaya.scenarios import P2KPScenario, ScenarioError
from berdaya.viz.controls import make_scenario

TINY = """
description = "tiny grid"
scenario = "kedungkandang-2008"
replications = 2
seed = 11
design = "grid"

[set]
n_households = 120
months = 6

[levers]
kelurahan_involvement = [0.0, 1.0]

[outcomes]
keep = ["powerless_poor", "gov_support"]
every = 3
"""
RUNS = 6  # (base + 2 levels) x 2 replications


def _spec(tmp_path: Path, text: str = TINY, name: str = "tiny.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _one_line(capsys, *expected: str) -> str:
    """The one line on stderr, checked (no traceback, each expected text in it)."""
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].strip(), f"not one line: {err!r}"
    assert "Traceback" not in err
    for text in expected:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"
    return lines[0]


def _sweep(spec: Path, out: Path, *more: str) -> int:
    return main(["sweep", str(spec), "--out", str(out), "--workers", "1", *more])


# --- 1. workers are bounded by the cores ------------------------------------------------
def test_a_pool_never_has_more_processes_than_the_cores(monkeypatch):
    monkeypatch.setattr(limits, "usable_cores", lambda: 2)
    with local_executor(10_000, 500) as pool:
        assert pool._max_workers == 2
    assert limits.cap_workers(None) == 2 and limits.cap_workers(1) == 1


def test_usable_cores_follow_the_affinity_mask():
    assert limits.usable_cores() == len(os.sched_getaffinity(0))


def test_a_sweep_from_python_with_10000_workers_uses_the_cores(monkeypatch, tmp_path):
    sizes: list[int] = []
    real = local_executor

    def spy(workers, tasks):
        sizes.append(workers)
        return real(1, tasks)  # run here: the test is about the number asked for

    monkeypatch.setattr(limits, "usable_cores", lambda: 2)
    monkeypatch.setattr("berdaya.experiments.sweep.local_executor", spy)
    run_sweep(_spec(tmp_path), tmp_path / "out", workers=10_000)
    assert sizes == [2]


def test_calibrate_caps_its_workers_with_a_warning(monkeypatch, capsys, tmp_path):
    seen = []

    def stop(config, *args, **kwargs):
        seen.append(config.workers)
        raise cal.CalibrationError("stopped here")

    monkeypatch.setattr(limits, "usable_cores", lambda: 2)
    monkeypatch.setattr(cal, "usable_cores", lambda: 2)
    monkeypatch.setattr(cal, "calibrate", stop)
    out = tmp_path / "e.parquet"
    assert main(["calibrate", "--workers", "200", "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert seen == [2]
    assert err[0] == (
        "berdaya calibrate: warning: --workers 200 is more than the 2 cores of this "
        "machine; using 2"
    )


# --- 2. size limits, before anything is laid out ------------------------------------------
HUGE = {
    "samples": (
        'design = { kind = "lhs", samples = 1000000000 }\n'
        "[uncertainties]\nmean_degree = { low = 4.0, high = 16.0 }\n",
        "1,000,000,001 design points x 1 replications = 1,000,000,001 runs",
    ),
    "replications": (
        "replications = 100000000000\n[levers]\nkelurahan_involvement = [0.0]\n",
        "2 design points x 100,000,000,000 replications = 200,000,000,000 runs",
    ),
    "grid": (
        "[levers]\n"
        + "".join(
            f"{n} = {{ low = 0.0, high = 1.0, levels = 30 }}\n"
            for n in ("kelurahan_involvement", "women_quota", "faskel_skill")
        )
        + "[uncertainties]\n"
        + "".join(
            f"{n} = {{ low = 0.2, high = 0.5, levels = 30 }}\n"
            for n in ("poor_share", "ps2_accuracy")
        ),
        "24,300,001 design points x 1 replications = 24,300,001 runs",
    ),
}


@pytest.mark.parametrize("case", sorted(HUGE))
def test_a_huge_design_is_refused_at_once(case, tmp_path, capsys, models_built):
    text, count = HUGE[case]
    spec = _spec(tmp_path, f'scenario = "kedungkandang-2008"\n{text}')
    out = tmp_path / "out"
    start = time.perf_counter()
    code = _sweep(spec, out)
    assert time.perf_counter() - start < 1.0
    assert code == 2
    _one_line(capsys, count, "more than the limit of 1,000,000", "--max-runs N")
    assert models_built == [] and not out.exists()


@pytest.mark.parametrize(
    "text", ["", 'scenario = "kedungkandang-2008"\n[set]\nmonths = 2\n']
)
def test_an_empty_spec_is_refused(text, tmp_path, capsys, models_built):
    out = tmp_path / "out"
    assert _sweep(_spec(tmp_path, text), out) == 2
    _one_line(
        capsys, "tiny.toml: the spec varies nothing", "[levers] or [uncertainties]"
    )
    assert models_built == [] and not out.exists()


def test_max_runs_lowers_and_raises_the_limit(tmp_path, capsys):
    spec, out = _spec(tmp_path), tmp_path / "out"
    assert _sweep(spec, out, "--max-runs", str(RUNS - 1)) == 2
    _one_line(capsys, f"= {RUNS} runs, more than the limit of {RUNS - 1}")
    assert not out.exists()
    assert _sweep(spec, out, "--max-runs", str(RUNS)) == 0
    assert len(list((out / "runs").glob("*.parquet"))) == RUNS


def test_a_design_larger_than_memory_is_refused_even_under_a_raised_limit(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(limits, "_available_memory", lambda: 8 * 10**9)
    spec = _spec(
        tmp_path,
        'design = { kind = "lhs", samples = 10000000 }\n'
        "[uncertainties]\nmean_degree = { low = 4.0, high = 16.0 }\n",
    )
    start = time.perf_counter()
    code = _sweep(spec, tmp_path / "out", "--max-runs", str(10**12))
    assert time.perf_counter() - start < 1.0 and code == 2
    _one_line(
        capsys,
        "10,000,001 design points need about 163.8 GB of memory, more than half of "
        "the 8.0 GB available",
    )


def test_a_sweep_larger_than_the_free_space_is_refused(tmp_path, capsys, monkeypatch):
    free = shutil.disk_usage(tmp_path).free
    monkeypatch.setattr(limits, "RUN_FILE_BYTES", free)  # a run file: the whole disk
    out = tmp_path / "out"
    assert _sweep(_spec(tmp_path), out) == 2
    _one_line(capsys, "--out: the runs need about", "free some space")
    assert not out.exists()


# --- 3. damaged run files ---------------------------------------------------------------
def test_damaged_run_files_are_set_aside_and_run_again(tmp_path, capsys):
    spec, out = _spec(tmp_path), tmp_path / "out"
    assert _sweep(spec, out) == 0
    whole = read_results(out)
    runs = sorted((out / "runs").glob("*.parquet"))
    runs[1].write_bytes(runs[1].read_bytes()[:-100])  # truncated
    runs[4].write_bytes(b"")  # zero bytes
    capsys.readouterr()

    assert main(["report", str(out), "--no-plots"]) == 2
    _one_line(capsys, f"'{runs[1]}' is damaged (not a whole Parquet file", "again")

    assert _sweep(spec, out) == 0
    said = capsys.readouterr().out
    assert (
        f"sweep done: {RUNS} runs in {out} (2 run now, {RUNS - 2} already there" in said
    )
    assert f"2 files of runs were damaged ({runs[1].stem}, {runs[4].stem})" in said
    assert sorted(p.name for p in (out / "runs").glob(f"*{DAMAGED}")) == [
        runs[1].name + DAMAGED,
        runs[4].name + DAMAGED,
    ]
    pd.testing.assert_frame_equal(read_results(out), whole)  # the same runs, again
    assert main(["report", str(out), "--no-plots"]) == 0
    assert "2 files of runs were damaged, moved aside" in capsys.readouterr().out


def test_a_run_file_with_rows_missing_is_damaged(tmp_path):
    spec, out = _spec(tmp_path), tmp_path / "out"
    assert _sweep(spec, out) == 0
    path = sorted((out / "runs").glob("*.parquet"))[0]
    table = pq.read_table(path)
    pq.write_table(table.slice(0, 1), path)  # the metadata says more rows
    assert SweepFolder(out).set_aside_damaged() == [path.stem]


def test_a_damaged_error_file_is_set_aside(tmp_path, capsys):
    spec, out = _spec(tmp_path), tmp_path / "out"
    assert _sweep(spec, out) == 0
    bad = out / "errors" / "p0001-r000.json"
    bad.write_text('{"run_id": "p0001-r0')
    capsys.readouterr()
    assert main(["report", str(out), "--no-plots"]) == 2
    _one_line(capsys, f"'{bad}' is damaged (not JSON")
    assert SweepFolder(out).set_aside_damaged() == ["p0001-r000"]
    assert main(["report", str(out), "--no-plots"]) == 0


# --- 4. output paths checked first; a full disk mid-sweep ---------------------------------
UNWRITABLE = {
    "run-out": (["run", "--out", "/proc/berdaya/out.csv"], "--out: '/proc/berdaya/"),
    "compare-out": (
        ["compare", "kedungkandang-2008", "none", "--out", "/proc/o.parquet"],
        "--out: '/proc/o.parquet' cannot be written",
    ),
    "compare-plot": (
        ["compare", "kedungkandang-2008", "none", "--plot", "/proc/p.png"],
        "--plot: '/proc/p.png' cannot be written",
    ),
    "levers-out": (["levers", "--out", "/proc/t.md"], "--out: '/proc/t.md'"),
    "sweep-out": (
        ["sweep", "involvement-progression", "--out", "/proc/sweep"],
        "--out: '/proc/sweep' cannot be written",
    ),
    "national-out": (
        ["national", "--kelurahan", "3", "--out", "/proc/nat"],
        "--out: '/proc/nat' cannot be written",
    ),
    "calibrate-out": (
        ["calibrate", "--out", "/proc/ens.parquet"],
        "--out: '/proc/ens.parquet' cannot be written",
    ),
}


@pytest.mark.parametrize("case", sorted(UNWRITABLE))
def test_an_unwritable_output_is_refused_before_any_run(case, capsys, models_built):
    args, expected = UNWRITABLE[case]
    with within(20):
        code = main(args)
    assert code == 2
    _one_line(capsys, expected)
    assert models_built == []


def test_a_folder_as_out_file_is_refused(tmp_path, capsys, models_built):
    assert main(["run", "--out", str(tmp_path / "x.csv"), "--months", "1"]) == 0
    capsys.readouterr()
    (tmp_path / "d.csv").mkdir()
    assert main(["run", "--out", str(tmp_path / "d.csv")]) == 2
    _one_line(capsys, f"--out: '{tmp_path / 'd.csv'}' is a folder")


def test_a_full_disk_mid_sweep_says_what_is_kept_and_resumes(
    tmp_path, capsys, monkeypatch
):
    spec, out = _spec(tmp_path), tmp_path / "out"
    real = SweepFolder.write
    written: list[str] = []

    def write(self, tasks, outcomes):  # batches of one run here: 6 runs, 1 worker
        if len(written) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.extend(t.run_id for t in tasks)
        real(self, tasks, outcomes)

    monkeypatch.setattr(SweepFolder, "write", write)
    assert _sweep(spec, out) == 1
    _one_line(
        capsys,
        f"berdaya: sweep stopped: cannot write to {out}: No space left on device; "
        f"2 of {RUNS} runs are on disk in {out}; make room",
        "run the same command again to resume",
    )
    monkeypatch.setattr(SweepFolder, "write", real)
    assert _sweep(spec, out) == 0
    assert f"({RUNS - 2} run now, 2 already there" in capsys.readouterr().out


def _limited(limit: int):
    def start() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return start


def test_a_file_size_limit_mid_sweep_ends_in_one_line(tmp_path, berdaya_exe):
    # run files of 2 outcomes take about 20 KB, the design and spec less; a limit
    # between them lets the folder be made and stops at the first run file
    spec, out = _spec(tmp_path), tmp_path / "out"
    done = subprocess.run(
        [berdaya_exe, "sweep", str(spec), "--out", str(out), "--workers", "1"],
        preexec_fn=_limited(12_000),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "File too large" in lines[0] and f"0 of {RUNS} runs are on disk" in lines[0]
    assert "(or raise the file-size limit)" in lines[0]
    assert list((out / "runs").iterdir()) == []  # no half-written file
    assert _sweep(spec, out) == 0


# --- 5. a lock on the folder -------------------------------------------------------------
HOLD = """
import sys, time
from berdaya.experiments.lock import folder_lock
with folder_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_sweep_on_a_held_folder_stops_at_once(tmp_path, capsys, models_built):
    spec, out = _spec(tmp_path), tmp_path / "out"
    assert _sweep(spec, out) == 0
    SweepFolder(out).file_of("p0001-r000").unlink()
    stray = out / "runs" / ".p0001-r000+1.parquet.123.tmp"
    stray.write_bytes(b"in flight")
    capsys.readouterr()
    models_built.clear()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        start = time.perf_counter()
        code = _sweep(spec, out)
        assert time.perf_counter() - start < 5 and code == 2
        _one_line(
            capsys,
            f"--out: '{out}' is being written by another sweep (pid {holder.pid} on "
            f"{platform.node()}, since ",
            "wait for it to end, or give another folder",
        )
        assert stray.exists()  # its temporary files are left alone
        assert models_built == []
    finally:
        holder.kill()
        holder.wait()
    assert _sweep(spec, out) == 0  # the lock went with its holder
    assert not stray.exists()  # a dead sweep's temporary file, cleaned under the lock


def test_the_lock_file_is_not_another_file_of_the_folder(tmp_path):
    spec, out = _spec(tmp_path), tmp_path / "out"
    with folder_lock(out):
        pass
    assert [p.name for p in out.iterdir()] == [LOCK_NAME]
    assert _sweep(spec, out) == 0
    assert json.loads((out / "meta.json").read_text())["runs"] == RUNS


# --- 10. one validation path: the Python API and the app's controls are strict too -------
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"faskel_count": 2.7}, "faskel_count must be an integer in [0, 20] (got 2.7)"),
        ({"faskel_count": "2.7"}, "faskel_count must be an integer in [0, 20]"),
        (
            {"joint_liability": "yes"},
            "joint_liability must be true or false (got 'yes')",
        ),
        ({"joint_liability": 1}, "joint_liability must be true or false (got 1)"),
        ({"no_such_lever": 1}, "unknown lever 'no_such_lever'; `berdaya params` lists"),
    ],
)
def test_the_apps_controls_refuse_what_the_schema_refuses(values, expected):
    with pytest.raises(ScenarioError) as err:
        make_scenario("kedungkandang-2008", values, 1)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_the_apps_controls_take_whole_numbers_written_as_such():
    scen = make_scenario(
        "kedungkandang-2008", {"faskel_count": "3", "ksm_size": 12.0}, 1
    )
    assert (scen.params.faskel_count, scen.params.ksm_size) == (3, 12)


def test_the_python_api_takes_no_yes_for_a_flag():
    with pytest.raises(ScenarioError, match=r"'joint_liability' must be true or false"):
        P2KPScenario(rng=1, joint_liability="yes")
    with pytest.raises(ScenarioError, match=r"'n_households' must be an integer"):
        P2KPScenario(rng=1, n_households="120")


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("faskel_count=2.7", "field 'faskel_count' must be an integer in [0, 20]"),
        ("joint_liability=yes", "field 'joint_liability' must be true or false"),
    ],
)
def test_set_and_files_refuse_fractions_and_yes(
    item, expected, tmp_path, capsys, models_built
):
    assert main(["run", "--set", item]) == 2
    _one_line(capsys, "--set", expected)
    name, value = item.split("=")
    path = tmp_path / "s.toml"
    path.write_text(f"{name} = {value if name == 'faskel_count' else '"yes"'}\n")
    assert main(["run", "--scenario", str(path)]) == 2
    _one_line(capsys, str(path), expected)
    assert models_built == []

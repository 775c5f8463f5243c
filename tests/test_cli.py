"""The ``berdaya`` command: bad input gets one line and runs nothing; output files."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from berdaya.cli import main
from berdaya.experiments.run import RunResult, run
from berdaya.experiments.sweep import SweepStoppedError
from berdaya.scenarios import schema, shipped

SHIPPED_LIST = ", ".join(shipped())
SMALL_RUN = ["--months", "3", "--set", "n_households=200"]


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.rglob("*")}


def _assert_refused(capsys, code: int, *expected: str) -> str:
    out, err = capsys.readouterr()
    assert code == 2, f"exit status {code}; stderr {err!r}"
    assert out == "", f"something ran: {out[:200]!r}"
    line = err.rstrip("\n")
    assert line.startswith("berdaya: error: "), err
    assert "\n" not in line, f"the message is not one line: {err!r}"
    assert "Traceback" not in err
    for text in expected:
        assert text in line, f"{text!r} not in {line!r}"
    return line


# --- bad scenario files -----------------------------------------------------------------
BAD_FILES = {
    "unknown-key": (
        "n_househods = 100\n",
        ["unknown field 'n_househods'", "did you mean 'n_households'?"],
    ),
    "string-for-int": (
        'n_households = "many"\n',
        ["field 'n_households'", "an integer in [20, 2,000,000]", "'many'"],
    ),
    "string-for-float": (
        'poor_share = "0.3"\n',
        ["field 'poor_share'", "a number in [0, 1]", "'0.3'"],
    ),
    "float-for-int": (
        "faskel_count = 1.5\n",
        ["field 'faskel_count'", "an integer in [0, 20]"],
    ),
    "out-of-range": (
        "poor_share = 1.5\n",
        ["field 'poor_share'", "a number in [0, 1]", "(got 1.5)"],
    ),
    "bad-choice": (
        'progression = "fast"\n',
        ["field 'progression'", "one of schedule, readiness, hybrid", "'fast'"],
    ),
    "table": (
        "[cycle]\nmeetings_per_month = 2\n",
        ["field 'cycle' is a table", "name = value"],
    ),
    "invalid-toml": ("n_households = \n", ["not valid TOML", "line 1"]),
    "unknown-base": (
        'base = "kedung"\n',
        ["field 'base'", f"one of {SHIPPED_LIST}", "'kedung'"],
    ),
    "cross-field": (
        "within_rt_tie_share = 0.9\ncross_rw_tie_share = 0.2\n",
        ["within_rt_tie_share + cross_rw_tie_share must be at most 1"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_scenario_file_is_refused(case, tmp_path, capsys, models_built):
    text, expected = BAD_FILES[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    out = tmp_path / "out.parquet"
    code = main(["run", "--scenario", str(path), "--out", str(out)])
    _assert_refused(capsys, code, str(path), *expected)
    assert models_built == [], "a model was built"
    assert _files(tmp_path) == {path.name}, "something was written"


def test_missing_scenario_file_is_refused(tmp_path, capsys, models_built):
    path = tmp_path / "absent.toml"
    code = main(["run", "--scenario", str(path), "--out", str(tmp_path / "o.csv")])
    _assert_refused(capsys, code, str(path), "no such scenario file")
    assert models_built == [] and _files(tmp_path) == set()


def test_unknown_scenario_name_is_refused(tmp_path, capsys, models_built):
    code = main(
        ["run", "--scenario", "kedungkandang", "--out", str(tmp_path / "o.csv")]
    )
    _assert_refused(capsys, code, "'kedungkandang'", SHIPPED_LIST)
    assert models_built == [] and _files(tmp_path) == set()


# --- bad command-line values ------------------------------------------------------------
BAD_ARGS = {
    "set-unknown": (
        ["--set", "n_househols=300"],
        ["--set", "unknown field 'n_househols'", "did you mean 'n_households'?"],
    ),
    "set-out-of-range": (
        ["--set", "poor_share=2"],
        ["--set", "field 'poor_share'", "a number in [0, 1]", "(got 2)"],
    ),
    "set-wrong-type": (
        ["--set", "n_households=lots"],
        ["--set", "field 'n_households'", "an integer in [20, 2,000,000]"],
    ),
    "set-bad-choice": (
        ["--set", "progression=readyness"],
        ["--set", "field 'progression'", "one of schedule, readiness, hybrid"],
    ),
    "set-no-equals": (["--set", "poor_share"], ["--set", "'poor_share'", "name=value"]),
    "months-zero": (["--months", "0"], ["--months", "at least 1", "(got 0)"]),
    "seed-negative": (["--seed", "-1"], ["seed", "non-negative", "-1"]),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGS))
def test_bad_argument_is_refused(case, tmp_path, capsys, models_built):
    args, expected = BAD_ARGS[case]
    out = tmp_path / "out.parquet"
    code = main(["run", *args, "--out", str(out)])
    _assert_refused(capsys, code, *expected)
    assert models_built == [] and _files(tmp_path) == set()


@pytest.mark.parametrize("name", ["result.txt", "result", "result.parquet.bak"])
def test_out_with_bad_extension_is_refused_before_running(
    name, tmp_path, capsys, models_built
):
    out = tmp_path / name
    code = main(["run", *SMALL_RUN, "--out", str(out)])
    _assert_refused(capsys, code, "--out", name, ".parquet or .csv")
    assert models_built == [] and _files(tmp_path) == set()


def test_out_hidden_name_is_refused_before_running(tmp_path, capsys, models_built):
    code = main(["run", *SMALL_RUN, "--out", str(tmp_path / ".parquet")])
    out, err = capsys.readouterr()
    assert code == 2 and models_built == [] and out == "", (code, out[:80], err)


def test_bad_input_through_the_console_script(berdaya_exe, tmp_path):
    out = tmp_path / "o.parquet"
    proc = subprocess.run(
        [berdaya_exe, "run", "--set", "meeting_rech=0.3", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("berdaya: error: --set: unknown field 'meeting_rech'")
    assert "did you mean 'meeting_reach'?" in proc.stderr
    assert _files(tmp_path) == set()


# --- output files -----------------------------------------------------------------------
def test_console_script_writes_parquet_that_reads_back(berdaya_exe, tmp_path):
    out = tmp_path / "runs" / "small.parquet"
    proc = subprocess.run(
        [berdaya_exe, "run", "--seed", "4", *SMALL_RUN, "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "berdaya run: scenario kedungkandang-2008, seed 4, 3 months" in proc.stdout
    assert str(out) in proc.stdout
    back = RunResult.read(out)
    here = run("kedungkandang-2008", 4, months=3, overrides={"n_households": 200})
    pd.testing.assert_frame_equal(back.records, here.records, check_exact=True)
    assert (back.scenario, back.seed, back.params) == (
        "kedungkandang-2008",
        4,
        here.params,
    )
    assert back.phases.status.tolist() == here.phases.status.tolist()
    assert _files(tmp_path / "runs") == {"small.parquet"}, "a temporary file was left"


def test_main_writes_csv(tmp_path, capsys):
    out = tmp_path / "small.csv"
    code = main(["run", "--seed", "4", *SMALL_RUN, "--out", str(out)])
    assert code == 0
    assert f"monthly table written to {out}" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert (table.scenario == "kedungkandang-2008").all() and (table.seed == 4).all()
    here = run("kedungkandang-2008", 4, months=3, overrides={"n_households": 200})
    pd.testing.assert_frame_equal(
        table.drop(columns=["scenario", "seed"]),
        here.records,
        check_dtype=False,
        check_exact=True,
    )


def test_to_file_refuses_other_endings(tmp_path):
    result = run("kedungkandang-2008", 1, months=2, overrides={"n_households": 100})
    with pytest.raises(ValueError, match=r"must end in \.parquet or \.csv"):
        result.to_file(tmp_path / "x.json")
    assert _files(tmp_path) == set()


def test_parquet_phase_table_is_exact(tmp_path):
    result = run("kedungkandang-2008", 7)
    back = RunResult.read(result.to_file(tmp_path / "r.parquet"))
    pd.testing.assert_frame_equal(back.phases, result.phases, check_exact=True)


def test_written_file_follows_the_umask(tmp_path):
    result = run("kedungkandang-2008", 1, months=2, overrides={"n_households": 100})
    old = os.umask(0o022)
    try:
        path = result.to_file(tmp_path / "r.csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


# --- listings ---------------------------------------------------------------------------
def test_scenarios_lists_the_shipped_scenarios(capsys):
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in lines if line.strip()]
    assert names == [
        "kedungkandang-2008",
        "kelurahan-partner",
        "kota-malang",
        "p2kp-design",
    ]
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines), "no description"


def test_params_lists_every_field(capsys):
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    listed = [
        line.split()[0] for line in out.splitlines()[1:] if line and line[0] != " "
    ]
    assert listed == list(schema())
    for p in schema().values():
        assert p.allowed in out, p.name


def test_params_markdown_has_a_row_per_field(capsys):
    assert main(["params", "--markdown"]) == 0
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| `")]
    assert [r.split("`")[1] for r in rows] == list(schema())


def test_console_script_lists_scenarios_and_params(berdaya_exe):
    scen = subprocess.run(
        [berdaya_exe, "scenarios"], capture_output=True, text=True, check=True
    )
    for name in shipped():
        assert name in scen.stdout
    params = subprocess.run(
        [berdaya_exe, "params"], capture_output=True, text=True, check=True
    )
    for name in schema():
        assert f"\n{name} " in params.stdout, name


# --- a sweep or a national run that does not finish ---------------------------------------
def _stops_after(counts: tuple[int, int, int], error: BaseException):
    """A stand-in for run_sweep/run_national: some runs done, then ``error``."""
    total, skipped, ran = counts

    def work(*args, report=None, **kwargs):
        report.total, report.skipped, report.ran = total, skipped, ran
        raise error

    return work


# The verbs import what they run when they run (the command starts at once), so a
# stand-in replaces the function where it is defined, not in the cli module.
JOBS = {
    "sweep": (
        ["sweep", "involvement-progression"],
        "berdaya.experiments.sweep.run_sweep",
        "runs",
    ),
    "national": (
        ["national", "--kelurahan", "20"],
        "berdaya.experiments.national.run_national",
        "kelurahan",
    ),
}


@pytest.mark.parametrize("job", sorted(JOBS))
def test_interrupted_job_says_what_is_on_disk_and_how_to_resume(
    monkeypatch, capsys, tmp_path, job
):
    command, target, noun = JOBS[job]
    monkeypatch.setattr(target, _stops_after((20, 5, 7), KeyboardInterrupt()))
    out = tmp_path / "results"
    assert main([*command, "--out", str(out)]) == 130
    err = capsys.readouterr().err.strip()
    assert err == (
        f"berdaya: interrupted; 12 of 20 {noun} are on disk in {out}; run the same "
        "command again to resume"
    )


@pytest.mark.parametrize("job", sorted(JOBS))
def test_stopped_job_exits_1_with_the_reason(monkeypatch, capsys, tmp_path, job):
    command, target, _ = JOBS[job]
    stop = SweepStoppedError("every worker of the cluster is gone")
    monkeypatch.setattr(target, _stops_after((20, 0, 3), stop))
    assert main([*command, "--out", str(tmp_path / "results")]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == "berdaya: every worker of the cluster is gone"
    assert "done" not in captured.out

"""The command line against odd input: help texts, closed pipes, odd files, odd numbers.

Every refusal is one line on stderr, a non-zero status and no traceback, before any run.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from support import within

from berdaya import cli, doc_path
from berdaya.cli import BROKEN_PIPE, build_parser, main
from berdaya.experiments import limits
from berdaya.scenarios import load_scenario, schema
from berdaya.scenarios.loader import MAX_SCENARIO_BYTES, MAX_SHOWN

VERBS = (
    "run",
    "compare",
    "levers",
    "validate",
    "sweep",
    "national",
    "report",
    "scenarios",
    "params",
    "outcomes",
    "viz",
    "calibrate",
)


def _refused(capsys, code: int, *expected: str) -> str:
    """The one line a refusal prints, checked."""
    out, err = capsys.readouterr()
    assert code != 0, f"accepted; stdout {out[:200]!r}"
    assert out == "", f"something ran: {out[:200]!r}"
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].strip(), f"not one line: {err!r}"
    assert "Traceback" not in err
    for text in expected:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"
    return lines[0]


# --- help texts --------------------------------------------------------------------------
def test_the_verbs_are_all_checked():
    sub = build_parser()._subparsers._group_actions[0]
    assert tuple(sub.choices) == VERBS


@pytest.mark.parametrize("verb", [None, *VERBS])
def test_every_help_prints_without_doubled_percent_signs(verb, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"] if verb is None else [verb, "--help"])
    assert stop.value.code == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: berdaya") and err == ""
    assert "%%" not in out and "%(" not in out


def test_validate_help_says_95_percent(capsys):
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    assert "95% confidence intervals" in " ".join(capsys.readouterr().out.split())


# --- a reader that goes away --------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [["params"], ["scenarios"], ["params", "--markdown"], ["outcomes", "--json"]],
)
def test_a_closed_pipe_ends_the_command_quietly(berdaya_exe, args, tmp_path):
    proc = subprocess.Popen(
        [berdaya_exe, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    proc.stdout.close()  # before the command writes a byte: every write finds it shut
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == BROKEN_PIPE
    assert err == "", err


def test_params_into_head_prints_one_line_and_no_traceback(berdaya_exe, tmp_path):
    proc = subprocess.run(
        ["bash", "-c", f"'{berdaya_exe}' params | head -1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("name ") and proc.stdout.count("\n") == 1
    assert proc.stderr == ""


# --- scenario files that are not small TOML files ----------------------------------------
def _run_scenario(path, tmp_path, *more: str) -> int:
    with within(10):
        return main(
            ["run", "--scenario", str(path), *more, "--out", str(tmp_path / "o.csv")]
        )


@pytest.mark.parametrize("name", ["a-folder", "a-folder.toml"])
def test_a_folder_is_refused(name, tmp_path, capsys, models_built):
    (tmp_path / name).mkdir()
    code = _run_scenario(tmp_path / name, tmp_path)
    _refused(capsys, code, str(tmp_path / name), "is a folder, not a scenario file")
    assert models_built == [] and not (tmp_path / "o.csv").exists()


def test_a_device_is_refused_before_it_is_read(tmp_path, capsys, models_built):
    code = _run_scenario("/dev/zero", tmp_path)
    _refused(capsys, code, "/dev/zero: is not a regular file")
    assert models_built == []


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(
    tmp_path, capsys, models_built
):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    code = _run_scenario(fifo, tmp_path)
    _refused(capsys, code, f"{fifo}: is not a regular file")
    assert models_built == []


def test_a_file_over_the_limit_is_refused(tmp_path, capsys, models_built):
    big = tmp_path / "big.toml"
    line = b"# " + b"x" * 97 + b"\n"
    big.write_bytes(line * (MAX_SCENARIO_BYTES // len(line) + 1))
    assert big.stat().st_size > MAX_SCENARIO_BYTES
    code = _run_scenario(big, tmp_path)
    _refused(capsys, code, f"{big}: is larger than a scenario file may be (1,048,576")
    assert models_built == []


def test_a_file_at_the_limit_is_read(tmp_path):
    path = tmp_path / "full.toml"
    head = b"n_households = 123\n"
    path.write_bytes(head + b"#" * (MAX_SCENARIO_BYTES - len(head)))
    assert path.stat().st_size == MAX_SCENARIO_BYTES
    assert load_scenario(path).params.n_households == 123


def test_a_file_that_is_not_utf8_is_named(tmp_path, capsys, models_built):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'description = "Kedungkandang"\n# caf\xe9\n')
    code = _run_scenario(path, tmp_path)
    _refused(capsys, code, f"{path}: is not UTF-8 text (byte 0xe9 at offset 35)")
    assert models_built == []


def test_a_byte_order_mark_is_fine(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbfn_households = 150\n")
    assert load_scenario(path).params.n_households == 150


def test_values_nested_without_end_are_refused(tmp_path, capsys, models_built):
    path = tmp_path / "deep.toml"
    path.write_text("n_households = " + "[" * 50_000 + "]" * 50_000 + "\n")
    code = _run_scenario(path, tmp_path)
    _refused(capsys, code, f"{path}: not valid TOML (values nested too deeply)")
    assert models_built == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_refused(tmp_path, capsys):
    path = tmp_path / "secret.toml"
    path.write_text("n_households = 100\n")
    path.chmod(0)
    code = _run_scenario(path, tmp_path)
    _refused(capsys, code, f"{path}: cannot be read (Permission denied)")


def test_an_empty_scenario_name_is_refused(tmp_path, capsys, models_built):
    code = _run_scenario("", tmp_path)
    _refused(capsys, code, "scenario name is empty", "kedungkandang-2008")
    assert models_built == []


ODD_FILES = {
    "description-number": (
        "description = 5\n",
        ["field 'description' must be a string of one line (got 5)"],
    ),
    "description-lines": (
        'description = """two\nlines"""\n',
        ["field 'description' must be a string of one line", r"'two\nlines'"],
    ),
    "description-table": (
        "description = { a = 1 }\n",
        ["field 'description' is a table"],
    ),
    "base-list": ("base = [1]\n", ["field 'base' must be one of", "(got [1])"]),
    "key-with-a-line-break": ('"a\\nb" = 1\n', [r"unknown field 'a\nb'"]),
    "long-value": (
        f'poor_share = "{"9" * 5000}"\n',
        ["field 'poor_share' must be a number in [0, 1]", "...)"],
    ),
}


@pytest.mark.parametrize("case", sorted(ODD_FILES))
def test_odd_fields_are_refused_in_one_short_line(case, tmp_path, capsys, models_built):
    text, expected = ODD_FILES[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    line = _refused(capsys, _run_scenario(path, tmp_path), str(path), *expected)
    assert len(line) < 300, line
    assert models_built == []


ODD_SETS = {
    "nested": ("n_households=" + "[" * 50_000, ["field 'n_households'", "...)"]),
    "line-break": ("poor_share=0.3\nmonths = 2", [r"(got '0.3\nmonths = 2')"]),
    "no-name": ("=3", ["--set: '=3' must look like name=value"]),
    "odd-name": ("a\nb=1", [r"--set: unknown field 'a\nb'"]),
}


@pytest.mark.parametrize("case", sorted(ODD_SETS))
def test_odd_set_values_are_refused_in_one_short_line(
    case, tmp_path, capsys, models_built
):
    item, expected = ODD_SETS[case]
    code = main(["run", "--set", item, "--out", str(tmp_path / "o.csv")])
    line = _refused(capsys, code, *expected)
    assert len(line) < 300, line
    assert models_built == []


# --- numbers out of range ------------------------------------------------------------------
A, B = "kedungkandang-2008", "kelurahan-partner"
BAD_NUMBERS = {
    "sweep-timeout-nan": (
        ["sweep", "involvement-progression", "--cluster-timeout", "nan"],
        "--cluster-timeout must be a number of seconds above 0 and at most 86,400 "
        "(got nan)",
    ),
    "sweep-timeout-negative": (
        ["sweep", "involvement-progression", "--cluster-timeout", "-1"],
        "--cluster-timeout must be a number of seconds above 0",
    ),
    "sweep-timeout-inf": (
        ["sweep", "involvement-progression", "--cluster-timeout", "inf"],
        "(got inf)",
    ),
    "sweep-timeout-zero": (
        ["sweep", "involvement-progression", "--cluster-timeout", "0"],
        "(got 0)",
    ),
    "national-timeout-nan": (
        ["national", "--cluster-timeout", "nan"],
        "--cluster-timeout must be a number of seconds above 0",
    ),
    "national-timeout-negative": (
        ["national", "--cluster-timeout", "-1", "--cluster", "local"],
        "--cluster-timeout must be a number of seconds above 0",
    ),
    "national-kelurahan-huge": (
        ["national", "--kelurahan", "100001"],
        "--kelurahan must be at most 100,000 (got 100001)",
    ),
    "sweep-workers-zero": (
        ["sweep", "involvement-progression", "--workers", "0"],
        "--workers must be at least 1 (got 0)",
    ),
    "run-months-high": (["run", "--months", "601"], "--months must be at most 600"),
    "run-seed-huge": (
        ["run", "--seed", str(2**64)],
        "--seed must be at most 18,446,744,073,709,551,615",
    ),
    "compare-replications-zero": (
        ["compare", A, B, "--replications", "0"],
        "--replications must be at least 1 (got 0)",
    ),
    "compare-replications-huge": (
        ["compare", A, B, "--replications", "100001"],
        "--replications must be at most 100,000",
    ),
    "compare-months-zero": (
        ["compare", A, B, "--months", "0"],
        "--months must be at least 1",
    ),
    "compare-seed-negative": (
        ["compare", A, B, "--seed", "-1"],
        "--seed must be a non-negative integer",
    ),
    "compare-workers-negative": (
        ["compare", A, B, "--workers", "-2"],
        "--workers must be at least 1 (got -2)",
    ),
    "validate-replications-one": (
        ["validate", "--replications", "1"],
        "--replications must be at least 2 (got 1)",
    ),
    "validate-workers-zero": (
        ["validate", "--workers", "0"],
        "--workers must be at least 1 (got 0)",
    ),
    "report-level-nan": (["report", "x", "--level", "nan"], "--level must be between"),
    "report-level-one": (["report", "x", "--level", "1"], "(got 1)"),
}


@pytest.mark.parametrize("case", sorted(BAD_NUMBERS))
def test_numbers_out_of_range_are_refused(case, tmp_path, capsys, models_built):
    args, expected = BAD_NUMBERS[case]
    out = tmp_path / "out"
    more = ["--out", str(out)] if args[0] in ("sweep", "national") else []
    with within(20):
        code = main([*args, *more])
    assert code == 2
    _refused(capsys, code, "berdaya: error: ", expected)
    assert models_built == [] and not out.exists()


#: Where each function a verb runs is defined: the verbs import it when they run, so a
#: stand-in replaces it there.
_DEFINED_IN = {
    "compare": "berdaya.experiments.compare",
    "validate": "berdaya.experiments.validate",
    "run_sweep": "berdaya.experiments.sweep",
}


def _spy(monkeypatch, name: str, result=None):
    """Replace the function ``name`` a verb runs by a stand-in recording its keywords."""
    calls: list[dict] = []

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return result

    monkeypatch.setattr(f"{_DEFINED_IN[name]}.{name}", spy)
    return calls


class _Done:
    passed = True

    def table(self) -> str:
        return "table"


CAPPED = {
    "compare": (["compare", A, B], "compare"),
    "validate": (["validate"], "validate"),
    "sweep": (["sweep", "involvement-progression", "--out", "o"], "run_sweep"),
    "sweep-local-cluster": (
        ["sweep", "involvement-progression", "--out", "o", "--cluster", "local"],
        "run_sweep",
    ),
}


@pytest.mark.parametrize("case", sorted(CAPPED))
def test_more_workers_than_cores_are_capped_with_a_warning(case, monkeypatch, capsys):
    args, target = CAPPED[case]
    calls = _spy(monkeypatch, target, _Done())
    monkeypatch.setattr(limits, "usable_cores", lambda: 2)
    assert main([*args, "--workers", "10000"]) == 0
    assert calls[0]["workers"] == 2
    err = capsys.readouterr().err
    assert err == (
        "berdaya: warning: --workers 10000 is more than the 2 cores of this machine; "
        "using 2\n"
    )


def test_workers_of_a_remote_cluster_are_not_capped(monkeypatch, capsys):
    calls = _spy(monkeypatch, "run_sweep")
    monkeypatch.setattr(limits, "usable_cores", lambda: 2)
    args = ["sweep", "involvement-progression", "--out", "o"]
    assert main([*args, "--cluster", "tcp://10.0.0.1:8786", "--workers", "64"]) == 0
    assert calls[0]["workers"] == 64 and capsys.readouterr().err == ""


def test_workers_within_the_cores_pass_quietly(monkeypatch, capsys):
    calls = _spy(monkeypatch, "compare", _Done())
    monkeypatch.setattr(limits, "usable_cores", lambda: 4)
    assert main(["compare", A, B, "--workers", "4"]) == 0
    assert calls[0]["workers"] == 4 and capsys.readouterr().err == ""


# --- empty paths and options that contradict each other ------------------------------------
EMPTY_OR_CONFLICTING = {
    "run-out-empty": (
        ["run", "--out", ""],
        "--out is empty: give a file ending in .parquet or .csv",
    ),
    "compare-out-empty": (["compare", A, B, "--out", ""], "--out is empty"),
    "compare-plot-empty": (["compare", A, B, "--plot", ""], "--plot: '' must end"),
    "sweep-out-empty": (
        ["sweep", "involvement-progression", "--out", ""],
        "--out is empty: give the folder the runs go to",
    ),
    "national-out-empty": (["national", "--out", " "], "--out DIR is required"),
    "run-months-twice": (
        ["run", "--set", "months=0", "--months", "12"],
        "--set months=0 and --months 12 both give the months to simulate; give one",
    ),
    "compare-months-twice": (
        ["compare", A, B, "--months", "6", "--set", "months=6"],
        "--set months=6 and --months 6 both give the months",
    ),
}


@pytest.mark.parametrize("case", sorted(EMPTY_OR_CONFLICTING))
def test_empty_paths_and_conflicts_are_refused(
    case, tmp_path, capsys, monkeypatch, models_built
):
    monkeypatch.chdir(tmp_path)
    args, expected = EMPTY_OR_CONFLICTING[case]
    code = main(args)
    assert code == 2
    _refused(capsys, code, expected)
    assert models_built == [] and list(tmp_path.iterdir()) == []


# --- what argparse itself refuses -----------------------------------------------------------
NOT_PARSED = {
    "float-seed": (["run", "--seed", "1.5"], "berdaya run: error: argument --seed"),
    "word-months": (["run", "--months", "x"], "invalid int value: 'x'"),
    "word-timeout": (
        ["sweep", "s", "--out", "o", "--cluster-timeout", "soon"],
        "invalid float value: 'soon'",
    ),
    "no-verb": ([], "berdaya: error: the following arguments are required"),
    "unknown-verb": (["frobnicate"], "invalid choice: 'frobnicate'"),
    "unknown-option": (["run", "--nope"], "unrecognized arguments: --nope"),
}


@pytest.mark.parametrize("case", sorted(NOT_PARSED))
def test_what_argparse_refuses_is_one_line_too(case, capsys):
    args, expected = NOT_PARSED[case]
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2
    line = _refused(capsys, stop.value.code, expected)
    assert line.endswith("--help)") and "usage:" not in line


# --- sweep and national specs are read the same way ----------------------------------------
def _odd_spec(kind: str, tmp_path):
    path = tmp_path / f"{kind}.toml"
    if kind == "device":
        return "/dev/zero", "/dev/zero: is not a regular file"
    if kind == "folder":
        path.mkdir()
        return str(path), f"{path}: is a folder, not a sweep spec"
    if kind == "pipe":
        os.mkfifo(path)
        return str(path), f"{path}: is not a regular file"
    path.write_bytes(b'scenario = "kedungkandang-2008"\n# \xff\n')
    return str(path), f"{path}: is not UTF-8 text (byte 0xff at offset 34)"


@pytest.mark.parametrize("verb", ["sweep", "national"])
@pytest.mark.parametrize("kind", ["device", "folder", "pipe", "latin1"])
def test_odd_spec_files_are_refused(verb, kind, tmp_path, capsys, models_built):
    spec, expected = _odd_spec(kind, tmp_path)
    out = tmp_path / "out"
    with within(10):
        code = main([verb, spec, "--out", str(out)])
    _refused(capsys, code, expected)
    assert models_built == [] and not out.exists()


# --- docs/limits.md states the limits the code has -----------------------------------------
def test_limits_md_states_the_limits():
    text = " ".join(doc_path("limits.md").read_text(encoding="utf-8").split())
    for stated in (
        f"{MAX_SCENARIO_BYTES:,} bytes",
        "1 MiB",
        f"[1, {cli.MAX_REPLICATIONS:,}]",
        f"[2, {cli.MAX_REPLICATIONS:,}]",
        f"[1, {cli.MAX_KELURAHAN:,}]",
        f"at most {cli.MAX_TIMEOUT_S:,.0f}",
        f"[1, {int(schema()['months'].le)}]",
        f"{MAX_SHOWN} characters",
        "--allow-remote",
        f"{BROKEN_PIPE} the reader of the output went away",
        f"**{limits.MAX_RUNS:,} runs**",
        "--max-runs N",
        f"about {limits.POINT_BYTES // 1024} KB",
        f"about {limits.RUN_FILE_BYTES // 1024} KB, plus {limits.COLUMN_BYTES} bytes a "
        f"column, plus {limits.VALUE_BYTES} bytes a kept value",
        "DIR/.lock",
        "*.damaged",
        "--cluster-tls-ca",
        "can run any Python code on its workers",
    ):
        assert stated in text, f"docs/limits.md does not say {stated!r}"
    assert cli.MAX_SEED == 2**64 - 1 and "[0, 2**64 - 1]" in text

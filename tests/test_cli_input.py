"""The command line against odd input: help texts, closed pipes, odd files, odd numbers.

Every refusal is one line on stderr, a non-zero status and no traceback, before any run.
"""

from __future__ import annotations

import subprocess

import pytest

from berdaya.experiments.cli import BROKEN_PIPE, build_parser, main

VERBS = (
    "run",
    "compare",
    "validate",
    "sweep",
    "national",
    "report",
    "scenarios",
    "params",
    "viz",
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
@pytest.mark.parametrize("args", [["params"], ["scenarios"], ["params", "--markdown"]])
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

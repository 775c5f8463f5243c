"""``berdaya sweep --replications N --limit N``: another number of seeds, the first runs."""

from __future__ import annotations

import tomllib

import pytest

from berdaya.cli import main
from berdaya.experiments import SweepError, read_results, run_sweep

TINY = """
description = "tiny grid"
scenario = "kedungkandang-2008"
replications = 3
seed = 11
design = "grid"

[set]
n_households = 100
months = 6

[levers]
kelurahan_involvement = [0.0, 1.0]

[outcomes]
keep = ["powerless_poor", "gov_support"]
"""  # 3 points (the base and two levels) x 3 replications


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


def _runs(out) -> list[str]:
    return sorted(read_results(out)["run_id"].unique())


def test_limit_runs_the_first_runs_and_the_same_command_without_it_the_rest(
    spec, tmp_path
):
    out = tmp_path / "out"
    run_sweep(spec, out, workers=1, limit=4)
    # replication-major: every point's first replication, then the second's first
    assert _runs(out) == ["p0000-r000", "p0000-r001", "p0001-r000", "p0002-r000"]
    run_sweep(spec, out, workers=1)
    assert len(_runs(out)) == 9


def test_replications_override_the_specs_and_the_folder_says_so(spec, tmp_path):
    out = tmp_path / "out"
    results = run_sweep(spec, out, workers=1, replications=2)
    assert sorted(results["replication"].unique()) == [0, 1]
    assert len(_runs(out)) == 6
    written = tomllib.loads((out / "spec.toml").read_text(encoding="utf-8"))
    assert written["replications"] == 2 and written["levers"] == {
        "kelurahan_involvement": [0.0, 1.0]
    }
    # the seeds are the spec's first two: the same runs as without the option
    alone = run_sweep(spec, tmp_path / "alone", workers=1, limit=6)
    key = ["run_id", "month", "powerless_poor", "gov_support", "seed"]
    assert (
        results[key]
        .sort_values(key[:2])
        .reset_index(drop=True)
        .equals(alone[key].sort_values(key[:2]).reset_index(drop=True))
    )
    with pytest.raises(SweepError, match="holds another sweep"):
        run_sweep(spec, out, workers=1, replications=3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "0"], "--limit must be at least 1 (got 0)"),
        (["--replications", "0"], "--replications must be at least 1 (got 0)"),
        (["--replications", "100001"], "--replications must be at most 100,000"),
    ],
)
def test_bad_numbers_are_refused_in_one_line_before_anything_runs(
    spec, tmp_path, capsys, args, message
):
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_the_command_line_takes_both(spec, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["sweep", str(spec), "--out", str(out), "--workers", "1"]
    assert main([*argv, "--replications", "2", "--limit", "3"]) == 0
    text = capsys.readouterr().out
    assert "sweep done: 3 runs" in text and "without --limit runs the rest" in text
    assert main([*argv, "--replications", "2"]) == 0
    assert "sweep done: 6 runs" in capsys.readouterr().out

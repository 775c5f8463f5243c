"""`berdaya compare`: paired seeds, paired differences with intervals, envelopes, CLI."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from berdaya.cli import main
from berdaya.experiments.compare import (
    HEADLINE_OUTCOMES,
    compare,
    paired_ci,
    replication_seeds,
)
from berdaya.experiments.plots import comparison_envelopes
from berdaya.experiments.run import run

A, B = "kedungkandang-2008", "kelurahan-partner"
SMALL = {"n_households": 300}
MONTHS = 18
SMALL_ARGS = ["--set", "n_households=300", "--months", "12"]
# Student t quantiles t(0.975, df) from printed tables (6 digits), not from scipy.
T975 = {4: 2.776445, 5: 2.570582}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def comparison():
    return compare(A, B, replications=6, seed=3, months=MONTHS, overrides=SMALL)


# --- seeds ---------------------------------------------------------------------------


def test_replication_seeds_come_from_seed_sequence_spawn():
    seeds = replication_seeds(7, 5)
    children = np.random.SeedSequence(7).spawn(5)
    assert seeds == [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]
    assert replication_seeds(7, 5) == seeds
    assert replication_seeds(7, 8)[:5] == seeds
    assert replication_seeds(8, 5) != seeds
    assert all(isinstance(s, int) and 0 <= s < 2**32 for s in seeds)


def test_replication_i_of_both_scenarios_shares_its_seed(comparison):
    f = comparison.finals
    assert len(f) == 12
    wide = f.pivot(index="replication", columns="arm", values="seed")
    assert (wide["A"] == wide["B"]).all()
    assert wide["A"].tolist() == replication_seeds(3, 6) == comparison.seeds
    assert set(f.loc[f["arm"] == "A", "scenario"]) == {A}
    assert set(f.loc[f["arm"] == "B", "scenario"]) == {B}


def test_a_replication_replays_alone_from_its_recorded_seed(comparison):
    row = comparison.finals.query("arm == 'B' and replication == 4").iloc[0]
    alone = run(B, int(row["seed"]), months=MONTHS, overrides=SMALL).final
    for name in comparison.outcomes:
        assert alone[name] == row[name], name


# --- statistics ------------------------------------------------------------------------


def test_paired_ci_by_hand():
    mean, sd, low, high, clear = paired_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    half = T975[4] * math.sqrt(2.5) / math.sqrt(5)
    assert (mean, sd) == pytest.approx((3.0, math.sqrt(2.5)))
    assert (low, high) == pytest.approx((3.0 - half, 3.0 + half), rel=1e-6)
    assert clear is True
    assert paired_ci([-1.0, 1.0, 0.5])[4] is False


def test_paired_ci_degenerate_cases():
    assert paired_ci([0.1] * 4) == (0.1, 0.0, 0.1, 0.1, True)
    assert paired_ci([0.0] * 4) == (0.0, 0.0, 0.0, 0.0, False)
    mean, sd, low, high, clear = paired_ci([0.7])
    assert mean == 0.7
    assert math.isnan(sd) and math.isnan(low) and math.isnan(high)
    assert clear is None


def test_summary_matches_hand_computation_from_the_table(comparison):
    s = comparison.summary(moments=["followup"]).set_index("outcome")
    assert tuple(s.index) == HEADLINE_OUTCOMES == comparison.outcomes
    f = comparison.finals
    for name in comparison.outcomes:
        a = f[f["arm"] == "A"].sort_values("replication")[name].to_numpy()
        b = f[f["arm"] == "B"].sort_values("replication")[name].to_numpy()
        d = b - a
        n = len(d)
        mean = sum(d) / n
        sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
        half = T975[n - 1] * sd / math.sqrt(n)
        row = s.loc[name]
        assert row["n"] == n
        assert row["mean_a"] == pytest.approx(a.mean())
        assert row["mean_b"] == pytest.approx(b.mean())
        assert row["diff"] == pytest.approx(mean, abs=1e-12)
        spread = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
        assert row["spread"] == pytest.approx(spread, abs=1e-12)
        if spread > 0:
            assert row["d"] == pytest.approx(mean / spread, rel=1e-9)
        else:
            assert row["d"] == (0 if mean == 0 else math.copysign(math.inf, mean))
        if np.all(d == d[0]):
            assert row["ci_low"] == row["ci_high"] == d[0]
            assert bool(row["clear"]) == (d[0] != 0)
        else:
            assert row["ci_low"] == pytest.approx(mean - half, rel=1e-6, abs=1e-12)
            assert row["ci_high"] == pytest.approx(mean + half, rel=1e-6, abs=1e-12)
            clear = mean - half > 0 or mean + half < 0
            assert bool(row["clear"]) == clear


def test_kelurahan_involvement_raises_gov_support_clear_of_zero(comparison):
    row = (
        comparison.summary(moments=["followup"]).set_index("outcome").loc["gov_support"]
    )
    assert row["diff"] > 0
    assert row["ci_low"] > 0
    assert bool(row["clear"]) is True


def test_scenario_against_itself_gives_zero_differences_not_clear():
    c = compare(A, A, replications=3, seed=1, months=12, overrides=SMALL)
    s = c.summary(moments=["followup"])
    assert (s["diff"] == 0).all() and (s["d"] == 0).all()
    assert (s["ci_low"] == 0).all() and (s["ci_high"] == 0).all()
    assert not s["clear"].any()


def test_one_replication_has_no_interval():
    c = compare(A, B, replications=1, months=12, overrides=SMALL)
    s = c.summary()
    assert s["ci_low"].isna().all() and s["ci_high"].isna().all()
    assert s["clear"].isna().all()
    assert "n/a" in c.table()


def test_missing_outcomes_are_skipped():
    """Outcomes the records lack are skipped; recorded ones (now repayment) are kept."""
    c = compare(
        A,
        B,
        replications=2,
        months=12,
        overrides=SMALL,
        outcomes=("gov_support", "no_such_outcome", "repayment_rate"),
    )
    assert c.outcomes == ("gov_support", "repayment_rate")
    assert c.missing == ("no_such_outcome",)
    assert list(c.summary(moments=["end"])["outcome"]) == [
        "gov_support",
        "repayment_rate",
    ]
    assert "no_such_outcome" not in c.finals.columns
    assert "repayment_rate" in c.finals.columns
    assert "not recorded (skipped): no_such_outcome" in c.table()


# --- reproducibility -------------------------------------------------------------------


def test_same_master_seed_same_results_in_one_or_two_processes(comparison):
    again = compare(A, B, replications=6, seed=3, months=MONTHS, overrides=SMALL)
    pd.testing.assert_frame_equal(again.finals, comparison.finals)
    pd.testing.assert_frame_equal(again.summary(), comparison.summary())
    parallel = compare(
        A, B, replications=6, seed=3, months=MONTHS, overrides=SMALL, workers=2
    )
    pd.testing.assert_frame_equal(parallel.records, comparison.records)
    pd.testing.assert_frame_equal(parallel.summary(), comparison.summary())
    other = compare(A, B, replications=6, seed=4, months=MONTHS, overrides=SMALL)
    assert other.seeds != comparison.seeds


def test_records_hold_every_month_of_every_run(comparison):
    r = comparison.records
    assert len(r) == 2 * 6 * (MONTHS + 1)
    assert list(r.columns[:4]) == ["arm", "scenario", "replication", "seed"]
    counts = r.groupby(["arm", "replication"])["month"].agg(["min", "max", "size"])
    assert (counts["min"] == 0).all() and (counts["max"] == MONTHS).all()


# --- plot ------------------------------------------------------------------------------


def _assert_png(path):
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert float(image[..., :3].var()) > 1e-3


def test_plot_is_a_png_with_content(comparison, tmp_path):
    path = comparison_envelopes(comparison, tmp_path / "sub" / "env.png")
    _assert_png(path)
    assert [p.name for p in path.parent.iterdir()] == ["env.png"]


# --- command line ----------------------------------------------------------------------


def test_cli_prints_table_and_writes_outputs(tmp_path, capsys):
    csv, pq, png = tmp_path / "f.csv", tmp_path / "f.parquet", tmp_path / "e.png"
    args = ["compare", A, B, "--replications", "3", "--seed", "5", *SMALL_ARGS]
    args += ["--ensemble", "none"]  # seed-only: the file's exact columns and rows
    assert main([*args, "--out", str(csv), "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert f"A = {A}, B = {B}" in out
    assert "3 paired replications of 12 months" in out
    blocks = out.split("\n\n")
    follow = next(b for b in blocks if b.startswith("At follow-up"))
    lines = {line.split()[0]: line for line in follow.splitlines() if line.strip()}
    for name in HEADLINE_OUTCOMES:
        assert name in lines
    assert lines["gov_support"].split()[-2] == "yes"
    # 12 months: no cycle has ended, so the end block has no values and says why
    assert "the cycle had not ended by the months cap in 3 of 3 runs" in out
    table = pd.read_csv(csv)
    assert list(table.columns[:6]) == [
        "arm",
        "scenario",
        "replication",
        "seed",
        "moment",
        "month",
    ]
    assert len(table) == 12  # a row per run and moment
    assert table["seed"].drop_duplicates().tolist() == replication_seeds(5, 3)
    _assert_png(png)
    assert main([*args, "--out", str(pq)]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(pq), table, check_dtype=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([A, B, "--replications", "0"], "--replications must be at least 1"),
        ([A, "nowhere"], "scenario 'nowhere'"),
        ([A, B, "--set", "n_househods=300"], "unknown field 'n_househods'"),
        ([A, B, "--workers", "0"], "--workers must be at least 1"),
        ([A, B, "--months", "0"], "--months must be at least 1"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2_no_files(args, message, tmp_path, capsys):
    out, png = tmp_path / "f.csv", tmp_path / "e.png"
    rc = main(["compare", *args, "--out", str(out), "--plot", str(png)])
    captured = capsys.readouterr()
    assert rc == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("berdaya: error: ")
    assert message in lines[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", ["--out", "--plot"])
def test_cli_bad_file_ending(option, tmp_path, capsys):
    target = tmp_path / "f.txt"
    assert main(["compare", A, B, *SMALL_ARGS, option, str(target)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []

"""`berdaya report`: summaries with intervals, paired effects, sensitivity, plots."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from berdaya.cli import main
from berdaya.experiments import read_results, report, run_sweep
from berdaya.experiments.compare import paired_ci
from berdaya.experiments.sweep import SweepFolder

GRID = """
description = "tiny grid for the report"
scenario = "kedungkandang-2008"
replications = 4
seed = 5
design = "grid"

[set]
n_households = 200
months = 12

[levers]
kelurahan_involvement = [0.0, 1.0]
progression = ["schedule", "readiness"]

[outcomes]
keep = ["powerless_poor", "pendayaan_poor", "gov_support", "awareness_mean"]
every = 3
"""

SAMPLED = """
description = "tiny {kind} for the report"
scenario = "kedungkandang-2008"
replications = 2
seed = 6

[design]
kind = "{kind}"
samples = {samples}

[set]
n_households = 200
months = 8

[levers]
kelurahan_involvement = {{ low = 0.0, high = 1.0 }}
faskel_visits = {{ low = 0, high = 200 }}

[uncertainties]
initial_awareness = {{ low = 0.05, high = 0.8 }}

[outcomes]
keep = ["gov_support", "awareness_mean", "powerless_poor"]
"""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grid")
    spec = folder / "grid.toml"
    spec.write_text(GRID)
    out = folder / "out"
    run_sweep(spec, out, workers=1)
    return out, report(out)


def _sampled(tmp_path_factory, kind: str, samples: int):
    folder = tmp_path_factory.mktemp(kind)
    spec = folder / f"{kind}.toml"
    spec.write_text(SAMPLED.format(kind=kind, samples=samples))
    out = folder / "out"
    run_sweep(spec, out, workers=1)
    return out, report(out)


@pytest.fixture(scope="module")
def sobol(tmp_path_factory):
    return _sampled(tmp_path_factory, "sobol", 8)


@pytest.fixture(scope="module")
def morris(tmp_path_factory):
    return _sampled(tmp_path_factory, "morris", 6)


def _png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert imread(path).shape[0] > 100


def test_summary_is_mean_and_t_interval_over_replications(grid):
    out, rep = grid
    df = read_results(out)
    finals = df[df["month"] == 12]
    for point in range(5):
        values = finals.loc[finals["point"] == point, "awareness_mean"].to_numpy()
        mean, _, low, high, _ = paired_ci(values)
        row = rep.summary.query("point == @point and outcome == 'awareness_mean'")
        assert row["mean"].item() == pytest.approx(mean)
        assert row["ci_low"].item() == pytest.approx(low)
        assert row["ci_high"].item() == pytest.approx(high)
        assert row["n"].item() == 4
        assert low <= mean <= high


def test_effects_are_paired_by_replication_against_the_base(grid):
    out, rep = grid
    finals = read_results(out).query("month == 12")
    wide = finals.pivot(index="replication", columns="point", values="awareness_mean")
    e = rep.effects.query("outcome == 'awareness_mean'").set_index("point")
    for point in (1, 2, 3, 4):
        mean, sd, low, _, _ = paired_ci((wide[point] - wide[0]).to_numpy())
        assert e.loc[point, "diff"] == pytest.approx(mean)
        assert e.loc[point, "ci_low"] == pytest.approx(low)
        assert e.loc[point, "sd"] == pytest.approx(sd)
    # point 1 is the base scenario itself: same seeds, so exactly no difference
    assert e.loc[1, "diff"] == 0 and e.loc[1, "ci_low"] == 0 and not e.loc[1, "clear"]
    # a partner kelurahan (points 3, 4) gives support where the base has none
    g = rep.effects.query("outcome == 'gov_support'").set_index("point")
    assert (g.loc[[3, 4], "diff"] > 0).all() and g.loc[[3, 4], "clear"].all()


def test_main_effects_average_the_other_factors(grid):
    _, rep = grid
    m = rep.main_effects.query("outcome == 'gov_support'")
    low = m.query("factor == 'kelurahan_involvement' and level == 0.0")
    high = m.query("factor == 'kelurahan_involvement' and level == 1.0")
    assert low["diff"].item() == 0 and high["diff"].item() > 0
    effects = rep.effects.query("outcome == 'gov_support'").set_index("point")["diff"]
    assert high["diff"].item() == pytest.approx(effects.loc[[3, 4]].mean())
    assert set(m["factor"]) == {"kelurahan_involvement", "progression"}


def test_report_text_and_files(grid):
    out, rep = grid
    text = rep.text()
    assert "20 of 20 runs on disk, 0 raised, 0 not run yet" in text
    assert "berdaya run --scenario kedungkandang-2008 --seed" in text
    assert "gov_support" in text and "main effects against the base" in text
    names = {p.name for p in rep.written}
    assert {"summary.csv", "effects.csv", "main_effects.csv", "report.txt"} <= names
    assert {"envelopes.png", "effects.png"} <= names
    for png in ("envelopes.png", "effects.png"):
        _png(out / png)
    summary = pd.read_csv(out / "summary.csv")
    assert {"point", "outcome", "mean", "ci_low", "ci_high", "progression"} <= set(
        summary.columns
    )


def test_sobol_indices_with_intervals(sobol):
    out, rep = sobol
    s = rep.sensitivity
    assert s is not None
    assert set(s["factor"]) == {
        "kelurahan_involvement",
        "faskel_visits",
        "initial_awareness",
    }
    for col in ("S1", "ST"):
        assert (s[f"{col}_low"] <= s[col]).all() and (s[col] <= s[f"{col}_high"]).all()
    # only the kelurahan's involvement moves its support
    g = s[s["outcome"] == "gov_support"].set_index("factor")
    assert g.loc["kelurahan_involvement", "ST"] > 0.3
    assert (
        g.loc[["faskel_visits", "initial_awareness"], ["S1", "ST"]].to_numpy() == 0
    ).all()
    assert "Sobol indices" in rep.text()
    _png(out / "sensitivity.png")
    assert pd.read_csv(out / "sensitivity.csv").shape[0] == len(s)


def test_morris_elementary_effects_with_intervals(morris):
    out, rep = morris
    s = rep.sensitivity
    assert s is not None and {"mu_star", "mu_star_low", "sigma"} <= set(s.columns)
    a = s[s["outcome"] == "awareness_mean"].set_index("factor")
    assert (
        a.loc["initial_awareness", "mu_star"]
        > a.loc["kelurahan_involvement", "mu_star"]
    )
    assert np.isfinite(s["mu_star"]).all()
    assert "Morris" in rep.text()
    _png(out / "sensitivity.png")


def test_report_of_a_partial_sweep_counts_what_is_missing(grid, tmp_path):
    out, _ = grid
    part = tmp_path / "part"
    part.mkdir()
    for name in ("spec.toml", "meta.json", "design.parquet"):
        (part / name).write_bytes((out / name).read_bytes())
    (part / "runs").mkdir()
    for f in sorted((out / "runs").iterdir())[:3]:
        (part / "runs" / f.name).write_bytes(f.read_bytes())
    n = len(SweepFolder(part).done())  # the runs of those batch files
    rep = report(part, plots=False)
    assert 3 <= n < 20 and rep.missing == 20 - n and len(rep.finals) == n
    assert f"{n} of 20 runs on disk" in rep.text()


def test_cli_report_prints_and_narrows_outcomes(grid, capsys):
    out, _ = grid
    assert main(["report", str(out), "--outcome", "gov_support", "--no-plots"]) == 0
    text = capsys.readouterr().out
    assert "gov_support" in text and "powerless_poor (" not in text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--outcome", "gini"], "'gini' was not kept by this sweep"),
        (["--level", "1.5"], "--level must be between 0 and 1"),
    ],
)
def test_cli_report_bad_input(grid, capsys, args, expected):
    out, _ = grid
    assert main(["report", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1


def test_report_of_a_folder_without_sweep(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "holds no sweep" in capsys.readouterr().err


def test_meta_records_the_design(grid):
    out, rep = grid
    meta = rep.meta
    assert meta["design"] == "grid" and meta["points"] == 5
    assert [f["name"] for f in meta["factors"]] == [
        "kelurahan_involvement",
        "progression",
    ]
    assert tomllib.loads((out / "spec.toml").read_text())["seed"] == 5


MOMENTS = """
description = "the two moments: cycle end and follow-up"
scenario = "p2kp-design"
replications = 3
seed = 7
design = "grid"

[set]
n_households = 300
followup_months = 2

[levers]
progression = ["hybrid", "readiness"]

[outcomes]
keep = ["participation_poor", "pendayaan_poor", "welfare_initially_poor"]
every = 10
"""


@pytest.fixture(scope="module")
def moments(tmp_path_factory):
    folder = tmp_path_factory.mktemp("moments")
    spec = folder / "moments.toml"
    spec.write_text(MOMENTS)
    out = folder / "out"
    run_sweep(spec, out, workers=1)
    return out, report(out)


def test_the_report_gives_each_outcome_at_cycle_end_and_at_follow_up(moments):
    from berdaya.experiments.run import run  # noqa: PLC0415

    out, rep = moments
    results = read_results(out)
    keep = ["participation_poor", "pendayaan_poor", "welfare_initially_poor"]
    assert len(rep.ends) == len(rep.finals) == 9  # 3 points x 3 replications
    for row in rep.ends.itertuples():
        overrides = {
            "n_households": 300,
            "followup_months": 2,
            "progression": row.progression,
        }
        rec = run("p2kp-design", int(row.seed), overrides=overrides).records
        end = int(rec.exit_month.iloc[-1])
        assert row.month == row.end_month == end
        for name in keep:
            assert getattr(row, name) == rec.loc[end, name], name
        last = rep.finals.loc[rep.finals["run_id"] == row.run_id].iloc[0]
        assert last["month"] == end + 2 == rec.month.iloc[-1]
    # the end rows are marked, so month-by-month readers can leave them out
    mine = results[results["end_only"]]
    assert len(mine) and (mine["month"] % 10 != 0).all()
    assert (mine["month"] == mine["end_month"]).all()
    # the end's summary is the mean over replications at that month, point by point
    s = rep.end_summary.set_index(["point", "outcome"])
    for (point, name), row in s.iterrows():
        values = rep.ends.loc[rep.ends["point"] == point, name]
        assert row["mean"] == pytest.approx(values.mean())
    assert len(rep.end_effects) == 2 * len(keep)
    text = rep.text()
    assert "outcomes at follow-up, the final month" in text
    assert "outcomes at cycle end, the month each run's programme completed" in text
    assert (out / "summary_end.csv").is_file() and (out / "effects_end.csv").is_file()


def test_a_sweep_whose_cycles_never_end_says_so(grid):
    _, rep = grid  # 12 months: no cycle ends
    assert not len(rep.ends)
    assert "at cycle end: no run on disk has its cycle's end kept" in rep.text()

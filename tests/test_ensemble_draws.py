"""Answers with parameter uncertainty: compare and sweep drawing from a posterior ensemble."""

from __future__ import annotations

import importlib
import json
import math
import subprocess
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from berdaya.cli import main
from berdaya.experiments import read_results, run_sweep
from berdaya.experiments.compare import compare
from berdaya.experiments.ensemble import (
    EnsembleError,
    member_overrides,
    open_ensemble,
    shipped_ensembles,
)
from berdaya.experiments.files import read_table
from berdaya.experiments.run import run
from berdaya.experiments.shares import SHARE_COLUMNS, parameter_shares
from berdaya.experiments.spec import SweepError, build_design, parse_spec
from berdaya.experiments.sweep import SweepFolder

#: The module, whatever ``berdaya.experiments`` exports under the name ``compare``.
compare_module = importlib.import_module("berdaya.experiments.compare")
ENSEMBLE = "kedungkandang-2008"
A, B = "kedungkandang-2008", "kelurahan-partner"
SMALL = {"n_households": 300}
MONTHS = 18


@pytest.fixture(scope="module")
def ensemble():
    return open_ensemble(ENSEMBLE)


@pytest.fixture(scope="module")
def drawn():
    return compare(
        A,
        B,
        replications=4,
        seed=3,
        months=MONTHS,
        overrides={**SMALL, "elite_capture": 1.1},
        ensemble=ENSEMBLE,
    )


def _own_scenario(folder: Path, text: str, name: str = "own.toml") -> Path:
    path = folder / name
    path.write_text(f'description = "a test scenario"\n{text}\n')
    return path


# --- the draws ---------------------------------------------------------------------------


def test_members_depend_on_the_master_seed_and_replication_alone(ensemble):
    first = ensemble.members(5, 6)
    assert ensemble.members(5, 9)[:6] == first
    assert open_ensemble(ENSEMBLE).members(5, 6) == first
    assert ensemble.members(6, 6) != first
    assert len({m.index for m in ensemble.members(5, 40)}) > 30  # not one member
    rows = ensemble.frame.set_index("member")
    for m in first:
        assert m.values == {p: rows.loc[m.index, p] for p in ensemble.parameters}
    assert member_overrides(ENSEMBLE, 6, 5) == [m.values for m in first]


def test_member_overrides_leave_out_what_the_user_or_the_scenario_sets(tmp_path):
    own = _own_scenario(tmp_path, f'base = "{A}"\ndefault_hazard = 0.02')
    values = member_overrides(
        ENSEMBLE, 2, 1, scenario=own, fixed={"elite_capture": 1.0}
    )
    assert all("default_hazard" not in v and "elite_capture" not in v for v in values)
    assert all(len(v) == len(open_ensemble(ENSEMBLE).parameters) - 2 for v in values)


def test_the_summary_names_the_ensemble_and_how_it_was_fitted(ensemble):
    text = ensemble.describe(30)
    assert text == (
        "30 draws from ensemble kedungkandang-2008 (800 members, rejection ABC, "
        "epsilon 0, calibrated on kedungkandang-2008)"
    )


# --- compare ---------------------------------------------------------------------------


def test_both_arms_of_a_pair_run_with_the_same_member_and_seed(drawn):
    wide = drawn.finals.pivot(index="replication", columns="arm", values="member")
    assert (wide["A"] == wide["B"]).all()
    assert wide["A"].tolist() == drawn.ensemble["members"]
    seeds = drawn.finals.pivot(index="replication", columns="arm", values="seed")
    assert (seeds["A"] == seeds["B"]).all()
    assert list(drawn.records.columns[:5]) == [
        "arm",
        "scenario",
        "replication",
        "seed",
        "member",
    ]


def test_a_replication_replays_from_its_member_with_the_overrides_winning(
    drawn, ensemble
):
    row = drawn.finals.query("arm == 'B' and replication == 2").iloc[0]
    values = ensemble.frame.set_index("member").loc[int(row["member"])]
    member = {p: float(values[p]) for p in ensemble.parameters}
    # elite_capture was set by the user: the member's value is not used
    overrides = {**member, **SMALL, "elite_capture": 1.1}
    alone = run(B, int(row["seed"]), months=MONTHS, overrides=overrides).final
    for name in drawn.outcomes:
        assert alone[name] == row[name], name
    plain = run(B, int(row["seed"]), months=MONTHS, overrides=SMALL).final
    assert any(plain[n] != row[n] for n in drawn.outcomes)  # the member mattered


def test_same_seed_same_results_in_one_or_two_processes(drawn):
    parallel = compare(
        A,
        B,
        replications=4,
        seed=3,
        months=MONTHS,
        overrides={**SMALL, "elite_capture": 1.1},
        ensemble=ENSEMBLE,
        workers=2,
    )
    pd.testing.assert_frame_equal(parallel.records, drawn.records)
    pd.testing.assert_frame_equal(parallel.summary(), drawn.summary())


def test_without_an_ensemble_nothing_changes(drawn):
    plain = compare(A, B, replications=2, seed=3, months=MONTHS, overrides=SMALL)
    assert plain.ensemble is None
    assert "member" not in plain.records.columns
    assert "parameter uncertainty" not in plain.table()
    alone = run(B, plain.seeds[1], months=MONTHS, overrides=SMALL).records
    mine = plain.records.query("arm == 'B' and replication == 1")
    pd.testing.assert_frame_equal(
        mine.drop(columns=["arm", "scenario", "replication", "seed"]).reset_index(
            drop=True
        ),
        alone,
    )


def test_the_table_and_the_file_say_the_intervals_cover_parameters(drawn, tmp_path):
    text = drawn.table()
    assert "parameter uncertainty: 4 draws from ensemble kedungkandang-2008" in text
    assert "intervals cover parameter and seed uncertainty" in text
    assert "set for every draw (overrides): elite_capture" in text
    assert "spread across draws" in text
    assert "parameters drawn from ensemble kedungkandang-2008" in repr(drawn)
    path = drawn.to_file(tmp_path / "c.parquet")
    _, meta = read_table(path)
    assert meta["ensemble"]["members"] == drawn.ensemble["members"]
    assert len(meta["ensemble"]["sha256"]) == 64
    assert "member" in pd.read_parquet(path).columns


def test_a_calibrated_parameter_the_scenario_sets_is_kept(tmp_path, ensemble):
    own = _own_scenario(tmp_path, f'base = "{B}"\ndefault_hazard = 0.02')
    supplied, kept = ensemble.supplied(own)
    assert kept == ("default_hazard",)
    assert "default_hazard" not in supplied and "elite_capture" in supplied
    c = compare(
        A, own, replications=2, seed=1, months=6, overrides=SMALL, ensemble=ENSEMBLE
    )
    assert c.ensemble["kept"] == {"B (own)": ["default_hazard"]}
    assert "kept from B (own)'s scenario (it sets them): default_hazard" in c.table()


def test_a_scenario_not_built_on_the_ensembles_is_refused(tmp_path, models_built):
    own = _own_scenario(tmp_path, "n_households = 100")
    with pytest.raises(EnsembleError, match="calibrated on scenario kedungkandang"):
        compare(A, own, replications=2, months=6, ensemble=ENSEMBLE)
    assert models_built == []


@pytest.fixture(scope="module")
def repayment():
    """The programme's effect on repayment, B - A at 36 months, 30 replications.

    With the ensemble (and its seed-only pairs, ``shares=True``) and, separately, the
    seed-only comparison of the same master seed.
    """
    return {
        ens: compare(
            "none",
            A,
            replications=30,
            seed=4,
            months=36,
            overrides={"n_households": 400},
            ensemble=ens,
            workers=2,
        )
        for ens in (None, ENSEMBLE)
    }


def _at_followup(comparison, outcome="repayment_rate"):
    table = comparison.summary(moments=["followup"]).set_index("outcome")
    return table.loc[outcome]


def test_intervals_with_the_ensemble_are_wider_than_seed_only(repayment):
    """``default_hazard`` is calibrated over [0.003, 0.03] around the scenario's 0.01.

    So the drawn members spread the repayment effect far beyond seed noise: over master
    seeds 1-9 the variance of the paired differences grew 16 to 600 times. The test
    asks a one-sided F test of the two variances (same seeds, 29 and 29 degrees of
    freedom) for p < 0.001, and the interval to be at least twice as wide.
    """
    seed_only, both = _at_followup(repayment[None]), _at_followup(repayment[ENSEMBLE])
    ratio = both["sd"] ** 2 / seed_only["sd"] ** 2
    assert stats.f.sf(ratio, 29, 29) < 0.001
    width = both["ci_high"] - both["ci_low"]
    assert width > 2 * (seed_only["ci_high"] - seed_only["ci_low"])


def test_most_of_the_repayment_spread_is_parameter_uncertainty(repayment):
    """Where the ensemble widens the interval, the parameter share says so (> 0.8).

    Seen (master seed 4): var seed only 8.9e-06, var with the ensemble 5.4e-03, so a
    parameter share of 0.998 with a bootstrap interval of [0.97, 1.00] over the 30
    replications.
    """
    shares = repayment[ENSEMBLE].shares.set_index(["moment", "outcome"])
    row = shares.loc[("followup", "repayment_rate")]
    assert row["n"] == 30
    assert row["parameter_share"] > 0.8
    assert row["share_low"] > 0.5 and row["share_high"] <= 1.0
    assert row["share_low"] <= row["parameter_share"] <= row["share_high"]
    assert row["parameter_share"] == pytest.approx(
        1 - row["var_seed"] / row["var_ensemble"]
    )


def test_the_seed_only_part_is_the_seed_only_comparison_exactly(repayment):
    alone, drawn = repayment[None], repayment[ENSEMBLE]
    pd.testing.assert_frame_equal(drawn.seed_only, alone.moments)
    a, b = alone.paired("repayment_rate")
    var_seed = drawn.shares.set_index(["moment", "outcome"]).loc[
        ("followup", "repayment_rate"), "var_seed"
    ]
    assert var_seed == np.var(b - a, ddof=1)  # the same numbers, not close ones
    a, b = drawn.paired("repayment_rate")
    var_ensemble = drawn.shares.set_index(["moment", "outcome"]).loc[
        ("followup", "repayment_rate"), "var_ensemble"
    ]
    assert var_ensemble == np.var(b - a, ddof=1)
    assert alone.shares is None and alone.seed_only is None


def test_an_outcome_that_never_varies_has_no_share(repayment):
    shares = repayment[ENSEMBLE].shares.set_index(["moment", "outcome"])
    gov = shares.loc[("followup", "gov_support")]  # 0 in every run of the observed case
    assert gov["var_ensemble"] == 0 and math.isnan(gov["parameter_share"])
    assert "gov_support" in repayment[ENSEMBLE].table()
    line = next(
        x
        for x in repayment[ENSEMBLE].table().split("at follow-up\n")[-1].splitlines()
        if x.startswith("gov_support")
    )
    assert line.split()[-1] == "n/a"


def test_the_share_is_one_minus_the_variance_ratio_clipped_with_a_seeded_interval():
    rng = np.random.default_rng(7)
    noise = rng.normal(size=20)
    param = 3 * rng.normal(size=20)

    def frame(diffs):
        rows = []
        for i, d in enumerate(diffs):
            rows += [
                {"arm": "A", "replication": i, "moment": "followup", "y": 0.0},
                {"arm": "B", "replication": i, "moment": "followup", "y": d},
            ]
        return pd.DataFrame(rows)

    seed_only, drawn = frame(noise), frame(noise + param)
    out = parameter_shares(seed_only, drawn, ["y"], ["followup"], seed=1)
    row = out.iloc[0]
    expected = 1 - np.var(noise, ddof=1) / np.var(noise + param, ddof=1)
    assert row["parameter_share"] == pytest.approx(expected) and expected > 0.5
    assert row["share_low"] < row["parameter_share"] < row["share_high"]
    again = parameter_shares(seed_only, drawn, ["y"], ["followup"], seed=1)
    pd.testing.assert_frame_equal(out, again)
    other = parameter_shares(seed_only, drawn, ["y"], ["followup"], seed=2)
    assert other.iloc[0]["share_low"] != row["share_low"]
    # less spread with the ensemble than without: clipped to 0, not negative
    clipped = parameter_shares(drawn, seed_only, ["y"], ["followup"], seed=1)
    assert clipped.iloc[0]["parameter_share"] == 0.0
    # no spread with the ensemble: n/a
    flat = parameter_shares(seed_only, frame(np.ones(20)), ["y"], ["followup"], seed=1)
    assert flat.iloc[0][["parameter_share", "share_low", "share_high"]].isna().all()


def test_shares_false_skips_the_seed_only_runs(drawn, monkeypatch):
    calls = []
    real = compare_module.run_arms

    def counting(*args, **kwargs):
        calls.append(kwargs.get("members") is not None)
        return real(*args, **kwargs)

    monkeypatch.setattr(compare_module, "run_arms", counting)
    cheap = compare(
        A,
        B,
        replications=4,
        seed=3,
        months=MONTHS,
        overrides={**SMALL, "elite_capture": 1.1},
        ensemble=ENSEMBLE,
        shares=False,
    )
    assert calls == [True]  # the ensemble's runs alone
    assert cheap.shares is None and cheap.seed_only is None
    pd.testing.assert_frame_equal(cheap.records, drawn.records)
    assert "shares=False" in cheap.table()
    assert "Where the spread" not in cheap.table()


def test_the_shares_show_in_the_table_repr_html_and_file(drawn, tmp_path):
    text = drawn.table()
    assert "twice the runs" in text
    assert "Where the spread of B - A comes from, at follow-up" in text
    assert "parameter share of its spread: pendayaan_poor" in repr(drawn)
    assert "<th>parameter share</th>" in drawn._repr_html_()
    assert list(drawn.shares.columns) == list(SHARE_COLUMNS)
    assert len(drawn.shares) == 2 * len(drawn.outcomes)
    _, meta = read_table(drawn.to_file(tmp_path / "c.parquet"))
    shares = pd.DataFrame(meta["shares"])
    got = shares.set_index(["moment", "outcome"])["var_ensemble"]
    want = drawn.shares.set_index(["moment", "outcome"])["var_ensemble"]
    pd.testing.assert_series_equal(got, want, check_dtype=False)


# --- the command line ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ensemble", "message"),
    [
        ("nope", "no shipped ensemble named 'nope' (shipped: kedungkandang-2008"),
        ("missing.parquet", "does not exist"),
        ("bad.parquet", "cannot read the ensemble"),
    ],
)
def test_cli_bad_ensemble_is_one_line_exit_2_no_files(
    ensemble, message, tmp_path, capsys, models_built
):
    (tmp_path / "bad.parquet").write_text("not a table")
    if ensemble.endswith(".parquet"):
        ensemble = str(tmp_path / ensemble)
    out = tmp_path / "f.csv"
    args = ["compare", A, B, "--replications", "2", "--out", str(out)]
    rc = main([*args, "--ensemble", ensemble])
    captured = capsys.readouterr()
    assert rc == 2 and captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("berdaya: error: --ensemble: ")
    assert message in lines[0]
    assert not out.exists() and models_built == []


def test_cli_bare_ensemble_draws_from_the_shipped_one(capsys):
    assert shipped_ensembles() == [ENSEMBLE]
    args = ["compare", A, B, "--replications", "2", "--months", "6"]
    assert main([*args, "--set", "n_households=200", "--ensemble"]) == 0
    out = capsys.readouterr().out
    assert "parameter uncertainty: 2 draws from ensemble kedungkandang-2008" in out


TINY = ["--replications", "2", "--months", "6", "--set", "n_households=200"]


def test_cli_draws_the_shipped_ensemble_by_default_for_the_observed_case(
    capsys, tmp_path
):
    out = tmp_path / "c.parquet"
    assert main(["compare", A, B, *TINY, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert (
        "ensemble on by default: the scenarios are built on kedungkandang-2008, the "
        "scenario of the shipped ensemble kedungkandang-2008 (--ensemble none: seed "
        "noise only)"
    ) in text
    assert "parameter uncertainty: 2 draws from ensemble kedungkandang-2008" in text
    assert "Where the spread of B - A comes from, at follow-up" in text
    table, meta = read_table(out)
    assert meta["ensemble"]["name"] == ENSEMBLE and "member" in table.columns
    assert {r["outcome"] for r in meta["shares"]} >= {"repayment_rate"}


def test_cli_ensemble_none_and_no_ensemble_are_seed_noise_only(capsys):
    assert main(["compare", A, B, *TINY, "--ensemble", "none"]) == 0
    off = capsys.readouterr().out
    assert main(["compare", A, B, *TINY, "--no-ensemble"]) == 0
    assert capsys.readouterr().out == off
    assert "seed noise only (--ensemble none)" in off
    assert "parameter uncertainty:" not in off and "Where the spread" not in off
    plain = compare(A, B, replications=2, months=6, overrides={"n_households": 200})
    assert plain.table() in off.replace(
        "seed noise only (--ensemble none): the intervals leave out parameter "
        "uncertainty\n",
        "",
    )


def test_cli_a_scenario_not_built_on_an_ensembles_runs_seed_only_with_a_line(
    tmp_path, capsys
):
    own = _own_scenario(tmp_path, "n_households = 100")
    assert main(["compare", A, str(own), "--replications", "2", "--months", "3"]) == 0
    text = capsys.readouterr().out
    assert "seed noise only: no shipped ensemble was calibrated on own" in text
    assert "parameter uncertainty:" not in text


def test_cli_sweep_refuses_ensemble_none_in_one_line(tmp_path, capsys):
    args = ["sweep", "involvement-progression", "--out", str(tmp_path / "o")]
    assert main([*args, "--ensemble", "none"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("berdaya: error: --ensemble none: ")
    assert not (tmp_path / "o").exists()


def test_cli_bare_ensemble_for_a_scenario_of_none_is_refused(tmp_path, capsys):
    own = _own_scenario(tmp_path, "n_households = 100")
    assert main(["compare", A, str(own), "--ensemble"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "scenario own is not built on" in err


# --- sweeps ----------------------------------------------------------------------------

SPEC = f"""
description = "a tiny grid with parameter uncertainty"
scenario = "kedungkandang-2008"
replications = 3
seed = 11
design = "grid"
ensemble = "{ENSEMBLE}"

[set]
n_households = 200
months = 12
elite_capture = 1.2

[levers]
kelurahan_involvement = [0.0, 1.0]
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ensemble-sweep")
    spec = folder / "spec.toml"
    spec.write_text(SPEC)
    return spec, folder / "out", run_sweep(spec, folder / "out", workers=1)


def test_every_point_of_a_replication_runs_with_its_member(swept, ensemble):
    _, out, results = swept
    members = ensemble.members(11, 3)
    by_rep = results.groupby("replication")["member"].agg(set)
    assert by_rep.tolist() == [{m.index} for m in members]
    assert (results["elite_capture"] == 1.2).all()  # the spec's value wins
    first = results[results["replication"] == 1].iloc[0]
    assert first["default_hazard"] == members[1].values["default_hazard"]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["ensemble"]["members"] == [m.index for m in members]
    assert "elite_capture" not in meta["ensemble"]["drawn"]


def test_a_sweep_run_replays_alone_with_its_member(swept, ensemble):
    _, _, results = swept
    row = results[(results["point"] == 2) & (results["replication"] == 2)].iloc[-1]
    drawn = {p: row[p] for p in ensemble.parameters}
    overrides = {**drawn, "n_households": 200, "months": 12, "kelurahan_involvement": 1}
    final = run(A, int(row["seed"]), overrides=overrides).final
    assert final["pendayaan_poor"] == row["pendayaan_poor"]


def test_an_ensemble_sweep_resumes_bit_identically(swept, tmp_path, models_built):
    spec, out, first = swept
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(out), str(copy)], check=True)
    for run_id in ("p0001-r002", "p0002-r000"):
        SweepFolder(copy).file_of(run_id).unlink()
    again = run_sweep(spec, copy, workers=2)
    pd.testing.assert_frame_equal(first, again)
    for run_id in ("p0001-r002", "p0002-r000"):
        assert SweepFolder(copy).file_of(run_id).read_bytes() != b""
    pd.testing.assert_frame_equal(read_results(copy), read_results(out))


def test_the_ensemble_is_part_of_the_spec_and_design_hashes(swept):
    with_it = parse_spec(_toml(SPEC))
    without = parse_spec(_toml(SPEC.replace(f'ensemble = "{ENSEMBLE}"\n', "")))
    assert with_it.digest != without.digest
    assert build_design(with_it).digest != build_design(without).digest
    assert without.with_ensemble(ENSEMBLE).ensemble_ref == ENSEMBLE
    assert build_design(without.with_ensemble(ENSEMBLE)).digest == (
        build_design(with_it).digest
    )


def test_a_spec_with_an_unknown_ensemble_is_refused_in_one_line():
    with pytest.raises(SweepError, match=r"spec: ensemble: no shipped ensemble named"):
        parse_spec(_toml(SPEC.replace(f'ensemble = "{ENSEMBLE}"', 'ensemble = "nope"')))


def test_cli_sweep_ensemble_flag(tmp_path, capsys):
    spec = tmp_path / "plain.toml"
    spec.write_text(SPEC.replace(f'ensemble = "{ENSEMBLE}"\n', ""))
    out = tmp_path / "out"
    args = ["sweep", str(spec), "--out", str(out), "--workers", "1", "--limit", "2"]
    assert main([*args, "--ensemble", "nope"]) == 2
    assert capsys.readouterr().err.startswith("berdaya: error: --ensemble: ")
    assert not out.exists()
    assert main([*args, "--ensemble"]) == 0
    results = read_results(out)
    assert results["member"].notna().all()
    assert "parameter uncertainty" in _report(out, capsys)


def _report(out: Path, capsys) -> str:
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    return capsys.readouterr().out


def _toml(text: str) -> dict:
    return tomllib.loads(text)

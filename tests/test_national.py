"""National programmes: kelurahan as independent runs, added up month by month.

A tiny nation (5 kelurahan of 80-320 households, 24 months) is run once in this process;
its totals are checked against hand-computed values from the per-kelurahan files, against
a run on local processes and on a real Dask ``LocalCluster`` (identical), and against
resumes after a partial run. Bad input gets one line and nothing written.
"""

from __future__ import annotations

import html
import shutil
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from berdaya.cli import main
from berdaya.experiments.executors import InlineExecutor
from berdaya.experiments.files import read_table
from berdaya.experiments.national import (
    aggregate,
    national_spec,
    national_totals,
    run_national,
)
from berdaya.experiments.run import run
from berdaya.experiments.spec import SweepError, build_design, outcome_names
from berdaya.experiments.sweep import (
    SweepFolder,
    SweepStoppedError,
    read_results,
    tasks_of,
)
from berdaya.model.registry import HEADLINE, RECORDS

KELURAHAN = 5
NATION = """
description = "a tiny nation"
scenario = "kedungkandang-2008"
replications = 1
seed = 5

[design]
kind = "lhs"
samples = 5
base = false
seeds = "independent"

[set]
months = 24

[uncertainties]
n_households = { low = 80, high = 320 }
poor_share = { low = 0.1, high = 0.5 }

[outcomes]
keep = [
  "pendayaan_all", "pendayaan_poor", "poverty_rate", "forced_count",
  "forced_share_of_pendayaan", "participation_poor", "lent_total", "repayment_rate",
  "principal_due",
  "bkm_formed", "bkm_stage", "bkm_capacity", "gov_support", "gini",
]
every = 6
"""
MONTHS = [0, 6, 12, 18, 24]


def write_spec(folder: Path, text: str = NATION) -> Path:
    path = folder / "nation.toml"
    path.write_text(text)
    return path


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def _totals(out: Path) -> pd.DataFrame:
    return read_table(out / "national.parquet")[0]


@pytest.fixture
def models_built(models_built):
    """The shared model counter, started after the outcome list's probe model."""
    outcome_names()
    models_built.clear()
    return models_built


@pytest.fixture(scope="module")
def nation(tmp_path_factory):
    """The tiny nation, run in this process: (spec path, folder, result)."""
    folder = tmp_path_factory.mktemp("nation")
    spec = write_spec(folder)
    out = folder / "out"
    return spec, out, run_national(spec, out, workers=1)


# --- the arithmetic ------------------------------------------------------------------


def test_totals_by_hand():
    """Two kelurahan over two months, every kind of rule, with the sums done by hand."""
    frame = pd.DataFrame(
        {
            "run_id": ["a", "a", "b", "b"],
            "month": [0, 12, 0, 12],
            "n_households": [100, 100, 300, 300],
            "poverty_rate": [0.2, 0.2, 0.5, 0.5],  # 20 and 150 poor
            "pendayaan_all": [0.0, 0.1, 0.0, 0.05],  # 10 and 15 in pendayaan
            "pendayaan_poor": [0.0, 0.5, 0.0, 0.1],  # 10 and 15 poor in pendayaan
            "forced_count": [0.0, 4.0, 0.0, 3.0],
            "forced_share_of_pendayaan": [0.0, 0.4, 0.0, 0.2],
            "lent_total": [0.0, 1e6, 0.0, 3e6],
            "repayment_rate": [1.0, 0.9, 1.0, 0.5],
            "principal_due": [0.0, 1e6, 0.0, 2e6],
            "bkm_formed": [0.0, 1.0, 0.0, 0.0],
            "bkm_stage": [0.0, 2.0, 0.0, 0.0],  # b's board is not formed: not counted
            "bkm_capacity": [0.0, 0.6, 0.0, 0.1],
            "gov_support": [0.0, 0.2, 0.0, 0.4],
            "gini": [0.3, 0.3, 0.4, 0.4],
        }
    )
    keep = [c for c in frame.columns if c not in ("run_id", "month", "n_households")]
    totals, skipped = national_totals(frame, keep)
    assert skipped == ["gini"]
    first, last = totals.iloc[0], totals.iloc[1]
    assert list(totals["month"]) == [0, 12]
    assert list(totals["kelurahan"]) == [2, 2]
    assert list(totals["households"]) == [400, 400]
    assert last["poverty_rate"] == pytest.approx(170 / 400)
    assert last["poverty_rate_households"] == 170
    assert last["pendayaan_all"] == pytest.approx(25 / 400)
    assert last["pendayaan_all_households"] == 25
    assert last["pendayaan_poor"] == pytest.approx(25 / 170)
    assert last["pendayaan_poor_households"] == 25
    assert last["forced_count"] == 7
    assert last["forced_share_of_pendayaan"] == pytest.approx(7 / 25)
    assert last["forced_share_of_pendayaan_households"] == 7
    assert last["lent_total"] == 4e6
    # paid over due: 0.9 of 1e6 and 0.5 of 2e6
    assert last["repayment_rate"] == pytest.approx((0.9e6 + 0.5 * 2e6) / 3e6)
    assert first["repayment_rate"] == 1.0  # nothing due anywhere yet
    assert first["forced_share_of_pendayaan"] == 0.0  # nobody in pendayaan yet
    # a quantity of the kelurahan is its mean over kelurahan, as in a city (the
    # registry's rule), with a yes/no also given as a count of kelurahan
    assert last["bkm_formed"] == pytest.approx(0.5)
    assert last["bkm_formed_kelurahan"] == 1
    assert [
        last[f"bkm_{s}"] for s in ("inisiasi", "partisipatoris", "emansipatoris")
    ] == [
        0,
        0,
        1,
    ]
    assert last["bkm_capacity"] == pytest.approx(0.35)  # over kelurahan, as a city
    assert first["bkm_capacity"] == 0.0
    assert last["bkm_stage"] == pytest.approx(1.0)
    assert last["gov_support"] == pytest.approx(0.3)  # a mean over kelurahan
    assert totals["pendayaan_poor_households"].dtype == np.int64


def test_totals_equal_the_per_kelurahan_files_added_by_hand(nation):
    _, out, result = nation
    folder = SweepFolder(out)
    kelurahan = []  # each kelurahan's rows and metadata, from its batch's file
    for path, held in folder.index().items():
        table = read_table(path)[0]
        kelurahan += [(table[table["run_id"] == r["run_id"]], r) for r in held]
    assert len(kelurahan) == KELURAHAN
    on_disk = pd.read_csv(out / "national.csv")
    assert list(on_disk["month"]) == MONTHS
    for month in MONTHS:
        households = poor = poor_pendayaan = forced = lent = 0.0
        pendayaan = formed = emansipatoris = 0
        participating = support = 0.0
        for table, meta in kelurahan:
            row = table[table["month"] == month].iloc[0]
            n = meta["params"]["n_households"]
            assert row["n_households"] == n
            households += n
            p = round(row["poverty_rate"] * n)
            poor += p
            poor_pendayaan += round(row["pendayaan_poor"] * p)
            pendayaan += round(row["pendayaan_all"] * n)
            participating += round(row["participation_poor"] * p)
            forced += row["forced_count"]
            lent += row["lent_total"]
            formed += int(row["bkm_formed"])
            emansipatoris += int(row["bkm_formed"] and row["bkm_stage"] == 2)
            support += row["gov_support"] / len(kelurahan)
        got = on_disk[on_disk["month"] == month].iloc[0]
        assert got["kelurahan"] == KELURAHAN
        assert got["households"] == households
        assert got["poverty_rate_households"] == poor
        assert got["pendayaan_poor_households"] == poor_pendayaan
        assert got["pendayaan_poor"] == pytest.approx(poor_pendayaan / poor, abs=1e-12)
        assert got["pendayaan_all_households"] == pendayaan
        assert got["participation_poor"] == pytest.approx(participating / poor)
        assert got["forced_count"] == forced
        if pendayaan:
            assert got["forced_share_of_pendayaan"] == pytest.approx(forced / pendayaan)
        assert got["lent_total"] == lent
        assert got["bkm_formed_kelurahan"] == formed
        assert got["bkm_formed"] == pytest.approx(formed / KELURAHAN)
        assert got["bkm_emansipatoris"] == emansipatoris
        assert got["gov_support"] == pytest.approx(support)
    # the model ran long enough for the totals to mean something
    assert on_disk["pendayaan_all_households"].iloc[-1] > 0
    assert on_disk["bkm_formed"].iloc[-1] > 0
    pd.testing.assert_frame_equal(_totals(out), result.totals)
    assert result.done == result.kelurahan == KELURAHAN and result.skipped == ["gini"]


def test_each_kelurahan_has_its_own_seed_and_replays_alone(nation):
    spec, out, _ = nation
    df = read_results(out)
    runs = df.drop_duplicates("run_id")
    assert len(runs) == KELURAHAN and runs["seed"].nunique() == KELURAHAN
    assert sorted(runs["point"]) == list(range(1, KELURAHAN + 1))
    tasks = tasks_of(build_design(national_spec(spec)))
    assert [t.seed for t in tasks] == list(runs["seed"])  # the same seeds every time
    row = df[df["point"] == 3].iloc[-1]
    overrides = {
        "months": 24,
        "n_households": int(row["n_households"]),
        "poor_share": float(row["poor_share"]),
    }
    alone = run("kedungkandang-2008", int(row["seed"]), overrides=overrides).final
    for outcome in ("pendayaan_all", "forced_count", "lent_total", "bkm_stage"):
        assert alone[outcome] == row[outcome]


# --- however it runs, the same totals -------------------------------------------------


def test_dask_local_cluster_equals_local_processes(nation, tmp_path, capsys):
    spec, _, _ = nation
    local = tmp_path / "local"
    run_national(spec, local, workers=2)
    dask = tmp_path / "dask"
    args = ["national", str(spec), "--out", str(dask), "--cluster", "local"]
    assert main([*args, "--workers", "2"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"berdaya national (nation): {KELURAHAN} of {KELURAHAN}")
    assert "not aggregated" in text and "gini" in text
    pd.testing.assert_frame_equal(_totals(dask), _totals(local))
    pd.testing.assert_frame_equal(read_results(dask), read_results(local))
    assert (dask / "national.csv").read_bytes() == (local / "national.csv").read_bytes()


class StopAfter(InlineExecutor):
    """Runs ``n`` kelurahan, then loses every later one (a cluster going away)."""

    def __init__(self, n: int) -> None:
        """Lose every kelurahan after the first ``n``."""
        self.left = n

    def submit(self, fn, /, *args, **kwargs) -> Future:
        """Run the task now, or fail it as a lost worker would."""
        self.left -= 1
        if self.left >= 0:
            return super().submit(fn, *args, **kwargs)
        fut: Future = Future()
        fut.set_exception(ConnectionError("the cluster went away"))
        return fut


def test_resume_after_a_partial_run_adds_every_kelurahan_once(
    nation, tmp_path, models_built
):
    spec, reference, _ = nation
    out = tmp_path / "out"
    with pytest.raises(SweepStoppedError, match="run the same command again"):
        run_national(spec, out, executor=StopAfter(2))
    assert len(list((out / "runs").glob("*.parquet"))) == 2
    partial = aggregate(out)  # what is on disk so far, each kelurahan once
    assert partial.done == 2 and partial.kelurahan == KELURAHAN
    assert set(partial.totals["kelurahan"]) == {2}
    models_built.clear()
    resumed = run_national(spec, out, workers=1)
    assert len(models_built) == KELURAHAN - 2
    assert set(resumed.totals["kelurahan"]) == {KELURAHAN}
    pd.testing.assert_frame_equal(resumed.totals, _totals(reference))
    pd.testing.assert_frame_equal(read_results(out), read_results(reference))


def test_resume_skips_what_is_on_disk(nation, tmp_path, models_built):
    spec, reference, _ = nation
    out = tmp_path / "copy"
    shutil.copytree(reference, out)
    held = SweepFolder(out).index()
    gone = {SweepFolder(out).file_of(r) for r in ("p0002-r000", "p0005-r000")}
    for path in gone:
        path.unlink()
    (out / "runs" / ".p0003-r000+1.parquet.99.tmp").write_bytes(b"half a file")
    (out / "national.csv").unlink()
    again = run_national(spec, out, workers=1)
    assert len(models_built) == sum(len(held[p]) for p in gone)
    pd.testing.assert_frame_equal(again.totals, _totals(reference))
    assert (out / "national.csv").read_bytes() == (
        reference / "national.csv"
    ).read_bytes()
    assert not list((out / "runs").glob(".*"))
    models_built.clear()
    run_national(spec, out, workers=1)  # finished: nothing runs again
    assert models_built == []


# --- the shipped spec -----------------------------------------------------------------


def test_shipped_national_spec_draws_kelurahan_in_range():
    spec = national_spec("national")
    assert spec.samples == 8813 and spec.replications == 1 and not spec.paired
    small = national_spec("national", kelurahan=300)
    design = build_design(small)
    assert len(design.points) == 300 and list(design.points["point"]) == list(
        range(1, 301)
    )
    for f in small.factors:
        assert design.points[f.name].between(f.low, f.high).all()
    tasks = tasks_of(design)
    assert len({t.seed for t in tasks}) == 300
    assert "samples = 300" in small.text
    assert small.digest != spec.digest


# --- bad input ------------------------------------------------------------------------


BAD_SPECS = [
    (
        NATION.replace("poor_share =", "poor_shar ="),
        "unknown parameter 'poor_shar' (did you mean 'poor_share'?)",
    ),
    (
        NATION.replace("seed = 5", "seed = 5\nkelurahans = 3"),
        "unknown key 'kelurahans'",
    ),
    (NATION.replace('seeds = "independent"\n', ""), 'design.seeds = "independent"'),
    (NATION.replace('"poverty_rate", ', ""), "keep poverty_rate too"),
    (NATION.replace('kind = "lhs"', 'kind = "morris"'), 'design.kind = "lhs"'),
    (
        NATION.replace("base = false", "base = true"),
        "leaves no paired baseline; set design.base = false",
    ),
    (
        NATION.replace("n_households = { low = 80, high = 320 }\n", ""),
        "a national spec gives n_households",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_SPECS)
def test_bad_spec_is_refused_with_one_line(
    text, expected, tmp_path, capsys, models_built
):
    spec = write_spec(tmp_path, text)
    out = tmp_path / "out"
    code = main(["national", str(spec), "--out", str(out), "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("berdaya: error: ") and err.count("\n") == 1
    assert expected in err
    assert models_built == [] and not out.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--kelurahan", "0"], "--kelurahan must be at least 1 (got 0)"),
        (["--kelurahan", "-3"], "--kelurahan must be at least 1 (got -3)"),
        (["--workers", "0"], "--workers must be at least 1 (got 0)"),
        (["--cluster", "nohost"], "must be 'local' or a scheduler address"),
        (["--no-out"], "--out DIR is required"),
        (["--spec", "absent.toml"], "neither a file nor a shipped spec"),
        (["--out-under-a-file"], "is a file, not a folder"),
    ],
)
def test_bad_arguments_are_refused_with_one_line(
    args, expected, tmp_path, capsys, models_built
):
    spec = str(write_spec(tmp_path))
    out = tmp_path / "out"
    argv = ["national", spec, "--out", str(out)]
    if args == ["--no-out"]:
        argv = ["national", spec]
    elif args[0] == "--spec":
        argv[1] = str(tmp_path / args[1])
    elif args == ["--out-under-a-file"]:
        (tmp_path / "file").write_text("not a folder")
        out = tmp_path / "file" / "out"
        argv[3] = str(out)
    else:
        argv += args
    before = _files(tmp_path)
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("berdaya: error: ") and err.count("\n") == 1
    assert expected in err
    assert models_built == [] and _files(tmp_path) == before


def test_another_number_of_kelurahan_in_the_same_folder_is_refused(
    nation, tmp_path, capsys, models_built
):
    spec, reference, _ = nation
    out = tmp_path / "copy"
    shutil.copytree(reference, out)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    code = main(["national", str(spec), "--out", str(out), "--kelurahan", "7"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"holds a national run of {KELURAHAN} kelurahan; give --kelurahan 5" in err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    assert models_built == []


def test_aggregating_a_missing_or_foreign_folder_is_refused(tmp_path):
    with pytest.raises(SweepError, match="is not a folder") as err:
        aggregate(tmp_path / "absent")
    assert "\n" not in str(err.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SweepError, match="holds no national run"):
        aggregate(tmp_path / "empty")
    assert not (tmp_path / "absent").exists()
    assert _files(tmp_path / "empty") == set()


def test_national_spec_refuses_a_bad_number():
    for bad in (0, -1, 2.5, True):
        with pytest.raises(SweepError, match="--kelurahan must be an integer >= 1"):
            national_spec("national", bad)


def test_a_national_results_repr_is_short_and_its_html_a_table(nation):
    result = nation[2]
    text = repr(result)
    assert len(text) < 500 and len(text.splitlines()) == 2, text
    assert f"of {result.kelurahan:,} kelurahan" in text.splitlines()[0]
    last = result.totals.iloc[-1]
    assert f"at month {int(last['month'])}:" in text
    page = result._repr_html_()
    assert page.startswith("<table>") and page.endswith("</table>")
    shown = [n for n in HEADLINE if n in last.index]
    assert shown, "no headline record in the totals"
    for name in shown:
        value = format(float(last[name]), RECORDS[name].fmt)
        assert f"<code>{name}</code></td><td" in page
        assert f">{html.escape(value)}</td>" in page, name

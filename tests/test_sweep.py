"""Sweeps: specs and designs, identical results however run, resume, errors, bad input."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import berdaya
import berdaya.experiments.sweep as sweep_module
from berdaya.cli import main
from berdaya.experiments import read_errors, read_results, run_sweep
from berdaya.experiments.compare import replication_seeds
from berdaya.experiments.executors import code_zip
from berdaya.experiments.run import run
from berdaya.experiments.spec import (
    SweepError,
    build_design,
    load_spec,
    outcome_names,
    parse_spec,
    shipped_specs,
)
from berdaya.experiments.sweep import SweepFolder, replay_command, tasks_of
from berdaya.scenarios import parse_set

# Tiny runs: 200 households, 12 months (about 10 ms each).
TINY = """
description = "tiny grid"
scenario = "kedungkandang-2008"
replications = 3
seed = 11
design = "grid"

[set]
n_households = 200
months = 12

[levers]
kelurahan_involvement = [0.0, 1.0]
progression = ["schedule", "readiness"]

[outcomes]
keep = ["powerless_poor", "pendayaan_poor", "gov_support", "phase_name"]
every = 6
"""
KEPT_MONTHS = [0, 6, 12]


def write_spec(folder: Path, text: str = TINY, name: str = "tiny.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


@pytest.fixture
def models_built(models_built):
    """The shared model counter, started after the outcome list's probe model."""
    outcome_names()
    models_built.clear()
    return models_built


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The tiny grid, run in this process."""
    folder = tmp_path_factory.mktemp("serial")
    spec = write_spec(folder)
    return spec, folder / "out", run_sweep(spec, folder / "out", workers=1)


# --- what a sweep writes ------------------------------------------------------------


def test_every_point_and_replication_is_there_once_with_its_seed(serial):
    _, out, df = serial
    seeds = replication_seeds(11, 3)
    runs = df.drop_duplicates("run_id")
    assert len(runs) == 5 * 3  # the base point and the 2 x 2 grid
    assert sorted(runs["point"].unique()) == [0, 1, 2, 3, 4]
    assert (
        runs.groupby("point")["replication"]
        .apply(sorted)
        .map(list)
        .eq([[0, 1, 2]] * 5)
        .all()
    )
    assert (runs["seed"] == [seeds[r] for r in runs["replication"]]).all()
    assert (
        df.groupby("run_id")["month"].apply(list).map(lambda m: m == KEPT_MONTHS).all()
    )
    assert (df["n_households"] == 200).all() and (df["months"] == 12).all()
    grid = runs[runs["point"] > 0]
    combos = set(zip(grid["kelurahan_involvement"], grid["progression"], strict=True))
    assert combos == {
        (0.0, "schedule"),
        (0.0, "readiness"),
        (1.0, "schedule"),
        (1.0, "readiness"),
    }
    assert list(df.columns[:5]) == [
        "run_id",
        "point",
        "replication",
        "seed",
        "scenario",
    ]
    on_disk = SweepFolder(out).run_records()  # each run once, in one batch file
    assert [r["run_id"] for r in on_disk] == sorted(runs["run_id"])
    assert all(p.name.startswith("p0") for p in (out / "runs").iterdir())
    meta = json.loads((out / "meta.json").read_text())
    assert meta["seeds"] == seeds and meta["runs"] == 15
    assert meta["berdaya"] == berdaya.__version__ and len(meta["spec_sha256"]) == 64
    assert (out / "spec.toml").read_text() == TINY


def test_a_sweep_run_twice_gives_identical_results(serial, tmp_path):
    spec, _, first = serial
    again = run_sweep(spec, tmp_path / "again", workers=1)
    pd.testing.assert_frame_equal(first, again)


def test_serial_and_local_processes_give_identical_results(serial, tmp_path):
    spec, _, first = serial
    local = run_sweep(spec, tmp_path / "local", workers=2)
    pd.testing.assert_frame_equal(first, local)


def test_any_run_replays_alone_from_its_row(serial):
    _, _, df = serial
    row = df[(df["point"] == 4) & (df["replication"] == 2)].iloc[-1]
    overrides = {
        "n_households": int(row["n_households"]),
        "months": int(row["months"]),
        "kelurahan_involvement": float(row["kelurahan_involvement"]),
        "progression": row["progression"],
    }
    command = replay_command("kedungkandang-2008", int(row["seed"]), overrides)
    args = command.split()
    sets = parse_set([args[i + 1] for i, a in enumerate(args) if a == "--set"])
    assert sets == overrides
    alone = run("kedungkandang-2008", int(row["seed"]), overrides=sets).final
    for outcome in ("powerless_poor", "pendayaan_poor", "gov_support"):
        assert alone[outcome] == row[outcome]


def test_results_read_in_batches_equal_one_read(serial, monkeypatch):
    _, out, first = serial
    monkeypatch.setattr(sweep_module, "READ_BATCH", 2)  # 15 runs: 8 batches
    pd.testing.assert_frame_equal(read_results(out), first)


def test_same_seed_same_params_means_same_run_across_points(serial):
    """Point 0 (base) and point 1 (0.0, schedule) are the same scenario: equal rows."""
    _, _, df = serial
    cols = ["replication", "month", "powerless_poor", "pendayaan_poor", "gov_support"]
    base = df[df["point"] == 0][cols].reset_index(drop=True)
    same = df[df["point"] == 1][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(base, same)


# --- resume -------------------------------------------------------------------------


def test_a_finished_sweep_resumes_as_a_no_op(serial, models_built):
    spec, out, first = serial
    before = {p: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    again = run_sweep(spec, out, workers=1)
    assert models_built == []
    pd.testing.assert_frame_equal(first, again)
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == before


def test_resume_runs_only_what_is_missing(serial, tmp_path, models_built):
    spec, out, first = serial
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(out), str(copy)], check=True)
    held = SweepFolder(copy).index()
    gone = {SweepFolder(copy).file_of(r) for r in ("p0002-r001", "p0004-r000")}
    for path in gone:
        path.unlink()
    (copy / "runs" / ".p0003-r002+1.parquet.999.tmp").write_bytes(b"half a file")
    again = run_sweep(spec, copy, workers=1)
    assert len(models_built) == sum(len(held[p]) for p in gone)  # their runs alone
    pd.testing.assert_frame_equal(first, again)
    assert not list((copy / "runs").glob(".*"))


def test_resume_refuses_another_spec_with_one_line(serial, tmp_path, capsys):
    _, out, _ = serial
    other = write_spec(tmp_path, TINY.replace("replications = 3", "replications = 4"))
    before = _files(out)
    code = main(["sweep", str(other), "--out", str(out), "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("berdaya: error: --out:") and err.count("\n") == 1
    assert "spec.toml differs" in err
    assert _files(out) == before


# The tiny grid with 20 replications: its first 3 share the seeds of the fixture's.
KILL_SPEC = TINY.replace("replications = 3", "replications = 20")


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def test_killed_sweep_resumes_with_every_run_exactly_once(
    serial, tmp_path, berdaya_exe
):
    spec = write_spec(tmp_path, KILL_SPEC)
    out = tmp_path / "out"
    total = 5 * 20
    proc = subprocess.Popen(
        [berdaya_exe, "sweep", str(spec), "--out", str(out), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = out / "runs"
            if runs.is_dir() and len(list(runs.glob("*.parquet"))) >= 3:  # batches
                break
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.01)
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGKILL)  # the driver alone, as `kill -9 PID` would
        proc.wait(10)
        on_disk = len(SweepFolder(out).done())
        assert 3 <= on_disk < total, f"{on_disk} runs on disk when killed"
        # its worker processes notice and exit on their own
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers), "orphan workers are still running"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    resumed = run_sweep(spec, out, workers=1)
    ids = resumed.drop_duplicates("run_id")
    assert len(ids) == total
    assert not ids.duplicated(["point", "replication"]).any()
    assert (resumed.groupby("run_id").size() == len(KEPT_MONTHS)).all()
    seeds = replication_seeds(11, 20)
    assert (ids["seed"] == [seeds[r] for r in ids["replication"]]).all()
    # the runs the fixture made without interruption are identical
    first = serial[2]
    again = resumed[resumed["replication"] < 3].reset_index(drop=True)
    pd.testing.assert_frame_equal(again, first)
    assert not list((out / "runs").glob(".*"))


# --- runs that raise ----------------------------------------------------------------


def test_a_run_that_raises_is_recorded_and_the_rest_go_on(tmp_path, monkeypatch):
    spec = write_spec(tmp_path)
    bad_seed = replication_seeds(11, 3)[1]
    real = sweep_module.run

    def flaky(scenario, seed, *args, **kwargs):
        if seed == bad_seed and scenario.params.progression == "readiness":
            raise FloatingPointError("simulated failure")
        return real(scenario, seed, *args, **kwargs)

    monkeypatch.setattr(sweep_module, "run", flaky)
    out = tmp_path / "out"
    df = run_sweep(spec, out, workers=1)
    errors = read_errors(out)
    assert sorted(errors["run_id"]) == ["p0002-r001", "p0004-r001"]
    assert (errors["seed"] == bad_seed).all()
    assert (errors["type"] == "FloatingPointError").all()
    assert errors["message"].eq("simulated failure").all()
    assert errors["traceback"].str.contains("simulated failure").all()
    record = json.loads((out / "errors" / "p0004-r001.json").read_text())
    assert record["overrides"]["progression"] == "readiness"
    assert record["params"]["kelurahan_involvement"] == 1.0
    assert df["run_id"].nunique() == 13

    # a resume skips recorded errors; --retry-errors runs them (now succeeding)
    monkeypatch.setattr(sweep_module, "run", real)
    assert run_sweep(spec, out, workers=1)["run_id"].nunique() == 13
    full = run_sweep(spec, out, workers=1, retry_errors=True)
    assert full["run_id"].nunique() == 15 and read_errors(out).empty


def test_cli_exit_status_says_runs_raised(tmp_path, monkeypatch, capsys):
    spec = write_spec(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(sweep_module, "run", broken)
    code = main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--workers", "1"])
    out = capsys.readouterr().out
    assert code == 1
    assert "15 runs raised" in out and "errors/" in out


# --- bad input: one line, before any run, nothing written ---------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BAD_SPECS = {
    "unknown parameter": (
        TINY.replace("progression = [", "progresion = ["),
        ["unknown parameter 'progresion'", "did you mean 'progression'?"],
    ),
    "range outside the schema": (
        TINY.replace(
            "kelurahan_involvement = [0.0, 1.0]",
            "kelurahan_involvement = { low = 0.0, high = 1.5, levels = 3 }",
        ),
        ["levers.kelurahan_involvement", "outside the schema's [0, 1]"],
    ),
    "value outside the schema": (
        TINY.replace("[0.0, 1.0]", "[0.0, 2.0]"),
        ["levers.kelurahan_involvement", "must be a number in [0, 1] (got 2.0)"],
    ),
    "unknown choice": (
        TINY.replace('"readiness"]', '"ready"]'),
        ["one of schedule, readiness, hybrid (got 'ready')"],
    ),
    "unknown design": (
        TINY.replace('design = "grid"', 'design = "latin"'),
        ["unknown design 'latin'", "one of grid, lhs, sobol, morris"],
    ),
    "no replications": (
        TINY.replace("replications = 3", "replications = 0"),
        ["replications must be an integer >= 1 (got 0)"],
    ),
    "lever listed as uncertainty": (
        TINY + "\n[uncertainties]\nfaskel_count = [1, 2]\n",
        ["uncertainties.faskel_count", "is a lever in the schema"],
    ),
    "grid range without levels": (
        TINY.replace("[0.0, 1.0]", "{ low = 0.0, high = 1.0 }"),
        ["a grid needs a list of values or a range with levels"],
    ),
    "sobol not a power of two": (
        TINY.replace(
            'design = "grid"', 'design = { kind = "sobol", samples = 12 }'
        ).replace('progression = ["schedule", "readiness"]', ""),
        ["must be a power of 2 (got 12"],
    ),
    "unknown outcome": (
        TINY.replace('"gov_support"', '"gov_suport"'),
        ["unknown outcome 'gov_suport'", "did you mean 'gov_support'?"],
    ),
    "invalid point": (
        TINY.replace(
            "[levers]",
            "[uncertainties]\nwithin_rt_tie_share = [0.7, 0.99]\n"
            "cross_rw_tie_share = [0.05]\n\n[levers]",
        ),
        ["design point", "within_rt_tie_share + cross_rw_tie_share must be at most 1"],
    ),
    "unknown key": (
        "replicates = 3\n" + TINY,
        ["unknown key 'replicates'"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_bad_spec_is_refused_before_any_run(case, tmp_path, capsys, models_built):
    text, expected = BAD_SPECS[case]
    spec = write_spec(tmp_path, text)
    out = tmp_path / "out"
    code = main(["sweep", str(spec), "--out", str(out), "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    line = captured.err.rstrip("\n")
    assert line.startswith("berdaya: error: ") and "\n" not in line, captured.err
    for text_ in expected:
        assert text_ in line, f"{text_!r} not in {line!r}"
    assert captured.out == ""
    assert models_built == []
    assert not out.exists()


def test_unreachable_cluster_is_refused_before_any_run(tmp_path, capsys, models_built):
    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    address = f"tcp://127.0.0.1:{_free_port()}"
    timeout = ["--cluster-timeout", "1"]
    code = main(["sweep", str(spec), "--out", str(out), "--cluster", address, *timeout])
    line = capsys.readouterr().err.rstrip("\n")
    assert code == 2
    assert line.startswith(
        f"berdaya: error: --cluster: cannot reach a Dask scheduler at {address}"
    )
    assert "\n" not in line
    assert models_built == [] and not out.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--cluster", "nohost"], "must be 'local' or a scheduler address"),
        (["--workers", "0"], "--workers must be at least 1 (got 0)"),
    ],
)
def test_bad_arguments_are_refused(args, expected, tmp_path, capsys, models_built):
    spec = write_spec(tmp_path)
    code = main(["sweep", str(spec), "--out", str(tmp_path / "out"), *args])
    line = capsys.readouterr().err.rstrip("\n")
    assert code == 2 and expected in line and "\n" not in line
    assert models_built == [] and not (tmp_path / "out").exists()


def test_missing_spec_and_foreign_folder_are_refused(tmp_path, capsys):
    code = main(["sweep", str(tmp_path / "absent.toml"), "--out", str(tmp_path / "o")])
    assert code == 2 and "neither a file nor a shipped spec" in capsys.readouterr().err
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    spec = write_spec(tmp_path)
    code = main(["sweep", str(spec), "--out", str(foreign)])
    assert code == 2 and "holds other files" in capsys.readouterr().err
    assert _files(foreign) == {"notes.txt"}


# --- designs ------------------------------------------------------------------------


def _spec(design: str, **extra: object) -> dict:
    data = tomllib.loads(TINY)
    data["design"] = {"kind": design, **extra}
    data["levers"] = {
        "kelurahan_involvement": {"low": 0.0, "high": 1.0},
        "progression": ["schedule", "readiness", "hybrid"],
        "faskel_count": {"low": 1, "high": 3},
    }
    return data


@pytest.mark.parametrize(
    ("design", "extra", "points"),
    [
        ("lhs", {"samples": 10}, 10),
        ("sobol", {"samples": 8}, 8 * (3 + 2)),
        ("sobol", {"samples": 8, "second_order": True}, 8 * (2 * 3 + 2)),
        ("morris", {"samples": 5, "levels": 4}, 5 * (3 + 1)),
    ],
)
def test_sampled_designs_have_their_size_and_stay_in_range(design, extra, points):
    spec = parse_spec(_spec(design, **extra))
    d = build_design(spec)
    assert len(d.points) == points + 1  # and the base point
    assert d.unit is not None and d.unit.shape == (points, 3)
    pts = d.points[d.points["point"] > 0]
    assert pts["kelurahan_involvement"].between(0, 1).all()
    assert set(pts["faskel_count"]) <= {1, 2, 3}
    assert pts["faskel_count"].map(type).eq(int).all()
    assert set(pts["progression"]) <= {"schedule", "readiness", "hybrid"}
    again = build_design(parse_spec(_spec(design, **extra)))
    pd.testing.assert_frame_equal(d.points, again.points)  # the sampler is seeded
    other = _spec(design, **extra)
    other["seed"] = 12
    assert not build_design(parse_spec(other)).points.equals(d.points)


def test_independent_seeds_give_every_point_its_own():
    data = _spec("lhs", samples=6)
    data["design"] |= {"base": False, "seeds": "independent"}
    tasks = tasks_of(build_design(parse_spec(data)))
    seeds = [t.seed for t in tasks]
    assert len(set(seeds)) == len(tasks) == 6 * 3
    assert seeds == [t.seed for t in tasks_of(build_design(parse_spec(data)))]
    assert not set(seeds) & set(replication_seeds(11, 3))
    data["design"]["base"] = True
    with pytest.raises(
        SweepError, match=r"no paired baseline; set design\.base = false"
    ):
        parse_spec(data)
    data["design"] |= {"base": False, "seeds": "shared"}
    with pytest.raises(SweepError, match=r"design\.seeds must be one of"):
        parse_spec(data)


def test_lhs_is_a_latin_hypercube():
    d = build_design(parse_spec(_spec("lhs", samples=10)))
    assert d.unit is not None
    for j in range(3):
        assert sorted((d.unit[:, j] * 10).astype(int)) == list(range(10))


def test_derived_share_completes_the_tridaya_split():
    data = tomllib.loads(TINY)
    data["design"] = {"kind": "lhs", "samples": 12}
    data["levers"] = {
        "tridaya_economic": {"low": 0.1, "high": 0.7},
        "tridaya_social": {"low": 0.0, "high": 0.3},
    }
    data["derive"] = {
        "tridaya_environmental": {
            "remainder_of": ["tridaya_economic", "tridaya_social"]
        }
    }
    d = build_design(parse_spec(data))
    p = d.points
    total = p["tridaya_economic"] + p["tridaya_social"] + p["tridaya_environmental"]
    assert np.allclose(total, 1.0, atol=1e-9)
    assert p["tridaya_environmental"].between(0.0, 0.9).all()
    assert all("tridaya_environmental" in o for o in d.overrides)

    data["levers"]["tridaya_economic"] = {"low": 0.5, "high": 0.95}
    with pytest.raises(SweepError, match="tridaya_environmental"):
        build_design(parse_spec(data))


def test_explicit_combinations_set_parameters_together():
    data = tomllib.loads(TINY)
    data["levers"] = {
        "split": [
            {
                "label": "loans",
                "tridaya_economic": 0.7,
                "tridaya_social": 0.1,
                "tridaya_environmental": 0.2,
            },
            {
                "tridaya_economic": 0.2,
                "tridaya_social": 0.1,
                "tridaya_environmental": 0.7,
            },
        ],
        "joint_liability": [True, False],
    }
    d = build_design(parse_spec(data))
    assert list(d.points["split"]) == [
        "base",
        "loans",
        "loans",
        "0.2/0.1/0.7",
        "0.2/0.1/0.7",
    ]
    assert list(d.points["joint_liability"][1:]) == [True, False, True, False]
    assert list(d.points["tridaya_economic"]) == [0.5, 0.7, 0.7, 0.2, 0.2]
    data["levers"]["split"][1]["tridaya_social"] = 0.2  # sums to 1.1
    with pytest.raises(SweepError, match=r"design point 3 .*must sum to 1"):
        build_design(parse_spec(data))


def test_tasks_are_replication_major_with_paired_seeds():
    d = build_design(parse_spec(tomllib.loads(TINY)))
    tasks = tasks_of(d)
    assert [t.run_id for t in tasks[:6]] == [
        "p0000-r000",
        "p0001-r000",
        "p0002-r000",
        "p0003-r000",
        "p0004-r000",
        "p0000-r001",
    ]
    seeds = replication_seeds(11, 3)
    assert all(t.seed == seeds[t.replication] for t in tasks)


@pytest.mark.parametrize(
    "name",
    ["involvement-progression", "faskel-intensity", "targeting-elite", "tridaya-split"],
)
def test_shipped_specs_are_valid(name):
    assert name in shipped_specs()
    spec = load_spec(name)
    d = build_design(spec)
    assert d.runs >= 100 and spec.description


def test_shipped_specs_are_package_data():
    text = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    data = tomllib.loads(text)
    setuptools = data["tool"]["setuptools"]
    assert "berdaya.experiments.specs" in setuptools["packages"]
    assert "*.toml" in setuptools["package-data"]["berdaya.experiments.specs"]


# --- the code shipped to Dask workers -----------------------------------------------


BLOCKER = """
import sys
sys.meta_path[:] = [
    f for f in sys.meta_path
    if not getattr(f, "__module__", "").startswith("__editable__")
]
sys.path[:] = [p for p in sys.path if not p.startswith("__editable__")]
"""


def test_code_zip_imports_where_berdaya_is_not_installed(tmp_path):
    path = code_zip(tmp_path)
    names = zipfile.ZipFile(path).namelist()
    own = Path(berdaya.__file__).read_bytes()
    assert zipfile.ZipFile(path).read("berdaya/__init__.py") == own
    assert "berdaya/__main__.py" in names and "berdaya/py.typed" in names
    for sub in ("model", "agents", "scenarios", "experiments"):
        assert f"berdaya/{sub}/__init__.py" in names
    assert "berdaya/scenarios/shipped/kedungkandang-2008.toml" in names
    assert "berdaya/experiments/specs/tridaya-split.toml" in names
    assert not any("__pycache__" in n for n in names)
    assert code_zip(tmp_path) == path  # named by content

    block = tmp_path / "block"
    block.mkdir()
    (block / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": str(block)}
    probe = "import importlib.util; print(importlib.util.find_spec('berdaya'))"
    proc = subprocess.run(  # not in the checkout, whose berdaya/ folder `-c` would see
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stdout.strip() == "None", "the blocker did not hide berdaya"
    use = (
        f"import sys; sys.path.insert(0, {str(path)!r}); "
        "from berdaya.experiments.sweep import execute_run; import berdaya.model; "
        "print(berdaya.model.__file__)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", use],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith(str(path))


def test_a_scenario_file_next_to_the_spec(tmp_path, monkeypatch):
    sub = tmp_path / "specs"
    sub.mkdir()
    (sub / "my-case.toml").write_text(
        'base = "kedungkandang-2008"\nfaskel_count = 2\nn_households = 200\n'
    )
    text = (
        TINY.replace('scenario = "kedungkandang-2008"', 'scenario = "my-case.toml"')
        .replace("replications = 3", "replications = 1")
        .replace('progression = ["schedule", "readiness"]', "")
    )
    spec = write_spec(sub, text)
    monkeypatch.chdir(tmp_path)  # the scenario is found next to the spec, not here
    df = run_sweep(spec, tmp_path / "out", workers=1)
    assert set(df["scenario"]) == {"my-case"}
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert meta["scenario_ref"] == str((sub / "my-case.toml").resolve())
    row = df[df["point"] == 2].iloc[-1]
    alone = run(
        meta["scenario_ref"],
        int(row["seed"]),
        overrides={"months": 12, "n_households": 200, "kelurahan_involvement": 1.0},
    ).final
    assert alone["gov_support"] == row["gov_support"]


def test_a_spec_given_as_a_dict_is_copied_as_toml(tmp_path):
    data = tomllib.loads(TINY)
    data["levers"]["split"] = [
        {
            "label": "a",
            "tridaya_economic": 0.7,
            "tridaya_social": 0.1,
            "tridaya_environmental": 0.2,
        },
    ]
    data["replications"] = 1
    run_sweep(data, tmp_path / "out", workers=1)
    assert tomllib.loads((tmp_path / "out" / "spec.toml").read_text()) == data


def test_combinations_cannot_shadow_a_results_column():
    data = tomllib.loads(TINY)
    data["levers"]["seed"] = [
        {"tridaya_economic": 0.5, "tridaya_social": 0.1, "tridaya_environmental": 0.4}
    ]
    with pytest.raises(SweepError, match="names a column of the results"):
        parse_spec(data)

"""Task keys and the results store: a study resumes by key, with the same numbers."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from berdaya.cli import main
from berdaya.experiments import compare as compare_module
from berdaya.experiments import engine
from berdaya.experiments import screen as screen_module
from berdaya.experiments.compare import compare
from berdaya.experiments.engine import task_key
from berdaya.experiments.errors import SweepError
from berdaya.experiments.files import read_table, write_table
from berdaya.experiments.screen import morris_screen
from berdaya.experiments.store import TaskStore
from berdaya.experiments.sweep import SweepFolder, run_sweep

INPUTS = {
    "study": "sweep",
    "params": {"n_households": 200, "contagion_rate": 0.05, "months": 24},
    "seed": 7,
    "keep": ["poverty_rate"],
}
#: A small comparison: three pairs of short runs of few households.
SMALL = {
    "replications": 3,
    "seed": 11,
    "months": 12,
    "overrides": {"n_households": 100},
}


def test_a_task_has_the_same_key_in_another_process():
    code = (
        "from berdaya.experiments.engine import task_key; "
        f"print(task_key(**{INPUTS!r}))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert other.stdout.strip() == task_key(**INPUTS)
    # the order a mapping was built in is not an input
    assert task_key(**dict(reversed(INPUTS.items()))) == task_key(**INPUTS)


@pytest.mark.parametrize(
    "change",
    [
        {"params": {**INPUTS["params"], "contagion_rate": 0.06}},
        {"params": {**INPUTS["params"], "months": 25}},
        {"seed": 8},
        {"keep": ["poverty_rate", "gov_support"]},
        {"study": "compare"},
    ],
)
def test_any_changed_input_changes_the_key(change):
    assert task_key(**{**INPUTS, **change}) != task_key(**INPUTS)


def test_the_key_covers_the_model_code(monkeypatch):
    before = task_key(**INPUTS)
    monkeypatch.setattr(engine, "code_version", lambda: "0.0.0+another")
    assert task_key(**INPUTS) != before


RUN_REPLICATION = compare_module.run_replication


class StudyInterruptedError(RuntimeError):
    """The study was stopped part-way (as a kill or a lost worker would)."""


def _counting(monkeypatch, fail_after: int | None = None) -> list[int]:
    """Count the replications run in this process; raise after ``fail_after``."""
    calls: list[int] = []

    def counted(task):
        if fail_after is not None and len(calls) == fail_after:
            raise StudyInterruptedError(f"stopped after {fail_after} replications")
        calls.append(task.replication)
        return RUN_REPLICATION(task)

    monkeypatch.setattr(compare_module, "run_replication", counted)
    return calls


@pytest.fixture(scope="module")
def plain() -> compare_module.Comparison:
    """The small comparison without a store."""
    return compare("kedungkandang-2008", "none", workers=1, **SMALL)


def test_a_stored_comparison_has_the_same_numbers(plain, tmp_path):
    store = tmp_path / "store"
    on_two = compare("kedungkandang-2008", "none", workers=2, store=store, **SMALL)
    assert on_two.table() == plain.table()
    pd.testing.assert_frame_equal(on_two.records, plain.records)
    assert len(TaskStore(store).keys()) == SMALL["replications"]
    # the results folder is one Parquet dataset of every run
    stored = pd.read_parquet(store / "results")
    assert len(stored) == len(plain.records)
    read_back = compare("kedungkandang-2008", "none", workers=1, store=store, **SMALL)
    pd.testing.assert_frame_equal(read_back.records, plain.records)
    assert read_back.table() == plain.table()


def test_an_interrupted_comparison_resumes_running_only_what_is_missing(
    plain, tmp_path, monkeypatch
):
    store = tmp_path / "store"
    _counting(monkeypatch, fail_after=2)
    with pytest.raises(StudyInterruptedError):
        compare("kedungkandang-2008", "none", workers=1, store=store, **SMALL)
    assert len(TaskStore(store).keys()) == 2  # the two finished before the stop
    calls = _counting(monkeypatch)
    resumed = compare("kedungkandang-2008", "none", workers=1, store=store, **SMALL)
    assert calls == [2]  # only the third replication ran again
    assert resumed.table() == plain.table()
    pd.testing.assert_frame_equal(resumed.records, plain.records)


def test_a_changed_input_reruns_only_its_tasks_and_a_damaged_file_is_redone(
    tmp_path, monkeypatch
):
    store = tmp_path / "store"
    compare("kedungkandang-2008", "none", workers=1, store=store, **SMALL)
    first = sorted((store / "results").glob("*.parquet"))
    first[0].write_bytes(first[0].read_bytes()[:100])  # a copy cut short
    calls = _counting(monkeypatch)
    compare("kedungkandang-2008", "none", workers=1, store=store, **SMALL)
    assert len(calls) == 1  # the damaged one only
    assert len(list((store / "results").glob("*.damaged"))) == 1
    calls.clear()
    more = {**SMALL, "replications": 4}  # a fourth pair: three runs are kept
    compare("kedungkandang-2008", "none", workers=1, store=store, **more)
    assert calls == [3]
    calls.clear()
    other = {**SMALL, "overrides": {"n_households": 101}}  # every run changes
    compare("kedungkandang-2008", "none", workers=1, store=store, **other)
    assert calls == [0, 1, 2]


def test_a_folder_that_is_not_a_comparisons_store_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SweepError, match=r"--store: .* holds other files \(notes.txt"):
        compare("kedungkandang-2008", "none", store=tmp_path, **SMALL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    screen = tmp_path / "screen"
    with TaskStore(screen).opened("screen"):
        pass
    with pytest.raises(SweepError, match="holds screen results, not compare"):
        compare("kedungkandang-2008", "none", store=screen, **SMALL)


# --- a sweep resumes by key -------------------------------------------------------------

SWEEP = {
    "description": "two points, two seeds",
    "scenario": "kedungkandang-2008",
    "replications": 2,
    "seed": 3,
    "design": "grid",
    "set": {"n_households": 100, "months": 6},
    "levers": {"kelurahan_involvement": [0.0, 1.0]},
    "outcomes": {"keep": ["pendayaan_poor"], "every": 3},
}


def test_a_sweep_resumes_by_key(runs_counter, tmp_path, monkeypatch):
    out = tmp_path / "out"
    first = run_sweep(SWEEP, out, workers=1, batch=4)
    runs = SweepFolder(out).run_records()
    assert len(runs) == 6 and len({r["key"] for r in runs}) == 4  # base = a level
    assert len(list((out / "runs").glob("*.parquet"))) == 2  # batches of 4 and 2
    # a result kept under another key (another model's, say) is run again, alone,
    # and taken out of its batch's file
    path = SweepFolder(out).file_of("p0001-r000")
    table, meta = read_table(path)
    meta["runs"] = [
        {**r, "key": "0" * 16} if r["run_id"] == "p0001-r000" else r
        for r in meta["runs"]
    ]
    write_table(table, path, meta)
    ran = runs_counter()
    again = run_sweep(SWEEP, out, workers=1)
    assert ran == ["p0001-r000"]
    pd.testing.assert_frame_equal(again, first)
    assert SweepFolder(out).file_of("p0001-r000") != path
    assert len(read_table(path)[0].drop_duplicates("run_id")) == 3
    # other model code: every key changes, so every run runs again
    ran.clear()
    monkeypatch.setattr(engine, "code_version", lambda: "0.0.0+another")
    run_sweep(SWEEP, out, workers=1)
    assert sorted(ran) == sorted(r["run_id"] for r in runs)
    assert len(SweepFolder(out).run_records()) == 6  # each run once, not twice
    # a changed spec is refused, as before keys: its folder is another sweep's
    changed = {**SWEEP, "set": {"n_households": 101, "months": 6}}
    with pytest.raises(SweepError, match="holds another sweep"):
        run_sweep(changed, out, workers=1)


# --- a Morris screen resumes from its store -----------------------------------------------

SCREEN = {
    "parameters": ["kelurahan_involvement", "loan_interest"],
    "n_households": 100,
    "months": 12,
    "trajectories": 2,
    "replications": 2,
}
RUN_POINT = screen_module.run_point


def test_an_interrupted_screen_resumes_with_the_same_table(tmp_path, monkeypatch):
    plain = morris_screen(workers=1, **SCREEN)
    store = tmp_path / "store"
    ran: list[int] = []

    def stopping(task):
        if len(ran) == 3:
            raise StudyInterruptedError("stopped after 3 points")
        ran.append(task.index)
        return RUN_POINT(task)

    monkeypatch.setattr(screen_module, "run_point", stopping)
    with pytest.raises(StudyInterruptedError):
        morris_screen(workers=1, store=store, **SCREEN)
    assert len(TaskStore(store).keys()) == 3
    ran.clear()
    monkeypatch.setattr(
        screen_module, "run_point", lambda t: ran.append(t.index) or RUN_POINT(t)
    )
    resumed = morris_screen(workers=1, store=store, **SCREEN)
    assert len(ran) == plain.attrs["points"] + 1 - 3  # the baseline is a point too
    pd.testing.assert_frame_equal(resumed, plain)
    monkeypatch.undo()  # local processes run the real function
    on_two = morris_screen(workers=2, store=tmp_path / "two", **SCREEN)
    pd.testing.assert_frame_equal(on_two, plain)
    with pytest.raises(SweepError, match="holds screen results, not compare"):
        compare("kedungkandang-2008", "none", store=store, **SMALL)


# --- the command line --------------------------------------------------------------------


@pytest.mark.parametrize(
    "verb", [["compare", "kedungkandang-2008", "none"], ["levers"]]
)
def test_a_store_that_is_a_file_is_one_line_and_nothing_runs(verb, tmp_path, capsys):
    path = tmp_path / "store"
    path.write_text("not a folder", encoding="utf-8")
    code = main([*verb, "--replications", "2", "--store", str(path)])
    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    assert err.strip().splitlines() == [
        f"berdaya: error: --store: '{path}' is a file, not a folder"
    ]
    assert path.read_text(encoding="utf-8") == "not a folder"


def test_levers_resume_from_their_store_with_the_same_table(tmp_path, monkeypatch):
    args = ["levers", "--replications", "2", "--set", "n_households=60"]
    args += ["--set", "months=6", "--outcome", "poverty_rate"]
    store = tmp_path / "store"
    assert main([*args, "--store", str(store), "--out", str(tmp_path / "a.md")]) == 0
    calls = _counting(monkeypatch)
    assert main([*args, "--store", str(store), "--out", str(tmp_path / "b.md")]) == 0
    assert calls == []  # every replication of every arm came from the store
    a = (tmp_path / "a.md").read_text(encoding="utf-8")
    assert a == (tmp_path / "b.md").read_text(encoding="utf-8")


HOLD = """
import sys, time
from berdaya.experiments.lock import folder_lock
with folder_lock(sys.argv[1], "--store", "study"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_store_held_by_another_study_stops_at_once_naming_it(tmp_path, capsys):
    store = tmp_path / "store"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(store)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        args = ["compare", "kedungkandang-2008", "none", "--replications", "2"]
        code = main([*args, "--store", str(store)])
        out, err = capsys.readouterr()
        assert code != 0 and out == ""
        (line,) = err.strip().splitlines()
        assert line.startswith(
            f"berdaya: error: --store: '{store}' is being written by another study "
            f"(pid {holder.pid} on "
        )
        assert not (store / "results").exists() or not any(
            (store / "results").iterdir()
        )
    finally:
        holder.kill()
        holder.wait()

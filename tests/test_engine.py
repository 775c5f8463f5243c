"""The engine's one runner: results as they complete, losses, progress off a terminal."""

from __future__ import annotations

import time

import pytest

from berdaya.experiments import engine
from berdaya.experiments.engine import (
    StoppedError,
    completed,
    progress_bar,
    replication_seeds,
    run_all,
)
from berdaya.experiments.executors import InlineExecutor


def test_inline_results_come_in_task_order_one_at_a_time():
    calls = []

    def square(x: int) -> int:
        calls.append(x)
        return x * x

    got = completed(square, range(5), InlineExecutor())
    assert next(got) == (0, 0) and calls == [0]  # nothing runs ahead of the caller
    assert list(got) == [(i, i * i) for i in range(1, 5)]


def test_local_processes_give_every_result():
    tasks = [-3, -2, -1, 0, 1, 2]
    assert sorted(run_all(abs, tasks, workers=2)) == sorted(abs(t) for t in tasks)
    assert list(run_all(abs, tasks, workers=1)) == [abs(t) for t in tasks]


def test_a_lost_task_stops_the_drive_with_what_on_lost_says():
    seen = []

    def lost(task: str, err: BaseException) -> StoppedError:
        return StoppedError(f"task {task} lost: {type(err).__name__}")

    with pytest.raises(StoppedError, match="task x lost: ValueError") as info:
        for task, value in completed(
            int, ["1", "2", "x", "4"], InlineExecutor(), on_lost=lost
        ):
            seen.append((task, value))
    assert seen == [("1", 1), ("2", 2)]  # the results before it are the caller's
    assert isinstance(info.value.__cause__, ValueError)
    with pytest.raises(ValueError, match="invalid literal"):  # by default: its own
        list(completed(int, ["x"], InlineExecutor()))


def test_progress_is_a_line_every_few_seconds_when_not_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(engine, "PROGRESS_SECONDS", 0.05)
    bar = progress_bar(4, desc="sweep demo")
    for _ in range(4):
        time.sleep(0.08)
        bar.update()
    bar.close()
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "\r" not in err and len(lines) >= 2
    assert all(line.startswith("sweep demo: ") for line in lines)
    assert lines[-1].startswith("sweep demo: 4/4 runs")


def test_no_progress_line_for_a_short_task_or_when_off(capsys):
    bar = progress_bar(2, desc="quick")  # done well within PROGRESS_SECONDS
    bar.update(2)
    bar.close()
    off = progress_bar(2, desc="off", enabled=False)
    off.update(2)
    off.close()
    assert capsys.readouterr().err == ""


def test_replication_seeds_are_children_of_one_seed_sequence():
    assert replication_seeds(7, 3) == replication_seeds(7, 5)[:3]
    assert len(set(replication_seeds(7, 50))) == 50
    assert replication_seeds(7, 3) != replication_seeds(8, 3)


def test_the_worked_example_of_architecture_md_runs_as_written(tmp_path, monkeypatch):
    """docs/ARCHITECTURE.md's new analysis: a spec and a function, on the engine."""
    from berdaya import doc_path  # noqa: PLC0415

    text = doc_path("ARCHITECTURE.md").read_text(encoding="utf-8")
    (code,) = [
        block.split("```", 1)[0]
        for block in text.split("```python\n")[1:]
        if "run_sweep(spec" in block
    ]
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "ARCHITECTURE.md", "exec"), scope)
    effects = scope["lever_scan"](scope["results"], "gov_support")
    assert list(effects.index) == [1, 2, 3]  # the three involvement levels
    assert effects.iloc[-1] > effects.iloc[0]  # involvement raises government support
    assert (tmp_path / "results" / "lever-scan" / "meta.json").is_file()

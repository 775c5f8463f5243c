"""The experiment engine's driver: tasks to an executor, each result handled as it comes.

Every way berdaya runs many simulations (a sweep, a national programme, a paired
comparison, a Morris screen) hands its tasks to :func:`completed`, the one runner:

* tasks go to any ``concurrent.futures.Executor`` (this process, local processes, a Dask
  cluster: :mod:`berdaya.experiments.executors`), a window at a time, so a killed run
  loses at most the window and memory holds only the window's results;
* each result is yielded as it completes (a sweep writes it to disk atomically then, so
  a resume skips it by its key; a comparison keeps it in memory);
* a task whose future fails (a lost worker, or an exception a task does not catch)
  stops the drive through ``on_lost``; a task that catches its own error (a sweep's run
  records its traceback) is one failure, not the end of the others;
* a cluster that has lost every worker stops the drive after ``stall_timeout``;
* progress (:func:`progress_bar`) is tqdm's bar on a terminal and, when stderr is not a
  terminal (CI logs, ``nohup``), a plain line every :data:`PROGRESS_SECONDS`.

A task is known by its key (:func:`task_key`): a short SHA-256 of everything that makes
its result (the scenario's resolved parameter values, the seed, what is kept) and of the
model's code (:func:`code_version`). A results store (a sweep's folder, a comparison's or
a screen's ``--store``, :mod:`berdaya.experiments.store`) holds each result under its key,
so a resume runs exactly the tasks whose key has no whole result there
(:func:`run_stored`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import ExitStack, contextmanager
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm
from tqdm.std import tqdm as text_tqdm

from berdaya.experiments.executors import (
    InlineExecutor,
    local_pool,
    parallelism,
    stop_pool,
    workers_alive,
)
from berdaya.experiments.limits import cap_workers
from berdaya.experiments.store import TaskStore

#: Whether tqdm.auto draws widgets (this process is a notebook's kernel).
_NOTEBOOK = any(c.__module__ == "tqdm.notebook" for c in tqdm.__mro__)
#: Seconds between progress lines when stderr is not a terminal.
PROGRESS_SECONDS = float(os.environ.get("BERDAYA_PROGRESS_SECONDS", "10"))


class StoppedError(RuntimeError):
    """The executor failed part-way; the results handled so far are kept."""


class _Lines:
    """A stream for tqdm that turns its carriage-return redraws into whole lines."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        for part in text.replace("\r", "\n").split("\n"):
            if part.strip():
                self.stream.write(part.rstrip() + "\n")

    def flush(self) -> None:
        self.stream.flush()


def progress_bar(
    total: int, *, desc: str, enabled: bool = True, initial: int = 0, unit: str = "run"
) -> text_tqdm:
    """A progress bar on stderr: a bar on a terminal, a line every few seconds otherwise.

    Args:
        total: Tasks in all.
        desc: What is running (the bar's label).
        enabled: ``False`` shows nothing.
        initial: Tasks done before this call (a resumed sweep's).
        unit: What a task is called.

    Returns:
        The tqdm bar (``update`` it, ``close`` it).
    """
    if not enabled:
        return tqdm(total=total, disable=True)
    if _NOTEBOOK or sys.stderr.isatty():  # a notebook's widget, a terminal's bar
        return tqdm(
            total=total,
            initial=initial,
            desc=desc,
            unit=unit,
            file=sys.stderr,
            smoothing=0.05,
            dynamic_ncols=True,
        )
    return text_tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        file=_Lines(sys.stderr),  # type: ignore[arg-type]
        mininterval=PROGRESS_SECONDS,
        maxinterval=PROGRESS_SECONDS,
        delay=PROGRESS_SECONDS,
        ascii=True,
        ncols=100,
        bar_format="{desc}: {n_fmt}/{total_fmt} {unit}s [{elapsed}<{remaining}, "
        "{rate_fmt}{postfix}]",
    )


def replication_seeds(master_seed: int, replications: int) -> list[int]:
    """Seeds of the replications, one per child of ``SeedSequence(master_seed)``.

    Args:
        master_seed: Non-negative master seed.
        replications: Number of replications.

    Returns:
        ``replications`` integer seeds in ``[0, 2**32)``; the same arguments always give
        the same list, and a list for ``n`` is the start of the list for ``n + 1``.
    """
    children = np.random.SeedSequence(master_seed).spawn(replications)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


#: The packages whose code makes a run's result, hashed into every task key.
CODE_PACKAGES = ("model", "agents", "scenarios")
#: Hex digits of a task key (64 bits: no two of a study's tasks share one by chance).
KEY_LENGTH = 16


@cache
def code_version() -> str:
    """Berdaya's version and a hash of the code a run's result comes from.

    The sources of :data:`CODE_PACKAGES` and of the run function
    (``experiments/run.py``), read in path order: an edit to the model changes every
    task key, so a store never passes an older model's result off as this one's.

    Returns:
        ``<version>+<12 hex digits>``, the same in every process of one install.
    """
    from berdaya import __version__  # noqa: PLC0415 - the root package, loaded already

    digest = hashlib.sha256()
    for name in ("experiments.run", *CODE_PACKAGES):
        module = import_module(f"berdaya.{name}")
        where = Path(module.__file__ or "")
        package = hasattr(module, "__path__")
        for path in sorted(where.parent.rglob("*.py")) if package else [where]:
            digest.update(f"{name}/{path.relative_to(where.parent)}".encode())
            digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def _canonical(value: Any) -> Any:
    """A value as plain JSON types (numpy scalars and arrays, tuples, paths)."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_canonical(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def task_key(**inputs: Any) -> str:
    """The stable key of a task: a short SHA-256 of its inputs and the model's code.

    Args:
        **inputs: Everything the task's result depends on, as JSON-able values (the
            scenario's resolved parameter values, the seed, the months, what is kept);
            not where it sits in a design (a point's number is a label, not an input).

    Returns:
        :data:`KEY_LENGTH` hex digits; the same inputs give the same key in any
        process, on any machine with the same code; any changed input, another.
    """
    canon = json.dumps(
        {"code": code_version(), **_canonical(inputs)},
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=True,
    )
    return hashlib.sha256(canon.encode()).hexdigest()[:KEY_LENGTH]


def _raise(task: Any, err: BaseException) -> BaseException:
    return err


def completed[T, R](
    fn: Callable[[T], R],
    tasks: Iterable[T],
    executor: Executor,
    *,
    window: int | None = None,
    on_lost: Callable[[T, BaseException], BaseException] = _raise,
    stall_timeout: float = 60.0,
    on_stall: Callable[[float], BaseException] | None = None,
) -> Iterator[tuple[T, R]]:
    """Run ``fn`` on every task on ``executor``, yielding each result as it completes.

    Args:
        fn: A top-level (importable) function, so worker processes find it by name.
        tasks: Its arguments, one per call (read lazily, a window at a time).
        executor: Where to run; not shut down here.
        window: Most tasks submitted at once (default: twice the executor's workers;
            one at a time in this process).
        on_lost: Turns a task whose future failed, and the error, into what to raise
            (default: the task's own error).
        stall_timeout: Seconds a cluster may have no worker before the drive stops.
        on_stall: What to raise then (default: :class:`StoppedError`).

    Yields:
        ``(task, result)`` in the order they complete (in task order on an
        :class:`InlineExecutor`); handle each before asking for the next (a sweep
        writes it to disk there).

    Raises:
        StoppedError: (or what ``on_lost``/``on_stall`` give) a task was lost, or the
            cluster has had no worker for ``stall_timeout`` seconds; tasks in flight
            are cancelled, results already yielded are the caller's.
    """
    size = window or max(2, 2 * parallelism(executor))
    if isinstance(executor, InlineExecutor):
        size = 1
    pending: dict[Future, T] = {}
    queue: Iterator[T] = iter(tasks)

    def fill() -> None:
        while len(pending) < size:
            task = next(queue, None)
            if task is None:
                return
            pending[executor.submit(fn, task)] = task

    try:
        fill()
        idle_since: float | None = None
        while pending:
            done, _ = wait(list(pending), timeout=1.0, return_when=FIRST_COMPLETED)
            if not done:
                idle_since = _check_stall(executor, idle_since, stall_timeout, on_stall)
                continue
            for fut in done:
                task = pending.pop(fut)
                yield task, _result(fut, task, on_lost)
            fill()
    finally:
        for fut in pending:
            fut.cancel()


def _result[T, R](
    fut: Future, task: T, on_lost: Callable[[T, BaseException], BaseException]
) -> R:
    """A finished task's result, or what ``on_lost`` makes of its error, raised."""
    err = fut.exception()
    if err is None:
        return fut.result()
    lost = on_lost(task, err)
    if lost is err:
        raise err
    raise lost from err


def _check_stall(
    executor: Executor,
    idle_since: float | None,
    timeout: float,
    on_stall: Callable[[float], BaseException] | None,
) -> float | None:
    """When the idle spell without a worker began (``None``: workers are there)."""
    # a cluster that lost every worker would wait forever: give up after a while, so
    # that the work can be resumed elsewhere
    if workers_alive(executor) != 0:
        return None
    idle_since = idle_since or time.monotonic()
    if time.monotonic() - idle_since > timeout:
        if on_stall is not None:
            raise on_stall(timeout)
        raise StoppedError(f"stopped: the cluster has had no worker for {timeout:g} s")
    return idle_since


@contextmanager
def local_executor(workers: int, tasks: int) -> Iterator[Executor]:
    """This process (one worker) or a pool of local processes, stopped when done.

    Args:
        workers: Processes wanted (capped at ``tasks`` and at the cores this process
            may use, :func:`~berdaya.experiments.limits.usable_cores`; 1 runs in this
            process).
        tasks: Tasks to run.

    Yields:
        The executor; on an error its workers are stopped at once, otherwise it is shut
        down after the last task.
    """
    n = min(cap_workers(workers), max(1, tasks))
    executor: Executor = InlineExecutor() if n == 1 else local_pool(n)
    try:
        yield executor
    except BaseException:
        stop_pool(executor)
        raise
    executor.shutdown(wait=True)


def run_all[T, R](
    fn: Callable[[T], R],
    tasks: list[T],
    workers: int,
    *,
    progress: str | None = None,
    runs: Callable[[T], int] | None = None,
) -> Iterator[R]:
    """Run ``fn`` on every task here or on local processes, yielding results as they come.

    The in-memory use of :func:`completed` (a comparison, a screen): nothing is
    written, and a task's error is raised as it is.

    Args:
        fn: A top-level (importable) function: workers start cold with *spawn*.
        tasks: Its arguments, one per call.
        workers: Local processes (1: in this process, in order).
        progress: A progress bar's label (``None``: no bar), as :func:`run_stored`.
        runs: Runs a task counts for on the bar (default: 1).

    Yields:
        Results, in task order with one worker, as they complete with more.
    """
    for _, result in run_stored(
        fn, tasks, workers, key=str, progress=progress, runs=runs
    ):
        yield result


def run_stored[T](
    fn: Callable[[T], pd.DataFrame],
    tasks: Sequence[T],
    workers: int,
    *,
    key: Callable[[T], str],
    store: str | Path | TaskStore | None = None,
    kind: str = "results",
    progress: str | None = None,
    runs: Callable[[T], int] | None = None,
) -> Iterator[tuple[T, pd.DataFrame]]:
    """Run tasks here or on local processes, keeping each result in a store by its key.

    Without a store this is :func:`run_all` (every task runs, nothing is written).
    With one, a task whose key has a whole result in it is read back instead of run,
    and every other task's table is written there as it completes, so running the same
    study again after an interruption runs only the tasks that had not finished.

    Args:
        fn: A top-level (importable) function returning the task's table.
        tasks: Its arguments, one per call.
        workers: Local processes (1: in this process, in order).
        key: A task's key (:func:`task_key` of everything its table depends on).
        store: The store (:class:`~berdaya.experiments.store.TaskStore`) or its
            folder; ``None``: none.
        kind: What the store holds (a store of another kind is refused).
        progress: A progress bar's label (:func:`progress_bar`; ``None``: no bar).
        runs: Runs a task counts for on the bar (default: 1).

    Yields:
        ``(task, table)``: the stored ones first, in task order; then the others, in
        task order with one worker, as they complete with more.
    """
    count = runs or (lambda _: 1)
    held = None if store is None else store
    if isinstance(held, str | Path):
        held = TaskStore(held)
    with ExitStack() as stack:
        bar = progress_bar(
            sum(map(count, tasks)), desc=progress or "", enabled=progress is not None
        )
        stack.callback(bar.close)
        done = set() if held is None else stack.enter_context(held.opened(kind))
        keys = {id(t): key(t) for t in tasks} if done else {}
        for task in tasks:
            if keys.get(id(task)) in done:
                bar.update(count(task))
                yield task, held.read(keys[id(task)])  # type: ignore[union-attr]
        todo = [t for t in tasks if keys.get(id(t)) not in done]
        executor = stack.enter_context(local_executor(workers, len(todo)))
        window = len(todo) if held is None else None  # in memory: every task at once
        for task, table in completed(fn, todo, executor, window=window):
            if held is not None:
                held.write(key(task), table, {"kind": kind})
            bar.update(count(task))
            yield task, table

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
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import contextmanager
from typing import IO, Any

import numpy as np
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


def run_all[T, R](fn: Callable[[T], R], tasks: list[T], workers: int) -> Iterator[R]:
    """Run ``fn`` on every task here or on local processes, yielding results as they come.

    The in-memory use of :func:`completed` (a comparison, a screen): nothing is
    written, and a task's error is raised as it is.

    Args:
        fn: A top-level (importable) function: workers start cold with *spawn*.
        tasks: Its arguments, one per call.
        workers: Local processes (1: in this process, in order).

    Yields:
        Results, in task order with one worker, as they complete with more.
    """
    with local_executor(workers, len(tasks)) as executor:
        for _, result in completed(fn, tasks, executor, window=len(tasks)):
            yield result

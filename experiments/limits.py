"""The resources a job may take, checked before it starts (docs/limits.md).

* **Processes**: never more local processes than this process may run on
  (:func:`usable_cores`); more workers than that only queue for the same cores.
* **Runs**: a sweep's run count (design points x replications) is computed from its
  spec, before a design is laid out or a seed is drawn (:func:`planned_points`), and
  refused over :data:`MAX_RUNS` unless the caller raises the limit (``--max-runs``).
* **Memory and disk**: the design's memory and the run files' size are estimated from
  measured sizes per point and per row, and refused when they exceed the memory or the
  free space there is.
* **Output paths**: a file or folder a command will write is tried before anything runs
  (:func:`check_writable`).

Light on imports: the command line reads this module before it imports pandas.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from berdaya.experiments.defaults import DEFAULT_MAX_RUNS
from berdaya.experiments.errors import SweepError

if TYPE_CHECKING:
    from berdaya.experiments.spec import SweepSpec

#: Most runs a sweep may have unless the caller raises the limit (``--max-runs``).
MAX_RUNS = DEFAULT_MAX_RUNS
#: Bytes a design point holds in memory: its parameter values, validated, its row and
#: its run's task (measured: 14.4 KB on CPython 3.12 with the schema's parameters).
POINT_BYTES = 16_384
#: Share of the memory available that a design may take.
MEMORY_SHARE = 0.5
#: Bytes of a run file besides its columns: Parquet's header and footer, the run's
#: parameters as metadata. With :data:`COLUMN_BYTES` and :data:`VALUE_BYTES`, a lower
#: estimate of what was measured (26 KB for 29 columns and a row; 97 KB for 138
#: columns and 13 rows).
RUN_FILE_BYTES = 4_096
#: Bytes of a run file per column: its schema entry and chunk statistics.
COLUMN_BYTES = 600
#: Bytes a kept value takes in a run file.
VALUE_BYTES = 4


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity mask; all of them if unknown)."""
    count = getattr(os, "process_cpu_count", None)  # Python 3.13
    if count is not None:
        return max(1, count() or 1)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def cap_workers(workers: int | None) -> int:
    """Local processes for ``workers`` asked: at most :func:`usable_cores` (None: all)."""
    cores = usable_cores()
    return cores if workers is None else max(1, min(workers, cores))


def planned_points(spec: SweepSpec) -> int:
    """Design points of a spec, counted without laying the design out.

    Args:
        spec: A checked spec.

    Returns:
        The number of points, the base included: a grid's is the product of its
        factors' levels (an integer range has at most one level per integer), a
        sampled design's follows from its samples (lhs: N; sobol: N(D+2), N(2D+2) with
        second order; morris: N(D+1)).
    """
    d = len(spec.factors)
    n = spec.samples or 0
    if spec.design == "grid":
        points = 1
        for f in spec.factors:
            points *= _levels(f.values, f.low, f.high, f.levels, f.type)
    elif spec.design == "lhs":
        points = n
    elif spec.design == "sobol":
        points = n * ((2 * d + 2) if spec.second_order else (d + 2))
    else:
        points = n * (d + 1)
    return points + (1 if spec.base else 0)


def _levels(
    values: tuple | None,
    low: float | None,
    high: float | None,
    levels: int | None,
    kind: str,
) -> int:
    if values is not None:
        return len(values)
    count = int(levels or 1)
    if kind == "int" and low is not None and high is not None:
        count = min(count, int(high) - int(low) + 1)
    return max(1, count)


def check_runs(spec: SweepSpec, max_runs: int | None = MAX_RUNS) -> int:
    """Refuse a spec with more runs than ``max_runs``, before anything is laid out.

    Args:
        spec: A checked spec.
        max_runs: The limit (``None``: none).

    Returns:
        The number of runs (points x replications).

    Raises:
        SweepError: One line with the count, the limit and how to raise it.
    """
    points = planned_points(spec)
    runs = points * spec.replications
    if max_runs is not None and runs > max_runs:
        raise SweepError(
            f"{spec.source}: {points:,} design points x {spec.replications:,} "
            f"replications = {runs:,} runs, more than the limit of {max_runs:,}; "
            "give --max-runs N to raise it"
        )
    _check_memory(spec.source, points)
    return runs


def _available_memory() -> int | None:
    """Bytes of memory available now (Linux's MemAvailable; None if unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def _check_memory(source: str, points: int) -> None:
    """Refuse a design whose points would take more memory than there is to spare."""
    need = points * POINT_BYTES
    have = _available_memory()
    if have is not None and need > have * MEMORY_SHARE:
        raise SweepError(
            f"{source}: {points:,} design points need about {_size(need)} of memory, "
            f"more than half of the {_size(have)} available; give fewer points"
        )


def run_file_bytes(rows: int, columns: int) -> int:
    """An estimate of a run file's size on disk (see :data:`RUN_FILE_BYTES`)."""
    return RUN_FILE_BYTES + columns * COLUMN_BYTES + rows * columns * VALUE_BYTES


def check_free_space(folder: str | Path, need: int, what: str) -> None:
    """Refuse to start when the files to write would not fit where they go.

    Args:
        folder: Where they go (it or its nearest existing parent is measured).
        need: Bytes they will take (an estimate).
        what: What they are, for the message ("the 120 runs left").

    Raises:
        SweepError: One line with the estimate and the free space.
    """
    place = _existing(Path(folder))
    try:
        free = shutil.disk_usage(place).free
    except OSError:
        return
    if need > free:
        raise SweepError(
            f"--out: {what} need about {_size(need)} on disk, more than the "
            f"{_size(free)} free at '{place}'; free some space or give another folder"
        )


def _existing(path: Path) -> Path:
    """``path`` or its nearest parent that exists."""
    path = path.absolute()
    return next((p for p in (path, *path.parents) if p.exists()), Path(path.anchor))


def _size(n: float) -> str:
    units = ("bytes", "KB", "MB", "GB", "TB", "PB")
    i = 0 if n < 1000 else min(int(math.log(n, 1000)), len(units) - 1)
    return f"{n:,.0f} bytes" if i == 0 else f"{n / 1000**i:,.1f} {units[i]}"


def check_writable(path: str | Path, option: str, *, folder: bool = False) -> Path:
    """Check that a file (or folder) can be written at ``path``, writing nothing.

    The nearest existing folder on the way is tried with an unnamed temporary file
    (what every write of berdaya does there: a temporary file renamed into place, the
    missing folders made first), so a read-only place, ``/proc``, a file where a folder
    should be and a folder where a file should be are all refused before a run starts.

    Args:
        path: The path given.
        option: The option it came from (``--out``, ``--plot``).
        folder: Whether ``path`` is a folder (a sweep's) rather than a file.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        SweepError: One line naming the option, the path and why.
    """
    path = Path(path)
    if path.is_dir() and not folder:
        raise SweepError(f"{option}: '{path}' is a folder; give a file name")
    if path.exists() and folder and not path.is_dir():
        raise SweepError(f"{option}: '{path}' is a file, not a folder")
    place = _existing(path if folder else path.parent)
    if not place.is_dir():
        raise SweepError(f"{option}: '{place}' is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=place):
            pass
    except OSError as err:
        why = err.strerror or type(err).__name__
        raise SweepError(
            f"{option}: '{path}' cannot be written ({why} in '{place}')"
        ) from None
    return path

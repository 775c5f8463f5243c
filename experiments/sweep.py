"""Sweeps: every design point of a spec, replicated over paired seeds, written as it runs.

The results folder (``--out``) holds::

    spec.toml       the spec, copied as given
    meta.json       berdaya's version, the spec's hash, the design's hash, the seeds...
    design.parquet  a row per design point: its parameter values (and unit coordinates)
    runs/           one Parquet file per batch of finished runs (p0007-r003+12-1f2e3d4c:
                    12 runs from p0007-r003), each run's id, key, seed, parameters and
                    time in the file's metadata
    errors/         one JSON file per run that raised: id, seed, parameters, traceback

Runs go to the workers in batches (:func:`batch_size`: many runs a task, so a worker
spends its time in the model, not in messages), and each batch is written (atomically) by
this process as soon as it comes back, so killing a sweep loses only the batches in
flight; a run that raises is recorded alone and its batch's other runs are kept. Running
the same command again reads the folder, skips every run on disk by its key (and every
recorded error, unless asked to retry them) and runs the rest; a batch file that is not
whole is moved aside and its runs run again. It refuses, with one line, a folder whose
spec differs. A folder written one file a run (before batches) resumes and reads the
same way: such a file is a batch of one. The files under ``runs/`` read as one dataset
(:func:`read_results`); every row carries its run's id,
point, replication, seed, scenario and the values of every parameter the spec sets, so
any run replays alone with ``berdaya run`` (:func:`replay_command`). A spec with an
``ensemble`` runs replication ``r`` of every point with the ensemble's member ``r``
(:mod:`berdaya.experiments.spec`); its rows carry ``member`` and the values it set, and
``meta.json`` the ensemble's file hash and every replication's member.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import platform
import shlex
import time
import traceback
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from itertools import batched, islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from berdaya import __version__
from berdaya.experiments.compare import MEMBER
from berdaya.experiments.defaults import DEFAULT_CLUSTER_TIMEOUT_S
from berdaya.experiments.engine import (
    StoppedError,
    completed,
    local_executor,
    progress_bar,
    task_key,
)
from berdaya.experiments.errors import check_int
from berdaya.experiments.executors import (
    check_cluster_address,
    dask_executor,
    parallelism,
    upload_code,
)
from berdaya.experiments.files import (
    META_KEY,
    plain,
    read_table,
    write_table,
    write_text,
)
from berdaya.experiments.limits import (
    MAX_RUNS,
    cap_workers,
    check_free_space,
    check_runs,
    check_writable,
    run_file_bytes,
)
from berdaya.experiments.lock import LOCK_NAME, folder_lock
from berdaya.experiments.run import run
from berdaya.experiments.spec import (
    ID_COLUMNS,
    Design,
    SweepError,
    SweepSpec,
    build_design,
    load_spec,
)
from berdaya.experiments.store import (
    DAMAGED,
    first_line,
    listed,
    remove_temporary,
    set_aside,
    table_problem,
)
from berdaya.scenarios import P2KPScenario

FORMAT = 1
OWN_FILES = ("spec.toml", "meta.json", "design.parquet", "runs", "errors", LOCK_NAME)
#: Files ``berdaya national`` adds to a sweep's folder (its national totals).
NATIONAL_FILES = ("national.csv", "national.parquet")
#: Run files :func:`read_results` reads at once: one dataset of thousands of small files
#: holds far more memory than their rows (1.5 GB for 8,813 kelurahan of 12 MB of rows).
READ_BATCH = 500
#: Errors of a write that more space (or a higher file-size limit) would have avoided.
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
#: Batches each worker gets at least when the batch size is chosen: enough that the
#: last ones even out between workers, few enough that a batch's trip and file cost
#: little against its runs.
BATCHES_PER_WORKER = 16
#: Most runs in a batch chosen automatically (a killed sweep loses at most its batches
#: in flight: a few seconds of work each for a default run).
MAX_BATCH = 50


class SweepStoppedError(StoppedError):
    """A sweep stopped before its end (a dead worker, a lost cluster); it can resume."""


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep: a design point's parameters with one replication's seed.

    Attributes:
        run_id: ``p<point>-r<replication>``.
        point: Design point (0 is the base).
        replication: Replication index; its seed is shared by every point.
        seed: The run's seed.
        scenario: Name of the base scenario.
        params: Every parameter value of the run.
        columns: Label and parameter values written on every row of the run.
        keep: Outcomes kept.
        every: Keep months 0, every, 2*every... (``None``: only the final month).
        final: Keep the final month.
        key: The run's key (:func:`~berdaya.experiments.engine.task_key` of the
            scenario, its parameter values, the seed, the columns and what is kept):
            a resume skips a run whose key has a whole result on disk.
    """

    run_id: str
    point: int
    replication: int
    seed: int
    scenario: str
    params: dict[str, Any]
    columns: dict[str, Any]
    keep: tuple[str, ...]
    every: int | None
    final: bool
    key: str = ""


@dataclass
class RunOutcome:
    """What came back from a run: its rows, or the error it raised.

    Attributes:
        run_id: The run.
        table: The rows kept (``None`` if the run raised).
        error: ``{"type", "message", "traceback"}`` if it raised.
        seconds: Time the run took on its worker.
        host: Where it ran (``hostname:pid``).
        cpu_seconds: CPU time of the worker process during the run.
    """

    run_id: str
    table: pd.DataFrame | None
    error: dict[str, str] | None
    seconds: float
    host: str
    cpu_seconds: float = 0.0


def execute_run(task: RunTask) -> RunOutcome:
    """Run one task (top-level, so local processes and Dask workers can import it).

    The scenario is built from the task's full parameter values, so workers need no
    scenario files. An exception from the model is caught and returned as the outcome's
    ``error``, so one bad run never stops the others.

    Args:
        task: What to run.

    Returns:
        The :class:`RunOutcome`.
    """
    start = time.perf_counter()
    cpu = time.process_time()
    host = f"{platform.node()}:{os.getpid()}"
    try:
        scen = P2KPScenario(rng=task.seed, name=task.scenario, **task.params)
        records = run(scen, task.seed).records
        months = records["month"].to_numpy()
        mask = np.zeros(len(months), dtype=bool)
        if task.every:
            mask |= months % task.every == 0
        if task.final and len(months):
            mask |= months == months.max()
        end = end_month(records)
        at_end = (months == end) & ~mask  # the cycle's end: the report's other moment
        kept = records.loc[mask | at_end, ["month", *task.keep]].reset_index(drop=True)
        kept.insert(1, "end_month", end)
        kept.insert(2, "end_only", at_end[mask | at_end])
        ids = {
            "run_id": task.run_id,
            "point": task.point,
            "replication": task.replication,
            "seed": task.seed,
            "scenario": task.scenario,
            **task.columns,
        }
        front = pd.DataFrame({k: [v] * len(kept) for k, v in ids.items()})
        table = pd.concat([front, kept], axis=1)
        return RunOutcome(
            task.run_id,
            table,
            None,
            time.perf_counter() - start,
            host,
            time.process_time() - cpu,
        )
    except Exception as err:
        error = {
            "type": type(err).__name__,
            "message": str(err),
            "traceback": traceback.format_exc(),
        }
        return RunOutcome(
            task.run_id,
            None,
            error,
            time.perf_counter() - start,
            host,
            time.process_time() - cpu,
        )


def execute_batch(tasks: Sequence[RunTask]) -> list[RunOutcome]:
    """Run a batch of tasks one after another on one worker (top-level, like a run).

    Args:
        tasks: The batch's runs.

    Returns:
        Their outcomes, in order; a run that raised is an outcome with its error, and
        the others are kept.
    """
    return [execute_run(task) for task in tasks]


def batch_size(runs: int, workers: int, in_flight: int | None = None) -> int:
    """Runs a batch holds: at least :data:`BATCHES_PER_WORKER` batches a worker.

    Args:
        runs: Runs to run.
        workers: Workers running them.
        in_flight: Most runs submitted at once, if limited (a batch is no larger).

    Returns:
        Between 1 and :data:`MAX_BATCH` (and ``in_flight``).
    """
    size = math.ceil(runs / (BATCHES_PER_WORKER * max(1, workers)))
    return max(1, min(size, MAX_BATCH, in_flight or MAX_BATCH))


def batch_name(tasks: Sequence[RunTask]) -> str:
    """A batch file's name: its first run, its runs, a hash of their ids and keys."""
    ids = ";".join(f"{t.run_id}:{t.key}" for t in tasks)
    return (
        f"{tasks[0].run_id}+{len(tasks)}-{hashlib.sha256(ids.encode()).hexdigest()[:8]}"
    )


def end_month(records: pd.DataFrame) -> float:
    """The month a run's programme cycle completed or withdrew (NaN: it had not).

    Args:
        records: The run's monthly records (with the ``exit_month`` record).

    Returns:
        The last month's ``exit_month`` when the cycle had ended, else NaN.
    """
    if not len(records):
        return float("nan")
    end = float(records["exit_month"].iloc[-1])
    return end if end >= 0 else float("nan")


def tasks_of(design: Design) -> list[RunTask]:
    """Every run of a design, replication-major (all points of replication 0 first).

    Args:
        design: The design.

    Returns:
        The tasks; a partly done sweep thus has whole replications of every point.
    """
    return list(iter_tasks(design))


def iter_tasks(
    design: Design, skip: set[str] | frozenset[str] = frozenset()
) -> Iterator[RunTask]:
    """The runs of a design in :func:`tasks_of`'s order, made one at a time.

    Args:
        design: The design.
        skip: Run ids to leave out (those on disk).

    Yields:
        Each task whose id is not in ``skip``.
    """
    spec = design.spec
    cols = design.columns
    records = design.points.to_dict(orient="records")
    for rep in range(spec.replications):
        member = design.member_values(rep)
        drawn: dict[str, Any] = {} if member is None else member[1]
        extra: dict[str, Any] = {} if member is None else {MEMBER: member[0], **drawn}
        for row, params in zip(records, design.params, strict=True):
            point = int(row["point"])
            run_id = design.run_id(point, rep)
            if run_id in skip:
                continue
            task = RunTask(
                run_id=run_id,
                point=point,
                replication=rep,
                seed=spec.seed_of(point, rep),
                scenario=design.scenario,
                params={**params, **drawn},
                columns={**{c: row[c] for c in cols}, **extra},
                keep=spec.outcomes.keep,
                every=spec.outcomes.every,
                final=spec.outcomes.final,
            )
            yield replace(task, key=run_key(task))


def run_key(task: RunTask) -> str:
    """A run's key: everything its rows depend on, not where it sits in the design."""
    return task_key(
        study="sweep",
        scenario=task.scenario,
        params=task.params,
        seed=task.seed,
        columns=task.columns,
        keep=task.keep,
        every=task.every,
        final=task.final,
    )


class SweepFolder:
    """A sweep's results folder: what is done, what raised, and writing new runs.

    Args:
        path: The folder.
    """

    def __init__(self, path: str | Path) -> None:
        """Name the folder (nothing is read or written yet)."""
        self.path = Path(path)
        self.runs = self.path / "runs"
        self.errors = self.path / "errors"
        self.meta_path = self.path / "meta.json"

    def meta(self) -> dict[str, Any] | None:
        """The folder's ``meta.json``, or ``None`` when it holds no sweep yet."""
        try:
            return json.loads(self.meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise SweepError(
                f"'{self.meta_path}' cannot be read ({type(err).__name__}); is this "
                "folder a sweep's?"
            ) from None

    def check(self, spec: SweepSpec, design: Design) -> bool:
        """Check, without writing, that the folder can take this sweep.

        Returns:
            Whether it already holds this sweep (a resume).

        Raises:
            SweepError: The folder holds another sweep, or other files.
        """
        if self.path.exists() and not self.path.is_dir():
            raise SweepError(f"--out: '{self.path}' is a file, not a folder")
        above = next((p for p in self.path.absolute().parents if p.exists()), None)
        if above is not None and not above.is_dir():
            raise SweepError(f"--out: '{above}' is a file, not a folder")
        meta = self.meta()
        if meta is None:
            if self.path.exists():
                others = sorted(
                    p.name
                    for p in self.path.iterdir()
                    if p.name not in (*OWN_FILES, *NATIONAL_FILES)
                )
                if others:
                    raise SweepError(
                        f"--out: '{self.path}' holds other files ({others[0]}...) and no "
                        "sweep; give an empty or new folder"
                    )
            return False
        if meta.get("spec_sha256") != spec.digest:
            raise SweepError(
                f"--out: '{self.path}' holds another sweep (its spec.toml differs from "
                f"{spec.source}); give a new folder, or its own spec.toml to resume"
            )
        if meta.get("design_sha256") != design.digest:
            raise SweepError(
                f"--out: '{self.path}' was made from the same spec, but its runs' "
                f"parameters differ now (has scenario '{spec.scenario}' changed?); "
                "give a new folder"
            )
        return True

    def create(self, spec: SweepSpec, design: Design) -> None:
        """Write ``spec.toml``, ``design.parquet`` and, last, ``meta.json``."""
        self.runs.mkdir(parents=True, exist_ok=True)
        self.errors.mkdir(parents=True, exist_ok=True)
        text = spec.text or toml_of(spec.data)
        write_text(self.path / "spec.toml", text)
        points = design.points.copy()
        if design.unit is not None:
            offset = 1 if spec.base else 0
            for j, f in enumerate(spec.factors):
                col = np.full(len(points), np.nan)
                col[offset:] = design.unit[:, j]
                points[f"unit:{f.name}"] = col
        points.insert(
            1, "overrides", [json.dumps(o, sort_keys=True) for o in design.overrides]
        )
        write_table(points, self.path / "design.parquet", {"spec": spec.name})
        meta = {
            "format": FORMAT,
            "berdaya": __version__,
            "spec": spec.name,
            "spec_source": spec.source,
            "spec_sha256": spec.digest,
            "design_sha256": design.digest,
            "description": spec.description,
            "scenario": spec.scenario,
            "scenario_ref": spec.scenario_ref,
            "scenario_name": design.scenario,
            "design": spec.design,
            "samples": spec.samples,
            "second_order": spec.second_order,
            "morris_levels": spec.morris_levels,
            "base": spec.base,
            "points": len(design.points),
            "replications": spec.replications,
            "runs": design.runs,
            "seed": spec.seed,
            "seeds": spec.seeds,
            "paired": spec.paired,
            "fixed": spec.fixed,
            "factors": [f.describe() for f in spec.factors],
            "derived": {d.name: list(d.remainder_of) for d in spec.derived},
            "ensemble": design.ensemble,
            "outcomes": list(spec.outcomes.keep),
            "every": spec.outcomes.every,
            "final": spec.outcomes.final,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "versions": {d: _version(d) for d in ("numpy", "pandas", "mesa")},
        }
        write_text(self.meta_path, json.dumps(meta, indent=2))

    def clean(self) -> None:
        """Remove temporary files a killed sweep left behind.

        Called under the folder's lock (:func:`~berdaya.experiments.lock.folder_lock`):
        no other sweep is writing here, so every temporary file is a dead one's.
        """
        remove_temporary(self.runs, self.errors)

    def set_aside_damaged(self) -> list[str]:
        """Move run and error files that are not whole aside (``*.damaged``).

        A batch file must have Parquet's footer, berdaya's metadata naming it and its
        number of rows; an error file must be JSON. What a crash, a full disk or a copy
        cut short left behind is renamed, so its runs are not counted as done (or as
        failed) and run again.

        Returns:
            The names of the files moved aside, without their endings (a batch's, or
            the run id of an error file or of a folder's file of one run).
        """
        moved = set_aside(listed(self.runs, "*.parquet"), run_file_problem)
        moved += set_aside(listed(self.errors, "*.json"), error_file_problem)
        return sorted(set(moved))

    def damaged(self) -> list[str]:
        """The names of the files moved aside as damaged (see :meth:`set_aside_damaged`)."""
        return sorted(
            {
                p.name.split(".", 1)[0]
                for folder in (self.runs, self.errors)
                for p in listed(folder, f"*{DAMAGED}")
            }
        )

    def index(self) -> dict[Path, list[dict[str, Any]]]:
        """Each run file and the runs it holds (their id, key, rows, seed, time...).

        Reads the files' footers only. Call after :meth:`set_aside_damaged`: a file that
        is not whole is not read. A file of a folder written one file a run is a batch
        of that run.
        """
        out = {}
        for path in listed(self.runs, "*.parquet"):
            meta = json.loads(
                (pq.read_metadata(path).metadata or {}).get(META_KEY, b"{}")
            )
            out[path] = meta.get("runs", [meta] if "run_id" in meta else [])
        return out

    def run_records(self) -> list[dict[str, Any]]:
        """Every run on disk, as its file's metadata has it, in run id order."""
        runs = [r for held in self.index().values() for r in held]
        return sorted(runs, key=lambda r: str(r.get("run_id")))

    def file_of(self, run_id: str) -> Path | None:
        """The file holding a run on disk (``None``: it is not on disk)."""
        return next(
            (
                p
                for p, held in self.index().items()
                if any(r["run_id"] == run_id for r in held)
            ),
            None,
        )

    def done(self) -> set[str]:
        """Ids of the runs on disk."""
        return {r["run_id"] for held in self.index().values() for r in held}

    def failed(self) -> set[str]:
        """Ids of the runs recorded as having raised."""
        return {p.stem for p in listed(self.errors, "*.json")}

    def done_keys(self) -> set[tuple[str, str]]:
        """``(run id, key)`` of the runs on disk (older files, without a key: none).

        Two runs may share a key (a grid point that is the base's values), not an id.
        """
        return {
            (r["run_id"], r.get("key")) for held in self.index().values() for r in held
        }

    def failed_keys(self) -> set[tuple[str, str]]:
        """``(run id, key)`` of the runs recorded as having raised."""
        return {
            (path.stem, json.loads(path.read_text(encoding="utf-8")).get("key"))
            for path in listed(self.errors, "*.json")
        }

    def prune(self, run_ids: set[str]) -> None:
        """Take runs out of their files (to run them again: another model's, say).

        Each file holding one is rewritten without it, atomically and under its own
        name, or removed when nothing is left in it.
        """
        for path, held in self.index().items() if run_ids else ():
            keep = [r for r in held if r["run_id"] not in run_ids]
            if len(keep) == len(held):
                continue
            if not keep:
                path.unlink()
                continue
            table, meta = read_table(path)
            table = table[~table["run_id"].isin(run_ids)].reset_index(drop=True)
            write_table(table, path, {**meta, **_batch_totals(keep), "runs": keep})

    def write(self, tasks: Sequence[RunTask], outcomes: Sequence[RunOutcome]) -> None:
        """Write a finished batch: its runs' rows in one file, each error in its own.

        Each file is written atomically; a run that raised is recorded alone, and its
        batch's other runs are kept.
        """
        ok = [(t, o) for t, o in zip(tasks, outcomes, strict=True) if o.error is None]
        if ok:
            runs = [_run_meta(t, o) for t, o in ok]
            name = batch_name([t for t, _ in ok])
            meta = {"batch": name, **_batch_totals(runs), "runs": runs}
            table = pd.concat([o.table for _, o in ok], ignore_index=True)
            write_table(table, self.runs / f"{name}.parquet", meta)
        for task, outcome in zip(tasks, outcomes, strict=True):
            if outcome.error is None:
                (self.errors / f"{task.run_id}.json").unlink(missing_ok=True)
            else:
                self._write_error(task, outcome)

    def _write_error(self, task: RunTask, outcome: RunOutcome) -> None:
        record = {
            "run_id": task.run_id,
            "key": task.key,
            "point": task.point,
            "replication": task.replication,
            "seed": task.seed,
            "scenario": task.scenario,
            "overrides": plain(task.columns),
            "params": task.params,
            **(outcome.error or {}),
            "host": outcome.host,
        }
        write_text(
            self.errors / f"{task.run_id}.json",
            json.dumps(record, indent=2, default=str),
        )


def _run_meta(task: RunTask, outcome: RunOutcome) -> dict[str, Any]:
    """What a batch file's metadata says of one of its runs."""
    return {
        "run_id": task.run_id,
        "key": task.key,
        "seed": task.seed,
        "scenario": task.scenario,
        "params": task.params,
        "seconds": outcome.seconds,
        "cpu_seconds": outcome.cpu_seconds,
        "host": outcome.host,
        "rows": 0 if outcome.table is None else len(outcome.table),
    }


def _batch_totals(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """A batch file's totals: rows, the model's seconds, and where it ran."""
    return {
        "rows": sum(int(r["rows"]) for r in runs),
        "seconds": sum(float(r.get("seconds", 0.0)) for r in runs),
        "cpu_seconds": sum(float(r.get("cpu_seconds", 0.0)) for r in runs),
        "host": runs[0].get("host"),
    }


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def run_file_problem(path: Path) -> str | None:
    """What is wrong with a batch file (``None``: it is whole): :func:`table_problem`."""
    return table_problem(path, ("batch", "run_id"))


def error_file_problem(path: Path) -> str | None:
    """What is wrong with a run's error file (``None``: it is whole JSON)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return f"not JSON: {first_line(err)}"
    return None if isinstance(record, dict) else "not a JSON object"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    return repr(value)


def toml_of(data: dict[str, Any]) -> str:
    """TOML text of a spec given as a dict (tables one level deep).

    Args:
        data: The spec's values and tables.

    Returns:
        TOML that parses back to ``data``.
    """
    top = [
        f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)
    ]
    tables = [
        f"\n[{k}]\n" + "\n".join(f"{n} = {_toml_value(x)}" for n, x in v.items())
        for k, v in data.items()
        if isinstance(v, dict)
    ]
    return "\n".join(top) + "\n" + "\n".join(tables) + "\n"


def read_results(out: str | Path) -> pd.DataFrame:
    """Read every run on disk as one table, sorted by run id and month.

    Args:
        out: The results folder.

    Returns:
        A row per kept month of every finished run: the id columns (run id, point,
        replication, seed, scenario), the labels and parameter values, ``month``,
        ``end_month`` (the month the run's cycle ended, NaN if it had not), ``end_only``
        (the row is kept only as that month's: leave it out of anything month by month)
        and the outcomes kept.
    """
    files = listed(Path(out) / "runs", "*.parquet")
    if not files:
        return pd.DataFrame(columns=[*ID_COLUMNS, "month"])
    schema = None  # the first file's, for every batch (as one dataset of all would)
    parts = []
    for i in range(0, len(files), READ_BATCH):
        batch = files[i : i + READ_BATCH]
        try:
            dataset = ds.dataset(
                [str(f) for f in batch], format="parquet", schema=schema
            )
            table = dataset.to_table()
        except (OSError, ValueError, pa.ArrowException) as err:
            raise _damaged_error(batch, err) from None
        schema = dataset.schema
        parts.append(table.replace_schema_metadata(None).combine_chunks())
    frame = pa.concat_tables(parts).to_pandas()
    return frame.sort_values(["run_id", "month"], kind="stable").reset_index(drop=True)


_TO_REDO = (
    "run the same sweep again (berdaya sweep SPEC --out DIR): it moves the file aside "
    "and redoes the run"
)


def _damaged_error(files: list[Path], err: BaseException) -> SweepError:
    """The one line for a batch of run files that could not be read: which one, why."""
    for path in files:
        if (why := run_file_problem(path)) is not None:
            return SweepError(f"'{path}' is damaged ({why}); {_TO_REDO}")
    return SweepError(
        f"the run files in '{files[0].parent}' cannot be read together ({first_line(err)})"
    )


def read_errors(out: str | Path) -> pd.DataFrame:
    """Read the runs that raised: a row each, with run id, seed, parameters and error.

    Args:
        out: The results folder.

    Returns:
        Columns ``run_id, point, replication, seed, scenario, overrides, type, message,
        traceback, host`` (``overrides`` as JSON text); empty when none raised.
    """
    cols = [*ID_COLUMNS, "overrides", "type", "message", "traceback", "host"]
    rows = []
    for p in listed(Path(out) / "errors", "*.json"):
        if (why := error_file_problem(p)) is not None:
            raise SweepError(f"'{p}' is damaged ({why}); {_TO_REDO}")
        rec = json.loads(p.read_text(encoding="utf-8"))
        rec["overrides"] = json.dumps(rec.get("overrides", {}), sort_keys=True)
        rows.append({c: rec.get(c) for c in cols})
    return pd.DataFrame(rows, columns=cols)


def replay_command(scenario: str, seed: int, overrides: dict[str, Any]) -> str:
    """The ``berdaya run`` command that replays one run of a sweep alone.

    Args:
        scenario: The spec's base scenario (name or path).
        seed: The run's seed.
        overrides: The run's values that differ from the scenario's.

    Returns:
        A shell command line.
    """
    parts = ["berdaya", "run", "--scenario", scenario, "--seed", str(seed)]
    for k, v in overrides.items():
        parts += ["--set", f"{k}={_set_value(v)}"]
    return shlex.join(parts)


def _set_value(value: Any) -> str:
    value = plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, str) else repr(value)


@dataclass
class SweepProgress:
    """Counts of a sweep, for the command line's last lines.

    Attributes:
        total: Runs in the design.
        skipped: Runs already on disk (or recorded as errors) when the sweep started.
        ran: Runs finished by this call.
        failed: Runs of this call that raised.
        errors: Runs recorded as errors in the folder (this call's and earlier ones).
        seconds: Wall time of this call's runs.
        damaged: Files found damaged on this resume (batch files' names, error
            files' run ids), moved aside (``*.damaged``); their runs run again.
    """

    total: int
    skipped: int = 0
    ran: int = 0
    failed: int = 0
    errors: int = 0
    seconds: float = 0.0
    damaged: list[str] = field(default_factory=list)

    @property
    def per_minute(self) -> float:
        """Runs finished by this call per minute of its wall time (0 before any)."""
        return self.ran / self.seconds * 60 if self.seconds > 0 else 0.0


def prepare(
    spec: str | Path | SweepSpec | dict[str, Any],
    max_runs: int | None = MAX_RUNS,
    replications: int | None = None,
    ensemble: str | Path | None = None,
) -> tuple[SweepSpec, Design]:
    """Read and check a spec and lay out its design (nothing is run or written).

    The runs are counted from the spec first (:func:`~berdaya.experiments.limits.
    check_runs`), so a design over ``max_runs`` is refused before it is laid out.

    Args:
        spec: A spec path, shipped spec name, :class:`SweepSpec` or spec dict.
        max_runs: Most runs the design may have (``None``: no limit).
        replications: Replications instead of the spec's (``None``: the spec's).
        ensemble: An ensemble to draw from instead of the spec's (``None``: the
            spec's, if any).
    """
    checked = load_spec(spec)
    if replications is not None:
        checked = checked.with_replications(replications)
    if ensemble is not None:
        checked = checked.with_ensemble(ensemble)
    check_runs(checked, max_runs)
    return checked, build_design(checked)


def run_sweep(
    spec: str | Path | SweepSpec | dict[str, Any],
    out: str | Path,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    cluster_timeout: float = DEFAULT_CLUSTER_TIMEOUT_S,
    security: Any = None,
    retry_errors: bool = False,
    progress: bool = False,
    in_flight: int | None = None,
    batch: int | None = None,
    report: SweepProgress | None = None,
    max_runs: int | None = MAX_RUNS,
    replications: int | None = None,
    limit: int | None = None,
    ensemble: str | Path | None = None,
) -> pd.DataFrame:
    """Run a sweep into a results folder, resuming what is there, and read it back.

    Everything is checked first (the spec, its run count, every design point as a
    whole scenario, the folder against the spec and for room, the cluster address): a
    bad input raises before a run starts and before anything is written. The folder is
    locked while the sweep writes it (:func:`~berdaya.experiments.lock.folder_lock`);
    on a resume, run files that are not whole are moved aside and run again.

    Args:
        spec: A spec path, shipped spec name, :class:`SweepSpec` or spec dict.
        out: Results folder (created; an existing one of the same spec is resumed).
        executor: Where to run (any ``concurrent.futures.Executor``; not shut down
            here). A Dask ``ClientExecutor`` gets berdaya's code uploaded first.
        workers: Without ``executor``/``cluster``: local processes (default: all cores;
            1 runs in this process; never more than the cores).
        cluster: ``tcp://HOST:PORT`` or ``tls://HOST:PORT`` of a Dask scheduler, or
            ``local`` for a Dask ``LocalCluster`` (``workers`` processes).
        cluster_timeout: Seconds to wait for the scheduler and a first worker.
        security: A ``distributed.Security`` for the cluster (default: Dask's config;
            :func:`~berdaya.experiments.executors.tls_security` makes one).
        retry_errors: Run again the runs recorded as having raised.
        progress: Show a progress bar with an ETA on stderr (when it is a terminal).
        in_flight: Most runs submitted at once (default: two batches a worker); a
            killed sweep loses at most these.
        batch: Runs sent to a worker at once and written to one file (default:
            :func:`batch_size`, from the runs left and the workers).
        report: Filled in with the counts of this call.
        max_runs: Most runs the design may have (``None``: no limit).
        replications: Replications of every point instead of the spec's (the folder
            is then the spec with this number: :meth:`SweepSpec.with_replications`).
        limit: Run only the first ``limit`` runs of the design (replication-major:
            every point's first replication comes first); the same command without it
            resumes the rest.
        ensemble: Draw each replication's calibrated parameters from this ensemble
            (a shipped name or a ``.parquet`` path) instead of the spec's ``ensemble``
            (the folder is then the spec with it: :meth:`SweepSpec.with_ensemble`).

    Returns:
        Every run on disk (:func:`read_results`).

    Raises:
        SweepError: Bad spec, folder, address or argument, a design over the limits,
            a folder another sweep holds (before any run).
        SweepStoppedError: The executor failed part-way, or the disk filled up (a
            resume finishes the sweep).
    """
    cluster = _check_where(
        executor,
        cluster,
        workers=workers,
        in_flight=in_flight,
        batch=batch,
        limit=limit,
    )
    checked, design = prepare(spec, max_runs, replications, ensemble)
    folder = SweepFolder(out)
    check_writable(folder.path, "--out", folder=True)
    folder.check(checked, design)
    total = design.runs if limit is None else min(limit, design.runs)
    counts = report if report is not None else SweepProgress(total=total)
    counts.total = total
    with ExitStack() as stack:
        stack.enter_context(_claimed(folder))
        resuming = folder.check(checked, design)  # again, now that it is ours
        if executor is not None or cluster is not None:
            executor = stack.enter_context(
                _remote(executor, cluster, cluster_timeout, workers, security)
            )
        skip = _start(folder, design, counts, resuming=resuming, retry=retry_errors)
        left = _to_redo(folder, design, total, skip, counts)
        if executor is None:  # this process or local processes, stopped on an error
            executor = stack.enter_context(local_executor(cap_workers(workers), left))
        size, window = _batching(left, parallelism(executor), in_flight, batch)
        todo = islice(iter_tasks(design), total)
        _drive(
            executor,
            (t for t in todo if (t.run_id, t.key) not in skip),
            folder,
            counts,
            progress=progress,
            window=window,
            batch=size,
            name=checked.name,
            stall_timeout=max(60.0, cluster_timeout),
        )
    counts.errors = len(folder.failed())
    return read_results(out)


@contextmanager
def _remote(
    executor: Executor | None,
    cluster: str | None,
    timeout: float,
    workers: int | None,
    security: Any,
) -> Iterator[Executor]:
    """The caller's executor (a Dask one gets berdaya's code first), or a cluster's."""
    if executor is not None:
        if hasattr(executor, "_client"):  # a Dask executor made by the caller
            upload_code(executor._client)
        yield executor
        return
    with dask_executor(
        cluster, timeout=timeout, workers=workers, security=security
    ) as made:
        yield made


@contextmanager
def _claimed(folder: SweepFolder) -> Iterator[None]:
    """Hold the folder's lock; a folder made for it and left empty goes again."""
    existed = folder.path.exists()
    with ExitStack() as stack:
        try:
            lock = stack.enter_context(folder_lock(folder.path))
        except OSError as err:
            raise SweepError(
                f"--out: '{folder.path}' cannot be locked ({first_line(err)})"
            ) from None
        try:
            yield
        except BaseException:
            if not existed and [p.name for p in folder.path.iterdir()] == [lock.name]:
                lock.unlink(missing_ok=True)
                folder.path.rmdir()
            raise


def _start(
    folder: SweepFolder,
    design: Design,
    counts: SweepProgress,
    *,
    resuming: bool,
    retry: bool,
) -> set[tuple[str, str]]:
    """Make or tidy the folder; count what is done; check the rest fits on disk.

    Args:
        folder: The sweep's folder, locked.
        design: The design.
        counts: Filled in with the damaged files set aside and the runs skipped.
        resuming: Whether the folder holds this sweep already.
        retry: Run again the runs recorded as having raised.

    Returns:
        ``(run id, key)`` of the runs not to run (on disk, or recorded as errors).

    Raises:
        SweepStoppedError: A write failed (:func:`_no_room`).
    """
    try:
        if resuming:
            counts.damaged = folder.set_aside_damaged()
        else:
            check_free_space(folder.path, _run_bytes(design) * design.runs, "the runs")
            folder.create(design.spec, design)
        folder.clean()
        skip = folder.done_keys() | (set() if retry else folder.failed_keys())
        counts.skipped = len(skip)
        if resuming:
            left = design.runs - counts.skipped
            room = _run_bytes(design) * left
            check_free_space(folder.path, room, f"the {left:,} runs left")
    except OSError as err:
        raise _no_room(err, folder, counts) from None
    return skip


def _to_redo(
    folder: SweepFolder,
    design: Design,
    total: int,
    skip: set[tuple[str, str]],
    counts: SweepProgress,
) -> int:
    """Count the runs done of the first ``total``; take out of their files the others.

    A run on disk under another key (another model's result, say) is taken out of its
    batch file before it runs again, so no run is ever on disk twice.

    Returns:
        The runs left to run.
    """
    done = folder.done()
    stale = set()
    counts.skipped = 0
    for task in islice(iter_tasks(design), total):
        if (task.run_id, task.key) in skip:
            counts.skipped += 1
        elif task.run_id in done:
            stale.add(task.run_id)
    try:
        folder.prune(stale)
    except OSError as err:
        raise _no_room(err, folder, counts) from None
    return total - counts.skipped


def _run_bytes(design: Design) -> int:
    """An estimate of one run file's size (the longest run's rows)."""
    out = design.spec.outcomes
    months = max((int(p.get("months", 0)) for p in design.params), default=0)
    rows = (months // out.every + 1 if out.every else 0) + 2  # final, cycle's end
    drawn = len(design.drawn) + 1 if design.members is not None else 0
    columns = len(ID_COLUMNS) + len(design.columns) + drawn + 3 + len(out.keep)
    return run_file_bytes(rows, columns)


def _no_room(
    err: OSError, folder: SweepFolder, counts: SweepProgress | None
) -> SweepError:
    """One line for a write that failed: what is kept, and how to go on."""
    what = err.strerror or type(err).__name__
    where = f" ({err.filename})" if err.filename else ""
    kept = (
        f"{len(folder.done())} of {counts.total} runs are on disk in {folder.path}"
        if counts is not None
        else f"nothing was written to {folder.path}"
    )
    room = (
        "make room (or raise the file-size limit) and " if err.errno in NO_ROOM else ""
    )
    return SweepStoppedError(
        f"sweep stopped: cannot write to {folder.path}: {what}{where}; {kept}; {room}run "
        "the same command again to resume"
    )


def _batching(
    left: int, workers: int, in_flight: int | None, batch: int | None
) -> tuple[int, int | None]:
    """Runs a batch and batches at once: from ``in_flight`` and ``batch`` if given."""
    size = batch_size(left, workers, in_flight)
    if batch is not None:
        size = min(batch, in_flight or batch)  # never more runs out than in_flight
    return size, None if in_flight is None else max(1, in_flight // size)


def _check_where(
    executor: Executor | None, cluster: str | None, **counts: int | None
) -> str | None:
    """Refuse a count that is not an integer >= 1, two places to run, a bad address.

    Returns:
        The cluster's address, checked (``None``: none).
    """
    for name, value in counts.items():
        if value is not None:
            check_int(name if name == "in_flight" else f"--{name}", value)
    if executor is not None and cluster is not None:
        raise SweepError("give an executor or a cluster, not both")
    return None if cluster is None else check_cluster_address(cluster)


def _drive(
    executor: Executor,
    todo: Iterable[RunTask],
    folder: SweepFolder,
    counts: SweepProgress,
    *,
    progress: bool,
    window: int | None,
    batch: int,
    name: str,
    stall_timeout: float = 60.0,
) -> None:
    """Run the tasks in batches on the engine's driver; write each batch as it arrives."""

    def stopped(why: str) -> SweepStoppedError:
        return SweepStoppedError(
            f"sweep stopped: {why}; {len(folder.done())} of {counts.total} runs are on "
            f"disk in {folder.path}; run the same command again to resume"
        )

    def lost(runs: tuple[RunTask, ...], err: BaseException) -> SweepStoppedError:
        first = str(err).splitlines()[0] if str(err) else ""
        what = f"a batch of {len(runs)} runs from" if len(runs) > 1 else "run"
        return stopped(
            f"{what} {runs[0].run_id} was lost ({type(err).__name__}: {first})"
        )

    def stalled(timeout: float) -> SweepStoppedError:
        return stopped(f"the cluster has had no worker for {timeout:g} s")

    bar = progress_bar(
        counts.total, initial=counts.skipped, desc=f"sweep {name}", enabled=progress
    )
    start = time.perf_counter()
    try:
        # execute_batch is imported through its module so workers unpickle it by name
        for runs, outcomes in completed(
            execute_batch,
            batched(todo, batch),
            executor,
            window=window,
            on_lost=lost,
            stall_timeout=stall_timeout,
            on_stall=stalled,
        ):
            try:
                folder.write(runs, outcomes)
            except OSError as err:
                raise _no_room(err, folder, counts) from None
            counts.ran += len(runs)
            if failed := sum(o.error is not None for o in outcomes):
                counts.failed += failed
                bar.set_postfix(errors=counts.failed, refresh=False)
            bar.update(len(runs))
    finally:
        counts.seconds = time.perf_counter() - start
        bar.close()

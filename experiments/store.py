"""A results store: each finished task's table on disk under its key, for resuming.

A comparison's or a screen's ``--store DIR`` (and :func:`~berdaya.experiments.engine.
run_stored`) keeps every task's result as it completes::

    store.json          what the store holds (a comparison's runs, a screen's points)
    results/KEY.parquet a task's table, its key and rows in the file's metadata

Each file is written atomically (:func:`~berdaya.experiments.files.write_table`), so a
killed study loses only its tasks in flight; running it again reads the tasks whose key
has a whole file and runs the rest. A file that is not whole (no Parquet footer, another
key in its metadata, fewer rows than it says) is moved aside (``*.damaged``) and its task
runs again. The folder is locked while a study writes it
(:func:`~berdaya.experiments.lock.folder_lock`). ``results/`` reads as one Parquet
dataset (``pandas.read_parquet(DIR / "results")``) when its tables share columns.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from berdaya.experiments.errors import SweepError
from berdaya.experiments.files import META_KEY, read_table, write_table, write_text
from berdaya.experiments.lock import LOCK_NAME, folder_lock

#: The store's own file, naming what it holds.
MARKER = "store.json"
#: What a damaged result file is renamed to end with (it is then not read).
DAMAGED = ".damaged"
FORMAT = 1


def table_problem(path: Path, name: str | tuple[str, ...] = "key") -> str | None:
    """What is wrong with a result file (``None``: it is whole).

    Reads Parquet's footer only (a few KB), so checking thousands of files is quick.

    Args:
        path: The file.
        name: The metadata field that must equal the file's stem (``key``; a sweep's
            batch files: ``batch``, or ``run_id`` in a folder of one file a run); of
            several, the first the metadata has.
    """
    try:
        footer = pq.read_metadata(path)
        meta = json.loads((footer.metadata or {}).get(META_KEY, b"{}"))
    except (OSError, ValueError, pa.ArrowException) as err:
        size = path.stat().st_size if path.exists() else 0
        return "empty" if size == 0 else f"not a whole Parquet file: {first_line(err)}"
    names = (name,) if isinstance(name, str) else name
    name = next((n for n in names if n in meta), names[0])
    if meta.get(name) != path.stem:
        return f"its metadata names {name} {meta.get(name)!r}"
    if "rows" in meta and footer.num_rows != meta["rows"]:
        return f"{footer.num_rows} rows of {meta['rows']}"
    return None


def listed(folder: Path, pattern: str) -> list[Path]:
    """A folder's files matching ``pattern``, sorted, without hidden (temporary) ones."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(pattern) if not p.name.startswith("."))


def set_aside(
    paths: Iterable[Path], problem: Callable[[Path], str | None]
) -> list[str]:
    """Rename the files that have a ``problem`` to ``*.damaged``; return their stems."""
    moved = []
    for path in paths:
        if problem(path) is not None:
            os.replace(path, path.with_name(path.name + DAMAGED))
            moved.append(path.stem)
    return moved


def remove_temporary(*folders: Path) -> None:
    """Remove the temporary files a killed writer left (call under the folder's lock)."""
    for folder in folders:
        for tmp in folder.glob(".*.tmp") if folder.is_dir() else ():
            tmp.unlink(missing_ok=True)


def first_line(err: BaseException) -> str:
    """An error's first line, at most 120 characters (its type if it has no text)."""
    text = str(err).strip().splitlines()
    return text[0][:120] if text else type(err).__name__


class TaskStore:
    """A folder of task results, one Parquet file per task key.

    Args:
        path: The folder (made when first written).
        option: The option that named it, for messages.
    """

    def __init__(self, path: str | Path, option: str = "--store") -> None:
        """Name the folder (nothing is read or written yet)."""
        self.path = Path(path)
        self.results = self.path / "results"
        self.option = option
        self.reads = 0  # results read back (not run), counted by :meth:`read`

    def check(self, kind: str) -> None:
        """Refuse, before anything is written, a folder that is not this kind's store.

        Args:
            kind: What the store holds (``compare``, ``screen``...).

        Raises:
            SweepError: One line naming the option, the folder and what it holds.
        """
        where = f"{self.option}: '{self.path}'"
        if self.path.exists() and not self.path.is_dir():
            raise SweepError(f"{where} is a file, not a folder")
        marker = self.path / MARKER
        if marker.is_file():
            try:
                held = json.loads(marker.read_text(encoding="utf-8")).get("kind")
            except (OSError, ValueError, AttributeError):
                held = None
            if held != kind:
                raise SweepError(
                    f"{where} holds {held or 'unreadable'} results, not {kind}; give "
                    f"another folder"
                )
        elif self.path.is_dir():
            others = sorted(p.name for p in self.path.iterdir() if p.name != LOCK_NAME)
            if others:
                raise SweepError(
                    f"{where} holds other files ({others[0]}...) and no store; give "
                    "an empty or new folder"
                )

    @contextmanager
    def opened(self, kind: str) -> Iterator[set[str]]:
        """Hold the store for a study: locked, tidied, its whole results' keys known.

        Args:
            kind: What the store holds; a store of another kind is refused.

        Yields:
            The keys with a whole result (damaged files are moved aside first).
        """
        self.check(kind)
        with folder_lock(self.path, self.option, "study"):
            self.check(kind)  # again, now that it is ours
            marker = {"format": FORMAT, "kind": kind}
            write_text(self.path / MARKER, json.dumps(marker))
            self.results.mkdir(exist_ok=True)
            remove_temporary(self.results)  # a killed study's, under our lock
            self.set_aside_damaged()
            yield self.keys()

    def keys(self) -> set[str]:
        """Keys of the results on disk."""
        return {p.stem for p in listed(self.results, "*.parquet")}

    def set_aside_damaged(self) -> list[str]:
        """Move result files that are not whole aside; return their keys."""
        return set_aside(listed(self.results, "*.parquet"), table_problem)

    def write(self, key: str, table: pd.DataFrame, meta: dict[str, Any]) -> None:
        """Write a task's table atomically, with its key, rows and ``meta``."""
        info = {**meta, "key": key, "rows": len(table)}
        write_table(table, self.results / f"{key}.parquet", info)

    def read(self, key: str) -> pd.DataFrame:
        """A task's table as it was written (counted in :attr:`reads`)."""
        self.reads += 1
        return read_table(self.results / f"{key}.parquet")[0]

"""Results on disk: tables written whole or not at all, with their provenance."""

from __future__ import annotations

import argparse
import json
import os
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

META_KEY = b"berdaya"
TABLE_SUFFIXES = (".parquet", ".csv")


def check_out_path(path: str | Path, option: str = "--out") -> Path:
    """Check that an output path names a Parquet or CSV file, before any run starts.

    Args:
        path: The path given by the user.
        option: The option it came from, for the message.

    Returns:
        The path as a :class:`~pathlib.Path`.

    Raises:
        ValueError: One line naming the path and the allowed endings.
    """
    if not str(path).strip():
        raise ValueError(f"{option} is empty: give a file ending in .parquet or .csv")
    path = Path(path)
    if path.suffix.lower() not in TABLE_SUFFIXES or not path.stem:
        raise ValueError(
            f"{option}: '{path}' needs a file name and must end in .parquet or .csv"
        )
    return path


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Write a file through a temporary sibling renamed into place.

    Args:
        path: Destination.
        write: Function writing the content to the temporary path it is given.

    Returns:
        The destination path.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def command_line(module: str, args: argparse.Namespace, names: Sequence[str]) -> str:
    """The ``python -m`` line that makes the same output (written into a report).

    Args:
        module: The module run (``berdaya.experiments.screen``).
        args: Its parsed options.
        names: The options to give, in order, by their ``args`` names; one whose value
            is ``None`` is left out, a list is joined by commas.

    Returns:
        The command, quoted for a POSIX shell.
    """
    words = ["python", "-m", module]
    for name in names:
        value = getattr(args, name)
        if value is not None:
            if isinstance(value, list | tuple):
                value = ",".join(map(str, value))
            words += [f"--{name.replace('_', '-')}", str(value)]
    return shlex.join(words)


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 text atomically (:func:`atomic_write`); return the path."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def plain(value: Any) -> Any:
    """Numpy scalars (what samplers and tables give) as Python's, in nested dicts and lists."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value.item() if hasattr(value, "item") else value


def write_table(table: pd.DataFrame, path: str | Path, meta: dict[str, Any]) -> Path:
    """Write a table to ``.parquet`` (with ``meta`` as JSON metadata) or ``.csv``.

    Args:
        table: The table.
        path: Destination ending in ``.parquet`` or ``.csv``.
        meta: JSON-serialisable provenance (scenario, seeds, parameters...).

    Returns:
        The path written.
    """
    path = check_out_path(path, "path")

    def write(tmp: Path) -> None:
        if path.suffix.lower() == ".csv":
            table.to_csv(tmp, index=False)
            return
        arrow = pa.Table.from_pandas(table, preserve_index=False)
        arrow = arrow.replace_schema_metadata(
            {**(arrow.schema.metadata or {}), META_KEY: json.dumps(meta)}
        )
        pq.write_table(arrow, tmp)

    return atomic_write(path, write)


def read_table(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a Parquet table written by :func:`write_table` and its metadata."""
    arrow = pq.read_table(path)
    meta = json.loads((arrow.schema.metadata or {}).get(META_KEY, b"{}"))
    return arrow.to_pandas(), meta

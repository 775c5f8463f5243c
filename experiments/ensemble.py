"""Posterior ensembles: parameter sets fitted to the targets, shipped with the package.

An ensemble is a Parquet table, one row per member (a parameter set of the final ABC-SMC
population, ``berdaya calibrate``), with the columns

* ``member``: 0, 1, ...;
* one column per calibrated parameter (the scenario schema's name);
* ``weight``: the member's importance weight (the weights sum to 1);
* ``distance``: its distance to the fitting targets (0: every one in range);
* ``seed``: the seed of the run that was accepted with it.

Its provenance (library versions, targets, priors, seeds, epsilons, acceptance) is the
table's Parquet metadata, and a JSON copy of it lies beside the table for people to read.
The shipped ensembles are in ``scenarios/ensembles/`` (package data); a name is looked up
there, a path anywhere. This module needs neither pyabc nor the model: the comparisons
that draw parameter sets from an ensemble import it alone.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from berdaya.experiments.files import atomic_write, read_table, write_table

#: Columns of an ensemble that are not parameters.
BOOKKEEPING = ("member", "weight", "distance", "seed")


class EnsembleError(ValueError):
    """An ensemble that cannot be found or read; the message is one line."""


def shipped_dir() -> Path:
    """The folder of the shipped ensembles (``berdaya/scenarios/ensembles``)."""
    return Path(str(resources.files("berdaya.scenarios").joinpath("ensembles")))


def shipped_ensembles() -> list[str]:
    """Names of the shipped ensembles (their file names without ``.parquet``)."""
    folder = shipped_dir()
    return sorted(p.stem for p in folder.glob("*.parquet")) if folder.is_dir() else []


def ensemble_path(name: str | Path) -> Path:
    """The file of an ensemble given by shipped name or by path.

    Args:
        name: A shipped ensemble's name (``kedungkandang-2008``) or a ``.parquet`` path.

    Returns:
        The path of its Parquet table.

    Raises:
        EnsembleError: Neither a shipped name nor an existing file.
    """
    path = Path(name)
    if path.suffix == ".parquet":
        if not path.is_file():
            raise EnsembleError(f"ensemble file {path} does not exist")
        return path
    shipped = shipped_dir() / f"{name}.parquet"
    if not shipped.is_file():
        known = ", ".join(shipped_ensembles()) or "none"
        raise EnsembleError(
            f"no shipped ensemble named {str(name)!r} (shipped: {known}; or give a "
            ".parquet path)"
        )
    return shipped


def load_ensemble(name: str | Path = "kedungkandang-2008") -> pd.DataFrame:
    """Read an ensemble: one row per member, its parameters, weight, distance and seed.

    Args:
        name: A shipped ensemble's name or a ``.parquet`` path.

    Returns:
        The members, with the columns listed in the module's description; the
        calibrated parameters are the columns not in :data:`BOOKKEEPING`.

    Raises:
        EnsembleError: The ensemble is missing or is not an ensemble.
    """
    path = ensemble_path(name)
    try:
        frame, _ = read_table(path)
    except (OSError, ValueError) as err:
        raise EnsembleError(f"{path}: cannot read the ensemble: {err}") from None
    missing = [c for c in BOOKKEEPING if c not in frame.columns]
    if missing or len(frame.columns) == len(BOOKKEEPING):
        raise EnsembleError(
            f"{path}: not an ensemble (needs the columns {', '.join(BOOKKEEPING)} "
            "and at least one parameter)"
        )
    return frame


def load_provenance(name: str | Path = "kedungkandang-2008") -> dict[str, Any]:
    """The provenance of an ensemble (from its Parquet metadata).

    Args:
        name: A shipped ensemble's name or a ``.parquet`` path.

    Returns:
        The provenance as written by ``berdaya calibrate``.
    """
    path = ensemble_path(name)
    try:
        _, meta = read_table(path)
    except (OSError, ValueError) as err:
        raise EnsembleError(f"{path}: cannot read the ensemble: {err}") from None
    return meta


def parameter_names(frame: pd.DataFrame) -> list[str]:
    """The calibrated parameters of an ensemble, in its column order."""
    return [c for c in frame.columns if c not in BOOKKEEPING]


def draw_members(
    frame: pd.DataFrame, n: int, rng: np.random.Generator
) -> list[dict[str, float]]:
    """Draw parameter sets from an ensemble by weight, with replacement.

    Args:
        frame: From :func:`load_ensemble`.
        n: How many.
        rng: The seeded generator to draw with.

    Returns:
        ``n`` mappings of parameter name to value, usable as scenario overrides.
    """
    weights = frame["weight"].to_numpy(dtype=float)
    rows = rng.choice(len(frame), size=n, replace=True, p=weights / weights.sum())
    names = parameter_names(frame)
    values = frame[names].to_numpy(dtype=float)
    return [dict(zip(names, map(float, values[i]), strict=True)) for i in rows]


def write_ensemble(frame: pd.DataFrame, path: Path, provenance: dict[str, Any]) -> Path:
    """Write an ensemble and its provenance, each file atomically.

    The Parquet table carries the provenance in its metadata; ``<name>.json`` beside
    it is a readable copy.

    Args:
        frame: The members (the columns of :func:`load_ensemble`).
        path: Destination ``.parquet``.
        provenance: JSON-serialisable provenance.

    Returns:
        The table's path.
    """
    text = json.dumps(provenance, indent=2, sort_keys=False) + "\n"
    write_table(frame, path, provenance)
    atomic_write(
        path.with_suffix(".json"), lambda tmp: tmp.write_text(text, encoding="utf-8")
    )
    return path

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

**Answers with parameter uncertainty.** ``compare``, ``sweep`` and the app draw one
member for each replication (:meth:`Ensemble.members`, :func:`member_overrides`):
replication ``r`` of master seed ``s`` takes the member drawn (by weight) with the
generator of ``SeedSequence(s, spawn_key=(MEMBER_CHILD, r))``, so the draw depends on
nothing but the two numbers, in any process and on any executor, and ``n`` draws are
the start of ``n + 1``. Every arm or design point of replication ``r`` runs with the
same member and the same seed, so differences between them stay paired. The member
supplies each calibrated parameter (:meth:`Ensemble.supplied`) except

* one the user sets explicitly (``--set``, a spec's ``[set]``, levers or
  uncertainties): that value holds in every replication;
* one the run's scenario file sets itself on top of the ensemble's scenario (a
  scenario that sets ``default_hazard`` is a what-if on it): the file's value holds.

An ensemble is calibrated on one scenario (its provenance's ``scenario``); it is
refused for a scenario that is neither that one nor built on it (``base``), whose
kelurahan the members were never fitted to.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from berdaya.experiments.files import read_table, write_table, write_text
from berdaya.scenarios.loader import scenario_chain

#: Columns of an ensemble that are not parameters.
BOOKKEEPING = ("member", "weight", "distance", "seed")
#: The shipped ensemble a bare ``--ensemble`` means.
DEFAULT_ENSEMBLE = "kedungkandang-2008"
#: Spawn key of the member draws: child ``(MEMBER_CHILD, r)`` of the master
#: SeedSequence draws replication ``r``'s member; no seed or sampler uses it (replication
#: ``i`` is child ``(i,)``, a sweep's sampler ``(2**32 - 1,)``).
MEMBER_CHILD = 2**32 - 2


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


def draw_rows(frame: pd.DataFrame, n: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of ``n`` rows of an ensemble drawn by weight, with replacement.

    Args:
        frame: From :func:`load_ensemble`.
        n: How many.
        rng: The seeded generator to draw with.

    Returns:
        ``n`` row positions (not the ``member`` column's values).
    """
    weights = frame["weight"].to_numpy(dtype=float)
    return rng.choice(len(frame), size=n, replace=True, p=weights / weights.sum())


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
    rows = draw_rows(frame, n, rng)
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
    write_text(path.with_suffix(".json"), text)
    return path


class Member(NamedTuple):
    """One replication's draw from an ensemble.

    Attributes:
        index: The member's number (the ensemble's ``member`` column).
        values: Its calibrated parameters, by name.
    """

    index: int
    values: dict[str, float]


def member_generator(seed: int, replication: int) -> np.random.Generator:
    """The generator that draws replication ``replication``'s member for master ``seed``."""
    seq = np.random.SeedSequence(seed, spawn_key=(MEMBER_CHILD, replication))
    return np.random.default_rng(seq)


@dataclass(frozen=True)
class Ensemble:
    """An ensemble read for drawing: its members, provenance and where it came from.

    Attributes:
        name: As given: a shipped name or a path.
        path: Its Parquet table.
        frame: The members (:func:`load_ensemble`).
        provenance: Its provenance (:func:`load_provenance`).
    """

    name: str
    path: Path
    frame: pd.DataFrame
    provenance: dict[str, Any]

    @property
    def parameters(self) -> tuple[str, ...]:
        """The calibrated parameters, in the table's order."""
        return tuple(parameter_names(self.frame))

    @property
    def scenario(self) -> str | None:
        """The scenario the ensemble was calibrated on (``None``: not recorded)."""
        scenario = self.provenance.get("scenario")
        return scenario if isinstance(scenario, str) else None

    @property
    def label(self) -> str:
        """The name shown: a shipped ensemble's name, or the file's stem."""
        return self.path.stem

    def members(self, seed: int, n: int) -> list[Member]:
        """The members of replications ``0 .. n - 1`` of master seed ``seed``.

        Args:
            seed: The master seed (a comparison's or a sweep's).
            n: Replications.

        Returns:
            ``n`` members, replication ``r``'s drawn by weight with
            :func:`member_generator` ``(seed, r)``.
        """
        names = list(self.parameters)
        values = self.frame[names].to_numpy(dtype=float)
        numbers = self.frame["member"].to_numpy()
        out = []
        for r in range(n):
            row = int(draw_rows(self.frame, 1, member_generator(seed, r))[0])
            out.append(
                Member(
                    int(numbers[row]),
                    dict(zip(names, map(float, values[row]), strict=True)),
                )
            )
        return out

    def method(self) -> str:
        """How the members were fitted, in a few words (``rejection ABC, epsilon 0``)."""
        p = self.provenance
        epsilons = p.get("epsilons") or []
        generations = p.get("generations")
        kind = "ABC-SMC"
        if generations == 1 and "rejection" in str(p.get("schedule", "")):
            kind = "rejection ABC"
        elif generations:
            kind = f"ABC-SMC, {generations} generations"
        if epsilons:
            kind += f", epsilon {float(epsilons[-1]):g}"
        return kind

    def describe(self, draws: int) -> str:
        """One line: how many draws from which ensemble, fitted how, on what.

        Args:
            draws: Replications (one member each).

        Returns:
            E.g. ``30 draws from ensemble kedungkandang-2008 (800 members, rejection
            ABC, epsilon 0, calibrated on kedungkandang-2008)``.
        """
        on = f", calibrated on {self.scenario}" if self.scenario else ""
        return (
            f"{draws} draws from ensemble {self.label} ({len(self.frame)} members, "
            f"{self.method()}{on})"
        )

    def supplied(
        self, scenario: str | Path, fixed: dict[str, Any] | None = None
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Which calibrated parameters a member sets on a scenario, and which it keeps.

        Args:
            scenario: The run's scenario (shipped name or TOML path).
            fixed: Parameter values the user sets explicitly (they win).

        Returns:
            ``(supplied, kept)``: the calibrated parameters the member supplies, and
            those the scenario file sets itself on top of the ensemble's scenario (kept
            at the file's values).

        Raises:
            EnsembleError: The scenario is neither the ensemble's scenario nor built on
                it.
        """
        chain = scenario_chain(scenario)
        own: set[str] = set()
        if self.scenario is not None:
            names = [n for n, _ in chain]
            if self.scenario not in names:
                raise EnsembleError(
                    f"ensemble {self.label} was calibrated on scenario "
                    f"{self.scenario}; scenario {Path(str(scenario)).stem} is not it and "
                    f'is not built on it (base = "{self.scenario}")'
                )
            for _, keys in chain[: names.index(self.scenario)]:
                own |= keys
        calibrated = self.parameters
        kept = tuple(p for p in calibrated if p in own and p not in (fixed or {}))
        supplied = tuple(
            p for p in calibrated if p not in own and p not in (fixed or {})
        )
        return supplied, kept

    def summary(self, members: list[Member]) -> dict[str, Any]:
        """What a comparison or sweep records about its draws (JSON-safe).

        Args:
            members: The members drawn, one per replication.

        Returns:
            The ensemble's name, file hash, size, method, scenario, the fitting
            library, and every replication's member number.
        """
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
        return {
            "name": self.label,
            "given": self.name,
            "sha256": digest,
            "size": len(self.frame),
            "method": self.method(),
            "scenario": self.scenario,
            "pyabc": self.provenance.get("pyabc"),
            "berdaya_commit": self.provenance.get("berdaya_commit"),
            "parameters": list(self.parameters),
            "members": [m.index for m in members],
        }


def open_ensemble(name: str | Path = DEFAULT_ENSEMBLE) -> Ensemble:
    """Read an ensemble and its provenance for drawing.

    Args:
        name: A shipped ensemble's name or a ``.parquet`` path.

    Returns:
        The :class:`Ensemble`.

    Raises:
        EnsembleError: The ensemble is missing, unreadable or not an ensemble (one
            line).
    """
    path = ensemble_path(name)
    frame = load_ensemble(path)
    weights = frame["weight"].to_numpy(dtype=float)
    if not (np.isfinite(weights).all() and (weights >= 0).all() and weights.sum() > 0):
        raise EnsembleError(f"{path}: its weights are not finite, >= 0 and > 0 in sum")
    return Ensemble(str(name), path, frame, load_provenance(path))


def ensemble_for(scenarios: list[str | Path] | tuple[str | Path, ...]) -> str:
    """The shipped ensemble calibrated for some scenarios (what a bare ``--ensemble`` means).

    Args:
        scenarios: The runs' scenarios (shipped names or TOML paths).

    Returns:
        The name of the first shipped ensemble (by name) whose scenario every one of
        them is or is built on.

    Raises:
        EnsembleError: No shipped ensemble fits them all (one line).
    """
    chains = [{n for n, _ in scenario_chain(s)} for s in scenarios]
    bases = {
        name: load_provenance(name).get("scenario") for name in shipped_ensembles()
    }
    for name, on in bases.items():
        if all(on in chain for chain in chains):
            return name
    misfits = [
        Path(str(s)).stem
        for s, chain in zip(scenarios, chains, strict=True)
        if not any(on in chain for on in bases.values())
    ]
    what = (
        f"scenario {', '.join(misfits)} is" if misfits else "the scenarios are not all"
    )
    shipped = ", ".join(f"{n} (on {on})" for n, on in bases.items()) or "none"
    raise EnsembleError(
        f"{what} not built on the scenario of a shipped ensemble (shipped: {shipped}); "
        "give a .parquet path"
    )


def member_overrides(
    name: str | Path = DEFAULT_ENSEMBLE,
    n: int = 1,
    seed: int = 0,
    *,
    scenario: str | Path | None = None,
    fixed: dict[str, Any] | None = None,
) -> list[dict[str, float]]:
    """The calibrated parameter values of replications ``0 .. n - 1``: for the app.

    The same draws as ``compare``'s and ``sweep``'s with master seed ``seed``
    (:meth:`Ensemble.members`). Apply replication ``r``'s dict as overrides, under the
    user's own, to every arm of that replication, with that replication's seed.

    Args:
        name: A shipped ensemble's name or a ``.parquet`` path.
        n: Replications.
        seed: Master seed.
        scenario: The scenario the values go to: when given, it must be the ensemble's
            or built on it, and the parameters it sets itself on top of the ensemble's
            scenario are left out (:meth:`Ensemble.supplied`).
        fixed: The user's own values: their parameters are left out.

    Returns:
        ``n`` mappings of calibrated parameter name to value.

    Raises:
        EnsembleError: The ensemble cannot be read, or does not fit ``scenario`` (one
            line).
    """
    ensemble = open_ensemble(name)
    names = set(ensemble.parameters) - set(fixed or {})
    if scenario is not None:
        names = set(ensemble.supplied(scenario, fixed)[0])
    return [
        {k: v for k, v in m.values.items() if k in names}
        for m in ensemble.members(seed, n)
    ]

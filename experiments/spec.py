"""Sweep specs (TOML) and the designs they describe.

A spec names a base scenario, the levers and uncertainties to vary with their values or
ranges (checked against the scenario schema), a design, replications, a master seed and
which outcomes to keep. Every factor is checked when the spec is read, and every design
point is validated as a whole scenario before a single run starts, so a bad spec fails
with one line and nothing written. The format, in short::

    description = "Kelurahan involvement x progression policy"
    scenario = "kedungkandang-2008"   # shipped name, or a .toml path relative to the spec
    replications = 30                 # replication i of every point runs with seed i
    seed = 2008                       # master seed: SeedSequence(seed).spawn(replications)
    design = "grid"                   # grid | lhs | sobol | morris (or a [design] table)
    ensemble = "kedungkandang-2008"   # optional: draw calibrated parameters (see below)

    [set]                             # fixed values for every run
    months = 48

    [levers]                          # kind "lever" in the schema
    kelurahan_involvement = [0.0, 0.5, 1.0]           # a list of values
    progression = ["schedule", "readiness", "hybrid"]
    faskel_visits = { low = 20, high = 120, levels = 3 }  # a range (levels: grid only)
    tridaya = [                                       # explicit combinations
      { label = "loan-heavy", tridaya_economic = 0.78, tridaya_social = 0.02,
        tridaya_environmental = 0.20 },
      { label = "guideline", tridaya_economic = 0.5, tridaya_social = 0.1,
        tridaya_environmental = 0.4 },
    ]

    [uncertainties]                   # kind "uncertainty" or "context"
    mean_degree = { low = 4.0, high = 16.0 }

    [derive]                          # computed from the other values of each point
    tridaya_environmental = { remainder_of = ["tridaya_economic", "tridaya_social"] }

    [outcomes]
    keep = ["powerless_poor", "pendayaan_poor"]   # or "all"; default: the headline set
    every = 12                        # months 0, 12, 24, ... (omit: final month only)
    final = true                      # also the last month (default true)

``[design]`` as a table takes ``kind`` and, for sampled designs, ``samples`` (lhs: points;
sobol: base samples N, a power of 2, giving N(D+2) points, or N(2D+2) with
``second_order = true``; morris: trajectories N, giving N(D+1) points with ``levels``
grid levels, default 4). ``base = false`` drops the base point (point 0: the base scenario
with ``[set]`` only, run with the same seeds so every point has a paired baseline).

``seeds = "independent"`` (with ``base = false``) gives every design point seeds of its own
instead of the replication seeds all points share: for points that are different places
rather than different policies for one place, such as the kelurahan of a national
programme (``berdaya national``), whose randomness must not be common to all of them.

``ensemble`` (a shipped ensemble's name, or a ``.parquet`` path relative to the spec)
draws one member of a posterior ensemble of ``berdaya calibrate`` for each replication,
shared by every design point as the seeds are (member ``r`` from the master seed and
``r`` alone, :mod:`berdaya.experiments.ensemble`), so a resume runs the same members and
the points' differences stay paired; the summaries' intervals then cover parameter
uncertainty. The member supplies every calibrated parameter the spec does not set
itself (``[set]``, levers, uncertainties, derive win) and the scenario file does not set
on top of the ensemble's scenario; every row carries its ``member`` and the values drawn.

The spec's shape is a pydantic model (:class:`SpecFile`, with :class:`DesignTable`,
:class:`OutcomesTable` and :class:`DeriveEntry`): known keys only, values of their stated
types, no coercion. Whatever is wrong, :func:`spec_error` turns pydantic's report into
one line naming the file, the field and what it takes. What depends on the scenario
schema (the parameters and their ranges) and on the model (the outcomes) is checked
next, with the same kind of line.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import math
import numbers
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from berdaya.experiments import sensitivity
from berdaya.experiments.compare import HEADLINE_OUTCOMES, MEMBER, replication_seeds
from berdaya.experiments.ensemble import Ensemble, EnsembleError, Member, open_ensemble
from berdaya.experiments.errors import SweepError, check_int, is_int
from berdaya.experiments.files import plain
from berdaya.scenarios import ParamInfo, ScenarioError, load_scenario, schema
from berdaya.scenarios.loader import read_toml, shown, validate

DESIGNS = ("grid", "lhs", "sobol", "morris")
RANGE_KEYS = ("low", "high", "levels")
#: Columns that identify a run in every results row, in this order.
ID_COLUMNS = ("run_id", "point", "replication", "seed", "scenario")
#: Spawn key of the sampler's seed: a child of the master SeedSequence that no
#: replication uses (replication i is child i).
SAMPLER_CHILD = 2**32 - 1
#: Significant digits of float values in designs (exact round trips through --set).
DIGITS = 12
#: Roles of the two factor tables and the schema kinds each accepts.
ROLES = {"levers": ("lever",), "uncertainties": ("uncertainty", "context")}


def _suggest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _round(value: float) -> float:
    return float(f"{value:.{DIGITS}g}")


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


@cache
def outcome_names() -> tuple[str, ...]:
    """Names of the recorded outcomes (the columns of a run's monthly table but month).

    Learned from a one-month run of a tiny kelurahan, so the list never drifts from what
    the model records.
    """
    from berdaya.experiments.run import run  # noqa: PLC0415 (imports the model)

    records = run(
        "kedungkandang-2008", 0, months=1, overrides={"n_households": 40}
    ).records
    return tuple(c for c in records.columns if c != "month")


def check_value(info: ParamInfo, value: Any, where: str) -> Any:
    """Check one value against the schema and coerce it to the parameter's type.

    Args:
        info: The parameter's schema entry.
        value: The value from the spec.
        where: Where it came from, for the message.

    Returns:
        The value as the parameter's type (a float parameter given ``1`` gets ``1.0``).

    Raises:
        SweepError: One line naming the place and what is allowed.
    """
    ok = True
    if info.choices:
        ok = isinstance(value, str) and value in info.choices
    elif info.type == "bool":
        ok = isinstance(value, bool)
    elif info.type == "int":
        ok = is_int(value)
    elif info.type == "float":
        ok = _is_number(value) and math.isfinite(value)
        value = float(value) if ok else value
    if ok and _is_number(value):
        ok = (info.ge is None or value >= info.ge) and (
            info.le is None or value <= info.le
        )
    if not ok:
        raise SweepError(f"{where}: must be {info.allowed} (got {value!r})")
    return value


@dataclass(frozen=True)
class Factor:
    """One thing a design varies: a parameter, or a bundle of parameters set together.

    Attributes:
        name: The parameter's name, or the bundle's (a label column in the results).
        role: ``"lever"`` or ``"uncertainty"`` (the table it was listed in).
        params: The parameters it sets.
        type: ``float``, ``int``, ``choice``, ``bool`` or ``bundle``.
        values: Discrete levels (for a bundle: one dict of values per level).
        labels: Labels of the levels (bundles only).
        low: Lower end of a range.
        high: Upper end of a range.
        levels: Number of grid levels of a range.
    """

    name: str
    role: str
    params: tuple[str, ...]
    type: str
    values: tuple[Any, ...] | None = None
    labels: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    levels: int | None = None

    @property
    def discrete(self) -> bool:
        """Whether the factor is a list of levels (not a range)."""
        return self.values is not None

    def grid(self) -> list[dict[str, Any]]:
        """The factor's levels for a grid design, as parameter values."""
        if self.values is not None:
            return [self._level(i) for i in range(len(self.values))]
        assert self.low is not None and self.high is not None and self.levels
        if self.type == "int":
            raw = np.linspace(self.low, self.high, self.levels)
            ints = list(dict.fromkeys(round(float(v)) for v in raw))
            return [{self.name: v} for v in ints]
        return [
            {self.name: _round(float(v))}
            for v in np.linspace(self.low, self.high, self.levels)
        ]

    def at(self, u: float) -> dict[str, Any]:
        """Parameter values at unit coordinate ``u`` in [0, 1] (sampled designs).

        A list of ``k`` levels splits [0, 1] into ``k`` equal parts; an integer range
        is uniform over its integers; a float range is linear from low to high.
        """
        u = min(max(float(u), 0.0), 1.0)
        if self.values is not None:
            k = len(self.values)
            return self._level(min(int(u * k), k - 1))
        assert self.low is not None and self.high is not None
        if self.type == "int":
            span = int(self.high) - int(self.low) + 1
            return {self.name: int(self.low) + min(int(u * span), span - 1)}
        return {self.name: _round(self.low + u * (self.high - self.low))}

    def _level(self, i: int) -> dict[str, Any]:
        assert self.values is not None
        if self.type == "bundle":
            return {self.name: self.labels[i], **self.values[i]}  # type: ignore[index]
        return {self.name: self.values[i]}

    def describe(self) -> dict[str, Any]:
        """A JSON-safe description (kept in the results folder's ``meta.json``)."""
        out: dict[str, Any] = {
            "name": self.name,
            "role": self.role,
            "type": self.type,
            "params": list(self.params),
        }
        if self.values is not None:
            out["values"] = list(self.labels or self.values)
        else:
            out["low"], out["high"] = self.low, self.high
        return out


@dataclass(frozen=True)
class Derived:
    """A parameter computed from the others at each design point.

    Attributes:
        name: The parameter set.
        remainder_of: Parameters whose sum is taken from ``total``.
        total: What the parameters add up to (1 for shares).
    """

    name: str
    remainder_of: tuple[str, ...]
    total: float = 1.0

    def value(self, values: dict[str, Any]) -> float:
        """The derived value given every other value of the point."""
        return _round(self.total - sum(float(values[p]) for p in self.remainder_of))


@dataclass(frozen=True)
class OutcomeSpec:
    """Which outcomes a sweep keeps, and for which months.

    Attributes:
        keep: Outcome names kept (in this order).
        every: Keep months 0, every, 2*every... (``None``: none but the final).
        final: Keep the last month.
    """

    keep: tuple[str, ...]
    every: int | None
    final: bool

    def months(self, months: np.ndarray) -> np.ndarray:
        """Mask of the months kept among ``months`` (a run's month column)."""
        mask = np.zeros(len(months), dtype=bool)
        if self.every:
            mask |= months % self.every == 0
        if self.final and len(months):
            mask |= months == months.max()
        return mask


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec.

    Attributes:
        name: The spec's name (file stem).
        source: Where it was read from.
        text: The TOML text (copied into the results folder).
        data: The parsed TOML.
        description: One line.
        scenario: Base scenario as written (shipped name or path).
        scenario_ref: Base scenario as loadable here (name or absolute path).
        replications: Replications of every design point.
        seed: Master seed.
        design: ``grid``, ``lhs``, ``sobol`` or ``morris``.
        samples: Sample size of sampled designs.
        second_order: Sobol: also second-order indices.
        morris_levels: Morris: grid levels.
        base: Whether the base point (point 0) is run.
        fixed: ``[set]`` values.
        factors: What the design varies, levers first.
        derived: ``[derive]`` entries.
        outcomes: What is kept.
        paired: Whether every point shares the replication seeds (``design.seeds``).
        ensemble: The ensemble as written (``None``: the scenario's own values).
        ensemble_ref: The ensemble as loadable here (name or absolute path).
    """

    name: str
    source: str
    text: str
    data: dict[str, Any]
    description: str
    scenario: str
    scenario_ref: str
    replications: int
    seed: int
    design: str
    samples: int | None
    second_order: bool
    morris_levels: int
    base: bool
    fixed: dict[str, Any]
    factors: tuple[Factor, ...]
    derived: tuple[Derived, ...]
    outcomes: OutcomeSpec
    paired: bool = True
    ensemble: str | None = None
    ensemble_ref: str | None = None

    @property
    def digest(self) -> str:
        """SHA-256 of the parsed spec (comments and layout do not count)."""
        canon = json.dumps(self.data, sort_keys=True, default=str)
        return hashlib.sha256(canon.encode()).hexdigest()

    @cached_property
    def seeds(self) -> list[int]:
        """Seed of each replication, shared by every design point."""
        return replication_seeds(self.seed, self.replications)

    def seed_of(self, point: int, replication: int) -> int:
        """Seed of one run: the replication's, or with independent seeds its own.

        Args:
            point: Design point.
            replication: Replication index.

        Returns:
            With paired seeds, ``seeds[replication]``; otherwise the seed of child
            ``point`` of replication ``replication``'s SeedSequence (``spawn_key``
            ``(replication, point)``), which no other run or the sampler uses.
        """
        if self.paired:
            return self.seeds[replication]
        seq = np.random.SeedSequence(self.seed, spawn_key=(replication, point))
        return int(seq.generate_state(1, dtype=np.uint32)[0])

    def with_replications(self, replications: int) -> SweepSpec:
        """The same spec with another number of replications (``sweep --replications``).

        The spec's text is dropped, so the results folder's ``spec.toml`` is written
        from the values actually run; its hash differs from the file's, so a folder
        holds one number of replications.

        Raises:
            SweepError: ``replications`` is not an integer >= 1.
        """
        check_int("replications", replications)
        if replications == self.replications:
            return self
        data = {**self.data, "replications": replications}
        changed = dataclasses.replace(
            self, replications=replications, data=data, text=""
        )
        changed.__dict__.pop("seeds", None)  # a cached list of the old length
        return changed

    def with_ensemble(self, ensemble: str | Path) -> SweepSpec:
        """The same spec drawing from another ensemble (``sweep --ensemble``).

        As :meth:`with_replications`: the text is dropped and the hash changes, so a
        folder holds the runs of one ensemble.

        Raises:
            SweepError: The ensemble cannot be read or does not fit the scenario.
        """
        ref = str(ensemble)
        if ref.endswith(".parquet"):
            ref = str(Path(ref).resolve())
        if ref == self.ensemble_ref:
            return self
        _open(ref, self.scenario_ref, "--ensemble")
        data = {**self.data, "ensemble": ref}
        return dataclasses.replace(
            self, ensemble=ref, ensemble_ref=ref, data=data, text=""
        )

    @property
    def sampler_seed(self) -> int:
        """Seed of the design's sampler (a child of the master SeedSequence)."""
        seq = np.random.SeedSequence(self.seed, spawn_key=(SAMPLER_CHILD,))
        return int(seq.generate_state(1, dtype=np.uint32)[0])


def shipped_specs() -> dict[str, Path]:
    """Return the sweep specs shipped with berdaya, by name."""
    folder = resources.files("berdaya.experiments") / "specs"
    if not folder.is_dir():
        return {}
    return {
        Path(str(p)).stem: Path(str(p))
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".toml")
    }


def load_spec(spec: str | Path | SweepSpec | dict[str, Any]) -> SweepSpec:
    """Read and check a sweep spec: a shipped spec name, a TOML path or a spec dict.

    Args:
        spec: Shipped spec name (see :func:`shipped_specs`), path, spec dict (as
            :func:`parse_spec` takes it) or a :class:`SweepSpec` (returned as it is).

    Returns:
        The validated :class:`SweepSpec`.

    Raises:
        SweepError: One line naming the file, the entry and what is wrong.
    """
    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, dict):
        return parse_spec(spec)
    ships = shipped_specs()
    text = str(spec)
    path = Path(text)
    if not path.exists() and text in ships:
        path = ships[text]
    try:
        data, raw = read_toml(path, "sweep spec")
    except FileNotFoundError:
        names = ", ".join(ships) or "none"
        raise SweepError(
            f"spec {shown(text)} is neither a file nor a shipped spec ({names})"
        ) from None
    except ScenarioError as err:
        raise SweepError(str(err)) from None
    return parse_spec(data, source=str(path), text=raw, base_dir=path.parent)


def _factor(
    name: str,
    value: Any,
    *,
    role: str,
    table: str,
    src: str,
    info: dict[str, ParamInfo],
) -> Factor:
    where = f"{src}: {table}.{name}"
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return _bundle(name, value, role=role, table=table, src=src, info=info)
    if name not in info:
        raise SweepError(
            f"{src}: {table}: unknown parameter '{name}'{_suggest(name, list(info))}; "
            "`berdaya params` lists them (a list of tables sets several at once)"
        )
    p = info[name]
    if p.kind not in ROLES[table]:
        other = next(t for t, kinds in ROLES.items() if p.kind in kinds)
        raise SweepError(
            f"{where}: is {'a' if p.kind != 'uncertainty' else 'an'} {p.kind} in the "
            f"schema; list it under [{other}]"
        )
    if isinstance(value, list):
        if not value:
            raise SweepError(f"{where}: the list of values is empty")
        values = tuple(check_value(p, v, where) for v in value)
        if len(set(values)) < len(values):
            raise SweepError(f"{where}: a value is listed twice ({list(value)})")
        return Factor(name, role, (name,), p.type, values=values)
    if isinstance(value, dict):
        return _range_factor(
            p, value, role=role, where=where, levels_at=f"{table}.{name}", src=src
        )
    raise SweepError(
        f"{where}: give a list of values or a range {{ low = ..., high = ... }} "
        f"(got {value!r})"
    )


def _range_factor(
    p: ParamInfo,
    value: dict[str, Any],
    *,
    role: str,
    where: str,
    levels_at: str,
    src: str,
) -> Factor:
    """A range ``{ low, high, levels }`` of a number parameter, inside its bounds."""
    name = p.name
    if p.type not in ("int", "float"):
        raise SweepError(
            f"{where}: a {p.type} parameter takes a list of values "
            f"({p.allowed}), not a range"
        )
    bad = [k for k in value if k not in RANGE_KEYS]
    if bad or "low" not in value or "high" not in value:
        raise SweepError(
            f"{where}: a range is {{ low = ..., high = ... }} with optional levels"
            + (f" (unknown key '{bad[0]}')" if bad else "")
        )
    low, high = value["low"], value["high"]
    for v in (low, high):
        ok = is_int(v) if p.type == "int" else _is_number(v) and math.isfinite(v)
        if not ok:
            raise SweepError(f"{where}: range ends must be {p.allowed} (got {v!r})")
    if not low < high:
        raise SweepError(
            f"{where}: low must be below high (got [{low}, {high}]); "
            "a single value belongs in [set]"
        )
    if (p.ge is not None and low < p.ge) or (p.le is not None and high > p.le):
        raise SweepError(
            f"{where}: range [{_num(low)}, {_num(high)}] is outside the schema's "
            f"{p.allowed.removeprefix('a number in ').removeprefix('an integer in ')}"
        )
    levels = value.get("levels")
    if levels is not None:
        check_int(f"{src}: {levels_at}.levels", levels, 2)
        levels = int(levels)
    conv = int if p.type == "int" else float
    return Factor(
        name, role, (name,), p.type, low=conv(low), high=conv(high), levels=levels
    )


def _bundle(
    name: str,
    value: list[dict[str, Any]],
    *,
    role: str,
    table: str,
    src: str,
    info: dict[str, ParamInfo],
) -> Factor:
    where = f"{src}: {table}.{name}"
    if name in (*ID_COLUMNS, MEMBER, "month", *outcome_names()):
        raise SweepError(
            f"{where}: '{name}' names a column of the results already; "
            "call the combinations something else"
        )
    if name in info:
        raise SweepError(
            f"{where}: a list of tables sets several parameters together; name it "
            f"after what it varies (not the parameter '{name}')"
        )
    keys = [k for k in value[0] if k != "label"]
    labels, levels = [], []
    for i, level in enumerate(value):
        these = [k for k in level if k != "label"]
        if sorted(these) != sorted(keys) or not keys:
            raise SweepError(
                f"{where}: every combination must set the same parameters "
                f"(combination {i + 1} sets {', '.join(these) or 'none'})"
            )
        vals = {}
        for k in keys:
            if k not in info:
                raise SweepError(
                    f"{where}: unknown parameter '{k}'{_suggest(k, list(info))}"
                )
            if info[k].kind not in ROLES[table]:
                raise SweepError(
                    f"{where}: '{k}' is a {info[k].kind} in the schema, not for [{table}]"
                )
            vals[k] = check_value(info[k], level[k], f"{where}[{i + 1}].{k}")
        label = level.get("label", "/".join(_num(vals[k]) for k in keys))
        if not isinstance(label, str) or not label:
            raise SweepError(f"{where}[{i + 1}]: label must be a non-empty string")
        labels.append(label)
        levels.append(vals)
    if len(set(labels)) < len(labels):
        raise SweepError(f"{where}: two combinations have the same label")
    return Factor(
        name,
        role,
        tuple(keys),
        "bundle",
        values=tuple(levels),
        labels=tuple(labels),
    )


class _Table(BaseModel):
    """A table of a spec: known keys only, values of the stated types (no coercion)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DesignTable(_Table):
    """``design`` (a kind, or a ``[design]`` table): how the points are laid out."""

    kind: Literal["grid", "lhs", "sobol", "morris"] = "grid"
    samples: int | None = Field(None, ge=1)
    second_order: bool = False
    levels: int = Field(4, ge=2)
    base: bool = True
    seeds: Literal["paired", "independent"] = "paired"

    @model_validator(mode="after")
    def _fits_its_kind(self) -> DesignTable:
        kind, samples = self.kind, self.samples
        if kind == "grid" and samples is not None:
            raise ValueError("a grid design takes no samples (the grid is all)")
        if kind != "grid" and samples is None:
            raise ValueError(f"a {kind} design needs design.samples")
        if kind == "sobol" and samples is not None and samples < 2:
            raise ValueError(f"design.samples must be an integer >= 2 (got {samples})")
        if kind == "sobol" and samples is not None and samples & (samples - 1):
            raise ValueError(
                f"design.samples of a sobol design must be a power of 2 (got "
                f"{samples}; Saltelli's scheme needs it for balance)"
            )
        for key, kinds in (("second_order", ("sobol",)), ("levels", ("morris",))):
            if key in self.model_fields_set and kind not in kinds:
                raise ValueError(f"design.{key} is for {' or '.join(kinds)} designs")
        if self.seeds == "independent" and self.base:
            raise ValueError(
                'design.seeds = "independent" leaves no paired baseline; set '
                "design.base = false"
            )
        return self


class DeriveEntry(_Table):
    """``[derive]``: a parameter computed as the remainder of others."""

    remainder_of: list[str] = Field(min_length=1)
    total: float = 1.0


class OutcomesTable(_Table):
    """``[outcomes]``: which outcomes are kept, for which months."""

    keep: Annotated[list[str], Field(min_length=1)] | Literal["all"] | None = None
    every: int | None = Field(None, ge=1)
    final: bool = True

    @model_validator(mode="after")
    def _keeps_a_month(self) -> OutcomesTable:
        if self.every is None and not self.final:
            raise ValueError("outcomes keep no month (set every, or final = true)")
        return self


class SpecFile(_Table):
    """A sweep spec as written: its tables and values, checked for shape and type.

    What depends on the scenario schema (the parameters of ``[set]``, ``[levers]``,
    ``[uncertainties]`` and ``[derive]``) and on the model (the outcomes) is checked
    by :func:`parse_spec` after this.
    """

    description: str = ""
    scenario: str = "kedungkandang-2008"
    replications: int = Field(1, ge=1)
    seed: int = Field(0, ge=0)
    design: DesignTable = DesignTable()
    set: dict[str, Any] = {}
    levers: dict[str, Any] = {}
    uncertainties: dict[str, Any] = {}
    derive: dict[str, DeriveEntry] = {}
    outcomes: OutcomesTable = OutcomesTable()
    ensemble: str | None = None

    @field_validator("design", mode="before")
    @classmethod
    def _kind_alone(cls, value: Any) -> Any:
        return {"kind": value} if isinstance(value, str) else value


def _allowed(annotation: Any, info: FieldInfo | None = None) -> str:
    """What a field takes, in words, from its type and constraints."""
    low = next(
        (m.ge for m in (info.metadata if info else ()) if hasattr(m, "ge")), None
    )
    origin = get_origin(annotation)
    words = {bool: "true or false", str: "a string", float: "a number"}
    if origin is Annotated:
        text = _allowed(get_args(annotation)[0])
    elif origin in (UnionType, Union):
        parts = [a for a in get_args(annotation) if a is not type(None)]
        text = " or ".join(_allowed(a, info) for a in parts)
    elif origin is Literal:
        text = "one of " + ", ".join(str(a) for a in get_args(annotation))
    elif origin is list:
        text = "a non-empty list of strings"
    elif origin is dict or (
        isinstance(annotation, type) and issubclass(annotation, _Table)
    ):
        text = "a table"
    elif annotation is int:
        text = "an integer" + (f" >= {low}" if low is not None else "")
    else:
        text = words.get(annotation, str(annotation))
    return text


def _inner(annotation: Any) -> Any:
    """The table type inside an optional or union annotation (else the annotation)."""
    for a in (annotation, *get_args(annotation)):
        if get_origin(a) is dict or (isinstance(a, type) and issubclass(a, BaseModel)):
            return a
    return annotation


def _field_at(loc: tuple[Any, ...]) -> tuple[Any, FieldInfo | None]:
    """The annotation and field at a location in :class:`SpecFile`."""
    node: Any = SpecFile
    annotation: Any = SpecFile
    info = None
    for part in loc:
        if get_origin(node) is dict:  # a key of a table of entries ([derive])
            node = annotation = get_args(node)[1]
            info = None
        elif isinstance(node, type) and issubclass(node, BaseModel):
            if part not in node.model_fields:
                break
            info = node.model_fields[part]
            annotation = info.annotation
            node = _inner(annotation)
        else:
            break
    return annotation, info


def spec_error(err: ValidationError, src: str, data: dict[str, Any]) -> SweepError:
    """The one line for a spec that does not fit :class:`SpecFile`: file, field, allowed.

    Args:
        err: Pydantic's errors (the first is reported).
        src: The spec's file (or name).
        data: The spec as read.

    Returns:
        The :class:`SweepError` to raise.
    """
    e = err.errors(include_url=False)[0]
    # drop pydantic's union tags and list indexes: the field is what the user wrote
    loc = tuple(p for p in e["loc"] if isinstance(p, str) and "[" not in p)
    if e["type"] == "value_error":
        return SweepError(f"{src}: {e['ctx']['error']}")
    annotation, info = _field_at(loc)
    if e["type"] == "extra_forbidden":
        *parent, key = loc
        table = _inner(_field_at(tuple(parent))[0]) if parent else SpecFile
        fields = list(table.model_fields)
        where = f"{'.'.join(parent)}: " if parent else ""
        return SweepError(
            f"{src}: {where}unknown key '{key}'{_suggest(key, fields)}; "
            f"{'it' if parent else 'a spec'} has {', '.join(fields)}"
        )
    if loc == ("design", "kind") and isinstance(data.get("design"), str):
        loc = ("design",)  # written as design = "..."
    field, got = ".".join(loc), e["input"]
    allowed = _allowed(annotation, info)
    if e["type"] == "missing":
        return SweepError(f"{src}: {field} is missing: give {allowed}")
    if e["type"] == "literal_error":
        choices = [str(a) for a in get_args(annotation)]
        return SweepError(
            f"{src}: unknown {field} {got!r}{_suggest(str(got), choices)}; "
            f"{field} must be {allowed}"
        )
    return SweepError(f"{src}: {field} must be {allowed} (got {got!r})")


def _check_outcomes(table: OutcomesTable, src: str) -> OutcomeSpec:
    """The outcomes kept, each a record of the model."""
    names = list(outcome_names())
    keep = table.keep
    if keep is None:
        keep = [o for o in HEADLINE_OUTCOMES if o in names]
    elif keep == "all":
        keep = names
    for o in keep:
        if o not in names:
            raise SweepError(
                f"{src}: outcomes.keep: unknown outcome {o!r}{_suggest(str(o), names)}"
            )
    return OutcomeSpec(tuple(dict.fromkeys(keep)), table.every, table.final)


def parse_spec(
    data: dict[str, Any],
    *,
    source: str = "spec",
    text: str | None = None,
    base_dir: Path | None = None,
) -> SweepSpec:
    """Check a parsed spec (a dict as TOML gives it) and build the :class:`SweepSpec`.

    Args:
        data: The spec's tables and values.
        source: Name used in messages.
        text: The original TOML text (default: none kept).
        base_dir: Folder relative scenario paths are taken from (default: cwd).

    Returns:
        The validated spec.

    Raises:
        SweepError: One line naming the entry and what is wrong.
    """
    src = source
    try:
        table = SpecFile.model_validate(plain(data))
    except ValidationError as err:
        raise spec_error(err, src, data) from None
    info = schema()
    scenario = table.scenario
    ref = scenario
    if scenario.endswith(".toml") and not Path(scenario).is_absolute():
        ref = str(((base_dir or Path.cwd()) / scenario).resolve())
    try:
        load_scenario(ref)
    except ScenarioError as err:
        raise SweepError(f"{src}: scenario: {err}") from None
    ensemble = table.ensemble
    if ensemble is not None:
        ensemble = _ensemble_ref(ensemble, base_dir)
        _open(ensemble, ref, f"{src}: ensemble")
    design = table.design
    fixed: dict[str, Any] = {}
    for name, value in table.set.items():
        if name not in info:
            raise SweepError(
                f"{src}: set: unknown parameter '{name}'{_suggest(name, list(info))}"
            )
        fixed[name] = check_value(info[name], value, f"{src}: set.{name}")
    owner: dict[str, str] = dict.fromkeys(fixed, "set")
    factors = _factors(table, owner, src, info)
    derived = _derived(table, owner, src, info)
    return SweepSpec(
        name=Path(src).stem if src.endswith(".toml") else src,
        source=src,
        text=text if text is not None else "",
        data=data,
        description=table.description,
        scenario=scenario,
        scenario_ref=ref,
        replications=table.replications,
        seed=table.seed,
        design=design.kind,
        samples=design.samples,
        second_order=design.second_order,
        morris_levels=design.levels,
        base=design.base,
        fixed=fixed,
        factors=factors,
        derived=derived,
        outcomes=_check_outcomes(table.outcomes, src),
        paired=design.seeds == "paired",
        ensemble=table.ensemble,
        ensemble_ref=ensemble,
    )


def _ensemble_ref(ensemble: str, base_dir: Path | None) -> str:
    """A spec's ensemble as loadable here: a relative path is the spec's folder's."""
    if ensemble.endswith(".parquet") and not Path(ensemble).is_absolute():
        return str(((base_dir or Path.cwd()) / ensemble).resolve())
    return ensemble


def _open(ensemble: str, scenario: str, where: str) -> Ensemble:
    """Open an ensemble for a scenario, or refuse it with one line naming ``where``."""
    try:
        opened = open_ensemble(ensemble)
        opened.supplied(scenario)
    except EnsembleError as err:
        raise SweepError(f"{where}: {err}") from None
    return opened


def _factors(
    table: SpecFile, owner: dict[str, str], src: str, info: dict[str, ParamInfo]
) -> tuple[Factor, ...]:
    """The levers and uncertainties, each once, fitting the design's kind."""
    factors: list[Factor] = []
    for name_of, role in (("levers", "lever"), ("uncertainties", "uncertainty")):
        for name, value in getattr(table, name_of).items():
            f = _factor(name, value, role=role, table=name_of, src=src, info=info)
            for p in f.params:
                if p in owner:
                    raise SweepError(
                        f"{src}: {name_of}.{name}: '{p}' is already set in [{owner[p]}]"
                    )
                owner[p] = name_of
            factors.append(f)
    kind = table.design.kind
    if not factors:
        raise SweepError(
            f"{src}: the spec varies nothing: a {kind} design needs [levers] or "
            "[uncertainties] (one scenario over seeds: berdaya compare or validate)"
        )
    if kind == "grid":
        for f in factors:
            if not f.discrete and f.levels is None:
                where = "levers" if f.role == "lever" else "uncertainties"
                raise SweepError(
                    f"{src}: {where}.{f.name}: a grid needs a list of values or a "
                    "range with levels = n"
                )
    elif any(f.levels is not None for f in factors):
        raise SweepError(f"{src}: range levels are for grid designs only")
    return tuple(factors)


def _derived(
    table: SpecFile, owner: dict[str, str], src: str, info: dict[str, ParamInfo]
) -> tuple[Derived, ...]:
    """The ``[derive]`` entries: number parameters, not set elsewhere."""
    derived = []
    for name, entry in table.derive.items():
        where = f"{src}: derive.{name}"
        if name not in info or info[name].type != "float":
            raise SweepError(
                f"{where}: must be a number parameter{_suggest(name, list(info))}"
            )
        if name in owner:
            raise SweepError(f"{where}: is already set in [{owner[name]}]")
        parts = entry.remainder_of
        if any(p not in info or info[p].type not in ("int", "float") for p in parts):
            raise SweepError(f"{where}: remainder_of must list number parameters")
        owner[name] = "derive"
        derived.append(Derived(name, tuple(parts), entry.total))
    return tuple(derived)


@dataclass
class Design:
    """The design points of a spec, each a validated whole scenario.

    Attributes:
        spec: The spec.
        scenario: Name of the base scenario (the ``scenario`` column of the results).
        points: A row per point: ``point``, the bundle label columns and the value of
            every parameter the spec sets (``[set]``, factors, derived). Point 0 is the
            base (when the spec runs it); points 1.. are the design in sampler order.
        unit: Sampled designs: the unit-cube coordinates of points 1.. (rows) for each
            factor (columns), what SALib analyses; ``None`` for grids.
        overrides: Per point (same order as ``points``), the values that differ from
            the base scenario: what ``berdaya run --set`` needs to replay a run.
        params: Per point, every parameter value (validated).
        members: With an ensemble, the member of each replication (shared by every
            point); ``None`` without.
        drawn: The calibrated parameters the members set (those the spec and the
            scenario file leave to them).
        ensemble: With an ensemble, what was drawn from which
            (:meth:`~berdaya.experiments.ensemble.Ensemble.summary`, with ``text`` and
            ``drawn``).
    """

    spec: SweepSpec
    scenario: str
    points: pd.DataFrame
    unit: np.ndarray | None
    overrides: list[dict[str, Any]] = field(repr=False)
    params: list[dict[str, Any]] = field(repr=False)
    members: list[Member] | None = field(default=None, repr=False)
    drawn: tuple[str, ...] = ()
    ensemble: dict[str, Any] | None = field(default=None, repr=False)

    def member_values(self, replication: int) -> tuple[int, dict[str, float]] | None:
        """A replication's member number and the values it sets (``None``: none)."""
        if self.members is None:
            return None
        member = self.members[replication]
        return member.index, {k: member.values[k] for k in self.drawn}

    @property
    def columns(self) -> list[str]:
        """Label and parameter columns carried by every results row."""
        return [c for c in self.points.columns if c != "point"]

    @property
    def runs(self) -> int:
        """Number of runs: points x replications."""
        return len(self.points) * self.spec.replications

    @property
    def digest(self) -> str:
        """SHA-256 of every run's full parameters and seed."""
        runs: dict[str, Any] = {"params": self.params, "seeds": self.spec.seeds}
        if not self.spec.paired:
            runs["independent"] = True
        if self.members is not None:  # a changed ensemble file is another sweep
            runs["members"] = [
                self.member_values(r) for r in range(self.spec.replications)
            ]
        canon = json.dumps(runs, sort_keys=True)
        return hashlib.sha256(canon.encode()).hexdigest()

    def run_id(self, point: int, replication: int) -> str:
        """The id of a run, e.g. ``p0007-r003`` (sorting by id sorts by point)."""
        last = int(self.points["point"].iloc[-1]) if len(self.points) else 0
        pw = max(4, len(str(last)))
        rw = max(3, len(str(self.spec.replications - 1)))
        return f"p{point:0{pw}d}-r{replication:0{rw}d}"


def _unit_sample(spec: SweepSpec) -> np.ndarray:
    seed = spec.sampler_seed
    assert spec.samples is not None
    if spec.design == "lhs":
        return sensitivity.latin_hypercube(len(spec.factors), spec.samples, seed=seed)
    unit = sensitivity.problem([f.name for f in spec.factors])
    if spec.design == "sobol":
        return sensitivity.sobol_design(
            unit, spec.samples, second_order=spec.second_order, seed=seed
        )
    return sensitivity.morris_design(
        unit, spec.samples, levels=spec.morris_levels, seed=seed
    )


def _combos(spec: SweepSpec) -> tuple[list[dict[str, Any]], np.ndarray | None]:
    """The values the factors set at each point, and the unit sample (not a grid's)."""
    if spec.design == "grid":
        grid = itertools.product(*(f.grid() for f in spec.factors))
        return [
            {k: v for level in combo for k, v in level.items()} for combo in grid
        ], None
    unit = _unit_sample(spec)
    combos = [
        {
            k: v
            for f, u in zip(spec.factors, row, strict=True)
            for k, v in f.at(u).items()
        }
        for row in unit
    ]
    return combos, unit


def build_design(spec: SweepSpec) -> Design:
    """Lay out a spec's design points and validate each as a whole scenario.

    Args:
        spec: The spec.

    Returns:
        The :class:`Design`.

    Raises:
        SweepError: A point is not a valid scenario (one line, with the point's values).
    """
    base = load_scenario(spec.scenario_ref)
    base_values = base.params.model_dump()
    src = spec.source
    try:
        validate({**base_values, **spec.fixed}, f"{src}: [set]", strict=False)
    except ScenarioError as err:
        raise SweepError(str(err)) from None
    combos, unit = _combos(spec)
    labels = [f.name for f in spec.factors if f.type == "bundle"]
    varied = list(
        dict.fromkeys(
            [*spec.fixed, *(p for f in spec.factors for p in f.params)]
            + [d.name for d in spec.derived]
        )
    )
    rows, overrides, params = [], [], []
    numbered = [(0, None)] if spec.base else []
    numbered += [(i + 1, c) for i, c in enumerate(combos)]
    for point, combo in numbered:
        values = dict(spec.fixed)
        if combo is not None:
            values.update({k: v for k, v in combo.items() if k not in labels})
        full = {**base_values, **values}
        for d in spec.derived:
            values[d.name] = full[d.name] = d.value(full)
        where = f"{src}: design point {point}" + (
            f" ({', '.join(f'{k}={v}' for k, v in values.items() if k not in spec.fixed)})"
            if combo is not None
            else " (base)"
        )
        try:
            checked = validate(full, where, strict=False).model_dump()
        except ScenarioError as err:
            raise SweepError(str(err)) from None
        row: dict[str, Any] = {"point": point}
        for name in labels:
            row[name] = combo[name] if combo is not None else "base"
        for name in varied:
            row[name] = checked[name]
        rows.append(row)
        overrides.append(values)
        params.append(checked)
    points = pd.DataFrame(rows, columns=["point", *labels, *varied])
    design = Design(spec, base.name, points, unit, overrides, params)
    if spec.ensemble_ref is not None:
        _draw_members(design, varied)
    return design


def _draw_members(design: Design, varied: list[str]) -> None:
    """Draw a design's members, one per replication, and what they set."""
    spec = design.spec
    assert spec.ensemble_ref is not None
    opened = _open(spec.ensemble_ref, spec.scenario_ref, f"{spec.source}: ensemble")
    drawn, _ = opened.supplied(spec.scenario_ref, dict.fromkeys(varied))
    design.members = opened.members(spec.seed, spec.replications)
    design.drawn = drawn
    design.ensemble = {
        **opened.summary(design.members),
        "text": opened.describe(spec.replications),
        "drawn": list(drawn),
    }

"""The validation patterns over the plausible parameter space: a Latin hypercube.

``berdaya validate`` judges the observed case at its own values, and the threshold x
degree grid of :mod:`~berdaya.experiments.robustness` moves two parameters. This module
asks the question of pattern-oriented modelling over every uncertainty at once: in what
share of the plausible space (every ``uncertainty`` of the scenario schema over its
``plausible`` range, :func:`~berdaya.scenarios.salib_problem`) do the thesis' patterns
hold? A Latin hypercube (``scipy.stats.qmc.LatinHypercube``, seeded, through
:func:`~berdaya.experiments.sensitivity.latin_hypercube`) draws the points;
each point runs the observed scenario and the design scenario with the same few seeds
(the point's values applied to both, as ``berdaya validate --set`` applies them), and
every check of ``berdaya validate`` (the criteria of
:data:`~berdaya.experiments.patterns.PATTERNS` and the contrasts of
:data:`~berdaya.experiments.patterns.CONTRASTS`) is judged on the point's seed mean: it
holds where the mean lies on the criterion's side of its threshold. (A point has too few
seeds for ``validate``'s 95% interval; the per-seed frequency, the share of single runs on
the criterion's side, is reported beside it.)

The same is done for the comparisons that give the shares their meaning:

* ``alternative``: the same points with an alternative model of
  :data:`~berdaya.experiments.patterns.ALTERNATIVES` on top (its values replace the
  point's), where a check with power must hold in a clearly smaller share;
* ``calibrated-prior``: a hypercube over the parameters the ensemble calibrates only,
  every other parameter at the scenario's values (the prior the ensemble was fitted
  from, the like-for-like reference of the posterior);
* ``posterior``: parameter sets drawn from the calibrated ensemble
  (:func:`~berdaya.experiments.ensemble.draw_members`), every other parameter at the
  scenario's values.

Shares come with a Clopper-Pearson 95% interval (binomial: the Monte-Carlo error of the
points; a Latin hypercube's error is no larger), and which parameters decide a check is
read from the Spearman rank correlation between each varied parameter and the check's
margin (the seed mean's signed distance from the threshold, positive on the criterion's
side; for a whole pattern, whether it holds).

Runs go through the engine's runner (:func:`~berdaya.experiments.engine.run_stored`) a
point at a time; with a cache folder every finished point is written at once to its
design's store there (``CACHE/<design>/``, :class:`~berdaya.experiments.store.TaskStore`),
and a rerun of the same command reads the points found there. A point is filed under the
engine's task key (:func:`~berdaya.experiments.engine.task_key`), a hash of its
scenarios, values and seeds and of the model's code: after a change to the model every
point runs again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.stats import binomtest, spearmanr

from berdaya.experiments.engine import run_stored
from berdaya.experiments.engine import task_key as engine_key
from berdaya.experiments.ensemble import draw_members, load_ensemble, parameter_names
from berdaya.experiments.files import plain
from berdaya.experiments.patterns import (
    ALTERNATIVES,
    CONTRASTS,
    DESIGN,
    OBSERVED,
    PATTERNS,
)
from berdaya.experiments.run import run
from berdaya.experiments.sensitivity import latin_hypercube
from berdaya.experiments.store import TaskStore
from berdaya.scenarios import load_scenario, salib_problem, sample_values

#: The shares shown in the figure and headline, in order.
HEADLINE = ("P1", "P2", "P3", "P4", "P1-P4", "all")
#: The four patterns, each all its checks.
PATTERN_KEYS = ("P1", "P2", "P3", "P4")
#: Smallest and largest share of points for which the deciding parameters are reported.
DECIDED = (0.02, 0.98)


@dataclass(frozen=True)
class Side:
    """One check of ``berdaya validate``, as judged at a point.

    Attributes:
        key: Its label (P1a, ..., C2).
        pattern: The pattern it belongs to, in words.
        statistic: What is measured, in words.
        op: ">=" or "<=": the side the statistic must be on.
        threshold: The threshold.
        measure: Per-run values from the observed arm's and the design arm's final-month
            records (a row per seed, paired).
    """

    key: str
    pattern: str
    statistic: str
    op: str
    threshold: float
    measure: Callable[[pd.DataFrame, pd.DataFrame], np.ndarray]

    def on_side(self, values: np.ndarray) -> np.ndarray:
        """Whether each value lies on the criterion's side of the threshold."""
        v = np.asarray(values, dtype=float)
        return v >= self.threshold if self.op == ">=" else v <= self.threshold

    def margin(self, values: np.ndarray) -> np.ndarray:
        """Signed distance from the threshold, positive on the criterion's side."""
        v = np.asarray(values, dtype=float)
        return v - self.threshold if self.op == ">=" else self.threshold - v


def _observed(c: Any) -> Callable[[pd.DataFrame, pd.DataFrame], np.ndarray]:
    return lambda a, b: c.measure(a)


def sides() -> dict[str, Side]:
    """Every check of ``berdaya validate``, in the order of ``ALTERNATIVES``."""
    found = {
        c.key: Side(c.key, c.pattern, c.statistic, c.op, c.threshold, _observed(c))
        for c in PATTERNS
    }
    for c in CONTRASTS:
        statistic = c.statistic.format(a="observed", b="design")
        found[c.key] = Side(c.key, c.pattern, statistic, c.op, c.threshold, c.measure)
    return {key: found[key] for key in ALTERNATIVES if key in found}


def groups() -> dict[str, tuple[str, ...]]:
    """The checks each pattern joins (P1..P4), all four patterns, and every check."""
    out: dict[str, list[str]] = {}
    for side in sides().values():
        head = side.pattern.split()[0]
        if head[0] == "P" and head[1:].isdigit():
            out.setdefault(head, []).append(side.key)
    joined = {name: tuple(keys) for name, keys in sorted(out.items())}
    joined["P1-P4"] = tuple(k for keys in joined.values() for k in keys)
    joined["all"] = tuple(sides())
    return joined


@dataclass
class Design:
    """The points of one arm of the analysis.

    Attributes:
        label: Short name (``space``, ``alt-P4``, ``calibrated-prior``,
            ``posterior``), also the name of its cache file.
        title: What it is, in words.
        points: A row per point, a column per parameter it sets.
        fixed: Values every point sets on top (an alternative's).
        varied: The parameters the points vary.
    """

    label: str
    title: str
    points: pd.DataFrame
    fixed: dict[str, Any] = field(default_factory=dict)
    varied: list[str] = field(default_factory=list)

    def overrides(self, i: int) -> dict[str, Any]:
        """Every value point ``i`` sets (the fixed ones over the point's)."""
        # column by column: a row of mixed columns would turn integers into floats
        values = {k: plain(self.points[k].iat[i]) for k in self.points.columns}
        return {**values, **self.fixed}


def lhs_points(
    points: int, seed: int, names: Sequence[str] | None = None
) -> pd.DataFrame:
    """A Latin hypercube over the schema's plausible ranges.

    Args:
        points: How many points.
        seed: Seed of the hypercube's generator.
        names: Parameters to vary (default: every uncertainty with a plausible range).

    Returns:
        A row per point, a column per parameter, values as
        :func:`~berdaya.scenarios.sample_values` makes them (integers rounded).
    """
    problem = salib_problem(names)
    bounds = np.asarray(problem["bounds"], dtype=float)
    unit = latin_hypercube(problem["num_vars"], points, seed=seed)
    scaled = bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0])
    rows = [sample_values(problem, row) for row in scaled]
    return pd.DataFrame(rows, columns=problem["names"])


def prior_design(points: int, seed: int) -> Design:
    """The Latin hypercube over every uncertainty (the plausible space)."""
    frame = lhs_points(points, seed)
    return Design("space", "plausible space", frame, varied=list(frame.columns))


def calibrated_prior_design(points: int, seed: int, ensemble: str | Path) -> Design:
    """A Latin hypercube over the calibrated parameters only, the rest as the scenario's.

    The prior the ensemble was fitted from (the same plausible ranges), so that the
    posterior's shares have a like-for-like reference.

    Args:
        points: How many points.
        seed: Seed of the hypercube.
        ensemble: A shipped ensemble's name or a ``.parquet`` path.
    """
    names = parameter_names(load_ensemble(ensemble))
    frame = lhs_points(points, seed, names)
    return Design(
        "calibrated-prior",
        "calibrated parameters' prior",
        frame,
        varied=list(frame.columns),
    )


def alternative_design(prior: Design, key: str) -> Design:
    """The prior's points with the alternative model of a check on top.

    Args:
        prior: From :func:`prior_design`.
        key: A key of :data:`~berdaya.experiments.patterns.ALTERNATIVES`.
    """
    alt = ALTERNATIVES[key]
    varied = [k for k in prior.varied if k not in alt.overrides]
    return Design(
        f"alt-{key}",
        f"alternative of {key}: {alt.label}",
        prior.points,
        dict(alt.overrides),
        varied,
    )


def posterior_design(points: int, seed: int, ensemble: str | Path) -> Design:
    """Parameter sets drawn from a calibrated ensemble by weight.

    Args:
        points: How many draws.
        seed: Seed of the draws' generator.
        ensemble: A shipped ensemble's name or a ``.parquet`` path.
    """
    frame = load_ensemble(ensemble)
    drawn = draw_members(frame, points, np.random.default_rng(seed))
    table = pd.DataFrame(drawn)
    return Design("posterior", "posterior ensemble", table, varied=list(table.columns))


class PointTask(NamedTuple):
    """One point: the observed and the design scenario with each seed."""

    index: int
    observed: str
    design: str
    overrides: dict[str, Any]
    seeds: tuple[int, ...]


def run_point(task: PointTask) -> pd.DataFrame:
    """Run one point with every seed, both scenarios (top-level, for workers).

    Args:
        task: What to run.

    Returns:
        A row per seed: the point's index, replication, seed, every check's per-run
        value and ``seconds``, the time the seed's two runs took.
    """
    observed, design, seconds = [], [], []
    for s in task.seeds:
        started = time.perf_counter()
        observed.append(run(task.observed, s, overrides=task.overrides).final)
        design.append(run(task.design, s, overrides=task.overrides).final)
        seconds.append(time.perf_counter() - started)
    a = pd.DataFrame(observed).reset_index(drop=True)
    b = pd.DataFrame(design).reset_index(drop=True)
    values = {k: side.measure(a, b) for k, side in sides().items()}
    return pd.DataFrame(
        [
            {
                "point": task.index,
                "replication": r,
                "seed": s,
                **{k: float(v[r]) for k, v in values.items()},
                "seconds": round(seconds[r], 4),
            }
            for r, s in enumerate(task.seeds)
        ]
    )


def task_key(task: PointTask) -> str:
    """What a point's cached result is filed under: a hash of what it ran, and of the code."""
    return engine_key(
        study="hypercube",
        observed=task.observed,
        design=task.design,
        overrides=task.overrides,
        seeds=list(task.seeds),
    )


def run_design(
    design: Design,
    seeds: Sequence[int],
    *,
    workers: int = 1,
    cache: Path | None = None,
    observed: str = OBSERVED,
    contrast: str = DESIGN,
    progress: bool = False,
) -> pd.DataFrame:
    """Run every point of a design with the same seeds, skipping cached points.

    Args:
        design: The points.
        seeds: Seeds of every point.
        workers: Local processes.
        cache: Folder of the cache (``None``: none); the design's store is the
            folder ``<label>`` in it.
        observed: The observed scenario.
        contrast: The design scenario of the contrasts.
        progress: Show progress on stderr.

    Returns:
        A row per run: point, replication, seed and every check's per-run value.
    """
    tasks = [
        PointTask(i, observed, contrast, design.overrides(i), tuple(seeds))
        for i in range(len(design.points))
    ]
    for task in tasks:  # refuse a bad scenario or value before any run
        load_scenario(observed, task.overrides)
        load_scenario(contrast, task.overrides)
    store = None if cache is None else TaskStore(cache / design.label, "--cache")
    per_point = 2 * len(seeds)
    parts = {
        task.index: table
        for task, table in run_stored(
            run_point,
            tasks,
            workers,
            key=task_key,
            store=store,
            kind="hypercube",
            progress=design.label if progress else None,
            runs=lambda _: per_point,
        )
    }
    out = pd.concat([parts[i] for i in sorted(parts)], ignore_index=True)
    out.attrs["cached_runs"] = (0 if store is None else store.reads) * per_point
    return out


def judge_points(runs: pd.DataFrame) -> pd.DataFrame:
    """Judge every check, pattern and the joint patterns at every point.

    Args:
        runs: From :func:`run_design` (a row per run, a column per check).

    Returns:
        A row per point with, for every check ``K``: ``mean.K`` (seed mean),
        ``margin.K`` (its signed distance from the threshold), ``holds.K`` (the mean on
        the criterion's side) and ``seeds.K`` (the share of its runs on the side); for
        every group ``G`` of :func:`groups`: ``holds.G`` (all its checks hold) and
        ``seeds.G`` (the share of runs with all its checks on their sides).
    """
    checks = sides()
    per_run = pd.DataFrame({"point": runs["point"].to_numpy()})
    for key, side in checks.items():
        per_run[key] = side.on_side(runs[key].to_numpy(dtype=float))
    for name, keys in groups().items():
        per_run[name] = per_run[list(keys)].all(axis=1)
    means = runs.groupby("point")[list(checks)].mean()
    freq = per_run.groupby("point").mean()
    table = pd.DataFrame(index=means.index)
    for key, side in checks.items():
        m = means[key].to_numpy()
        table[f"mean.{key}"] = m
        table[f"margin.{key}"] = side.margin(m)
        table[f"holds.{key}"] = side.on_side(m)
        table[f"seeds.{key}"] = freq[key].to_numpy(dtype=float)
    for name, keys in groups().items():
        table[f"holds.{name}"] = table[[f"holds.{k}" for k in keys]].all(axis=1)
        table[f"seeds.{name}"] = freq[name].to_numpy(dtype=float)
    return table.reset_index()


def binomial_interval(k: int, n: int) -> tuple[float, float]:
    """Clopper-Pearson 95% interval of a share ``k / n`` (NaNs for ``n`` 0)."""
    if n == 0:
        return math.nan, math.nan
    ci = binomtest(int(k), int(n)).proportion_ci(0.95, method="exact")
    return float(ci.low), float(ci.high)


def shares(table: pd.DataFrame) -> pd.DataFrame:
    """The share of points where each check, pattern and joint pattern holds.

    Args:
        table: From :func:`judge_points`.

    Returns:
        A row per check and group (the index): ``holds`` (points), ``n``, ``share``,
        ``low`` and ``high`` (its 95% interval) and ``seeds`` (the mean per-seed
        frequency).
    """
    rows = {}
    n = len(table)
    for key in (*sides(), *groups()):
        k = int(table[f"holds.{key}"].sum())
        low, high = binomial_interval(k, n)
        rows[key] = {
            "holds": k,
            "n": n,
            "share": k / n if n else math.nan,
            "low": low,
            "high": high,
            "seeds": float(table[f"seeds.{key}"].mean()),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def deciders(
    points: pd.DataFrame,
    table: pd.DataFrame,
    key: str,
    names: Iterable[str],
) -> pd.DataFrame:
    """Spearman correlation of each varied parameter with a check's margin.

    Args:
        points: The design's points (a row per point, a column per parameter).
        table: From :func:`judge_points`, in the same point order.
        key: A check (its margin is used) or a group (whether it holds).
        names: The parameters to correlate.

    Returns:
        A row per parameter, strongest first: ``rho``, ``p`` and the share of points
        where ``key`` holds in the parameter's lowest and highest third (``low_third``,
        ``high_third``); empty when the margin does not vary.
    """
    column = f"margin.{key}" if f"margin.{key}" in table else f"holds.{key}"
    y = table[column].to_numpy(dtype=float)
    holds = table[f"holds.{key}"].to_numpy(dtype=bool)
    rows = []
    for name in names:
        x = points[name].to_numpy(dtype=float)
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            continue
        rho, p = spearmanr(x, y)
        low, high = np.quantile(x, [1 / 3, 2 / 3])
        rows.append(
            {
                "parameter": name,
                "rho": float(rho),
                "p": float(p),
                "low_third": float(holds[x <= low].mean()),
                "high_third": float(holds[x >= high].mean()),
            }
        )
    frame = pd.DataFrame(
        rows, columns=["parameter", "rho", "p", "low_third", "high_third"]
    )
    order = frame["rho"].abs().sort_values(ascending=False).index
    return frame.loc[order].reset_index(drop=True)


@dataclass
class Result:
    """One design run and judged: its points, runs, per-point table and shares."""

    design: Design
    runs: pd.DataFrame
    table: pd.DataFrame
    shares: pd.DataFrame

    def deciders(self, key: str) -> pd.DataFrame:
        """:func:`deciders` of ``key`` over this design's varied parameters."""
        return deciders(self.design.points, self.table, key, self.design.varied)


def pivotal(result: Result, keys: Sequence[str] = PATTERN_KEYS) -> str | None:
    """The parameter that decides the patterns most: the largest sum of ``|rho|``.

    Args:
        result: A judged design.
        keys: The patterns (or checks) whose correlations are summed.

    Returns:
        The parameter's name (``None`` when nothing varies).
    """
    total: dict[str, float] = {}
    for key in keys:
        for _, row in result.deciders(key).iterrows():
            total[row["parameter"]] = total.get(row["parameter"], 0.0) + abs(row["rho"])
    return max(total, key=total.__getitem__) if total else None


def by_bins(
    result: Result, name: str, keys: Sequence[str], bins: int = 5
) -> pd.DataFrame:
    """The share of points where each key holds, in equal bins of a parameter's range.

    Args:
        result: A judged design.
        name: The parameter.
        keys: Checks or groups.
        bins: How many bins between the parameter's smallest and largest value.

    Returns:
        A row per bin: its ``centre``, ``n`` points, and a column per key (the share).
    """
    x = result.design.points[name].to_numpy(dtype=float)
    edges = np.linspace(x.min(), x.max(), bins + 1)
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        row: dict[str, float] = {
            "centre": float((edges[b] + edges[b + 1]) / 2),
            "n": int(inside.sum()),
        }
        for key in keys:
            held = result.table[f"holds.{key}"].to_numpy(dtype=bool)[inside]
            row[key] = float(held.mean()) if held.size else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def analyse(
    design: Design,
    seeds: Sequence[int],
    *,
    workers: int = 1,
    cache: Path | None = None,
    observed: str = OBSERVED,
    progress: bool = False,
) -> Result:
    """Run and judge one design (:func:`run_design`, :func:`judge_points`, :func:`shares`)."""
    runs = run_design(
        design,
        seeds,
        workers=workers,
        cache=cache,
        observed=observed,
        progress=progress,
    )
    table = judge_points(runs)
    return Result(design, runs, table, shares(table))


def designs(
    points: int,
    seed: int,
    *,
    alternatives: Sequence[str] = (),
    posterior: int = 0,
    ensemble: str | Path = OBSERVED,
) -> list[Design]:
    """The hypercube, its alternatives, the calibrated prior and posterior, in order.

    Args:
        points: Points of the hypercube.
        seed: Seed of the hypercubes and of the posterior draws.
        alternatives: Keys of :data:`~berdaya.experiments.patterns.ALTERNATIVES`.
        posterior: Points of the calibrated parameters' prior and draws from the
            ensemble (0: neither).
        ensemble: The ensemble's name or path.
    """
    prior = prior_design(points, seed)
    out = [prior, *(alternative_design(prior, k) for k in alternatives)]
    if posterior:
        out.append(calibrated_prior_design(posterior, seed, ensemble))
        out.append(posterior_design(posterior, seed, ensemble))
    return out


def significant(frame: pd.DataFrame, tests: int, top: int = 3) -> pd.DataFrame:
    """The strongest correlations clear of chance over ``tests`` tests (Bonferroni 5%)."""
    return frame[frame["p"] < 0.05 / max(1, tests)].head(top)

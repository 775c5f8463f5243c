"""Morris screening: which parameters the validation patterns depend on most.

The statistics screened are those :mod:`berdaya.experiments.validate` judges, one per
criterion of ``PATTERNS`` (P1a ``participation_poor`` ... P4
``forced_share_of_pendayaan``), measured on the final month of each run. A Morris design
(``SALib.sample.morris``) moves one parameter at a time along random trajectories through
a grid of ``levels`` values per parameter; every point of the design is run with the same
``replications`` seeds (common random numbers, as in :func:`compare
<berdaya.experiments.compare.compare>`) and the statistics are averaged over those seeds.
``SALib.analyze.morris`` then gives, per statistic and parameter:

* ``mu_star``: mean absolute elementary effect, the change of the statistic per unit of
  the parameter's range scaled to [0, 1] (roughly its change over the whole range, if the
  effect were linear): the importance ranking;
* ``mu_star_conf``: half-width of the bootstrap 95% interval of ``mu_star``;
* ``sigma``: spread of the elementary effects (non-linearity or interactions);
* ``mu``: their signed mean (direction; much below ``mu_star`` when the sign varies).

Seed noise also makes elementary effects: ``noise`` is the ``mu_star`` a parameter with
no effect at all would get if changing it re-drew every random number (an upper bound:
with common random numbers it is usually smaller), estimated from the spread of the
statistic over the replications at one point.

Run ``python -m berdaya.experiments.screen --out docs/validation.md`` to write the report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from berdaya.experiments import robustness, sensitivity
from berdaya.experiments.engine import (
    replication_seeds,
    run_stored,
    task_key,
)
from berdaya.experiments.errors import check_int
from berdaya.experiments.files import command_line, write_text
from berdaya.experiments.patterns import OBSERVED, OUTCOMES, PATTERNS
from berdaya.experiments.run import run
from berdaya.experiments.store import TaskStore
from berdaya.scenarios import ParamInfo, load_scenario, schema

#: This module, as ``python -m`` runs it (the command written into its report).
MODULE = "berdaya.experiments.screen"

#: Default factors of the screen. Each is moved over the plausible range the scenario
#: schema declares for it (the one source of ranges, with their sources): narrower than
#: the schema's allowed ranges (which run to absurd values such as 1,000 visits a month).
#: Rates and gains span about half to twice the default, shares and thresholds about
#: +-0.15 around it; ``kelurahan_involvement``, the lever that defines the case, spans its
#: whole range. ``faskel_visits`` is an integer: its range fits the 4-level grid (20, 40,
#: 60, 80) so the design's steps are exact. ``participation_threshold_mean`` no longer
#: tips participation within its range (``experiments/robustness.py``).
_SCREENED = (
    # uncertainties: behaviour of households
    "participation_threshold_mean",
    "poor_threshold_premium",
    "contagion_rate",
    "meeting_reach",
    "capacity_threshold",
    "capacity_practice_gain",
    "ksm_training_gain",
    "ksm_join_rate",
    "default_hazard",
    "community_org_capacity",
    # levers: how the programme is run
    "kelurahan_involvement",
    "faskel_skill",
    "faskel_visits",
    "faskel_primary_emphasis",
    "bkm_accompaniment",
    "timetable_pace",
    "gate_bkm_capacity",
)
_DECLARED = {name: info.plausible for name, info in schema().items()}
DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    name: _DECLARED[name] for name in _SCREENED if _DECLARED[name] is not None
}
if len(DEFAULT_RANGES) != len(_SCREENED):  # pragma: no cover - a schema edit's slip
    raise RuntimeError("every screened parameter needs a plausible range in the schema")

#: The model quantity behind each validation criterion, in words a reader can match to
#: the records (criteria not listed are labelled by their key).
OUTPUT_LABELS: dict[str, str] = {
    "P1a": "participation_poor",
    "P1b": "ksm_poor_joined",
    "P1c": "tendency_cumulative",
    "P2a": "1 - powerless_poor",
    "P2c": "phases_forced",
    "P3a": "bkm_stage == 2",
    "P3b": "gov_support",
    "P4": "forced_share_of_pendayaan",
}

CANDIDATE_KINDS = ("uncertainty", "lever")
BASELINE = -1  # index of the run of the scenario's own values
COLUMNS = (
    "key",
    "pattern",
    "statistic",
    "output",
    "parameter",
    "kind",
    "mu_star",
    "mu_star_conf",
    "sigma",
    "mu",
    "rank",
    "noise",
)


@dataclass(frozen=True)
class Factor:
    """One screened parameter and the range it is moved over.

    Attributes:
        name: Parameter name.
        kind: "uncertainty" or "lever".
        type: "int" or "float".
        unit: Unit of the parameter.
        low: Lowest value screened.
        high: Highest value screened.
        value: The scenario's own value.
        schema_low: Smallest value the schema allows.
        schema_high: Largest value the schema allows.
    """

    name: str
    kind: str
    type: str
    unit: str
    low: float
    high: float
    value: float
    schema_low: float | None
    schema_high: float | None

    def value_at(self, x: float) -> float | int:
        """The parameter value for a design value ``x`` (already in [low, high]).

        Integer parameters are rounded, so they reach the model as integers.
        """
        return round(x) if self.type == "int" else float(x)


def factors(
    scenario: str | Path = OBSERVED,
    parameters: Sequence[str] | Mapping[str, tuple[float, float]] | None = None,
    *,
    base: Mapping[str, Any] | None = None,
) -> list[Factor]:
    """Resolve and check the factors of a screen.

    Args:
        scenario: Scenario whose values the other parameters keep.
        parameters: Parameter names (ranges from :data:`DEFAULT_RANGES`, else the
            schema's bounds), a mapping of names to ``(low, high)``, or ``None`` for
            every parameter of :data:`DEFAULT_RANGES`.
        base: Overrides applied to every run (checked with the scenario).

    Returns:
        The factors, in the order given.

    Raises:
        ValueError: An unknown, non-numeric or context parameter, a repeated one, or a
            range that is empty, unbounded or outside the schema's.
    """
    if parameters is None:
        parameters = DEFAULT_RANGES
    if isinstance(parameters, str):
        parameters = [parameters]
    names = list(parameters)
    if len(names) < 1:
        raise ValueError("a screen needs at least one parameter")
    if len(set(names)) != len(names):
        raise ValueError(f"parameters repeated: {names}")
    info = schema()
    values = load_scenario(scenario, dict(base or {})).params
    out = []
    for name in names:
        if name not in info:
            raise ValueError(f"unknown parameter '{name}'")
        p = info[name]
        if p.kind not in CANDIDATE_KINDS or p.type not in ("int", "float"):
            raise ValueError(
                f"'{name}' is a {p.type} {p.kind} parameter; only numeric "
                f"{' and '.join(CANDIDATE_KINDS)} parameters can be screened"
            )
        low, high = _range(p, parameters)
        out.append(
            Factor(
                name=name,
                kind=p.kind,
                type=p.type,
                unit=p.unit,
                low=float(low),
                high=float(high),
                value=getattr(values, name),
                schema_low=p.ge,
                schema_high=p.le,
            )
        )
    return out


def _range(
    p: ParamInfo, parameters: Sequence[str] | Mapping[str, tuple[float, float]]
) -> tuple[float, float]:
    """A factor's range: given, else :data:`DEFAULT_RANGES`', else the schema's."""
    name = p.name
    if isinstance(parameters, Mapping):
        low, high = parameters[name]
    elif name in DEFAULT_RANGES:
        low, high = DEFAULT_RANGES[name]
    else:
        low, high = p.ge, p.le
    if low is None or high is None or not math.isfinite(low + high):
        raise ValueError(f"'{name}' needs a finite range (got {low}, {high})")
    if not low < high:
        raise ValueError(f"'{name}': low must be below high (got {low}, {high})")
    if (p.ge is not None and low < p.ge) or (p.le is not None and high > p.le):
        raise ValueError(
            f"'{name}': range [{low:g}, {high:g}] leaves the allowed {p.allowed}"
        )
    return low, high


class PointTask(NamedTuple):
    """One point of the design, to be run with every replication seed."""

    index: int
    scenario: str
    overrides: dict[str, Any]
    seeds: tuple[int, ...]
    months: int | None


def run_point(task: PointTask) -> pd.DataFrame:
    """Run one design point with each seed (top-level, so spawned workers import it).

    Args:
        task: What to run.

    Returns:
        The point's final-month records, a row per seed, with the columns the validation
        criteria measure.
    """
    rows = [
        run(task.scenario, s, months=task.months, overrides=task.overrides).final
        for s in task.seeds
    ]
    return pd.DataFrame(rows)[list(OUTCOMES)].reset_index(drop=True)


def point_key(task: PointTask) -> str:
    """A point's key (:func:`~berdaya.experiments.engine.task_key`) for a store."""
    values = load_scenario(task.scenario, task.overrides).params.model_dump(mode="json")
    return task_key(
        study="screen",
        params=values,
        seeds=task.seeds,
        months=task.months,
        outcomes=OUTCOMES,
    )


def morris_screen(  # noqa: PLR0917 (the positional signature scripts call)
    scenario: str | Path = OBSERVED,
    parameters: Sequence[str] | Mapping[str, tuple[float, float]] | None = None,
    trajectories: int = 10,
    levels: int = 4,
    replications: int = 2,
    seed: int = 2008,
    workers: int = 2,
    n_households: int | None = None,
    *,
    months: int | None = None,
    progress: bool = False,
    store: str | Path | None = None,
) -> pd.DataFrame:
    """Screen parameters for their effect on the validation statistics (Morris method).

    Args:
        scenario: Shipped scenario name or TOML path; parameters not screened keep its
            values.
        parameters: What to screen (see :func:`factors`); default :data:`DEFAULT_RANGES`.
            Integer parameters are rounded to the nearest integer; give them ranges
            whose grid points are integers (``high - low`` a multiple of ``levels -
            1``) to keep the Morris steps exact.
        trajectories: Morris trajectories (each is ``len(parameters) + 1`` points).
        levels: Grid levels per parameter (even; 4 is the usual choice).
        replications: Seeds each point is run with; the statistics are their means.
        seed: Master seed: replication seeds are ``replication_seeds(seed,
            replications)`` (the same at every point); it also seeds the Morris sample
            and the bootstrap of ``mu_star_conf``.
        workers: Processes to run in; 1 runs in this process.
        n_households: Households of every run (default: the scenario's).
        months: Months of every run (default: the scenario's).
        progress: Show a progress bar on stderr.
        store: A folder keeping every point's runs as they finish
            (:mod:`~berdaya.experiments.store`): the same screen again reads the
            points there and runs the others, with the same table; ``None``: none.

    Returns:
        A tidy table, a row per (criterion, parameter), columns ``key, pattern,
        statistic, output, parameter, kind, mu_star, mu_star_conf, sigma, mu, rank,
        noise`` (``rank`` 1 = largest ``mu_star`` of that criterion). ``attrs`` holds the
        set-up: scenario, seeds, sizes, factors, number of runs and elapsed seconds.

    Raises:
        ValueError: Invalid sizes, seed, or parameters.
        ScenarioError: A design point the scenario schema rejects (before any run).
        SweepError: ``store`` is not a screen's store (a file, other files).
    """
    _check_sizes(trajectories, levels, replications, workers, seed)
    if store is not None:
        TaskStore(store).check("screen")
    start = time.perf_counter()
    sizes = {"n_households": n_households, "months": months}
    base: dict[str, Any] = {k: v for k, v in sizes.items() if v is not None}
    facs = factors(scenario, parameters, base=base)
    scen = load_scenario(scenario, base)
    problem = sensitivity.problem(
        [f.name for f in facs], [[f.low, f.high] for f in facs]
    )
    design = sensitivity.morris_design(problem, trajectories, levels=levels, seed=seed)
    seeds = tuple(replication_seeds(seed, replications))
    tasks = _point_tasks(scenario, facs, design, base, seeds)
    stored = run_stored(
        run_point,
        tasks,
        workers,
        key=point_key,
        store=store,
        kind="screen",
        progress=f"Morris screen of {scen.name}" if progress else None,
        runs=lambda _: replications,
    )
    finals = {task.index: table for task, table in stored}
    rows, outputs = _indices(problem, design, finals, facs, levels=levels, seed=seed)
    table = _ranked(rows)
    table.attrs = {
        "scenario": scen.name,
        "seed": seed,
        "replication_seeds": list(seeds),
        "trajectories": trajectories,
        "levels": levels,
        "replications": replications,
        "n_households": int(scen.params.n_households),
        "months": int(scen.params.months),
        "followup_months": int(scen.params.followup_months),
        "points": len(design),
        "runs": len(tasks) * replications,
        "outputs": outputs,
        "workers": workers,
        "factors": [asdict(f) for f in facs],
        "salib": version("SALib"),
        "elapsed_s": time.perf_counter() - start,
    }
    return table


def _check_sizes(
    trajectories: int, levels: int, replications: int, workers: int, seed: int
) -> None:
    """Refuse sizes, workers or a seed that are not integers in range, or odd levels."""
    for name, value, low in (
        ("trajectories", trajectories, 2),
        ("levels", levels, 2),
        ("replications", replications, 1),
        ("workers", workers, 1),
        ("seed", seed, 0),
    ):
        check_int(name, value, low, ValueError)
    if levels % 2:
        raise ValueError(f"levels must be even (got {levels})")


def _point_tasks(
    scenario: str | Path,
    facs: list[Factor],
    design: np.ndarray,
    base: dict[str, Any],
    seeds: tuple[int, ...],
) -> list[PointTask]:
    """A task per design point (each checked as a scenario first), then the baseline."""
    tasks = []
    for i, row in enumerate(design):
        overrides = {
            **base,
            **{f.name: f.value_at(x) for f, x in zip(facs, row, strict=True)},
        }
        load_scenario(scenario, overrides)  # reject a bad point before any run
        tasks.append(PointTask(i, str(scenario), overrides, seeds, None))
    # the scenario's own values, with the same seeds: the reference of the report
    tasks.append(PointTask(BASELINE, str(scenario), dict(base), seeds, None))
    return tasks


def _indices(
    problem: dict[str, Any],
    design: np.ndarray,
    finals: dict[int, pd.DataFrame],
    facs: list[Factor],
    *,
    levels: int,
    seed: int,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Morris indices of every criterion, and what each criterion's output did."""
    rows = []
    outputs = {}
    for c in PATTERNS:
        per_run = np.stack([c.measure(finals[i]) for i in range(len(design))])
        means = per_run.mean(axis=1)
        noise = _noise(per_run, levels)
        met = means >= c.threshold if c.op == ">=" else means <= c.threshold
        outputs[c.key] = {
            "op": c.op,
            "threshold": c.threshold,
            "scenario_value": float(c.measure(finals[BASELINE]).mean()),
            "min": float(means.min()),
            "mean": float(means.mean()),
            "max": float(means.max()),
            "share_met": float(met.mean()),
        }
        si = sensitivity.morris_indices(
            problem, design, means, levels=levels, seed=seed, resamples=1000
        )
        rows += [
            {
                "key": c.key,
                "pattern": c.pattern,
                "statistic": c.statistic,
                "output": OUTPUT_LABELS.get(c.key, c.key),
                "parameter": f.name,
                "kind": f.kind,
                "mu_star": float(si["mu_star"][j]),
                "mu_star_conf": float(si["mu_star_conf"][j]),
                "sigma": float(si["sigma"][j]),
                "mu": float(si["mu"][j]),
                "noise": noise,
            }
            for j, f in enumerate(facs)
        ]
    return rows, outputs


def _ranked(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a table, ranked by mu* within each criterion, in criterion order."""
    table = pd.DataFrame(rows)
    table["rank"] = (
        table.groupby("key", sort=False)["mu_star"]
        .rank(ascending=False, method="min")
        .astype(int)
    )
    order = {c.key: i for i, c in enumerate(PATTERNS)}
    return table.sort_values(
        ["key", "rank", "parameter"],
        key=lambda s: s.map(order) if s.name == "key" else s,
    ).reset_index(drop=True)[list(COLUMNS)]


def _noise(per_run: np.ndarray, levels: int) -> float:
    """``mu_star`` of a parameter without effect whose change re-draws every number.

    An elementary effect is a difference of two means of ``R`` runs divided by the step
    ``delta``; if the two means are independent, with within-point sd ``s``, the
    difference is normal with sd ``s * sqrt(2 / R)`` and its mean absolute value is
    ``sqrt(2 / pi)`` times that.
    """
    n_rep = per_run.shape[1]
    if n_rep < 2:
        return math.nan
    s = math.sqrt(float(per_run.var(axis=1, ddof=1).mean()))
    delta = levels / (2 * (levels - 1))
    return math.sqrt(2 / math.pi) * s * math.sqrt(2 / n_rep) / delta


# --- the report ------------------------------------------------------------------------


def _num(x: float) -> str:
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) >= 1):
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _clear(r: Any) -> bool:
    """Whether a parameter's effect stands clear of seed noise."""
    floor = r.noise if math.isfinite(r.noise) else 0.0
    return r.mu_star - r.mu_star_conf > floor and r.mu_star > 0


def _direction(r: Any, op: str) -> str:
    ratio = r.mu / r.mu_star
    if abs(ratio) < 0.8:
        return "either way: the sign of its effect changes"
    up = ratio > 0
    against = up if op == "<=" else not up
    return (
        f"{'raises' if up else 'lowers'} it{', against the pattern' if against else ''}"
    )


def _reading_of(sub: pd.DataFrame, summary: Mapping[str, Any]) -> str:
    """Plain words on what one statistic depends on."""
    out = sub["output"].iloc[0]
    if summary["min"] == summary["max"]:
        return (
            f"`{out}` is {_num(summary['min'])} at every point of the design: no "
            "screened parameter moves it over these ranges."
        )
    clear = [r for r in sub.itertuples() if _clear(r)]
    if not clear:
        return (
            f"No parameter moves `{out}` clearly beyond seed noise over these ranges."
        )
    parts = []
    for r in clear[:3]:
        bent = "; it bends or interacts" if r.sigma > r.mu_star else ""
        parts.append(
            f"`{r.parameter}` ({_direction(r, summary['op'])}{bent}; mu* {r.mu_star:.3g})"
        )
    text = f"`{out}` depends most on " + "; then ".join(parts) + "."
    rest = len(clear) - len(parts)
    if rest:
        names = ", ".join(f"`{r.parameter}`" for r in clear[3:])
        text += f" Also clear of noise: {names}."
    return text


def _pattern_summary(sub: pd.DataFrame, outputs: Mapping[str, Any]) -> str:
    """The parameters that matter across all statistics of a pattern."""
    rel = sub.assign(
        rel=sub["mu_star"] / sub.groupby("key")["mu_star"].transform("max")
    ).fillna({"rel": 0.0})
    rel = rel[[_clear(r) for r in rel.itertuples()]]
    met = ", ".join(
        f"{k} at {outputs[k]['share_met']:.0%}" for k in dict.fromkeys(sub["key"])
    )
    tail = f" The point means meet the criteria's thresholds: {met} of points."
    if rel.empty:
        return "none of its statistics moves clearly beyond seed noise." + tail
    weight = rel.groupby("parameter")["rel"].sum().sort_values(ascending=False)
    names = ", ".join(f"`{p}`" for p in weight.index[:4])
    return f"it depends most on {names}." + tail


def report_markdown(table: pd.DataFrame, command: str) -> str:
    """The screen as a Markdown report (what ``--out`` writes).

    Args:
        table: A table from :func:`morris_screen` (with its ``attrs``).
        command: The command line that made it.

    Returns:
        The document.
    """
    a = table.attrs
    lines = _report_head(a, command)
    lines += _ranges_section(a)
    lines += _reading_section(table, a)
    lines += _pattern_sections(table, a["outputs"])
    return "\n".join(lines) + "\n"


def _report_head(a: dict[str, Any], command: str) -> list[str]:
    """Title, how it was made (command, date, scenario, design, seeds), how to read."""
    k = len(a["factors"])
    delta = a["levels"] / (2 * (a["levels"] - 1))
    seeds = ", ".join(str(s) for s in a["replication_seeds"])
    minutes = a["elapsed_s"] / 60
    lines = [
        "# Morris screen of the validation patterns",
        "",
        "Which parameters the statistics that `berdaya validate` judges "
        "(`experiments/patterns.py`, `PATTERNS`) depend on most. Generated by "
        "`experiments/screen.py`; do not edit by hand, rerun the command.",
        "",
        f"- Command: `{command}`",
        f"- Date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; "
        f"{a['runs']:,} runs in {minutes:.1f} minutes on {a['workers']} worker"
        f"{'s' if a['workers'] > 1 else ''}",
        f"- Scenario: `{a['scenario']}`, {a['n_households']:,} households, "
        f"at most {a['months']} months, each run stopping "
        f"{a.get('followup_months', 24)} months after its programme ends; parameters "
        "not screened keep the scenario's values "
        "(`progression` stays `schedule`)",
        f"- Design: Morris (SALib {a['salib']}, `SALib.sample.morris.sample` and "
        f"`SALib.analyze.morris.analyze`), {k} parameters, {a['trajectories']} "
        f"trajectories, {a['levels']} levels (a step moves a parameter {delta:.3g} of "
        f"its range), {a['points']:,} points, plus one run of the scenario's own "
        "values",
        f"- Seeds: master seed {a['seed']} (also seeds the Morris sample and the "
        f"bootstrap); every point runs with the same {a['replications']} seeds "
        f"`replication_seeds({a['seed']}, {a['replications']})` = {seeds}, and the "
        "statistics are their means",
        "",
        "How to read the tables. Each statistic is measured on the final month of a "
        "run. `mu*` is the mean absolute elementary effect: the change of the statistic "
        "per unit of the parameter's range scaled to [0, 1] (about its change over the "
        "whole range, were it linear); it ranks parameters within a table, not across "
        "tables (units differ). `mu*_conf` is the half-width of its bootstrap 95% "
        "interval. `sigma` is the spread of the elementary effects: `sigma` above "
        "`mu*` means the effect bends or depends on other parameters. `mu` is their "
        "signed mean (direction). The *seed-noise reference* is the `mu*` a parameter "
        "without any effect would get if changing it re-drew every random number (an "
        "upper bound, from the spread over the seeds at one point); a parameter is "
        "*clear* when `mu* - mu*_conf` exceeds it. *Against the pattern* means the "
        "parameter pushes the statistic away from the side of the threshold the "
        "pattern needs.",
        "",
    ]
    return lines


def _ranges_section(a: dict[str, Any]) -> list[str]:
    """The table of the screened parameters' ranges."""
    lines = [
        "## Parameter ranges",
        "",
        "| parameter | kind | unit | scenario value | low | high | schema allows |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for f in a["factors"]:
        allowed = f"[{_num(f['schema_low'])}, {_num(f['schema_high'])}]"
        lines.append(
            f"| `{f['name']}` | {f['kind']} | {f['unit']} | {_num(f['value'])} | "
            f"{_num(f['low'])} | {_num(f['high'])} | {allowed} |"
        )
    lines += [
        "",
        "Ranges are plausible ranges around the observed case, narrower than the "
        "schema allows: rates and gains about half to twice the scenario's value, "
        "shares and thresholds about +-0.15 around it, `kelurahan_involvement` its "
        "whole range; `participation_threshold_mean` its plausible range from the "
        "scenario schema. A run stops `followup_months` after its programme ends, so "
        "each statistic is taken that long after the exit whatever `timetable_pace` "
        "(while the exit plus follow-up stays within `months`).",
        "",
        "## Reading",
        "",
    ]
    return lines


def _reading_section(table: pd.DataFrame, a: dict[str, Any]) -> list[str]:
    """A line per pattern on what moves it, and the parameters clear for nothing."""
    outputs = a["outputs"]
    lines = []
    for pattern, psub in table.groupby("pattern", sort=False):
        lines.append(f"- **{pattern}**: {_pattern_summary(psub, outputs)}")
    never = [
        f["name"]
        for f in a["factors"]
        if not any(
            _clear(r) for r in table[table["parameter"] == f["name"]].itertuples()
        )
    ]
    if never:
        lines += [
            "",
            "Clear of noise for no statistic over its range: "
            + ", ".join(f"`{n}`" for n in never)
            + ".",
        ]
    return lines


def _pattern_sections(table: pd.DataFrame, outputs: dict[str, Any]) -> list[str]:
    """A section per pattern, a ranked table per statistic with its reading."""
    lines: list[str] = []
    for pattern, psub in table.groupby("pattern", sort=False):
        lines += ["", f"## {pattern}"]
        for key, sub in psub.groupby("key", sort=False):
            r0 = sub.iloc[0]
            o = outputs[key]
            lines += [
                "",
                f"### {key}: {r0['statistic']} (`{r0['output']}`)",
                "",
                f"Criterion of `berdaya validate`: 95% CI {o['op']} "
                f"{_num(o['threshold'])}. At the scenario's own values: "
                f"{o['scenario_value']:.3g} (mean of the seeds). Over the design the "
                f"point means run from {o['min']:.3g} to {o['max']:.3g} and meet the "
                f"threshold at {o['share_met']:.0%} of points. Seed-noise reference: "
                f"{r0['noise']:.3g}.",
                "",
                "| rank | parameter | kind | mu* | mu*_conf | sigma | mu | clear |",
                "|---:|---|---|---:|---:|---:|---:|:---:|",
            ]
            for r in sub.itertuples():
                lines.append(
                    f"| {r.rank} | `{r.parameter}` | {r.kind} | {r.mu_star:.3g} | "
                    f"{r.mu_star_conf:.3g} | {r.sigma:.3g} | {r.mu:+.3g} | "
                    f"{'yes' if _clear(r) else ''} |"
                )
            lines += ["", _reading_of(sub, o)]
    return lines


def _parser() -> argparse.ArgumentParser:
    """The options of ``python -m berdaya.experiments.screen``."""
    parser = argparse.ArgumentParser(
        prog="python -m berdaya.experiments.screen",
        description="Morris screen of the parameters the validation patterns depend on.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("docs/validation.md"),
        help="Markdown report to write (default docs/validation.md)",
    )
    parser.add_argument(
        "--scenario", default=OBSERVED, help=f"scenario screened (default {OBSERVED})"
    )
    parser.add_argument(
        "--trajectories",
        type=int,
        default=30,
        help="Morris trajectories (default 30: about 3 minutes at 4,000 households "
        "on 2 workers)",
    )
    parser.add_argument(
        "--levels", type=int, default=4, help="grid levels per parameter (even)"
    )
    parser.add_argument(
        "--replications", type=int, default=4, help="seeds per design point"
    )
    parser.add_argument(
        "--seed", type=int, default=2008, help="master seed of runs, sample, bootstrap"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="local processes (default 2)"
    )
    parser.add_argument(
        "--n-households", type=int, default=None, help="default: the scenario's"
    )
    parser.add_argument(
        "--months", type=int, default=None, help="default: the scenario's"
    )
    parser.add_argument(
        "--store",
        type=Path,
        default=None,
        help="keep every point's runs in this folder as they finish; the same command "
        "again (after an interruption) runs only the points not there",
    )
    return parser


def _command(args: argparse.Namespace) -> str:
    """The command line that makes the same screen (written into the report)."""
    names = ["out", "scenario", "trajectories", "levels", "replications", "seed"]
    names += ["workers", "n_households", "months"]
    return command_line(MODULE, args, names)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the screen and write its Markdown report.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit code.
    """
    args = _parser().parse_args(argv)
    table = morris_screen(
        args.scenario,
        trajectories=args.trajectories,
        levels=args.levels,
        replications=args.replications,
        seed=args.seed,
        workers=args.workers,
        n_households=args.n_households,
        months=args.months,
        progress=True,
        store=args.store,
    )
    text = report_markdown(table, _command(args))
    # keep the robustness section another command writes into the same document
    old = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
    for rule in robustness.SECTIONS:
        if kept := robustness.section_of(old, rule):
            text = robustness.with_section(text, kept, rule)
    write_text(args.out, text)
    a = table.attrs
    print(f"{a['runs']:,} runs in {a['elapsed_s'] / 60:.1f} minutes; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Reading a sweep back: summaries with confidence intervals, paired effects, sensitivity.

Everything is computed at the final month of each run on disk (the last month kept: the
follow-up, ``followup_months`` after the programme ended), and the summaries and effects
again at the cycle's end (the month the programme completed or withdrew, the run's
``end_month``; a run whose cycle had not ended by the months cap has none):

* **summary**: per design point and outcome, the mean over replications with a Student-t
  95% confidence interval;
* **effects**: per design point, the paired difference from the base point (point 0, the
  base scenario), replication by replication: replication ``i`` of every point ran with
  the same seed, so the difference carries far less noise than two independent samples;
* **main effects** (grid designs): per factor level, the paired difference from the base
  averaged over the points at that level (the other factors averaged out);
* **sensitivity** (sobol and morris designs): Sobol first-order and total indices, or
  Morris mu* and sigma, with bootstrap confidence intervals (SALib), of the mean over
  replications at each point.

Plots (PNG, in the results folder): the monthly envelopes of the outcomes (median and
10-90% band over replications), the effects against the base with their intervals, and
the sensitivity indices. Runs still missing or recorded as errors are left out and
counted.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from berdaya.experiments import sensitivity
from berdaya.experiments.compare import (
    OUTCOME_UNITS,
    _number_format,
    paired_ci,
)
from berdaya.experiments.defaults import DEFAULT_LEVEL
from berdaya.experiments.display import (
    MAX_COLUMNS,
    MAX_ROWS,
    html_table,
    names_text,
    value_text,
)
from berdaya.experiments.files import atomic_write, write_text
from berdaya.experiments.spec import SweepError
from berdaya.experiments.sweep import (
    SweepFolder,
    read_errors,
    read_results,
    replay_command,
)

#: Most design points listed one by one in the printed report (all are in the CSVs).
MAX_LISTED = 40
#: Most outcome panels in one figure.
MAX_PANELS = 12
#: Bootstrap resamples of SALib's confidence intervals.
RESAMPLES = 1000


@dataclass(repr=False)
class SweepReport:
    """What ``berdaya report`` prints and writes, as tables.

    Attributes:
        folder: The results folder.
        meta: Its ``meta.json``.
        design: A row per design point (``point``, labels, parameter values).
        outcomes: Outcomes reported.
        finals: A row per finished run: ids, labels, parameters and final outcomes.
        summary: Per point and outcome: ``mean, sd, ci_low, ci_high, n``.
        effects: Per point (but the base) and outcome: the paired difference from the
            base, ``diff, ci_low, ci_high, clear, sd, n``.
        ends: A row per finished run whose cycle ended: its outcomes at that month.
        end_summary: As ``summary``, at the cycle's end.
        end_effects: As ``effects``, at the cycle's end.
        main_effects: Grid designs: per factor level and outcome, the same columns.
        sensitivity: Sobol (``S1, S1_low, S1_high, ST, ST_low, ST_high``) or Morris
            (``mu_star, mu_star_low, mu_star_high, mu, sigma``) indices per outcome and
            factor; ``None`` for grid and lhs designs.
        errors: The runs recorded as having raised.
        missing: Runs of the design neither on disk nor recorded as errors.
        notes: Things left out, in words.
        level: Confidence level.
        written: Files written (CSVs, plots, report.txt).
    """

    folder: Path
    meta: dict[str, Any]
    design: pd.DataFrame
    outcomes: tuple[str, ...]
    finals: pd.DataFrame
    summary: pd.DataFrame
    effects: pd.DataFrame
    main_effects: pd.DataFrame
    sensitivity: pd.DataFrame | None
    errors: pd.DataFrame
    missing: int
    level: float = 0.95
    notes: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    ends: pd.DataFrame = field(default_factory=pd.DataFrame)
    end_summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    end_effects: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def factors(self) -> list[dict[str, Any]]:
        """The factors of the design, as ``meta.json`` describes them."""
        return list(self.meta.get("factors", []))

    def label(self, point: int) -> str:
        """A point's factor values in words (``base`` for point 0)."""
        if point == 0 and self.meta.get("base", True):
            return "base"
        row = self.design.loc[self.design["point"] == point].iloc[0]
        return ", ".join(f"{f['name']}={_fmt(row[f['name']])}" for f in self.factors)

    def _title(self) -> str:
        m = self.meta
        return (
            f"{self.folder}, sweep '{m['spec']}', {m['design']} design, {m['points']} "
            f"points x {m['replications']} replications"
        )

    def _status(self) -> str:
        return (
            f"{len(self.finals['run_id'].unique()) if len(self.finals) else 0} of "
            f"{self.meta['runs']} runs finished, {len(self.errors)} raised"
        )

    def __repr__(self) -> str:
        """Two short lines: which sweep, how far it is, and its outcomes."""
        return (
            f"<SweepReport: {self._title()}>\n  {self._status()}; outcomes "
            f"{names_text(list(self.outcomes))}; .text() is the whole report"
        )

    def _repr_html_(self) -> str:
        """A small HTML table: each point's mean outcomes at follow-up, with their CI."""
        outcomes = list(self.outcomes)[:MAX_COLUMNS]
        points = self.design["point"].tolist()
        by_cell = (
            self.summary.set_index(["point", "outcome"]) if len(self.summary) else None
        )
        rows = []
        for point in points[:MAX_ROWS]:
            cells = [self.label(point)]
            for name in outcomes:
                if by_cell is None or (point, name) not in by_cell.index:
                    cells.append("n/a")
                    continue
                row = by_cell.loc[(point, name)]
                cells.append(
                    f"{value_text(name, row['mean'])} [{value_text(name, row['ci_low'])}"
                    f", {value_text(name, row['ci_high'])}]"
                )
            rows.append(cells)
        left = [
            f"{len(points) - MAX_ROWS} more points" if len(points) > MAX_ROWS else "",
            f"{len(self.outcomes) - len(outcomes)} more outcomes"
            if len(self.outcomes) > len(outcomes)
            else "",
        ]
        more = "; ".join(x for x in left if x)
        return html_table(
            f"berdaya sweep: {self._title()}; {self._status()}; mean at follow-up "
            f"[{self.level:.0%} CI over replications]",
            ["point", *outcomes],
            rows,
            f"{more}: see .summary" if more else "",
        )

    def text(self) -> str:
        """The report as readable text (what ``berdaya report`` prints)."""
        lines = self._head()
        if not len(self.finals):
            lines.append("no finished run to report on yet")
            return "\n".join([*lines, *self.notes])
        lines += self._body()
        if len(self.errors):
            lines += ["", f"runs that raised ({len(self.errors)}; see errors/):"]
            for r in self.errors.head(10).itertuples(index=False):
                lines.append(f"  {r.run_id} seed {r.seed}: {r.type}: {r.message}")
        if self.notes:
            lines += ["", *self.notes]
        return "\n".join(lines)

    def _head(self) -> list[str]:
        """What the sweep is, what is on disk, and how to replay a run."""
        m = self.meta
        lines = [
            f"berdaya report: {self.folder} (sweep '{m['spec']}', {m['design']} design, "
            f"{m['points']} points x {m['replications']} replications, master seed "
            f"{m['seed']})",
        ]
        if m.get("description"):
            lines.append(m["description"])
        lines.append(
            f"base scenario {m['scenario']}; {len(self.finals)} of {m['runs']} runs on "
            f"disk, {len(self.errors)} raised, {self.missing} not run yet"
        )
        drawn = m.get("ensemble") or {}
        if drawn:
            lines.append(
                f"parameter uncertainty: {drawn['text']}; replication i of every point "
                "runs with member i, so the intervals cover parameter and seed "
                "uncertainty"
            )
        if len(self.finals):
            others = self.finals[self.finals["point"] != 0]
            first = (others if len(others) else self.finals).iloc[0]
            overrides = json.loads(
                self.design.loc[
                    self.design["point"] == first["point"], "overrides"
                ].iloc[0]
            )
            overrides.update({k: first[k] for k in drawn.get("drawn", [])})
            scenario = m.get("scenario_ref", m["scenario"])
            lines.append(
                f"replay any run alone from its row, e.g. {first['run_id']}: "
                + replay_command(scenario, int(first["seed"]), overrides)
            )
        return lines

    def _body(self) -> list[str]:
        """The tables: per point (or where they are), main effects, sensitivity."""
        pct = f"{self.level:.0%}"
        months = sorted(self.finals["month"].unique())
        lines = [
            f"outcomes at follow-up, the final month ({', '.join(map(str, months))}); "
            f"{pct} CI over replications (Student t); effect = point - base over the "
            "same seeds"
        ]
        points = self.design["point"].tolist()
        if len(points) <= MAX_LISTED:
            lines += self._point_tables(pct, self.summary, self.effects)
            lines += ["", self._end_line()]
            if len(self.ends):
                lines += self._point_tables(pct, self.end_summary, self.end_effects)
        else:
            lines += [
                "",
                f"{len(points)} design points: per-point summaries and effects are in "
                "summary.csv and effects.csv",
            ]
        if len(self.main_effects):
            lines += self._main_effect_tables(pct)
        if self.sensitivity is not None and len(self.sensitivity):
            lines += self._sensitivity_tables(pct)
        return lines

    def factor_cells(self, point: int) -> list[str]:
        """A point's factor values, one string each."""
        row = self.design.loc[self.design["point"] == point].iloc[0]
        return [_fmt(row[f["name"]]) for f in self.factors]

    def _end_line(self) -> str:
        """What the cycle-end tables are, or why there are none."""
        done = int(self.finals["run_id"].nunique())
        ended = int(self.ends["run_id"].nunique()) if len(self.ends) else 0
        if not ended:
            return (
                "at cycle end: no run on disk has its cycle's end kept (it had not "
                "ended by the months cap, or the sweep predates end_month)"
            )
        months = self.ends["month"]
        span = f"{int(months.min())}-{int(months.max())}"
        return (
            f"outcomes at cycle end, the month each run's programme completed or "
            f"withdrew (months {span}; {ended} of {done} runs had ended)"
        )

    def _point_tables(
        self, pct: str, summary: pd.DataFrame, effects: pd.DataFrame
    ) -> list[str]:
        names = [f["name"] for f in self.factors]
        cells = {p: self.factor_cells(p) for p in self.design["point"]}
        widths = [
            max(len(n), *(len(c[i]) for c in cells.values()))
            for i, n in enumerate(names)
        ]
        out: list[str] = []
        for outcome in self.outcomes:
            s = summary[summary["outcome"] == outcome].set_index("point")
            e = effects[effects["outcome"] == outcome].set_index("point")
            vals = [*s["mean"], *e["diff"]] if len(e) else list(s["mean"])
            fmt = _number_format(*vals)
            head = (
                f"  {'point':<5} "
                + " ".join(f"{n:<{w}}" for n, w in zip(names, widths, strict=True))
                + f" {'mean':>10}  {pct + ' CI':^25}"
            )
            if len(e):
                head += f" {'effect':>10}  {pct + ' CI':^25}  clear of 0"
            out += ["", f"{outcome} ({OUTCOME_UNITS.get(outcome, 'value')})", head]
            for p in self.design["point"]:
                label = "base" if p == 0 and self.meta.get("base", True) else str(p)
                line = f"  {label:<5} " + " ".join(
                    f"{c:<{w}}" for c, w in zip(cells[p], widths, strict=True)
                )
                if p in s.index:
                    r = s.loc[p]
                    line += f" {r['mean']:>10{fmt}}  {_ci(r, fmt):^25}"
                else:
                    line += f" {'no runs':>10}  {'':^25}"
                if p in e.index:
                    r = e.loc[p]
                    line += f" {r['diff']:>+10{fmt}}  {_ci(r, fmt):^25}  {_clear(r['clear'])}"
                out.append(line.rstrip())
        return out

    def _main_effect_tables(self, pct: str) -> list[str]:
        out = [
            "",
            "main effects against the base: each level's paired difference, averaged "
            "over the other factors' points",
        ]
        for outcome in self.outcomes:
            t = self.main_effects[self.main_effects["outcome"] == outcome]
            if not len(t):
                continue
            fmt = _number_format(*t["diff"])
            out.append(f"  {outcome}")
            width = max(len(f"{r.factor} = {_fmt(r.level)}") for r in t.itertuples())
            for r in t.itertuples(index=False):
                name = f"{r.factor} = {_fmt(r.level)}"
                out.append(
                    f"    {name:<{width}} {r.diff:>+10{fmt}}  "
                    f"{_ci(r._asdict(), fmt):^25}  {_clear(r.clear)}"
                )
        return out

    def _sensitivity_tables(self, pct: str) -> list[str]:
        s = self.sensitivity
        assert s is not None
        sobol = self.meta["design"] == "sobol"
        title = (
            "Sobol indices (first order S1, total ST)"
            if sobol
            else "Morris elementary effects (mu*: mean |effect| over the factor's range)"
        )
        out = [
            "",
            f"{title}, {pct} bootstrap CI, of the mean over replications at each point",
        ]
        width = max(len(f) for f in s["factor"])
        for outcome in self.outcomes:
            t = s[s["outcome"] == outcome]
            if not len(t):
                continue
            out.append(f"  {outcome}")
            if sobol:
                out.append(
                    f"    {'factor':<{width}} {'S1':>8}  {pct + ' CI':^19} "
                    f"{'ST':>8}  {pct + ' CI':^19}"
                )
                for r in t.itertuples(index=False):
                    out.append(
                        f"    {r.factor:<{width}} {r.S1:>8.3f}  "
                        f"[{r.S1_low:>7.3f}, {r.S1_high:>7.3f}] {r.ST:>8.3f}  "
                        f"[{r.ST_low:>7.3f}, {r.ST_high:>7.3f}]"
                    )
            else:
                fmt = _number_format(*t["mu_star"], *t["sigma"])
                out.append(
                    f"    {'factor':<{width}} {'mu*':>10}  {pct + ' CI':^25} "
                    f"{'mu':>10} {'sigma':>10}"
                )
                for r in t.itertuples(index=False):
                    ci = f"[{r.mu_star_low:{fmt}}, {r.mu_star_high:{fmt}}]"
                    out.append(
                        f"    {r.factor:<{width}} {r.mu_star:>10{fmt}}  {ci:^25} "
                        f"{r.mu:>+10{fmt}} {r.sigma:>10{fmt}}"
                    )
        return out


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)


def _ci(row: Any, fmt: str) -> str:
    low, high = row["ci_low"], row["ci_high"]
    if low is None or (isinstance(low, float) and math.isnan(low)):
        return "n/a"
    return f"[{low:{fmt}}, {high:{fmt}}]"


def _clear(value: Any) -> str:
    if (
        value is None
        or value is pd.NA
        or (isinstance(value, float) and math.isnan(value))
    ):
        return "n/a"
    return "yes" if bool(value) else "no"


def _ci_row(values: np.ndarray, level: float) -> dict[str, Any]:
    mean, sd, low, high, clear = paired_ci(values, level)
    n = int(np.isfinite(np.asarray(values, dtype=float)).sum())
    return {
        "diff": mean,
        "ci_low": low,
        "ci_high": high,
        "clear": clear,
        "sd": sd,
        "n": n,
    }


def _summaries(
    finals: pd.DataFrame, outcomes: tuple[str, ...], level: float
) -> pd.DataFrame:
    rows = []
    for point, group in finals.groupby("point", sort=True):
        for o in outcomes:
            r = _ci_row(group[o].to_numpy(float), level)
            rows.append(
                {
                    "point": point,
                    "outcome": o,
                    "mean": r["diff"],
                    "sd": r["sd"],
                    "ci_low": r["ci_low"],
                    "ci_high": r["ci_high"],
                    "n": r["n"],
                }
            )
    return pd.DataFrame(
        rows, columns=["point", "outcome", "mean", "sd", "ci_low", "ci_high", "n"]
    )


EFFECT_COLUMNS = ["diff", "ci_low", "ci_high", "clear", "sd", "n"]


def _effects(
    finals: pd.DataFrame, outcomes: tuple[str, ...], level: float
) -> pd.DataFrame:
    """Each point's paired difference from the base point (point 0)."""
    points = [({"point": p}, [p]) for p in sorted(finals["point"].unique()) if p != 0]
    return _against_base(finals, outcomes, level, points, ["point"])


def _main_effects(
    finals: pd.DataFrame,
    design: pd.DataFrame,
    factors: list[dict[str, Any]],
    outcomes: tuple[str, ...],
    level: float,
) -> pd.DataFrame:
    """Each factor level's mean over its points, paired difference from the base."""
    sampled = design[design["point"] != 0]
    groups = [
        (
            {"factor": f["name"], "level": v},
            list(sampled.point[sampled[f["name"]] == v]),
        )
        for f in factors
        for v in dict.fromkeys(sampled[f["name"]].tolist())
    ]
    return _against_base(finals, outcomes, level, groups, ["factor", "level"])


def _against_base(
    finals: pd.DataFrame,
    outcomes: tuple[str, ...],
    level: float,
    groups: list[tuple[dict[str, Any], list[Any]]],
    columns: list[str],
) -> pd.DataFrame:
    """Per outcome, each group's paired difference from point 0 (its points' mean).

    ``groups`` are each row's labels (the ``columns``) and its points; points without
    runs are left out, and a group without any is skipped.
    """
    rows = []
    for o in outcomes:
        wide = finals.pivot(index="replication", columns="point", values=o)
        if 0 not in wide.columns:
            break
        for labels, group in groups:
            pts = [p for p in group if p in wide.columns]
            if pts:
                d = wide[pts].mean(axis=1, skipna=False) - wide[0]
                rows.append(
                    {**labels, "outcome": o, **_ci_row(d.to_numpy(float), level)}
                )
    table = pd.DataFrame(rows, columns=[*columns, "outcome", *EFFECT_COLUMNS])
    table["clear"] = table["clear"].astype("boolean")
    return table


def _sensitivity(
    finals: pd.DataFrame,
    design: pd.DataFrame,
    meta: dict[str, Any],
    *,
    outcomes: tuple[str, ...],
    level: float,
    notes: list[str],
) -> pd.DataFrame | None:
    kind = meta["design"]
    if kind not in ("sobol", "morris"):
        return None
    names = [f["name"] for f in meta["factors"]]
    sampled = design[design["point"] != 0].sort_values("point")
    problem = sensitivity.problem(names)
    x = sampled[[f"unit:{n}" for n in names]].to_numpy(float)
    means = finals.groupby("point")[list(outcomes)].mean()
    rows = []
    for o in outcomes:
        y = means[o].reindex(sampled["point"]).to_numpy(float)
        if not np.isfinite(y).all():
            missing = int((~np.isfinite(y)).sum())
            notes.append(
                f"no {kind} indices for {o}: {missing} of {len(y)} points have no "
                "finished run or a missing value"
            )
            continue
        if np.ptp(y) == 0:
            notes.append(f"no {kind} indices for {o}: it is the same at every point")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows += _design_rows(problem, x, y, meta, level=level, outcome=o)
    return pd.DataFrame(rows)


def _design_rows(
    problem: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    meta: dict[str, Any],
    *,
    level: float,
    outcome: str,
) -> list[dict[str, Any]]:
    """Sobol S1 and ST, or Morris mu*, with their intervals (and mu, sigma): an outcome."""
    seed = int(meta["seed"])
    if meta["design"] == "sobol":
        second_order = bool(meta.get("second_order"))
        si = sensitivity.sobol_indices(
            problem,
            y,
            second_order=second_order,
            seed=seed,
            resamples=RESAMPLES,
            level=level,
        )
        return _index_rows(si, problem["names"], outcome, ("S1", "ST"))
    levels = int(meta.get("morris_levels", 4))
    si = sensitivity.morris_indices(
        problem, x, y, levels=levels, seed=seed, resamples=RESAMPLES, level=level
    )
    return _index_rows(si, problem["names"], outcome, ("mu_star",), ("mu", "sigma"))


def _index_rows(
    si: Any,
    names: list[str],
    outcome: str,
    bounded: tuple[str, ...],
    alone: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """A row a factor: each ``bounded`` index with its interval, then the others."""
    rows = []
    for i, n in enumerate(names):
        row: dict[str, Any] = {"outcome": outcome, "factor": n}
        for k in bounded:
            v, c = float(si[k][i]), float(si[f"{k}_conf"][i])
            row |= {k: v, f"{k}_low": v - c, f"{k}_high": v + c}
        rows.append(row | {k: float(si[k][i]) for k in alone})
    return rows


def _chosen(
    meta: dict[str, Any], results: pd.DataFrame, outcomes: Sequence[str] | None
) -> tuple[str, ...]:
    """The numeric outcomes kept by the sweep, or those asked for (each one kept)."""
    if len(results):
        kept = [
            o
            for o in meta["outcomes"]
            if o in results.columns and pd.api.types.is_numeric_dtype(results[o])
        ]
    else:
        kept = [o for o in meta["outcomes"] if o != "phase_name"]
    if outcomes:
        for o in outcomes:
            if o not in meta["outcomes"]:
                raise SweepError(
                    f"--outcome: '{o}' was not kept by this sweep (kept: "
                    f"{', '.join(meta['outcomes'])})"
                )
        kept = [o for o in outcomes if o in kept]
    return tuple(kept)


def _moments(
    results: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The monthly rows, each run's final row, and each run's cycle-end row."""
    ends = results.iloc[:0]
    if "end_month" in results.columns:
        ends = results.loc[results["month"] == results["end_month"]]
        ends = ends.drop_duplicates("run_id").reset_index(drop=True)
        results = results.loc[~results["end_only"].astype(bool)]
    results = results.reset_index(drop=True)
    if len(results):
        last = results.groupby("run_id")["month"].transform("max")
        finals = results.loc[results["month"] == last].reset_index(drop=True)
    else:
        finals = results
    return results, finals, ends


def _tables(
    finals: pd.DataFrame,
    ends: pd.DataFrame,
    design: pd.DataFrame,
    meta: dict[str, Any],
    *,
    chosen: tuple[str, ...],
    level: float,
    notes: list[str],
) -> dict[str, Any]:
    """Summaries and effects at follow-up and cycle end, main effects, sensitivity."""
    summary = (
        _summaries(finals, chosen, level)
        if len(finals)
        else _summaries(pd.DataFrame(columns=["point"]), (), level)
    )
    has_base = bool(meta.get("base", True))
    effects = (
        _effects(finals, chosen, level)
        if has_base and len(finals)
        else _effects(pd.DataFrame(columns=["replication", "point"]), (), level)
    )
    if not has_base:
        notes.append("no effects against the base: the spec ran without a base point")
    main = _main_effects(
        finals if len(finals) else pd.DataFrame(columns=["replication", "point"]),
        design,
        meta["factors"],
        chosen if meta["design"] == "grid" and has_base and len(finals) else (),
        level,
    )
    sens = (
        _sensitivity(finals, design, meta, outcomes=chosen, level=level, notes=notes)
        if len(finals)
        else None
    )
    if len(ends):
        end_summary = _summaries(ends, chosen, level)
        end_effects = _effects(ends, chosen, level) if has_base else effects.iloc[:0]
    else:
        end_summary, end_effects = summary.iloc[:0], effects.iloc[:0]
    return {
        "summary": summary,
        "effects": effects,
        "main_effects": main,
        "sensitivity": sens,
        "end_summary": end_summary,
        "end_effects": end_effects,
    }


def report(
    out: str | Path,
    *,
    outcomes: list[str] | tuple[str, ...] | None = None,
    level: float = DEFAULT_LEVEL,
    plots: bool = True,
    write: bool = True,
) -> SweepReport:
    """Summarise a sweep's results folder (finished or not).

    Args:
        out: The results folder of :func:`~berdaya.experiments.sweep.run_sweep`.
        outcomes: Outcomes to report (default: every numeric outcome the sweep kept).
        level: Confidence level of the intervals.
        plots: Draw the PNG plots.
        write: Write the tables (CSV), the plots and ``report.txt`` into the folder.

    Returns:
        The :class:`SweepReport`.

    Raises:
        SweepError: The folder holds no sweep, or an outcome was not kept.
    """
    folder = SweepFolder(out)
    meta = folder.meta()
    if meta is None:
        raise SweepError(f"'{folder.path}' holds no sweep (no meta.json)")
    if not 0 < level < 1:
        raise SweepError(f"level must be between 0 and 1 (got {level})")
    design = pd.read_parquet(folder.path / "design.parquet")
    results = read_results(folder.path)
    errors = read_errors(folder.path)
    chosen = _chosen(meta, results, outcomes)
    results, finals, ends = _moments(results)
    notes: list[str] = []
    tables = _tables(
        finals, ends, design, meta, chosen=chosen, level=level, notes=notes
    )
    done = folder.done()
    failed = folder.failed() - done
    if damaged := folder.damaged():
        notes.append(
            f"{len(damaged)} files of runs were damaged, moved aside as "
            f"runs/*.damaged and their runs run again on a resume: "
            f"{', '.join(damaged[:5])}" + ("..." if len(damaged) > 5 else "")
        )
    rep = SweepReport(
        folder=folder.path,
        meta=meta,
        design=design,
        outcomes=chosen,
        finals=finals,
        errors=errors,
        missing=int(meta["runs"]) - len(done) - len(failed),
        level=level,
        notes=notes,
        ends=ends,
        **tables,
    )
    if write and len(finals):
        _write(rep, plots, results)
    return rep


def _write(rep: SweepReport, plots: bool, results: pd.DataFrame) -> None:
    path = rep.folder

    def csv(table: pd.DataFrame, name: str) -> None:
        rep.written.append(
            atomic_write(path / name, lambda tmp: table.to_csv(tmp, index=False))
        )

    labels = rep.design.drop(columns=["overrides"]).filter(regex="^(?!unit:)")
    csv(rep.summary.merge(labels, on="point", how="left"), "summary.csv")
    if len(rep.effects):
        csv(rep.effects.merge(labels, on="point", how="left"), "effects.csv")
    if len(rep.end_summary):
        csv(rep.end_summary.merge(labels, on="point", how="left"), "summary_end.csv")
    if len(rep.end_effects):
        csv(rep.end_effects.merge(labels, on="point", how="left"), "effects_end.csv")
    if len(rep.main_effects):
        csv(rep.main_effects, "main_effects.csv")
    if rep.sensitivity is not None and len(rep.sensitivity):
        csv(rep.sensitivity, "sensitivity.csv")
    if plots:
        from berdaya.experiments import plots  # noqa: PLC0415 (matplotlib)

        for draw in (
            plots.sweep_envelopes,
            plots.sweep_effects,
            plots.sweep_sensitivity,
        ):
            written = draw(rep, results)
            if written is not None:
                rep.written.append(written)
    text = rep.text() + "\n"
    rep.written.append(write_text(path / "report.txt", text))

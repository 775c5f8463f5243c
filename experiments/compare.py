"""Two scenarios, paired seeds: differences of the headline outcomes with confidence intervals.

Replication ``i`` of both scenarios runs with the same seed, drawn from
``numpy.random.SeedSequence(master_seed).spawn(n)``, so the two runs of a pair share their
random population and network and differ only by what the scenarios change. The paired
differences ``d_i = B_i - A_i`` then carry far less noise than two independent samples.
Every replication's seed is kept in the outputs, so any run can be replayed alone with
``berdaya run --scenario ... --seed ...``.

**Two moments.** Each outcome is taken at two months of every run: ``end``, the month the
programme cycle completed or withdrew (the record ``exit_month``), and ``followup``, the run's
last month (``followup_months`` after the end, or the months cap if that comes first). A run
whose cycle had not ended by the months cap has no ``end`` value (it is left out there and
counted). How the cycle ended is reported too: ``exit_month`` (months from the start to
completion or withdrawal), ``cycle_completed`` and ``cycle_withdrawn``.

**No programme.** The pseudo-scenario ``none`` (:data:`NONE`) is the other arm's scenario with
``programme = false``: the same kelurahan, seeds and welfare shocks (common random numbers),
without P2KP. Its run in replication ``i`` is followed for exactly as long as its paired
programme run and measured at that run's two months, so ``B - A`` at ``end`` and at
``followup`` is what the programme did by then. Before the programme starts the two arms
are the same households in the same state: their month-0 difference is exactly zero.

**Effect size.** With paired seeds even a tiny difference is "clear of zero", so every
difference is also given relative to the spread of the outcome across seeds:
``d = mean(B - A) / sqrt((sd_A**2 + sd_B**2) / 2)``, the mean paired difference over the
average between-seed standard deviation of the two arms (Cohen's *d*, in the ``d_av``
form recommended for paired designs). The standard deviation of the paired differences
themselves is not used: common random numbers make it small, so it would call any effect
large. ``|d| < 0.2`` (Cohen's "small") is an effect within the noise between kelurahan
that differ only by chance. When neither arm varies across seeds, ``d`` is 0 for no
difference and infinite otherwise (the same difference in every replication).

**Parameter uncertainty.** With ``ensemble=`` (a posterior ensemble of ``berdaya
calibrate``, :mod:`berdaya.experiments.ensemble`), replication ``i`` also draws one member
of the ensemble (a parameter set), from a generator seeded by the master seed and ``i``
alone, and both arms of the pair run with it: the pair still differs only by what the
scenarios change, and the spread of the paired differences (so the interval) now covers
what the calibration leaves unknown as well as the seeds. The member supplies every
calibrated parameter except those given in ``overrides`` (they hold in every
replication) and those an arm's scenario file sets itself on top of the ensemble's
scenario (the file's values hold: a scenario that sets a calibrated parameter is a
what-if on it). The records keep each replication's member (column ``member``).

**Which share comes from which.** With an ensemble, ``compare`` also runs the same pairs
on the same seeds without the members (``shares=True``, the default: twice the runs),
exactly the seed-only comparison of the same master seed, and splits the spread of
``B - A`` of every outcome into a parameter share, ``1 - var_seed / var_ensemble``, and
the rest, seed noise (:mod:`berdaya.experiments.shares`, :attr:`Comparison.shares`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from berdaya.experiments.defaults import DEFAULT_PAIRED_REPLICATIONS, SMALL_EFFECT
from berdaya.experiments.display import html_table
from berdaya.experiments.engine import (
    replication_seeds,
    run_all,
    run_stored,
    task_key,
)
from berdaya.experiments.ensemble import Ensemble, Member, open_ensemble
from berdaya.experiments.errors import check_int
from berdaya.experiments.files import write_table
from berdaya.experiments.run import run
from berdaya.experiments.shares import (
    parameter_shares,
    share_cell,
    share_lines,
    shares_meta,
)
from berdaya.experiments.store import TaskStore
from berdaya.model.registry import HEADLINE
from berdaya.scenarios import load_scenario
from berdaya.scenarios.loader import plain_values

#: Final-month outcomes compared by default, in print order: the record registry's
#: headline outcomes (extend them there); outcomes absent from the records are skipped.
HEADLINE_OUTCOMES: tuple[str, ...] = HEADLINE

#: Y-axis labels of the envelope panels (an outcome not listed is labelled by its name).
OUTCOME_UNITS: dict[str, str] = {
    "powerless_poor": "share of poor",
    "penyadaran_poor": "share of poor",
    "pengkapasitasan_poor": "share of poor",
    "pendayaan_poor": "share of poor",
    "forced_share_of_pendayaan": "share in pendayaan",
    "forced_count": "households",
    "poverty_rate": "share of households",
    "participation_poor": "share of poor",
    "bkm_stage": "stage (0-2)",
    "bkm_locus": "locus (0-1)",
    "gov_support": "support (0-1)",
    "tendency_cumulative": "primary share",
    "repayment_rate": "share of principal due",
    "portfolio_at_risk": "share outstanding",
    "loan_poor_share": "initially poor share of borrowers",
    "poverty_gap_initially_poor": "poverty lines",
    "welfare_initially_poor": "poverty lines",
    "elite_capture_index": "x population share",
}

#: Outcomes whose paired difference a comparison's repr shows (when compared).
REPR_OUTCOMES: tuple[str, ...] = (
    "pendayaan_poor",
    "forced_share_of_pendayaan",
    "gov_support",
)

ARMS = ("A", "B")
ID_COLUMNS = ("arm", "scenario", "replication", "seed")
#: The identifying column a comparison with an ensemble adds: the replication's member.
MEMBER = "member"
#: The pseudo-scenario: the other arm's scenario without the programme.
NONE = "none"
#: The two months each outcome is taken at (see the module doc), in print order.
MOMENTS = ("end", "followup")
MOMENT_TITLES = {
    "end": "At cycle end (the month the programme completed or withdrew)",
    "followup": "At follow-up (the run's last month)",
    "cycle": "How the programme cycle ended (a value per run)",
}
#: Each moment's words in the blocks that split the spread of B - A.
SHARE_TITLES = {"end": "at cycle end", "followup": "at follow-up"}
#: Outcomes of the cycle itself, one value per run (``cycle`` in the summary).
CYCLE_OUTCOMES = ("exit_month", "cycle_completed", "cycle_withdrawn")
#: Relative size of floating-point rounding: a spread or difference this small next to
#: the values is no effect (:func:`effect_size`).
ROUNDING = 1e-9
SUMMARY_COLUMNS = (
    "moment",
    "outcome",
    "mean_a",
    "mean_b",
    "diff",
    "ci_low",
    "ci_high",
    "clear",
    "sd",
    "spread",
    "d",
    "n",
)


def paired_ci(
    diffs: Sequence[float] | np.ndarray, level: float = 0.95
) -> tuple[float, float, float, float, bool | None]:
    """Mean paired difference, its sd, and a Student-t confidence interval.

    Args:
        diffs: Paired differences ``B_i - A_i`` (non-finite values are dropped).
        level: Confidence level of the interval.

    Returns:
        ``(mean, sd, ci_low, ci_high, clear)``. With one difference there is no interval
        (NaN bounds, ``clear`` is ``None``). When all differences are equal the interval
        is the point itself and it is clear of zero iff the point is not zero. Otherwise
        ``clear`` says whether the interval excludes zero.
    """
    d = np.asarray(diffs, dtype=float)
    d = d[np.isfinite(d)]
    n = d.size
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan, None
    mean = float(d.mean())
    if n == 1:
        return mean, math.nan, math.nan, math.nan, None
    if np.all(d == d[0]):
        point = float(d[0])
        return point, 0.0, point, point, point != 0.0
    sd = float(d.std(ddof=1))
    from scipy import stats  # noqa: PLC0415 (slow import, only needed here)

    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    low, high = mean - half, mean + half
    return mean, sd, low, high, bool(low > 0.0 or high < 0.0)


def effect_size(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The spread of an outcome across seeds, and the paired difference in its units.

    Args:
        a: Values of arm A, one per replication (finite, aligned with ``b``).
        b: Values of arm B.

    Returns:
        ``(spread, d)``: ``spread = sqrt((sd_a**2 + sd_b**2) / 2)`` (sample sds across
        seeds) and ``d = mean(b - a) / spread``; without spread, ``d`` is 0 when nothing
        differs and infinite when something does; NaN with fewer than two replications.
        A spread or difference within :data:`ROUNDING` of the values' size is
        floating-point rounding (a share computed in two orders), and counts as 0.
    """
    if a.size < 2:
        return math.nan, math.nan
    spread = math.sqrt((float(a.var(ddof=1)) + float(b.var(ddof=1))) / 2)
    diff = float((b - a).mean())
    rounding = ROUNDING * (1.0 + float(abs(a).max()) + float(abs(b).max()))
    spread = 0.0 if spread <= rounding else spread
    diff = 0.0 if abs(diff) <= rounding else diff
    if spread > 0:
        return spread, diff / spread
    return spread, 0.0 if diff == 0 else math.copysign(math.inf, diff)


def paired_effects(
    moments: pd.DataFrame,
    ref: str,
    alt: str,
    outcomes: Sequence[str],
    level: float = 0.95,
    *,
    cycle: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Paired differences ``alt - ref`` of every outcome at every moment.

    Args:
        moments: A row per run and moment (:func:`outcomes_at`): ``arm``,
            ``replication``, ``moment`` and the outcomes.
        ref: Label of the reference arm.
        alt: Label of the other arm.
        outcomes: Outcomes to compare.
        level: Confidence level of the intervals.
        cycle: A row per run with :data:`CYCLE_OUTCOMES`, compared as moment ``cycle``.

    Returns:
        A row per (moment, outcome) with :data:`SUMMARY_COLUMNS`: both means over the
        replications where both arms have a value, the mean paired difference with its
        Student-t interval and whether that is clear of zero, the sd of the
        differences, the spread across seeds and ``d`` (:func:`effect_size`).
    """
    blocks = [(m, moments[moments["moment"] == m], outcomes) for m in MOMENTS]
    if cycle is not None:
        blocks.append(("cycle", cycle, CYCLE_OUTCOMES))
    rows = []
    for moment, table, names in blocks:
        for name in names:
            wide = table.pivot(index="replication", columns="arm", values=name)
            a = wide[ref].to_numpy(float) if ref in wide else np.full(len(wide), np.nan)
            b = wide[alt].to_numpy(float) if alt in wide else np.full(len(wide), np.nan)
            ok = np.isfinite(a) & np.isfinite(b)
            mean, sd, low, high, clear = paired_ci(b[ok] - a[ok], level)
            spread, d = effect_size(a[ok], b[ok])
            rows.append(
                {
                    "moment": moment,
                    "outcome": name,
                    "mean_a": _mean(a[ok] if ok.any() else a),
                    "mean_b": _mean(b[ok] if ok.any() else b),
                    "diff": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "clear": clear,
                    "sd": sd,
                    "spread": spread,
                    "d": d,
                    "n": int(ok.sum()),
                }
            )
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    out["clear"] = out["clear"].astype("boolean")
    return out


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


@dataclass(repr=False)
class Comparison:
    """The result of comparing scenario B with scenario A over paired replications.

    Attributes:
        a: Name of scenario A (``none``: B's scenario without the programme).
        b: Name of scenario B (``none``: A's scenario without the programme).
        master_seed: The seed the replication seeds were spawned from.
        seeds: Seed of replication ``i`` (shared by A and B).
        months: Months cap given (``None``: each scenario's own).
        overrides: Parameter values applied to both scenarios.
        finals: A row per run: ``arm`` (A/B), ``scenario``, ``replication``, ``seed`` and
            the value of every outcome compared at the run's last month (the follow-up).
        records: Monthly records of every run, with the same four identifying columns.
        outcomes: Outcomes compared (the headline outcomes present in the records).
        missing: Requested outcomes the records do not have (skipped).
        moments: A row per run and moment (``end``, ``followup``): the identifying
            columns, ``moment``, ``month`` (NaN: the cycle had not ended) and the
            outcomes.
        cycle: A row per run: the identifying columns and :data:`CYCLE_OUTCOMES` (NaN
            for a run without the programme).
        ensemble: With parameter uncertainty, what was drawn from which ensemble
            (:meth:`~berdaya.experiments.ensemble.Ensemble.summary`, with ``text``, the
            line the table shows, and ``kept``, per arm the calibrated parameters its
            scenario sets itself); ``None`` without. The identifying columns then end
            with ``member``.
        shares: With an ensemble (and ``shares=True``), a row per moment and outcome:
            the variance of B - A over the seed-only pairs and over the pairs with
            the members, and the parameter share of the spread with its bootstrap
            interval (:data:`~berdaya.experiments.shares.SHARE_COLUMNS`); ``None``
            otherwise.
        seed_only: The seed-only pairs' :attr:`moments` behind :attr:`shares` (the
            same rows as a comparison without the ensemble); ``None`` without.
        note: A line the table shows under its heading (the command line's word on
            why an ensemble was or was not drawn); ``None``: none.
    """

    a: str
    b: str
    master_seed: int
    seeds: list[int]
    months: int | None
    overrides: dict[str, Any]
    finals: pd.DataFrame
    records: pd.DataFrame
    outcomes: tuple[str, ...]
    missing: tuple[str, ...] = field(default_factory=tuple)
    moments: pd.DataFrame = field(default_factory=pd.DataFrame)
    cycle: pd.DataFrame = field(default_factory=pd.DataFrame)
    ensemble: dict[str, Any] | None = None
    shares: pd.DataFrame | None = None
    seed_only: pd.DataFrame | None = None
    note: str | None = None

    @property
    def replications(self) -> int:
        """Number of paired replications."""
        return len(self.seeds)

    def paired(self, outcome: str, moment: str = "followup") -> tuple[np.ndarray, ...]:
        """Values of one outcome at one moment for A and B, aligned by replication."""
        at = self.moments[self.moments["moment"] == moment]
        wide = at.pivot(index="replication", columns="arm", values=outcome)
        return wide["A"].to_numpy(float), wide["B"].to_numpy(float)

    def summary(
        self, level: float = 0.95, moments: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """A row per moment and outcome: means, paired difference B - A, interval, d.

        Args:
            level: Confidence level of the intervals.
            moments: Moments to keep, of ``end``, ``followup`` and ``cycle`` (the
                cycle's own outcomes); default all three.

        Returns:
            Columns :data:`SUMMARY_COLUMNS`; ``clear`` is a nullable boolean (missing
            when there is one replication); ``d`` is B - A over the spread across
            seeds (see the module doc).
        """
        table = paired_effects(
            self.moments, "A", "B", self.outcomes, level, cycle=self.cycle
        )
        if moments is not None:
            table = table[table["moment"].isin(moments)].reset_index(drop=True)
        return table

    def table(self, level: float = 0.95) -> str:
        """The summary as aligned, readable text, a block a moment (``berdaya compare``)."""
        s = self.summary(level)
        sets = ", ".join(f"{k}={v}" for k, v in self.overrides.items()) or "none"
        shown = ", ".join(str(x) for x in self.seeds[:3])
        if len(self.seeds) > 3:
            shown += ", ..."
        pct = f"{level:.0%}"
        lines = [
            f"berdaya compare: A = {self.a}, B = {self.b}",
            f"{self.replications} paired replications of {self._months_text()} months, "
            f"overrides: {sets}",
            f"master seed {self.master_seed}; replication i of A and B share seed i "
            f"({shown})",
            *self._none_lines(),
            *([self.note] if self.note else []),
            *self._ensemble_lines(),
            f"d = (B - A) / spread across {self._draws()}, sqrt((sd A^2 + sd B^2) / 2); "
            f"|d| < {SMALL_EFFECT}: within the",
            f"  noise between {self._draws()} (+inf: the same difference in every "
            "replication)",
        ]
        head = (
            f"{'outcome':<26} {'mean A':>10} {'mean B':>10} {'B - A':>10}  "
            f"{pct + ' CI':^23}  {'clear of 0':<10} {'d':>6}"
        )
        for moment in (*MOMENTS, "cycle"):
            block = s[s["moment"] == moment]
            lines += ["", f"{MOMENT_TITLES[moment]}{self._moment_months(moment)}"]
            lines += [head, "-" * len(head)]
            lines += [_table_row(r) for r in block.itertuples(index=False)]
        if self.shares is not None:
            lines += share_lines(self.shares, SHARE_TITLES)
        lines += self._notes()
        return "\n".join(lines)

    def _none_lines(self) -> list[str]:
        for arm, name, other in (("A", self.a, self.b), ("B", self.b, self.a)):
            if name == NONE:
                pair = "B" if arm == "A" else "A"
                return [
                    f"{arm} = none: {other} with programme = false (the same households, "
                    "seeds and shocks),",
                    f"  each run followed as long as its paired {pair} run and measured "
                    "at that run's months",
                ]
        return []

    def _draws(self) -> str:
        """What varies between replications: seeds, or seeds and parameter sets."""
        return "seeds" if self.ensemble is None else "draws"

    def _ensemble_lines(self) -> list[str]:
        """What the intervals cover: the ensemble's draws, and what they leave alone."""
        if self.ensemble is None:
            return []
        lines = [
            f"parameter uncertainty: {self.ensemble['text']};",
            "  replication i of A and B share member i too, so the intervals cover "
            "parameter and seed uncertainty",
        ]
        if self.shares is not None:
            lines.append(
                "  the same pairs also ran on the same seeds without the draws (twice "
                "the runs): the last blocks split"
            )
            lines.append(
                "  the spread of B - A, parameter share = 1 - var seed only / var with "
                "ensemble (clipped to [0, 1])"
            )
        else:
            lines.append("  (not split into parameter and seed shares: shares=False)")
        fixed = [p for p in self.ensemble["parameters"] if p in self.overrides]
        if fixed:
            lines.append(f"  set for every draw (overrides): {', '.join(fixed)}")
        for arm, kept in self.ensemble.get("kept", {}).items():
            if kept:
                lines.append(
                    f"  kept from {arm}'s scenario (it sets them): {', '.join(kept)}"
                )
        return lines

    def _moment_months(self, moment: str) -> str:
        if moment == "cycle":
            return ""
        months = self.moments.loc[self.moments["moment"] == moment, "month"]
        months = months[np.isfinite(months.to_numpy(float))]
        if not len(months):
            return ": no run's cycle had ended"
        low, high = int(months.min()), int(months.max())
        return f": month {low}" if low == high else f": months {low}-{high}"

    def _notes(self) -> list[str]:
        notes = []
        ends = self.moments[self.moments["moment"] == "end"]
        for arm, name in zip(ARMS, (self.a, self.b), strict=True):
            mine = ends[ends["arm"] == arm]
            open_ = int(mine["month"].isna().sum())
            if open_:
                notes.append(
                    f"{arm} ({name}): the cycle had not ended by the months cap in "
                    f"{open_} of {len(mine)} runs; they have no end value, and their "
                    "follow-up is the cap"
                )
        if self.missing:
            notes.append(f"not recorded (skipped): {', '.join(self.missing)}")
        return ["", *notes] if notes else []

    def _months_text(self) -> str:
        """The months simulated: given, or each arm's own ("48", or "48/60")."""
        if self.months is not None:
            return str(self.months)
        return "/".join(dict.fromkeys(_months_of(self.records, arm) for arm in ARMS))

    def _title(self) -> str:
        drawn = ""
        if self.ensemble is not None:
            drawn = f", parameters drawn from ensemble {self.ensemble['name']}"
        return (
            f"A = {self.a}, B = {self.b}; {self.replications} paired replications of "
            f"{self._months_text()} months, master seed {self.master_seed}{drawn}"
        )

    def __repr__(self) -> str:
        """Two short lines: what was compared, and a few paired differences B - A."""
        table = self.summary(moments=["followup"])
        parts = []
        for r in table[table["outcome"].isin(REPR_OUTCOMES)].itertuples(index=False):
            fmt = _number_format(r.mean_a, r.mean_b, r.diff)
            clear = {True: "clear of 0", False: "not clear of 0"}.get(r.clear, "n/a")
            parts.append(f"{r.outcome} {r.diff:+{fmt}} ({clear}, d {_d_cell(r.d)})")
        text = (
            f"<Comparison: {self._title()}>\n  B - A at follow-up: {', '.join(parts)}"
        )
        if self.shares is not None:
            at = self.shares[
                (self.shares["moment"] == "followup")
                & self.shares["outcome"].isin(REPR_OUTCOMES)
            ]
            cells = [f"{r.outcome} {share_cell(r)}" for r in at.itertuples(index=False)]
            text += f"\n  parameter share of its spread: {', '.join(cells)}"
        return text

    def _repr_html_(self, level: float = 0.95) -> str:
        """A small HTML table: each outcome's means, B - A, its interval and d.

        With :attr:`shares`, also the parameter share of the spread of B - A.
        """
        shares = {}
        if self.shares is not None:
            shares = {
                (r.moment, r.outcome): share_cell(r)
                for r in self.shares.itertuples(index=False)
            }
        rows = []
        for r in self.summary(level).itertuples(index=False):
            fmt = _number_format(r.mean_a, r.mean_b, r.diff)
            ci, clear = _ci_cells(r, fmt)
            rows.append(
                (
                    r.outcome,
                    r.moment,
                    _value_cell(r.mean_a, fmt),
                    _value_cell(r.mean_b, fmt),
                    _value_cell(r.diff, "+" + fmt),
                    ci,
                    clear,
                    _d_cell(r.d),
                    *([shares.get((r.moment, r.outcome), "")] if shares else []),
                )
            )
        head = ["outcome", "moment", "mean A", "mean B", "B - A", f"{level:.0%} CI"]
        head += ["clear of 0", "d", *(["parameter share"] if shares else [])]
        return html_table(f"berdaya compare: {self._title()}", head, rows)

    def to_file(self, path: str | Path) -> Path:
        """Write the per-replication outcomes at both moments to ``.csv`` or ``.parquet``.

        A row per run and moment (:attr:`moments`, with ``moment`` and ``month``), and
        the cycle's outcomes of the run on each of its rows. Parquet files also carry the
        scenarios, master seed, months, overrides, ensemble draws and the parameter
        shares of the spread (:attr:`shares`, as records) as metadata. The file appears
        whole or not at all.

        Args:
            path: Destination ending in ``.csv`` or ``.parquet``.

        Returns:
            The path written.

        Raises:
            ValueError: For any other file ending.
        """
        meta = {
            "a": self.a,
            "b": self.b,
            "master_seed": self.master_seed,
            "seeds": self.seeds,
            "months": self.months,
            "overrides": self.overrides,
            "outcomes": list(self.outcomes),
        }
        if self.ensemble is not None:
            meta["ensemble"] = self.ensemble
        if self.shares is not None:
            meta["shares"] = shares_meta(self.shares)
        table = self.moments.merge(
            self.cycle, on=id_columns(self.moments), how="left", validate="many_to_one"
        )
        return write_table(table, path, meta)


def id_columns(frame: pd.DataFrame) -> list[str]:
    """The identifying columns of a comparison's table.

    :data:`ID_COLUMNS`, and :data:`MEMBER` when its runs drew parameter sets from an
    ensemble.
    """
    return [c for c in (*ID_COLUMNS, MEMBER) if c in frame.columns]


def _months_of(records: pd.DataFrame, arm: str) -> str:
    return str(int(records.loc[records["arm"] == arm, "month"].max()))


def _ci_cells(r: Any, fmt: str) -> tuple[str, str]:
    """An outcome's interval and whether it is clear of zero, as two table cells."""
    if math.isnan(r.ci_low):
        return "n/a", "n/a"
    return f"[{r.ci_low:{fmt}}, {r.ci_high:{fmt}}]", "yes" if r.clear else "no"


def _value_cell(value: float, fmt: str) -> str:
    return "n/a" if math.isnan(value) else format(value, fmt)


def _d_cell(d: float) -> str:
    """An effect size as a table cell ("n/a" when undefined), about five characters."""
    if math.isnan(d):
        return "n/a"
    if math.isinf(d):
        return "+inf" if d > 0 else "-inf"
    if abs(d) >= 1000:
        return f"{d:+.0e}"
    if abs(d) >= 100:
        return f"{d:+.0f}"
    return f"{d:+.1f}" if abs(d) >= 10 else f"{d:+.2f}"


def _table_row(r: Any) -> str:
    """One outcome's line of :meth:`Comparison.table`."""
    fmt = _number_format(r.mean_a, r.mean_b, r.diff)
    ci, clear = _ci_cells(r, fmt)
    return (
        f"{r.outcome:<26} {_value_cell(r.mean_a, fmt):>10} "
        f"{_value_cell(r.mean_b, fmt):>10} {_value_cell(r.diff, '+' + fmt):>10}  "
        f"{ci:^23}  {clear:<10} {_d_cell(r.d):>6}"
    )


def _number_format(*values: float) -> str:
    finite = [abs(v) for v in values if math.isfinite(v)]
    top = max(finite, default=0.0)
    return ".1f" if top >= 100 else ".2f" if top >= 10 else ".4f"


def _check_suffix(path: Path, allowed: Iterable[str], option: str) -> str:
    allowed = tuple(allowed)
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise ValueError(f"{option}: '{path}' must end in {' or '.join(allowed)}")
    return suffix


class Arm(NamedTuple):
    """One arm of a comparison: a scenario with its parameter values.

    Attributes:
        label: The arm's label (``A``, ``B``, a lever's name).
        scenario: Shipped name or TOML path, as :func:`run` takes it.
        name: The name shown for it (``none`` for a no-programme arm).
        overrides: Every parameter value the arm sets (shared and its own).
        programme: Whether the arm runs the programme.
        follows: Label of the arm whose runs it is followed as long as and measured at
            (a no-programme arm); ``None``: its own.
        calibrated: The calibrated parameters a replication's ensemble member sets
            on this arm (:meth:`~berdaya.experiments.ensemble.Ensemble.supplied`).
    """

    label: str
    scenario: str
    name: str
    overrides: dict[str, Any]
    programme: bool = True
    follows: str | None = None
    calibrated: tuple[str, ...] = ()

    def values(self, member: Member | None) -> dict[str, Any]:
        """The arm's overrides in a replication: its own over the member's."""
        if member is None:
            return self.overrides
        drawn = {k: v for k, v in member.values.items() if k in self.calibrated}
        return {**drawn, **self.overrides}


class Task(NamedTuple):
    """One replication of some arms: each run with the replication's seed, in order.

    With an ensemble, every arm also runs with the replication's ``member``.
    """

    replication: int
    seed: int
    months: int | None
    arms: tuple[Arm, ...]
    member: Member | None = None


def run_replication(task: Task) -> pd.DataFrame:
    """Run one task (a top-level function, so spawned worker processes can import it).

    An arm that follows another runs after it, to exactly the month that run ended.

    Args:
        task: What to run.

    Returns:
        Each arm's monthly records in turn, with :data:`ID_COLUMNS` first (and
        :data:`MEMBER` with a member).
    """
    out: dict[str, pd.DataFrame] = {}
    frames = []
    for arm in task.arms:
        until = None
        if arm.follows is not None:
            until = int(out[arm.follows]["month"].iloc[-1])
        rec = run(
            arm.scenario,
            task.seed,
            months=task.months,
            overrides=arm.values(task.member),
            until=until,
        ).records
        out[arm.label] = rec
        ids: dict[str, Any] = {
            "arm": arm.label,
            "scenario": arm.name,
            "replication": task.replication,
            "seed": task.seed,
        }
        if task.member is not None:
            ids[MEMBER] = task.member.index
        frames.append(pd.concat([pd.DataFrame(ids, index=rec.index), rec], axis=1))
    return pd.concat(frames, ignore_index=True)


def replication_key(task: Task) -> str:
    """A task's key (:func:`~berdaya.experiments.engine.task_key`) for a store.

    It covers every arm's resolved parameter values (so an edited scenario file gives
    another key), its label, name and leader, the seed, the months cap and the member.
    """
    arms = [
        {
            "label": arm.label,
            "name": arm.name,
            "follows": arm.follows,
            "params": load_scenario(
                arm.scenario, arm.values(task.member)
            ).params.model_dump(mode="json"),
        }
        for arm in task.arms
    ]
    member = None if task.member is None else task.member.index
    return task_key(
        study="compare", seed=task.seed, months=task.months, member=member, arms=arms
    )


#: The engine's in-memory runner, under the name scripts know.
run_tasks = run_all


def run_arms(
    arms: Sequence[Arm],
    seeds: Sequence[int],
    months: int | None,
    workers: int,
    *,
    desc: str,
    progress: bool = False,
    members: Sequence[Member] | None = None,
    store: str | Path | None = None,
) -> pd.DataFrame:
    """Run every arm with every replication's seed; an arm and its followers together.

    Args:
        arms: The arms; a follower's leader must be among them.
        seeds: Seed of each replication, shared by every arm.
        months: Months cap of every run (``None``: each scenario's own).
        workers: Local processes.
        desc: Label of the progress bar.
        progress: Show a progress bar on stderr (when it is a terminal).
        members: Ensemble member of each replication, shared by every arm (``None``:
            none drawn).
        store: A folder keeping every replication's runs as they finish
            (:func:`~berdaya.experiments.engine.run_stored`): the runs already there
            are read, not run again; ``None``: none.

    Returns:
        The monthly records of every run, with :data:`ID_COLUMNS` first (and
        :data:`MEMBER` with ``members``), in the order (replication, arm).
    """
    order = {arm.label: i for i, arm in enumerate(arms)}
    groups = [
        (arm, *(f for f in arms if f.follows == arm.label))
        for arm in arms
        if arm.follows is None
    ]
    drawn = list(members) if members is not None else [None] * len(seeds)
    tasks = [
        Task(i, s, months, group, drawn[i])
        for i, s in enumerate(seeds)
        for group in groups
    ]
    stored = run_stored(
        run_replication,
        tasks,
        workers,
        key=replication_key,
        store=store,
        kind="compare",
        progress=desc if progress else None,
        runs=lambda task: len(task.arms),
    )
    records = pd.concat([table for _, table in stored], ignore_index=True)
    rank = records["arm"].map(order).to_numpy()
    rows = np.lexsort((rank, records["replication"].to_numpy()))  # stable
    return records.iloc[rows].reset_index(drop=True)


def outcomes_at(
    records: pd.DataFrame, arms: Sequence[Arm], outcomes: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each run's outcomes at its two moments, and how its cycle ended.

    Args:
        records: Monthly records of every run (:func:`run_arms`).
        arms: The arms that ran.
        outcomes: Outcomes to take.

    Returns:
        ``(moments, cycle)``: a row per run and moment with the identifying columns
        (:func:`id_columns`), ``moment``, ``month`` and the outcomes; a row per run with
        the identifying columns and :data:`CYCLE_OUTCOMES` (NaN for a run without the programme, and ``exit_month``
        NaN while the cycle runs).
    """
    by_label = {arm.label: arm for arm in arms}
    runs = {
        key: rec.set_index("month", drop=False)
        for key, rec in records.groupby(["arm", "replication"], sort=False)
    }
    when: dict[tuple[str, int], tuple[float, float]] = {}
    for (label, rep), rec in runs.items():
        last = rec.iloc[-1]
        exit_month = float(last["exit_month"])
        end = exit_month if exit_month >= 0 else math.nan
        when[label, rep] = (end, float(last["month"]))
    moment_rows, cycle_rows = [], []
    id_cols = id_columns(records)
    for (label, rep), rec in runs.items():
        arm = by_label[label]
        end, followup = when[arm.follows or label, rep]
        ids = dict(zip(id_cols, rec.iloc[0][id_cols], strict=True))
        for moment, month in zip(MOMENTS, (end, followup), strict=True):
            values = (
                rec.loc[int(month), list(outcomes)]
                if math.isfinite(month)
                else pd.Series(math.nan, index=list(outcomes))
            )
            moment_rows.append(
                {**ids, "moment": moment, "month": month, **values.to_dict()}
            )
        last = rec.iloc[-1]
        cycle = dict.fromkeys(CYCLE_OUTCOMES, math.nan)
        if arm.programme:
            cycle = {k: float(last[k]) for k in CYCLE_OUTCOMES}
            cycle["exit_month"] = end
        cycle_rows.append({**ids, **cycle})
    moments = pd.DataFrame(
        moment_rows, columns=[*id_cols, "moment", "month", *outcomes]
    )
    cycle = pd.DataFrame(cycle_rows, columns=[*id_cols, *CYCLE_OUTCOMES])
    return moments, cycle


def _check_arguments(replications: int, workers: int, seed: int, months: Any) -> None:
    for name, value, low in (
        ("replications", replications, 1),
        ("workers", workers, 1),
        ("seed", seed, 0),
        *([("months", months, 1)] if months is not None else []),
    ):
        check_int(name, value, low, ValueError)


def make_arm(
    label: str,
    scenario: str | Path,
    overrides: dict[str, Any],
    months: int | None,
    *,
    follows: str | None = None,
) -> Arm:
    """An arm of a comparison, its scenario and values checked before anything runs.

    Args:
        label: The arm's label.
        scenario: Shipped name or TOML path.
        overrides: Every parameter value the arm sets.
        months: The months cap (checked with the values).
        follows: Label of the arm it follows (a no-programme arm).

    Returns:
        The :class:`Arm` (named ``none`` when it follows another).

    Raises:
        ScenarioError: Invalid scenario or value.
    """
    checked = dict(overrides)
    if months is not None:
        checked["months"] = months
    loaded = load_scenario(scenario, checked)
    return Arm(
        label,
        str(scenario),
        NONE if follows is not None else loaded.name,
        overrides,
        bool(loaded.params.programme),
        follows,
    )


def compare(  # noqa: PLR0917 (the positional signature scripts call)
    a: str | Path,
    b: str | Path,
    replications: int = DEFAULT_PAIRED_REPLICATIONS,
    seed: int = 0,
    months: int | None = None,
    overrides: dict[str, Any] | None = None,
    workers: int = 1,
    *,
    outcomes: Sequence[str] = HEADLINE_OUTCOMES,
    progress: bool = False,
    ensemble: str | Path | Ensemble | None = None,
    shares: bool = True,
    store: str | Path | None = None,
) -> Comparison:
    """Run scenarios A and B over the same paired seeds and collect their outcomes.

    Either arm may be ``none`` (:data:`NONE`): the other arm's scenario without the
    programme, followed as long as its paired run and measured at that run's months.
    With ``ensemble``, replication ``i`` of both arms also runs with member ``i`` drawn
    from it (see the module doc), and the intervals cover parameter uncertainty; with
    ``shares`` too, the seed-only pairs run as well, on the same seeds, and
    :attr:`Comparison.shares` says which share of the spread of B - A comes from the
    parameters and which from the seeds.

    The default is explicit: ``ensemble=None`` draws nothing, even for scenarios built
    on the observed case, whose shipped ensemble ``berdaya compare`` draws from unless
    told ``--ensemble none``; pass ``ensemble="kedungkandang-2008"`` (or
    :func:`~berdaya.experiments.ensemble.ensemble_for` of the scenarios) for the same.

    Args:
        a: Scenario A (shipped name or TOML path, or ``none``), the reference.
        b: Scenario B (or ``none``); differences are B - A.
        replications: Number of paired replications (at least 1).
        seed: Master seed the replication seeds are spawned from.
        months: Months cap of every run (default: each scenario's own).
        overrides: Parameter values applied to both scenarios.
        workers: Processes to run in; 1 runs in this process.
        outcomes: Outcomes to compare at the two moments (missing ones are skipped).
        progress: Show a progress bar on stderr (when it is a terminal).
        ensemble: A posterior ensemble to draw each replication's calibrated
            parameters from: a shipped name (``kedungkandang-2008``), a ``.parquet``
            path, or an opened :class:`~berdaya.experiments.ensemble.Ensemble`;
            ``None`` (the default): the scenarios' own values (seed uncertainty
            only).
        shares: With an ensemble, also run the seed-only pairs (twice the runs) and
            split the spread of B - A (:attr:`Comparison.shares`); ``False`` skips
            them. Ignored without an ensemble.
        store: A folder keeping every replication's runs as they finish
            (:mod:`~berdaya.experiments.store`): the same comparison again (after an
            interruption, say) reads the runs there and runs only the others; the
            results are the same as without it. ``None``: none.

    Returns:
        The :class:`Comparison`.

    Raises:
        ScenarioError: Invalid scenario or override; raised before any run.
        EnsembleError: The ensemble cannot be read, or an arm's scenario is neither
            the one it was calibrated on nor built on it; raised before any run.
        ValueError: Invalid argument (replications, workers, seed, months, both none).
        SweepError: ``store`` is not a comparison's store (a file, other files).
    """
    _check_arguments(replications, workers, seed, months)
    if store is not None:
        TaskStore(store).check("compare")
    replications, workers, seed = int(replications), int(workers), int(seed)
    months = None if months is None else int(months)
    overrides = plain_values(overrides)
    arms = _arms_of(a, b, overrides, months)
    seeds = replication_seeds(seed, replications)
    plain = arms
    members, drawn = None, None
    if ensemble is not None:
        arms, members, drawn = draw_for(ensemble, arms, overrides, seed, replications)
    desc = f"{arms[0].name} vs {arms[1].name}"
    run_pairs = partial(
        run_arms, seeds=seeds, months=months, workers=workers, store=store
    )
    records = run_pairs(arms, desc=desc, progress=progress, members=members)
    present = tuple(o for o in outcomes if o in records.columns)
    missing = tuple(o for o in outcomes if o not in records.columns)
    moments, cycle = outcomes_at(records, arms, present)
    finals = moments.loc[
        moments["moment"] == "followup", [*id_columns(moments), *present]
    ]
    seed_only, split = None, None
    if members is not None and shares:
        alone = run_pairs(plain, desc=f"{desc}, seeds only", progress=progress)
        seed_only, _ = outcomes_at(alone, plain, present)
        split = parameter_shares(seed_only, moments, present, MOMENTS, seed=seed)
    return Comparison(
        a=arms[0].name,
        b=arms[1].name,
        master_seed=seed,
        seeds=seeds,
        months=months,
        overrides=overrides,
        finals=finals.reset_index(drop=True),
        records=records,
        outcomes=present,
        missing=missing,
        moments=moments,
        cycle=cycle,
        ensemble=drawn,
        shares=split,
        seed_only=seed_only,
    )


def _arms_of(
    a: str | Path, b: str | Path, overrides: dict[str, Any], months: int | None
) -> list[Arm]:
    """The two arms; ``none`` is the other arm's scenario without the programme."""
    if str(a) == NONE and str(b) == NONE:
        raise ValueError(
            "A and B are both 'none': 'none' is the other arm's scenario without the "
            "programme, so give a scenario for one of them"
        )
    arms = []
    for label, scen, other, other_label in (("A", a, b, "B"), ("B", b, a, "A")):
        if str(scen) == NONE:
            off = {**overrides, "programme": False}
            arms.append(make_arm(label, other, off, months, follows=other_label))
        else:
            arms.append(make_arm(label, scen, overrides, months))
    return arms


def draw_for(
    ensemble: str | Path | Ensemble,
    arms: Sequence[Arm],
    overrides: dict[str, Any],
    seed: int,
    replications: int,
) -> tuple[list[Arm], list[Member], dict[str, Any]]:
    """Draw each replication's member and say which parameters it sets on each arm.

    Args:
        ensemble: A shipped name, a ``.parquet`` path or an opened ensemble.
        arms: The arms (their scenarios are checked against the ensemble's).
        overrides: The user's values, which the members never replace.
        seed: Master seed (the members' too).
        replications: Replications (a member each).

    Returns:
        The arms with their ``calibrated`` parameters, the members, and the record of
        the draws (:attr:`Comparison.ensemble`).

    Raises:
        EnsembleError: As :func:`compare`.
    """
    opened = ensemble if isinstance(ensemble, Ensemble) else open_ensemble(ensemble)
    kept: dict[str, list[str]] = {}
    ready = []
    for arm in arms:
        supplied, own = opened.supplied(arm.scenario, overrides)
        ready.append(arm._replace(calibrated=supplied))
        if own and arm.follows is None:
            kept[f"{arm.label} ({arm.name})"] = list(own)
    members = opened.members(seed, replications)
    record = {
        **opened.summary(members),
        "text": opened.describe(replications),
        "kept": kept,
    }
    return ready, members, record

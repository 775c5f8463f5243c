"""Two scenarios, paired seeds: differences of the headline outcomes with confidence intervals.

Replication ``i`` of both scenarios runs with the same seed, drawn from
``numpy.random.SeedSequence(master_seed).spawn(n)``, so the two runs of a pair share their
random population and network and differ only by what the scenarios change. The paired
differences ``d_i = B_i - A_i`` then carry far less noise than two independent samples.
Every replication's seed is kept in the outputs, so any run can be replayed alone with
``berdaya run --scenario ... --seed ...``.
"""

from __future__ import annotations

import html
import math
import multiprocessing
import numbers
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from berdaya.experiments.files import atomic_write, write_table
from berdaya.experiments.run import run
from berdaya.scenarios import load_scenario
from berdaya.scenarios.loader import plain_values

#: Final-month outcomes compared by default, in print order. Extend here; outcomes
#: absent from the records are skipped.
HEADLINE_OUTCOMES: tuple[str, ...] = (
    "powerless_poor",
    "penyadaran_poor",
    "pengkapasitasan_poor",
    "pendayaan_poor",
    "forced_share_of_pendayaan",
    "forced_count",
    "poverty_rate",
    "participation_poor",
    "bkm_stage",
    "bkm_locus",
    "gov_support",
    "tendency_cumulative",
    "repayment_rate",
    "portfolio_at_risk",
    "loan_poor_share",
    "poverty_gap_initially_poor",
    "welfare_initially_poor",
    "elite_capture_index",
)

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
SUMMARY_COLUMNS = (
    "outcome",
    "mean_a",
    "mean_b",
    "diff",
    "ci_low",
    "ci_high",
    "clear",
    "sd",
    "n",
)


def replication_seeds(master_seed: int, replications: int) -> list[int]:
    """Seeds of the replications, one per child of ``SeedSequence(master_seed)``.

    Args:
        master_seed: Non-negative master seed.
        replications: Number of replications.

    Returns:
        ``replications`` integer seeds in ``[0, 2**32)``; the same arguments always give
        the same list, and a list for ``n`` is the start of the list for ``n + 1``.
    """
    children = np.random.SeedSequence(master_seed).spawn(replications)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


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


@dataclass(repr=False)
class Comparison:
    """The result of comparing scenario B with scenario A over paired replications.

    Attributes:
        a: Name of scenario A.
        b: Name of scenario B.
        master_seed: The seed the replication seeds were spawned from.
        seeds: Seed of replication ``i`` (shared by A and B).
        months: Months simulated (``None``: each scenario's own).
        overrides: Parameter values applied to both scenarios.
        finals: A row per run: ``arm`` (A/B), ``scenario``, ``replication``, ``seed`` and
            the final-month value of every outcome compared.
        records: Monthly records of every run, with the same four identifying columns.
        outcomes: Outcomes compared (the headline outcomes present in the records).
        missing: Requested outcomes the records do not have (skipped).
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

    @property
    def replications(self) -> int:
        """Number of paired replications."""
        return len(self.seeds)

    def paired(self, outcome: str) -> tuple[np.ndarray, np.ndarray]:
        """Final values of one outcome for A and B, aligned by replication."""
        wide = self.finals.pivot(index="replication", columns="arm", values=outcome)
        return wide["A"].to_numpy(float), wide["B"].to_numpy(float)

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """A row per outcome: means, paired difference B - A, its interval, clear of zero.

        Args:
            level: Confidence level of the intervals.

        Returns:
            Columns ``outcome, mean_a, mean_b, diff, ci_low, ci_high, clear, sd, n``;
            ``clear`` is a nullable boolean (missing when there is one replication).
        """
        rows = []
        for name in self.outcomes:
            a, b = self.paired(name)
            ok = np.isfinite(a) & np.isfinite(b)
            mean, sd, low, high, clear = paired_ci(b[ok] - a[ok], level)
            rows.append(
                {
                    "outcome": name,
                    "mean_a": float(a[ok].mean()) if ok.any() else math.nan,
                    "mean_b": float(b[ok].mean()) if ok.any() else math.nan,
                    "diff": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "clear": clear,
                    "sd": sd,
                    "n": int(ok.sum()),
                }
            )
        table = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
        table["clear"] = table["clear"].astype("boolean")
        return table

    def table(self, level: float = 0.95) -> str:
        """The summary as aligned, readable text (what ``berdaya compare`` prints)."""
        s = self.summary(level)
        months = self._months_text()
        sets = ", ".join(f"{k}={v}" for k, v in self.overrides.items()) or "none"
        shown = ", ".join(str(x) for x in self.seeds[:3])
        if len(self.seeds) > 3:
            shown += ", ..."
        pct = f"{level:.0%}"
        lines = [
            f"berdaya compare: A = {self.a}, B = {self.b}",
            f"{self.replications} paired replications of {months} months, "
            f"overrides: {sets}",
            f"master seed {self.master_seed}; replication i of A and B share seed i "
            f"({shown})",
            "",
        ]
        head = (
            f"{'outcome':<26} {'mean A':>10} {'mean B':>10} {'B - A':>10}  "
            f"{pct + ' CI':^23}  clear of 0"
        )
        lines += [head, "-" * len(head)]
        for r in s.itertuples(index=False):
            fmt = _number_format(r.mean_a, r.mean_b, r.diff)
            ci, clear = _ci_cells(r, fmt)
            lines.append(
                f"{r.outcome:<26} {r.mean_a:>10{fmt}} {r.mean_b:>10{fmt}} "
                f"{r.diff:>+10{fmt}}  {ci:^23}  {clear}"
            )
        if self.missing:
            lines += ["", f"not recorded (skipped): {', '.join(self.missing)}"]
        return "\n".join(lines)

    def _months_text(self) -> str:
        """The months simulated: given, or each arm's own ("48", or "48/60")."""
        if self.months is not None:
            return str(self.months)
        return "/".join(dict.fromkeys(_months_of(self.records, arm) for arm in ARMS))

    def _title(self) -> str:
        return (
            f"A = {self.a}, B = {self.b}; {self.replications} paired replications of "
            f"{self._months_text()} months, master seed {self.master_seed}"
        )

    def __repr__(self) -> str:
        """Two short lines: what was compared, and a few paired differences B - A."""
        table = self.summary()
        parts = []
        for r in table[table["outcome"].isin(REPR_OUTCOMES)].itertuples(index=False):
            fmt = _number_format(r.mean_a, r.mean_b, r.diff)
            clear = {True: "clear of 0", False: "not clear of 0"}.get(r.clear, "n/a")
            parts.append(f"{r.outcome} {r.diff:+{fmt}} ({clear})")
        return f"<Comparison: {self._title()}>\n  B - A: {', '.join(parts)}"

    def _repr_html_(self, level: float = 0.95) -> str:
        """A small HTML table: each outcome's means, B - A and its interval."""
        rows = []
        for r in self.summary(level).itertuples(index=False):
            fmt = _number_format(r.mean_a, r.mean_b, r.diff)
            ci, clear = _ci_cells(r, fmt)
            cells = (
                f"{r.mean_a:{fmt}}",
                f"{r.mean_b:{fmt}}",
                f"{r.diff:+{fmt}}",
                ci,
                clear,
            )
            rows.append(
                f"<tr><td><code>{html.escape(r.outcome)}</code></td>"
                + "".join(
                    f'<td style="text-align:right">{html.escape(c)}</td>' for c in cells
                )
                + "</tr>"
            )
        head = "".join(
            f"<th>{h}</th>"
            for h in (
                "outcome",
                "mean A",
                "mean B",
                "B - A",
                f"{level:.0%} CI",
                "clear of 0",
            )
        )
        return (
            f"<table><caption>berdaya compare: {html.escape(self._title())}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )

    def to_file(self, path: str | Path) -> Path:
        """Write the per-replication finals to ``.csv`` or ``.parquet``, atomically.

        Parquet files also carry the scenarios, master seed, months and overrides as
        metadata. The file appears whole or not at all.

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

        return write_table(self.finals, path, meta)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _months_of(records: pd.DataFrame, arm: str) -> str:
    return str(int(records.loc[records["arm"] == arm, "month"].max()))


def _ci_cells(r: Any, fmt: str) -> tuple[str, str]:
    """An outcome's interval and whether it is clear of zero, as two table cells."""
    if math.isnan(r.ci_low):
        return "n/a", "n/a"
    return f"[{r.ci_low:{fmt}}, {r.ci_high:{fmt}}]", "yes" if r.clear else "no"


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


class Task(NamedTuple):
    """One run of a comparison: an arm's scenario with one replication's seed."""

    arm: str
    scenario: str
    replication: int
    seed: int
    months: int | None
    overrides: dict[str, Any]


def run_replication(task: Task) -> tuple[Task, pd.DataFrame]:
    """Run one task (a top-level function, so spawned worker processes can import it).

    Args:
        task: What to run.

    Returns:
        The task and the run's monthly records.
    """
    result = run(task.scenario, task.seed, months=task.months, overrides=task.overrides)
    return task, result.records


def run_tasks[T, R](fn: Callable[[T], R], tasks: list[T], workers: int) -> Iterator[R]:
    """Run ``fn`` on every task, here or on local processes, yielding results as they come.

    Args:
        fn: A top-level (importable) function: workers start cold with *spawn*, whatever
            the platform's default, so no forked copy of this process's state is used.
        tasks: Its arguments, one per call.
        workers: Local processes (1: in this process, in order).

    Yields:
        Results, in order with one worker, as they complete with more.
    """
    if workers == 1:
        yield from map(fn, tasks)
        return
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(tasks)),
        mp_context=multiprocessing.get_context("spawn"),
    )
    try:
        pending = {pool.submit(fn, t) for t in tasks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for fut in done:
                yield fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def compare(  # noqa: PLR0917 (the positional signature scripts call)
    a: str | Path,
    b: str | Path,
    replications: int = 30,
    seed: int = 0,
    months: int | None = None,
    overrides: dict[str, Any] | None = None,
    workers: int = 1,
    *,
    outcomes: Sequence[str] = HEADLINE_OUTCOMES,
    progress: bool = False,
) -> Comparison:
    """Run scenarios A and B over the same paired seeds and collect their outcomes.

    Args:
        a: Scenario A (shipped name or TOML path), the reference.
        b: Scenario B; differences are B - A.
        replications: Number of paired replications (at least 1).
        seed: Master seed the replication seeds are spawned from.
        months: Months to simulate (default: each scenario's own).
        overrides: Parameter values applied to both scenarios.
        workers: Processes to run in; 1 runs in this process.
        outcomes: Final-month outcomes to compare (missing ones are skipped).
        progress: Show a progress bar on stderr (when it is a terminal).

    Returns:
        The :class:`Comparison`.

    Raises:
        ScenarioError: Invalid scenario or override; raised before any run.
        ValueError: Invalid argument (replications, workers, seed, months).
    """
    for name, value, low in (
        ("replications", replications, 1),
        ("workers", workers, 1),
        ("seed", seed, 0),
    ):
        if not _is_int(value) or value < low:
            raise ValueError(f"{name} must be an integer >= {low} (got {value!r})")
    if months is not None and (not _is_int(months) or months < 1):
        raise ValueError(f"months must be an integer >= 1 (got {months!r})")
    replications, workers, seed = int(replications), int(workers), int(seed)
    months = None if months is None else int(months)
    overrides = plain_values(overrides)
    checked = dict(overrides)
    if months is not None:
        checked["months"] = months
    names = [load_scenario(s, checked).name for s in (a, b)]
    seeds = replication_seeds(seed, replications)
    tasks = [
        Task(arm, str(scen), i, s, months, overrides)
        for i, s in enumerate(seeds)
        for arm, scen in zip(ARMS, (a, b), strict=True)
    ]
    bar = tqdm(
        total=len(tasks),
        desc=f"{names[0]} vs {names[1]}",
        unit="run",
        file=sys.stderr,
        disable=None if progress else True,
    )
    results = []
    try:
        for result in run_tasks(run_replication, tasks, workers):
            results.append(result)
            bar.update()
    finally:
        bar.close()
    results.sort(key=lambda r: (r[0].replication, ARMS.index(r[0].arm)))
    frames = []
    for task, rec in results:
        ids = {
            "arm": task.arm,
            "scenario": names[ARMS.index(task.arm)],
            "replication": task.replication,
            "seed": task.seed,
        }
        frames.append(pd.concat([pd.DataFrame(ids, index=rec.index), rec], axis=1))
    records = pd.concat(frames, ignore_index=True)
    present = tuple(o for o in outcomes if o in records.columns)
    missing = tuple(o for o in outcomes if o not in records.columns)
    last = records.groupby(["arm", "replication"], sort=False)["month"].transform("max")
    finals = records.loc[records["month"] == last, [*ID_COLUMNS, *present]]
    return Comparison(
        a=names[0],
        b=names[1],
        master_seed=seed,
        seeds=seeds,
        months=months,
        overrides=overrides,
        finals=finals.reset_index(drop=True),
        records=records,
        outcomes=present,
        missing=missing,
    )


def plot_formats() -> tuple[str, ...]:
    """File endings :func:`plot_envelopes` can write (``.png``, ``.pdf``, ``.svg``...)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415

    return tuple(f".{k}" for k in FigureCanvasAgg.get_supported_filetypes())


def plot_envelopes(
    comparison: Comparison,
    path: str | Path,
    outcomes: Sequence[str] | None = None,
    *,
    low: float = 0.1,
    high: float = 0.9,
    ncols: int = 4,
) -> Path:
    """Draw the monthly envelopes of both scenarios, a small panel per outcome.

    Each panel shows, for A and B, the median across replications month by month and
    the band between the ``low`` and ``high`` quantiles. Drawn with the Agg canvas
    directly (no pyplot, whatever backend is set), written atomically.

    Args:
        comparison: A finished :class:`Comparison`.
        path: Image file to write (``.png`` and the other formats Agg writes).
        outcomes: Outcomes to draw (default: all compared outcomes).
        low: Lower quantile of the band.
        high: Upper quantile of the band.
        ncols: Panels per row.

    Returns:
        The path written.
    """
    # matplotlib is imported here, not at the top: `berdaya run` need not pay for it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.lines import Line2D  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415

    path = Path(path)
    suffix = _check_suffix(path, plot_formats(), "--plot")
    names = list(outcomes or comparison.outcomes)
    recs = comparison.records
    ncols = max(1, min(ncols, len(names)))
    nrows = math.ceil(len(names) / ncols)
    fig = Figure(figsize=(3.2 * ncols, 2.4 * nrows + 0.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
    colours = {"A": "tab:blue", "B": "tab:orange"}
    for ax, name in zip(axes.flat, names, strict=False):
        for arm in ARMS:
            sel = recs.loc[recs["arm"] == arm].groupby("month")[name]
            q = sel.quantile([low, 0.5, high]).unstack()
            ax.fill_between(
                q.index, q[low], q[high], color=colours[arm], alpha=0.25, lw=0
            )
            ax.plot(q.index, q[0.5], color=colours[arm], lw=1.5)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel(OUTCOME_UNITS.get(name, name), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3, lw=0.5)
    for i, ax in enumerate(axes.flat):
        if i >= len(names):
            ax.set_visible(False)
        elif i + ncols >= len(names):
            # the lowest panel of its column carries the month axis
            ax.set_xlabel("month", fontsize=8)
            ax.xaxis.set_tick_params(labelbottom=True)
    band = f"{low:.0%}-{high:.0%}"
    handles, labels = [], []
    for arm, scen in zip(ARMS, (comparison.a, comparison.b), strict=True):
        handles += [
            Line2D([], [], color=colours[arm], lw=1.5),
            Patch(color=colours[arm], alpha=0.25),
        ]
        labels += [f"{arm}: {scen} (median)", f"{arm}: {scen} ({band} band)"]
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8)
    fig.suptitle(
        f"{comparison.replications} paired replications, master seed "
        f"{comparison.master_seed}",
        fontsize=10,
    )
    return atomic_write(
        path, lambda tmp: fig.savefig(tmp, format=suffix.lstrip("."), dpi=110)
    )

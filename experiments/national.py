"""National programmes: thousands of kelurahan, each an independent run, added up.

A national spec is a sweep spec (:mod:`berdaya.experiments.spec`) whose design points are
kelurahan: an ``lhs`` design draws each kelurahan's size, poverty and elites from ranges
(``design.samples`` kelurahan; ``--kelurahan N`` draws N instead), one replication each,
with ``design.seeds = "independent"`` (so no base point). It runs through
:func:`~berdaya.experiments.sweep.run_sweep` like any sweep: on local processes, a Dask
``LocalCluster`` or a Dask scheduler, one file per kelurahan in ``runs/`` as it finishes,
resumed by running the same command again. Then the kelurahan on disk are added up, month
by month (:func:`national_totals`), into ``national.csv`` and ``national.parquet`` in the
same folder. Each outcome adds up as the record registry says
(:mod:`berdaya.model.registry`), the same way a city's records come from its kelurahan's,
so a national total and a city total of the same record agree:

* ``sum``: counts and money (households forced, rupiah lent...) are summed;
* ``mean``: a quantity of the kelurahan itself (its board, government support, its cycle)
  is averaged over kelurahan; a yes/no (``bkm_formed``) is then the share of kelurahan,
  and also given as a count, ``<outcome>_kelurahan``;
* ``households`` and ``ratio``: a share or mean is weighted by what it is a share or mean
  of (the kelurahan's households for ``*_all``, its poor that month, ``poverty_rate`` x
  households, for ``*_poor``, the principal due for the repayment rate...); a share of
  households is also given as a national count, ``<outcome>_households``;
* ``latest``: ``exit_month`` is -1 while any kelurahan's programme runs, then the last.

Besides, with ``bkm_formed`` kept, ``bkm_stage`` gives the number of formed BKMs at each
institutional stage, ``bkm_inisiasi``, ``bkm_partisipatoris`` and ``bkm_emansipatoris``.

An outcome kept whose denominator is not recorded (the Gini of welfare, the elite
capture index, the women's stage shares, the initially poor's welfare, the shares of the
beneficiaries of loans, works and aid, the tendency index of the effort) has no national
value from kelurahan records alone: it stays in the per-kelurahan files and is listed as
not aggregated.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from berdaya.agents.bkm import InstitutionalStage
from berdaya.experiments.defaults import DEFAULT_CLUSTER_TIMEOUT_S, DEFAULT_SPEC
from berdaya.experiments.display import MAX_NAMED, html_table, value_text
from berdaya.experiments.errors import check_int
from berdaya.experiments.files import write_table
from berdaya.experiments.limits import MAX_RUNS
from berdaya.experiments.spec import SweepError, SweepSpec, load_spec, parse_spec
from berdaya.experiments.sweep import (
    SweepFolder,
    SweepProgress,
    read_results,
    run_sweep,
    toml_of,
)
from berdaya.model.registry import (
    HEADLINE,
    HOUSEHOLDS,
    IN_PENDAYAAN,
    NONPOOR,
    PAID_OUT,
    POOR,
    RECORDS,
    STAGE_NAMES,
    Record,
)

#: The per-month national table, in the results folder.
TOTALS_FILES = ("national.csv", "national.parquet")

BKM_STAGES = tuple(s.name.lower() for s in InstitutionalStage)


def check_national(spec: SweepSpec) -> None:
    """Check that a sweep spec describes a national programme that can be added up.

    Args:
        spec: The spec.

    Raises:
        SweepError: One line saying what the spec must say instead.
    """
    src = spec.source
    if spec.design != "lhs":
        raise SweepError(
            f'{src}: a national spec draws its kelurahan with design.kind = "lhs" '
            f"(got {spec.design!r})"
        )
    if spec.replications != 1:
        raise SweepError(
            f"{src}: a national spec runs each kelurahan once: replications = 1 "
            f"(got {spec.replications})"
        )
    if spec.paired:
        raise SweepError(
            f'{src}: a national spec needs design.seeds = "independent" (and base = '
            "false): kelurahan are different places and share no random numbers"
        )
    given = set(spec.fixed) | {p for f in spec.factors for p in f.params}
    if "n_households" not in given:
        raise SweepError(
            f"{src}: a national spec gives n_households (under [set] or "
            "[uncertainties]): the totals weight each kelurahan by its households"
        )
    keep = spec.outcomes.keep
    for name in keep:
        record = RECORDS.get(name)
        for need in record.needs if record else ():
            if need not in keep:
                raise SweepError(
                    f"{src}: outcomes.keep: the national {name} is weighted by "
                    f"{record.weighted_by}; keep {need} too"
                )


def national_spec(
    spec: str | Path | SweepSpec | dict[str, Any] = DEFAULT_SPEC,
    kelurahan: int | None = None,
) -> SweepSpec:
    """Read and check a national spec, drawing ``kelurahan`` kelurahan if given.

    Args:
        spec: A spec path, shipped spec name, :class:`SweepSpec` or spec dict.
        kelurahan: Kelurahan to draw (replaces ``design.samples``); ``None`` keeps it.

    Returns:
        The validated spec; with another number of kelurahan, its TOML text is the
        spec's values with the new ``design.samples`` (what the results folder keeps).

    Raises:
        SweepError: Bad number, bad spec, or a spec that is not a national one.
    """
    if kelurahan is not None:
        check_int("--kelurahan", kelurahan)
    checked = load_spec(spec)
    check_national(checked)
    if kelurahan is None or kelurahan == checked.samples:
        return checked
    data = copy.deepcopy(checked.data)
    data["design"]["samples"] = kelurahan  # an lhs design is a table with samples
    text = (
        f"# {checked.source}, with design.samples = {kelurahan} "
        f"(berdaya national --kelurahan {kelurahan})\n" + toml_of(data)
    )
    source = Path(checked.source)
    base_dir = source.parent if source.is_file() else None
    return parse_spec(data, source=checked.source, text=text, base_dir=base_dir)


def _weight(results: pd.DataFrame, name: str) -> np.ndarray:
    """What a share or mean of each kelurahan is weighted by (see the registry)."""
    n = results["n_households"].to_numpy(dtype=float)

    def col(c: str) -> np.ndarray:
        return results[c].to_numpy(dtype=float)

    if name == HOUSEHOLDS:
        return n
    if name in (POOR, NONPOOR):
        poor = np.rint(col("poverty_rate") * n)
        return poor if name == POOR else n - poor
    if name == IN_PENDAYAAN:
        return np.rint(col("pendayaan_all") * n)
    if name == PAID_OUT:
        return col("leaked") + col("spent_works") + col("spent_social")
    return col(name)


class _Totals:
    """The columns of the national table, filled outcome by outcome, then by month."""

    def __init__(self, results: pd.DataFrame) -> None:
        self.results = results
        self.month = results["month"].to_numpy()
        n = results["n_households"].to_numpy(dtype=float)
        self.sums: dict[str, np.ndarray] = {
            "kelurahan": np.ones(len(n)),
            "households": n,
        }
        self.means: dict[str, np.ndarray] = {}
        self.latest: dict[str, np.ndarray] = {}
        # (column, value when the weights add up to nothing)
        self.ratios: list[tuple[str, float]] = []
        self.order: list[str] = ["kelurahan", "households"]
        self.counts: list[str] = ["kelurahan", "households"]

    def add(self, record: Record) -> None:
        name = record.name
        x = self.results[name].to_numpy(dtype=float)
        self.order.append(name)
        if record.aggregate == "sum":
            self.sums[name] = x
        elif record.aggregate == "mean":
            self.means[name] = x
        elif record.aggregate == "latest":
            self.latest[name] = x
        else:
            assert record.weight is not None
            w = _weight(self.results, record.weight)
            self.sums[f"{name}:num"] = x * w
            self.sums[f"{name}:den"] = w
            self.ratios.append((name, record.empty))
            if record.count == HOUSEHOLDS:
                self._count(f"{name}_households", np.rint(x * w))
        if record.count == "kelurahan":
            self._count(f"{name}_kelurahan", x)
        if name == "bkm_stage" and "bkm_formed" in self.results:
            formed = self.results["bkm_formed"].to_numpy(dtype=float) > 0
            for k, stage in enumerate(BKM_STAGES):
                self._count(f"bkm_{stage}", (formed & (x == k)).astype(float))

    def _count(self, column: str, x: np.ndarray) -> None:
        self.sums[column] = x
        self.order.append(column)
        self.counts.append(column)

    def table(self) -> pd.DataFrame:
        month = self.month
        by_month = pd.DataFrame(self.sums).groupby(month, sort=True).sum()
        columns: dict[str, Any] = {
            str(c): v for c, v in by_month.items() if ":" not in str(c)
        }
        for col, empty in self.ratios:
            d = by_month[f"{col}:den"].to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                num = by_month[f"{col}:num"].to_numpy()
                columns[col] = np.where(d > 0, num / d, empty)
        if self.means:
            columns |= dict(pd.DataFrame(self.means).groupby(month, sort=True).mean())
        if self.latest:
            grouped = pd.DataFrame(self.latest).groupby(month, sort=True)
            columns |= dict(grouped.max().where(grouped.min() >= 0, -1.0))
        for col in self.counts:
            columns[col] = np.asarray(columns[col]).astype(np.int64)
        table = pd.DataFrame({c: columns[c] for c in self.order}, index=by_month.index)
        table.index.name = "month"
        return table.reset_index()


def national_totals(
    results: pd.DataFrame, outcomes: Sequence[str]
) -> tuple[pd.DataFrame, list[str]]:
    """Add kelurahan up, month by month, as the record registry says.

    Args:
        results: Rows of the kelurahan runs (:func:`read_results`): ``month``,
            ``n_households`` and the outcomes.
        outcomes: The outcomes to add up, in order.

    Returns:
        The national table (a row per month: ``month``, ``kelurahan`` added up,
        ``households``, then each outcome's national columns) and the outcomes that
        were not aggregated (no rule, or what it is weighted by is missing).
    """
    totals = _Totals(results)
    skipped: list[str] = []
    for name in outcomes:
        record = RECORDS.get(name)
        if (
            record is None
            or not record.across_kelurahan
            or name not in results
            or any(need not in results for need in record.needs)
        ):
            skipped.append(name)
        else:
            totals.add(record)
    return totals.table(), skipped


@dataclass(repr=False)
class NationalResult:
    """A national run's totals and what they are made of.

    Attributes:
        out: The results folder.
        spec: The spec's name.
        totals: The national table (:func:`national_totals`).
        kelurahan: Kelurahan in the design.
        done: Kelurahan on disk and added up.
        errors: Kelurahan recorded as having raised (not added up).
        skipped: Outcomes kept but not aggregated.
        files: The files written.
    """

    out: Path
    spec: str
    totals: pd.DataFrame
    kelurahan: int
    done: int
    errors: int
    skipped: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def _title(self) -> str:
        return (
            f"{self.out}, spec '{self.spec}', {self.done:,} of {self.kelurahan:,} "
            f"kelurahan added up, {self.errors:,} raised"
        )

    def _headline(self) -> dict[str, str]:
        """The last month's headline records in the totals, formatted."""
        if self.totals.empty:
            return {}
        last = self.totals.iloc[-1]
        return {n: value_text(n, last[n]) for n in HEADLINE if n in last.index}

    def __repr__(self) -> str:
        """Two short lines: which national run, and a few totals at the last month."""
        values = list(self._headline().items())[:MAX_NAMED]
        month = int(self.totals["month"].iloc[-1]) if len(self.totals) else 0
        shown = ", ".join(f"{k} {v}" for k, v in values) or "no kelurahan on disk yet"
        return f"<NationalResult: {self._title()}>\n  at month {month}: {shown}"

    def _repr_html_(self) -> str:
        """A small HTML table of the headline totals at the last month."""
        month = int(self.totals["month"].iloc[-1]) if len(self.totals) else 0
        return html_table(
            f"berdaya national: {self._title()}",
            ["record", f"month {month}"],
            [[k, v] for k, v in self._headline().items()],
        )

    def text(self) -> str:
        """A short summary of the national totals at the last month."""
        if self.totals.empty:
            return (
                f"berdaya national: no kelurahan of {self.kelurahan:,} on disk in "
                f"{self.out} yet"
            )
        last = self.totals.iloc[-1]
        first = self.totals.iloc[0]
        head = (
            f"berdaya national ({self.spec}): {self.done:,} of {self.kelurahan:,} "
            f"kelurahan, {int(last['households']):,} households"
        )
        if "poverty_rate_households" in last:
            head += f" ({int(first['poverty_rate_households']):,} poor at month "
            head += f"{int(first['month'])})"
        lines = [head, f"at month {int(last['month'])}:"]
        lines += _people_lines(last) + _institution_lines(last) + self._notes()
        return "\n".join(lines)

    def _notes(self) -> list[str]:
        """What is not in the totals, and where the files are."""
        lines = []
        if self.errors:
            lines.append(
                f"{self.errors:,} kelurahan raised (not added up): their seeds, "
                f"parameters and tracebacks are in {self.out}/errors/"
            )
        if self.skipped:
            lines.append(
                "not aggregated (no national value from kelurahan records alone): "
                + ", ".join(self.skipped)
            )
        if self.files:
            lines.append(
                f"national totals by month: {', '.join(str(p) for p in self.files)}; "
                f"per kelurahan: {self.out / 'runs'}"
            )
        return lines


def _people_lines(last: pd.Series) -> list[str]:
    """Stages, forced pendayaan and participation in the totals' last month."""
    lines = []
    for label, group in (("all households", "all"), ("the poor", "poor")):
        cols = [f"{s}_{group}" for s in STAGE_NAMES]
        if all(c in last for c in cols):
            shares = "  ".join(
                f"{s} {last[c]:6.1%}" for s, c in zip(STAGE_NAMES, cols, strict=True)
            )
            lines.append(f"  {label:<15} {shares}")
    if "forced_count" in last:
        line = f"  forced pendayaan: {int(last['forced_count']):,} households"
        if "forced_poor_count" in last:
            line += f" ({int(last['forced_poor_count']):,} poor)"
        if "forced_share_of_pendayaan" in last:
            line += f", {last['forced_share_of_pendayaan']:.0%} of those in pendayaan"
        lines.append(line)
    if "participation_poor" in last:
        lines.append(
            f"  participation of the poor: {last['participation_poor']:.1%} "
            f"({int(last['participation_poor_households']):,} households)"
        )
    return lines


def _institution_lines(last: pd.Series) -> list[str]:
    """Money, BKMs and government support in the totals' last month."""
    lines = []
    money = [
        f"{_rupiah(last[c])} {what}"
        for c, what in (
            ("lent_total", "lent"),
            ("spent_works", "on works"),
            ("spent_social", "in social aid"),
        )
        if c in last
    ]
    if money:
        line = "  money: " + ", ".join(money)
        if "repayment_rate" in last:
            line += f"; repayment {last['repayment_rate']:.0%}"
        lines.append(line)
    if "bkm_formed_kelurahan" in last:
        line = f"  BKMs formed: {int(last['bkm_formed_kelurahan']):,}"
        stages = [f"bkm_{s}" for s in BKM_STAGES]
        if all(c in last for c in stages):
            counts = ", ".join(
                f"{int(last[c]):,} {s}" for s, c in zip(BKM_STAGES, stages, strict=True)
            )
            line += f" ({counts})"
        lines.append(line)
    if "gov_support" in last:
        lines.append(
            f"  government support, mean over kelurahan: {last['gov_support']:.2f}"
        )
    return lines


def _rupiah(x: float) -> str:
    for size, word in ((1e12, "trillion"), (1e9, "billion")):
        if abs(x) >= size:
            return f"Rp {x / size:,.1f} {word}"
    return f"Rp {x / 1e6:,.1f} million"


def aggregate(
    out: str | Path, *, results: pd.DataFrame | None = None
) -> NationalResult:
    """Add up the kelurahan on disk in a national run's folder and write the totals.

    Each kelurahan on disk counts once (its file is named by its run id); those still
    missing or that raised are not in the totals, which say how many are.

    Args:
        out: The results folder of a national run.
        results: Its runs, if just read (default: read from ``out``).

    Returns:
        The :class:`NationalResult`; ``national.csv`` and ``national.parquet`` are
        written (whole or not at all) in ``out``.

    Raises:
        SweepError: ``out`` is not a folder holding a national run.
    """
    folder = SweepFolder(out)
    if not folder.path.is_dir():
        raise SweepError(f"--out: '{folder.path}' is not a folder")
    meta = folder.meta()
    if meta is None:
        raise SweepError(f"--out: '{folder.path}' holds no national run (no meta.json)")
    if meta.get("paired", True) or meta.get("design") != "lhs":
        raise SweepError(f"--out: '{folder.path}' holds a sweep, not a national run")
    frame = read_results(out) if results is None else results
    if "end_only" in frame.columns:  # a run's cycle-end row: not one of the months
        frame = frame[~frame["end_only"].astype(bool)]
    outcomes = list(meta.get("outcomes", []))
    if frame.empty:
        totals, skipped = pd.DataFrame(columns=["month", "kelurahan", "households"]), []
    else:
        totals, skipped = national_totals(frame, outcomes)
    info = {
        "spec": meta.get("spec"),
        "spec_sha256": meta.get("spec_sha256"),
        "kelurahan": meta.get("points"),
        "done": int(frame["run_id"].nunique()) if len(frame) else 0,
        "rules": {
            o: {"aggregate": r.aggregate, "weight": r.weight, "empty": r.empty}
            for o in outcomes
            if (r := RECORDS.get(o)) is not None and r.across_kelurahan
        },
    }
    files = [write_table(totals, folder.path / name, info) for name in TOTALS_FILES]
    return NationalResult(
        out=folder.path,
        spec=str(meta.get("spec")),
        totals=totals,
        kelurahan=int(meta.get("points", 0)),
        done=info["done"],
        errors=len(folder.failed()),
        skipped=skipped,
        files=files,
    )


def run_national(
    spec: str | Path | SweepSpec | dict[str, Any],
    out: str | Path,
    *,
    kelurahan: int | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    cluster_timeout: float = DEFAULT_CLUSTER_TIMEOUT_S,
    security: Any = None,
    retry_errors: bool = False,
    progress: bool = False,
    in_flight: int | None = None,
    batch: int | None = None,
    report: SweepProgress | None = None,
    max_runs: int | None = MAX_RUNS,
) -> NationalResult:
    """Run a national programme, kelurahan by kelurahan, and add it up.

    Everything is checked before a kelurahan runs or a file is written: the number of
    kelurahan, the spec, the folder and the executor's arguments.

    Args:
        spec: A national spec (path, shipped name, :class:`SweepSpec` or dict).
        out: Results folder (an existing one of the same spec and number is resumed).
        kelurahan: Kelurahan to draw (default: the spec's ``design.samples``).
        executor: Where to run (see :func:`run_sweep`, like the next five).
        workers: Local processes, or ``LocalCluster`` workers (default: all cores).
        cluster: ``tcp://HOST:PORT`` of a Dask scheduler, or ``local``.
        cluster_timeout: Seconds to wait for the scheduler and a first worker.
        security: A ``distributed.Security`` for a ``tls://`` cluster.
        retry_errors: Run again the kelurahan recorded as having raised.
        progress: Show a progress bar on stderr.
        in_flight: Most kelurahan submitted at once.
        batch: Kelurahan sent to a worker at once and written to one file (default:
            chosen from the kelurahan left and the workers).
        report: Filled in with the counts of this call.
        max_runs: Most runs the design may have (``None``: no limit).

    Returns:
        The :class:`NationalResult` (also written to ``out``).

    Raises:
        SweepError: Bad input (before anything runs).
        SweepStoppedError: The executor failed part-way (the same call resumes).
    """
    checked = national_spec(spec, kelurahan)
    folder = SweepFolder(out)
    meta = folder.meta() if folder.path.is_dir() else None
    if (
        meta is not None
        and meta.get("spec_sha256") != checked.digest
        and meta.get("spec_source") == checked.source
        and meta.get("samples") != checked.samples
    ):
        n = meta.get("samples")
        raise SweepError(
            f"--out: '{folder.path}' holds a national run of {n} kelurahan; give "
            f"--kelurahan {n} to resume it, or a new folder"
        )
    results = run_sweep(
        checked,
        out,
        executor=executor,
        workers=workers,
        cluster=cluster,
        cluster_timeout=cluster_timeout,
        security=security,
        retry_errors=retry_errors,
        progress=progress,
        in_flight=in_flight,
        batch=batch,
        report=report,
        max_runs=max_runs,
    )
    return aggregate(out, results=results)

"""Replications in the app: paired seeds run in the background, bands and verdicts.

One seed's answer to "is B better than A" is noise: the app therefore runs the scenario(s)
shown over ``n`` paired seeds, the same seeds ``berdaya compare --seed S --replications n``
uses (:func:`~berdaya.experiments.compare.replication_seeds`), so the app's verdict is the
command line's. Each replication runs every arm with its seed through
:func:`~berdaya.experiments.run.run` (the public entry point); an arm without the programme
(the scenario with ``programme = false``) is followed exactly as long as its paired
programme run, as ``berdaya compare none SCENARIO`` does.

What comes out:

* :meth:`Ensemble.band`: for one arm and one chart line, the median and the 10-90% band
  month by month (over the replications that reached the month);
* :meth:`Ensemble.verdicts`: for the headline outcomes (:data:`VERDICT_OUTCOMES`), at cycle
  end and at follow-up, the mean paired difference with its 95% Student-t interval, whether
  it is clear of zero and the effect size d relative to the spread across seeds, computed
  by the same functions as ``berdaya compare``
  (:func:`~berdaya.experiments.compare.paired_ci`,
  :func:`~berdaya.experiments.compare.effect_size`).

:class:`Job` runs an ensemble in a background thread: progress after each run, cancel
between runs.

Parameter uncertainty: the calibration ships a posterior ensemble of parameter sets fitted
to the observed kelurahan (:func:`~berdaya.experiments.ensemble.load_ensemble`). With the
app's switch on, :func:`member_overrides` draws one member per replication, the draws of
``berdaya compare --ensemble`` with the app's seed as master seed (uncertainties the user
moved are left as moved), and every arm of that replication runs with it: the paired
difference then holds
the parameters fixed within a pair, and the spread across pairs includes both the seeds'
noise and what is not known about the parameters. :func:`parameter_sets` reads the
ensemble (None when none is shipped) and :func:`ensemble_problem` says why it does not
apply to a scenario.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from berdaya.experiments.compare import effect_size, paired_ci, replication_seeds
from berdaya.experiments.ensemble import (
    EnsembleError,
    load_ensemble,
    load_provenance,
    parameter_names,
)
from berdaya.experiments.ensemble import member_overrides as ensemble_overrides
from berdaya.experiments.run import run
from berdaya.scenarios import P2KPScenario, ScenarioError
from berdaya.scenarios.loader import scenario_chain

#: Run counts the app offers (1: no replications, the one seed shown).
RUN_COUNTS = (1, 10, 30, 100)
#: The band drawn around the median.
BAND = (0.1, 0.9)
#: Confidence level of the verdicts' intervals.
LEVEL = 0.95
#: The two moments an outcome is judged at, as in ``berdaya compare``.
MOMENTS = ("end", "followup")
#: Outcomes that matter first to a planner, in the order the verdict cards show them.
VERDICT_OUTCOMES = (
    "poverty_rate",
    "poverty_gap_initially_poor",
    "welfare_initially_poor",
    "pendayaan_poor",
    "powerless_poor",
    "forced_share_of_pendayaan",
    "bkm_stage",
    "gov_support",
    "repayment_rate",
)
#: Label of the no-programme arm that follows arm ``X``.
NONE_SUFFIX = "0"
#: The posterior ensemble the app's switch draws from.
ENSEMBLE_NAME = "kedungkandang-2008"


@dataclass(frozen=True)
class Arm:
    """One arm of the ensemble.

    Attributes:
        label: ``A``, ``B``, or ``A0``/``B0`` (that arm without the programme).
        scenario: The arm's scenario (its seed is replaced by each replication's).
        follows: Label of the programme arm a no-programme arm follows (None: its own).
    """

    label: str
    scenario: P2KPScenario
    follows: str | None = None


def arms_for(scenarios: Sequence[P2KPScenario], *, baseline: bool = True) -> list[Arm]:
    """The arms of the scenarios shown: ``A`` (and ``B``), each with its no-programme arm.

    Args:
        scenarios: Scenario of A, and of B in compare mode.
        baseline: Add the no-programme arm of each programme arm.

    Returns:
        The arms, a programme arm before the arm that follows it.
    """
    out = []
    for label, scen in zip("AB", scenarios, strict=False):
        out.append(Arm(label, scen))
        if baseline and scen.params.programme:
            out.append(Arm(label + NONE_SUFFIX, scen, follows=label))
    return out


@dataclass(frozen=True)
class ParameterSets:
    """A posterior ensemble of parameter sets, as the app uses it.

    Attributes:
        name: The ensemble's name.
        scenario: The shipped scenario it was fitted to.
        frame: Its members (:func:`~berdaya.experiments.ensemble.load_ensemble`).
    """

    name: str
    scenario: str
    frame: pd.DataFrame

    @property
    def parameters(self) -> list[str]:
        """The calibrated parameters (each member sets them all)."""
        return parameter_names(self.frame)


@cache
def parameter_sets(name: str = ENSEMBLE_NAME) -> ParameterSets | None:
    """The shipped posterior ensemble the app can draw from, or None if there is none.

    Args:
        name: A shipped ensemble's name.

    Returns:
        Its members and the scenario it was fitted to (read once, then kept).
    """
    try:
        frame = load_ensemble(name)
        provenance = load_provenance(name)
    except EnsembleError:
        return None
    return ParameterSets(name, str(provenance.get("scenario", name)), frame)


def ensemble_problem(scenario: str, sets: ParameterSets | None) -> str | None:
    """Why the parameter ensemble does not apply to a run's scenario (None: it does).

    It applies, as in ``berdaya compare``, to the scenario it was fitted to and to every
    scenario built on it (``base``).

    Args:
        scenario: A run's shipped scenario (or a scenario file).
        sets: From :func:`parameter_sets`.

    Returns:
        None, or ``"none"`` (no ensemble shipped) or ``"other"`` (fitted to a scenario
        this one is not built on): the reason's message key suffix.
    """
    if sets is None:
        return "none"
    try:
        chain = [name for name, _ in scenario_chain(scenario)]
    except ScenarioError:
        return "other"
    return None if sets.scenario in chain else "other"


def member_overrides(
    sets: ParameterSets,
    master_seed: int,
    replications: int,
    fixed: dict[str, Any] | None = None,
) -> list[dict[str, float]]:
    """One parameter set per replication: ``berdaya compare --ensemble``'s draws.

    Args:
        sets: The ensemble.
        master_seed: The app's seed (the replications' master seed).
        replications: How many to draw.
        fixed: The user's own values (the uncertainties moved in the app): the members
            leave those parameters as the user set them.

    Returns:
        ``replications`` override mappings: the same seed gives the same draw, and the
        draws of ``berdaya compare --seed SEED --ensemble NAME``.
    """
    return ensemble_overrides(sets.name, replications, master_seed, fixed=fixed)


def run_arms(
    arms: Sequence[Arm], seed: int, overrides: dict[str, Any] | None = None
) -> dict[str, pd.DataFrame]:
    """Run every arm with one seed; a no-programme arm to its leader's last month.

    Args:
        arms: The arms (leaders first).
        seed: The replication's seed.
        overrides: Parameter values every arm runs with (a member of the posterior
            ensemble; None: each arm's own).

    Returns:
        Each arm's monthly records, by label.
    """
    shared = dict(overrides or {})
    out: dict[str, pd.DataFrame] = {}
    for arm in arms:
        if arm.follows is None:
            out[arm.label] = run(arm.scenario, seed, overrides=shared).records
        else:
            until = int(out[arm.follows]["month"].iloc[-1])
            result = run(
                arm.scenario,
                seed,
                overrides={**shared, "programme": False},
                until=until,
            )
            out[arm.label] = result.records
    return out


@dataclass(frozen=True)
class Verdict:
    """Arm ``alt`` against arm ``ref`` on one outcome at one moment.

    Attributes:
        outcome: Record name.
        moment: ``end`` or ``followup``.
        ref: Label of the reference arm.
        alt: Label of the other arm.
        mean_ref: Mean of the reference arm over the replications both have.
        mean_alt: Mean of the other arm.
        diff: Mean paired difference ``alt - ref``.
        low: Lower end of its 95% interval (NaN with one replication).
        high: Upper end.
        clear: Whether the interval excludes zero (None: no interval).
        d: Effect size: ``diff`` over the spread across seeds.
        n: Replications with a value in both arms.
        month: Median month of the moment (NaN if no cycle ended).
    """

    outcome: str
    moment: str
    ref: str
    alt: str
    mean_ref: float
    mean_alt: float
    diff: float
    low: float
    high: float
    clear: bool | None
    d: float
    n: int
    month: float


@dataclass
class Ensemble:
    """The replications of some arms, filled in as they complete.

    Attributes:
        arms: The arms.
        seeds: The replications' seeds (``replication_seeds(master_seed, n)``).
        master_seed: The seed they were spawned from.
        records: Per arm label, the monthly records of each finished replication.
        members: Per replication, the parameter set all its arms run with (empty: the
            arms' own parameters, only the seeds vary).
    """

    arms: list[Arm]
    seeds: list[int]
    master_seed: int
    records: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    members: list[dict[str, float]] = field(default_factory=list)

    @classmethod
    def plan(
        cls,
        scenarios: Sequence[P2KPScenario],
        replications: int,
        master_seed: int,
        *,
        baseline: bool = True,
        parameters: ParameterSets | None = None,
        fixed: dict[str, Any] | None = None,
    ) -> Ensemble:
        """An empty ensemble: what will run.

        Args:
            scenarios: Scenario of A, and of B in compare mode.
            replications: Number of paired replications.
            master_seed: Master seed (the seed field).
            baseline: Include each arm without the programme.
            parameters: Draw a parameter set per replication from this posterior
                ensemble (None: seeds only).
            fixed: Values the user set: the drawn sets leave them alone.

        Returns:
            The ensemble, no replication run yet.
        """
        if replications not in RUN_COUNTS:
            raise ValueError(
                f"runs must be one of {', '.join(map(str, RUN_COUNTS))} "
                f"(got {replications!r})"
            )
        arms = arms_for(scenarios, baseline=baseline)
        return cls(
            arms,
            replication_seeds(master_seed, replications),
            master_seed,
            {a.label: [] for a in arms},
            member_overrides(parameters, master_seed, replications, fixed)
            if parameters is not None
            else [],
        )

    @property
    def with_parameters(self) -> bool:
        """Whether the replications include parameter uncertainty."""
        return bool(self.members)

    @property
    def done(self) -> int:
        """Replications finished."""
        return min((len(v) for v in self.records.values()), default=0)

    @property
    def complete(self) -> bool:
        """Whether every replication has run."""
        return self.done == len(self.seeds)

    @property
    def labels(self) -> list[str]:
        """Labels of the arms."""
        return [a.label for a in self.arms]

    def add(self, done: dict[str, pd.DataFrame]) -> None:
        """Keep one replication's records (from :func:`run_arms`)."""
        for label, rec in done.items():
            self.records[label].append(rec)

    def band(
        self, label: str, values: Callable[[pd.DataFrame], np.ndarray]
    ) -> pd.DataFrame:
        """Median and 10-90% band, month by month, of one arm.

        Args:
            label: The arm.
            values: Reads a value per month from a run's records (a chart line).

        Returns:
            Columns ``month``, ``low``, ``median``, ``high``, ``n`` (replications that
            reached the month and have a value there); months without any value are left
            out.
        """
        rows = []
        for rec in self.records.get(label, []):
            rows.append(
                pd.DataFrame(
                    {
                        "month": rec["month"].to_numpy(),
                        "value": np.asarray(values(rec), dtype=float),
                    }
                )
            )
        if not rows:
            return pd.DataFrame(columns=["month", "low", "median", "high", "n"])
        table = pd.concat(rows, ignore_index=True).dropna()
        grouped = table.groupby("month")["value"]
        q = grouped.quantile([BAND[0], 0.5, BAND[1]]).unstack()
        out = pd.DataFrame(
            {
                "month": q.index.to_numpy(),
                "low": q[BAND[0]].to_numpy(),
                "median": q[0.5].to_numpy(),
                "high": q[BAND[1]].to_numpy(),
                "n": grouped.size().reindex(q.index).to_numpy(),
            }
        )
        return out.reset_index(drop=True)

    def moments(self, label: str, outcome: str) -> dict[str, np.ndarray]:
        """One outcome of an arm at cycle end and at follow-up, a value per replication.

        Cycle end is the month the programme completed or withdrew (NaN when it had not
        by the months cap); follow-up is the run's last month. A no-programme arm is
        measured at the months of the arm it follows.

        Args:
            label: The arm.
            outcome: Record name.

        Returns:
            ``{"end": values, "followup": values, "end_month": months}``.
        """
        arm = next(a for a in self.arms if a.label == label)
        lead = self.records[arm.follows or label]
        mine = self.records[label]
        end, followup, end_month = [], [], []
        for rec_lead, rec in zip(lead, mine, strict=False):
            last = rec_lead.iloc[-1]
            exit_month = float(last["exit_month"])
            at = rec.set_index("month")[outcome]
            if exit_month >= 0 and int(exit_month) in at.index:
                end.append(float(at.loc[int(exit_month)]))
                end_month.append(exit_month)
            else:
                end.append(math.nan)
                end_month.append(math.nan)
            followup.append(float(at.loc[int(last["month"])]))
        return {
            "end": np.asarray(end, dtype=float),
            "followup": np.asarray(followup, dtype=float),
            "end_month": np.asarray(end_month, dtype=float),
        }

    def verdict(self, ref: str, alt: str, outcome: str, moment: str) -> Verdict:
        """Arm ``alt`` against arm ``ref`` on one outcome at one moment (paired seeds).

        Args:
            ref: Label of the reference arm.
            alt: Label of the other arm.
            outcome: Record name.
            moment: ``end`` or ``followup``.

        Returns:
            The :class:`Verdict`, by the statistics of ``berdaya compare``.
        """
        a = self.moments(ref, outcome)
        b = self.moments(alt, outcome)
        n = min(len(a[moment]), len(b[moment]))
        va, vb = a[moment][:n], b[moment][:n]
        ok = np.isfinite(va) & np.isfinite(vb)
        mean, _sd, low, high, clear = paired_ci(vb[ok] - va[ok], LEVEL)
        _spread, d = effect_size(va[ok], vb[ok])
        months = a["end_month"] if moment == "end" else None
        if months is None:
            lead = next(x for x in self.arms if x.label == ref).follows or ref
            months = np.asarray(
                [float(r["month"].iloc[-1]) for r in self.records[lead]], dtype=float
            )
        finite = months[np.isfinite(months)]
        return Verdict(
            outcome=outcome,
            moment=moment,
            ref=ref,
            alt=alt,
            mean_ref=float(va[ok].mean()) if ok.any() else math.nan,
            mean_alt=float(vb[ok].mean()) if ok.any() else math.nan,
            diff=mean,
            low=low,
            high=high,
            clear=clear,
            d=d,
            n=int(ok.sum()),
            month=float(np.median(finite)) if finite.size else math.nan,
        )

    def verdicts(
        self, ref: str, alt: str, outcomes: Sequence[str] = VERDICT_OUTCOMES
    ) -> list[Verdict]:
        """Every outcome at both moments, ``alt`` against ``ref``.

        Args:
            ref: Label of the reference arm.
            alt: Label of the other arm.
            outcomes: Record names.

        Returns:
            Verdicts in the order (outcome, moment).
        """
        return [
            self.verdict(ref, alt, o, m)
            for o in outcomes
            if self.records[ref] and o in self.records[ref][0].columns
            for m in MOMENTS
        ]

    def table(self) -> pd.DataFrame:
        """Every verdict the ensemble supports, as one table (the comparison CSV).

        Returns:
            A row per (comparison, outcome, moment): each programme arm against its
            no-programme arm, and B against A in compare mode.
        """
        rows = [
            v.__dict__ for ref, alt in self.pairs() for v in self.verdicts(ref, alt)
        ]
        return pd.DataFrame(rows)

    def pairs(self) -> list[tuple[str, str]]:
        """The comparisons shown: B against A, then each arm against no programme."""
        labels = self.labels
        out = [("A", "B")] if "B" in labels else []
        out += [(a.label, a.follows) for a in self.arms if a.follows is not None]
        return [(ref, alt) for ref, alt in out if ref is not None and alt is not None]


class Job:
    """An ensemble computed in a background thread, with progress and cancel.

    Attributes:
        ensemble: The ensemble being filled.
        error: What stopped it, if a run raised.
    """

    def __init__(
        self,
        ensemble: Ensemble,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Prepare the job (nothing runs until :meth:`start`).

        Args:
            ensemble: The planned ensemble.
            on_progress: Called with (replications done, replications) after each one.
        """
        self.ensemble = ensemble
        self.error: str | None = None
        self._cancel = threading.Event()
        self._working = threading.Lock()
        self._on_progress = on_progress
        self._thread = threading.Thread(
            target=self.work, name="berdaya-ensemble", daemon=True
        )
        self.finished = False

    def start(self) -> Job:
        """Run :meth:`work` in a background thread of its own; returns the job."""
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Stop after the run in progress (what is done is kept)."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancel.is_set()

    @property
    def running(self) -> bool:
        """Whether the thread is still working."""
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the thread of :meth:`start` to end; whether it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def usable(self) -> bool:
        """Whether bands and verdicts can be shown: stopped or done, two runs or more."""
        return self.finished and self.ensemble.done >= 2

    def work(self, cancel: threading.Event | None = None) -> None:
        """Run the replications still to run, here, until done or cancelled.

        Args:
            cancel: A second way to stop it (the app's thread hook passes its own).
        """
        ens = self.ensemble
        if not self._working.acquire(blocking=False):
            return  # already working in another thread
        try:
            for k in range(ens.done, len(ens.seeds)):
                if self._cancel.is_set() or (cancel is not None and cancel.is_set()):
                    return
                member = ens.members[k] if ens.members else None
                try:
                    ens.add(run_arms(ens.arms, ens.seeds[k], member))
                except Exception as err:  # a run failing must not kill the app
                    self.error = f"{type(err).__name__}: {err}"
                    return
                if self._on_progress is not None:
                    self._on_progress(ens.done, len(ens.seeds))
        finally:
            self.finished = True
            self._working.release()

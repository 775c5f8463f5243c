"""Calibration: the unsourced parameters fitted to the fitting targets by ABC-SMC.

The parameters in :data:`CALIBRATED` are the scenario schema's uncertainties whose values
are assumptions or choices and which move the fitting targets (the Morris screen of
``docs/validation.md`` and one-at-a-time checks; ``docs/calibration.md``). Each has a
uniform prior over the ``plausible`` range the schema declares for it (the schema is the
only place these ranges are written).

The data are the ``fit`` targets of ``scenarios/targets.toml`` on the observed scenario
(held-out and input targets are never used). A particle is a parameter set; it is run
once, on a seed drawn from the calibration's seeded generator, every fitting statistic is
measured with :func:`berdaya.experiments.targets.measure` (so each statistic is defined
once), and its distance is the sum over the targets of how far the statistic lies outside
the target's range, in range widths (:func:`target_distance`: 0 when every statistic is in
range). A particle is accepted when its distance is at most the generation's threshold;
at the default ``--min-epsilon`` 0 only runs with every fitting target in range are.

pyabc's ABC-SMC (Toni et al. 2009; Klinger, Rickert & Hasenauer 2018) runs the
generations. By default the first generation is already at ``--min-epsilon``: particles
are drawn from the prior and kept when they fit, which is rejection ABC, and the run ends
there with equal weights. About one prior draw in ten lands every fitting target in
range, so this costs about ten runs a member; ``--adaptive`` instead starts at the median
distance of a prior sample and lowers the threshold generation by generation, as ABC-SMC
does when the posterior is narrow, but here its Gaussian proposals over a posterior that
fills most of a ten-dimensional box leave importance weights so uneven that the
effective sample is 15-20% of the population, several times more runs per effective
member (``docs/calibration.md``). The final population, with its importance weights, is
the ensemble (:mod:`berdaya.experiments.ensemble`).

Reproducible and resumable. Evaluation ``i`` of generation ``t`` seeds the global NumPy
generator pyabc draws proposals from (and the run's seed is drawn from it) with
``SeedSequence([seed, t + 1, i])``; a generation keeps the first ``population`` accepted
evaluations in index order, whatever the number of workers or which one finished first
(:class:`SeededSampler`). So the same master seed gives the same ensemble, on one process
or many, and a calibration stopped part-way and continued from pyabc's database (its
History, ``--db``) gives the ensemble an uninterrupted one would have.

    berdaya calibrate --quick --out /tmp/ens.parquet          # about a minute
    python -m berdaya.experiments.calibrate --population 500 --out results/e.parquet
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import logging
import math
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

import cloudpickle
import numpy as np
import pandas as pd
import pyabc
from pyabc.population import Particle, Sample
from pyabc.sampler import Sampler
from tqdm.auto import tqdm

from berdaya.experiments.engine import completed
from berdaya.experiments.ensemble import write_ensemble
from berdaya.experiments.errors import SweepError
from berdaya.experiments.executors import InlineExecutor, local_pool
from berdaya.experiments.limits import check_writable, usable_cores
from berdaya.experiments.targets import (
    MeasureTask,
    Target,
    TargetsError,
    load_targets,
    measure,
)
from berdaya.scenarios import schema

#: The observed case the ensemble is fitted to.
SCENARIO = "kedungkandang-2008"

#: Parameters calibrated by default: unsourced (assumed or chosen) uncertainties that
#: move a fitting target. The Morris screen ranks the first four highest for P4 (and
#: capacity_practice_gain and default_hazard for P1b, meeting_reach for P2c); the
#: participation threshold bounds P4 from below; ksm_join_rate moves take-up and the
#: KSM count, elite_capture the elite gap, and the two welfare parameters the churn.
CALIBRATED: tuple[str, ...] = (
    "participation_threshold_mean",
    "capacity_threshold",
    "capacity_practice_gain",
    "ksm_training_gain",
    "meeting_reach",
    "ksm_join_rate",
    "elite_capture",
    "default_hazard",
    "welfare_permanent_share",
    "welfare_persistence",
)

#: Sizes of a ``--quick`` run (for the tests: about a minute on two cores).
QUICK_POPULATION = 20
QUICK_GENERATIONS = 2
DEFAULT_POPULATION = 500
DEFAULT_GENERATIONS = 8
DEFAULT_SEED = 2008
MAX_POPULATION = 100_000
MAX_GENERATIONS = 100
MAX_WORKERS = 256
MAX_SEED = 2**63 - 1
#: Evaluations a worker is given at a time, and how many such batches wait per worker.
CHUNK = 2
WINDOW_PER_WORKER = 2
#: Seconds between progress lines in the log.
PROGRESS_SECONDS = 30.0

log = logging.getLogger("berdaya.calibrate")


class CalibrationError(ValueError):
    """Bad options or a database that cannot be continued; the message is one line."""


# --- what is fitted to what ---------------------------------------------------------


def priors(names: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Each parameter's uniform prior: the plausible range the scenario schema declares.

    Args:
        names: Parameters of the scenario schema.

    Returns:
        ``{name: (low, high)}``, in the order given.

    Raises:
        CalibrationError: A name that is not a numeric uncertainty with a plausible range.
    """
    info = schema()
    out: dict[str, tuple[float, float]] = {}
    for name in names:
        p = info.get(name)
        if p is None or p.kind != "uncertainty" or p.type not in ("float", "int"):
            allowed = ", ".join(calibratable())
            raise CalibrationError(
                f"--parameters: {name!r} is not a numeric uncertainty of the scenario "
                f"schema with a plausible range (allowed: {allowed})"
            )
        if p.plausible is None:
            raise CalibrationError(
                f"--parameters: {name!r} has no plausible range in the scenario schema "
                f"(allowed: {', '.join(calibratable())})"
            )
        low, high = (float(x) for x in p.plausible)
        out[name] = (low, high)
    if len(out) != len(names):
        raise CalibrationError("--parameters: a parameter is named twice")
    return out


def calibratable() -> list[str]:
    """The numeric uncertainties of the schema that declare a plausible range."""
    return [
        p.name
        for p in schema().values()
        if p.kind == "uncertainty"
        and p.type in ("float", "int")
        and p.plausible is not None
    ]


def fit_targets(targets: Sequence[Target], scenario: str = SCENARIO) -> list[Target]:
    """The targets used for fitting: ``use = "fit"`` on the calibrated scenario.

    Held-out and input targets are never returned.

    Raises:
        CalibrationError: No fitting target, or one with an empty range.
    """
    chosen = [t for t in targets if t.use == "fit" and t.scenario == scenario]
    if not chosen:
        raise CalibrationError(f"no fit target is measured on scenario {scenario!r}")
    for t in chosen:
        if not t.high > t.low:
            raise CalibrationError(
                f"target {t.name}: a fitting target needs a range (low < high)"
            )
    return chosen


def target_excess(value: float, target: Target) -> float:
    """How far ``value`` lies outside the target's range, in range widths (0 inside).

    A statistic that could not be measured (NaN) is infinitely far.
    """
    if not math.isfinite(value):
        return math.inf
    outside = max(target.low - value, value - target.high, 0.0)
    return outside / (target.high - target.low)


def target_distance(stats: Mapping[str, float], targets: Sequence[Target]) -> float:
    """The distance of a run's statistics to the targets: the sum of their excesses.

    Args:
        stats: Statistic name to value (other keys are ignored).
        targets: The fitting targets (:func:`fit_targets`).

    Returns:
        0 when every statistic lies in its target's range, more the further outside.
    """
    return float(sum(target_excess(float(stats[t.statistic]), t) for t in targets))


@dataclass(frozen=True)
class RangeDistance:
    """pyabc's distance: :func:`target_distance` to the fitting targets' ranges.

    The observed data pyabc passes (``x_0``) are not used: the targets are ranges.
    """

    targets: tuple[Target, ...]

    def __call__(self, x: Mapping[str, float], x_0: Mapping[str, float]) -> float:
        """Distance of simulated statistics ``x`` to the targets."""
        del x_0
        return target_distance(x, self.targets)


@dataclass(frozen=True)
class Simulator:
    """pyabc's model: one run of the scenario with a particle's parameter values.

    The run's seed is drawn from NumPy's global generator, which
    :class:`SeededSampler` seeds for every evaluation; it is returned with the
    statistics so that every accepted run can be repeated.
    """

    scenario: str
    statistics: tuple[str, ...]

    def __call__(self, pars: Mapping[str, float]) -> dict[str, float]:
        """Run once and measure the fitting statistics."""
        seed = _draw_seed()
        overrides = {name: float(value) for name, value in pars.items()}
        row = measure(MeasureTask(self.scenario, seed, self.statistics, overrides))
        return {**{s: float(row[s]) for s in self.statistics}, "seed": seed}


def _draw_seed() -> int:
    # pyabc's proposals come from NumPy's legacy global generator; the sampler seeds it
    # for each evaluation, and the run's seed comes from the same stream.
    return int(np.random.randint(0, 2**32, dtype=np.int64))  # noqa: NPY002


# --- the seeded, order-keeping sampler -------------------------------------------------


def evaluation_state(seed: int, t: int, index: int) -> np.ndarray:
    """The state seeding evaluation ``index`` of generation ``t`` (-1: the prior sample)."""
    return np.random.SeedSequence([seed, t + 1, index]).generate_state(4)


_WORKER: dict[str, Any] = {}


def _evaluate(
    key: str, job: bytes | Callable[[], Particle], seed: int, t: int, indices: list[int]
) -> list[tuple[int, Particle]]:
    """Evaluate ``simulate_one`` for each index, each on its own seeded state."""
    if callable(job):
        simulate_one = job
    else:
        if _WORKER.get("key") != key:
            _WORKER.update(key=key, fn=cloudpickle.loads(job))
        simulate_one = _WORKER["fn"]
    out = []
    for i in indices:
        state = evaluation_state(seed, t, i)
        np.random.seed(state)  # noqa: NPY002 - pyabc draws from the global generator
        random.seed(int(state[0]))
        out.append((i, simulate_one()))
    return out


class SeededSampler(Sampler):
    """A pyabc sampler whose populations depend on the seed alone.

    Evaluation ``i`` of generation ``t`` is seeded by :func:`evaluation_state`; the
    evaluations run on ``workers`` local processes (*spawn*, as every pool of berdaya),
    a few batches ahead, and the generation keeps the evaluations up to and including
    its ``n``-th accepted one in index order (pyabc's evaluation-parallel scheme, made
    deterministic). Evaluations run ahead past that point are discarded; they are
    counted in :attr:`evaluations_run` but not in pyabc's acceptance rate.

    Args:
        seed: The calibration's master seed.
        workers: Local processes (1: in this process).
        progress: Show a progress bar per generation (on a terminal).
    """

    def __init__(self, seed: int, workers: int, *, progress: bool = False) -> None:
        """Create the sampler; its pool starts with the first generation."""
        super().__init__()
        self.seed = seed
        self.workers = workers
        self.progress = progress
        self.evaluations_run = 0
        self._pool: ProcessPoolExecutor | None = None
        self._said = 0.0

    def _pool_of(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # the sweep's pool: its workers end on their own when this process is
            # killed (a SIGTERM to `berdaya calibrate` once left them running)
            self._pool = local_pool(self.workers)
        return self._pool

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Callable[[], Particle],
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,
    ) -> Sample:
        """Evaluate in index order until ``n`` are accepted (see the class)."""
        del all_accepted, ana_vars
        bar = tqdm(
            total=n,
            desc="prior sample" if t < 0 else f"generation {t}",
            unit="accepted",
            file=sys.stderr,
            leave=False,
            disable=None if self.progress else True,
        )
        try:
            done = self._evaluated(n, simulate_one, t, max_eval, bar)
        finally:
            bar.close()
        sample = self._create_empty_sample()
        accepted = 0
        for i in range(len(done)):
            sample.append(done[i])
            accepted += bool(done[i].accepted)
        self.nr_evaluations_ = len(done)
        if accepted < n:
            sample.ok = False
        return sample

    def _tell(self, t: int, accepted: int, n: int, evaluated: int) -> None:
        """A progress line every :data:`PROGRESS_SECONDS` (for logs, not terminals)."""
        now = time.monotonic()
        if now - self._said >= PROGRESS_SECONDS or accepted == n:
            self._said = now
            what = "prior sample" if t < 0 else f"generation {t}"
            log.info("%s: %d of %d accepted, %d runs", what, accepted, n, evaluated)

    def _evaluated(
        self, n: int, simulate_one: Callable, t: int, max_eval: float, bar: tqdm
    ) -> dict[int, Particle]:
        """The evaluations in index order up to the ``n``-th accepted (or ``max_eval``).

        One worker evaluates one index at a time in this process, so none runs ahead;
        more take :data:`CHUNK` indices a task on the engine's driver
        (:func:`~berdaya.experiments.engine.completed`), :data:`WINDOW_PER_WORKER` tasks
        a worker in flight.
        """
        if self.workers == 1:
            executor: Executor = InlineExecutor()
            job: bytes | Callable = simulate_one
            chunk = 1
        else:
            executor, job, chunk = (
                self._pool_of(),
                cloudpickle.dumps(simulate_one),
                CHUNK,
            )
        evaluate = partial(_evaluate, uuid.uuid4().hex, job, self.seed, t)
        starts = itertools.takewhile(lambda i: i < max_eval, itertools.count(0, chunk))
        chunks = (list(range(i, int(min(i + chunk, max_eval)))) for i in starts)
        window = WINDOW_PER_WORKER * self.workers
        done: dict[int, Particle] = {}
        kept = accepted = 0
        for _, particles in completed(evaluate, chunks, executor, window=window):
            done.update(particles)
            self.evaluations_run += len(particles)
            while kept in done and accepted < n:
                if done[kept].accepted:
                    accepted += 1
                    bar.update()
                kept += 1
            self._tell(t, accepted, n, kept)
            if accepted >= n:
                break
        return {i: done[i] for i in range(kept)}

    def stop(self) -> None:
        """Shut the worker processes down (pyabc calls this when a run ends)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# --- a calibration ----------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationConfig:
    """What a calibration fits and how.

    Attributes:
        parameters: The calibrated parameters (default :data:`CALIBRATED`).
        population: Particles in each generation (the ensemble's size).
        generations: Most generations in all (a continued run counts those done).
        min_epsilon: Stop once a generation's threshold is at or below this.
        seed: Master seed.
        workers: Local processes.
        adaptive: Start at the median distance of a sample from the prior and lower
            the threshold generation by generation (ABC-SMC); otherwise the first
            generation is already at ``min_epsilon`` (rejection ABC from the prior,
            equal weights), which is all a calibration needs when enough prior draws
            land every target in range (see the module's description).
        scenario: The observed scenario fitted.
        targets: A targets TOML (default: the shipped one).
    """

    parameters: tuple[str, ...] = CALIBRATED
    population: int = DEFAULT_POPULATION
    generations: int = DEFAULT_GENERATIONS
    min_epsilon: float = 0.0
    seed: int = DEFAULT_SEED
    workers: int = 2
    adaptive: bool = False
    scenario: str = SCENARIO
    targets: Path | None = None

    def check(self) -> None:
        """Raise a one-line :class:`CalibrationError` for a bad value."""
        _in_range("--population", self.population, 10, MAX_POPULATION)
        _in_range("--generations", self.generations, 1, MAX_GENERATIONS)
        _in_range("--workers", self.workers, 1, MAX_WORKERS)
        _in_range("--seed", self.seed, 0, MAX_SEED)
        if not (math.isfinite(self.min_epsilon) and self.min_epsilon >= 0):
            raise CalibrationError(
                f"--min-epsilon must be a number >= 0 (got {self.min_epsilon})"
            )
        if not self.parameters:
            raise CalibrationError("--parameters: name at least one parameter")


def _in_range(option: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise CalibrationError(
            f"{option} must be an integer in [{low:,}, {high:,}] (got {value})"
        )


@dataclass
class Calibration:
    """A finished (or continued) calibration: its ensemble and provenance.

    Attributes:
        ensemble: The members (:func:`berdaya.experiments.ensemble.load_ensemble`).
        provenance: What produced it.
        generations: One row per generation: epsilon, evaluations, acceptance, ESS.
    """

    ensemble: pd.DataFrame
    provenance: dict[str, Any]
    generations: pd.DataFrame = field(default_factory=pd.DataFrame)


def _identity(
    config: CalibrationConfig, targets: Sequence[Target], ranges: Mapping
) -> dict[str, Any]:
    """What must match for a database to be continued."""
    return {
        "scenario": config.scenario,
        "parameters": {k: list(v) for k, v in ranges.items()},
        "population": config.population,
        "seed": config.seed,
        "adaptive": config.adaptive,
        "targets": {t.name: [t.statistic, t.low, t.high] for t in targets},
    }


def _stored_identity(history: pyabc.History) -> dict[str, Any] | None:
    try:
        options = ast.literal_eval(history.get_abc().json_parameters)
        return json.loads(options["berdaya"])
    except (ValueError, SyntaxError, KeyError, TypeError):
        return None


def _open_or_new(
    abc: pyabc.ABCSMC, db: Path, identity: dict[str, Any], fresh: bool
) -> pyabc.History:
    url = f"sqlite:///{db.resolve()}"
    if fresh:
        db.unlink(missing_ok=True)
    if db.exists():
        try:
            history = pyabc.History(url, create=False)
            stored = _stored_identity(history) if history.id is not None else None
        except Exception as err:  # a file that is not pyabc's database
            raise CalibrationError(
                f"--db: {db} is not a pyabc calibration database ({type(err).__name__}); "
                "give another --db or --fresh"
            ) from None
        if stored != identity:
            diff = _first_difference(stored or {}, identity)
            raise CalibrationError(
                f"--db: {db} holds another calibration ({diff}); give another --db "
                "or --fresh to start over"
            )
        log.info(
            "continuing the calibration in %s (%d generations done)", db, _done(history)
        )
        return abc.load(url, history.id)
    db.parent.mkdir(parents=True, exist_ok=True)
    log.info("starting a calibration in %s", db)
    meta = {"berdaya": json.dumps(identity), "commit": _git_commit()}
    return abc.new(url, {}, meta_info=meta)


def _first_difference(stored: Mapping[str, Any], wanted: Mapping[str, Any]) -> str:
    for key, value in wanted.items():
        if stored.get(key) != value:
            return f"its {key} is {json.dumps(stored.get(key))}, this one's {json.dumps(value)}"
    return "it cannot be read"


def _done(history: pyabc.History) -> int:
    return int(history.max_t) + 1


def _generation_table(history: pyabc.History) -> pd.DataFrame:
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    ess = []
    for t in pops["t"]:
        _, w = history.get_distribution(t=int(t))
        ess.append(float(1.0 / np.sum(np.square(w))) if w.size else float("nan"))
    return pd.DataFrame(
        {
            "generation": pops["t"].astype(int),
            "epsilon": pops["epsilon"].astype(float),
            "evaluations": pops["samples"].astype(int),
            "accepted": pops["particles"].astype(int),
            "acceptance": pops["particles"] / pops["samples"],
            "ess": ess,
            "wall_seconds": pops["wall_time"].astype(float),
        }
    )


def _ensemble_from(history: pyabc.History, names: Sequence[str]) -> pd.DataFrame:
    population = history.get_population(t=history.max_t)
    rows = []
    for particle in population.particles:
        pars = particle.parameter
        rows.append(
            {
                **{n: float(pars[n]) for n in names},
                "weight": float(particle.weight),
                "distance": float(particle.distance),
                "seed": int(particle.sum_stat["seed"]),
            }
        )
    frame = pd.DataFrame(rows)
    frame["weight"] /= frame["weight"].sum()
    frame.insert(0, "member", np.arange(len(frame)))
    return frame


def _git_commit() -> str:
    here = Path(__file__).resolve().parent

    def git(*args: str) -> str:
        out = subprocess.run(
            ["git", *args],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        return out.stdout.strip()

    try:
        head = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return f"{head}{' (with uncommitted changes)' if dirty else ''}"


def calibrate(
    config: CalibrationConfig,
    db: Path,
    *,
    fresh: bool = False,
    progress: bool = False,
    command: str = "",
) -> Calibration:
    """Run (or continue) a calibration and return its ensemble and provenance.

    Args:
        config: What to fit and how.
        db: pyabc's database (created, or continued when it holds this calibration).
        fresh: Delete ``db`` first and start over.
        progress: Show progress bars (pyabc's log lines are shown in any case when
            logging is configured, as the command does).
        command: The command line, for the provenance.

    Returns:
        The calibration.

    Raises:
        CalibrationError: A bad option or a database holding another calibration.
    """
    config.check()
    try:
        targets = fit_targets(load_targets(config.targets), config.scenario)
    except TargetsError as err:
        raise CalibrationError(f"--targets: {err}") from None
    ranges = priors(config.parameters)
    statistics = tuple(dict.fromkeys(t.statistic for t in targets))
    prior = pyabc.Distribution(
        **{n: pyabc.RV("uniform", lo, hi - lo) for n, (lo, hi) in ranges.items()}
    )
    sampler = SeededSampler(config.seed, config.workers, progress=progress)
    abc = pyabc.ABCSMC(
        Simulator(config.scenario, statistics),
        prior,
        RangeDistance(tuple(targets)),
        population_size=config.population,
        eps=pyabc.QuantileEpsilon(
            initial_epsilon="from_sample" if config.adaptive else config.min_epsilon,
            alpha=0.5,
        ),
        sampler=sampler,
    )
    identity = _identity(config, targets, ranges)
    history = _open_or_new(abc, db, identity, fresh)
    remaining = config.generations - _done(history)
    last_eps = _last_epsilon(history)
    if remaining > 0 and not last_eps <= config.min_epsilon:
        history = abc.run(
            minimum_epsilon=config.min_epsilon, max_nr_populations=remaining
        )
    else:
        sampler.stop()
        log.info("nothing left to run: %d generations done", _done(history))
    table = _generation_table(history)
    ensemble = _ensemble_from(history, list(ranges))
    provenance = _provenance(config, targets, ranges, history, table, command, db)
    return Calibration(ensemble, provenance, table)


def _provenance(  # noqa: PLR0917 - the parts of one record
    config: CalibrationConfig,
    targets: Sequence[Target],
    ranges: dict[str, tuple[float, float]],
    history: Any,
    table: pd.DataFrame,
    command: str,
    db: Path,
) -> dict[str, Any]:
    """What an ensemble's provenance says of its calibration."""
    return {
        "scenario": config.scenario,
        "method": "pyabc.ABCSMC with uniform acceptance: distance = sum over the fit "
        "targets of max(0, low - x, x - high) / (high - low), accepted when at most "
        "the generation's epsilon (pyabc.QuantileEpsilon(alpha=0.5)); generations after "
        "the first propose by multivariate normal perturbation of the last population",
        "pyabc": pyabc.__version__,
        "berdaya": _version(),
        "berdaya_commit": _started_commit(history),
        "date": _finished(history),
        "command": command,
        "fit_targets": [
            {"name": t.name, "statistic": t.statistic, "low": t.low, "high": t.high}
            for t in targets
        ],
        "priors": {n: {"uniform": [lo, hi]} for n, (lo, hi) in ranges.items()},
        "population": config.population,
        "generations": len(table),
        "max_generations": config.generations,
        "min_epsilon": config.min_epsilon,
        "epsilons": table["epsilon"].tolist(),
        "evaluations": table["evaluations"].tolist(),
        "acceptance_rates": table["acceptance"].tolist(),
        "ess": table["ess"].tolist(),
        "schedule": "adaptive: the first threshold the median distance of a prior "
        "sample, then the weighted median of each population's distances"
        if config.adaptive
        else "the first generation at min_epsilon: rejection ABC from the prior",
        "calibration_sample": config.population if config.adaptive else 0,
        "wall_seconds_generations": round(float(table["wall_seconds"].sum()), 1),
        "seed": config.seed,
        "seeds": "evaluation i of generation t (t = -1: the prior sample that sets the "
        "first epsilon) seeds NumPy's global generator with "
        "SeedSequence([seed, t + 1, i]).generate_state(4); the run's seed is "
        "drawn from it (column seed); a generation keeps its evaluations up to the "
        "population-th accepted, in index order",
        "workers": config.workers,
        "database": db.name,
    }


def _started_commit(history: pyabc.History) -> str:
    """The commit the calibration started on, as recorded in its database."""
    try:
        return str(ast.literal_eval(history.get_abc().json_parameters)["commit"])
    except (ValueError, SyntaxError, KeyError, TypeError):
        pass
    recorded = str(history.get_abc().git_hash or "")  # pyabc's: the working folder's
    if len(recorded) == 40 and all(c in "0123456789abcdef" for c in recorded):
        return recorded
    return _git_commit()


def _finished(history: pyabc.History) -> str:
    """When the last generation was written (UTC), from the database."""
    pops = history.get_all_populations()
    end = pd.Timestamp(pops["population_end_time"].max())
    local = (
        end.tz_localize(datetime.now().astimezone().tzinfo) if end.tz is None else end
    )
    return local.tz_convert(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _last_epsilon(history: pyabc.History) -> float:
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    return float(pops["epsilon"].iloc[-1]) if len(pops) else math.inf


def _version() -> str:
    from berdaya import __version__  # noqa: PLC0415 - the package's own version

    return __version__


# --- the command --------------------------------------------------------------------------


#: Command lines shown under "Examples:" in ``berdaya calibrate --help`` (each runs as
#: written: ``tests/test_cli_examples.py``).
EXAMPLES = (
    "berdaya calibrate --quick --population 10 --generations 1 --workers 1 "
    "--out results/calibration/quick.parquet",
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, as the command's other errors."""

    def error(self, message: str) -> NoReturn:
        """Say what is wrong in one line and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(prog: str = "berdaya calibrate") -> argparse.ArgumentParser:
    """The options of ``berdaya calibrate``."""
    parser = _Parser(
        prog=prog,
        description="Fit the unsourced parameters to the fitting targets (ABC-SMC)\n"
        "and write the posterior ensemble.",
        epilog="\n".join(["Examples:", *(f"  {line}" for line in EXAMPLES)]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _file_options(parser)
    parser.add_argument(
        "--population",
        type=int,
        default=None,
        help=f"particles a generation, the ensemble's size (default {DEFAULT_POPULATION}; "
        f"--quick: {QUICK_POPULATION})",
    )
    parser.add_argument(
        "--generations",
        type=int,
        default=None,
        help=f"most generations in all (default {DEFAULT_GENERATIONS}; --quick: "
        f"{QUICK_GENERATIONS})",
    )
    parser.add_argument(
        "--min-epsilon",
        type=float,
        default=0.0,
        help="stop once a generation's threshold is at or below it (default: 0, every "
        "fitting target in range)",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="local processes (default: 2)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help="master seed (default: %(default)s)",
    )
    parser.add_argument(
        "--parameters",
        default=",".join(CALIBRATED),
        help="comma-separated parameters to calibrate (default: %(default)s)",
    )
    parser.add_argument("--targets", type=Path, default=None, help="a targets TOML")
    parser.add_argument(
        "--adaptive",
        action="store_true",
        help="lower the threshold over generations from the median distance of a prior "
        "sample (ABC-SMC); default: the first generation already at --min-epsilon",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a tiny calibration for tests ({QUICK_POPULATION} particles, "
        f"{QUICK_GENERATIONS} generations unless given)",
    )
    _report_options(parser)
    return parser


def _file_options(parser: argparse.ArgumentParser) -> None:
    """``--out``, ``--db`` and ``--fresh``: where the ensemble and the database go."""
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(f"results/calibration/{SCENARIO}.parquet"),
        help="the ensemble, a .parquet (its provenance goes beside it as .json; "
        "default: %(default)s)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="pyabc's database, continued when it holds the same calibration "
        "(default: the --out path ending in .db)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="delete --db and start over"
    )


def _report_options(parser: argparse.ArgumentParser) -> None:
    """``--report``, ``--predictive`` and ``--city-predictive``: the report's runs."""
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        help="also write the calibration report (markdown; figures in a figures/ "
        "folder beside it), e.g. docs/calibration.md",
    )
    parser.add_argument(
        "--predictive",
        type=int,
        default=100,
        help="ensemble members run for the report's posterior predictive (default: "
        "%(default)s)",
    )
    parser.add_argument(
        "--city-predictive",
        type=int,
        default=8,
        help="members run on the city scenario for the repayment holdouts (default: "
        "%(default)s)",
    )


def _config_from(args: argparse.Namespace) -> CalibrationConfig:
    population = args.population
    generations = args.generations
    if population is None:
        population = QUICK_POPULATION if args.quick else DEFAULT_POPULATION
    if generations is None:
        generations = QUICK_GENERATIONS if args.quick else DEFAULT_GENERATIONS
    names = tuple(p.strip() for p in args.parameters.split(",") if p.strip())
    return CalibrationConfig(
        parameters=names,
        population=population,
        generations=generations,
        min_epsilon=args.min_epsilon,
        seed=args.seed,
        workers=args.workers,
        adaptive=args.adaptive,
        targets=args.targets,
    )


def _check_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    out = args.out
    if out.suffix != ".parquet" or not out.stem:
        raise CalibrationError(f"--out: {str(out)!r} must be a file ending in .parquet")
    db = args.db if args.db is not None else out.with_suffix(".db")
    if db.suffix != ".db" or not db.stem:
        raise CalibrationError(f"--db: {str(db)!r} must be a file ending in .db")
    if db.resolve() == out.resolve():
        raise CalibrationError("--db and --out must be different files")
    if args.report is not None and args.report.suffix != ".md":
        raise CalibrationError(f"--report: {str(args.report)!r} must end in .md")
    _in_range("--predictive", args.predictive, 1, 10_000)
    _in_range("--city-predictive", args.city_predictive, 0, 1_000)
    for option, path in (("--out", out), ("--db", db), ("--report", args.report)):
        if path is not None:
            try:
                check_writable(path, option)
            except SweepError as err:
                raise CalibrationError(str(err)) from None
    return out, db


def _capped(config: CalibrationConfig, prog: str) -> CalibrationConfig:
    """``--workers`` cut down to this machine's cores, said in one line on stderr."""
    cores = usable_cores()
    if config.workers <= cores:
        return config
    print(
        f"{prog}: warning: --workers {config.workers} is more than the {cores} cores "
        f"of this machine; using {cores}",
        file=sys.stderr,
    )
    return replace(config, workers=cores)


def _command(argv: Sequence[str]) -> str:
    return " ".join(["berdaya", "calibrate", *argv])


def main(argv: Sequence[str] | None = None, prog: str = "berdaya calibrate") -> int:
    """Run ``berdaya calibrate``.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).
        prog: The command's name, for its messages.

    Returns:
        0 on success, 2 on bad input.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(prog).parse_args(argv)
    try:
        config = _config_from(args)
        config.check()
        priors(config.parameters)
        out, db = _check_paths(args)
    except CalibrationError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    config = _capped(config, prog)
    _log_to_stderr()
    try:
        result = calibrate(
            config, db, fresh=args.fresh, progress=True, command=_command(argv)
        )
    except CalibrationError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    write_ensemble(result.ensemble, out, result.provenance)
    print(_summary(result, out))
    if args.report is not None:
        from berdaya.experiments.calibration_report import write_report  # noqa: PLC0415

        write_report(
            out,
            args.report,
            members=args.predictive,
            city_members=args.city_predictive,
            seed=config.seed,
            workers=config.workers,
            command=_command(argv),
            generations=result.generations,
        )
        print(f"report written to {args.report}")
    return 0


def _log_to_stderr() -> None:
    """Show pyabc's and this module's progress lines on stderr, terminal or not."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("berdaya calibrate: %(message)s"))
    for name in ("ABC", "berdaya.calibrate"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
    for name in ("ABC.Distance", "ABC.Epsilon", "ABC.Acceptor", "ABC.History"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _summary(result: Calibration, out: Path) -> str:
    p = result.provenance
    lines = [
        f"berdaya calibrate: {len(result.ensemble)} members written to {out} "
        f"(provenance: {out.with_suffix('.json')})",
        f"  {p['generations']} generations of {p['population']}; epsilons "
        + ", ".join(f"{e:.3g}" for e in p["epsilons"]),
        "  acceptance " + ", ".join(f"{a:.0%}" for a in p["acceptance_rates"]),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main(prog="python -m berdaya.experiments.calibrate"))

"""Issue 19's figures as interleaved ratios against Mesa's BoltzmannWealth, in CPU time.

A figure measured once is not a result on a shared machine: another process that takes a
core for a second slows whichever model was running then. Here the reference and the
model take turns in one process (reference, model, reference, model, ...), each timed
with :func:`time.process_time` (the CPU this process used, which another busy core
disturbs little), and every figure is the median of the pairs' ratios, with their min
and max. A pair is:

1. the reference: ``BoltzmannWealth`` at 10,000 agents on a 100 x 100 grid (one agent
   a cell, the density-matched reference of :mod:`benchmarks.core`), built fresh and
   stepped 48 times;
2. ``kedungkandang-2008`` at 10,000 households x 48 months (``model_runs`` builds and
   runs, their median): household-months per CPU second over the reference's agent-steps
   per CPU second, stepping only and with the build included (both models' builds);
3. the default run: ``kedungkandang-2008`` at its own size (4,000 households to its end,
   68 months) with its records read (``records()``), build to records, ``model_runs``
   times (their median): milliseconds, runs a minute a core (60,000 / ms), and the run
   in the reference's steps (ms over the pair's reference ms a step).

The sweep efficiency (:func:`sweep_efficiency`) interleaves a sweep in this process with
the same sweep on a warm pool of ``workers`` processes (the spec of
:func:`benchmarks.sweep.spec`); it is wall-clock by nature. On 2 cores its default
(8 replications x 3 points = 24 runs a sweep, 5 pairs) takes about 15-20 s including the
pool's start, so ``python -m benchmarks`` runs it unless ``--no-sweep`` is given.
"""

from __future__ import annotations

import gc
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.core import SCENARIO, SEED, build_reference, release_reference

REFERENCE_AGENTS = 10_000
# Issue 19's targets: point 2 (both ratios) and point 1 (the default run) and the
# sweep's (two workers at 1.6x one, 80% each).
RATIO_MIN = 100.0
DEFAULT_RUN_MS = 20.0
SWEEP_EFFICIENCY_MIN = 0.80


@dataclass(frozen=True)
class Plan:
    """How much to measure.

    Attributes:
        pairs: Reference-model pairs (at least 5 for a figure).
        reference_steps: Steps of each reference run.
        households: Households of the ratio's model runs.
        months: Months of the ratio's model runs.
        model_runs: Model runs of each kind in a pair (their median is the pair's).
    """

    pairs: int = 5
    reference_steps: int = 48
    households: int = 10_000
    months: int = 48
    model_runs: int = 3


def _cpu() -> float:
    return time.process_time()


def reference_run(plan: Plan, seed: int = SEED) -> tuple[float, float]:
    """Build and step the reference once.

    Returns:
        (build CPU seconds, stepping CPU seconds).
    """
    gc.collect()
    t0 = _cpu()
    model = build_reference(REFERENCE_AGENTS, seed)
    t1 = _cpu()
    for _ in range(plan.reference_steps):
        model.step()
    t2 = _cpu()
    del model
    release_reference()
    return t1 - t0, t2 - t1


def p2kp_run(
    overrides: dict[str, int] | None, seed: int = SEED, *, records: bool = False
) -> tuple[float, float, int]:
    """Load, build and run ``kedungkandang-2008`` once (with ``records()`` if asked).

    Args:
        overrides: The scenario's overrides (None: its own size and length).
        seed: The run's seed.
        records: Read the records table at the end (part of a default run).

    Returns:
        (CPU seconds of loading and building, of the months and ``records()``,
        months run).
    """
    from berdaya.model import P2KPModel  # noqa: PLC0415
    from berdaya.scenarios import P2KPScenario  # noqa: PLC0415

    gc.collect()
    t0 = _cpu()
    model = P2KPModel(P2KPScenario.load(SCENARIO, rng=seed, overrides=overrides))
    t1 = _cpu()
    while model.running:
        model.step()
    if records:
        model.records()
    t2 = _cpu()
    return t1 - t0, t2 - t1, model.steps


def one_pair(plan: Plan, seed: int = SEED) -> dict[str, float]:
    """One reference run, then the model's runs: this pair's figures.

    Returns:
        ``ratio`` and ``ratio_with_build`` (household-months per CPU second over the
        reference's agent-steps per CPU second), ``default_run_ms``,
        ``default_run_in_reference_steps`` and the raw CPU times.
    """
    ref_build, ref_steps = reference_run(plan, seed)
    ref_units = REFERENCE_AGENTS * plan.reference_steps
    over = {"n_households": plan.households, "months": plan.months}
    runs = [p2kp_run(over, seed) for _ in range(plan.model_runs)]
    build = statistics.median(r[0] for r in runs)
    steps = statistics.median(r[1] for r in runs)
    units = plan.households * runs[0][2]
    default = [p2kp_run(None, seed, records=True) for _ in range(plan.model_runs)]
    default_s = statistics.median(b + s for b, s, _ in default)
    ref_step_s = ref_steps / plan.reference_steps
    return {
        "ratio": (units / steps) / (ref_units / ref_steps),
        "ratio_with_build": (units / (build + steps))
        / (ref_units / (ref_build + ref_steps)),
        "default_run_ms": 1000.0 * default_s,
        "default_run_in_reference_steps": default_s / ref_step_s,
        "reference_build_ms": 1000.0 * ref_build,
        "reference_step_ms": 1000.0 * ref_step_s,
        "model_build_ms": 1000.0 * build,
        "model_month_ms": 1000.0 * steps / runs[0][2],
    }


def spread(values: list[float]) -> dict[str, Any]:
    """Median, min and max of the pairs' values (and the values)."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "pairs": values,
    }


def interleaved(plan: Plan, seed: int = SEED) -> dict[str, Any]:
    """Run ``plan.pairs`` pairs; each figure's median, min and max over the pairs.

    Args:
        plan: What to measure.
        seed: Every run's seed.

    Returns:
        The plan, and for each figure of :func:`one_pair` its :func:`spread`; runs a
        minute a core from the default run's median.
    """
    pairs = []
    for i in range(plan.pairs):
        print(f"  pair {i + 1} of {plan.pairs} ...", flush=True)
        pairs.append(one_pair(plan, seed))
    out: dict[str, Any] = {
        "clock": "time.process_time",
        "plan": vars(plan),
        "figures": {k: spread([p[k] for p in pairs]) for k in pairs[0]},
    }
    ms = out["figures"]["default_run_ms"]
    out["runs_per_minute_per_core"] = {
        "median": 60_000.0 / ms["median"],
        "min": 60_000.0 / ms["max"],
        "max": 60_000.0 / ms["min"],
    }
    return out


def _timed_sweep(the_spec: dict[str, Any], tmp: Path, **where: Any) -> float:
    """Wall seconds of one sweep into a fresh folder under ``tmp``."""
    from berdaya.experiments.sweep import run_sweep  # noqa: PLC0415

    out = Path(tempfile.mkdtemp(dir=tmp))
    t0 = time.perf_counter()
    run_sweep(the_spec, out, **where)
    seconds = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    return seconds


def sweep_efficiency(
    pairs: int = 5, replications: int = 8, workers: int = 2
) -> dict[str, Any]:
    """A sweep in this process and on a warm pool, interleaved: the pool's efficiency.

    Args:
        pairs: Serial-parallel pairs.
        replications: Replications of the sweep's 3 points (:func:`benchmarks.sweep.spec`).
        workers: Processes of the pool.

    Returns:
        Runs, workers, and the spreads of the speed-up (serial seconds over the pool's)
        and of the efficiency (speed-up over ``workers``), wall clock.
    """
    from benchmarks.sweep import spec  # noqa: PLC0415
    from berdaya.experiments.executors import local_pool  # noqa: PLC0415
    from berdaya.experiments.spec import build_design, parse_spec  # noqa: PLC0415
    from berdaya.experiments.sweep import execute_run, tasks_of  # noqa: PLC0415

    the_spec = spec(replications)
    design = build_design(parse_spec(the_spec))
    probe = tasks_of(design)[0]
    execute_run(probe)  # this process's first run out of the timings
    tmp = Path(tempfile.mkdtemp(prefix="berdaya-bench-"))
    pool = local_pool(workers)
    speedups = []
    try:
        for fut in [pool.submit(execute_run, probe) for _ in range(2 * workers)]:
            fut.result()  # every worker imported the model and ran once
        for _ in range(pairs):
            serial = _timed_sweep(the_spec, tmp, workers=1)
            parallel = _timed_sweep(the_spec, tmp, executor=pool)
            speedups.append(serial / parallel)
    finally:
        pool.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "clock": "time.perf_counter",
        "runs": design.runs,
        "workers": workers,
        "speedup": spread(speedups),
        "efficiency": spread([s / workers for s in speedups]),
    }


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def _mmm(s: dict[str, Any], fmt: str) -> str:
    """A spread as 'median (min-max)'."""
    return f"{s['median']:{fmt}} ({s['min']:{fmt}}-{s['max']:{fmt}})"


def checks(result: dict[str, Any], sweep: dict[str, Any] | None) -> list[dict]:
    """Issue 19's targets against the medians of :func:`interleaved` (and the sweep)."""
    f = result["figures"]
    out = [
        {
            "name": "ratio_at_10k_cpu",
            "measured": f["ratio"]["median"],
            "limit": RATIO_MIN,
            "met": f["ratio"]["median"] >= RATIO_MIN,
        },
        {
            "name": "ratio_at_10k_with_build_cpu",
            "measured": f["ratio_with_build"]["median"],
            "limit": RATIO_MIN,
            "met": f["ratio_with_build"]["median"] >= RATIO_MIN,
        },
        {
            "name": "default_run_ms_cpu",
            "measured": f["default_run_ms"]["median"],
            "limit": DEFAULT_RUN_MS,
            "met": f["default_run_ms"]["median"] <= DEFAULT_RUN_MS,
        },
    ]
    if sweep is not None:
        eff = sweep["efficiency"]["median"]
        out.append(
            {
                "name": "sweep_efficiency",
                "measured": eff,
                "limit": SWEEP_EFFICIENCY_MIN,
                "met": eff >= SWEEP_EFFICIENCY_MIN,
            }
        )
    return out


def lines(result: dict[str, Any], sweep: dict[str, Any] | None) -> list[str]:
    """The printed figures: each with its pairs' median (min-max) and its target."""
    f, p = result["figures"], result["plan"]
    met = {c["name"]: _verdict(c["met"]) for c in checks(result, sweep)}
    size = f"{p['households']:,} households x {p['months']} months"
    out = [
        f"issue 19, interleaved in CPU time: {p['pairs']} pairs of BoltzmannWealth "
        f"{REFERENCE_AGENTS:,} agents x {p['reference_steps']} steps "
        f"({_mmm(f['reference_step_ms'], '.1f')} ms a step) and the model "
        f"({p['model_runs']} runs of each case a pair); median (min-max) over the pairs:",
        f"  ratio at {size}, stepping: {_mmm(f['ratio'], '.1f')}x "
        f"(a month {_mmm(f['model_month_ms'], '.2f')} ms); "
        f"target >= {RATIO_MIN:.0f}x: {met['ratio_at_10k_cpu']}",
        f"  the same with both builds: {_mmm(f['ratio_with_build'], '.1f')}x "
        f"(build {_mmm(f['model_build_ms'], '.1f')} ms against "
        f"{_mmm(f['reference_build_ms'], '.0f')}); "
        f"target >= {RATIO_MIN:.0f}x: {met['ratio_at_10k_with_build_cpu']}",
        f"  default run ({SCENARIO}, build, months and records()): "
        f"{_mmm(f['default_run_ms'], '.1f')} ms, "
        f"{_mmm(result['runs_per_minute_per_core'], ',.0f')} runs a minute a core, "
        f"{_mmm(f['default_run_in_reference_steps'], '.2f')} reference steps; "
        f"target <= {DEFAULT_RUN_MS:.0f} ms on a quiet machine: "
        f"{met['default_run_ms_cpu']}",
    ]
    if sweep is None:
        out.append("  sweep efficiency: not measured (--no-sweep)")
    else:
        out.append(
            f"  sweep efficiency, {sweep['runs']} runs on {sweep['workers']} warm "
            f"workers against one, wall clock, {len(sweep['speedup']['pairs'])} pairs: "
            f"{_mmm(sweep['speedup'], '.2f')}x, each worker at "
            f"{_mmm(sweep['efficiency'], '.0%')}; target >= "
            f"{SWEEP_EFFICIENCY_MIN:.0%}: {met['sweep_efficiency']}"
        )
    return out

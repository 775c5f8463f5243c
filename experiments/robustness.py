"""Robustness of the validation patterns over the plausible threshold and degree ranges.

``berdaya validate`` judges the observed case at its own parameter values. This module asks
whether those patterns hold only there (on a knife-edge) or over the plausible ranges of the
two parameters participation is most sensitive to: the mean participation threshold
(``participation_threshold_mean``) and the network's mean degree (``mean_degree``), each
over the ``plausible`` range the scenario schema declares for it. Every point of the grid
runs the observed scenario with the same seeds (``replication_seeds(seed, n)``, as
:func:`~berdaya.experiments.compare.compare` does), and each criterion of
:data:`~berdaya.experiments.patterns.PATTERNS` is judged exactly as ``berdaya validate``
judges it (its whole 95% interval on the criterion's side). The contrasts (C1, C2) are about
the design scenario, not the observed case's parameters, so they are not repeated here.

It also reports the spread over seeds of the poor's participation at the scenario's own
values (sd and the 5-95% range over many seeds): a cascade on a knife-edge shows up there as
a spread of the order of the value itself.

It runs on the engine's driver (:func:`~berdaya.experiments.engine.run_stored`), as the
hypercube does, so runs are the same function of (scenario, seed) as everywhere else. With
``--cache DIR`` every finished run is kept in the store ``DIR/grid``
(:class:`~berdaya.experiments.store.TaskStore`) under its task key (:func:`grid_key`: the
scenario's resolved values, the overrides, the replication and seed, the outcomes kept,
and the model's code); a killed or repeated command reads those back and runs only the
rest, with the same rows and so the same table.
Run ``python -m berdaya.experiments.robustness --out docs/validation.md`` to rewrite the
robustness section of that document for the schema's participation rule, and
``--rule v1`` or ``--rule weak-endorsement`` for the alternatives of :data:`RULES` that
fail it (each between its own marker lines, :func:`markers`; the rest of the file, the
screen's report, is kept).

``--design lhs`` asks the same over every uncertainty at once: the share of the plausible
space where the patterns hold, from a Latin hypercube (:mod:`.hypercube`), against the
named alternatives and the calibrated ensemble, with a figure; its section has the
marker ``lhs`` (:data:`SECTIONS`).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import scipy

from berdaya.experiments import hypercube, hypercube_report
from berdaya.experiments.engine import replication_seeds, run_stored, task_key
from berdaya.experiments.ensemble import load_provenance
from berdaya.experiments.files import command_line, write_text
from berdaya.experiments.patterns import (
    ALTERNATIVES,
    DESIGN,
    OBSERVED,
    OUTCOMES,
    PATTERNS,
    judge,
)
from berdaya.experiments.run import run
from berdaya.experiments.store import TaskStore
from berdaya.scenarios import load_scenario, schema

#: This module, as ``python -m`` runs it (the command written into its report).
MODULE = "berdaya.experiments.robustness"

#: The two parameters of the grid, in table order (rows, columns).
THRESHOLD = "participation_threshold_mean"
DEGREE = "mean_degree"
#: The participation rules the report covers, as parameter values over the schema's
#: defaults. ``default`` is the schema's rule: information from ties, passed on mostly by
#: participants (Banerjee et al. 2013), full endorsement and widely spread thresholds.
#: The others are the alternatives that fail the patterns somewhere in the plausible
#: ranges: ``v1``, the first version's rule (everyone hears from any participating tie,
#: narrow thresholds), tips into or out of participation as a cascade; and
#: ``weak-endorsement`` (friends' participation weighs little once informed, as Banerjee
#: et al. found for an individual loan) makes participation fall with the threshold below
#: P1's criteria.
RULES: dict[str, dict[str, float]] = {
    "default": {},
    "v1": {
        "info_pass_participant": 1.0,
        "info_pass_nonparticipant": 0.0,
        "participation_threshold_sd": 0.12,
    },
    "weak-endorsement": {
        "endorsement_weight": 0.3,
        "participation_threshold_mean": 0.32,
    },
}

#: The sections this module writes into the document: one per rule, and the hypercube's.
SECTIONS: tuple[str, ...] = (*RULES, "lhs")
#: The alternatives ``--design lhs`` runs unless told otherwise.
LHS_ALTERNATIVES = ("P4", "P1a")
#: Where ``--design lhs`` draws its figure unless told otherwise.
LHS_FIGURE = Path("docs/figures/robustness-lhs.png")
#: The grid's store in a ``--cache`` folder (beside the hypercube's, one per design).
GRID_STORE = "grid"


class RunTask(NamedTuple):
    """One run of the grid: a point's overrides with one seed."""

    scenario: str
    overrides: dict[str, Any]
    replication: int
    seed: int


def run_one(task: RunTask) -> dict[str, Any]:
    """Run one task and return its final-month outcomes (top-level, for workers).

    Args:
        task: What to run.

    Returns:
        The point's parameter values, the replication, the seed and the outcomes the
        validation criteria measure.
    """
    final = run(task.scenario, task.seed, overrides=task.overrides).final
    row: dict[str, Any] = dict(task.overrides)
    row.update(replication=task.replication, seed=task.seed)
    row.update({k: float(final[k]) for k in OUTCOMES})
    return row


def run_row(task: RunTask) -> pd.DataFrame:
    """:func:`run_one` as a one-row table, the form the engine's store keeps.

    Args:
        task: What to run.

    Returns:
        One row: the run's parameter values, replication, seed and outcomes.
    """
    return pd.DataFrame([run_one(task)])


def grid_key(task: RunTask) -> str:
    """What a grid run is kept under in a store (:func:`~.engine.task_key`).

    It covers everything the run's row depends on: the scenario's resolved parameter
    values (so an edited scenario file gives another key), the overrides (the row's
    columns), the replication and seed, the outcomes kept, and the model's code.

    Args:
        task: The run.

    Returns:
        The key.
    """
    params = load_scenario(task.scenario, task.overrides).params
    return task_key(
        study="robustness-grid",
        params=params.model_dump(mode="json"),
        overrides=task.overrides,
        replication=task.replication,
        seed=task.seed,
        outcomes=list(OUTCOMES),
    )


def plausible(name: str) -> tuple[float, float]:
    """The plausible range the scenario schema declares for a parameter.

    Raises:
        ValueError: The parameter declares none.
    """
    rng = schema()[name].plausible
    if rng is None:
        raise ValueError(f"{name} has no plausible range in the scenario schema")
    return float(rng[0]), float(rng[1])


def grid_values(name: str, points: int) -> list[float]:
    """``points`` evenly spaced values over a parameter's plausible range (ends included)."""
    low, high = plausible(name)
    return [round(float(v), 6) for v in np.linspace(low, high, points)]


def run_grid(
    scenario: str = OBSERVED,
    *,
    thresholds: Sequence[float],
    degrees: Sequence[float],
    replications: int,
    seed: int,
    workers: int = 1,
    overrides: dict[str, Any] | None = None,
    progress: bool = False,
    cache: Path | None = None,
) -> pd.DataFrame:
    """Run the scenario at every (threshold, degree) point with the same seeds.

    With a cache, a run whose key (:func:`grid_key`) is in its store ``<cache>/grid`` is
    read back instead of run, and every other run is written there as it finishes: an
    interrupted grid resumes where it stopped, with the rows it would have had.

    Args:
        scenario: The observed scenario.
        thresholds: Values of ``participation_threshold_mean``.
        degrees: Values of ``mean_degree``.
        replications: Seeds per point.
        seed: Master seed of the replications.
        workers: Local processes.
        overrides: Other parameter values applied at every point.
        progress: Show a progress bar.
        cache: Folder of the cache (``None``: none).

    Returns:
        One row per run: the grid's two parameters, replication, seed and the outcomes;
        ``attrs["cached_runs"]``, how many were read from the cache.
    """
    base = dict(overrides or {})
    load_scenario(scenario, base)  # refuse a bad scenario or override before any run
    seeds = replication_seeds(seed, replications)
    tasks = [
        RunTask(scenario, {**base, THRESHOLD: t, DEGREE: d}, i, s)
        for t in thresholds
        for d in degrees
        for i, s in enumerate(seeds)
    ]
    store = None if cache is None else TaskStore(cache / GRID_STORE, "--cache")
    rows = run_stored(
        run_row,
        tasks,
        workers,
        key=grid_key,
        store=store,
        kind="robustness-grid",
        progress="robustness" if progress else None,
    )
    out = pd.concat([row for _, row in rows], ignore_index=True)
    out = out.sort_values([THRESHOLD, DEGREE, "replication"], ignore_index=True)
    out.attrs["cached_runs"] = 0 if store is None else store.reads
    return out


def judge_grid(finals: pd.DataFrame) -> pd.DataFrame:
    """Judge every criterion of ``PATTERNS`` at every grid point, as ``validate`` does.

    Args:
        finals: Rows from :func:`run_grid`.

    Returns:
        One row per point: the two parameters, the failed criteria (a tuple, empty when
        all pass), the mean and sd over seeds of the poor's participation, and the
        mean forced share of pendayaan (P4's statistic).
    """
    rows = []
    for (t, d), g in finals.groupby([THRESHOLD, DEGREE], sort=True):
        failed = tuple(c.key for c in (judge(c, g) for c in PATTERNS) if not c.passed)
        pp = g["participation_poor"].to_numpy(dtype=float)
        rows.append(
            {
                THRESHOLD: t,
                DEGREE: d,
                "failed": failed,
                "participation_poor": float(pp.mean()),
                "participation_poor_sd": float(pp.std(ddof=1)) if pp.size > 1 else 0.0,
                "forced_share": float(g["forced_share_of_pendayaan"].mean()),
            }
        )
    return pd.DataFrame(rows)


def seed_spread(values: np.ndarray) -> dict[str, float]:
    """Mean, sd, 5% and 95% quantiles, min and max of per-seed values."""
    v = np.asarray(values, dtype=float)
    return {
        "n": int(v.size),
        "mean": float(v.mean()),
        "sd": float(v.std(ddof=1)) if v.size > 1 else 0.0,
        "p5": float(np.quantile(v, 0.05)),
        "p95": float(np.quantile(v, 0.95)),
        "min": float(v.min()),
        "max": float(v.max()),
    }


def _cell(failed: tuple[str, ...], pp: float, forced: float) -> str:
    verdict = "all pass" if not failed else "fails " + ", ".join(failed)
    return f"{verdict} ({pp:.2f}; {forced:.2f})"


def report_markdown(
    table: pd.DataFrame,
    spread: dict[str, float],
    meta: dict[str, Any],
) -> str:
    """The robustness section (what ``--out`` writes between the rule's markers).

    Args:
        table: From :func:`judge_grid`.
        spread: From :func:`seed_spread` at the scenario's own values.
        meta: Command, scenario, its own values, seeds, runs (and how many were read
            from the cache, ``cached``), minutes, workers.

    Returns:
        The Markdown section.
    """
    degrees = sorted(table[DEGREE].unique())
    t_low, t_high = plausible(THRESHOLD)
    d_low, d_high = plausible(DEGREE)
    n_pass = int((table["failed"].map(len) == 0).sum())
    cached = meta.get("cached", 0)
    cached_note = f", {cached:,} of them read from the cache" if cached else ""
    lines = [
        f"## Robustness over threshold and degree: {meta['rule']} participation rule",
        "",
        "Generated by `experiments/robustness.py`; do not edit by hand, rerun the command.",
        "",
        f"- Command: `{meta['command']}`",
        f"- {meta['runs']:,} runs in {meta['minutes']:.1f} minutes on "
        f"{meta['workers']} workers{cached_note}; scenario `{meta['scenario']}` "
        f"(its own values: `{THRESHOLD}` = {meta['own_threshold']:g}, `{DEGREE}` = "
        f"{meta['own_degree']:g})",
        f"- Grid: `{THRESHOLD}` over its plausible range [{t_low:g}, {t_high:g}] and "
        f"`{DEGREE}` over [{d_low:g}, {d_high:g}] (both from the scenario schema's "
        f"`plausible`), every point with the same {meta['replications']} seeds "
        f"`replication_seeds({meta['seed']}, {meta['replications']})`; all other "
        "parameters at the scenario's values",
        "",
        "Each cell judges the criteria P1a-P4 of `berdaya validate` exactly as it does "
        "(the whole 95% interval over the seeds on the criterion's side) and gives, in "
        "brackets, the mean share of poor households taking part at the end and the "
        "mean forced share of pendayaan (P4's statistic, criterion >= 0.3). "
        f"{n_pass} of {len(table)} points pass every criterion.",
        "",
        f"| `{THRESHOLD}` | " + " | ".join(f"degree {d:g}" for d in degrees) + " |",
        "|---:|" + "---|" * len(degrees),
    ]
    for t, g in table.groupby(THRESHOLD, sort=True):
        cells = {
            r[DEGREE]: _cell(r["failed"], r["participation_poor"], r["forced_share"])
            for _, r in g.iterrows()
        }
        lines.append(f"| {t:g} | " + " | ".join(cells[d] for d in degrees) + " |")
    lines += [
        "",
        "### Spread over seeds at the scenario's own values",
        "",
        f"Share of poor households taking part at the end, over {spread['n']} seeds "
        f"`replication_seeds({meta['seed']}, {spread['n']})`: mean {spread['mean']:.3f}, "
        f"sd {spread['sd']:.3f}, 5-95% range [{spread['p5']:.3f}, {spread['p95']:.3f}] "
        f"(min {spread['min']:.3f}, max {spread['max']:.3f}).",
    ]
    return "\n".join(lines) + "\n"


def markers(rule: str) -> tuple[str, str]:
    """The lines around the section of one rule (a key of :data:`RULES`)."""
    return f"<!-- robustness:{rule}:start -->", f"<!-- robustness:{rule}:end -->"


def with_section(document: str, section: str, rule: str = "default") -> str:
    """Put ``section`` in place of the document's section for ``rule`` (appended if none).

    Args:
        document: The existing text ('' for a new file).
        section: A section from :func:`report_markdown` (without markers).
        rule: Which rule's section.

    Returns:
        The new text.
    """
    start, end = markers(rule)
    block = f"{start}\n{section.rstrip()}\n{end}"
    if start in document and end in document:
        head, _, rest = document.partition(start)
        _, _, tail = rest.partition(end)
        return head + block + tail
    if not document:
        return block + "\n"
    return document.rstrip("\n") + "\n\n" + block + "\n"


def section_of(document: str, rule: str = "default") -> str:
    """The section for ``rule`` of a document, without markers ('' when it has none)."""
    start, end = markers(rule)
    if start not in document or end not in document:
        return ""
    _, _, rest = document.partition(start)
    body, _, _ = rest.partition(end)
    return body.strip("\n") + "\n"


def _parser() -> argparse.ArgumentParser:
    """The options of ``python -m berdaya.experiments.robustness``."""
    parser = argparse.ArgumentParser(
        prog="python -m berdaya.experiments.robustness",
        description="Validation patterns over the plausible threshold and degree ranges.",
    )
    parser.add_argument("--out", type=Path, default=Path("docs/validation.md"))
    parser.add_argument("--scenario", default=OBSERVED)
    parser.add_argument("--thresholds", type=int, default=5, help="grid points (5)")
    parser.add_argument("--degrees", type=int, default=4, help="grid points (4)")
    parser.add_argument("--replications", type=int, default=30, help="seeds a point")
    parser.add_argument(
        "--spread-replications", type=int, default=200, help="seeds for the spread"
    )
    parser.add_argument("--seed", type=int, default=2008)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--rule",
        choices=tuple(RULES),
        default="default",
        help="participation rule: the schema's, or an alternative that fails (default)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="folder to keep finished runs (grid) or points (lhs) in; a rerun reads "
        "them back and runs only the rest",
    )
    _lhs_options(parser)
    return parser


def _alternatives(text: str) -> tuple[str, ...]:
    """``P4,P1a`` as keys of ``ALTERNATIVES`` ('' for none)."""
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in keys if k not in ALTERNATIVES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown alternative {', '.join(unknown)} (known: {', '.join(ALTERNATIVES)})"
        )
    return keys


def _lhs_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``--design lhs``."""
    parser.add_argument(
        "--design",
        choices=("grid", "lhs"),
        default="grid",
        help="grid: threshold x degree (default); lhs: every uncertainty at once",
    )
    lhs = parser.add_argument_group("--design lhs")
    lhs.add_argument("--points", type=int, default=400, help="hypercube points (400)")
    lhs.add_argument("--seeds", type=int, default=5, help="seeds a point (5)")
    lhs.add_argument(
        "--alternatives",
        type=_alternatives,
        default=LHS_ALTERNATIVES,
        help="checks whose named alternative is run on the same points "
        f"(default {','.join(LHS_ALTERNATIVES)}; '' for none)",
    )
    lhs.add_argument(
        "--posterior",
        type=int,
        default=None,
        help="points of the calibrated prior and draws of the ensemble "
        "(default: --points; 0 for neither)",
    )
    lhs.add_argument("--ensemble", default=OBSERVED, help="ensemble to draw from")
    lhs.add_argument("--figure", type=Path, default=LHS_FIGURE, help="figure (PNG)")


def _command(args: argparse.Namespace) -> str:
    """The command line that makes the same section (written into it)."""
    names = ["out", "scenario", "thresholds", "degrees", "replications"]
    names += ["spread_replications", "seed", "workers"]
    names += ["rule"] * (args.rule != "default") + ["cache"]
    return command_line(MODULE, args, names)


def _lhs_command(args: argparse.Namespace) -> str:
    """The command line that makes the same hypercube section."""
    args = argparse.Namespace(**{**vars(args), "posterior": _posterior(args)})
    names = ["design", "out", "scenario", "points", "seeds", "alternatives"]
    names += ["posterior", "ensemble", "seed", "workers", "figure", "cache"]
    return command_line(MODULE, args, names)


def _posterior(args: argparse.Namespace) -> int:
    return args.points if args.posterior is None else args.posterior


def run_lhs(args: argparse.Namespace) -> str:
    """Run every design of ``--design lhs``, draw the figure, return the section.

    Args:
        args: The parsed options.

    Returns:
        The Markdown section (without its markers).
    """
    started = time.monotonic()
    posterior = _posterior(args)
    seeds = replication_seeds(args.seed, args.seeds)
    results = {}
    for design in hypercube.designs(
        args.points,
        args.seed,
        alternatives=args.alternatives,
        posterior=posterior,
        ensemble=args.ensemble,
    ):
        results[design.label] = hypercube.analyse(
            design,
            seeds,
            workers=args.workers,
            cache=args.cache,
            observed=args.scenario,
            progress=True,
        )
    fitted = []
    if posterior:
        fitted = [t["name"] for t in load_provenance(args.ensemble)["fit_targets"]]
    meta = {
        "command": _lhs_command(args),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "runs": sum(2 * len(r.runs) for r in results.values()),
        "cached": sum(r.runs.attrs.get("cached_runs", 0) for r in results.values()),
        "cpu_minutes": sum(r.runs["seconds"].sum() for r in results.values()) / 60,
        "minutes": (time.monotonic() - started) / 60,
        "workers": args.workers,
        "scenario": args.scenario,
        "contrast": DESIGN,
        "seeds": seeds,
        "seed": args.seed,
        "ensemble": args.ensemble,
        "fitted": hypercube_report.fitted_checks(fitted),
        "scipy": scipy.__version__,
    }
    hypercube_report.figure(results, args.figure)
    link = hypercube_report.relative_link(args.figure, args.out)
    return hypercube_report.report_markdown(results, meta, link)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the grid and the spread (or the hypercube), and write its section.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit code.
    """
    args = _parser().parse_args(argv)
    if args.design == "lhs":
        _write(args.out, run_lhs(args), "lhs")
        return 0
    base = dict(RULES[args.rule])
    started = time.monotonic()
    common: dict[str, Any] = {
        "seed": args.seed,
        "workers": args.workers,
        "overrides": {k: v for k, v in base.items() if k not in (THRESHOLD, DEGREE)},
        "progress": True,
        "cache": args.cache,
    }
    finals = run_grid(
        args.scenario,
        thresholds=grid_values(THRESHOLD, args.thresholds),
        degrees=grid_values(DEGREE, args.degrees),
        replications=args.replications,
        **common,
    )
    own = load_scenario(args.scenario, base).params
    at_own = run_grid(
        args.scenario,
        thresholds=[getattr(own, THRESHOLD)],
        degrees=[getattr(own, DEGREE)],
        replications=args.spread_replications,
        **common,
    )
    meta = {
        "command": _command(args),
        "runs": len(finals) + len(at_own),
        "cached": finals.attrs["cached_runs"] + at_own.attrs["cached_runs"],
        "minutes": (time.monotonic() - started) / 60,
        "workers": args.workers,
        "scenario": args.scenario,
        "own_threshold": getattr(own, THRESHOLD),
        "own_degree": getattr(own, DEGREE),
        "replications": args.replications,
        "seed": args.seed,
        "rule": args.rule,
    }
    table = judge_grid(finals)
    spread = seed_spread(at_own["participation_poor"].to_numpy())
    _write(args.out, report_markdown(table, spread, meta), meta["rule"])
    return 0


def _write(out: Path, section: str, name: str) -> None:
    """Put a section into the document (keeping the rest) and print it."""
    old = out.read_text(encoding="utf-8") if out.is_file() else ""
    text = with_section(old, section, name)
    write_text(out, text)
    print(section)


if __name__ == "__main__":
    raise SystemExit(main())

"""The report and figure of the patterns over the plausible space (:mod:`.hypercube`).

:func:`report_markdown` writes the section ``python -m berdaya.experiments.robustness
--design lhs`` puts into ``docs/validation.md``; :func:`figure` draws its picture: the
share of each pattern with its 95% interval for every design, and P4's statistic against
the parameter that decides it most.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from berdaya.experiments.hypercube import (
    DECIDED,
    HEADLINE,
    PATTERN_KEYS,
    Result,
    by_bins,
    groups,
    pivotal,
    sides,
    significant,
)
from berdaya.experiments.plots import robustness_figure


def pct(share: float) -> str:
    """A share as a whole percentage."""
    return "-" if not np.isfinite(share) else f"{100 * share:.0f}%"


def share_cell(row: Mapping[str, Any]) -> str:
    """``62% [57, 67]; 64%``: share, its 95% interval, per-seed frequency."""
    return (
        f"{pct(row['share'])} [{100 * row['low']:.0f}, {100 * row['high']:.0f}]; "
        f"{pct(row['seeds'])}"
    )


def _criterion(key: str) -> str:
    side = sides()[key]
    return f"{side.op} {side.threshold:g}"


def shares_table(results: Mapping[str, Result]) -> list[str]:
    """The shares of every check and pattern, a column per design."""
    heads = [r.design.title for r in results.values()]
    lines = [
        "| check | statistic (seed mean) | criterion | " + " | ".join(heads) + " |",
        "|---|---|---|" + "---|" * len(heads),
    ]
    for key, side in sides().items():
        cells = [share_cell(r.shares.loc[key]) for r in results.values()]
        lines.append(
            f"| {key} | {side.statistic} | {_criterion(key)} | "
            + " | ".join(cells)
            + " |"
        )
    for name, keys in joined().items():
        cells = [share_cell(r.shares.loc[name]) for r in results.values()]
        what = "every check" if name == "all" else ", ".join(keys)
        lines.append(f"| **{name}** | all of {what} | | " + " | ".join(cells) + " |")
    return lines


def joined() -> dict[str, tuple[str, ...]]:
    """The groups of :func:`groups` that are more than one check (P4 is one)."""
    return {name: keys for name, keys in groups().items() if name not in sides()}


def _decider(row: Mapping[str, Any]) -> str:
    return (
        f"`{row['parameter']}` ({row['rho']:+.2f}; {pct(row['low_third'])} / "
        f"{pct(row['high_third'])})"
    )


def deciders_table(result: Result) -> list[str]:
    """The parameters that decide each check and pattern that neither always nor never holds."""
    tests = len(result.design.varied)
    lines = [
        "| check | holds at | deciding parameters: Spearman rho; holds in the lowest / "
        "highest third of the parameter's range |",
        "|---|---:|---|",
    ]
    for key in (*sides(), *joined()):
        share = float(result.shares.loc[key, "share"])
        if not DECIDED[0] <= share <= DECIDED[1]:
            continue
        top = significant(result.deciders(key), tests)
        text = "; ".join(_decider(r) for _, r in top.iterrows()) or "none clear"
        lines.append(f"| {key} | {pct(share)} | {text} |")
    return lines


def headline(results: Mapping[str, Result]) -> list[str]:
    """One line per design: the share of each pattern and of all four jointly."""
    lines = []
    for r in results.values():
        parts = [
            f"{name} {pct(r.shares.loc[name, 'share'])} "
            f"[{100 * r.shares.loc[name, 'low']:.0f}, "
            f"{100 * r.shares.loc[name, 'high']:.0f}]"
            for name in HEADLINE
        ]
        lines.append(f"- {r.design.title} ({len(r.table)} points): " + ", ".join(parts))
    return lines


def _design_lines(results: Mapping[str, Result], meta: Mapping[str, Any]) -> list[str]:
    """What each design is."""
    lines = []
    for r in results.values():
        d = r.design
        if d.label == "space":
            text = (
                f"a Latin hypercube (SciPy {meta['scipy']} `qmc.LatinHypercube`, seed "
                f"{meta['seed']}) of {len(d.points)} points over the plausible ranges of "
                f"all {len(d.varied)} uncertainties of the scenario schema "
                "(`berdaya.scenarios.salib_problem()`, integers rounded); levers and "
                "every other parameter at the scenario's values"
            )
        elif d.label.startswith("alt-"):
            fixed = ", ".join(f"`{k}` = {v}" for k, v in d.fixed.items())
            text = f"the same points with {fixed} (the named alternative of `berdaya validate`)"
        elif d.label == "calibrated-prior":
            text = (
                f"a Latin hypercube (seed {meta['seed']}) of {len(d.points)} points over the "
                f"plausible ranges of the {len(d.varied)} parameters the ensemble "
                "calibrates (the prior it was fitted from), the rest at the scenario's "
                "values"
            )
        else:
            text = (
                f"{len(d.points)} draws by weight from the shipped ensemble "
                f"`{meta['ensemble']}` (`draw_members`, seed {meta['seed']}), the rest at "
                "the scenario's values"
            )
        lines.append(f"- *{d.title}*: {text}")
    return lines


def _cost(meta: Mapping[str, Any]) -> str:
    """How many runs, their simulation time, and this invocation's wall time."""
    cached = (
        f", {meta['cached']:,} of them read from the cache" if meta["cached"] else ""
    )
    return (
        f"{meta['runs']:,} runs taking {meta['cpu_minutes']:.1f} CPU-minutes of "
        f"simulation; this invocation took {meta['minutes']:.1f} minutes on "
        f"{meta['workers']} workers{cached}"
    )


def report_markdown(
    results: Mapping[str, Result], meta: Mapping[str, Any], figure_link: str
) -> str:
    """The section ``--design lhs`` writes into the validation document.

    Args:
        results: Every design's :class:`~berdaya.experiments.hypercube.Result`, in
            report order (the plausible space first).
        meta: Command, date, runs, cached runs, CPU-minutes, minutes, workers,
            scenario, contrast, seeds, seed, ensemble, fitted checks, scipy's version.
        figure_link: The figure's path relative to the document.

    Returns:
        The Markdown section (without its marker lines).
    """
    space = next(iter(results.values()))
    seeds = ", ".join(str(s) for s in meta["seeds"])
    lines = [
        "## Robustness over the plausible space: a Latin hypercube",
        "",
        "Generated by `experiments/robustness.py --design lhs` "
        "(`experiments/hypercube.py`); do not edit by hand, rerun the command.",
        "",
        f"- Command: `{meta['command']}`",
        f"- Date: {meta['date']}; {_cost(meta)}",
        f"- Scenario `{meta['scenario']}`, and `{meta['contrast']}` for the contrasts "
        "(P2b, C1, C2), both with each point's values, as `berdaya validate --set` "
        f"applies them; every point runs both with the same {len(meta['seeds'])} "
        f"seeds `replication_seeds({meta['seed']}, {len(meta['seeds'])})` = {seeds}",
        *_design_lines(results, meta),
        "",
        "How to read. A check holds at a point when the mean of its seeds lies on its "
        "criterion's side of the threshold (the criteria of `berdaya validate`, "
        "without its 95% interval, which so few seeds cannot give); a pattern holds when "
        "all its checks hold. Each cell is the share of points where it holds, its "
        "Clopper-Pearson 95% interval in brackets (the Monte-Carlo error of the points, "
        "binomial; a Latin hypercube's is no larger), and after the semicolon the share "
        "of single runs on the criterion's side (the per-seed frequency). "
        f"The ensemble was fitted to {meta['fitted']} among its targets (on single "
        "runs), so the posterior's shares of these are partly its fitting, not "
        "independent evidence.",
        "",
        *headline(results),
        "",
        f"![Share of the plausible space where each pattern holds]({figure_link})",
        "",
        "### Shares",
        "",
        *shares_table(results),
        "",
        "### What decides them over the plausible space",
        "",
        "For every check and pattern that holds at between "
        f"{pct(DECIDED[0])} and {pct(DECIDED[1])} of the hypercube's points: the "
        "parameters whose Spearman correlation with the check's margin (the seed mean's "
        "distance from the threshold, positive on the criterion's side; for a pattern, "
        "whether it holds) is clear of chance over all "
        f"{len(space.design.varied)} parameters (Bonferroni, p < "
        f"{0.05 / len(space.design.varied):.1g}), strongest first (at most three), "
        "each with the share of points where the check holds in the lowest and the "
        "highest third of the parameter's range.",
        "",
        *deciders_table(space),
        "",
        *pivot_lines(space),
    ]
    return "\n".join(lines) + "\n"


def pivot_lines(result: Result) -> list[str]:
    """The patterns' shares along the parameter that decides them most, in words."""
    name = pivotal(result)
    if name is None:
        return []
    keys = (*PATTERN_KEYS, "P1-P4")
    table = by_bins(result, name, keys)
    parts = [f"{key} " + " / ".join(pct(v) for v in table[key]) for key in keys]
    points = " / ".join(str(n) for n in table["n"])
    return [
        f"The parameter that decides the four patterns most (the largest sum of "
        f"|rho| over P1-P4) is `{name}`. Share of points where each holds in the five "
        f"equal fifths of its range, low to high ({points} points): "
        + "; ".join(parts)
        + ".",
    ]


def figure(results: Mapping[str, Result], path: Path) -> Path:
    """Draw the section's figure (:func:`~berdaya.experiments.plots.robustness_figure`)."""
    return robustness_figure(results, path)


def relative_link(figure_path: Path, document: Path) -> str:
    """The figure's path as a link from the document's folder (forward slashes)."""
    rel = os.path.relpath(figure_path.resolve(), document.resolve().parent)
    return Path(rel).as_posix()


def fitted_checks(targets: Sequence[str]) -> str:
    """The checks among an ensemble's fitting targets, as words (``P1a, P4``)."""
    keys = [t for t in targets if t in sides()]
    return ", ".join(keys) if keys else "none of the checks"

"""Every picture of the experiments: one module, one way to draw a panel and a band.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot, whatever backend is
set) and written atomically; matplotlib is imported only by the functions that draw.

* :func:`comparison_envelopes`: ``berdaya compare --plot``, the monthly envelopes of both
  scenarios;
* :func:`sweep_envelopes`, :func:`sweep_effects`, :func:`sweep_sensitivity`: the PNGs
  ``berdaya report`` writes into a sweep's folder;
* :func:`robustness_figure`: the patterns over the plausible space
  (``python -m berdaya.experiments.robustness --design lhs``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from berdaya.experiments.compare import ARMS, OUTCOME_UNITS, _check_suffix
from berdaya.experiments.files import atomic_write
from berdaya.experiments.hypercube import (
    HEADLINE,
    PATTERN_KEYS,
    by_bins,
    pivotal,
    sides,
)
from berdaya.experiments.reporting import MAX_PANELS, _fmt

if TYPE_CHECKING:
    from collections.abc import Mapping

    from berdaya.experiments.compare import Comparison
    from berdaya.experiments.hypercube import Result
    from berdaya.experiments.reporting import SweepReport


def plot_formats() -> tuple[str, ...]:
    """File endings the plots can be written as (``.png``, ``.pdf``, ``.svg``...)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415

    return tuple(f".{k}" for k in FigureCanvasAgg.get_supported_filetypes())


def panels(
    n: int,
    *,
    ncols: int = 4,
    width: float = 3.4,
    height: float = 2.4,
    extra: float = 0.8,
    sharex: bool = False,
) -> tuple[Any, Any]:
    """A figure of ``n`` small panels in rows of ``ncols`` (the spare ones hidden)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(width * ncols, height * nrows + extra), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=sharex)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def band(
    ax: Any,
    by_month: Any,
    colour: str,
    *,
    low: float = 0.1,
    high: float = 0.9,
    alpha: float = 0.18,
    lw: float = 1.4,
    label: str | None = None,
) -> None:
    """The median month by month and the band between two quantiles, of grouped runs."""
    q = by_month.quantile([low, 0.5, high]).unstack()
    ax.fill_between(q.index, q[low], q[high], color=colour, alpha=alpha, lw=0)
    ax.plot(q.index, q[0.5], color=colour, lw=lw, label=label)


def _outcome_panel(ax: Any, name: str) -> None:
    """Title, unit and grid of an outcome's panel."""
    ax.set_title(name, fontsize=9)
    ax.set_ylabel(OUTCOME_UNITS.get(name, name), fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3, lw=0.5)


def save(fig: Any, path: Path, fmt: str = "png") -> Path:
    """Write the figure atomically."""
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=110))


def comparison_envelopes(
    comparison: Comparison,
    path: str | Path,
    outcomes: list[str] | tuple[str, ...] | None = None,
    *,
    low: float = 0.1,
    high: float = 0.9,
    ncols: int = 4,
) -> Path:
    """Draw the monthly envelopes of both scenarios, a small panel per outcome.

    Each panel shows, for A and B, the median across replications month by month and
    the band between the ``low`` and ``high`` quantiles (across seeds, and parameter
    sets when the comparison drew them from an ensemble, as the title says).

    Args:
        comparison: A finished :class:`~berdaya.experiments.compare.Comparison`.
        path: Image file to write (``.png`` and the other formats Agg writes).
        outcomes: Outcomes to draw (default: all compared outcomes).
        low: Lower quantile of the band.
        high: Upper quantile of the band.
        ncols: Panels per row.

    Returns:
        The path written.
    """
    from matplotlib.lines import Line2D  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415

    path = Path(path)
    suffix = _check_suffix(path, plot_formats(), "path")
    names = list(outcomes or comparison.outcomes)
    recs = comparison.records
    fig, axes = panels(len(names), ncols=ncols, width=3.2, extra=0.6, sharex=True)
    colours = {"A": "tab:blue", "B": "tab:orange"}
    ncols = axes.shape[1]
    for i, (ax, name) in enumerate(zip(axes.flat, names, strict=False)):
        for arm in ARMS:
            by_month = recs.loc[recs["arm"] == arm].groupby("month")[name]
            band(ax, by_month, colours[arm], low=low, high=high, alpha=0.25, lw=1.5)
        _outcome_panel(ax, name)
        if i + ncols >= len(names):
            # the lowest panel of its column carries the month axis
            ax.set_xlabel("month", fontsize=8)
            ax.xaxis.set_tick_params(labelbottom=True)
    span = f"{low:.0%}-{high:.0%}"
    handles, labels = [], []
    for arm, scen in zip(ARMS, (comparison.a, comparison.b), strict=True):
        handles += [
            Line2D([], [], color=colours[arm], lw=1.5),
            Patch(color=colours[arm], alpha=0.25),
        ]
        labels += [f"{arm}: {scen} (median)", f"{arm}: {scen} ({span} band)"]
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8)
    drawn = ""
    if comparison.ensemble is not None:  # the bands cover parameter uncertainty too
        drawn = (
            f"; parameters drawn from ensemble {comparison.ensemble['name']} "
            "(bands: seeds and parameter sets)"
        )
    fig.suptitle(
        f"{comparison.replications} paired replications, master seed "
        f"{comparison.master_seed}{drawn}",
        fontsize=10,
    )
    return save(fig, path, suffix.lstrip("."))


def _groups(rep: SweepReport) -> list[tuple[str, list[int]]]:
    """Curves of the envelope plot: points, or levels of the first factor."""
    points = rep.design["point"].tolist()
    if len(points) <= 8:
        return [(rep.label(p), [p]) for p in points]
    groups = [("base", [0])] if 0 in points and rep.meta.get("base", True) else []
    sampled = rep.design[rep.design["point"] != 0]
    first = rep.factors[0]
    values = sampled[first["name"]]
    if values.nunique() <= 6:
        for v in dict.fromkeys(values.tolist()):
            groups.append(
                (
                    f"{first['name']}={_fmt(v)}",
                    sampled.loc[values == v, "point"].tolist(),
                )
            )
    else:
        bins = pd.qcut(values.astype(float), 3, duplicates="drop")
        for interval in bins.cat.categories:
            pts = sampled.loc[bins == interval, "point"].tolist()
            groups.append((f"{first['name']} in {interval}", pts))
    return groups


def sweep_envelopes(rep: SweepReport, results: pd.DataFrame) -> Path | None:
    """Draw ``envelopes.png``: per outcome, median and 10-90% band month by month.

    Curves are the design points (up to 8), else the levels (or thirds) of the first
    factor, pooled over the other factors. Needs more than one month kept per run.
    """
    if results["month"].nunique() < 2 or not rep.outcomes:
        rep.notes.append(
            "no envelope plot: the sweep kept only the final month (set outcomes.every)"
        )
        return None
    names = list(rep.outcomes[:MAX_PANELS])
    fig, axes = panels(len(names))
    groups = _groups(rep)
    colours = [f"C{i % 10}" for i in range(len(groups))]
    for ax, name in zip(axes.flat, names, strict=False):
        for (label, pts), colour in zip(groups, colours, strict=True):
            by_month = results.loc[results["point"].isin(pts)].groupby("month")[name]
            band(ax, by_month, colour, label=label)
        _outcome_panel(ax, name)
        ax.set_xlabel("month", fontsize=8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=min(3, len(labels)),
        fontsize=7,
    )
    fig.suptitle(
        f"sweep {rep.meta['spec']}: median and 10-90% band over replications",
        fontsize=10,
    )
    return save(fig, rep.folder / "envelopes.png")


def sweep_effects(rep: SweepReport, results: pd.DataFrame) -> Path | None:
    """Draw ``effects.png``: per outcome, each point's effect against the base and CI.

    With more than 30 points, the main effects per factor level are drawn instead (grid
    designs); sampled designs that large get no effect plot (see the sensitivity plot).
    """
    if len(rep.effects) and rep.effects["point"].nunique() <= 30:
        table = rep.effects.copy()
        table["name"] = [" / ".join(rep.factor_cells(int(p))) for p in table["point"]]
        axis = " / ".join(f["name"] for f in rep.factors)
        title = "effect against the base (paired seeds)"
    elif len(rep.main_effects):
        table = rep.main_effects.copy()
        table["name"] = [
            f"{f}={_fmt(v)}"
            for f, v in zip(table["factor"], table["level"], strict=True)
        ]
        axis = "factor level"
        title = "main effects against the base (paired seeds)"
    else:
        return None
    names = [o for o in rep.outcomes[:MAX_PANELS] if o in set(table["outcome"])]
    if not names:
        return None
    rows = table["name"].nunique()
    fig, axes = panels(len(names), ncols=3, height=max(2.4, 0.22 * rows + 1.0))
    for ax, name in zip(axes.flat, names, strict=False):
        t = table[table["outcome"] == name].reset_index(drop=True)
        y = np.arange(len(t))[::-1]
        low = (t["diff"] - t["ci_low"]).fillna(0).clip(lower=0)
        high = (t["ci_high"] - t["diff"]).fillna(0).clip(lower=0)
        colours = [
            "tab:red" if c is True else "tab:gray" for c in t["clear"].astype(object)
        ]
        for yi, x, lo, hi, colour in zip(y, t["diff"], low, high, colours, strict=True):
            ax.errorbar(
                x,
                yi,
                xerr=[[lo], [hi]],
                fmt="none",
                ecolor=colour,
                elinewidth=1.2,
                capsize=2,
            )
        ax.scatter(t["diff"], y, c=colours, s=12, zorder=3)
        ax.axvline(0, color="black", lw=0.8)
        if ax.get_subplotspec().is_first_col():
            ax.set_yticks(y, t["name"], fontsize=7)
            ax.set_ylabel(axis, fontsize=8)
        else:
            ax.set_yticks(y, [""] * len(y))
        ax.set_title(name, fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(alpha=0.3, lw=0.5, axis="x")
    fig.suptitle(
        f"sweep {rep.meta['spec']}: {title}, {rep.level:.0%} CI (red: clear of 0)",
        fontsize=10,
    )
    return save(fig, rep.folder / "effects.png")


def sweep_sensitivity(rep: SweepReport, results: pd.DataFrame) -> Path | None:
    """Draw ``sensitivity.png``: Sobol S1/ST or Morris mu* per factor, with CIs."""
    s = rep.sensitivity
    if s is None or not len(s):
        return None
    names = [o for o in rep.outcomes[:MAX_PANELS] if o in set(s["outcome"])]
    factors = list(dict.fromkeys(s["factor"]))
    fig, axes = panels(len(names), ncols=3, height=max(2.4, 0.3 * len(factors) + 1.0))
    sobol = rep.meta["design"] == "sobol"
    for ax, name in zip(axes.flat, names, strict=False):
        t = s[s["outcome"] == name].set_index("factor").reindex(factors)
        y = np.arange(len(factors))[::-1]
        bars = (
            [("S1", "tab:blue", -0.18), ("ST", "tab:orange", 0.18)]
            if sobol
            else [("mu_star", "tab:blue", 0.0)]
        )
        for col, colour, shift in bars:
            err = [
                (t[col] - t[f"{col}_low"]).clip(lower=0),
                (t[f"{col}_high"] - t[col]).clip(lower=0),
            ]
            ax.barh(
                y + shift,
                t[col],
                height=0.34 if sobol else 0.6,
                color=colour,
                xerr=err,
                error_kw={"elinewidth": 0.8, "capsize": 2},
                label=col.replace("_star", "*"),
            )
        ax.set_yticks(y, factors, fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(alpha=0.3, lw=0.5, axis="x")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8)
    kind = "Sobol indices" if sobol else "Morris mu*"
    fig.suptitle(
        f"sweep {rep.meta['spec']}: {kind} with {rep.level:.0%} bootstrap CI",
        fontsize=10,
    )
    return save(fig, rep.folder / "sensitivity.png")


def _bars(ax: Any, results: Mapping[str, Result]) -> None:
    """Grouped bars: the share of each headline pattern per design, with its interval."""
    x = np.arange(len(HEADLINE))
    width = 0.8 / max(1, len(results))
    for i, r in enumerate(results.values()):
        s = r.shares.loc[list(HEADLINE)]
        share = s["share"].to_numpy(dtype=float)
        err = np.vstack([share - s["low"].to_numpy(), s["high"].to_numpy() - share])
        ax.bar(
            x + (i - (len(results) - 1) / 2) * width,
            100 * share,
            width,
            yerr=100 * err,
            capsize=2,
            color=f"C{i}",
            label=f"{r.design.title} ({len(r.table)})",
        )
    ax.set_xticks(x, HEADLINE, fontsize=8)
    ax.set_ylabel("points where it holds (%)", fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_title(
        "share of the points where each pattern holds, 95% interval", fontsize=9
    )
    ax.grid(alpha=0.3, lw=0.5, axis="y")


def _focus(ax: Any, result: Result, key: str = "P4") -> None:
    """A check's seed mean at every point against the parameter that decides it most."""
    side = sides()[key]
    top = result.deciders(key)
    if top.empty:
        ax.set_visible(False)
        return
    name = str(top.iloc[0]["parameter"])
    x = result.design.points[name].to_numpy(dtype=float)
    y = result.table[f"mean.{key}"].to_numpy(dtype=float)
    holds = result.table[f"holds.{key}"].to_numpy(dtype=bool)
    ax.scatter(x[holds], y[holds], s=9, color="C2", label=f"{key} holds")
    ax.scatter(x[~holds], y[~holds], s=9, color="C3", label=f"{key} fails")
    ax.axhline(side.threshold, color="0.3", lw=1, ls="--")
    ax.set_xlabel(f"{name} (rho {top.iloc[0]['rho']:+.2f})", fontsize=8)
    ax.set_ylabel(f"{side.statistic}\n(seed mean)", fontsize=8)
    ax.set_title(f"{key} over the {result.design.title}", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, lw=0.5)


def _pivot(ax: Any, result: Result) -> None:
    """Each pattern's share, and all four's, along the parameter that decides most."""
    name = pivotal(result)
    if name is None:
        ax.set_visible(False)
        return
    keys = (*PATTERN_KEYS, "P1-P4")
    table = by_bins(result, name, keys)
    for i, key in enumerate(keys):
        style = {"color": "k", "lw": 2} if key == "P1-P4" else {"color": f"C{i + 5}"}
        ax.plot(table["centre"], 100 * table[key], marker="o", ms=3, label=key, **style)
    ax.set_xlabel(f"{name} (fifths of its plausible range)", fontsize=8)
    ax.set_ylabel("points where it holds (%)", fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_title(f"the patterns along {name}", fontsize=9)
    ax.legend(fontsize=7, ncols=3)
    ax.grid(alpha=0.3, lw=0.5)


def robustness_figure(results: Mapping[str, Result], path: Path) -> Path:
    """Draw the figure of the patterns over the plausible space (``--design lhs``).

    Three panels: the share of each pattern with its 95% interval for every design;
    P4's seed mean at every point of the hypercube against the parameter that decides
    it most; each pattern's share along the parameter that decides them most.

    Args:
        results: Each design's result, by label, the plausible space first
            (:func:`berdaya.experiments.hypercube.analyse`).
        path: The PNG to write.

    Returns:
        The path written.
    """
    fig, axes = panels(3, ncols=3, width=4.8, height=3.8, extra=0.6)
    space = next(iter(results.values()))
    _bars(axes.flat[0], results)
    _focus(axes.flat[1], space)
    _pivot(axes.flat[2], space)
    for ax in axes.flat:
        ax.tick_params(labelsize=7)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=7)
    return save(fig, path, "png")

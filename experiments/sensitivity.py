"""The one way berdaya draws sensitivity designs and computes their indices (SALib).

The Latin hypercube is SciPy's (``scipy.stats.qmc``); the robustness of the patterns
over the plausible space (:mod:`berdaya.experiments.hypercube`) draws its points here.

A sweep's ``sobol`` and ``morris`` designs (:func:`berdaya.experiments.spec.build_design`),
their indices in a report (:mod:`berdaya.experiments.reporting`) and the Morris screen of
the validation patterns (:mod:`berdaya.experiments.screen`) all call these, so a Morris
design and its analysis are made one way with the same settings wherever they run.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def problem(
    names: list[str], bounds: list[list[float]] | None = None
) -> dict[str, Any]:
    """SALib's problem: the factors by name, on ``bounds`` (default: the unit cube)."""
    return {
        "num_vars": len(names),
        "names": list(names),
        "bounds": bounds if bounds is not None else [[0.0, 1.0]] * len(names),
    }


def latin_hypercube(d: int, points: int, *, seed: int) -> np.ndarray:
    """A Latin hypercube on the unit cube (``scipy.stats.qmc``), ``points`` x ``d``."""
    from scipy.stats import qmc  # noqa: PLC0415

    return qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed)).random(points)


def morris_design(
    spec: dict[str, Any], trajectories: int, *, levels: int, seed: int
) -> np.ndarray:
    """Morris trajectories: ``trajectories * (D + 1)`` points on a ``levels`` grid."""
    from SALib.sample import morris  # noqa: PLC0415

    return morris.sample(spec, trajectories, num_levels=levels, seed=seed)


def morris_indices(
    spec: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    *,
    levels: int,
    seed: int,
    resamples: int,
    level: float = 0.95,
) -> dict[str, Any]:
    """Morris mu*, its bootstrap half-width (``mu_star_conf``), mu and sigma."""
    from SALib.analyze import morris  # noqa: PLC0415

    return morris.analyze(
        spec,
        x,
        y,
        num_resamples=resamples,
        conf_level=level,
        num_levels=levels,
        seed=seed,
    )


def sobol_design(
    spec: dict[str, Any], samples: int, *, second_order: bool, seed: int
) -> np.ndarray:
    """Saltelli's scheme: ``N (D + 2)`` points, ``N (2D + 2)`` with second order."""
    from SALib.sample import sobol  # noqa: PLC0415

    return sobol.sample(spec, samples, calc_second_order=second_order, seed=seed)


def sobol_indices(
    spec: dict[str, Any],
    y: np.ndarray,
    *,
    second_order: bool,
    seed: int,
    resamples: int,
    level: float = 0.95,
) -> dict[str, Any]:
    """Sobol first-order (S1) and total (ST) indices with their bootstrap half-widths."""
    from SALib.analyze import sobol  # noqa: PLC0415

    return sobol.analyze(
        spec,
        y,
        calc_second_order=second_order,
        num_resamples=resamples,
        conf_level=level,
        seed=seed,
    )

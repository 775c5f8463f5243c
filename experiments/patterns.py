"""The thesis' patterns as testable criteria: what ``berdaya validate`` judges.

Each pattern of the observed case (MODEL.md section 8, docs/ODD.md 11.2) is a statistic
computed per run (final month) and judged over many seeds with a 95% confidence interval:
it passes only when the whole interval lies on the criterion's side. The contrasts compare
the observed case with the P2KP design on paired seeds, so that the patterns are not built
in. This module holds the science (criteria, intervals, judgements); running the seeds is
the experiment layer's business (:mod:`berdaya.experiments.validate`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from berdaya.experiments.compare import Comparison

OBSERVED = "kedungkandang-2008"
DESIGN = "p2kp-design"


@dataclass(frozen=True)
class Criterion:
    """One testable claim: a per-run statistic and the side of a threshold it must lie on.

    Attributes:
        key: Short label (P1a, ...).
        pattern: The pattern it belongs to, in words.
        statistic: What is measured, in words.
        measure: Function of a table of final-month records (a row per run) giving the
            per-run values.
        op: ">=" or "<=": the side the whole 95% interval must be on.
        threshold: The threshold.
        proportion: Whether the per-run values are 0/1 (a Wilson interval is used).
    """

    key: str
    pattern: str
    statistic: str
    measure: Callable[[pd.DataFrame], np.ndarray]
    op: str
    threshold: float
    proportion: bool = False


def _col(name: str) -> Callable[[pd.DataFrame], np.ndarray]:
    return lambda df: df[name].to_numpy(dtype=float)


PATTERNS: tuple[Criterion, ...] = (
    Criterion(
        "P1a",
        "P1 primary tendency",
        "poor households taking part at the end",
        _col("participation_poor"),
        ">=",
        0.25,
    ),
    Criterion(
        "P1b",
        "P1 primary tendency",
        "poor households in a KSM at the end",
        _col("ksm_poor_joined"),
        ">=",
        0.05,
    ),
    Criterion(
        "P1c",
        "P1 primary tendency",
        "primary share of programme effort",
        _col("tendency_cumulative"),
        ">=",
        0.5,
    ),
    Criterion(
        "P2a",
        "P2 incomplete transformation",
        "poor households out of powerless",
        lambda df: 1.0 - df["powerless_poor"].to_numpy(dtype=float),
        ">=",
        0.5,
    ),
    Criterion(
        "P2b",
        "P2 incomplete transformation",
        "poor households in genuine (unforced) pendayaan",
        _col("pendayaan_genuine_poor"),
        "<=",
        0.5,
    ),
    Criterion(
        "P2c",
        "P2 incomplete transformation",
        "phase gates ending unmet (forced)",
        _col("phases_forced"),
        ">=",
        2.0,
    ),
    Criterion(
        "P3a",
        "P3 emancipatory without government",
        "runs ending with the BKM emansipatoris",
        lambda df: (df["bkm_stage"].to_numpy() == 2).astype(float),
        ">=",
        0.8,
        proportion=True,
    ),
    Criterion(
        "P3b",
        "P3 emancipatory without government",
        "government support at the end",
        _col("gov_support"),
        "<=",
        0.05,
    ),
    Criterion(
        "P4",
        "P4 forced pendayaan",
        "share of pendayaan households that were forced",
        _col("forced_share_of_pendayaan"),
        ">=",
        0.3,
    ),
)

OUTCOMES = (
    "participation_poor",
    "ksm_poor_joined",
    "tendency_cumulative",
    "powerless_poor",
    "pendayaan_genuine_poor",
    "phases_forced",
    "bkm_stage",
    "gov_support",
    "forced_share_of_pendayaan",
    "forced_share_all",
)


def interval(
    values: np.ndarray, proportion: bool = False
) -> tuple[float, float, float]:
    """Mean and 95% confidence interval (Student t, or Wilson for 0/1 values).

    Args:
        values: Per-run values.
        proportion: Whether the values are 0/1.

    Returns:
        (mean, low, high).
    """
    from scipy import stats  # noqa: PLC0415 - only validation needs scipy.stats

    n = values.size
    mean = float(values.mean()) if n else float("nan")
    if n < 2:
        return mean, float("nan"), float("nan")
    if proportion:
        z = 1.959963984540054
        centre = (mean + z * z / (2 * n)) / (1 + z * z / n)
        half = (
            z * math.sqrt(mean * (1 - mean) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        )
        return mean, centre - half, centre + half
    half = float(stats.t.ppf(0.975, n - 1)) * float(values.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


@dataclass
class Check:
    """The outcome of one criterion or contrast."""

    key: str
    pattern: str
    statistic: str
    mean: float
    low: float
    high: float
    criterion: str
    passed: bool


def judge(c: Criterion, finals: pd.DataFrame) -> Check:
    """Judge one criterion on a table of final-month records (a row per run)."""
    mean, low, high = interval(c.measure(finals), c.proportion)
    passed = low >= c.threshold if c.op == ">=" else high <= c.threshold
    return Check(
        c.key,
        c.pattern,
        c.statistic,
        mean,
        low,
        high,
        f"95% CI {c.op} {c.threshold:g}",
        bool(passed),
    )


def contrast_checks(comp: Comparison) -> list[Check]:
    """The design must differ where the patterns say the observed case is special.

    Forced pendayaan: the paired difference (design - observed) of the share of all
    households in forced pendayaan, with its whole 95% interval below -0.0025 (2.5 in
    1,000 households); government support under the design: interval above 0.2. (The
    forced share *of pendayaan* is no good here: under the design few households reach
    pendayaan at all, mostly board members, so that ratio jumps from run to run.)
    """
    finals = comp.finals
    a = finals[finals["arm"] == "A"].sort_values("replication")
    b = finals[finals["arm"] == "B"].sort_values("replication")
    diff = b["forced_share_all"].to_numpy(dtype=float) - a["forced_share_all"].to_numpy(
        dtype=float
    )
    mean, low, high = interval(diff)
    out = [
        Check(
            "C1",
            "contrast: not built in",
            f"households in forced pendayaan, {comp.b} - {comp.a}",
            mean,
            low,
            high,
            "95% CI <= -0.0025",
            bool(high <= -0.0025),
        ),
    ]
    mean, low, high = interval(b["gov_support"].to_numpy(dtype=float))
    out.append(
        Check(
            "C2",
            "contrast: not built in",
            f"government support under {comp.b}",
            mean,
            low,
            high,
            "95% CI >= 0.2",
            bool(low >= 0.2),
        )
    )
    return out

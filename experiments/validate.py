"""Pattern-oriented validation against the thesis (MODEL.md section 8, docs/ODD.md).

Each pattern of the observed case is a statistic computed per run (final month) and tested
over many seeds with a 95% confidence interval: a pattern passes only when the whole
interval lies on the criterion's side. The contrast runs the observed case and the P2KP
design with paired seeds and checks that the patterns are not built in: under the design,
forced pendayaan is clearly lower and government support is not near zero. Seeds are fresh
(``numpy.random.SeedSequence()`` entropy, printed so a run can be repeated).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from berdaya.experiments.compare import Comparison, compare

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


def _judge(c: Criterion, finals: pd.DataFrame) -> Check:
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


@dataclass
class Validation:
    """Everything ``berdaya validate`` measured."""

    entropy: int
    replications: int
    observed: str
    design: str
    checks: list[Check]
    side_by_side: pd.DataFrame
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether every pattern and contrast passed."""
        return all(c.passed for c in self.checks)

    def _sets(self) -> str:
        """The ``--set`` options that repeat this validation's overrides."""
        return "".join(f" --set {k}={v}" for k, v in self.overrides.items())

    def table(self) -> str:
        """The printed report."""
        lines = [
            f"berdaya validate: {self.observed} against the thesis' patterns, "
            f"{self.replications} seeds from SeedSequence(entropy={self.entropy})",
            f"(repeat with --entropy {self.entropy}{self._sets()}); "
            f"contrast: {self.design}, same seeds",
            *(
                [
                    "overrides in both: "
                    + ", ".join(f"{k}={v}" for k, v in self.overrides.items())
                ]
                if self.overrides
                else []
            ),
            "",
            f"{'':<4} {'statistic':<52} {'mean':>7} {'95% CI':>17}  {'criterion':<17} result",
        ]
        for c in self.checks:
            ci = f"[{c.low:6.3f}, {c.high:6.3f}]"
            lines.append(
                f"{c.key:<4} {c.statistic[:52]:<52} {c.mean:7.3f} {ci:>17}  "
                f"{c.criterion:<17} {'pass' if c.passed else 'FAIL'}"
            )
        lines += ["", "Side by side (means over the same seeds)", ""]
        lines.append(self.side_by_side.to_string(float_format=lambda x: f"{x:.3f}"))
        lines += [
            "",
            "all patterns and contrasts pass" if self.passed else "SOME CHECKS FAIL",
        ]
        return "\n".join(lines)


def validate(
    observed: str | Path = OBSERVED,
    design: str | Path = DESIGN,
    replications: int = 30,
    entropy: int | None = None,
    workers: int = 1,
    *,
    overrides: dict[str, Any] | None = None,
    progress: bool = False,
) -> Validation:
    """Run the observed case and the design over fresh paired seeds and judge the patterns.

    Args:
        observed: The scenario that must show the patterns.
        design: The contrast scenario.
        replications: Seeds (at least 2; 30 or more for the real test).
        entropy: Entropy of the ``SeedSequence``; fresh from the OS when None.
        workers: Local processes.
        overrides: Parameter values applied to both scenarios.
        progress: Show a progress bar.

    Returns:
        The :class:`Validation`.
    """
    if replications < 2:
        raise ValueError(f"--replications must be at least 2 (got {replications})")
    if entropy is None:
        entropy = int(np.random.SeedSequence().entropy)
    comp = compare(
        observed,
        design,
        replications=replications,
        seed=entropy,
        workers=workers,
        overrides=overrides,
        outcomes=OUTCOMES,
        progress=progress,
    )
    finals_a = comp.finals[comp.finals["arm"] == "A"]
    finals_b = comp.finals[comp.finals["arm"] == "B"]
    checks = [_judge(c, finals_a) for c in PATTERNS]
    checks += contrast_checks(comp)
    side = pd.DataFrame(
        {
            comp.a: finals_a[list(OUTCOMES)].mean(),
            comp.b: finals_b[list(OUTCOMES)].mean(),
        }
    )
    return Validation(
        entropy, replications, comp.a, comp.b, checks, side, dict(comp.overrides)
    )

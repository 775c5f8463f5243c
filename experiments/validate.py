"""Pattern-oriented validation against the thesis (MODEL.md section 8, docs/ODD.md).

Each pattern of the observed case is a statistic computed per run (final month) and tested
over many seeds with a 95% confidence interval: a pattern passes only when the whole
interval lies on the criterion's side. The contrast runs the observed case and the P2KP
design with paired seeds and checks that the patterns are not built in: under the design,
forced pendayaan is clearly lower and government support is not near zero. Seeds are fresh
(``numpy.random.SeedSequence()`` entropy, printed so a run can be repeated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from berdaya.experiments.compare import compare
from berdaya.experiments.defaults import DEFAULT_PAIRED_REPLICATIONS
from berdaya.experiments.patterns import (
    ALTERNATIVES,
    DESIGN,
    OBSERVED,
    OUTCOMES,
    PATTERNS,
    Check,
    contrast_checks,
    judge,
)


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
            f"{'':<4} {'statistic':<52} {'mean':>7} {'95% CI':>17}  "
            f"{'criterion':<17} {'seeds':>5}  {'fails under':<34} result",
        ]
        for c in self.checks:
            ci = f"[{c.low:6.3f}, {c.high:6.3f}]"
            lines.append(
                f"{c.key:<4} {c.statistic[:52]:<52} {c.mean:7.3f} {ci:>17}  "
                f"{c.criterion:<17} {c.frequency:5.0%}  {c.alternative[:34]:<34} "
                f"{'pass' if c.passed else 'FAIL'}"
            )
        lines += [
            "",
            "seeds: share of seeds on the criterion's side; fails under: the named "
            "alternative model under which the check fails (berdaya validate --set ...)",
        ]
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
    replications: int = DEFAULT_PAIRED_REPLICATIONS,
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
    checks = [judge(c, finals_a) for c in PATTERNS]
    checks += contrast_checks(comp)
    order = list(ALTERNATIVES)
    checks.sort(key=lambda c: order.index(c.key))
    side = pd.DataFrame(
        {
            comp.a: finals_a[list(OUTCOMES)].mean(),
            comp.b: finals_b[list(OUTCOMES)].mean(),
        }
    )
    return Validation(
        entropy, replications, comp.a, comp.b, checks, side, dict(comp.overrides)
    )

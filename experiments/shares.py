"""Which share of the spread of B - A comes from parameter uncertainty, which from seeds.

A comparison that draws each replication's calibrated parameters from an ensemble
(:mod:`berdaya.experiments.ensemble`) has paired differences ``B_i - A_i`` that vary for
two reasons: the seed (the kelurahan's random population, network and shocks) and the
member (the parameter set). To tell the two apart, the same pairs are also run on the
same seeds without the members (the scenarios' own values: seed noise alone), and for
each outcome and moment

* ``var_seed`` is the sample variance of the seed-only differences,
* ``var_ensemble`` that of the differences with the members drawn, and
* ``parameter_share = 1 - var_seed / var_ensemble``, clipped to ``[0, 1]``: the share of
  the spread that seed noise does not explain. It reads "how much wider parameter
  uncertainty makes the answer"; it assumes the seed noise at the drawn parameter sets is
  about what it is at the scenarios' own values (a member that makes an outcome noisier
  counts as parameter uncertainty).

Its interval is a percentile bootstrap over the replications, resampling a replication's
two differences together (they share a seed, so they are not independent), from a
generator seeded by the master seed alone (:data:`SHARE_CHILD`). The share is undefined
(NaN, "n/a") with fewer than two replications, or when the differences with the
ensemble do not vary beyond floating-point rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Spawn key of the bootstrap of the shares: child ``(SHARE_CHILD,)`` of the master
#: SeedSequence. No seed or draw uses it (replication ``i``: ``(i,)``; ensemble members:
#: ``(2**32 - 2, r)``; a sweep's sampler: ``(2**32 - 1,)``).
SHARE_CHILD = 2**32 - 3
#: Bootstrap resamples of the replications behind each share's interval.
SHARE_RESAMPLES = 2000
#: Relative size of floating-point rounding (as :data:`~berdaya.experiments.compare.ROUNDING`).
ROUNDING = 1e-9
SHARE_COLUMNS = (
    "moment",
    "outcome",
    "var_seed",
    "var_ensemble",
    "parameter_share",
    "share_low",
    "share_high",
    "n",
)


def _diffs(moments: pd.DataFrame, moment: str, outcome: str) -> pd.Series:
    """``B - A`` of one outcome at one moment, by replication."""
    at = moments[moments["moment"] == moment]
    wide = at.pivot(index="replication", columns="arm", values=outcome)
    return wide["B"].astype(float) - wide["A"].astype(float)


def _scale(moments: pd.DataFrame, outcome: str) -> float:
    """The size of an outcome's values (what floating-point rounding is relative to)."""
    values = moments[outcome].to_numpy(dtype=float)
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size else 0.0


def share_of(var_seed: float, var_ensemble: float) -> float:
    """``1 - var_seed / var_ensemble`` clipped to ``[0, 1]`` (NaN without a spread)."""
    if not var_ensemble > 0:
        return math.nan
    return float(min(1.0, max(0.0, 1.0 - var_seed / var_ensemble)))


def _bootstrap(
    seed_diffs: np.ndarray,
    ens_diffs: np.ndarray,
    rows: np.ndarray,
    tol: float,
    level: float,
) -> tuple[float, float]:
    """The percentile interval of the share over resampled replications."""
    vs = seed_diffs[rows].var(axis=1, ddof=1)
    ve = ens_diffs[rows].var(axis=1, ddof=1)
    ok = np.sqrt(ve) > tol
    shares = np.clip(1.0 - vs[ok] / ve[ok], 0.0, 1.0)
    if shares.size == 0:
        return math.nan, math.nan
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(shares, [tail, 100 - tail])
    return float(low), float(high)


def _share_row(
    both: np.ndarray, picks: np.ndarray | None, tol: float, level: float
) -> dict[str, float]:
    """One outcome's variances, share and interval from its paired differences.

    Args:
        both: A row per replication: the seed-only difference, the one with a member.
        picks: The bootstrap's resampled rows (``None``: fewer than two replications).
        tol: A standard deviation this small is floating-point rounding.
        level: Confidence level.

    Returns:
        The values of :data:`SHARE_COLUMNS` but moment, outcome and n.
    """
    if picks is None:
        return dict.fromkeys(SHARE_COLUMNS[2:-1], math.nan)
    # column by column, contiguous: the very numbers np.var gives each difference
    vs, ve = (float(np.ascontiguousarray(c).var(ddof=1)) for c in both.T)
    low, high, share = math.nan, math.nan, math.nan
    if math.sqrt(ve) > tol:
        share = share_of(vs, ve)
        low, high = _bootstrap(both[:, 0], both[:, 1], picks, tol, level)
    return {
        "var_seed": vs,
        "var_ensemble": ve,
        "parameter_share": share,
        "share_low": low,
        "share_high": high,
    }


def parameter_shares(
    seed_only: pd.DataFrame,
    drawn: pd.DataFrame,
    outcomes: Sequence[str],
    moments: Sequence[str],
    *,
    seed: int,
    level: float = 0.95,
) -> pd.DataFrame:
    """Split the spread of ``B - A`` into parameter and seed shares (see the module doc).

    Args:
        seed_only: A row per run and moment of the seed-only pairs (``arm`` A/B,
            ``replication``, ``moment`` and the outcomes).
        drawn: The same for the pairs with the ensemble's members, on the same seeds.
        outcomes: Outcomes to split.
        moments: Moments to split them at.
        seed: The master seed (the bootstrap's generator is seeded by it).
        level: Confidence level of the bootstrap interval.

    Returns:
        A row per (moment, outcome) with :data:`SHARE_COLUMNS`; ``n`` is the number of
        replications where both differences exist.
    """
    rng_seq = np.random.SeedSequence(seed, spawn_key=(SHARE_CHILD,))
    picks: dict[int, np.ndarray] = {}
    rows = []
    for moment in moments:
        for outcome in outcomes:
            both = pd.concat(
                [_diffs(seed_only, moment, outcome), _diffs(drawn, moment, outcome)],
                axis=1,
            ).to_numpy(dtype=float)
            both = both[np.isfinite(both).all(axis=1)]
            n = len(both)
            if n >= 2 and n not in picks:  # the same resamples for every outcome
                rng = np.random.default_rng(rng_seq)
                picks[n] = rng.integers(0, n, size=(SHARE_RESAMPLES, n))
            tol = ROUNDING * (1.0 + _scale(drawn, outcome))
            row = _share_row(both, picks.get(n), tol, level)
            rows.append({"moment": moment, "outcome": outcome, **row, "n": n})
    return pd.DataFrame(rows, columns=list(SHARE_COLUMNS))


def share_cell(r: object) -> str:
    """A share with its interval as one table cell: ``0.93 [0.85, 0.97]`` or ``n/a``."""
    share = float(r.parameter_share)  # type: ignore[attr-defined]
    if math.isnan(share):
        return "n/a"
    low, high = float(r.share_low), float(r.share_high)  # type: ignore[attr-defined]
    if math.isnan(low):
        return f"{share:.2f}"
    return f"{share:.2f} [{low:.2f}, {high:.2f}]"


def variance_cell(value: float) -> str:
    """A variance as a table cell, three significant figures (``n/a`` when undefined)."""
    return "n/a" if math.isnan(value) else f"{value:.3g}"


def share_lines(shares: pd.DataFrame, titles: dict[str, str]) -> list[str]:
    """The blocks of the comparison's table that split the spread, a block a moment.

    Args:
        shares: From :func:`parameter_shares`.
        titles: Each moment's words (``at follow-up``).

    Returns:
        The lines, each block after an empty line.
    """
    head = (
        f"{'outcome':<26} {'var seed only':>14} {'var with ensemble':>18}  "
        "parameter share [95% CI]"
    )
    lines = []
    for moment, block in shares.groupby("moment", sort=False):
        title = f"Where the spread of B - A comes from, {titles[str(moment)]}"
        if (block["n"] < 2).all():
            lines += ["", f"{title}: fewer than two replications have a value"]
            continue
        lines += ["", title, head, "-" * len(head)]
        lines += [
            f"{r.outcome:<26} {variance_cell(r.var_seed):>14} "
            f"{variance_cell(r.var_ensemble):>18}  {share_cell(r)}"
            for r in block.itertuples(index=False)
        ]
    return lines


def shares_meta(shares: pd.DataFrame) -> list[dict[str, object]]:
    """The shares as JSON-safe records (NaN as ``None``), for a file's metadata."""
    out = []
    for rec in shares.to_dict(orient="records"):
        out.append(
            {
                k: None if isinstance(v, float) and math.isnan(v) else v
                for k, v in rec.items()
            }
        )
    return out

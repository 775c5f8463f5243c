"""Social aid whose reach follows the social budget: an amount a month, for months.

After each tranche the UPS commits its social budget over the following months: each month
``ups_monthly`` of it buys aid for as many households as it covers, each receiving
``aid_monthly_rp`` a month for ``aid_months`` months (the household pass pays it out; the
BLT transfers of 2005-2008 paid Rp 100,000 a month). Recipients are drawn from the PS-2
list; elite households, listed or not, are drawn in as far as the board captures (see
:mod:`.capture`); what leaks never reaches them. A social KSM of the recipients' RW
delivers the aid and takes its roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from berdaya.agents import formation
from berdaya.agents.upk import capture

if TYPE_CHECKING:
    from berdaya.agents.upk.accounts import UPK
    from berdaya.model.site import Site


@dataclass(frozen=True)
class AidRules:
    """Constants of social aid (not scenario parameters; ODD section 8).

    Attributes:
        effort: Primary effort booked per month in which aid is given (assumption).
    """

    effort: float = 0.5


AID = AidRules()


def give(site: Site, upk: UPK) -> int:
    """Commit this month's aid to new recipients.

    Returns:
        1 if aid was given (an initiative of the board), else 0.
    """
    p = site.p
    h = site.households
    monthly = p.aid_monthly_rp
    budget = min(upk.ups_cash, upk.ups_monthly)
    if monthly <= 0 or budget < monthly:
        return 0
    months = min(p.aid_months, budget // monthly)
    per = monthly * months
    listed = h.on_ps2 if site.cycle.ps2_done else h.poor
    # the table's kernels: dispatched once a run (the columns' and floats' types)
    pool, weight = h.kernel(_weights).call(h.aid_left, listed, h.elite, _steering(site))
    if pool.size == 0:
        return 0
    total = weight.sum()  # numpy's pairwise sum
    if total > 0:  # tiny weights can underflow
        pool, chance = h.kernel(_positive).call(pool, weight, total)
    else:
        pool, chance = pool[:0], weight[:0]
    n = min(int(budget // per), pool.size)
    if n <= 0:
        return 0
    chosen = choose(site.rng, pool, n, chance / chance.sum())
    cost = n * per
    reaches, lost = capture.split_leak(site, cost)
    upk.ups_cash -= cost
    upk.spent_social += reaches
    upk.leaked += lost
    h.aid_amount[chosen] = np.float32(reaches / (n * months) / p.poverty_line_rp)
    h.aid_left[chosen] = months
    h.got_aid[chosen] = True
    formation.aid_group(site, chosen)
    site.effort.add(primary=AID.effort)
    return 1


def _steering(site: Site) -> tuple[float, float, float, bool]:
    """Capture's strength, its informal and formal tilts, and whether it steers at all."""
    c = capture.strength(site)
    informal, formal = capture.tilts(c)
    return c, informal, formal, c > 0.0


@njit(cache=True)
def _weights(
    aid_left: np.ndarray,
    listed: np.ndarray,
    elite: np.ndarray,
    steering: tuple[float, float, float, bool],
) -> tuple[np.ndarray, np.ndarray]:
    """The households aid may reach, in row order, and their weights, in one pass.

    Those without aid running, listed or elite; a listed one weighs 1, an elite adds the
    capture strength, and a captured board tilts an elite's weight
    (:func:`~berdaya.agents.upk.capture.steer`): the float64 sums and products numpy's
    masks over the table made, element by element.
    """
    c, informal, formal, steers = steering
    pool = np.empty(aid_left.size, np.int64)
    weight = np.empty(aid_left.size)
    m = 0
    for r in range(aid_left.size):
        e = elite[r]
        if aid_left[r] != 0 or not (listed[r] or e > 0):
            continue
        w = (1.0 if listed[r] else 0.0) + c * (1.0 if e > 0 else 0.0)
        if steers:
            w *= formal if e == 2 else (informal if e > 0 else 1.0)
        pool[m] = r
        weight[m] = w
        m += 1
    return pool[:m], weight[:m]


@njit(cache=True)
def _positive(
    pool: np.ndarray, weight: np.ndarray, total: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's chance (its weight over ``total``), the rows of positive chance only."""
    rows = np.empty(pool.size, np.int64)
    chance = np.empty(pool.size)
    m = 0
    for j in range(pool.size):
        x = weight[j] / total
        if x > 0:
            rows[m] = pool[j]
            chance[m] = x
            m += 1
    return rows[:m], chance[:m]


def choose(
    rng: np.random.Generator, pool: np.ndarray, size: int, p: np.ndarray
) -> np.ndarray:
    """``rng.choice(pool, size=size, replace=False, p=p)``: the same rows, the same draws.

    Numpy's own algorithm (``Generator.choice`` without replacement, with ``p``): draw
    as many uniforms as rows are missing, zero the chances of the rows already drawn,
    find each draw in the normalised cumulative chances, keep the rows new in this
    round in order of first appearance; repeat until ``size`` rows are drawn. The
    uniforms come from ``rng`` as numpy draws them; the rest is one compiled pass a
    round (:func:`_draw_new`) instead of numpy's checks of ``p`` and its hashing
    ``unique``: 8-28 us against 36-69 us for 20-150 of 1,500 rows.
    ``tests/test_fast_paths.py`` compares rows and the generator's state with numpy's.

    Args:
        rng: The model's generator.
        pool: The rows to draw from.
        size: Rows wanted (at most the rows of positive chance).
        p: Chance of each row, non-negative, adding up to 1 (numpy's checks are not
            made again: the caller's ``p`` is one numpy accepts).

    Returns:
        ``size`` distinct rows of ``pool``, in the order drawn.
    """
    weight = p.astype(np.float64)  # a copy, as numpy's
    found = np.zeros(size, np.int64)
    n = 0
    while n < size:
        n = _draw_new(weight, found, n, rng.random(size - n))
    return pool[found]


@njit(cache=True)
def _draw_new(weight: np.ndarray, found: np.ndarray, n: int, x: np.ndarray) -> int:
    """One round of :func:`choose`: the rows of draws ``x`` not drawn before.

    Returns:
        How many rows ``found`` holds now.
    """
    for j in range(n):
        weight[found[j]] = 0.0
    cdf = np.cumsum(weight)  # in order, as numpy's
    cdf /= cdf[-1]
    new = np.searchsorted(cdf, x, side="right")
    seen = np.zeros(weight.size, np.bool_)  # rows of this round so far
    m = n
    for v in new:
        if not seen[v]:
            seen[v] = True
            found[m] = v
            m += 1
    return m

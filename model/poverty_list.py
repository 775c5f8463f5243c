"""The PS-2 list of poor households: made by the community's self-survey, revised yearly.

Pemetaan swadaya makes the list (:func:`make`): in RTs mapped by the relawan of their RW
(:func:`mapped_rts`), a poor
household is listed with the survey's accuracy (raised by kelurahan data as far as the
kelurahan is involved); non-poor elites get listed with ``ps2_elite_bias``; other non-poor
households with a small inclusion error. In RTs nobody mapped, only the kelurahan's own
data can list anyone. The annual review revises it every ``ps2_revision_months`` while the
board is active (:func:`step`); in between, households move in and out of poverty and the
list goes stale (Fernandez & Hadiwidjaja 2018 on lists updated every three years).
Targeting errors are measured against current poverty (:func:`errors`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from berdaya.agents.household import Elite
from berdaya.model.population import rt_count

if TYPE_CHECKING:
    from berdaya.model.site import Site


@dataclass(frozen=True)
class ListRules:
    """Constants of the self-survey (not scenario parameters; ODD section 8).

    Attributes:
        rts_per_relawan: RTs of its RW one relawan can survey (assumption: the relawan of an
            RW map it as a team, each taking a few RTs besides their own).
        kelurahan_correction: Share of the survey's errors a fully involved kelurahan's
            data corrects (assumption).
        nonpoor_inclusion: An ordinary non-poor household is listed with this share of
            the survey's error rate (assumption).
    """

    rts_per_relawan: int = 3
    kelurahan_correction: float = 0.5
    nonpoor_inclusion: float = 0.2


LIST = ListRules()


def mapped_rts(site: Site) -> np.ndarray:
    """Whether each RT is mapped: the relawan of its RW, as a team, reach it.

    Each RW's relawan can survey ``rts_per_relawan`` RTs each; RTs with relawan of their
    own come first, then the others in order, up to that capacity. One compiled pass
    (:func:`_mapped`) where numpy took a dozen calls (25 against 5 us at 4,000
    households).
    """
    h = site.households
    return h.kernel(_mapped).call(
        h.rt, h.rw, h.relawan, rt_count(site.p), LIST.rts_per_relawan
    )


@njit(cache=True)
def _mapped(
    rt: np.ndarray, rw: np.ndarray, relawan: np.ndarray, n_rt: int, per_relawan: int
) -> np.ndarray:
    """:func:`mapped_rts` from the household columns, as numpy computed it.

    numpy counted each RT's relawan and each RW's (``bincount``: whole numbers, exact
    in float64), gave each RT the RW of its last household (0 if none), and ranked
    each RW's RTs by ``lexsort`` (most relawan first, then by number); here a stable
    sort of one integer key ranks them the same way.
    """
    per_rt = np.zeros(n_rt, np.int64)
    rw_of_rt = np.zeros(n_rt, np.int64)
    for r in range(rt.size):
        per_rt[rt[r]] += relawan[r]
        rw_of_rt[rt[r]] = rw[r]
    team = np.zeros(rw_of_rt.max() + 1 if n_rt else 0, np.int64)
    most = 0
    for t in range(n_rt):
        team[rw_of_rt[t]] += per_rt[t]
        most = max(most, per_rt[t])
    # RW first, then relawan, most first; the stable sort keeps RT order among ties
    order = np.argsort(rw_of_rt * (most + 1) + (most - per_rt), kind="mergesort")
    out = np.empty(n_rt, np.bool_)
    first = 0
    for i in range(n_rt):
        t = order[i]
        if i and rw_of_rt[t] != rw_of_rt[order[i - 1]]:
            first = i
        out[t] = i - first < per_relawan * team[rw_of_rt[t]]
    return out


def make(site: Site) -> None:
    """Make (or remake) the list from the self-survey of this month."""
    h = site.households
    p = site.p
    inv = site.kelurahan.involvement
    acc = p.ps2_accuracy + (1.0 - p.ps2_accuracy) * LIST.kelurahan_correction * inv
    mapped = mapped_rts(site)[h.rt]
    elite = h.elite != Elite.ORDINARY
    slip = LIST.nonpoor_inclusion * (1.0 - acc)
    prob = np.where(h.poor, acc, np.where(elite, p.ps2_elite_bias, slip))
    prob = np.where(mapped, prob, prob * inv)
    h.on_ps2[:] = site.rng.random(h.n) < prob
    site.cycle.ps2_done = True
    site.cycle.ps2_month = site.steps


def step(site: Site) -> None:
    """Revise the list at the annual review, while the board works."""
    cycle = site.cycle
    if not cycle.ps2_done or not site.bkm.active:
        return
    if site.steps - cycle.ps2_month >= site.p.ps2_revision_months:
        make(site)


def errors(site: Site) -> tuple[float, float]:
    """Inclusion error (listed but not poor now) and exclusion error (poor, not listed)."""
    h = site.households
    listed = h.on_ps2
    poor = h.poor
    n_listed = int(np.count_nonzero(listed))
    n_poor = int(np.count_nonzero(poor))
    inclusion = np.count_nonzero(listed & ~poor) / n_listed if n_listed else 0.0
    exclusion = np.count_nonzero(poor & ~listed) / n_poor if n_poor else 0.0
    return float(inclusion), float(exclusion)

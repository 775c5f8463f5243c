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
    own come first, then the others in order, up to that capacity.
    """
    h = site.households
    n_rt = rt_count(site.p)
    per_rt = np.bincount(h.rt, weights=h.relawan, minlength=n_rt)
    rw_of_rt = np.zeros(n_rt, dtype=np.int64)
    rw_of_rt[h.rt] = h.rw
    capacity = LIST.rts_per_relawan * np.bincount(rw_of_rt, weights=per_rt)
    # rank the RTs of each RW: own relawan first (most first), then by number
    order = np.lexsort((np.arange(n_rt), -per_rt, rw_of_rt))
    first = np.searchsorted(rw_of_rt[order], rw_of_rt[order])
    rank = np.empty(n_rt, dtype=np.int64)
    rank[order] = np.arange(n_rt) - first
    return rank < capacity[rw_of_rt]


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

"""The PS-2 list of poor households: made by the community's self-survey, revised yearly.

Pemetaan swadaya makes the list (:func:`make`): in RTs mapped by their relawan, a poor
household is listed with the survey's accuracy (raised by kelurahan data as far as the
kelurahan is involved); non-poor elites get listed with ``ps2_elite_bias``; other non-poor
households with a small inclusion error. In RTs nobody mapped, only the kelurahan's own
data can list anyone. The annual review revises it every ``ps2_revision_months`` while the
board is active (:func:`step`); in between, households move in and out of poverty and the
list goes stale (Fernandez & Hadiwidjaja 2018 on lists updated every three years).
Targeting errors are measured against current poverty (:func:`errors`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from berdaya.agents.household import Elite
from berdaya.model.population import rt_count

if TYPE_CHECKING:
    from berdaya.model.site import Site


def mapped_rts(site: Site) -> np.ndarray:
    """Whether each RT has a relawan of its own to map it."""
    h = site.households
    return np.bincount(h.rt, weights=h.relawan, minlength=rt_count(site.p)) > 0


def make(site: Site) -> None:
    """Make (or remake) the list from the self-survey of this month."""
    h = site.households
    p = site.p
    inv = site.kelurahan.involvement
    acc = p.ps2_accuracy + (1.0 - p.ps2_accuracy) * 0.5 * inv
    mapped = mapped_rts(site)[h.rt]
    elite = h.elite != Elite.ORDINARY
    prob = np.where(h.poor, acc, np.where(elite, p.ps2_elite_bias, 0.2 * (1.0 - acc)))
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

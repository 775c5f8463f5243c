"""Environmental works that follow the money: bought at a unit cost, lasting for years.

The works budget (the plan's environmental share of each tranche, in the UPL) buys works at
``works_unit_cost`` each, one a month while the budget lasts (the last, smaller one with
what is left once every tranche is in). The board places each work in a catchment (an RT or
an RW, ``works_catchment``) by need, the share of its households on the PS-2 list (poor
households before there is a list), less for a unit already served, and tilted towards
elites' neighbourhoods by capture. What reaches the work (the cost less leakage) gives every
household of the catchment a lasting benefit, lower costs or higher earnings, of
``works_annual_return`` per rupiah a year (Torrens 2005 on KDP works), fading over
``works_life_years``. The catchment's residents form the environmental KSM that carries
the work out and take its roles (a hand-over, as the readiness rule allows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from berdaya.agents import formation
from berdaya.agents.upk import capture

if TYPE_CHECKING:
    from berdaya.agents.upk.accounts import UPK
    from berdaya.model.site import Site


@dataclass(frozen=True)
class WorksRules:
    """Constants of the works (not scenario parameters; ODD section 8).

    Attributes:
        need_floor: Added to a unit's listed-poor share when weighing where the next work
            goes, so any unit can be chosen (assumption).
        served_weight: A unit that already has a work weighs this share of its need
            (assumption).
        effort: Primary effort booked per work (assumption).
    """

    need_floor: float = 0.05
    served_weight: float = 0.3
    effort: float = 0.5


WORKS = WorksRules()


def build(site: Site, upk: UPK) -> int:
    """Build this month's work if the budget allows one.

    Returns:
        1 if a work was started (an initiative of the board), else 0.
    """
    p = site.p
    cost = p.works_unit_cost
    last = len(upk.tranches) == 3 and upk.upl_cash > 0
    if upk.upl_cash < cost and not last:
        return 0
    cost = min(cost, upk.upl_cash)
    members = _catchment(site)
    value, lost = capture.split_leak(site, cost)
    upk.upl_cash -= cost
    upk.spent_works += value
    upk.leaked += lost
    upk.works_built += 1
    h = site.households
    per_household = value * p.works_annual_return / 12.0 / members.size
    h.works_benefit[members] += np.float32(per_household / p.poverty_line_rp)
    h.got_works[members] = True
    formation.work_group(site, members)
    site.effort.add(primary=WORKS.effort)
    return 1


def _catchment(site: Site) -> np.ndarray:
    """Choose the unit (RT or RW) of the next work; return its households' rows."""
    h = site.households
    unit = h.rt if site.p.works_catchment == "rt" else h.rw
    n_units = int(unit.max()) + 1
    count = np.bincount(unit, minlength=n_units).astype(float)
    marked = h.on_ps2 if site.cycle.ps2_done else h.poor
    need = np.bincount(unit, weights=marked, minlength=n_units)
    served = np.bincount(unit, weights=h.got_works, minlength=n_units) > 0
    some = count > 0
    weight = np.divide(need, count, out=np.zeros(n_units), where=some)
    weight += WORKS.need_floor
    weight = np.where(served, WORKS.served_weight * weight, weight) * some
    # capture: each unit's weight tilted as its elite residents' would be, on average
    elite_tilt = np.bincount(
        unit,
        weights=capture.steer(site, np.arange(h.n), np.ones(h.n)),
        minlength=n_units,
    )
    weight *= np.divide(elite_tilt, count, out=np.ones(n_units), where=some)
    chosen = int(site.rng.choice(n_units, p=weight / weight.sum()))
    return np.flatnonzero(unit == chosen)

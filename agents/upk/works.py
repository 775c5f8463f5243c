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
from numba import njit

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
    """Choose the unit (RT or RW) of the next work; return its households' rows.

    Each unit's weight is its need (its marked households' share), plus
    ``WORKS.need_floor``, times ``WORKS.served_weight`` once served, times its
    residents' mean capture tilt (:func:`~berdaya.agents.upk.capture.steer`): one
    compiled pass (:func:`_unit_weights`), then numpy's draw.
    """
    h = site.households
    unit = h.rt if site.p.works_catchment == "rt" else h.rw
    weight = unit_weights(site, unit)
    chosen = int(site.rng.choice(weight.size, p=weight / weight.sum()))
    return np.flatnonzero(unit == chosen)


def unit_weights(site: Site, unit: np.ndarray) -> np.ndarray:
    """Each unit's weight for the next work (units ``0`` to ``unit.max()``)."""
    h = site.households
    marked = h.on_ps2 if site.cycle.ps2_done else h.poor
    c = capture.strength(site)
    return h.kernel(_unit_weights).call(
        unit,
        (marked, h.got_works),
        h.elite,
        int(unit.max()) + 1,
        (WORKS.need_floor, WORKS.served_weight),
        (c, *capture.tilts(c), c > 0.0),
    )


@njit(cache=True)
def _unit_weights(  # noqa: PLR0917 - a numba kernel takes its arguments by position
    unit: np.ndarray,
    flags: tuple[np.ndarray, np.ndarray],
    elite: np.ndarray,
    n_units: int,
    rules: tuple[float, float],
    steering: tuple[float, float, float, bool],
) -> np.ndarray:
    """Each unit's weight for the next work, as numpy's ``bincount`` s computed it.

    The counts, marked households and works by unit, and the capture tilts summed in
    row order (``bincount``'s order, in float64), then the same float64 divisions and
    products element by element.
    """
    marked, got_works = flags
    need_floor, served_weight = rules
    _, informal, formal, steers = steering
    count = np.zeros(n_units)
    need = np.zeros(n_units)
    works = np.zeros(n_units)
    elite_tilt = np.zeros(n_units)
    for r in range(unit.size):
        u = unit[r]
        count[u] += 1.0
        need[u] += 1.0 if marked[r] else 0.0
        works[u] += 1.0 if got_works[r] else 0.0
        tilt = 1.0
        if steers:
            tilt = formal if elite[r] == 2 else (informal if elite[r] > 0 else 1.0)
        elite_tilt[u] += tilt
    weight = np.zeros(n_units)
    for u in range(n_units):
        some = count[u] > 0
        w = (need[u] / count[u] if some else 0.0) + need_floor
        w = (served_weight * w if works[u] > 0 else w) * (1.0 if some else 0.0)
        weight[u] = w * (elite_tilt[u] / count[u] if some else 1.0)
    return weight

"""The readiness rule, in one place: when may resources and roles be handed over?

Wrihatnolo & Dwidjowijoto (2007): pendayaan hands over authority, resources or opportunity
*in line with capacity already gained*. Whether the programme waits for that capacity is the
progression policy:

* ``schedule``: everyone offered a role or a loan takes it (the timetable needs it done);
* ``readiness``: only those who went through pengkapasitasan and reached
  ``capacity_threshold``;
* ``hybrid``: as readiness, until the offer has waited ``hybrid_max_wait`` months; then
  everyone.

A hand-over moves the household to pendayaan in the monthly pass, *forced* when its capacity
was not there (:func:`~berdaya.agents.household._stage`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from berdaya.agents.household import Stage

if TYPE_CHECKING:
    from berdaya.model.site import Site


def ready(site: Site, rows: np.ndarray, waited: int = 0) -> np.ndarray:
    """Which of ``rows`` the progression policy lets take a role or a loan now.

    Args:
        site: The kelurahan.
        rows: Household rows offered the role or loan.
        waited: Months the offer has been waiting (for ``hybrid``).

    Returns:
        A boolean mask over ``rows``.
    """
    p = site.p
    if everyone(site, waited):
        return np.ones(rows.size, dtype=bool)
    h = site.households
    return (h.capacity[rows] >= p.capacity_threshold) & (
        h.stage[rows] >= Stage.PENGKAPASITASAN
    )


def everyone(site: Site, waited: int = 0) -> bool:
    """Whether the progression policy lets everyone offered take it, ready or not.

    ``schedule`` always; ``hybrid`` once the offer has waited ``hybrid_max_wait`` months.
    """
    p = site.p
    return p.progression == "schedule" or (
        p.progression == "hybrid" and waited >= p.hybrid_max_wait
    )


def hand_over(site: Site, rows: np.ndarray, waited: int = 0) -> np.ndarray:
    """Hand a role over to those of ``rows`` the rule lets take it.

    Args:
        site: The kelurahan.
        rows: Household rows offered the role.
        waited: Months the offer has been waiting (for ``hybrid``).

    Returns:
        The rows that took it.
    """
    took = rows[ready(site, rows, waited)]
    site.households.handover[took] = True
    return took

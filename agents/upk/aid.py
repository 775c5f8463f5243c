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
    free = h.aid_left == 0
    listed = h.on_ps2 if site.cycle.ps2_done else h.poor
    pool = np.flatnonzero(free & (listed | (h.elite > 0)))
    if pool.size == 0:
        return 0
    weight = np.where(listed[pool], 1.0, 0.0)
    c = capture.strength(site)
    weight = capture.steer(site, pool, weight + c * (h.elite[pool] > 0))
    total = weight.sum()
    chance = weight / total if total > 0 else weight
    pool, chance = pool[chance > 0], chance[chance > 0]  # tiny weights can underflow
    n = min(int(budget // per), pool.size)
    if n <= 0:
        return 0
    chosen = site.rng.choice(pool, size=n, replace=False, p=chance / chance.sum())
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

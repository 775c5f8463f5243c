"""The BLM grant: tranches I-III, each released once the LPJ of the last one is done.

Source: the BPKP audit of P2KP-II (tranches II and III delayed until the accountability
report of the last one); tranche shares are an assumption (:data:`GRANT`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from berdaya.agents.upk.plan import plan_shares

if TYPE_CHECKING:
    from berdaya.agents.upk.accounts import UPK
    from berdaya.model.site import Site


@dataclass(frozen=True)
class GrantRules:
    """Constants of the grant (not scenario parameters; ODD section 8).

    Attributes:
        tranche_shares: Shares of the BLM in tranches I, II, III (assumption; up to 3
            grants a kelurahan: pnpm-support.org).
        tranche_spacing: Planned months between tranches (assumption).
        aid_spread_months: Months over which a tranche's social budget is committed
            (assumption).
        tranche_effort: Primary effort booked per tranche received, a transfer of
            resources (assumption).
    """

    tranche_shares: tuple[float, float, float] = (0.2, 0.5, 0.3)
    tranche_spacing: int = 3
    aid_spread_months: int = 6
    tranche_effort: float = 2.0


GRANT = GrantRules()


def step(site: Site, upk: UPK) -> None:
    """Work on the LPJ of the last tranche, then release the next one when it is due."""
    _work_on_lpj(site, upk)
    _release_due_tranche(site, upk)


def _work_on_lpj(site: Site, upk: UPK) -> None:
    """The board writes the accountability report on the last tranche."""
    if len(upk.tranches) == upk.lpj_done:
        return
    effort = site.p.lpj_effort
    upk.lpj_progress += site.bkm.capacity / effort if effort > 0 else 1.0
    if upk.lpj_progress >= 1.0:
        upk.lpj_done += 1


def _release_due_tranche(site: Site, upk: UPK) -> None:
    """Release the next tranche once the last one's LPJ is done (tranche I at once).

    The tranche is split by the PJM plan's Tridaya shares into the revolving fund (UPK),
    the social budget (UPS) and the works budget (UPL).
    """
    p = site.p
    k = len(upk.tranches)
    shares = GRANT.tranche_shares
    if k >= len(shares):
        return
    if k == 0:
        upk.tranche_planned = [
            site.steps + i * GRANT.tranche_spacing for i in range(len(shares))
        ]
    elif upk.lpj_done < k:
        return
    first_two = [int(p.blm_total * s) for s in shares[:2]]
    amount = first_two[k] if k < 2 else p.blm_total - sum(first_two)
    upk.tranches.append(amount)
    upk.tranche_months.append(site.steps)
    upk.grant_received += amount
    upk.lpj_progress = 0.0
    site.effort.add(primary=GRANT.tranche_effort)  # a transfer of resources
    economic, social, _ = plan_shares(site)
    econ = int(amount * economic)
    soc = int(amount * social)
    upk.fund_cash += econ
    upk.ups_cash += soc
    upk.upl_cash += amount - econ - soc
    upk.ups_monthly = -(-upk.ups_cash // GRANT.aid_spread_months)

"""The kelurahan government, led by the lurah."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mesa import Agent

if TYPE_CHECKING:
    from berdaya.model.model import P2KPModel
    from berdaya.model.site import Site


@dataclass(frozen=True)
class KelurahanRules:
    """Constants of the kelurahan government (not scenario parameters; ODD section 8).

    Attributes:
        support_rate: Monthly speed at which support follows involvement (assumption).
        initiative_share: Government initiative as a share of the support given
            (assumption).
        effort_share: Secondary effort booked a month, as a share of involvement, while
            the programme runs (assumption).
    """

    support_rate: float = 0.1
    initiative_share: float = 0.5
    effort_share: float = 0.5


KELURAHAN = KelurahanRules()


class Kelurahan(Agent):
    """The lowest level of government and its involvement in the programme.

    Involvement (0 = excluded, as in Kedungkandang; 1 = full partner, as the guidelines
    meant) sets the lurah's convening power over meetings, the data the kelurahan lends to
    the PS-2 list, the legitimacy it lends the BKM, and its support, a stock that follows
    involvement while the programme runs and is kept after it ends.

    Attributes:
        involvement: Scenario lever in [0, 1].
        support: Government support actually given, in [0, 1] (tracked apart from the
            BKM's institutional stage).
    """

    def __init__(self, model: P2KPModel, site: Site) -> None:
        """Create the kelurahan with the scenario's involvement.

        Args:
            model: The model the kelurahan belongs to.
            site: The kelurahan's rows and institutions.
        """
        super().__init__(model)
        self.site = site
        self.involvement = float(model.p.kelurahan_involvement)
        self.support = 0.0

    @property
    def reach_multiplier(self) -> float:
        """How many times more households a meeting reaches than one the faskel convenes."""
        return 1.0 + self.site.p.lurah_reach_boost * self.involvement

    @property
    def initiative(self) -> float:
        """Weight of government initiative in this month's community activity.

        Half the support given: while the programme runs it follows involvement, after
        it ends it is the support the kelurahan keeps giving.
        """
        return KELURAHAN.initiative_share * self.support

    def step(self) -> None:
        """Support follows involvement while the programme runs and is kept after it ends."""
        active = self.site.cycle.active
        target = self.involvement if active else self.support
        self.support += KELURAHAN.support_rate * (target - self.support)
        if active:
            secondary = KELURAHAN.effort_share * self.involvement
            self.site.effort.add(primary=0.0, secondary=secondary)

"""One kelurahan of the model: its households' rows and its institutions.

A model holds one kelurahan (the thesis' case) or many (a city). Each is a :class:`Site`:
a contiguous block of rows of the model's household table, seen through a
:class:`~berdaya.agents.household.HouseholdTable` view, with its own kelurahan government,
BKM (and its money), KSMs, programme cycle and account of programme effort. The faskel team
serving it may serve other kelurahan too. The institutional rules take the site as their
context: ``site.households`` are its households only, ``site.bkm`` its board, and
``site.rng`` and ``site.steps`` are the model's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from berdaya.agents.bkm import BKM
from berdaya.agents.kelurahan import Kelurahan
from berdaya.agents.ksm import KSMTable
from berdaya.model.cycle import ProgrammeCycle

if TYPE_CHECKING:
    from berdaya.agents.faskel import Faskel
    from berdaya.agents.ksm import KSM
    from berdaya.model.model import P2KPModel


@dataclass
class Effort:
    """Programme effort by tendency: primary (transfer) vs secondary (dialogue).

    Attributes:
        primary: Primary effort this month.
        secondary: Secondary effort this month.
        total_primary: Primary effort since the start.
        total_secondary: Secondary effort since the start.
    """

    primary: float = 0.0
    secondary: float = 0.0
    total_primary: float = 0.0
    total_secondary: float = 0.0

    def add(self, primary: float = 0.0, secondary: float = 0.0) -> None:
        """Book effort of either tendency for this month."""
        self.primary += primary
        self.secondary += secondary
        self.total_primary += primary
        self.total_secondary += secondary

    def new_month(self) -> None:
        """Start a new month's account."""
        self.primary = self.secondary = 0.0

    @property
    def month_index(self) -> float:
        """Share of this month's effort that is primary (0 when there was none)."""
        total = self.primary + self.secondary
        return self.primary / total if total > 0 else 0.0

    @property
    def cumulative_index(self) -> float:
        """Share of all effort so far that is primary."""
        total = self.total_primary + self.total_secondary
        return self.total_primary / total if total > 0 else 0.0

    @classmethod
    def combined(cls, efforts: list[Effort]) -> Effort:
        """Sum several accounts (a city's kelurahan) into one."""
        out = cls()
        for e in efforts:
            out.primary += e.primary
            out.secondary += e.secondary
            out.total_primary += e.total_primary
            out.total_secondary += e.total_secondary
        return out


class Site:
    """One kelurahan: rows ``start:stop`` of the household table and its institutions.

    Attributes:
        model: The model the kelurahan belongs to.
        index: Position in ``model.sites`` (the ``site`` column of its households).
        start: First household row.
        stop: One past the last household row.
        p: The scenario parameters (shared by every kelurahan of the model).
        households: View of this kelurahan's rows of the model's table.
        adjacency_norm: Row-normalised ties among this kelurahan's households (ties to
            other kelurahan left out), for neighbour effects inside its institutions.
        effort: Programme effort spent here, by tendency.
        kelurahan: The kelurahan government agent.
        bkm: The community board (with its units' money, ``bkm.upk``).
        ksm_table: The KSMs formed here, as columns (:class:`~berdaya.agents.ksm.KSMTable`);
            a KSM joins it as it forms.
        cycle: The programme cycle here.
        faskels: The facilitators of the team serving this kelurahan.
        accompaniment: Faskel accompaniment given to the board this month.
        presence: Faskel effectiveness spent here this month (skill x rapport x time).
    """

    def __init__(
        self,
        model: P2KPModel,
        index: int,
        start: int,
        stop: int,
        adjacency_norm: sp.csr_array,
    ) -> None:
        """Set up the kelurahan's institutions over its block of household rows.

        Args:
            model: The model (its household table is already built).
            index: Position of this kelurahan in the model.
            start: First household row.
            stop: One past the last household row.
            adjacency_norm: Row-normalised tie matrix among these rows.
        """
        self.model = model
        self.index = index
        self.start = start
        self.stop = stop
        self.p = model.p
        self.households = model.households.view(start, stop)
        self.adjacency_norm = adjacency_norm
        self.effort = Effort()
        self.ksm_table = KSMTable()
        self.faskels: list[Faskel] = []
        self.accompaniment = 0.0
        self.presence = 0.0
        self.default_hazard = float(self.p.default_hazard)  # the model draws its own
        self.kelurahan = Kelurahan(model, self)
        self.bkm: BKM = None  # type: ignore[assignment]  # set by build_institutions
        self.cycle: ProgrammeCycle = None  # type: ignore[assignment]

    def build_institutions(self) -> None:
        """Create the board and the programme cycle (after the faskel teams exist)."""
        self.bkm = BKM(self.model, self)
        self.cycle = ProgrammeCycle(self)

    @property
    def ksms(self) -> list[KSM]:
        """The KSMs formed here, in order of formation (the agents of ``ksm_table``)."""
        return self.ksm_table.agents

    @property
    def rng(self) -> np.random.Generator:
        """The model's seeded generator."""
        return self.model.rng

    @property
    def steps(self) -> int:
        """Months simulated so far."""
        return self.model.steps

    def new_month(self) -> None:
        """Open this month's accounts of effort and faskel work."""
        self.effort.new_month()
        self.accompaniment = 0.0
        self.presence = 0.0

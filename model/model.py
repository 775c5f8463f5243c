"""The P2KP kelurahan model: one Mesa model, one month a step."""

from __future__ import annotations

import gc
from dataclasses import dataclass

import numpy as np
import pandas as pd
from mesa import Model

from berdaya.agents.bkm import BKM
from berdaya.agents.faskel import Faskel
from berdaya.agents.household import Household, step_households
from berdaya.agents.kelurahan import Kelurahan
from berdaya.agents.ksm import KSM, step_ksms
from berdaya.model.cycle import ProgrammeCycle
from berdaya.model.population import adjacency, build_network, build_population
from berdaya.model.records import (
    SNAPSHOT_COLUMNS,
    make_datacollector,
    monthly_stats,
    phase_name,
)
from berdaya.scenarios.scenario import P2KPScenario


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


class P2KPModel(Model):
    """P2KP in one kelurahan: households on a social network, faskel, kelurahan and BKM.

    Each step is a month: the kelurahan acts, the faskel team visits, trains KSMs and
    accompanies the board, the current phase of the programme cycle runs its activity (and
    new KSMs form), the BKM (once formed) moves its money (LPJ, tranches, works, aid,
    collection, lending) and builds capacity and initiative, the KSMs save and update their
    status, the households update in one vectorised pass, and the cycle checks the phase's
    gate. Then the month is recorded.

    Attributes:
        p: The validated scenario parameters.
        households: Columnar state of all households (:class:`HouseholdTable`).
        graph: The ``networkx`` social network (nodes are household rows).
        adjacency: Sparse tie matrix derived once from ``graph``.
        adjacency_norm: Row-normalised ``adjacency`` (averages over ties).
        inv_degree: 1 / degree of each household (0 when isolated).
        kelurahan: The kelurahan government agent.
        faskels: The facilitators serving the kelurahan.
        bkm: The community board (with its units' money, ``bkm.upk``).
        ksms: The self-help groups formed so far, in order of formation.
        cycle: The programme cycle.
        stats: This month's model-level records.
        datacollector: Mesa ``DataCollector`` of the monthly records.
    """

    def __init__(
        self, scenario: P2KPScenario | None = None, record_households: bool = False
    ) -> None:
        """Build the kelurahan.

        Args:
            scenario: Validated parameters and seed; the schema defaults (Kedungkandang
                2008) with an OS-entropy seed when omitted.
            record_households: Keep a compact monthly snapshot of household states.
        """
        if scenario is None:
            scenario = P2KPScenario()
        super().__init__(scenario=scenario)
        self.p = scenario.params
        self.households = build_population(self.p, self.rng)
        self.graph = build_network(self.households, self.p, self.rng)
        self.adjacency, self.adjacency_norm, self.inv_degree = adjacency(self.graph)
        self.effort = Effort()
        self.kelurahan = Kelurahan(self)
        self.faskels = [Faskel(self) for _ in range(self.p.faskel_count)]
        self.bkm = BKM(self)
        self.ksms: list[KSM] = []
        self.cycle = ProgrammeCycle(self)
        was_enabled = gc.isenabled()
        gc.disable()  # creating many agents while a big graph is alive: pause the GC
        try:
            self.household_agents = Household.create_agents(
                self, self.households.n, row=np.arange(self.households.n)
            )
        finally:
            if was_enabled:
                gc.enable()
        self.record_households = record_households
        self.snapshots: dict[str, list[np.ndarray]] = {c: [] for c in SNAPSHOT_COLUMNS}
        self.stats = monthly_stats(self)
        self.datacollector = make_datacollector(self)
        self.running = True
        self._record()

    def step(self) -> None:
        """Advance one month."""
        self.effort.new_month()
        self.kelurahan.step()
        for faskel in self.faskels:
            faskel.step()
        self.cycle.act()
        self.bkm.step()
        step_ksms(self)
        step_households(self)
        self.cycle.advance()
        self._record()
        if self.steps >= self.p.months:
            self.running = False

    def _record(self) -> None:
        self.stats = monthly_stats(self)
        self.datacollector.collect(self)
        if self.record_households:
            for col in SNAPSHOT_COLUMNS:
                self.snapshots[col].append(getattr(self.households, col).copy())

    # --- results -------------------------------------------------------------------
    def records(self) -> pd.DataFrame:
        """Return the tidy monthly table: a row per month (0 = before the programme)."""
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        df.insert(0, "month", np.arange(len(df)))
        df.insert(1, "phase_name", [phase_name(i) for i in df["phase"]])
        return df

    def phase_table(self) -> pd.DataFrame:
        """Return a row per phase started: timing, gate value and target, status."""
        return pd.DataFrame([r.as_dict() for r in self.cycle.records])

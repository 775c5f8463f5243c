"""The P2KP model: one kelurahan or a city of them in one Mesa model, a month a step."""

from __future__ import annotations

import gc
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from mesa import Model

from berdaya.agents.bkm import BKM
from berdaya.agents.faskel import Faskel
from berdaya.agents.household import Household, Rates, step_households
from berdaya.agents.kelurahan import Kelurahan
from berdaya.agents.ksm import KSM, step_ksms
from berdaya.model.cycle import ProgrammeCycle
from berdaya.model.population import (
    adjacency,
    build_households,
    build_ties,
    tie_counters,
    tie_graph,
)
from berdaya.model.records import (
    MONTHLY_TABLE,
    RECORD_NAMES,
    SNAPSHOT_COLUMNS,
    make_datacollector,
    monthly_stats,
    phase_name,
    site_stats,
)
from berdaya.model.site import Effort, Site
from berdaya.scenarios.scenario import P2KPScenario


class P2KPModel(Model):
    """P2KP in one kelurahan, or in many at once (a city).

    Households live on one social network; each kelurahan (:class:`Site`) has its own
    government, BKM, KSMs and programme cycle, and faskel teams serve
    ``kelurahan_per_team`` kelurahan each. Each step is a month: the kelurahan
    governments act, the faskel teams visit, train KSMs and accompany the boards, the
    current phase of each cycle runs its activity (and new KSMs form), each BKM (once
    formed) moves its money (LPJ, tranches, works, aid, collection, lending) and builds
    capacity and initiative, the KSMs save and update their status, all households update
    in one vectorised pass, and each cycle checks its phase's gate. Then the month is
    recorded: for the model (the city) and, with several kelurahan, for each.

    Attributes:
        p: The validated scenario parameters.
        households: Columnar state of all households (:class:`HouseholdTable`); the rows
            of kelurahan ``i`` are ``sites[i].start:sites[i].stop``.
        ties: The social ties, each once, as an (m, 2) array of household rows.
        adjacency: Sparse tie matrix derived once from ``ties``.
        adjacency_norm: Row-normalised ``adjacency`` (averages over ties).
        inv_degree: 1 / degree of each household (0 when isolated).
        rates: The household rates in the form the monthly pass takes (:class:`Rates`).
        tie_flags: Each household's aware and participating flags as the monthly pass
            last counted them, packed (see :func:`~berdaya.model.population.tie_counters`).
        tie_counts: Each household's aware and participating ties, packed likewise.
        sites: The kelurahan, each with its institutions (:class:`Site`).
        faskels: All facilitators; each works in the kelurahan of its team in turn.
        stats: This month's model-level records.
        datacollector: Mesa ``DataCollector`` keeping the model-level monthly records
            as its table :data:`~berdaya.model.records.MONTHLY_TABLE`.
    """

    def __init__(
        self, scenario: P2KPScenario | None = None, record_households: bool = False
    ) -> None:
        """Build the kelurahan (or the city).

        Args:
            scenario: Validated parameters and seed; the schema defaults (Kedungkandang
                2008) with an OS-entropy seed when omitted.
            record_households: Keep a compact monthly snapshot of household states.
        """
        if scenario is None:
            scenario = P2KPScenario()
        super().__init__(scenario=scenario)
        p = self.p = scenario.params
        self.households = build_households(p, self.rng)
        self.ties = build_ties(self.households, p, self.rng)
        self._graph: nx.Graph | None = None
        self.adjacency, self.adjacency_norm, self.inv_degree = adjacency(
            self.ties, self.households.n
        )
        self.rates = Rates.from_params(p, self.households.poverty_line)
        self.tie_flags, self.tie_counts = tie_counters(self.adjacency)
        size = p.n_households
        self.sites = [
            Site(
                self, i, i * size, (i + 1) * size, self._block(i * size, (i + 1) * size)
            )
            for i in range(p.n_kelurahan)
        ]
        self.faskels: list[Faskel] = []
        for team in faskel_teams(p.n_kelurahan, p.kelurahan_per_team):
            served = [self.sites[i] for i in team]
            members = [
                Faskel(self, served, slot)
                for slot in range(p.faskel_count * len(served))
            ]
            for site in served:
                site.faskels = members
            self.faskels.extend(members)
        for site in self.sites:
            site.build_institutions()
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
        self._site_records: list[np.ndarray] = []
        self.stats = monthly_stats(self)
        self.record_names = list(RECORD_NAMES)
        self.datacollector = make_datacollector(self)
        self.running = True
        self._record()

    def _block(self, start: int, stop: int) -> sp.csr_array:
        """Ties among rows ``start:stop`` (the whole matrix when there is one kelurahan)."""
        if start == 0 and stop == self.households.n:
            return self.adjacency_norm
        return self.adjacency_norm[start:stop, start:stop]

    # --- one kelurahan, or many ----------------------------------------------------------
    def _only(self, what: str) -> Site:
        if len(self.sites) != 1:
            raise AttributeError(
                f"this model has {len(self.sites)} kelurahan: use model.sites[i].{what}"
            )
        return self.sites[0]

    @property
    def kelurahan(self) -> Kelurahan:
        """The kelurahan government (a model of one kelurahan only)."""
        return self._only("kelurahan").kelurahan

    @property
    def bkm(self) -> BKM:
        """The community board (a model of one kelurahan only)."""
        return self._only("bkm").bkm

    @property
    def cycle(self) -> ProgrammeCycle:
        """The programme cycle (a model of one kelurahan only)."""
        return self._only("cycle").cycle

    @property
    def effort(self) -> Effort:
        """Programme effort, summed over kelurahan."""
        if len(self.sites) == 1:
            return self.sites[0].effort
        return Effort.combined([s.effort for s in self.sites])

    @property
    def ksms(self) -> list[KSM]:
        """Every KSM formed, kelurahan by kelurahan, in order of formation."""
        if len(self.sites) == 1:
            return self.sites[0].ksms
        return [k for s in self.sites for k in s.ksms]

    @property
    def graph(self) -> nx.Graph:
        """The ``networkx`` social network (nodes are household rows), built when asked."""
        if self._graph is None:
            self._graph = tie_graph(self.ties, self.households)
        return self._graph

    def per_household(self, values: list[Any], dtype: type = np.float32) -> Any:
        """Spread one value per kelurahan to its households (a scalar with one kelurahan).

        Args:
            values: One value per kelurahan, in the order of ``sites``.
            dtype: Numpy type of the result.

        Returns:
            A scalar of ``dtype`` (one kelurahan) or an array with a value per household.
        """
        if len(values) == 1:
            return dtype(values[0])
        return np.asarray(values, dtype=dtype)[self.households.site]

    # --- the month ------------------------------------------------------------------------
    def step(self) -> None:
        """Advance one month."""
        sites = self.sites
        for site in sites:
            site.new_month()
        for site in sites:
            site.kelurahan.step()
        for faskel in self.faskels:
            faskel.step()
        for site in sites:
            site.cycle.act()
        for site in sites:
            site.bkm.step()
        for site in sites:
            step_ksms(site)
        step_households(self)
        for site in sites:
            site.cycle.advance()
        self._record()
        if self.steps >= self.p.months:
            self.running = False

    def _record(self) -> None:
        if len(self.sites) == 1:
            self.stats = monthly_stats(self)
        else:
            per_site = [site_stats(s) for s in self.sites]
            self._site_records.append(
                np.array([[r[k] for k in self.record_names] for r in per_site])
            )
            self.stats = monthly_stats(self)
        self.datacollector.add_table_row(MONTHLY_TABLE, self.stats)
        if self.record_households:
            for col in SNAPSHOT_COLUMNS:
                self.snapshots[col].append(getattr(self.households, col).copy())

    # --- results -------------------------------------------------------------------
    def records(self) -> pd.DataFrame:
        """Return the tidy monthly table: a row per month (0 = before the programme).

        With several kelurahan these are the city's records (see :func:`monthly_stats`).
        """
        df = self.datacollector.get_table_dataframe(MONTHLY_TABLE)
        df.insert(0, "month", np.arange(len(df)))
        df.insert(1, "phase_name", [phase_name(i) for i in df["phase"]])
        return df

    def kelurahan_records(self) -> pd.DataFrame:
        """Return a row per month and kelurahan, with a ``kelurahan`` column (0, 1, ...).

        With one kelurahan this is :meth:`records` with ``kelurahan`` = 0.
        """
        if len(self.sites) == 1:
            df = self.records()
            df.insert(1, "kelurahan", 0)
            return df
        months = len(self._site_records)
        n = len(self.sites)
        values = np.concatenate(self._site_records)
        df = pd.DataFrame(values, columns=self.record_names)
        df.insert(0, "month", np.repeat(np.arange(months), n))
        df.insert(1, "kelurahan", np.tile(np.arange(n), months))
        df.insert(2, "phase_name", [phase_name(i) for i in df["phase"]])
        return df

    def phase_table(self) -> pd.DataFrame:
        """Return a row per phase started: timing, gate value and target, status.

        With several kelurahan, a row per kelurahan and phase, with a ``kelurahan``
        column.
        """
        if len(self.sites) == 1:
            return pd.DataFrame([r.as_dict() for r in self.sites[0].cycle.records])
        return pd.DataFrame(
            [
                {"kelurahan": s.index, **r.as_dict()}
                for s in self.sites
                for r in s.cycle.records
            ]
        )


def faskel_teams(n_kelurahan: int, per_team: int) -> list[list[int]]:
    """Split kelurahan into faskel teams of about ``per_team`` neighbouring kelurahan.

    The number of teams is ``ceil(n_kelurahan / per_team)``; sizes differ by at most one
    (57 kelurahan in teams of up to 9: seven teams of 8 or 9).

    Returns:
        The kelurahan indices of each team.
    """
    n_teams = -(-n_kelurahan // per_team)
    return [chunk.tolist() for chunk in np.array_split(np.arange(n_kelurahan), n_teams)]

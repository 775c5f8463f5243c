"""The P2KP model: one kelurahan or a city of them in one Mesa model, a month a step."""

from __future__ import annotations

import gc
import operator
from collections.abc import Callable
from dataclasses import fields
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from mesa import DataCollector, Model
from mesa.agent import AgentSet
from mesa.experimental.scenarios import Scenario

from berdaya.agents import formation
from berdaya.agents.bkm import BKM
from berdaya.agents.faskel import Faskel
from berdaya.agents.household import Household, Neighbours, Rates
from berdaya.agents.kelurahan import Kelurahan
from berdaya.agents.ksm import KSM, step_ksms
from berdaya.agents.upk.repayment import kelurahan_hazards
from berdaya.model import poverty_list
from berdaya.model.cycle import PHASES, PhaseRecord, ProgrammeCycle
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
    MonthlyTable,
    city_stats,
    monthly_stats,
    phase_name,
)
from berdaya.model.registry import HEADLINE
from berdaya.model.site import Effort, Site
from berdaya.scenarios.loader import ScenarioError
from berdaya.scenarios.scenario import P2KPScenario

# a kelurahan's records in the order of RECORD_NAMES (one C call a kelurahan)
_SITE_ROW = operator.itemgetter(*RECORD_NAMES)


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
        streams: The run's random streams (:class:`Streams`), spawned from ``rng``.
        rates: The household rates in the form the monthly pass takes (:class:`Rates`).
        neighbours: The tie structure with each household's aware and participating
            flags and tie counts as the monthly pass last counted them
            (see :func:`~berdaya.model.population.tie_counters`).
        sites: The kelurahan, each with its institutions (:class:`Site`).
        faskels: All facilitators; each works in the kelurahan of its team in turn.
        stats: This month's model-level records.
        table: The model-level monthly records, a row a month
            (:class:`~berdaya.model.records.MonthlyTable`).
    """

    def __init__(
        self,
        scenario: P2KPScenario | str | Path | None = None,
        *,
        rng: Any = None,
        record_households: bool = False,
        **params: Any,
    ) -> None:
        """Build the kelurahan (or the city).

        Mesa's way works as well as berdaya's: ``P2KPModel(rng=3, poor_share=0.3)``,
        ``P2KPModel("kelurahan-partner", rng=3)``, ``P2KPModel(scenario)``, and so
        ``mesa.batch_run(P2KPModel, parameters={...})`` and Mesa's ``SolaraViz``.

        Args:
            scenario: A :class:`P2KPScenario`, a shipped scenario's name or a TOML file;
                the schema defaults (Kedungkandang 2008) when omitted.
            rng: The run's seed as Mesa takes it: a non-negative integer, a numpy
                ``Generator`` or ``SeedSequence``, or ``None`` for the scenario's own
                (OS entropy when it has none). ``seed=`` is taken as Mesa's older name.
            record_households: Keep a compact monthly snapshot of household states.
            **params: Any parameter of the schema (``berdaya params`` lists them),
                replacing the scenario's value; numpy scalars and 0-d arrays count as
                the values they hold.

        Raises:
            ScenarioError: An unknown parameter, a bad value or seed; the message names
                the parameter and what is allowed.
        """
        scenario = model_scenario(scenario, rng, params)
        super().__init__(scenario=scenario)
        p = self.p = scenario.params
        self.streams = Streams.spawn(self.rng)
        self.households = build_households(p, self.streams.population)
        self.ties = build_ties(self.households, p, self.streams.population)
        self._graph: nx.Graph | None = None
        self.adjacency, self.adjacency_norm, self.inv_degree = adjacency(
            self.ties, self.households.n
        )
        self.rates = Rates.from_params(p)
        flags, counts = tie_counters(self.adjacency)
        a = self.adjacency
        self.neighbours = Neighbours(
            a.indptr, a.indices, self.inv_degree, flags, counts
        )
        self._build_sites()
        # the Household agents' ids, reserved now; the agents are made when first asked
        self._household_ids = self.agent_id_counter
        self.agent_id_counter += self.households.n
        self._household_agents: AgentSet[Household] | None = None
        self.record_households = record_households
        self.snapshots: dict[str, list[np.ndarray]] = {c: [] for c in SNAPSHOT_COLUMNS}
        self._site_records: list[np.ndarray] = []
        self.stats: dict[str, float] = {}  # month 0's, from _record below
        self.record_names = list(RECORD_NAMES)
        self.table = MonthlyTable(self.record_names, p.months)
        self.datacollector = headline_collector(self.table)
        self.running = True
        self._record()
        self.datacollector.collect(self)

    def _build_sites(self) -> None:
        """The kelurahan, each with its repayment culture, faskel team and institutions."""
        p = self.p
        size = p.n_households
        self.sites = [
            Site(
                self, i, i * size, (i + 1) * size, self._block(i * size, (i + 1) * size)
            )
            for i in range(p.n_kelurahan)
        ]
        hazards = kelurahan_hazards(p, self.streams.population)
        for site, hazard in zip(self.sites, hazards.tolist(), strict=True):
            site.default_hazard = hazard
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

    def _block(self, start: int, stop: int) -> sp.csr_array:
        """Ties among rows ``start:stop`` (the whole matrix when there is one kelurahan)."""
        if start == 0 and stop == self.households.n:
            return self.adjacency_norm
        return self.adjacency_norm[start:stop, start:stop]

    # --- the households as Mesa agents -------------------------------------------------
    @property
    def household_agents(self) -> AgentSet[Household]:
        """The households as Mesa agents, one per row (made when first asked for).

        The rules run on the table, so a run needs no per-household Python object; the
        agents are made the first time anyone asks for them (here, ``agents`` or
        ``agents_by_type``), with the ids reserved for them when the model was built,
        and stay the same objects from then on.
        """
        if self._household_agents is None:
            self._household_agents = self._make_household_agents()
        return self._household_agents

    def _make_household_agents(self) -> AgentSet[Household]:
        """Create the Household agents with their reserved ids (rows in order)."""
        n = self.households.n
        after = self.agent_id_counter
        self.agent_id_counter = self._household_ids
        was_enabled = gc.isenabled()
        gc.disable()  # creating many agents while a big graph is alive: pause the GC
        try:
            agents = Household.create_agents(self, n, row=np.arange(n))
        finally:
            self.agent_id_counter = after
            if was_enabled:
                gc.enable()
        return agents

    @property
    def agents(self) -> AgentSet:
        """Every agent of the model, the households included (Mesa's ``agents``)."""
        _ = self.household_agents
        return super().agents

    @property
    def agents_by_type(self) -> dict[type, AgentSet]:
        """The model's agents by class, the households included (Mesa's)."""
        _ = self.household_agents
        return super().agents_by_type

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
        """Advance one month: each mechanism once, in order."""
        self._in_each_site(Site.new_month)  # open the month's accounts
        self._in_each_site(
            lambda site: site.kelurahan.step()
        )  # support follows involvement
        for faskel in self.faskels:  # none when faskel_count = 0
            faskel.step()  # visits, KSM training, accompaniment
        self._in_each_site(lambda site: site.cycle.act())  # the phase's activity
        self._in_each_site(poverty_list.step)  # the PS-2 list's annual revision
        self._in_each_site(formation.step)  # economic KSMs form as the fund can serve
        self._in_each_site(lambda site: site.bkm.upk.step())  # the money
        self._in_each_site(lambda site: site.bkm.step())  # the board's stage
        self._in_each_site(step_ksms)  # savings and status of the groups
        self.households.step(self)  # every household rule, one pass over the table
        self._in_each_site(lambda site: site.cycle.advance())  # gate and progression
        self._record()
        self.datacollector.collect(self)  # the headline records, Mesa's way
        if self.steps >= self.p.months or self.done:
            self.running = False

    def _in_each_site(self, mechanism: Callable[[Site], object]) -> None:
        """Apply one mechanism to every kelurahan in turn (one, unless a city)."""
        for site in self.sites:
            mechanism(site)

    @property
    def done(self) -> bool:
        """Whether every kelurahan's programme ended ``followup_months`` ago or more."""
        end = self.exit_month
        return end is not None and self.steps - end >= self.p.followup_months

    @property
    def exit_month(self) -> int | None:
        """Month the last programme ended (or, without one, its planned end)."""
        if not self.p.programme:
            return planned_months(self.p)
        ends = [s.cycle.exit_month for s in self.sites]
        return None if None in ends else max(ends)  # type: ignore[type-var]

    def _record(self) -> None:
        if len(self.sites) == 1:
            self.stats = monthly_stats(self)
        else:
            per_site, self.stats = city_stats(self)
            self._site_records.append(np.array([_SITE_ROW(r) for r in per_site]))
        self.table.add(self.stats)  # also the datacollector's table (when asked)
        if self.record_households:
            for col in SNAPSHOT_COLUMNS:
                self.snapshots[col].append(getattr(self.households, col).copy())

    # --- results -------------------------------------------------------------------
    def records(self) -> pd.DataFrame:
        """Return the tidy monthly table: a row per month (0 = before the programme).

        With several kelurahan these are the city's records (see :func:`monthly_stats`).
        """
        df = self.table.frame()
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
        column. Without the programme no phase starts: the table has its columns and no
        rows.
        """
        columns = [f.name for f in fields(PhaseRecord)]
        if len(self.sites) == 1:
            rows = [r.as_dict() for r in self.sites[0].cycle.records]
            return pd.DataFrame(rows, columns=columns)
        return pd.DataFrame(
            [
                {"kelurahan": s.index, **r.as_dict()}
                for s in self.sites
                for r in s.cycle.records
            ],
            columns=["kelurahan", *columns],
        )


def planned_months(p: Any) -> int:
    """Months the cycle takes on the guideline's timetable (at ``timetable_pace``)."""
    return sum(max(1, round(ph.months * p.timetable_pace)) for ph in PHASES)


class Streams(NamedTuple):
    """The run's independent random streams, spawned from the model's seeded generator.

    Separate streams keep what does not depend on the programme the same whatever the
    programme does: the same seed builds the same kelurahan and draws the same welfare
    shocks with or without P2KP, under any lever, so paired runs differ only by what the
    programme changed (common random numbers). Institutions draw from the model's own
    ``rng``.

    Attributes:
        population: Building the households and their ties.
        shocks: Monthly welfare shocks.
        households: The households' monthly behavioural draws.
    """

    population: np.random.Generator
    shocks: np.random.Generator
    households: np.random.Generator

    @classmethod
    def spawn(cls, rng: np.random.Generator) -> Streams:
        """Spawn the streams from ``rng`` (the same seed gives the same streams)."""
        return cls(*rng.spawn(len(cls._fields)))


def faskel_teams(n_kelurahan: int, per_team: int) -> list[list[int]]:
    """Split kelurahan into faskel teams of about ``per_team`` neighbouring kelurahan.

    The number of teams is ``ceil(n_kelurahan / per_team)``; sizes differ by at most one
    (57 kelurahan in teams of up to 9: seven teams of 8 or 9).

    Returns:
        The kelurahan indices of each team.
    """
    n_teams = -(-n_kelurahan // per_team)
    return [chunk.tolist() for chunk in np.array_split(np.arange(n_kelurahan), n_teams)]


def model_scenario(
    scenario: P2KPScenario | str | Path | None, rng: Any, params: dict[str, Any]
) -> P2KPScenario:
    """The scenario a model is built from: ``P2KPModel``'s arguments, checked.

    Args:
        scenario: A scenario, a shipped scenario's name or TOML file, or ``None`` (the
            schema defaults).
        rng: Another seed, or ``None`` to keep the scenario's.
        params: Parameter values replacing the scenario's; ``seed`` is taken as the
            seed (Mesa's older name for ``rng``).

    Returns:
        The scenario itself when nothing replaces its values or seed.

    Raises:
        ScenarioError: One line naming the parameter (or seed) and what is allowed.
    """
    if "seed" in params:
        params = dict(params)
        seed = params.pop("seed")
        if rng is not None:
            raise ScenarioError("P2KPModel: give rng or seed, not both")
        rng = seed
    if scenario is None:
        scenario = P2KPScenario()
    elif not isinstance(scenario, P2KPScenario):
        if isinstance(scenario, Scenario):
            raise ScenarioError(
                "P2KPModel: scenario must be a P2KPScenario, a shipped scenario's "
                f"name or a TOML file (got a {type(scenario).__name__})"
            )
        scenario = P2KPScenario.load(scenario)
    if not params and rng is None:
        return scenario
    return scenario.updated(params, rng=rng, source="P2KPModel")


def headline_collector(table: MonthlyTable) -> HeadlineCollector:
    """Mesa's ``DataCollector`` of a model: the headline records and the whole table.

    A model reporter per headline record (:data:`~berdaya.model.registry.HEADLINE`),
    read from the month's records (``model.stats``) rather than computed again, and
    every record as the table ``monthly``, a row a month, read from the model's own
    table (``model.table``) when asked for.

    Args:
        table: The model's monthly records; its columns are the table's.

    Returns:
        The collector, empty.
    """
    return HeadlineCollector(
        model_reporters={name: partial(record_value, name=name) for name in HEADLINE},
        tables={MONTHLY_TABLE: list(table.names)},
        monthly=table,
    )


class HeadlineCollector(DataCollector):
    """Mesa's ``DataCollector``, fed from the records the model keeps anyway.

    The same reports and tables as Mesa's own, at less cost a month: once Mesa has
    checked the reporters (the first ``collect``), a month's headline values are
    appended from ``model.stats`` directly (Mesa's ``collect`` calls each reporter and
    deep-copies its float), and the ``monthly`` table is not written row by row: its
    columns are filled from the model's :class:`MonthlyTable` whenever ``tables`` is
    read (``get_table_dataframe``, ``add_table_row``), with the rows kept since.

    Attributes:
        monthly: The model's monthly records, the source of the ``monthly`` table.
    """

    def __init__(self, *args: Any, monthly: MonthlyTable, **kwargs: Any) -> None:
        """Create the collector (Mesa's arguments) over the model's monthly records."""
        self.monthly = monthly
        self._synced = 0  # rows of ``monthly`` copied into the table so far
        super().__init__(*args, **kwargs)

    @property
    def tables(self) -> dict[str, dict[str, list[Any]]]:
        """Mesa's tables, the ``monthly`` one brought up to date with the model's."""
        tables = self._tables
        monthly = tables.get(MONTHLY_TABLE)
        rows = self.monthly.rows
        if monthly is not None and rows > self._synced:
            new = self.monthly.values[self._synced : rows]
            for j, name in enumerate(self.monthly.names):
                monthly[name].extend(new[:, j].tolist())
            self._synced = rows
        return tables

    @tables.setter
    def tables(self, value: dict[str, dict[str, list[Any]]]) -> None:
        self._tables = value

    def collect(self, model: Model) -> None:
        """Collect this month's headline records (Mesa's ``collect`` the first time)."""
        if not self._validated or self.agent_reporters or self.agenttype_reporters:
            super().collect(model)
            return
        self._collection_steps.append(model.time)
        stats = model.stats  # type: ignore[attr-defined]
        for name, values in self.model_vars.items():
            values.append(stats[name])


def record_value(model: P2KPModel, name: str) -> float:
    """This month's value of one record of a model (a model reporter)."""
    return model.stats[name]

"""Households: real Mesa agents whose state lives in the model's columnar table.

Every household is a :class:`Household` agent (selectable in ``model.agents``, drawable by the
app), but its state is one row of :class:`HouseholdTable`, a struct of numpy arrays owned by
the model. The agent's attributes are properties over its row, so ``household.stage`` reads
and writes the table. The monthly rules (:func:`step_households`) run as one pass over the
table compiled with numba: each household's rules run back to back on its row, with no
Python per household and no temporary arrays; neighbour effects read tie counts kept
between months. There is no per-household Python loop in the monthly step.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from mesa import Agent
from numba import njit

if TYPE_CHECKING:
    from berdaya.model.model import P2KPModel
    from berdaya.model.site import Site


class Stage(IntEnum):
    """Household empowerment stage (Wrihatnolo & Dwidjowijoto 2007)."""

    POWERLESS = 0
    PENYADARAN = 1
    PENGKAPASITASAN = 2
    PENDAYAAN = 3


class Elite(IntEnum):
    """Elite class of a household (Alatas et al.; Darmawan & Klasen)."""

    ORDINARY = 0
    INFORMAL = 1
    FORMAL = 2


# name -> dtype: one array per state variable, one row per household.
COLUMNS: dict[str, Any] = {
    # fixed at build
    "site": np.int32,  # which kelurahan of the model (0 when there is one)
    "rt": np.int32,  # RT within its kelurahan
    "rw": np.int32,  # RW within its kelurahan
    "elite": np.int8,
    "woman": np.bool_,
    "threshold": np.float32,
    "awareness0": np.float32,
    "capacity0": np.float32,
    # changing
    "welfare": np.float32,
    "welfare_base": np.float32,
    "shock": np.float32,
    "stage": np.int8,
    "forced": np.bool_,
    "awareness": np.float32,
    "capacity": np.float32,
    "agency": np.float32,
    "participating": np.bool_,
    "months_participating": np.int16,
    "heard": np.bool_,
    "trust_bkm": np.float32,
    "trust_gov": np.float32,
    "relawan": np.bool_,
    "delegate": np.bool_,
    "bkm_member": np.bool_,
    "on_ps2": np.bool_,
    "ksm": np.int32,
    "ksm_intent": np.int8,
    # loans, in whole rupiah
    "loan_size": np.int64,
    "loan_balance": np.int64,
    "arrears": np.int64,
    "loan_months_left": np.int16,
    "months_overdue": np.int16,
    "loan_cycles": np.int16,
    "clean_cycle": np.bool_,
    "graduated": np.bool_,
    "defaulted": np.bool_,
    "business_failed": np.bool_,
    # this month's exposure, written by the institutions before the household pass
    "meetings": np.float32,
    "dialogue": np.float32,
    "mobilised": np.bool_,
    "handover": np.bool_,
    "transfer": np.float32,
}


class HouseholdTable:
    """Struct of arrays holding the state of every household, one row each.

    A table can be a *view* of consecutive rows of another (:meth:`view`): its columns are
    numpy views, so writing into them writes the parent's rows. Columns are therefore
    written in place (``h.stage[rows] = ...``, ``h.capacity += ...``); rebinding a column
    to a new array raises, since views would silently lose the link.

    Attributes:
        n: Number of households.
        poverty_line: Welfare below which a household is poor.
    """

    def __init__(self, n: int) -> None:
        """Allocate zeroed columns for ``n`` households.

        Args:
            n: Number of households.
        """
        self.n = n
        self.poverty_line = 1.0
        for name, dtype in COLUMNS.items():
            object.__setattr__(self, name, np.zeros(n, dtype=dtype))
        self.ksm[:] = -1
        self.ksm_intent[:] = -1

    def __setattr__(self, name: str, value: Any) -> None:
        """Refuse to rebind a column (in-place updates such as ``h.x += 1`` are fine)."""
        if name in COLUMNS and value is not self.__dict__.get(name, value):
            raise AttributeError(
                f"column {name!r} is written in place (h.{name}[:] = ...), not rebound"
            )
        object.__setattr__(self, name, value)

    def view(self, start: int, stop: int) -> HouseholdTable:
        """Return a table over rows ``start:stop`` sharing this table's memory."""
        out = object.__new__(HouseholdTable)
        object.__setattr__(out, "n", stop - start)
        object.__setattr__(out, "poverty_line", self.poverty_line)
        for name in COLUMNS:
            object.__setattr__(out, name, getattr(self, name)[start:stop])
        return out

    @classmethod
    def concatenate(cls, tables: list[HouseholdTable]) -> HouseholdTable:
        """Stack tables row-wise into one new table (copies)."""
        out = object.__new__(cls)
        object.__setattr__(out, "n", sum(t.n for t in tables))
        object.__setattr__(out, "poverty_line", tables[0].poverty_line)
        for name in COLUMNS:
            object.__setattr__(
                out, name, np.concatenate([getattr(t, name) for t in tables])
            )
        return out

    @property
    def poor(self) -> np.ndarray:
        """Boolean array: welfare below the poverty line."""
        return self.welfare < self.poverty_line


class _Column:
    """Descriptor exposing one table column as an agent attribute."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Household | None, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        value = getattr(obj.model.households, self.name)[obj.row]
        return value.item()

    def __set__(self, obj: Household, value: Any) -> None:
        getattr(obj.model.households, self.name)[obj.row] = value


class Household(Agent):
    """A household of the kelurahan: a Mesa agent viewing one row of the table.

    All state variables of :data:`COLUMNS` are readable and writable as attributes
    (``household.awareness``); they read and write the model's :class:`HouseholdTable`.

    Attributes:
        row: Index of this household in the table and node id in the social network.
    """

    site = _Column()
    rt = _Column()
    rw = _Column()
    elite = _Column()
    woman = _Column()
    threshold = _Column()
    welfare = _Column()
    stage = _Column()
    forced = _Column()
    awareness = _Column()
    capacity = _Column()
    agency = _Column()
    participating = _Column()
    heard = _Column()
    trust_bkm = _Column()
    trust_gov = _Column()
    relawan = _Column()
    delegate = _Column()
    bkm_member = _Column()
    on_ps2 = _Column()
    ksm = _Column()
    loan_size = _Column()
    loan_balance = _Column()
    arrears = _Column()
    loan_cycles = _Column()
    graduated = _Column()
    defaulted = _Column()

    def __init__(self, model: P2KPModel, row: int) -> None:
        """Create the agent for row ``row`` of the model's household table.

        Args:
            model: The model owning the table.
            row: Row index (and network node id).
        """
        super().__init__(model)
        self.row = row

    @property
    def poor(self) -> bool:
        """Whether the household's welfare is below the poverty line."""
        return bool(self.welfare < self.model.households.poverty_line)

    @property
    def stage_name(self) -> str:
        """Name of the current empowerment stage."""
        return Stage(self.stage).name.lower()

    def step(self) -> None:
        """Do nothing: household rules run vectorised in :func:`step_households`."""


def hand_over_roles(site: Site, rows: np.ndarray) -> np.ndarray:
    """Give a project role (works committee, aid delivery) to KSM members.

    Under ``schedule`` the role goes to every member: the timetable needs the work done.
    Under ``readiness`` and ``hybrid`` only members who went through pengkapasitasan and
    reached ``capacity_threshold`` take it (power in line with capacity); the others take
    part without the authority. A role is a hand-over: next month it moves the household to
    pendayaan, forced if its capacity was not there.

    Args:
        site: The kelurahan.
        rows: Rows of its households offered the role.

    Returns:
        The rows that took it.
    """
    h = site.households
    if site.p.progression != "schedule":
        rows = rows[
            (h.capacity[rows] >= site.p.capacity_threshold)
            & (h.stage[rows] >= Stage.PENGKAPASITASAN)
        ]
    h.handover[rows] = True
    return rows


class Rates(NamedTuple):
    """The scenario's household rates as float32, the form the monthly kernel takes.

    Built once per model from its parameters (:meth:`from_params`); every comparison and
    product in :func:`_household_month` is then in float32, as the table's columns are.
    """

    meeting_keep: np.float32
    faskel_awareness_gain: np.float32
    contagion_min_ties: np.float32
    contagion_rate: np.float32
    awareness_forgetting: np.float32
    awareness_threshold: np.float32
    awareness_regress: np.float32
    poor_threshold_premium: np.float32
    dropout_hazard: np.float32
    forced_multiplier: np.float32
    capacity_practice_gain: np.float32
    role_capacity_gain: np.float32
    capacity_decay: np.float32
    capacity_threshold: np.float32
    agency_gain: np.float32
    trust_adjustment: np.float32
    regression_hazard: np.float32
    poverty_line: np.float32

    @classmethod
    def from_params(cls, p: Any, poverty_line: float) -> Rates:
        """Take the rates from validated scenario parameters.

        Args:
            p: The scenario parameters.
            poverty_line: Welfare below which a household is poor (the table's).

        Returns:
            The rates, each a float32.
        """
        f32 = np.float32
        values = {
            name: f32(getattr(p, name))
            for name in cls._fields
            if name not in ("meeting_keep", "awareness_regress", "poverty_line")
        }
        return cls(
            **values,
            meeting_keep=f32(1.0 - p.meeting_awareness_gain),
            awareness_regress=f32(0.8 * p.awareness_threshold),
            poverty_line=f32(poverty_line),
        )


@njit(cache=True)
def _household_month(  # noqa: PLR0917 - numba takes the columns one by one
    r: Rates,
    indptr: np.ndarray,
    indices: np.ndarray,
    inv_degree: np.ndarray,
    tie_flags: np.ndarray,
    tie_counts: np.ndarray,
    site: np.ndarray,
    site_accompaniment: np.ndarray,
    site_formed: np.ndarray,
    site_legitimacy: np.ndarray,
    site_support: np.ndarray,
    exp_shock: np.ndarray,
    u_dropout: np.ndarray,
    u_stage: np.ndarray,
    threshold: np.ndarray,
    awareness0: np.ndarray,
    capacity0: np.ndarray,
    welfare: np.ndarray,
    welfare_base: np.ndarray,
    stage: np.ndarray,
    forced: np.ndarray,
    awareness: np.ndarray,
    capacity: np.ndarray,
    agency: np.ndarray,
    participating: np.ndarray,
    months_participating: np.ndarray,
    heard: np.ndarray,
    trust_bkm: np.ndarray,
    trust_gov: np.ndarray,
    relawan: np.ndarray,
    delegate: np.ndarray,
    bkm_member: np.ndarray,
    loan_balance: np.ndarray,
    meetings: np.ndarray,
    dialogue: np.ndarray,
    mobilised: np.ndarray,
    handover: np.ndarray,
    transfer: np.ndarray,
) -> None:
    """One month of every household rule, fused into two loops (see step_households)."""
    n = stage.size
    zero = np.float32(0.0)
    one = np.float32(1.0)
    # neighbours first, from last month's states: each household's aware and
    # participating ties, kept as one packed count (aware + participating << 16) and
    # updated only around the households whose flags (aware | participating << 1) changed
    # since the last pass
    for i in range(n):
        flag = np.int8(stage[i] >= 1) | (np.int8(participating[i]) << 1)
        last = tie_flags[i]
        if flag != last:
            tie_flags[i] = flag
            change = np.int32((flag & 1) - (last & 1))
            change += np.int32((flag >> 1) - (last >> 1)) << 16
            for k in range(indptr[i], indptr[i + 1]):
                tie_counts[indices[k]] += change
    one_site = site_formed.size == 1
    for i in range(n):
        s = 0 if one_site else site[i]
        # welfare: this month's shock (exp_shock), and aid as this month's transfer
        welfare[i] = welfare_base[i] * exp_shock[i] + transfer[i]
        poor = welfare[i] < r.poverty_line
        role = relawan[i] or delegate[i] or bkm_member[i]
        n_aware = np.float32(tie_counts[i] & 0xFFFF)
        n_part = np.float32(tie_counts[i] >> 16)
        share_aware = n_aware * inv_degree[i]
        share_part = n_part * inv_degree[i]
        # awareness: meetings, faskel dialogue, complex contagion, then forgetting
        gap = one - awareness[i]
        keep = r.meeting_keep ** meetings[i] if meetings[i] > 0 else one
        keep *= one - min(dialogue[i] * r.faskel_awareness_gain, one)
        if n_aware >= r.contagion_min_ties:
            keep *= one - r.contagion_rate * share_aware
        aw = one - gap * keep
        aw -= r.awareness_forgetting * max(aw - awareness0[i], zero)
        awareness[i] = aw
        # participation: Granovetter threshold with hysteresis, dropout
        if meetings[i] > 0 or dialogue[i] > 0 or n_part > 0:
            heard[i] = True
        effective = threshold[i]
        if poor:
            effective += r.poor_threshold_premium
        effective += max(r.awareness_threshold - aw, zero)
        effective -= np.float32(0.2) * trust_bkm[i]
        if mobilised[i]:
            effective -= np.float32(0.2)
        was = participating[i]
        hazard = r.dropout_hazard * (r.forced_multiplier if forced[i] else one)
        if was:
            now = share_part >= effective - np.float32(0.15)
            now = now and (u_dropout[i] >= hazard or role)
        else:
            now = heard[i] and share_part >= effective
        participating[i] = now
        months_participating[i] = months_participating[i] + 1 if now else 0
        # capacity: practice, roles and the board's accompaniment; decay when idle
        gain = zero
        if now:
            gain += r.capacity_practice_gain
        if role:
            gain += r.role_capacity_gain
        if bkm_member[i]:
            gain += site_accompaniment[s]
        cap = capacity[i]
        cap += min(gain, one) * (one - cap)
        if not (now or role or loan_balance[i] > 0):
            cap -= r.capacity_decay * max(cap - capacity0[i], zero)
        capacity[i] = cap
        # agency: voice in meetings, dialogue and roles
        voice = min(dialogue[i] + np.float32(0.5) * meetings[i], one)
        if role:
            voice += one
        agency[i] += r.agency_gain * min(voice, one) * (one - agency[i])
        # trust: in the board, towards its legitimacy while taking part; in government
        if now and site_formed[s]:
            trust_bkm[i] += r.trust_adjustment * (site_legitimacy[s] - trust_bkm[i])
        trust_gov[i] += (
            r.trust_adjustment * (site_support[s] - trust_gov[i]) * np.float32(0.5)
        )
        # stages: one promotion or regression a month; hand-over wins over all
        st = stage[i]
        u = u_stage[i]
        new = st
        if st == 0:
            if aw >= r.awareness_threshold:
                new = 1
        elif st == 1:
            if aw < r.awareness_regress and u < r.regression_hazard:
                new = 0
            elif now and months_participating[i] >= 2:
                new = 2
        elif st == 2:
            if not now and u < r.regression_hazard:
                new = 1
        elif cap < r.capacity_threshold and u < r.regression_hazard * (
            r.forced_multiplier if forced[i] else one
        ):
            new = 2 if now else 1
        if handover[i] and st < 3:
            # pendayaan, forced unless pengkapasitasan gave the capacity
            new = 3
            forced[i] = not (st == 2 and cap >= r.capacity_threshold)
        forced[i] = forced[i] and new == 3
        stage[i] = new
        # this month's exposure is consumed
        meetings[i] = zero
        dialogue[i] = zero
        mobilised[i] = False
        handover[i] = False
        transfer[i] = zero


def step_households(model: P2KPModel) -> None:
    """Apply one month of household rules to the whole table at once.

    Order: welfare (shock, transfers); awareness (meetings, faskel dialogue, complex
    contagion, forgetting); participation (Granovetter threshold with hysteresis,
    dropout); capacity (practice, roles, decay); agency; trust; stage transitions
    (promotion, hand-over, regression). The institutions have already written this
    month's exposure columns (meetings, dialogue, mobilisation, hand-overs); they are
    consumed here and cleared at the end. Neighbour counts are taken from last month's
    states of everyone before any household changes (a synchronous update).

    The pass is one compiled loop over the table (numba), so each household's rules run
    back to back on its own row with no temporaries; the random numbers are drawn first,
    from the model's generator, in a fixed order. In a model of several kelurahan it runs
    over all of them at once; what differs by kelurahan (its board's accompaniment and
    legitimacy, its government's support) is read through the ``site`` column.

    Args:
        model: The model whose household table is updated in place.
    """
    p = model.p
    h = model.households
    rng = model.rng
    n = h.n
    f32 = np.float32
    sites = model.sites
    # log-welfare shocks fade at 0.2 a month (numpy's vectorised exp is the fast one)
    normal = rng.standard_normal(n, dtype=f32)
    u_dropout = rng.random(n, dtype=f32)
    u_stage = rng.random(n, dtype=f32)
    h.shock *= f32(0.8)
    normal *= f32(p.welfare_shock_sd)
    h.shock += normal
    exp_shock = np.exp(h.shock)
    accompaniment = np.array(
        [p.accompaniment_gain * s.bkm.accompaniment for s in sites], dtype=f32
    )
    formed = np.array([s.bkm.formed for s in sites], dtype=np.bool_)
    legitimacy = np.array([s.bkm.legitimacy for s in sites], dtype=f32)
    support = np.array([s.kelurahan.support for s in sites], dtype=f32)
    a = model.adjacency
    _household_month(
        model.rates,
        a.indptr,
        a.indices,
        model.inv_degree,
        model.tie_flags,
        model.tie_counts,
        h.site,
        accompaniment,
        formed,
        legitimacy,
        support,
        exp_shock,
        u_dropout,
        u_stage,
        h.threshold,
        h.awareness0,
        h.capacity0,
        h.welfare,
        h.welfare_base,
        h.stage,
        h.forced,
        h.awareness,
        h.capacity,
        h.agency,
        h.participating,
        h.months_participating,
        h.heard,
        h.trust_bkm,
        h.trust_gov,
        h.relawan,
        h.delegate,
        h.bkm_member,
        h.loan_balance,
        h.meetings,
        h.dialogue,
        h.mobilised,
        h.handover,
        h.transfer,
    )

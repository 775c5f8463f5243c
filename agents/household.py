"""Households: real Mesa agents whose state lives in the model's columnar table.

Every household is a :class:`Household` agent (selectable in ``model.agents``, drawable by the
app), but its state is one row of :class:`HouseholdTable`, a struct of numpy arrays owned by
the model. The agent's attributes are properties over its row, so ``household.stage`` reads
and writes the table. The monthly rules (:func:`step_households`) run as one vectorised pass
over the table; neighbour effects go through the sparse adjacency matrices built once from
the ``networkx`` graph. There is no per-household Python loop in the monthly step.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np
from mesa import Agent

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

    @property
    def has_loan(self) -> np.ndarray:
        """Boolean array: a loan balance outstanding."""
        return self.loan_balance > 0

    @property
    def has_role(self) -> np.ndarray:
        """Boolean array: relawan, RT delegate or BKM member."""
        return self.relawan | self.delegate | self.bkm_member

    def reset_exposure(self) -> None:
        """Clear this month's exposure columns."""
        self.meetings[:] = 0.0
        self.dialogue[:] = 0.0
        self.mobilised[:] = False
        self.handover[:] = False
        self.transfer[:] = 0.0


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


def step_households(model: P2KPModel) -> None:
    """Apply one month of household rules to the whole table at once.

    Order: welfare (shock, transfers); awareness (meetings, faskel dialogue, complex
    contagion, forgetting); participation (Granovetter threshold with hysteresis,
    dropout); capacity (practice, roles, decay); agency; trust; stage transitions
    (promotion, hand-over, regression). The institutions have already written this
    month's exposure columns (meetings, dialogue, mobilisation, hand-overs); they are
    consumed here and cleared at the end. In a model of several kelurahan the pass runs
    over all of them at once; what differs by kelurahan (its board's accompaniment and
    legitimacy, its government's support) is spread to the rows with
    :meth:`~berdaya.model.model.P2KPModel.per_household`.

    Args:
        model: The model whose household table is updated in place.
    """
    p = model.p
    h = model.households
    rng = model.rng
    n = h.n
    f32 = np.float32
    sites = model.sites

    # --- welfare -----------------------------------------------------------------
    # log-welfare shocks fade at 0.2 a month; social aid is this month's transfer
    h.shock[:] = f32(0.8) * h.shock + f32(p.welfare_shock_sd) * rng.standard_normal(
        n, dtype=f32
    )
    h.welfare[:] = h.welfare_base * np.exp(h.shock) + h.transfer

    # --- neighbours: aware and participating ties, in one sparse product --------------
    # Both counts travel in one vector: aware + base * participating, base above any
    # degree, so the tie sums (exact in float32) split back into the two counts.
    base = f32(model.tie_base)
    packed = (h.stage >= Stage.PENYADARAN).astype(f32)
    packed += base * h.participating
    sums = model.adjacency @ packed
    n_part = np.floor(sums / base)
    n_aware = sums - base * n_part
    share_aware = n_aware * model.inv_degree
    share_part = n_part * model.inv_degree

    # --- awareness ---------------------------------------------------------------
    gap = 1.0 - h.awareness
    keep = np.power(f32(1.0 - p.meeting_awareness_gain), h.meetings, dtype=f32)
    keep *= 1.0 - np.minimum(h.dialogue * f32(p.faskel_awareness_gain), f32(1.0))
    contagion = np.where(
        n_aware >= p.contagion_min_ties, f32(p.contagion_rate) * share_aware, f32(0.0)
    )
    keep *= 1.0 - contagion
    h.awareness[:] = 1.0 - gap * keep
    excess = np.maximum(h.awareness - h.awareness0, f32(0.0))
    h.awareness -= f32(p.awareness_forgetting) * excess

    # --- participation -----------------------------------------------------------
    poor = h.poor
    has_role = h.has_role
    hears = h.meetings > 0
    hears |= h.dialogue > 0
    hears |= n_part > 0
    h.heard |= hears
    effective = (
        h.threshold
        + f32(p.poor_threshold_premium) * poor
        + np.maximum(f32(p.awareness_threshold) - h.awareness, f32(0.0))
        - f32(0.2) * h.trust_bkm
        - f32(0.2) * h.mobilised
    )
    joins = h.heard & ~h.participating & (share_part >= effective)
    stays = h.participating & (share_part >= effective - f32(0.15))
    hazard = f32(p.dropout_hazard) * np.where(
        h.forced, f32(p.forced_multiplier), f32(1)
    )
    stays &= (rng.random(n, dtype=f32) >= hazard) | has_role
    np.logical_or(joins, stays, out=h.participating)
    h.months_participating[:] = np.where(h.participating, h.months_participating + 1, 0)

    # --- capacity ----------------------------------------------------------------
    practising = h.participating | has_role | h.has_loan
    accompaniment = model.per_household(
        [p.accompaniment_gain * s.bkm.accompaniment for s in sites]
    )
    accompanied = accompaniment * h.bkm_member
    gain = (
        f32(p.capacity_practice_gain) * h.participating
        + f32(p.role_capacity_gain) * has_role
        + accompanied
    )
    h.capacity += np.minimum(gain, f32(1.0)) * (1.0 - h.capacity)
    above = np.maximum(h.capacity - h.capacity0, f32(0.0))
    h.capacity -= np.where(practising, f32(0.0), f32(p.capacity_decay)) * above

    # --- agency ------------------------------------------------------------------
    voice = np.minimum(h.dialogue + f32(0.5) * h.meetings, f32(1.0)) + has_role
    h.agency += f32(p.agency_gain) * np.minimum(voice, f32(1.0)) * (1.0 - h.agency)

    # --- trust -------------------------------------------------------------------
    rate = f32(p.trust_adjustment)
    if len(sites) == 1:
        if sites[0].bkm.formed:
            target = f32(sites[0].bkm.legitimacy)
            h.trust_bkm += rate * h.participating * (target - h.trust_bkm)
    elif any(s.bkm.formed for s in sites):
        formed = model.per_household([s.bkm.formed for s in sites], np.bool_)
        target = model.per_household([s.bkm.legitimacy for s in sites])
        h.trust_bkm += rate * (h.participating & formed) * (target - h.trust_bkm)
    support = model.per_household([s.kelurahan.support for s in sites])
    h.trust_gov += rate * (support - h.trust_gov) * f32(0.5)

    # --- stages ------------------------------------------------------------------
    stage = h.stage
    u = rng.random(n, dtype=f32)
    reg = f32(p.regression_hazard)
    # promotion, one stage a month
    up1 = (stage == Stage.POWERLESS) & (h.awareness >= p.awareness_threshold)
    up2 = (stage == Stage.PENYADARAN) & h.participating & (h.months_participating >= 2)
    # hand-over of authority or resources: pendayaan, forced unless the household went
    # through pengkapasitasan and has the capacity (power in line with capacity gained)
    handed = h.handover & (stage < Stage.PENDAYAAN)
    ready = (stage == Stage.PENGKAPASITASAN) & (h.capacity >= p.capacity_threshold)
    # regression when the stage's basis is gone
    weak3 = (stage == Stage.PENDAYAAN) & (h.capacity < p.capacity_threshold)
    down3 = weak3 & (u < reg * np.where(h.forced, f32(p.forced_multiplier), f32(1)))
    down2 = (stage == Stage.PENGKAPASITASAN) & ~h.participating & (u < reg)
    down1 = (
        (stage == Stage.PENYADARAN)
        & (h.awareness < f32(0.8 * p.awareness_threshold))
        & (u < reg)
    )
    # each household is in one stage, so one promotion or regression applies (regression
    # wins over promotion from penyadaran); from pendayaan a household regresses to
    # pengkapasitasan if still taking part, else to penyadaran; hand-over wins over all
    i8 = np.int8
    new = stage.copy()
    new += up1.view(i8)
    new += (up2 & ~down1).view(i8)
    new -= down1.view(i8)
    new -= down2.view(i8)
    new -= down3.view(i8) * (i8(2) - h.participating.view(i8))
    np.maximum(new, i8(Stage.PENDAYAAN) * handed.view(i8), out=new)
    np.copyto(h.forced, ~ready, where=handed)
    h.forced &= new == Stage.PENDAYAAN
    h.stage[:] = new
    h.reset_exposure()

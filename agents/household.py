"""Households: real Mesa agents whose state lives in the model's columnar table.

Every household is a :class:`Household` agent (selectable in ``model.agents``, drawable by the
app; the model makes the agents the first time they are asked for), but its state is one row
of :class:`Households`, a struct of numpy arrays owned by the model. The agent's attributes are properties over its row, so ``household.stage`` reads and
writes the table. The households' monthly rules are the table's own :meth:`Households.step`,
compiled with numba (:func:`_household_month`): rule by rule, each a pass over every row that
reads only the household's own row (so the order is a household's own), with no Python per
household; neighbour effects read tie counts kept between months. There is no
per-household Python loop in the monthly step.

Welfare is in poverty lines (1 = the household's monthly poverty line). It is the household's
own earnings, ``exp(permanent + transitory)`` with a stationary AR(1) transitory part (so
poverty churns around a steady headcount without the programme), plus what the programme
brings: the lasting benefit of works in its catchment, its own business capital's profit,
and this month's cash flows (aid in, a loan's profit in, interest and instalments out).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, NamedTuple, SupportsIndex

import numpy as np
from mesa import Agent
from numba import njit

from berdaya.agents.draws import pointers, standard_normals
from berdaya.agents.kernels import Kernel

if TYPE_CHECKING:
    from numba.core.registry import CPUDispatcher

    from berdaya.model.model import P2KPModel


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


@dataclass(frozen=True)
class HouseholdRules:
    """Constants of the household rules (not scenario parameters; ODD section 8).

    Attributes:
        welfare_floor: Lowest welfare, in poverty lines: subsistence (assumption).
        trust_threshold_cut: Participation threshold lowered per unit of trust in the BKM
            (assumption).
        mobilised_threshold_cut: Participation threshold lowered for a household the
            faskel mobilised this month (assumption).
        hysteresis: A participant stays while its pull is at most this far below its
            threshold (assumption).
        promotion_months: Consecutive months of participation before pengkapasitasan
            (assumption).
        awareness_regress: Awareness, as a share of ``awareness_threshold``, below which
            penyadaran can fall back to powerless (assumption).
        meeting_voice: Weight of one meeting attended in the month's voice, beside the
            faskel's dialogue, for agency (assumption).
        trust_gov_rate: Speed of trust in government, as a share of
            ``trust_adjustment`` (assumption).
    """

    welfare_floor: float = 0.05
    trust_threshold_cut: float = 0.2
    mobilised_threshold_cut: float = 0.2
    hysteresis: float = 0.15
    promotion_months: int = 2
    awareness_regress: float = 0.8
    meeting_voice: float = 0.5
    trust_gov_rate: float = 0.5


HOUSEHOLD = HouseholdRules()

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
    "welfare_perm": np.float32,  # permanent part of log welfare
    "business_owner": np.bool_,  # ran a small business before the programme
    "business_skill": np.float32,  # the return factor it knows it has (mean 1)
    "favour": np.float32,  # closeness to the board: a captured board bends rules first for the closest
    "initially_poor": np.bool_,  # poor in month 0 (the outcomes' reference group)
    # changing
    "welfare": np.float32,  # this month's welfare, in poverty lines
    "welfare_trans": np.float32,  # transitory part of log welfare (stationary AR(1))
    "works_benefit": np.float32,  # lasting benefit of works in its catchment (lines/month)
    "own_capital": np.float32,  # business capital the household owns (rupiah)
    "business_return": np.float32,  # monthly profit per rupiah of its business capital
    "aid_amount": np.float32,  # social aid a month while it lasts (poverty lines)
    "aid_left": np.int16,  # months of aid still to come
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
    "ksm_waiting": np.bool_,  # wants to join an economic KSM, waiting for a group
    # benefits ever received (for beneficiary rates by group)
    "got_loan": np.bool_,
    "got_works": np.bool_,
    "got_aid": np.bool_,
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
    "transfer": np.float32,  # this month's programme cash flow (poverty lines, signed)
}


class HouseholdTable:
    """Struct of arrays holding the state of every household, one row each.

    A table can be a *view* of consecutive rows of another (:meth:`view`): its columns are
    numpy views, so writing into them writes the parent's rows. Columns are therefore
    written in place (``h.stage[rows] = ...``, ``h.capacity += ...``); rebinding a column
    to a new array raises, since views would silently lose the link.

    Attributes:
        n: Number of households.
        poverty_line: Welfare below which a household is poor (1: welfare is in lines).
    """

    poverty_line = 1.0

    def __init__(self, n: int) -> None:
        """Allocate zeroed columns for ``n`` households.

        Args:
            n: Number of households.
        """
        self.n = n
        for name, dtype in COLUMNS.items():
            object.__setattr__(self, name, np.zeros(n, dtype=dtype))
        self.ksm[:] = -1

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
        object.__setattr__(out, "_view_of", (self, start, stop))
        for name in COLUMNS:
            object.__setattr__(out, name, getattr(self, name)[start:stop])
        return out

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        """Pickle a view as a view of its (pickled) table, not as copies of its rows.

        numpy pickles a view's data as an array of its own, so an unpickled kelurahan
        would write into rows the model's table no longer reads.
        """
        parent = self.__dict__.get("_view_of")
        if parent is None:
            return super().__reduce_ex__(protocol)
        return (_view_of, parent)

    @classmethod
    def concatenate(cls, tables: list[HouseholdTable]) -> HouseholdTable:
        """Stack tables row-wise into one new table (copies)."""
        out = object.__new__(cls)
        object.__setattr__(out, "n", sum(t.n for t in tables))
        for name in COLUMNS:
            object.__setattr__(
                out, name, np.concatenate([getattr(t, name) for t in tables])
            )
        return out

    @property
    def poor(self) -> np.ndarray:
        """Boolean array: welfare below the poverty line."""
        return self.welfare < self.poverty_line

    def columns(self) -> Columns:
        """The columns the monthly pass reads and writes, as one named tuple."""
        return self.as_tuple(Columns)

    def as_tuple[T: tuple](self, kind: type[T]) -> T:
        """The columns named by the fields of the named tuple ``kind``, made once.

        Columns are never rebound (:meth:`__setattr__`), so a table's tuple of them
        stays valid; the compiled passes take one every month.
        """
        try:  # the kept one: a dictionary look-up, 50 ns sooner than setdefault's
            return self.__dict__["_tuples"][kind]
        except KeyError:
            made = self.__dict__.setdefault("_tuples", {})
            out = made[kind] = kind(*(getattr(self, name) for name in kind._fields))
            return out

    def kernel(self, dispatcher: CPUDispatcher) -> Kernel:
        """This table's :class:`~berdaya.agents.kernels.Kernel` of a compiled pass.

        Made once: a pass over a table takes the table's column tuples
        (:meth:`as_tuple`) and arguments of fixed types, so it is dispatched once.
        """
        try:  # the kept one (about 17 a month): 50 ns sooner than setdefault's
            return self.__dict__["_kernels"][dispatcher]
        except KeyError:
            made = self.__dict__.setdefault("_kernels", {})
            out = made[dispatcher] = Kernel(dispatcher)
            return out


def _view_of(table: HouseholdTable, start: int, stop: int) -> HouseholdTable:
    """Rows ``start:stop`` of ``table`` as a view (how a pickled view is rebuilt)."""
    return table.view(start, stop)


class Columns(NamedTuple):
    """The household columns :func:`_household_month` takes (views, not copies)."""

    site: np.ndarray
    threshold: np.ndarray
    awareness0: np.ndarray
    capacity0: np.ndarray
    welfare_perm: np.ndarray
    welfare: np.ndarray
    welfare_trans: np.ndarray
    works_benefit: np.ndarray
    own_capital: np.ndarray
    business_return: np.ndarray
    aid_amount: np.ndarray
    aid_left: np.ndarray
    stage: np.ndarray
    forced: np.ndarray
    awareness: np.ndarray
    capacity: np.ndarray
    agency: np.ndarray
    participating: np.ndarray
    months_participating: np.ndarray
    heard: np.ndarray
    trust_bkm: np.ndarray
    trust_gov: np.ndarray
    relawan: np.ndarray
    delegate: np.ndarray
    bkm_member: np.ndarray
    loan_balance: np.ndarray
    meetings: np.ndarray
    dialogue: np.ndarray
    mobilised: np.ndarray
    handover: np.ndarray
    transfer: np.ndarray


class Neighbours(NamedTuple):
    """The tie structure and the aware/participating/informed tie counts kept between months."""

    indptr: np.ndarray
    indices: np.ndarray
    inv_degree: np.ndarray
    flags: np.ndarray
    counts: np.ndarray


class SiteTerms(NamedTuple):
    """What differs by kelurahan this month, one value per kelurahan."""

    accompaniment: np.ndarray
    formed: np.ndarray
    legitimacy: np.ndarray
    support: np.ndarray


class Draws(NamedTuple):
    """This month's random numbers, one per household each."""

    # welfare shock (the shocks stream: the same with or without P2KP)
    normal: np.ndarray
    u_join: np.ndarray
    u_dropout: np.ndarray
    u_stage: np.ndarray


class Scratch(NamedTuple):
    """Arrays the household pass writes between its rules, one value per household."""

    values: np.ndarray  # float32: welfare's exponent, awareness's keep, then the drive
    role: np.ndarray  # bool: holds a role (relawan, delegate, board member)
    flags: np.ndarray  # int8: this month's tie flags


class Rates(NamedTuple):
    """The scenario's household rates as float32, the form the monthly kernel takes.

    Built once per model from its parameters (:meth:`from_params`); every comparison and
    product in :func:`_household_month` is then in float32, as the table's columns are.
    """

    meeting_keep: np.float32
    faskel_awareness_gain: np.float32
    info_pass_participant: np.float32
    info_pass_nonparticipant: np.float32
    endorsement_weight: np.float32
    contagion_min_ties: np.float32
    contagion_rate: np.float32
    awareness_forgetting: np.float32
    awareness_threshold: np.float32
    awareness_regress: np.float32
    poor_threshold_premium: np.float32
    participation_noise: np.float32
    dropout_hazard: np.float32
    forced_multiplier: np.float32
    capacity_practice_gain: np.float32
    role_capacity_gain: np.float32
    capacity_decay: np.float32
    capacity_threshold: np.float32
    agency_gain: np.float32
    trust_adjustment: np.float32
    regression_hazard: np.float32
    welfare_persistence: np.float32
    shock_scale: np.float32
    works_keep: np.float32
    capital_keep: np.float32
    poverty_line_rp: np.float32
    welfare_floor: np.float32
    trust_threshold_cut: np.float32
    mobilised_threshold_cut: np.float32
    hysteresis: np.float32
    promotion_months: np.float32
    meeting_voice: np.float32
    trust_gov_rate: np.float32

    @classmethod
    def from_params(cls, p: Any) -> Rates:
        """Take the rates from validated scenario parameters and :data:`HOUSEHOLD`.

        Args:
            p: The scenario parameters.

        Returns:
            The rates, each a float32.
        """
        f32 = np.float32
        derived = {
            "meeting_keep": 1.0 - p.meeting_awareness_gain,
            "awareness_regress": HOUSEHOLD.awareness_regress * p.awareness_threshold,
            # the transitory part keeps its stationary variance month after month
            "shock_scale": transitory_sd(p) * np.sqrt(1.0 - p.welfare_persistence**2),
            "works_keep": 1.0 - 1.0 / (12.0 * p.works_life_years),
            "capital_keep": 1.0 - p.business_depreciation,
        }
        # the household constants the kernel reads (HOUSEHOLD), as float32 too
        for name in (
            "welfare_floor",
            "trust_threshold_cut",
            "mobilised_threshold_cut",
            "hysteresis",
            "promotion_months",
            "meeting_voice",
            "trust_gov_rate",
        ):
            derived[name] = getattr(HOUSEHOLD, name)
        return cls(
            **{
                name: f32(derived[name] if name in derived else getattr(p, name))
                for name in cls._fields
            }
        )


def transitory_sd(p: Any) -> float:
    """Stationary sd of the transitory part of log welfare."""
    return float(p.welfare_inequality * np.sqrt(1.0 - p.welfare_permanent_share))


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
    (``household.awareness``); they read and write the model's :class:`Households`.

    Attributes:
        row: Index of this household in the table and node id in the social network.
    """

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
        return bool(self.welfare < HouseholdTable.poverty_line)

    @property
    def stage_name(self) -> str:
        """Name of the current empowerment stage."""
        return Stage(self.stage).name.lower()

    def step(self) -> None:
        """Do nothing: household rules run for all at once in :meth:`Households.step`."""


for _name in COLUMNS:
    setattr(Household, _name, _Column())
    Household.__dict__[_name].__set_name__(Household, _name)


class Households(HouseholdTable):
    """All households of the model: the table, and the monthly rules over it.

    The Mesa counterpart of an agent set whose ``step`` is one vectorised rule over its
    rows (as mesa-frames does): ``model.households.step()`` runs a month of every household
    rule. The :class:`Household` agents are views onto these rows.
    """

    def step(self, model: P2KPModel) -> None:
        """Apply one month of household rules to the whole table at once.

        Order: welfare (own earnings with this month's shock, works' benefit, own
        business, the programme's cash flows); awareness (meetings, faskel dialogue,
        complex contagion, forgetting); participation (a noisy Granovetter threshold with
        hysteresis, dropout); capacity (practice, roles, decay); agency; trust; stage
        transitions (promotion, hand-over, regression). The institutions have already
        written this month's exposure columns (meetings, dialogue, mobilisation,
        hand-overs, transfers); they are consumed here and cleared at the end. Neighbour
        counts are taken from last month's states of everyone before any household
        changes (a synchronous update). Each rule is one compiled pass over the table
        (:func:`_household_month`), a few arrays between them kept with the table.

        The random numbers are drawn first, in a fixed order: the welfare shocks from the
        model's ``shocks`` stream (the same whether or not the programme runs, so runs
        with and without it are paired month by month), the rest from its ``households``
        stream.

        Args:
            model: The model whose households these are.
        """
        n = self.n
        f32 = np.float32
        rng = model.streams.households
        draws = Draws(
            # numpy's numbers, compiled (rng.standard_normal(n, dtype=np.float32))
            normal=self.kernel(standard_normals).call(
                pointers(model.streams.shocks), n
            ),
            u_join=rng.random(n, dtype=f32),
            u_dropout=rng.random(n, dtype=f32),
            u_stage=rng.random(n, dtype=f32),
        )
        self.kernel(_household_month).call(
            model.rates,
            self.columns(),
            model.neighbours,
            self._terms(model),
            draws,
            self._scratch(),
        )

    def _scratch(self) -> Scratch:
        """The pass's :class:`Scratch`, made once (its arrays are rewritten each month)."""
        scratch = self.__dict__.get("_scratch_arrays")
        if scratch is None:
            n = self.n
            scratch = Scratch(
                np.empty(n, np.float32), np.empty(n, np.bool_), np.empty(n, np.int8)
            )
            self.__dict__["_scratch_arrays"] = scratch
        return scratch

    def _terms(self, model: P2KPModel) -> SiteTerms:
        """This month's :class:`SiteTerms`, written into arrays kept between months.

        Each value is cast to the array's type as ``np.array(values, dtype)`` cast it.
        """
        terms = self.__dict__.get("_site_terms")
        if terms is None:
            k, f32 = len(model.sites), np.float32
            terms = SiteTerms(
                np.zeros(k, f32),
                np.zeros(k, np.bool_),
                np.zeros(k, f32),
                np.zeros(k, f32),
            )
            self.__dict__["_site_terms"] = terms
        gain = model.p.accompaniment_gain
        for j, s in enumerate(model.sites):
            terms.accompaniment[j] = gain * s.bkm.accompaniment
            terms.formed[j] = s.bkm.formed
            terms.legitimacy[j] = s.bkm.legitimacy
            terms.support[j] = s.kelurahan.support
        return terms


@njit(cache=True)
def _count_ties(c: Columns, nb: Neighbours, new: np.ndarray) -> None:
    """Move the aware/participating/informed tie counts around households that changed.

    Each household's aware, participating and informed (heard) ties are kept as one
    packed count (aware + participating << 16 + heard << 32) and updated only around the
    households whose flags (aware | participating << 1 | heard << 2) changed since the
    last pass. This month's flags are made in one pass (``new``), then compared with the
    kept ones eight at a time; the few that changed move their ties' counts, in row
    order (whole-number additions: any order gives the same counts).
    """
    for i in range(new.size):
        new[i] = (
            np.int8(c.stage[i] >= 1)
            | (np.int8(c.participating[i]) << 1)
            | (np.int8(c.heard[i]) << 2)
        )
    whole = new.size // 8
    kept8, new8 = nb.flags[: 8 * whole].view(np.int64), new[: 8 * whole].view(np.int64)
    for j in range(whole):
        if kept8[j] != new8[j]:
            for i in range(8 * j, 8 * j + 8):
                _moved(nb, i, new[i])
    for i in range(8 * whole, new.size):
        _moved(nb, i, new[i])


@njit(cache=True, inline="always")
def _moved(nb: Neighbours, i: int, flag: np.int8) -> None:
    """Household ``i``'s flags are ``flag`` now: move its ties' counts if they changed."""
    last = nb.flags[i]
    if flag != last:
        nb.flags[i] = flag
        change = np.int64((flag & 1) - (last & 1))
        change += np.int64(((flag >> 1) & 1) - ((last >> 1) & 1)) << 16
        change += np.int64((flag >> 2) - (last >> 2)) << 32
        for k in range(nb.indptr[i], nb.indptr[i + 1]):
            nb.counts[nb.indices[k]] += change


@njit(cache=True)
def _welfare(r: Rates, c: Columns, normal: np.ndarray, e: np.ndarray) -> None:
    """This month's welfare of every household, in poverty lines (``e``: scratch).

    In three passes: the transitory part and the exponent, then the exponential (one
    call a household; numba's scalar ``exp``), then the works' benefit, the business,
    aid and the month's transfer. The first and last have no calls and no branches, so
    they run on vectors.
    """
    for i in range(e.size):
        x = r.welfare_persistence * c.welfare_trans[i] + r.shock_scale * normal[i]
        c.welfare_trans[i] = x
        e[i] = c.welfare_perm[i] + x
    for i in range(e.size):
        e[i] = np.exp(e[i])
    zero = np.float32(0.0)
    for i in range(e.size):
        works = c.works_benefit[i] * r.works_keep
        c.works_benefit[i] = works
        capital = c.own_capital[i]
        business = c.business_return[i] * capital / r.poverty_line_rp
        c.own_capital[i] = capital * r.capital_keep
        left = c.aid_left[i]
        aid = c.aid_amount[i] if left > 0 else zero
        c.aid_left[i] = left - 1 if left > 0 else left
        w = e[i] + works + business + aid
        w += c.transfer[i]
        c.welfare[i] = max(w, r.welfare_floor)


@njit(cache=True)
def _awareness(r: Rates, c: Columns, nb: Neighbours, keep: np.ndarray) -> None:
    """Awareness: meetings, faskel dialogue, complex contagion, then forgetting.

    What a household keeps of its unawareness is made in two passes: the meetings' power
    (a call, for the few that met), then dialogue and contagion, for all.
    """
    zero, one = np.float32(0.0), np.float32(1.0)
    keep[:] = one
    for i in range(keep.size):
        if c.meetings[i] > 0:
            keep[i] = r.meeting_keep ** c.meetings[i]
    for i in range(keep.size):
        k = keep[i] * (one - min(c.dialogue[i] * r.faskel_awareness_gain, one))
        n_aware = np.float32(nb.counts[i] & 0xFFFF)
        contagion = k * (one - r.contagion_rate * n_aware * nb.inv_degree[i])
        k = contagion if n_aware >= r.contagion_min_ties else k
        aw = one - (one - c.awareness[i]) * k
        aw -= r.awareness_forgetting * max(aw - c.awareness0[i], zero)
        c.awareness[i] = aw


@njit(cache=True)
def _told(r: Rates, n_part: np.float32, n_heard: np.float32, u: np.float32) -> bool:
    """Whether word of mouth tells a household that has not heard yet, this month.

    Each participating tie tells it with chance ``info_pass_participant``, each informed
    tie that does not take part with ``info_pass_nonparticipant`` (Banerjee et al. 2013).
    ``u`` is the household's dropout draw: only participants use that, and they have all
    heard, so it is free for those who have not (and the stream is the same whatever the
    rule). Called only for households that have not heard, with scalars and the small
    ``Rates``: a helper taking the ``Columns`` tuple is copied whole for every household
    when LLVM does not inline it (that once cost 5x the household pass).
    """
    one = np.float32(1.0)
    missed = (one - r.info_pass_participant) ** n_part
    missed *= (one - r.info_pass_nonparticipant) ** max(n_heard - n_part, 0)
    return u >= missed


@njit(cache=True)
def _stage(r: Rates, c: Columns, i: int, u: np.float32, now: bool) -> None:
    """One promotion or regression a month; a hand-over wins over all."""
    st = c.stage[i]
    aw = c.awareness[i]
    cap = c.capacity[i]
    new = st
    if st == 0:
        if aw >= r.awareness_threshold:
            new = 1
    elif st == 1:
        if aw < r.awareness_regress and u < r.regression_hazard:
            new = 0
        elif now and c.months_participating[i] >= r.promotion_months:
            new = 2
    elif st == 2:
        if not now and u < r.regression_hazard:
            new = 1
    elif cap < r.capacity_threshold and u < r.regression_hazard * (
        r.forced_multiplier if c.forced[i] else 1.0
    ):
        new = 2 if now else 1
    if c.handover[i] and st < 3:
        # pendayaan, forced unless pengkapasitasan gave the capacity
        new = 3
        c.forced[i] = not (st == 2 and cap >= r.capacity_threshold)
    c.forced[i] = c.forced[i] and new == 3
    c.stage[i] = new


@njit(cache=True)
def _drive(r: Rates, c: Columns, nb: Neighbours, drive: np.ndarray) -> None:
    """Each household's drive to take part: endorsement against its own threshold.

    Endorsement: the share of participating ties, weighted by ``endorsement_weight``,
    against the household's threshold (raised for the poor and the unaware, lowered by
    trust in the board and the faskel's mobilisation).
    """
    zero = np.float32(0.0)
    for i in range(drive.size):
        effective = c.threshold[i]
        if c.welfare[i] < 1.0:
            effective += r.poor_threshold_premium
        effective += max(r.awareness_threshold - c.awareness[i], zero)
        effective -= r.trust_threshold_cut * c.trust_bkm[i]
        if c.mobilised[i]:
            effective -= r.mobilised_threshold_cut
        n_part = np.float32((nb.counts[i] >> 16) & 0xFFFF)
        drive[i] = r.endorsement_weight * (n_part * nb.inv_degree[i]) - effective


@njit(cache=True)
def _participation(  # noqa: PLR0917 - a numba kernel takes its arguments by position
    r: Rates,
    c: Columns,
    nb: Neighbours,
    d: Draws,
    drive: np.ndarray,
    role: np.ndarray,
) -> None:
    """Information, then the decision to take part (a noisy threshold with hysteresis).

    Meetings and the faskel's dialogue inform whoever they reach, ties may tell
    (:func:`_told`). A participant stays while its drive holds above ``-hysteresis`` and
    it does not drop out (or while it holds a role); one who has heard joins with a
    logistic chance around its threshold.
    """
    one = np.float32(1.0)
    noise = max(r.participation_noise, np.float32(1e-4))
    for i in range(drive.size):
        heard = c.heard[i] or c.meetings[i] > 0 or c.dialogue[i] > 0
        if not heard:
            n_part = np.float32((nb.counts[i] >> 16) & 0xFFFF)
            n_heard = np.float32(nb.counts[i] >> 32)
            heard = _told(r, n_part, n_heard, d.u_dropout[i])
        if c.participating[i]:
            # float64, as the rule has always computed it (1.0 is a Python float)
            hazard = r.dropout_hazard * (r.forced_multiplier if c.forced[i] else 1.0)
            stays = drive[i] >= -r.hysteresis and d.u_dropout[i] >= hazard
            now = stays or role[i]
        elif heard:
            # a logistic response around the threshold: the chance of joining this month
            now = d.u_join[i] < one / (one + np.exp(-drive[i] / noise))
        else:
            now = False
        c.participating[i] = now
        c.heard[i] = heard or now
        c.months_participating[i] = c.months_participating[i] + 1 if now else 0


@njit(cache=True)
def _capacity(
    r: Rates, c: Columns, s: SiteTerms, one_site: bool, role: np.ndarray
) -> None:
    """Capacity: practice, roles and the board's accompaniment; decay when idle."""
    zero, one = np.float32(0.0), np.float32(1.0)
    for i in range(role.size):
        now = c.participating[i]
        gain = (r.capacity_practice_gain if now else zero) + (
            r.role_capacity_gain if role[i] else zero
        )
        if c.bkm_member[i]:
            gain += s.accompaniment[0 if one_site else c.site[i]]
        cap = c.capacity[i]
        cap += min(gain, one) * (one - cap)
        decay = r.capacity_decay * max(cap - c.capacity0[i], zero)
        idle = not (now or role[i] or c.loan_balance[i] > 0)
        c.capacity[i] = cap - decay if idle else cap


@njit(cache=True)
def _agency_and_trust(
    r: Rates, c: Columns, s: SiteTerms, one_site: bool, role: np.ndarray
) -> None:
    """Agency (voice in meetings, dialogue and roles) and trust.

    Trust in the board moves towards its legitimacy while the household takes part; in
    government, towards its support.
    """
    one = np.float32(1.0)
    for i in range(role.size):
        voice = min(c.dialogue[i] + r.meeting_voice * c.meetings[i], one)
        voice = voice + one if role[i] else voice
        agency = c.agency[i]
        c.agency[i] = agency + r.agency_gain * min(voice, one) * (one - agency)
    # one kelurahan's terms read once (a pass without gathers runs on vectors)
    formed, legitimacy, support = s.formed[0], s.legitimacy[0], s.support[0]
    for i in range(role.size):
        if not one_site:
            k = c.site[i]
            formed, legitimacy, support = s.formed[k], s.legitimacy[k], s.support[k]
        trust = c.trust_bkm[i]
        moved = trust + r.trust_adjustment * (legitimacy - trust)
        c.trust_bkm[i] = moved if c.participating[i] and formed else trust
        trust = c.trust_gov[i]
        c.trust_gov[i] = trust + (
            r.trust_adjustment * (support - trust) * r.trust_gov_rate
        )


@njit(cache=True)
def _household_month(  # noqa: PLR0917 - a numba kernel takes its arguments by position
    r: Rates, c: Columns, nb: Neighbours, s: SiteTerms, d: Draws, w: Scratch
) -> None:
    """One month of every household rule (see :meth:`Households.step`).

    Rule by rule, each a compiled pass over every household, in the order a household
    takes them; each rule reads only its own row and what the rules before it wrote
    there (the tie counts are last month's), so the result is the same as taking each
    household through all of them in turn. Passes of few columns and no calls run on
    vectors; one pass of everything could not.
    """
    _count_ties(c, nb, w.flags)
    one_site = s.formed.size == 1
    _welfare(r, c, d.normal, w.values)
    for i in range(w.role.size):
        w.role[i] = c.relawan[i] or c.delegate[i] or c.bkm_member[i]
    _awareness(r, c, nb, w.values)
    _drive(r, c, nb, w.values)
    _participation(r, c, nb, d, w.values, w.role)
    _capacity(r, c, s, one_site, w.role)
    _agency_and_trust(r, c, s, one_site, w.role)
    for i in range(w.role.size):
        _stage(r, c, i, d.u_stage[i], c.participating[i])
    # this month's exposure is consumed
    c.meetings[:] = 0.0
    c.dialogue[:] = 0.0
    c.mobilised[:] = False
    c.handover[:] = False
    c.transfer[:] = 0.0

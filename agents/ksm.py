"""KSM (Kelompok Swadaya Masyarakat): self-help groups of residents.

KSMs are economic (revolving loans), social (aid to the poorest) or environmental (works)
groups of neighbours in one RW; how they form is :mod:`~berdaya.agents.formation`.
Economic KSMs must meet the guideline's eligibility rules before a loan:
at least 5 members, at least ``ksm_women_min`` women, all members on the PS-2 list (under
strict targeting; a captured board lets elites in), joint liability signed, training done, and ``ksm_savings_months`` months
of group savings. A KSM is one Mesa agent; its members are household rows, and its rules
run over them as arrays. Loops run over KSMs (hundreds), never over households.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from mesa import Agent
from numba import njit

from berdaya.agents.upk import capture

if TYPE_CHECKING:
    from berdaya.model.site import Site


@dataclass(frozen=True)
class KSMRules:
    """Constants of the KSM (not scenario parameters; ODD section 8).

    Attributes:
        min_members: Fewest members of an economic KSM that may borrow (Juknis Pinjaman
            Bergulir PNPM-MP, via text-id.123dok.com "unit pengelola keuangan (UPK)").
        saving_share: Share of members taking part or holding a loan for the group to
            save in a month (assumption).
        min_active: A group with fewer active members than this and no loan out
            dissolves (assumption).
    """

    min_members: int = 5
    saving_share: float = 0.5
    min_active: int = 3


KSM_RULES = KSMRules()


class KSMType(IntEnum):
    """What a KSM does (the Tridaya)."""

    ECONOMIC = 0
    SOCIAL = 1
    ENVIRONMENTAL = 2


class KSMStatus(IntEnum):
    """Life stage of a KSM."""

    FORMING = 0
    ACTIVE = 1
    IN_ARREARS = 2
    DISSOLVED = 3


class KSM(Agent):
    """A self-help group.

    Attributes:
        site: The kelurahan the group belongs to.
        kind: :class:`KSMType`.
        members: Household rows of the members.
        rw: RW the group was formed in.
        months_saving: Months of group savings so far.
        sessions: Training sessions completed.
        joint_liability: Whether joint liability has been signed.
        status: :class:`KSMStatus`.
        formed_month: Month of formation.
        first_loan_month: Month of the first loan (None before).
        listed_at_formation: Whether every member was on the PS-2 list when it formed,
            or let in by a captured board (:func:`~berdaya.agents.upk.capture.admitted`;
            the list is revised later; membership is checked when the group forms).
    """

    def __init__(self, site: Site, kind: KSMType, members: np.ndarray, rw: int) -> None:
        """Form a KSM and register its members.

        Args:
            site: The kelurahan (the agent joins ``site.model``).
            kind: Economic, social or environmental.
            members: Rows of the kelurahan's households joining.
            rw: RW of the group.
        """
        super().__init__(site.model)
        self.site = site
        self.kind = KSMType(kind)
        self.members = members.astype(np.int64)
        self.rw = int(rw)
        self.months_saving = 0
        self.sessions = 0
        # the members sign joint liability (tanggung renteng) when an economic group forms
        self.joint_liability = self.kind == KSMType.ECONOMIC and bool(
            site.p.joint_liability
        )
        self.status = KSMStatus.FORMING
        self.formed_month = site.steps
        self.first_loan_month: int | None = None
        let_in = capture.admitted(site, self.members)
        self.listed_at_formation = bool(let_in.all())
        site.households.ksm[self.members] = self.unique_id
        site.households.ksm_waiting[self.members] = False

    # --- eligibility ----------------------------------------------------------------
    # The guideline's loan eligibility rules, the cheap ones first: name -> check of a
    # KSM. One table, read by both :attr:`eligible` and :meth:`rule_checks`.
    _rules: ClassVar[dict[str, Callable[[KSM], bool]]] = {
        "economic": lambda k: k.kind == KSMType.ECONOMIC,
        "not_dissolved": lambda k: k.status != KSMStatus.DISSOLVED,
        "training": lambda k: k.sessions >= k.site.p.ksm_training_sessions,
        "savings": lambda k: k.months_saving >= k.site.p.ksm_savings_months,
        "joint_liability": lambda k: k.joint_liability or not k.site.p.joint_liability,
        "members": lambda k: k.members.size >= KSM_RULES.min_members,
        "women": lambda k: k.women_share >= k.site.p.ksm_women_min - 1e-12,
        "ps2": lambda k: k.site.p.targeting == "open" or k.listed_at_formation,
    }

    @cached_property
    def women_share(self) -> float:
        """Share of women among the members (fixed: members and sex never change)."""
        m = self.members
        return float(self.site.households.woman[m].mean()) if m.size else 0.0

    def rule_checks(self) -> dict[str, bool]:
        """The guideline's loan eligibility rules, each checked on the current state.

        Returns:
            Mapping from rule to whether it holds now.
        """
        if self._rules is _GUIDELINE:  # inline, as :meth:`_meets_guideline`
            return self._guideline_checks()
        return {name: check(self) for name, check in self._rules.items()}

    def _guideline_checks(self) -> dict[str, bool]:
        """The guideline's ``_rules`` checked inline: the same keys, in order, and values."""
        p = self.site.p
        return {
            "economic": self.kind == KSMType.ECONOMIC,
            "not_dissolved": self.status != KSMStatus.DISSOLVED,
            "training": self.sessions >= p.ksm_training_sessions,
            "savings": self.months_saving >= p.ksm_savings_months,
            "joint_liability": self.joint_liability or not p.joint_liability,
            "members": self.members.size >= KSM_RULES.min_members,
            "women": self.women_share >= p.ksm_women_min - 1e-12,
            "ps2": p.targeting == "open" or self.listed_at_formation,
        }

    @property
    def eligible(self) -> bool:
        """Whether every eligibility rule holds now (stops at the first that fails).

        While ``_rules`` is the guideline's table, its checks run inline
        (:meth:`_meets_guideline`, the same checks in the same order: eight lambda calls
        cost a microsecond, asked of every group every lending month); a table put in its
        place (a test dropping a rule) is read as it stands.
        """
        rules = self._rules
        if rules is _GUIDELINE:
            return self._meets_guideline()
        # a plain loop: a third faster than all() over a generator
        for check in rules.values():  # noqa: SIM110
            if not check(self):
                return False
        return True

    def _meets_guideline(self) -> bool:
        """The checks of the guideline's ``_rules``, inline, in its order."""
        p = self.site.p
        return bool(
            self.kind == KSMType.ECONOMIC
            and self.status != KSMStatus.DISSOLVED
            and self.sessions >= p.ksm_training_sessions
            and self.months_saving >= p.ksm_savings_months
            and (self.joint_liability or not p.joint_liability)
            and self.members.size >= KSM_RULES.min_members
            and self.women_share >= p.ksm_women_min - 1e-12
            and (p.targeting == "open" or self.listed_at_formation)
        )

    # --- monthly ------------------------------------------------------------------------
    def train(self, effectiveness: float) -> None:
        """Hold one training session: members' capacity grows."""
        p = self.site.p
        h = self.site.households
        gain = np.float32(p.ksm_training_gain * effectiveness)
        _train_members(self.members, h.capacity, h.meetings, gain)
        self.sessions += 1

    def step(self) -> None:
        """Do nothing: all KSMs are stepped together in :func:`step_ksms`."""

    def dissolve(self) -> None:
        """Dissolve the group; members are free to join another."""
        self.status = KSMStatus.DISSOLVED
        h = self.site.households
        mine = h.ksm[self.members] == self.unique_id
        h.ksm[self.members[mine]] = -1


#: The guideline's rules as the class defines them (:attr:`KSM.eligible` inlines them).
_GUIDELINE = KSM._rules


def eligible_economic(site: Site) -> list[KSM]:
    """The economic KSMs of a kelurahan that may borrow now, in order of formation.

    ``[k for k in site.ksms if k.kind == ECONOMIC and k.eligible]``: while ``_rules`` is
    the guideline's table, its checks run in one comprehension with the scenario's
    values read once (the same checks as :meth:`KSM._meets_guideline`, asked of every
    group every lending month; none has a side effect, so the result is the same).
    """
    economic = KSMType.ECONOMIC
    if KSM._rules is not _GUIDELINE:  # a replaced table: read as it stands
        return [k for k in site.ksms if k.kind == economic and k.eligible]
    p = site.p
    dissolved = KSMStatus.DISSOLVED
    sessions, months = p.ksm_training_sessions, p.ksm_savings_months
    any_liability = not p.joint_liability
    women = p.ksm_women_min - 1e-12
    open_ = p.targeting == "open"
    least = KSM_RULES.min_members
    return [
        k
        for k in site.ksms
        if k.kind == economic
        and k.status != dissolved
        and k.sessions >= sessions
        and k.months_saving >= months
        and (k.joint_liability or any_liability)
        and k.members.size >= least
        and k.women_share >= women
        and (open_ or k.listed_at_formation)
    ]


@njit(cache=True)
def _train_members(
    members: np.ndarray, capacity: np.ndarray, meetings: np.ndarray, gain: np.float32
) -> None:
    """A training session for the given rows: capacity grows towards 1, one meeting."""
    one = np.float32(1.0)
    for r in members:
        c = capacity[r]
        capacity[r] = c + gain * (one - c)
        meetings[r] += one


@njit(cache=True)
def _lookup(ids: np.ndarray) -> tuple[int, np.ndarray]:
    """Position of each KSM id in ``ids``: (smallest id, table from it; -1 for none)."""
    lo = ids.min()
    table = np.full(ids.max() - lo + 1, -1, np.int64)
    for j in range(ids.size):
        table[ids[j] - lo] = j
    return lo, table


@njit(cache=True)
def _member_sums(
    ksm: np.ndarray, ids: np.ndarray, column: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Members and the sum of ``column`` over them per KSM of ``ids``, in row order."""
    size = np.zeros(ids.size, np.int64)
    total = np.zeros(ids.size, np.float64)
    lo, table = _lookup(ids)
    span = table.size
    for r in range(ksm.size):
        k = ksm[r] - lo
        if 0 <= k < span:
            j = table[k]
            if j >= 0:
                size[j] += 1
                total[j] += np.float64(column[r])
    return size, total


@njit(cache=True)
def _ksm_month(  # noqa: PLR0917 - a numba kernel takes its arguments by position
    ksm: np.ndarray,
    ids: np.ndarray,
    participating: np.ndarray,
    loan_balance: np.ndarray,
    arrears: np.ndarray,
    saving_share: float,
    min_active: int,
) -> np.ndarray:
    """What happens to each KSM of ``ids`` this month (see :func:`step_ksms`).

    Returns:
        Per KSM a code: bit 0 it saves, bit 1 it dissolves, bit 2 it is in arrears.
    """
    n = ids.size
    size = np.zeros(n, np.int64)
    active = np.zeros(n, np.int64)  # members taking part or holding a loan
    owing = np.zeros(n, np.int64)  # members holding a loan
    late = np.zeros(n, np.int64)  # members in arrears
    lo, table = _lookup(ids)
    span = table.size
    for r in range(ksm.size):
        k = ksm[r] - lo
        if 0 <= k < span:
            j = table[k]
            if j >= 0:
                loan = loan_balance[r] > 0
                size[j] += 1
                active[j] += participating[r] or loan
                owing[j] += loan
                late[j] += arrears[r] > 0
    code = np.zeros(n, np.int64)
    for j in range(n):
        # saves when at least half its members take part or hold a loan
        saves = active[j] >= saving_share * size[j]
        # fewer than 3 active and no loan outstanding: dissolves
        gone = active[j] < min_active and owing[j] == 0
        behind = not gone and late[j] > 0
        code[j] = saves + 2 * gone + 4 * behind
    return code


def _ids(live: list[KSM]) -> np.ndarray:
    return np.fromiter([k.unique_id for k in live], np.int64, len(live))


def member_means(site: Site, live: list[KSM], column: np.ndarray) -> np.ndarray:
    """Mean of a household column over the members of each KSM in ``live``.

    A household counts for a KSM while ``households.ksm`` holds its id (a dissolved
    group's mean is 0); sums run in row order, in float64.
    """
    n = len(live)
    if n == 0:
        return np.zeros(0)
    if column.dtype == np.bool_:
        column = column.view(np.uint8)
    size, total = _member_sums(site.households.ksm, _ids(live), column)
    return np.divide(total, size, out=np.zeros(n), where=size > 0)


def step_ksms(site: Site) -> None:
    """Save and update the status of every KSM, from per-group sums over households.

    An economic KSM saves in a month when at least half its members take part or hold a
    loan. A group with fewer than 3 such members and no loan outstanding dissolves; one
    with a member in arrears is ``in arrears``; otherwise it is ``active`` once it has
    borrowed (economic) or at once (social, environmental). The sums come from one
    compiled pass over the households (:func:`_ksm_month`); the loop over groups only
    sets their attributes.

    Args:
        site: The kelurahan whose KSMs are updated.
    """
    # enum members looked up once, not per group
    dissolved, in_arrears, active = (
        KSMStatus.DISSOLVED,
        KSMStatus.IN_ARREARS,
        KSMStatus.ACTIVE,
    )
    economic = KSMType.ECONOMIC
    live = [k for k in site.ksms if k.status != dissolved]
    if not live:
        return
    h = site.households
    codes = h.kernel(_ksm_month).call(
        h.ksm,
        _ids(live),
        h.participating,
        h.loan_balance,
        h.arrears,
        KSM_RULES.saving_share,
        KSM_RULES.min_active,
    )
    for k, code in zip(live, codes.tolist(), strict=True):
        if code & 1 and k.kind == economic:
            k.months_saving += 1
        if code & 2:
            k.dissolve()
        elif code & 4:
            k.status = in_arrears
        elif k.first_loan_month is not None or k.kind != economic:
            k.status = active

"""KSM (Kelompok Swadaya Masyarakat): self-help groups of residents.

KSMs form from participating households, mostly RT neighbours, as economic (revolving
loans), social (aid to the poorest) or environmental (works) groups in the proportions of
the BKM's plan. Economic KSMs must meet the guideline's eligibility rules before a loan:
at least 5 members, at least ``ksm_women_min`` women, all members on the PS-2 list (under
strict targeting), joint liability signed, training done, and ``ksm_savings_months`` months
of group savings. A KSM is one Mesa agent; its members are household rows, and its rules
run over them as arrays. Loops run over KSMs (hundreds), never over households.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from mesa import Agent
from numba import njit

from berdaya.agents.household import Elite

if TYPE_CHECKING:
    from berdaya.model.site import Site

MIN_MEMBERS = 5  # guideline: an economic KSM has at least 5 members


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
        rt: RT the group was formed in.
        months_saving: Months of group savings so far.
        sessions: Training sessions completed.
        joint_liability: Whether joint liability has been signed.
        status: :class:`KSMStatus`.
        formed_month: Month of formation.
        first_loan_month: Month of the first loan (None before).
    """

    def __init__(self, site: Site, kind: KSMType, members: np.ndarray, rt: int) -> None:
        """Form a KSM and register its members.

        Args:
            site: The kelurahan (the agent joins ``site.model``).
            kind: Economic, social or environmental.
            members: Rows of the kelurahan's households joining.
            rt: RT of the group.
        """
        super().__init__(site.model)
        self.site = site
        self.kind = KSMType(kind)
        self.members = members.astype(np.int64)
        self.rt = int(rt)
        self.months_saving = 0
        self.sessions = 0
        self.joint_liability = False
        self.status = KSMStatus.FORMING
        self.formed_month = site.steps
        self.first_loan_month: int | None = None
        site.households.ksm[self.members] = self.unique_id
        site.households.ksm_intent[self.members] = -1

    # --- eligibility ----------------------------------------------------------------
    # The guideline's loan eligibility rules, the cheap ones first: name -> check of a
    # KSM. One table, read by both :attr:`eligible` and :meth:`rule_checks`.
    _rules: ClassVar[dict[str, Callable[[KSM], bool]]] = {
        "economic": lambda k: k.kind == KSMType.ECONOMIC,
        "not_dissolved": lambda k: k.status != KSMStatus.DISSOLVED,
        "training": lambda k: k.sessions >= k.site.p.ksm_training_sessions,
        "savings": lambda k: k.months_saving >= k.site.p.ksm_savings_months,
        "joint_liability": lambda k: k.joint_liability or not k.site.p.joint_liability,
        "members": lambda k: k.members.size >= MIN_MEMBERS,
        "women": lambda k: k.women_share >= k.site.p.ksm_women_min - 1e-12,
        "ps2": lambda k: (
            k.site.p.targeting == "open"
            or bool(k.site.households.on_ps2[k.members].all())
        ),
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
        return {name: check(self) for name, check in self._rules.items()}

    @property
    def eligible(self) -> bool:
        """Whether every eligibility rule holds now (stops at the first that fails)."""
        return all(check(self) for check in self._rules.values())

    # --- monthly ------------------------------------------------------------------------
    def train(self, effectiveness: float) -> None:
        """Hold one training session: members' capacity grows; joint liability is signed."""
        p = self.site.p
        h = self.site.households
        gain = np.float32(p.ksm_training_gain * effectiveness)
        _train_members(self.members, h.capacity, h.meetings, gain)
        self.sessions += 1
        if p.joint_liability:
            self.joint_liability = True

    def step(self) -> None:
        """Do nothing: all KSMs are stepped together in :func:`step_ksms`."""

    def dissolve(self) -> None:
        """Dissolve the group; members are free to join another."""
        self.status = KSMStatus.DISSOLVED
        h = self.site.households
        mine = h.ksm[self.members] == self.unique_id
        h.ksm[self.members[mine]] = -1


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
def _ksm_month(
    ksm: np.ndarray,
    ids: np.ndarray,
    participating: np.ndarray,
    loan_balance: np.ndarray,
    arrears: np.ndarray,
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
        saves = 2 * active[j] >= size[j]
        # fewer than 3 active and no loan outstanding: dissolves
        gone = active[j] < 3 and owing[j] == 0
        behind = not gone and late[j] > 0
        code[j] = saves + 2 * gone + 4 * behind
    return code


def _ids(live: list[KSM]) -> np.ndarray:
    return np.array([k.unique_id for k in live], dtype=np.int64)


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
    live = [k for k in site.ksms if k.status != KSMStatus.DISSOLVED]
    if not live:
        return
    h = site.households
    codes = _ksm_month(h.ksm, _ids(live), h.participating, h.loan_balance, h.arrears)
    economic = KSMType.ECONOMIC
    for k, code in zip(live, codes.tolist(), strict=True):
        if code & 1 and k.kind == economic:
            k.months_saving += 1
        if code & 2:
            k.dissolve()
        elif code & 4:
            k.status = KSMStatus.IN_ARREARS
        elif k.first_loan_month is not None or k.kind != economic:
            k.status = KSMStatus.ACTIVE


def plan_type_shares(site: Site) -> np.ndarray:
    """Return the PJM plan's shares (economic, social, environmental), elite tilt applied.

    An elite-heavy board tilts the plan towards the revolving fund, the most capturable
    use: the economic share is multiplied by ``1 + elite_plan_tilt * elite_share`` and the
    shares renormalised.
    """
    p = site.p
    econ = p.tridaya_economic * (1.0 + p.elite_plan_tilt * site.bkm.elite_share)
    shares = np.array([econ, p.tridaya_social, p.tridaya_environmental], dtype=float)
    total = shares.sum()
    return shares / total if total > 0 else np.array([0.0, 0.0, 1.0])


def form_ksms(site: Site) -> list[KSM]:
    """Form this month's new KSMs from participating households, vectorised.

    Each participating household without a group joins with probability
    ``ksm_join_rate * (0.5 + 0.5 trust in the BKM) * (1 + faskel training presence)`` and
    picks a type from the plan's shares; under strict targeting only PS-2-listed households
    may choose economic; under open targeting elites lean to economic groups (loans), more
    so with an elite-heavy board. Everyone waiting is grouped by type and RT, women spread
    evenly across groups, about ``ksm_size`` to a group; fewer than 5 wait for others.

    Returns:
        The KSMs formed.
    """
    p = site.p
    h = site.households
    rng = site.rng
    presence = min(1.0, site.presence)
    free = np.flatnonzero(h.participating)
    free = free[(h.ksm[free] < 0) & (h.ksm_intent[free] < 0) & ~h.graduated[free]]
    prob = p.ksm_join_rate * (0.5 + 0.5 * h.trust_bkm[free]) * (1.0 + presence)
    joins = free[rng.random(free.size) < prob]
    if joins.size:
        h.ksm_intent[joins] = _choose_types(site, joins)
    rows = np.flatnonzero(h.ksm_intent >= 0)
    rows = rows[h.ksm[rows] < 0]
    if rows.size == 0:
        return []
    kind = h.ksm_intent[rows].astype(np.int64)
    rt = h.rt[rows]
    woman = h.woman[rows]
    noise = rng.random(rows.size)
    # a block is a type and an RT; one with fewer than MIN_MEMBERS waiting forms no group
    block = kind * (int(rt.max()) + 1) + rt
    size = np.bincount(block)[block]  # rows waiting in each row's block
    keep = size >= MIN_MEMBERS
    if not keep.any():
        return []
    kind, rt, woman, rows, block, size = (
        a[keep] for a in (kind, rt, woman, rows, block, size)
    )
    # order: by block, then women and men interleaved by their rank within the block
    order = np.lexsort((noise[keep], woman, block))
    kind, rt, woman, rows, block, size = (
        a[order] for a in (kind, rt, woman, rows, block, size)
    )
    n_groups = np.maximum(size // p.ksm_size, 1)
    # spread within the block: each sex cycles through the block's groups
    run = np.empty(rows.size, dtype=bool)  # first of a block's women or men
    run[0] = True
    run[1:] = (block[1:] != block[:-1]) | (woman[1:] != woman[:-1])
    rank = np.arange(rows.size) - np.flatnonzero(run)[np.cumsum(run) - 1]
    offset = np.where(woman, 0, size)  # different phase so men and women interleave
    group = (rank + offset) % n_groups
    # each group's rows, in the order above, from a stable sort by (block, group)
    key = block * (int(n_groups.max()) + 1) + group
    order = np.argsort(key, kind="stable")
    count = np.bincount(key)
    end = np.cumsum(count)
    formed = []
    for g in np.flatnonzero(count >= MIN_MEMBERS).tolist():
        idx = order[end[g] - count[g] : end[g]]
        formed.append(KSM(site, KSMType(int(kind[idx[0]])), rows[idx], int(rt[idx[0]])))
    return formed


def _choose_types(site: Site, rows: np.ndarray) -> np.ndarray:
    """Draw the type of group each joining household wants (see :func:`form_ksms`)."""
    p = site.p
    h = site.households
    # two rows of weights: the plan's shares, and the shares of the households the rule
    # changes (not PS-2-listed under strict targeting, elites under open targeting)
    weights = plan_type_shares(site)[None, :].repeat(2, axis=0)
    if p.targeting == "strict":
        weights[1, KSMType.ECONOMIC] = 0.0
        changed = ~h.on_ps2[rows]
    else:
        weights[1, KSMType.ECONOMIC] *= 2.0 + p.elite_plan_tilt * site.bkm.elite_share
        changed = h.elite[rows] != Elite.ORDINARY
    totals = weights.sum(axis=1, keepdims=True)
    weights = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
    cum = weights.cumsum(axis=1)[changed.astype(np.intp)]
    return np.minimum((site.rng.random(rows.size)[:, None] > cum).sum(axis=1), 2)

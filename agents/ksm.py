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
from functools import cached_property, lru_cache
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
    codes = _ksm_month(h.ksm, _ids(live), h.participating, h.loan_balance, h.arrears)
    for k, code in zip(live, codes.tolist(), strict=True):
        if code & 1 and k.kind == economic:
            k.months_saving += 1
        if code & 2:
            k.dissolve()
        elif code & 4:
            k.status = in_arrears
        elif k.first_loan_month is not None or k.kind != economic:
            k.status = active


def plan_type_shares(site: Site) -> np.ndarray:
    """Return the PJM plan's shares (economic, social, environmental), elite tilt applied.

    An elite-heavy board tilts the plan towards the revolving fund, the most capturable
    use: the economic share is multiplied by ``1 + elite_plan_tilt * elite_share`` and the
    shares renormalised.
    """
    p = site.p
    return _plan_shares(
        p.tridaya_economic,
        p.tridaya_social,
        p.tridaya_environmental,
        p.elite_plan_tilt,
        site.bkm.elite_share,
    ).copy()


@lru_cache(maxsize=64)
def _plan_shares(
    economic: float,
    social: float,
    environmental: float,
    tilt: float,
    elite_share: float,
) -> np.ndarray:
    """:func:`plan_type_shares` from the scalars it reads (cached; do not write into)."""
    econ = economic * (1.0 + tilt * elite_share)
    shares = np.array([econ, social, environmental], dtype=float)
    total = shares.sum()
    return shares / total if total > 0 else np.array([0.0, 0.0, 1.0])


def form_ksms(site: Site) -> list[KSM]:
    """Form this month's new KSMs from participating households.

    Each participating household without a group joins with probability
    ``ksm_join_rate * (0.5 + 0.5 trust in the BKM) * (1 + faskel training presence)`` and
    picks a type from the plan's shares; under strict targeting only PS-2-listed households
    may choose economic; under open targeting elites lean to economic groups (loans), more
    so with an elite-heavy board. Everyone waiting is grouped by type and RT, women spread
    evenly across groups, about ``ksm_size`` to a group; fewer than 5 wait for others.

    The passes over households are compiled (:func:`_candidates`, :func:`_join`,
    :func:`_choose`, :func:`_group`); the random numbers are drawn here, between them.

    Returns:
        The KSMs formed.
    """
    p = site.p
    h = site.households
    rng = site.rng
    presence = min(1.0, site.presence)
    free, waiting = _candidates(h.participating, h.ksm, h.ksm_intent, h.graduated)
    joins = _join(
        free,
        rng.random(free.size),
        h.trust_bkm,
        np.float32(p.ksm_join_rate),
        np.float32(1.0 + presence),
    )
    if joins.size:
        strict = p.targeting == "strict"
        cum = _type_cum(
            p.tridaya_economic,
            p.tridaya_social,
            p.tridaya_environmental,
            p.elite_plan_tilt,
            site.bkm.elite_share,
            strict,
        )
        u = rng.random(joins.size)
        _choose(joins, u, cum, strict, h.on_ps2, h.elite, h.ksm_intent)
        rows = _merge(waiting, joins)
    else:
        rows = waiting
    if rows.size == 0:
        return []
    noise = rng.random(rows.size)
    members, bounds, kinds, rts = _group(
        rows, h.ksm_intent, h.rt, h.woman, noise, p.ksm_size
    )
    return [
        KSM(site, kind, members[bounds[g] : bounds[g + 1]], rt)
        for g, (kind, rt) in enumerate(zip(kinds.tolist(), rts.tolist(), strict=True))
    ]


@lru_cache(maxsize=64)
def _type_cum(  # noqa: PLR0917 - cached on the scalars it reads
    economic: float,
    social: float,
    environmental: float,
    tilt: float,
    elite_share: float,
    strict: bool,
) -> np.ndarray:
    """Cumulative weights of the types: row 0 the plan's, row 1 those the rule changes.

    The households the rule changes are those not PS-2-listed under strict targeting (no
    economic groups) and elites under open targeting (economic weight times
    ``2 + tilt * elite_share``). Cached on the scalars; do not write into the result.
    """
    shares = _plan_shares(economic, social, environmental, tilt, elite_share)
    weights = shares[None, :].repeat(2, axis=0)
    if strict:
        weights[1, KSMType.ECONOMIC] = 0.0
    else:
        weights[1, KSMType.ECONOMIC] *= 2.0 + tilt * elite_share
    totals = weights.sum(axis=1, keepdims=True)
    weights = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
    return weights.cumsum(axis=1)


@njit(cache=True)
def _candidates(
    participating: np.ndarray,
    ksm: np.ndarray,
    ksm_intent: np.ndarray,
    graduated: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows free to join a group, and rows already waiting for one, in one pass.

    Returns:
        Participating rows in no group, not waiting and not graduated; rows waiting
        (an intended type, no group yet). Both in row order.
    """
    n = ksm.size
    free = np.empty(n, np.int64)
    waiting = np.empty(n, np.int64)
    n_free = 0
    n_waiting = 0
    for r in range(n):
        # most rows neither take part nor wait: one test, without branching on each
        if not (participating[r] | (ksm_intent[r] >= 0)) or ksm[r] >= 0:
            continue
        if ksm_intent[r] >= 0:
            waiting[n_waiting] = r
            n_waiting += 1
        elif not graduated[r]:
            free[n_free] = r
            n_free += 1
    return free[:n_free], waiting[:n_waiting]


@njit(cache=True)
def _join(
    free: np.ndarray,
    u: np.ndarray,
    trust_bkm: np.ndarray,
    join_rate: np.float32,
    presence_factor: np.float32,
) -> np.ndarray:
    """Rows of ``free`` that join this month (``u``: one uniform draw per row).

    The probability is computed in float32, as numpy does for the float32 column.
    """
    half = np.float32(0.5)
    joins = np.empty(free.size, np.int64)
    n = 0
    for i in range(free.size):
        r = free[i]
        prob = join_rate * (half + half * trust_bkm[r]) * presence_factor
        if u[i] < prob:
            joins[n] = r
            n += 1
    return joins[:n]


@njit(cache=True)
def _choose(  # noqa: PLR0917 - numba takes the columns one by one
    joins: np.ndarray,
    u: np.ndarray,
    cum: np.ndarray,
    strict: bool,
    on_ps2: np.ndarray,
    elite: np.ndarray,
    ksm_intent: np.ndarray,
) -> None:
    """Write the type of group each joining household wants (see :func:`form_ksms`).

    The type is the number of cumulative weights below the household's draw (at most
    2), from row 1 of ``cum`` for those the targeting rule changes, row 0 otherwise.
    """
    for i in range(joins.size):
        r = joins[i]
        changed = not on_ps2[r] if strict else elite[r] != Elite.ORDINARY
        row = 1 if changed else 0
        kind = 0
        for t in range(3):
            kind += u[i] > cum[row, t]
        ksm_intent[r] = min(kind, 2)


@njit(cache=True)
def _merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Merge two sorted arrays of distinct rows into one sorted array."""
    out = np.empty(a.size + b.size, np.int64)
    i = j = 0
    for k in range(out.size):
        if j == b.size or (i < a.size and a[i] < b[j]):
            out[k] = a[i]
            i += 1
        else:
            out[k] = b[j]
            j += 1
    return out


@njit(cache=True)
def _group(  # noqa: PLR0917 - numba takes the columns one by one
    rows: np.ndarray,
    ksm_intent: np.ndarray,
    rt_of: np.ndarray,
    woman_of: np.ndarray,
    noise: np.ndarray,
    ksm_size: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split the waiting rows into groups (see :func:`form_ksms`).

    Args:
        rows: Rows waiting, in row order.
        ksm_intent: Type each household wants.
        rt_of: RT of each household.
        woman_of: Sex of each household's head.
        noise: One uniform draw per waiting row (order among equals).
        ksm_size: Target group size.

    Returns:
        The members of the groups formed, one group after another; the group bounds in
        that array (``n_groups + 1``); each group's type; each group's RT.
    """
    n = rows.size
    kind = np.empty(n, np.int64)
    rt = np.empty(n, np.int64)
    for i in range(n):
        kind[i] = ksm_intent[rows[i]]
        rt[i] = rt_of[rows[i]]
    # a block is a type and an RT; one with fewer than MIN_MEMBERS waiting forms no group
    n_rt = rt.max() + 1
    block = kind * n_rt + rt
    waiting = np.zeros(3 * n_rt, np.int64)  # rows waiting in each block
    for i in range(n):
        waiting[block[i]] += 1
    keep = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        if waiting[block[i]] >= MIN_MEMBERS:
            keep[m] = i
            m += 1
    keep = keep[:m]
    # order: by block, then by sex (men first), then by noise (ties: row order):
    # a stable sort by noise, then a stable counting sort by (block, sex)
    by_noise = keep[np.argsort(noise[keep], kind="mergesort")]
    cell = np.empty(m, np.int64)  # 2 * block + sex
    for i in range(m):
        cell[i] = 2 * block[by_noise[i]] + woman_of[rows[by_noise[i]]]
    start = np.zeros(6 * n_rt + 1, np.int64)
    for i in range(m):
        start[cell[i] + 1] += 1
    for c in range(6 * n_rt):
        start[c + 1] += start[c]
    fill = start.copy()
    order = np.empty(m, np.int64)
    rank = np.empty(m, np.int64)  # rank within the block's women or men
    for i in range(m):
        c = cell[i]
        order[fill[c]] = by_noise[i]
        rank[fill[c]] = fill[c] - start[c]
        fill[c] += 1
    # spread within the block: each sex cycles through the block's groups, men with a
    # different phase (offset by the block's size) so men and women interleave
    group = np.empty(m, np.int64)
    n_groups = np.empty(m, np.int64)
    for i in range(m):
        size = waiting[block[order[i]]]
        n_groups[i] = max(size // ksm_size, 1)
        offset = 0 if woman_of[rows[order[i]]] else size
        group[i] = (rank[i] + offset) % n_groups[i]
    # each group's rows, in the order above: a stable counting sort by (block, group)
    width = n_groups.max() + 1 if m else 1
    count = np.zeros(3 * n_rt * width, np.int64)
    key = np.empty(m, np.int64)
    for i in range(m):
        key[i] = block[order[i]] * width + group[i]
        count[key[i]] += 1
    first = np.zeros(count.size + 1, np.int64)
    for g in range(count.size):
        first[g + 1] = first[g] + count[g]
    at = first[:-1].copy()
    grouped = np.empty(m, np.int64)
    for i in range(m):
        grouped[at[key[i]]] = rows[order[i]]
        at[key[i]] += 1
    # groups with at least MIN_MEMBERS form, in order of (block, group)
    members = np.empty(m, np.int64)
    bounds = [0]
    kinds = []
    rts = []
    for g in range(count.size):
        if count[g] >= MIN_MEMBERS:
            members[bounds[-1] : bounds[-1] + count[g]] = grouped[
                first[g] : first[g + 1]
            ]
            bounds.append(bounds[-1] + count[g])
            b = g // width
            kinds.append(b // n_rt)
            rts.append(b % n_rt)
    return (
        members[: bounds[-1]],
        np.array(bounds, np.int64),
        np.array(kinds, np.int64),
        np.array(rts, np.int64),
    )

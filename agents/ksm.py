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
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from mesa import Agent
from numba import njit

from berdaya.agents.upk import capture

if TYPE_CHECKING:
    from berdaya.model.site import Site
    from berdaya.scenarios.schema import Parameters


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


_DISSOLVED = int(KSMStatus.DISSOLVED)  # for numpy's comparisons (an enum costs more)

#: The columns of a :class:`KSMTable`, a value per group: name -> dtype.
KSM_COLUMNS: dict[str, type] = {
    "uid": np.int64,  # the agent's unique_id (what ``households.ksm`` holds)
    "kind": np.int64,
    "status": np.int64,
    "rw": np.int64,
    "size": np.int64,  # members, fixed at formation
    "months_saving": np.int64,
    "sessions": np.int64,
    "formed_month": np.int64,
    "first_loan_month": np.int64,  # -1 before the first loan
    "joint_liability": np.bool_,
    "listed_at_formation": np.bool_,
    "women_share": np.float64,  # fixed at formation (members and sex never change)
}


class KSMTable:
    """The KSMs of one kelurahan as columns, a row a group, in order of formation.

    The groups' monthly rules run over these arrays (:func:`step_ksms`,
    :func:`eligible_economic`, the records' counts); each group is also a :class:`KSM`
    agent whose attributes read and write its row. Only the first ``n`` rows are
    groups; the arrays grow by doubling, so hold none of them across a formation.

    Attributes:
        n: Groups formed.
        agents: The :class:`KSM` agents, row by row (the kelurahan's ``ksms``).
        member_rows: Every group's members (household rows) in ascending order, group
            after group; group ``i``'s end at ``member_end[i]`` (members never change).
        member_order: The same runs, each group's members in the group's own order
            (its ``members``).
        member_end: See ``member_rows``.
    """

    def __init__(self, capacity: int = 16) -> None:
        """Make an empty table with room for ``capacity`` groups."""
        self.n = 0
        self.agents: list[KSM] = []
        for name, dtype in KSM_COLUMNS.items():
            setattr(self, name, np.zeros(capacity, dtype))
        self.member_rows = np.zeros(16 * capacity, np.int64)
        self.member_order = np.zeros(16 * capacity, np.int64)
        self.member_end = np.zeros(capacity, np.int64)

    def add(self, agent: KSM, values: dict[str, Any]) -> int:
        """Append a group's row and its agent.

        Args:
            agent: The group's agent.
            values: Its columns; those not given start at 0 (``first_loan_month`` -1).

        Returns:
            The group's row.
        """
        row = self.n
        if row == self.uid.size:
            for name in (*KSM_COLUMNS, "member_end"):
                old = getattr(self, name)
                setattr(self, name, np.concatenate([old, np.zeros_like(old)]))
        self.first_loan_month[row] = -1  # the rest of a new row is 0
        for name, value in values.items():
            getattr(self, name)[row] = value
        self._add_members(row, agent.members)
        self.n = row + 1
        self.agents.append(agent)
        return row

    def _add_members(self, row: int, members: np.ndarray) -> None:
        """Keep group ``row``'s members, ascending and as given, after the groups before."""
        start = self.member_end[row - 1] if row else 0
        end = start + members.size
        if end > self.member_rows.size:
            size = max(2 * self.member_rows.size, end)
            for name in ("member_rows", "member_order"):
                grown = np.zeros(size, np.int64)
                grown[:start] = getattr(self, name)[:start]
                setattr(self, name, grown)
        self.member_rows[start:end] = np.sort(members)
        self.member_order[start:end] = members
        self.member_end[row] = end

    def member_means(
        self, rows: np.ndarray, ksm: np.ndarray, column: np.ndarray
    ) -> np.ndarray:
        """:func:`member_means_of` the groups ``rows`` of this table, from their members.

        A household counts for a group while ``ksm`` (the households' column) holds the
        group's id, and only a group's members ever do: so the sums over its members
        in ascending order are the sums over the households in row order, in the same
        order (:func:`_member_sums`), without a pass over every household.
        """
        if rows.size == 0:
            return np.zeros(0)
        if column.dtype == np.bool_:
            column = column.view(np.uint8)
        size, total = _run_sums(
            ksm, self.uid, (self.member_rows, self.member_end), rows, column
        )
        return np.divide(total, size, out=np.zeros(rows.size), where=size > 0)

    def live(self) -> np.ndarray:
        """Rows of the groups not dissolved, in order."""
        # an int, not the enum, and nonzero, not np.flatnonzero: 1 us a call sooner
        return (self.status[: self.n] != _DISSOLVED).nonzero()[0]

    def loan_log(
        self, rows: list[int], month: int, p: Parameters
    ) -> list[dict[str, object]]:
        """The loan log's entries of the groups ``rows`` lent to in ``month``.

        ``{"month": month, "ksm": uid, **checks}`` with ``checks`` the
        :meth:`rule_checks` of the row: the same keys in the same order and the same
        values and types, each entry one dictionary (no checks' dictionary merged in).
        """
        sessions, months = p.ksm_training_sessions, p.ksm_savings_months
        any_liability = not p.joint_liability
        women = p.ksm_women_min - 1e-12
        open_ = p.targeting == "open"
        least = KSM_RULES.min_members
        return [
            {
                "month": month,
                "ksm": self.uid.item(r),
                "economic": self.kind.item(r) == KSMType.ECONOMIC,
                "not_dissolved": self.status.item(r) != KSMStatus.DISSOLVED,
                "training": self.sessions.item(r) >= sessions,
                "savings": self.months_saving.item(r) >= months,
                "joint_liability": self.joint_liability.item(r) or any_liability,
                "members": self.size.item(r) >= least,
                "women": self.women_share.item(r) >= women,
                "ps2": open_ or self.listed_at_formation.item(r),
            }
            for r in rows
        ]

    def rule_checks(self, rows: list[int], p: Parameters) -> list[dict[str, bool]]:
        """The guideline's eligibility rules (``KSM._rules``) for each of ``rows``.

        The same keys in the same order, and values (Python bools) as the rules give:
        each value read as a Python number (``item``), a few groups at a time; the
        :meth:`loan_log`'s entries without their month and group.
        """
        return [dict(list(e.items())[2:]) for e in self.loan_log(rows, 0, p)]


class _Field:
    """Descriptor exposing one :class:`KSMTable` column as a KSM attribute."""

    __slots__ = ("cast", "name")

    def __init__(self, cast: Callable[[Any], Any]) -> None:
        self.cast = cast

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: KSM | None, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        return self.cast(getattr(obj.table, self.name).item(obj.row))

    def __set__(self, obj: KSM, value: Any) -> None:
        getattr(obj.table, self.name)[obj.row] = value


def _month_or_none(value: int) -> int | None:
    return None if value < 0 else value


class _FirstLoan(_Field):
    """``first_loan_month``: None before the first loan (-1 in the column)."""

    __slots__ = ()

    def __set__(self, obj: KSM, value: int | None) -> None:
        obj.table.first_loan_month[obj.row] = -1 if value is None else value


class KSM(Agent):
    """A self-help group: a Mesa agent viewing one row of its kelurahan's KSMTable.

    Attributes:
        site: The kelurahan the group belongs to.
        table: The kelurahan's :class:`KSMTable`; ``row`` the group's row in it.
        row: See ``table``.
        members: Household rows of the members.
        kind: :class:`KSMType`.
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
        women_share: Share of women among the members.
    """

    kind = _Field(KSMType)
    status = _Field(KSMStatus)
    rw = _Field(int)
    months_saving = _Field(int)
    sessions = _Field(int)
    formed_month = _Field(int)
    first_loan_month = _FirstLoan(_month_or_none)
    joint_liability = _Field(bool)
    listed_at_formation = _Field(bool)
    women_share = _Field(float)

    def __init__(
        self,
        site: Site,
        kind: KSMType,
        members: np.ndarray,
        rw: int,
        listed: bool | None = None,
    ) -> None:
        """Form a KSM, register its members and add it to the kelurahan's KSMs.

        Args:
            site: The kelurahan (the agent joins ``site.model``, its row
                ``site.ksm_table``).
            kind: Economic, social or environmental.
            members: Rows of the kelurahan's households joining.
            rw: RW of the group.
            listed: Whether the rules admit every member now
                (:func:`~berdaya.agents.upk.capture.admitted`), if the caller has just
                checked; read here when None.
        """
        super().__init__(site.model)
        self.site = site
        self.members = members = members.astype(np.int64)
        kind = KSMType(kind)
        h = site.households
        self.table = site.ksm_table
        self.row = self.table.add(
            self,
            {
                "uid": self.unique_id,
                "kind": kind,  # status FORMING (0), no savings or sessions yet
                "rw": rw,
                "size": members.size,
                "formed_month": site.steps,
                # the members sign joint liability (tanggung renteng) when an
                # economic group forms
                "joint_liability": kind == KSMType.ECONOMIC
                and bool(site.p.joint_liability),
                "listed_at_formation": bool(capture.admitted(site, members).all())
                if listed is None
                else listed,
                # numpy's mean of the bools: whole sums, the same division
                "women_share": np.count_nonzero(h.woman[members]) / members.size
                if members.size
                else 0.0,
            },
        )
        h.ksm[members] = self.unique_id
        h.ksm_waiting[members] = False

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

    def rule_checks(self) -> dict[str, bool]:
        """The guideline's loan eligibility rules, each checked on the current state.

        Returns:
            Mapping from rule to whether it holds now.
        """
        if self._rules is _GUIDELINE:  # over the table's columns
            return self.table.rule_checks([self.row], self.site.p)[0]
        return {name: check(self) for name, check in self._rules.items()}

    @property
    def eligible(self) -> bool:
        """Whether every eligibility rule holds now (stops at the first that fails)."""
        # a plain loop: a third faster than all() over a generator
        for check in self._rules.values():  # noqa: SIM110
            if not check(self):
                return False
        return True

    # --- monthly ------------------------------------------------------------------------
    def train(self, effectiveness: float) -> None:
        """Hold one training session: members' capacity grows."""
        p = self.site.p
        h = self.site.households
        gain = np.float32(p.ksm_training_gain * effectiveness)
        # the table's kernel: dispatched once a run (int64 rows, float32 columns)
        h.kernel(_train_members).call(self.members, h.capacity, h.meetings, gain)
        self.table.sessions[self.row] += 1

    def step(self) -> None:
        """Do nothing: all KSMs are stepped together in :func:`step_ksms`."""

    def dissolve(self) -> None:
        """Dissolve the group; members are free to join another."""
        self.table.status[self.row] = KSMStatus.DISSOLVED
        h = self.site.households
        mine = h.ksm[self.members] == self.unique_id
        h.ksm[self.members[mine]] = -1


#: The guideline's rules as the class defines them (checked over the table's columns).
_GUIDELINE = KSM._rules
#: Their names, in order (the keys of :meth:`KSM.rule_checks` under the guideline).
KSM_RULE_NAMES: tuple[str, ...] = tuple(_GUIDELINE)


def guideline_rules() -> bool:
    """Whether ``KSM._rules`` is the guideline's table (read over the table's columns)."""
    return KSM._rules is _GUIDELINE


def eligible_economic(site: Site) -> list[KSM]:
    """The economic KSMs of a kelurahan that may borrow now, in order of formation.

    ``[k for k in site.ksms if k.kind == ECONOMIC and k.eligible]``: the agents of
    :func:`eligible_rows`.
    """
    agents = site.ksm_table.agents
    return [agents[i] for i in eligible_rows(site).tolist()]


def eligible_rows(site: Site) -> np.ndarray:
    """The rows in the KSM table of :func:`eligible_economic`'s groups, in order.

    While ``_rules`` is the guideline's table, its checks run over the table's columns
    in one compiled pass (:func:`_eligible`; none has a side effect, so the result is
    the same); else each agent's ``eligible``.
    """
    economic = KSMType.ECONOMIC
    if KSM._rules is not _GUIDELINE:  # a replaced table: read as it stands
        rows = [k.row for k in site.ksms if k.kind == economic and k.eligible]
        return np.array(rows, np.int64)
    p, t = site.p, site.ksm_table
    return site.households.kernel(_eligible).call(
        t.n,
        (t.kind, t.status, t.sessions, t.months_saving, t.size),
        (t.joint_liability, t.listed_at_formation),
        t.women_share,
        (
            p.ksm_training_sessions,
            p.ksm_savings_months,
            KSM_RULES.min_members,
            bool(p.joint_liability),
            p.targeting == "open",
            p.ksm_women_min - 1e-12,
        ),
    )


def rule_checks_of(site: Site, groups: list[KSM]) -> list[dict[str, bool]]:
    """``[k.rule_checks() for k in groups]``, from the KSM table at once while it can.

    Args:
        site: The kelurahan of the groups.
        groups: Some of its KSMs.
    """
    if KSM._rules is not _GUIDELINE:  # a replaced table: the agents' own
        return [k.rule_checks() for k in groups]
    if not groups:
        return []
    return site.ksm_table.rule_checks([k.row for k in groups], site.p)


@njit(cache=True)
def _eligible(
    n: int,
    ints: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    flags: tuple[np.ndarray, np.ndarray],
    women_share: np.ndarray,
    rule: tuple[int, int, int, bool, bool, float],
) -> np.ndarray:
    """Rows of the first ``n`` groups meeting the guideline's rules, in order."""
    kind, status, sessions, months, size = ints
    liability, listed = flags
    need_sessions, need_months, least, need_liability, open_, women = rule
    out = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        if (
            kind[i] == 0  # economic
            and status[i] != 3  # not dissolved
            and sessions[i] >= need_sessions
            and months[i] >= need_months
            and (liability[i] or not need_liability)
            and size[i] >= least
            and women_share[i] >= women
            and (open_ or listed[i])
        ):
            out[m] = i
            m += 1
    return out[:m]


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
def _run_sums(
    ksm: np.ndarray,
    uid: np.ndarray,
    runs: tuple[np.ndarray, np.ndarray],
    rows: np.ndarray,
    column: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_member_sums` of the groups ``rows``, over their members' ``runs``."""
    member_rows, member_end = runs
    size = np.zeros(rows.size, np.int64)
    total = np.zeros(rows.size, np.float64)
    for j in range(rows.size):
        i = rows[j]
        for r in member_rows[member_end[i - 1] if i else 0 : member_end[i]]:
            if ksm[r] == uid[i]:
                size[j] += 1
                total[j] += np.float64(column[r])
    return size, total


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


def _ids(live: list[KSM]) -> np.ndarray:
    """The unique ids of ``live``."""
    return np.fromiter([k.unique_id for k in live], np.int64, len(live))


def member_means(site: Site, live: list[KSM], column: np.ndarray) -> np.ndarray:
    """Mean of a household column over the members of each KSM in ``live``.

    A household counts for a KSM while ``households.ksm`` holds its id (a dissolved
    group's mean is 0); sums run in row order, in float64.
    """
    return member_means_of(site, _ids(live), column)


def member_means_of(site: Site, ids: np.ndarray, column: np.ndarray) -> np.ndarray:
    """:func:`member_means` of the KSMs whose unique ids are ``ids``."""
    n = ids.size
    if n == 0:
        return np.zeros(0)
    if column.dtype == np.bool_:
        column = column.view(np.uint8)
    size, total = _member_sums(site.households.ksm, ids, column)
    return np.divide(total, size, out=np.zeros(n), where=size > 0)


def step_ksms(site: Site) -> None:
    """Save and update the status of every KSM, from per-group sums over households.

    An economic KSM saves in a month when at least half its members take part or hold a
    loan. A group with fewer than 3 such members and no loan outstanding dissolves; one
    with a member in arrears is ``in arrears``; otherwise it is ``active`` once it has
    borrowed (economic) or at once (social, environmental). The sums and the new
    columns come from one compiled pass over the live groups' members and the KSM
    table (:func:`_step_groups`); only the groups dissolving are agents' work.

    Args:
        site: The kelurahan whose KSMs are updated.
    """
    t = site.ksm_table
    if t.n == 0:
        return
    h = site.households
    gone = h.kernel(_step_groups).call(
        (h.ksm, h.participating, h.loan_balance, h.arrears),
        t.n,
        (t.uid, t.kind, t.status, t.months_saving, t.first_loan_month),
        (t.member_rows, t.member_end),
        (KSM_RULES.saving_share, KSM_RULES.min_active),
    )
    agents = t.agents
    for i in gone.tolist():
        agents[i].dissolve()


@njit(cache=True)
def _step_groups(
    households: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    n: int,
    groups: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    runs: tuple[np.ndarray, np.ndarray],
    rules: tuple[float, int],
) -> np.ndarray:
    """The month of the first ``n`` groups of a KSM table (see :func:`step_ksms`).

    Adds a month of savings and sets the status of the live groups in place. Each
    group's counts come from its own members (``runs``: the table's ``member_rows``
    and ``member_end``) that ``households.ksm`` still gives to it: only a group's
    members ever hold its id, so these are the counts of a pass over every household
    (whole numbers, in any order), the codes those of ``_ksm_month`` before round 8,
    as the loop over the agents read them.

    Returns:
        The rows of the groups that dissolve (their status not yet set).
    """
    ksm, participating, loan_balance, arrears = households
    uid, kind, status, months_saving, first_loan_month = groups
    member_rows, member_end = runs
    saving_share, min_active = rules
    gone = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        if status[i] == 3:  # dissolved
            continue
        size = active = owing = late = 0  # members; taking part or owing; owing; late
        for r in member_rows[member_end[i - 1] if i else 0 : member_end[i]]:
            if ksm[r] == uid[i]:
                loan = loan_balance[r] > 0
                size += 1
                active += participating[r] or loan
                owing += loan
                late += arrears[r] > 0
        # saves when at least half its members take part or hold a loan
        if active >= saving_share * size and kind[i] == 0:  # if economic
            months_saving[i] += 1
        if active < min_active and owing == 0:  # fewer than 3 active, no loan: gone
            gone[m] = i
            m += 1
        elif late > 0:
            status[i] = 2  # in arrears
        elif first_loan_month[i] >= 0 or kind[i] != 0:
            status[i] = 1  # active
    return gone[:m]

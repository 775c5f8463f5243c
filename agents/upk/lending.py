"""Revolving loans: who borrows, how much, and the businesses the loans finance.

Loans go to members of economic KSMs that meet the guideline's rules (the KSM's
``eligible``), as far as the readiness rule lets each member take one, while the fund is not
frozen (portfolio at risk above ``par_freeze``). Groups are served in the board's order of
priority (a random draw tilted towards groups with elite members by capture); within a
group, in random order, until the cash runs out: the fund can bind, and what it could not
lend this month is recorded (``refused``). A first loan is drawn between ``loan_floor`` and
``loan_first_max`` (elites lean to the top as far as the board captures); after a clean
cycle the next is ``LENDING.loan_step`` more, up to ``loan_ceiling``.

Each loan finances a business (Banerjee, Karlan & Zinman 2015; de Mel et al. 2008; Meager
2019): it fails with chance ``(1 - business_success) (1.5 - capacity)``, losing its capital
(1.5 is ``LENDING.failure_base``); otherwise it earns a monthly return drawn from a log-normal of mean ``business_return``
(times ``new_business_factor`` for a household that had no business before) and spread
``business_return_sd``: many small returns, a few large ones.

Borrowing is a choice (Beaman, Karlan, Thuysbaert & Udry 2023: those with high returns
select into credit). A household knows the ``business_return_known`` share of its return's
log-variance (its ``business_skill``, drawn at build) and asks for a loan, or joins an
economic KSM to get one, only when the loan is expected to pay: expected return on the
capital above the interest (:func:`wants_loan`). The rest of the spread is
luck, drawn when the loan is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from berdaya.agents import readiness
from berdaya.agents.draws import Pointers, generator, pointers
from berdaya.agents.ksm import (
    KSM_RULE_NAMES,
    eligible_rows,
    guideline_rules,
    rule_checks_of,
)
from berdaya.agents.upk import capture

if TYPE_CHECKING:
    from berdaya.agents.household import HouseholdTable
    from berdaya.agents.ksm import KSM
    from berdaya.agents.upk.accounts import UPK
    from berdaya.model.site import Site
    from berdaya.scenarios.schema import Parameters


@dataclass(frozen=True)
class LendingRules:
    """Constants of lending (not scenario parameters; ODD section 8).

    Attributes:
        loan_step: Rupiah the next loan rises by after a clean cycle (assumption, from
            the guideline's steps of Rp 0.5, 1 and 2 million: text-id.123dok.com
            "peminjam, suku bunga, sistem").
        loan_rounding: Grid of first loan sizes, rupiah (assumption).
        min_judged_portfolio: Share of the fund's capital that must be on loan before
            portfolio at risk can freeze lending (assumption).
        failure_base: A business fails with chance ``(1 - business_success)`` times this
            less the borrower's capacity (assumption).
        elite_lean: First loans of elite members lean to the top: ``u`` is raised to
            ``1 / (1 + elite_lean x capture)`` (assumption).
        loan_effort: Primary effort booked per loan made (assumption).
    """

    loan_step: int = 500_000
    loan_rounding: int = 50_000
    min_judged_portfolio: float = 0.1
    failure_base: float = 1.5
    elite_lean: float = 3.0
    loan_effort: float = 0.05


LENDING = LendingRules()

#: A loan log entry of a group the guideline's rules let borrow: every check holds
#: (the month and the group filled in: the keys keep these places).
_PASSED: dict[str, object] = {
    "month": 0,
    "ksm": 0,
    **dict.fromkeys(KSM_RULE_NAMES, True),
}


def lend(site: Site, upk: UPK) -> int:
    """Lend to the members of eligible economic KSMs, as far as the cash goes.

    Returns:
        Number of loans made.
    """
    upk.frozen = frozen(site, upk)
    if upk.frozen:
        return 0
    # the eligible groups' rows in the KSM table (their agents only for those served)
    eligible = eligible_rows(site)
    if not eligible.size:
        return 0
    priority = site.rng.gumbel(size=eligible.size)
    # a group none of whose members asks gets nothing and draws nothing: only the
    # order among the groups with someone asking matters
    t = site.ksm_table
    runs = site.households.kernel(_gather_runs).call(
        eligible, t.uid, t.member_order, t.member_end
    )
    asking, count = _asking_of(site, runs)
    serve = count.nonzero()[0]  # np.flatnonzero's, 1 us sooner
    if not serve.size:
        return 0
    # every group's tilt from the same runs (each group's its own), those asking taken
    priority[serve] += np.log(_tilts_of(site, runs)[serve])
    rows, ends, served = site.households.kernel(_in_order).call(
        asking, count, np.argsort(-priority), eligible
    )
    agents = t.agents
    in_order = [agents[i] for i in served.tolist()]
    if site.p.progression != "schedule":  # readiness reads each group's askers
        wants = np.split(rows, ends[:-1])
        return _lend_in_order(site, upk, in_order, wants, eligible=True)
    return _lend_queue(site, upk, in_order, rows, ends, eligible=True)


@njit(cache=True)
def _in_order(
    asking: np.ndarray, count: np.ndarray, order: np.ndarray, eligible: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The askers of the groups ``order`` with someone asking, in that order.

    ``asking`` holds every group's askers, group after group, ``count`` of each;
    ``order`` is every group's place in the board's order, ``eligible`` their rows in
    the KSM table. Groups none of whose members asks are left out (numpy's
    ``order[count[order] > 0]`` before round 8).

    Returns:
        The askers in that order, where each group's end, and the groups' rows.
    """
    start = np.zeros(count.size, np.int64)
    for g in range(1, count.size):
        start[g] = start[g - 1] + count[g - 1]
    rows = np.empty(asking.size, np.int64)
    ends = np.empty(order.size, np.int64)
    served = np.empty(order.size, np.int64)
    m = j = 0
    for g in order:
        if count[g] > 0:
            rows[m : m + count[g]] = asking[start[g] : start[g] + count[g]]
            m += count[g]
            ends[j] = m
            served[j] = eligible[g]
            j += 1
    return rows, ends[:j], served[:j]


class LoanColumns(NamedTuple):
    """The household columns the compiled lending loop reads and writes."""

    elite: np.ndarray
    loan_size: np.ndarray
    clean_cycle: np.ndarray
    loan_cycles: np.ndarray
    loan_balance: np.ndarray
    loan_months_left: np.ndarray
    months_overdue: np.ndarray
    got_loan: np.ndarray
    handover: np.ndarray
    business_failed: np.ndarray
    business_owner: np.ndarray
    capacity: np.ndarray
    business_skill: np.ndarray
    business_return: np.ndarray


class LoanTerms(NamedTuple):
    """The month's lending constants, in the types numpy used (round 3's ``_sizes``)."""

    floor: int  # a first loan: floor + min(floor(u (span + 1)), span) x grid
    span: int
    grid: int
    step: int  # a later loan: the last plus step after a clean cycle
    ceiling: int
    term: int
    keep_fail: np.float32  # (1 - business_success), the failure chance's float32 terms
    failure_base: np.float32
    mean_return: np.float32
    new_factor: float


class Queue(NamedTuple):
    """The groups to serve, in order, and what the compiled loop wrote for each.

    Attributes:
        rows: Each group's askers, concatenated; the loop leaves each group permuted.
        ends: Where each group's askers end in ``rows``.
        u: The loan-size draws of each group's askers (at their places in ``rows``).
        made: Loans made to each group.
        lent: The rows lent to, in order; ``normal`` the luck's normal draw of each.
        normal: See ``lent``.
        books: Cash left, rupiah refused, loans made in all, rupiah lent in all.
    """

    rows: np.ndarray
    ends: np.ndarray
    u: np.ndarray
    made: np.ndarray
    lent: np.ndarray
    normal: np.ndarray
    books: np.ndarray


def _lend_in_order(
    site: Site,
    upk: UPK,
    groups: list[KSM],
    wants: list[np.ndarray],
    *,
    eligible: bool = False,
) -> int:
    """Lend to the groups in order in one compiled loop.

    Readiness is read first (it draws nothing, and lending changes none of what it
    reads). The loop (:func:`_serve`) draws each group's permutation, sizes, failures
    and luck from the site's generator in the same order as round 3's Python did
    (``tests/lending_reference.py``, which the tests compare with it), through
    numba's ``Generator`` (the same numbers, tested). ``eligible``: the groups are
    some of those :func:`~berdaya.agents.ksm.eligible_economic` gave this month (the
    loan log's checks then all hold, :func:`_log_entries`). Two things stay numpy's: an elite
    first loan's lean ``u ** e`` (the loop stops before such a group, and resumes with
    numpy's powers) and the luck's ``exp``, taken after the loop over all the month's
    loans at once (numpy's ``exp`` gives each element the same value at any place in an
    array; its vectorised routines need not round as the C library's do).

    Returns:
        Number of loans made.
    """
    if site.p.progression != "schedule":  # the timetable lets everyone asking borrow
        wants = [
            want
            if readiness.everyone(site, w)
            else want[readiness.ready(site, want, w)]
            for want, w in zip(wants, _waited(site, groups), strict=True)
        ]
    keep = [i for i, want in enumerate(wants) if want.size]
    if not keep:
        return 0
    if len(keep) < len(wants):  # readiness left some group no one
        groups = [groups[i] for i in keep]
        wants = [wants[i] for i in keep]
    ends = np.fromiter(accumulate([w.size for w in wants]), np.int64, len(wants))
    return _lend_queue(
        site, upk, groups, np.concatenate(wants), ends, eligible=eligible
    )


def _lend_queue(
    site: Site,
    upk: UPK,
    groups: list[KSM],
    rows: np.ndarray,
    ends: np.ndarray,
    *,
    eligible: bool = False,
) -> int:
    """Lend to the groups' askers ``rows`` (group ``j``'s end at ``ends[j]``), in order.

    :func:`_lend_in_order` after readiness: the compiled loop, the elites' lean, the
    luck's ``exp`` and the returns, then the books.

    Returns:
        Number of loans made.
    """
    h = site.households
    q = Queue(
        rows,
        ends,
        np.empty(rows.size),
        np.zeros(ends.size, np.int64),
        np.empty(rows.size, np.int64),
        np.empty(rows.size),
        np.array([upk.fund_cash, 0, 0, 0], np.int64),
    )
    cols, (terms, (sd, half)) = h.as_tuple(LoanColumns), _constants(site.p)
    lean, at = np.empty(0), pointers(site.rng)
    serve = h.kernel(_serve)
    g = serve.call(at, q, cols, terms, 0, lean)
    if g < len(groups):  # the lean's power, the same all month
        e = 1.0 / (1.0 + LENDING.elite_lean * capture.strength(site))
    while g < len(groups):  # an elite's first loan: numpy's power, then on
        a, b = (q.ends[g - 1] if g else 0), q.ends[g]
        u = q.u[a:b]
        lean = np.where(h.elite[q.rows[a:b]] > 0, u**e, u)
        g = serve.call(at, q, cols, terms, g, lean)
    n = int(q.books[2])
    if n:  # the businesses' luck, with numpy's exp, then their returns
        luck = np.exp(sd * q.normal[:n] - half)
        h.kernel(_returns).call(q.lent[:n], luck, cols, terms)
    return _book(site, upk, groups, q, eligible=eligible)


def _waited(site: Site, groups: list[KSM]) -> list[int]:
    """Months each group's loan has waited (for readiness's ``hybrid``)."""
    formed, now = site.ksm_table.formed_month, site.steps
    months = site.p.ksm_savings_months
    return [now - formed.item(k.row) - months for k in groups]


def _terms(p: Parameters) -> LoanTerms:
    """The month's :class:`LoanTerms` from the scenario and :data:`LENDING`.

    Made once for a scenario (``Parameters`` are frozen) and kept: 1 us a lending month.
    """
    return _constants(p)[0]


def _constants(p: Parameters) -> tuple[LoanTerms, tuple[np.float64, np.float64]]:
    """:func:`_terms`, and the luck's spread ``sd`` and ``0.5 sd sd``, kept together.

    The luck's terms as the month computed them (numpy's ``sqrt`` of a Python float,
    then numpy's float64 products in the same order): 2 us a lending month.
    """
    global _kept_terms  # noqa: PLW0603 - one scenario's constants, kept between months
    kept, rules, terms, luck = _kept_terms
    if kept is p and rules is LENDING:
        return terms, luck
    sd = p.business_return_sd * np.sqrt(1.0 - p.business_return_known)
    luck = (sd, 0.5 * sd * sd)
    grid = LENDING.loan_rounding
    terms = LoanTerms(
        p.loan_floor,
        (p.loan_first_max - p.loan_floor) // grid,
        grid,
        LENDING.loan_step,
        p.loan_ceiling,
        int(p.loan_term),
        np.float32(1.0 - p.business_success),
        np.float32(LENDING.failure_base),
        np.float32(p.business_return),
        float(p.new_business_factor),
    )
    _kept_terms = (p, LENDING, terms, luck)
    return terms, luck


# the last scenario's terms, (Parameters, LENDING, terms, luck): one object, replaced
# whole
_kept_terms: tuple = (None, None, None, None)


def _book(
    site: Site, upk: UPK, groups: list[KSM], q: Queue, *, eligible: bool = False
) -> int:
    """After the loop: the books, the log and the effort.

    In the groups' order, as round 3's ``_lend_to`` and ``_disburse`` did them;
    ``eligible`` as :func:`_lend_in_order`'s.
    """
    _, refused, n, total = q.books.tolist()
    upk.refused += refused
    if n == 0:
        return 0
    upk.fund_cash -= total
    upk.outstanding += total
    upk.disbursed += total
    upk.loans_made += n
    lent = [(k, made) for k, made in zip(groups, q.made.tolist(), strict=True) if made]
    now, effort = site.steps, site.effort
    upk.loan_log += _log_entries(site, lent, eligible)
    first = site.ksm_table.first_loan_month  # -1 before a group's first loan
    for k, made in lent:
        if first.item(k.row) < 0:
            first[k.row] = now
        effort.add(primary=LENDING.loan_effort * made)
    return n


def _log_entries(site: Site, lent: list[tuple[KSM, int]], eligible: bool) -> list[dict]:
    """The loan log's entries of the groups ``lent`` to this month (with their loans).

    ``{"month", "ksm", **checks}`` with each group's rule checks. While the rules are
    the guideline's: for groups ``eligible`` gave this month every check holds (each
    is one of :func:`~berdaya.agents.ksm._eligible`'s conditions, on columns lending
    does not change), so each entry is :data:`_PASSED` with the month and the group
    (about 1.5 us a group sooner than reading the columns); else from the KSM table's
    columns (:meth:`~berdaya.agents.ksm.KSMTable.loan_log`). Else each agent's own.
    """
    now = site.steps
    if guideline_rules():
        if eligible:
            return [{**_PASSED, "month": now, "ksm": k.unique_id} for k, _ in lent]
        return site.ksm_table.loan_log([k.row for k, _ in lent], now, site.p)
    groups = [k for k, _ in lent]
    checks_of = rule_checks_of(site, groups)
    return [
        {"month": now, "ksm": k.unique_id, **checks}
        for k, checks in zip(groups, checks_of, strict=True)
    ]


@njit(cache=True)
def _serve(  # noqa: PLR0917 - a numba kernel takes its arguments by position
    at: Pointers,
    q: Queue,
    c: LoanColumns,
    t: LoanTerms,
    start: int,
    lean: np.ndarray,
) -> int:
    """Serve the groups of ``q`` from ``start`` in order, as round 3's ``_lend_to`` did.

    ``lean`` (if not empty) is group ``start``'s loan-size draws with numpy's elite
    lean, its askers already permuted. Stops before computing sizes for a group with an
    elite asking for a first loan (its draws kept in ``q.u``).

    Returns:
        The group to resume at after numpy's power, or the number of groups when done.
    """
    rng = generator(at)  # the site's generator (agents.draws)
    for g in range(start, q.ends.size):
        a = q.ends[g - 1] if g else 0
        b = q.ends[g]
        if g == start and lean.size:
            u = lean
        else:
            q.rows[a:b] = rng.permutation(q.rows[a:b])
            u = rng.random(b - a)
            if _leans(q.rows[a:b], c):
                q.u[a:b] = u
                return g
        q.made[g] = _open(rng, q, c, t, a, b, u)
    return q.ends.size


@njit(cache=True, inline="always")
def _leans(rows: np.ndarray, c: LoanColumns) -> bool:
    """Whether an elite among ``rows`` asks for a first loan (sized by a lean draw)."""
    for r in rows:  # noqa: SIM110 - a plain loop compiles; any() over a generator not
        if c.elite[r] > 0 and c.loan_cycles[r] == 0:
            return True
    return False


@njit(cache=True)
def _open(  # noqa: PLR0917 - a numba kernel takes its arguments by position
    rng: np.random.Generator,
    q: Queue,
    c: LoanColumns,
    t: LoanTerms,
    a: int,
    b: int,
    u: np.ndarray,
) -> int:
    """One group's loans: sizes from ``u``, those that fit the cash opened.

    round 3's ``_sizes``, then its ``_open_loans`` without the luck (drawn here, its ``exp``
    taken after the loop: ``q.normal``).

    Returns:
        Loans made.
    """
    cash = q.books[0]
    fits = np.empty(b - a, np.int64)
    amount = np.empty(b - a, np.int64)
    total = k = 0
    for j in range(b - a):
        r = q.rows[a + j]
        if c.loan_cycles[r] > 0:
            x = c.loan_size[r] + (t.step if c.clean_cycle[r] else 0)
        else:
            x = np.int64(
                t.floor + min(np.floor(u[j] * (t.span + 1)), float(t.span)) * t.grid
            )
        x = min(x, t.ceiling)
        total += x
        if total <= cash:
            fits[k] = r
            amount[k] = x
            k += 1
        else:
            q.books[1] += x
    if k == 0:
        return 0
    fail = rng.random(k)
    normal = rng.standard_normal(k)
    n = q.books[2]
    for j in range(k):
        r = fits[j]
        c.loan_size[r] = amount[j]
        c.loan_balance[r] = amount[j]
        c.loan_months_left[r] = t.term
        c.months_overdue[r] = 0
        c.clean_cycle[r] = True
        c.got_loan[r] = True
        c.handover[r] = True
        chance = t.keep_fail * (t.failure_base - c.capacity[r])  # float32, as numpy's
        c.business_failed[r] = fail[j] < np.float64(chance)
        q.lent[n + j] = r
        q.normal[n + j] = normal[j]
        q.books[0] -= amount[j]
        q.books[3] += amount[j]
    q.books[2] = n + k
    return k


@njit(cache=True)
def _returns(rows: np.ndarray, luck: np.ndarray, c: LoanColumns, t: LoanTerms) -> None:
    """Each new business's return: 0 if it failed, else its known return times luck.

    As round 3's ``_open_loans`` computed it: ``business_return x skill`` in float32, then
    times its scale and its luck in float64, stored as float32.
    """
    for j in range(rows.size):
        r = rows[j]
        if c.business_failed[r]:
            c.business_return[r] = 0.0
        else:
            scale = 1.0 if c.business_owner[r] else t.new_factor
            known = np.float64(t.mean_return * c.business_skill[r]) * scale
            c.business_return[r] = known * luck[j]


def _runs(groups: list[KSM]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The groups' members concatenated, where each group's end, and the groups' ids."""
    members = np.concatenate([k.members for k in groups])
    ends = np.cumsum([k.members.size for k in groups])
    owner = np.fromiter([k.unique_id for k in groups], np.int64, len(groups))
    return members, ends, owner


@njit(cache=True)
def _gather_runs(
    rows: np.ndarray, uid: np.ndarray, member_order: np.ndarray, member_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_runs` of the groups ``rows`` of a KSM table, from its member runs.

    The table keeps each group's members in the group's own order (``member_order``,
    group ``i``'s ending at ``member_end[i]``); they are copied in the order of
    ``rows``, with each group's end and id: the arrays ``_runs`` concatenates from the
    agents, without them (a KSM's members never change).
    """
    n = 0
    for i in rows:
        n += member_end[i] - (member_end[i - 1] if i else 0)
    members = np.empty(n, np.int64)
    ends = np.empty(rows.size, np.int64)
    owner = np.empty(rows.size, np.int64)
    m = 0
    for j in range(rows.size):
        i = rows[j]
        a, b = (member_end[i - 1] if i else 0), member_end[i]
        members[m : m + b - a] = member_order[a:b]
        m += b - a
        ends[j] = m
        owner[j] = uid[i]
    return members, ends, owner


def _askers(
    site: Site,
    groups: list[KSM],
    runs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> dict[int, np.ndarray]:
    """The members of each group who would ask this month, in the group's order.

    A member asks when it is still in the group, holds no loan, has neither graduated
    nor defaulted, and expects a loan to pay (:func:`wants_loan`); read once for the
    month, over the groups' members only, in one compiled pass (:func:`_asking_of`).

    Returns:
        For each group with someone asking (its position in ``groups``), the askers.
    """
    asking, count = _asking_of(site, _runs(groups) if runs is None else runs)
    out = {}
    a = 0
    for g in np.flatnonzero(count).tolist():
        b = a + int(count[g])
        out[g] = asking[a:b]
        a = b
    return out


def _asking_of(
    site: Site, runs: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The askers of the groups of ``runs`` (:func:`_runs`) and how many each has.

    Group after group, from one compiled pass (:func:`_asking`).
    """
    h = site.households
    members, ends, owner = runs
    return h.kernel(_asking).call(
        members,
        ends,
        owner,
        (h.ksm, h.loan_balance),
        (h.graduated, h.defaulted, h.business_owner),
        (h.capacity, h.business_skill),
        _loan_pays(site.p),
    )


def _loan_pays(
    p: Parameters,
) -> tuple[np.float32, np.float32, np.float32, float, float]:
    """The scalars of :func:`wants_loan` as the compiled :func:`_pays` takes them.

    Numpy's: float32 where a Python float meets a float32 column. Made once for a
    scenario (``Parameters`` are frozen) and kept, as :func:`_terms`: read by lending
    and formation's joining every month, 1.5 us a call to make.
    """
    global _kept_pays  # noqa: PLW0603 - one scenario's constants, kept between months
    kept, rules, pays = _kept_pays
    if kept is p and rules is LENDING:
        return pays
    pays = (
        np.float32(1.0 - p.business_success),
        np.float32(LENDING.failure_base),
        np.float32(p.business_return),
        float(p.new_business_factor),
        float(p.loan_interest),
    )
    _kept_pays = (p, LENDING, pays)
    return pays


# the last scenario's scalars, (Parameters, LENDING, pays): one object, replaced whole
_kept_pays: tuple = (None, None, None)


@njit(cache=True, inline="always")
def _pays(
    capacity: np.float32,
    skill: np.float32,
    owner: bool,
    pays: tuple[np.float32, np.float32, np.float32, float, float],
) -> bool:
    """:func:`wants_loan` for one household, with numpy's types at every step."""
    keep_fail, failure_base, mean_return, new_factor, interest = pays
    survive = np.float32(1.0) - keep_fail * (failure_base - capacity)  # float32
    known = np.float64(mean_return * skill) * (1.0 if owner else new_factor)
    return np.float64(survive) * known > interest


@njit(cache=True)
def _asking(  # noqa: PLR0917 - a numba kernel takes its arguments by position
    members: np.ndarray,
    ends: np.ndarray,
    owner: np.ndarray,
    loans: tuple[np.ndarray, np.ndarray],
    flags: tuple[np.ndarray, np.ndarray, np.ndarray],
    floats: tuple[np.ndarray, np.ndarray],
    pays: tuple[np.float32, np.float32, np.float32, float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """The askers of each group, in order, and how many each group has.

    Group ``j`` is the members ``members[ends[j - 1]:ends[j]]``, owned by ``owner[j]``.
    """
    ksm, loan_balance = loans
    graduated, defaulted, business_owner = flags
    capacity, skill = floats
    asking = np.empty(members.size, np.int64)
    count = np.zeros(ends.size, np.int64)
    n = a = 0
    for j in range(ends.size):
        for i in range(a, ends[j]):
            r = members[i]
            if (
                ksm[r] == owner[j]
                and loan_balance[r] == 0
                and not graduated[r]
                and not defaulted[r]
                and _pays(capacity[r], skill[r], business_owner[r], pays)
            ):
                asking[n] = r
                n += 1
                count[j] += 1
        a = ends[j]
    return asking[:n], count


def _tilts(
    site: Site,
    groups: list[KSM],
    runs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Mean capture tilt of each group's members (all 1 when the board steers nothing).

    The same values as numpy's mean of :func:`~berdaya.agents.upk.capture.steer` over
    the members, in one compiled pass (:func:`_group_tilts`); ``runs`` are the groups'
    :func:`_runs`, if already made.
    """
    if runs is None:
        if capture.strength(site) <= 0.0:  # (no groups to concatenate, maybe)
            return np.ones(len(groups))
        members = np.concatenate([k.members for k in groups])
        ends = np.cumsum([k.members.size for k in groups])
        runs = (members, ends, ends)  # (the owners unread)
    return _tilts_of(site, runs)


def _tilts_of(
    site: Site, runs: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> np.ndarray:
    """:func:`_tilts` of the groups of ``runs`` (:func:`_runs`).

    The compiled pass dispatched once (the table's kernel): its arguments' types are
    fixed (int64 runs, the int8 column, two floats).
    """
    members, ends, _ = runs
    c = capture.strength(site)
    if c <= 0.0:
        return np.ones(ends.size)
    h = site.households
    return h.kernel(_group_tilts).call(members, ends, h.elite, capture.tilts(c))


@njit(cache=True)
def _group_tilts(
    members: np.ndarray,
    ends: np.ndarray,
    elite: np.ndarray,
    factors: tuple[float, float],
) -> np.ndarray:
    """Mean tilt of each group ``members[ends[j - 1]:ends[j]]``, as numpy's ``mean``.

    1 exactly for a group without elite members; otherwise the tilts (1, informal,
    formal by elite class) added as numpy adds them (:func:`_numpy_sum`), over the
    group's size.
    """
    informal, formal = factors
    out = np.ones(ends.size)
    tilt = np.empty(members.size)
    a = 0
    for j in range(ends.size):
        b = ends[j]
        any_elite = False
        for i in range(a, b):
            e = elite[members[i]]
            any_elite |= e != 0
            tilt[i] = formal if e == 2 else (informal if e > 0 else 1.0)
        if any_elite:
            out[j] = _numpy_sum(tilt[a:b]) / (b - a)
        a = b
    return out


@njit(cache=True)
def _numpy_sum(x: np.ndarray) -> float:
    """``np.add.reduce`` of a contiguous float64 array, in numpy's pairwise order.

    Below 8 values one by one; up to 128 in eight interleaved partial sums combined
    pairwise, then the rest one by one; above that, the two halves (the first a multiple
    of 8 long) each so, then added.
    """
    n = x.size
    if n > 128:
        half = n // 2
        half -= half % 8
        return _numpy_sum(x[:half]) + _numpy_sum(x[half:])
    if n < 8:
        total = 0.0
        for i in range(n):
            total += x[i]
        return total
    r = x[:8].copy()
    i = 8
    while i < n - n % 8:
        for k in range(8):
            r[k] += x[i + k]
        i += 8
    total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        total += x[i]
        i += 1
    return total


def frozen(site: Site, upk: UPK) -> bool:
    """Whether lending stops: portfolio at risk above ``par_freeze``.

    That is the guideline's grade inadequate, judged once the portfolio is worth
    judging: at least ``LENDING.min_judged_portfolio`` of the fund's capital out on loan (a few
    late loans left at the end of a lending round say little; an assumption).
    """
    capital = upk.fund_cash + upk.outstanding
    judged = upk.outstanding >= LENDING.min_judged_portfolio * capital
    return judged and upk.par > site.p.par_freeze


def failure_chance(p: Parameters, capacity: np.ndarray) -> np.ndarray:
    """Chance a loan-financed business fails (more likely with low capacity)."""
    return (1.0 - p.business_success) * (LENDING.failure_base - capacity)


def _known_return(p: Parameters, h: HouseholdTable, rows: np.ndarray) -> np.ndarray:
    """Monthly return per rupiah a surviving business of ``rows`` is known to earn."""
    scale = np.where(h.business_owner[rows], 1.0, p.new_business_factor)
    return p.business_return * h.business_skill[rows] * scale


def wants_loan(p: Parameters, h: HouseholdTable, rows: np.ndarray) -> np.ndarray:
    """Whether each of ``rows`` expects a loan to pay, and so asks for one.

    A loan pays when the expected monthly return on the capital (the known return of a
    business that survives) beats the monthly interest: the textbook condition of a
    marginal return above the price of credit.
    """
    survive = 1.0 - failure_chance(p, h.capacity[rows])
    return survive * _known_return(p, h, rows) > p.loan_interest

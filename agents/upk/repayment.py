"""Repayment that can fail: instalments, interest and default, borrower by borrower.

Each month every borrower owes the scheduled principal (the loan over ``loan_term``
months), any arrears, and interest at ``loan_interest`` on the balance. What paying costs
the household comes out of its welfare: a working business pays the principal back out of
the capital it turns over and the interest out of its profit (a monthly ``business_return``
on the balance), so its owner keeps profit less interest; a failed business has lost its
capital, so principal and interest come out of consumption.

The chance of missing the month's payment is the kelurahan's base hazard (its own draw
around ``default_hazard``, :func:`kelurahan_hazards`: repayment cultures differ between
kelurahan) raised by

* stress: ``stress_default`` per poverty line by which paying would leave the household
  below the line (shocks, a failed business);
* a failed business (x ``failed_business_factor``), a capacity gap below ``capacity_threshold``, a forced stage
  (``forced_multiplier``) and low trust in the BKM;
* contagion: ``default_contagion`` per unit share of ties in arrears (Lee et al. 2015);
* borrower runs (Bond & Rai 2009): ``run_sensitivity`` x the fund's portfolio at risk, and
  more when lending is frozen or the board has stopped, since a borrower then expects no
  next loan;
* arrears: a borrower already behind misses ``arrears_persistence`` times as often
  (assumption: arrears persist, so defaults accumulate rather than cure at once);
* joint liability (when signed): peer pressure cuts it by ``jl_pressure``, free-riding
  raises it by ``jl_freeride`` per unit share of group-mates in arrears.

A miss adds the scheduled principal to arrears. Loans overdue ``writeoff_months`` past their
term are written off. A loan repaid by a working business leaves the household
``capital_retained`` of its capital as its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from berdaya.agents.upk.accounts import UPK
    from berdaya.model.site import Site
    from berdaya.scenarios.schema import Parameters


@dataclass(frozen=True)
class RepaymentRules:
    """Constants of the repayment hazard (not scenario parameters; ODD section 8).

    Attributes:
        failed_business_factor: Hazard multiplier for a borrower whose business failed
            (assumption).
        capacity_gap_weight: Hazard raised by this much per unit of capacity below
            ``capacity_threshold`` (assumption).
        trust_base: The hazard is multiplied by this less trust in the BKM (assumption).
        arrears_persistence: A borrower already in arrears misses this many times as
            often: arrears persist rather than cure at once (assumption).
        max_miss: Largest chance of missing a month's payment (assumption).
    """

    failed_business_factor: float = 3.0
    capacity_gap_weight: float = 2.0
    trust_base: float = 1.5
    arrears_persistence: float = 4.0
    max_miss: float = 0.95


REPAYMENT = RepaymentRules()


class Terms(NamedTuple):
    """Loan terms and repayment rates, as the kernel takes them."""

    loan_term: int
    loan_interest: float
    default_hazard: float
    capacity_threshold: np.float32
    forced_multiplier: float
    default_contagion: float
    stress_default: float
    run: float
    joint_liability: bool
    jl_pressure: float
    jl_freeride: float
    writeoff_months: int
    graduation_cycles: int
    poverty_line_rp: float
    capital_retained: float
    failed_business_factor: float
    capacity_gap_weight: float
    trust_base: float
    arrears_persistence: float
    max_miss: float


class Loans(NamedTuple):
    """The household columns repayment reads and writes (views of the table)."""

    ksm: np.ndarray
    capacity: np.ndarray
    forced: np.ndarray
    trust_bkm: np.ndarray
    welfare: np.ndarray
    business_return: np.ndarray
    business_failed: np.ndarray
    own_capital: np.ndarray
    transfer: np.ndarray
    loan_size: np.ndarray
    loan_balance: np.ndarray
    arrears: np.ndarray
    loan_months_left: np.ndarray
    months_overdue: np.ndarray
    loan_cycles: np.ndarray
    clean_cycle: np.ndarray
    graduated: np.ndarray
    defaulted: np.ndarray


class Ties(NamedTuple):
    """The row-normalised tie matrix (CSR) of the kelurahan."""

    indptr: np.ndarray
    indices: np.ndarray
    weight: np.ndarray


def collect(site: Site, upk: UPK) -> None:
    """Collect this month's instalments from every borrower and book them."""
    h = site.households
    rows = (h.loan_balance > 0).nonzero()[0]  # np.flatnonzero's rows, 2 us sooner
    if rows.size == 0:
        return
    a = site.adjacency_norm
    loans = h.as_tuple(Loans)
    due, paid, principal_in, interest_in, lost = h.kernel(_collect).call(
        rows,
        site.rng.random(rows.size),
        Ties(a.indptr, a.indices, a.data),
        loans,
        terms(site, upk),
    )
    upk.principal_due += int(due)
    upk.principal_paid += int(paid)
    upk.fund_cash += int(principal_in + interest_in)
    upk.interest_earned += int(interest_in)
    upk.outstanding -= int(principal_in + lost)
    upk.written_off += int(lost)


def kelurahan_hazards(p: Parameters, rng: np.random.Generator) -> np.ndarray:
    """Each kelurahan's base default hazard: log-normal, mean ``default_hazard``.

    The spread is ``default_hazard_spread`` (sd of the log). Together with the borrower
    runs this gives the documented pattern: most funds repay well, and the few kelurahan
    drawn high tip into arrears, a frozen fund and a run.
    """
    sd = p.default_hazard_spread
    z = rng.standard_normal(p.n_kelurahan)
    return p.default_hazard * np.exp(sd * z - 0.5 * sd * sd)


def terms(site: Site, upk: UPK) -> Terms:
    """The month's terms: the scenario's, the run pressure, and :data:`REPAYMENT`.

    Only the kelurahan's hazard and the run pressure change; the rest are the
    scenario's and :data:`REPAYMENT`'s, kept between months (:func:`_fixed_terms`).
    """
    p = site.p
    expect_none = 1.0 if (upk.frozen or not site.bkm.active) else 0.0
    head, mid, tail = _fixed_terms(p)
    run = p.run_sensitivity * max(upk.par, expect_none)
    return Terms._make((*head, site.default_hazard, *mid, run, *tail))


# the last scenario's fixed terms, (Parameters, REPAYMENT, terms): replaced whole
_fixed: tuple = (None, None, None)


def _fixed_terms(p: Parameters) -> tuple[tuple, tuple, tuple]:
    """The terms of :class:`Terms` that are the scenario's or :data:`REPAYMENT`'s.

    Made once for a scenario (``Parameters`` are frozen), in :class:`Terms`' order
    around ``default_hazard`` and ``run``: about 2 us a month less than a new
    :class:`Terms` by keyword.
    """
    global _fixed  # noqa: PLW0603 - one scenario's constants, kept between months
    kept, rules, fixed = _fixed
    if kept is not p or rules is not REPAYMENT:
        fixed = (
            (p.loan_term, p.loan_interest),
            (
                np.float32(p.capacity_threshold),
                p.forced_multiplier,
                p.default_contagion,
                p.stress_default,
            ),
            (
                bool(p.joint_liability),
                p.jl_pressure,
                p.jl_freeride,
                p.writeoff_months,
                p.graduation_cycles,
                float(p.poverty_line_rp),
                p.capital_retained,
                REPAYMENT.failed_business_factor,
                REPAYMENT.capacity_gap_weight,
                REPAYMENT.trust_base,
                REPAYMENT.arrears_persistence,
                REPAYMENT.max_miss,
            ),
        )
        _fixed = (p, REPAYMENT, fixed)
    return fixed


@njit(cache=True)
def _late_shares(
    rows: np.ndarray, ties: Ties, loans: Loans, joint: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Share of each borrower's ties, and of its KSM-mates, in arrears (start of month)."""
    ties_late = np.zeros(rows.size)
    for i in range(rows.size):
        r = rows[i]
        for e in range(ties.indptr[r], ties.indptr[r + 1]):
            if loans.arrears[ties.indices[e]] > 0:
                ties_late[i] += ties.weight[e]
    if not joint:
        return ties_late, np.zeros(rows.size)
    return ties_late, _mates_late(rows, loans)


@njit(cache=True)
def _mates_late(rows: np.ndarray, loans: Loans) -> np.ndarray:
    """Share of each borrower's KSM (itself included) in arrears."""
    mates_late = np.zeros(rows.size)
    low, high = np.iinfo(np.int64).max, -1
    for r in rows:
        if loans.ksm[r] >= 0:
            low, high = min(low, loans.ksm[r]), max(high, loans.ksm[r])
    size = np.zeros(max(high - low + 1, 0), dtype=np.int64)
    late = np.zeros(size.size, dtype=np.int64)
    for j in range(loans.ksm.size):
        k = loans.ksm[j]
        if low <= k <= high:
            size[k - low] += 1
            late[k - low] += loans.arrears[j] > 0
    for i in range(rows.size):
        k = loans.ksm[rows[i]]
        if k >= 0:
            mates_late[i] = late[k - low] / size[k - low]
    return mates_late


@njit(cache=True, inline="always")
def _hazard(  # noqa: PLR0917 - a numba kernel takes its arguments by position
    t: Terms, loans: Loans, r: int, shortfall: float, ties_late: float, mates: float
) -> float:
    """Chance that borrower ``r`` misses this month's payment."""
    hazard = t.default_hazard * (1.0 + t.stress_default * shortfall)
    if loans.business_failed[r]:
        hazard *= t.failed_business_factor
    gap = max(t.capacity_threshold - loans.capacity[r], np.float32(0.0))
    hazard *= 1.0 + t.capacity_gap_weight * gap
    if loans.forced[r]:
        hazard *= t.forced_multiplier
    hazard *= t.trust_base - loans.trust_bkm[r]
    hazard *= 1.0 + t.default_contagion * ties_late
    hazard *= 1.0 + t.run
    if loans.arrears[r] > 0:
        hazard *= t.arrears_persistence  # once behind, catching up is hard
    if t.joint_liability:
        hazard *= (1.0 - t.jl_pressure) * (1.0 + t.jl_freeride * mates)
    return hazard


@njit(cache=True)
def _collect(
    rows: np.ndarray, u: np.ndarray, ties: Ties, loans: Loans, t: Terms
) -> tuple[int, int, int, int, int]:
    """One month of repayment by the borrowers ``rows``, updating their columns.

    Returns:
        Principal fallen due, principal paid, principal and interest collected, and
        principal written off, in rupiah.
    """
    ties_late, mates_late = _late_shares(rows, ties, loans, t.joint_liability)
    line = t.poverty_line_rp
    due = paid = principal_in = interest_in = lost = 0
    for i in range(rows.size):
        r = rows[i]
        bal = loans.loan_balance[r]
        owed = loans.arrears[r]
        scheduled = 0
        if loans.loan_months_left[r] > 0:
            scheduled = min(bal - owed, -(-loans.loan_size[r] // t.loan_term))
        scheduled = max(scheduled, 0)
        interest = np.int64(np.rint(bal * t.loan_interest))
        failed = loans.business_failed[r]
        profit = 0.0 if failed else loans.business_return[r] * bal
        # what paying costs the household's consumption this month, in rupiah
        cost = interest - profit + (scheduled + owed if failed else 0)
        shortfall = max(0.0, 1.0 - (loans.welfare[r] - cost / line))
        hazard = _hazard(t, loans, r, shortfall, ties_late[i], mates_late[i])
        due += scheduled
        if u[i] < min(hazard, t.max_miss):
            loans.arrears[r] = owed + scheduled
            loans.clean_cycle[r] = False
            loans.transfer[r] += np.float32(profit / line)
        else:
            paid += scheduled + owed
            principal_in += scheduled + owed
            interest_in += interest
            loans.loan_balance[r] = bal - scheduled - owed
            loans.arrears[r] = 0
            loans.transfer[r] -= np.float32(cost / line)
        _close_month(loans, r, t)
        if loans.defaulted[r] and loans.loan_balance[r] > 0:
            lost += loans.loan_balance[r]
            loans.loan_balance[r] = 0
            loans.arrears[r] = 0
    return due, paid, principal_in, interest_in, lost


@njit(cache=True, inline="always")
def _close_month(loans: Loans, r: int, t: Terms) -> None:
    """Age the loan; mark a write-off; close a repaid loan (a cycle, retained capital)."""
    loans.loan_months_left[r] = max(loans.loan_months_left[r] - 1, 0)
    if loans.loan_months_left[r] == 0 and loans.loan_balance[r] > 0:
        loans.months_overdue[r] += 1
    else:
        loans.months_overdue[r] = 0
    if loans.months_overdue[r] > t.writeoff_months:
        loans.defaulted[r] = True
        return
    if loans.loan_balance[r] == 0:
        loans.loan_cycles[r] += 1
        if not loans.business_failed[r]:
            loans.own_capital[r] += np.float32(t.capital_retained * loans.loan_size[r])
        loans.business_failed[r] = False
        loans.graduated[r] |= loans.loan_cycles[r] >= t.graduation_cycles

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
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from berdaya.agents import readiness
from berdaya.agents.ksm import KSMType
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


def lend(site: Site, upk: UPK) -> int:
    """Lend to the members of eligible economic KSMs, as far as the cash goes.

    Returns:
        Number of loans made.
    """
    upk.frozen = frozen(site, upk)
    if upk.frozen:
        return 0
    groups = [k for k in site.ksms if k.kind == KSMType.ECONOMIC and k.eligible]
    if not groups:
        return 0
    priority = site.rng.gumbel(size=len(groups))
    # a group none of whose members asks gets nothing and draws nothing: only the
    # order among the groups with someone asking matters
    askers = _askers(site, groups)
    if not askers:
        return 0
    serve = list(askers)
    priority[serve] += np.log(_tilts(site, [groups[i] for i in serve]))
    made = 0
    for i in np.argsort(-priority).tolist():
        if i in askers:
            made += _lend_to(site, upk, groups[i], askers[i])
    return made


def _askers(site: Site, groups: list[KSM]) -> dict[int, np.ndarray]:
    """The members of each group who would ask this month, in the group's order.

    A member asks when it is still in the group, holds no loan, has neither graduated
    nor defaulted, and expects a loan to pay (:func:`wants_loan`); read once for the
    month, over the groups' members only.

    Returns:
        For each group with someone asking (its position in ``groups``), the askers.
    """
    h = site.households
    members = np.concatenate([k.members for k in groups])
    sizes = [k.members.size for k in groups]
    owner = np.repeat([k.unique_id for k in groups], sizes)
    asks = (h.ksm[members] == owner) & (h.loan_balance[members] == 0)
    asks &= ~h.graduated[members] & ~h.defaulted[members]
    at = np.flatnonzero(asks)
    at = at[wants_loan(site.p, h, members[at])]  # one by one: the same for fewer rows
    if at.size == 0:
        return {}
    group = np.repeat(np.arange(len(groups)), sizes)[at]  # ascending, as ``at`` is
    serve, first = np.unique(group, return_index=True)
    return dict(zip(serve.tolist(), np.split(members[at], first[1:]), strict=True))


def _tilts(site: Site, groups: list[KSM]) -> np.ndarray:
    """Mean capture tilt of each group's members (all 1 when the board steers nothing).

    The same values as numpy's mean of :func:`~berdaya.agents.upk.capture.steer` over
    the members: 1 exactly for a group without elite members, and for a group of fewer
    than 8 the tilts added one by one (as numpy adds fewer than 8 values) over its size.
    """
    out = np.ones(len(groups))
    c = capture.strength(site)
    if c <= 0.0:
        return out
    informal, formal = capture.tilts(c)
    tilt_of = (
        1.0,
        informal,
        formal,
    )  # by elite class (Elite: ordinary, informal, formal)
    elite = site.households.elite
    for j, k in enumerate(groups):
        kinds = elite[k.members]
        if not kinds.any():
            continue
        if kinds.size >= 8:  # numpy's pairwise sum: ask numpy
            out[j] = capture.steer(site, k.members, np.ones(kinds.size)).mean()
            continue
        total = 0.0
        for e in kinds.tolist():
            total += tilt_of[e]
        out[j] = total / kinds.size
    return out


def frozen(site: Site, upk: UPK) -> bool:
    """Whether lending stops: portfolio at risk above ``par_freeze``.

    That is the guideline's grade inadequate, judged once the portfolio is worth
    judging: at least ``LENDING.min_judged_portfolio`` of the fund's capital out on loan (a few
    late loans left at the end of a lending round say little; an assumption).
    """
    capital = upk.fund_cash + upk.outstanding
    judged = upk.outstanding >= LENDING.min_judged_portfolio * capital
    return judged and upk.par > site.p.par_freeze


def _lend_to(site: Site, upk: UPK, ksm: KSM, want: np.ndarray) -> int:
    """Lend to the members of one group who ask (``want``); return the loans made."""
    p = site.p
    waited = site.steps - ksm.formed_month - p.ksm_savings_months
    want = want[readiness.ready(site, want, waited)]
    if want.size == 0:
        return 0
    want = site.rng.permutation(want)
    amount, fits, refused = _amounts(site, want, upk.fund_cash)
    upk.refused += refused
    want, amount = want[fits], amount[fits]
    if want.size == 0:
        return 0
    upk.loan_log.append(
        {"month": site.steps, "ksm": ksm.unique_id, **ksm.rule_checks()}
    )
    if ksm.first_loan_month is None:
        ksm.first_loan_month = site.steps
    _disburse(site, upk, want, amount)
    return want.size


def _amounts(
    site: Site, rows: np.ndarray, cash: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """The loans ``rows`` ask for, in rupiah.

    Returns:
        Each one's loan, whether it fits in ``cash`` in turn, and the rupiah of those
        that do not.
    """
    p = site.p
    h = site.households
    c = capture.strength(site)
    u = site.rng.random(rows.size)
    u = np.where(h.elite[rows] > 0, u ** (1.0 / (1.0 + LENDING.elite_lean * c)), u)
    grid = LENDING.loan_rounding
    return _sizes(
        u,
        rows,
        (h.loan_size, h.clean_cycle, h.loan_cycles),
        (p.loan_floor, (p.loan_first_max - p.loan_floor) // grid, grid),
        (LENDING.loan_step, p.loan_ceiling, cash),
    )


@njit(cache=True)
def _sizes(
    u: np.ndarray,
    rows: np.ndarray,
    columns: tuple[np.ndarray, np.ndarray, np.ndarray],
    first_grid: tuple[int, int, int],
    limits: tuple[int, int, int],
) -> tuple[np.ndarray, np.ndarray, int]:
    """Loan sizes from the draws ``u``, and which fit in the cash in turn.

    A first loan is ``floor + min(floor(u (span + 1)), span) x grid`` (in float64, then
    truncated, as numpy would); a later one the last plus ``step`` after a clean cycle;
    both capped at ``ceiling``. A loan fits while the running total stays within the
    cash.
    """
    loan_size, clean_cycle, loan_cycles = columns
    floor, span, grid = first_grid
    step, ceiling, cash = limits
    amount = np.empty(rows.size, np.int64)
    fits = np.empty(rows.size, np.bool_)
    total = refused = 0
    for j in range(rows.size):
        r = rows[j]
        if loan_cycles[r] > 0:
            a = loan_size[r] + (step if clean_cycle[r] else 0)
        else:
            a = np.int64(floor + min(np.floor(u[j] * (span + 1)), float(span)) * grid)
        amount[j] = min(a, ceiling)
        total += amount[j]
        fits[j] = total <= cash
        refused += 0 if fits[j] else amount[j]
    return amount, fits, refused


def _disburse(site: Site, upk: UPK, rows: np.ndarray, amount: np.ndarray) -> None:
    """Open the loans and start the businesses they finance."""
    p = site.p
    h = site.households
    rng = site.rng
    total = int(amount.sum())
    upk.fund_cash -= total
    upk.outstanding += total
    upk.disbursed += total
    upk.loans_made += rows.size
    h.loan_size[rows] = amount
    h.loan_balance[rows] = amount
    h.loan_months_left[rows] = p.loan_term
    h.months_overdue[rows] = 0
    h.clean_cycle[rows] = True
    h.got_loan[rows] = True
    h.handover[rows] = True  # resources handed over (the rule was asked in _lend_to)
    # the business: fails (capital lost) or earns its known return times this loan's luck
    failed = rng.random(rows.size) < failure_chance(p, h.capacity[rows])
    sd = p.business_return_sd * np.sqrt(1.0 - p.business_return_known)
    luck = np.exp(sd * rng.standard_normal(rows.size) - 0.5 * sd * sd)
    h.business_failed[rows] = failed
    h.business_return[rows] = np.where(failed, 0.0, _known_return(p, h, rows) * luck)
    site.effort.add(primary=LENDING.loan_effort * rows.size)


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

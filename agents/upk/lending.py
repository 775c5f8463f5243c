"""Revolving loans: who borrows, how much, and the businesses the loans finance.

Loans go to members of economic KSMs that meet the guideline's rules (the KSM's
``eligible``), as far as the readiness rule lets each member take one, while the fund is not
frozen (portfolio at risk above ``par_freeze``). Groups are served in the board's order of
priority (a random draw tilted towards groups with elite members by capture); within a
group, in random order, until the cash runs out: the fund can bind, and what it could not
lend this month is recorded (``refused``). A first loan is drawn between ``loan_floor`` and
``loan_first_max`` (elites lean to the top as far as the board captures); after a clean
cycle the next is ``LOAN_STEP`` more, up to ``loan_ceiling``.

Each loan finances a business (Banerjee, Karlan & Zinman 2015; de Mel et al. 2008; Meager
2019): it fails with chance ``(1 - business_success) (1.5 - capacity)``, losing its capital;
otherwise it earns a monthly return drawn from a log-normal of mean ``business_return``
(times ``new_business_factor`` for a household that had no business before) and spread
``business_return_sd``: many small returns, a few large ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from berdaya.agents import readiness
from berdaya.agents.ksm import KSMType
from berdaya.agents.upk import capture

if TYPE_CHECKING:
    from berdaya.agents.ksm import KSM
    from berdaya.agents.upk.accounts import UPK
    from berdaya.model.site import Site

LOAN_STEP = 500_000  # a clean cycle raises the next loan by this much (guideline steps)
LOAN_ROUNDING = 50_000
MIN_JUDGED_PORTFOLIO = 0.1  # share of capital on loan below which PAR freezes nothing


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
    rng = site.rng
    tilt = np.array(
        [capture.steer(site, k.members, np.ones(k.members.size)).mean() for k in groups]
    )
    priority = rng.gumbel(size=len(groups)) + np.log(tilt)
    made = 0
    for i in np.argsort(-priority).tolist():
        made += _lend_to(site, upk, groups[i])
    return made


def frozen(site: Site, upk: UPK) -> bool:
    """Whether lending stops: portfolio at risk above ``par_freeze``.

    That is the guideline's grade inadequate, judged once the portfolio is worth
    judging: at least ``MIN_JUDGED_PORTFOLIO`` of the fund's capital out on loan (a few
    late loans left at the end of a lending round say little; an assumption).
    """
    capital = upk.fund_cash + upk.outstanding
    judged = upk.outstanding >= MIN_JUDGED_PORTFOLIO * capital
    return judged and upk.par > site.p.par_freeze


def _lend_to(site: Site, upk: UPK, ksm: KSM) -> int:
    """Lend to the members of one group who ask; return the loans made."""
    p = site.p
    h = site.households
    mem = ksm.members
    want = mem[
        (h.loan_balance[mem] == 0)
        & ~h.graduated[mem]
        & ~h.defaulted[mem]
        & (h.ksm[mem] == ksm.unique_id)
    ]
    waited = site.steps - ksm.formed_month - p.ksm_savings_months
    want = want[readiness.ready(site, want, waited)]
    if want.size == 0:
        return 0
    want = site.rng.permutation(want)
    amount = _amounts(site, want)
    fits = np.cumsum(amount) <= upk.fund_cash
    upk.refused += int(amount[~fits].sum())
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


def _amounts(site: Site, rows: np.ndarray) -> np.ndarray:
    """The loan each of ``rows`` asks for, in rupiah."""
    p = site.p
    h = site.households
    c = capture.strength(site)
    u = site.rng.random(rows.size)
    u = np.where(h.elite[rows] > 0, u ** (1.0 / (1.0 + 3.0 * c)), u)
    span = (p.loan_first_max - p.loan_floor) // LOAN_ROUNDING
    first = p.loan_floor + np.minimum(np.floor(u * (span + 1)), span) * LOAN_ROUNDING
    later = h.loan_size[rows] + np.where(h.clean_cycle[rows], LOAN_STEP, 0)
    amount = np.where(h.loan_cycles[rows] > 0, later, first).astype(np.int64)
    return np.minimum(amount, p.loan_ceiling)


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
    # the business: fails (capital lost) or earns a heterogeneous return
    fail = (1.0 - p.business_success) * (1.5 - h.capacity[rows])
    failed = rng.random(rows.size) < fail
    sd = p.business_return_sd
    draw = np.exp(sd * rng.standard_normal(rows.size) - 0.5 * sd * sd)
    scale = np.where(h.business_owner[rows], 1.0, p.new_business_factor)
    h.business_failed[rows] = failed
    h.business_return[rows] = np.where(failed, 0.0, p.business_return * draw * scale)
    site.effort.add(primary=0.05 * rows.size)

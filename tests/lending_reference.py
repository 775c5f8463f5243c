"""The lending of round 3, group by group in Python: the reference for the compiled loop.

``agents.upk.lending`` lends to the month's groups in one compiled loop
(``_lend_in_order``). This is the code it replaced, kept here (not in the model) so that
``tests/test_fast_paths.py`` can check the loop gives the same loans, draws and
generator state, and that these kernels give numpy's numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from berdaya.agents import readiness
from berdaya.agents.upk import capture
from berdaya.agents.upk.lending import LENDING

if TYPE_CHECKING:
    from berdaya.agents.ksm import KSM
    from berdaya.agents.upk.accounts import UPK
    from berdaya.model.site import Site


def lend_by_group(
    site: Site, upk: UPK, groups: list[KSM], wants: list[np.ndarray]
) -> int:
    """The groups served one at a time in Python (:func:`_lend_to`): the reference.

    What :func:`_lend_in_order` computes in one compiled loop; the tests compare the two.

    Returns:
        Number of loans made.
    """
    return sum(
        _lend_to(site, upk, k, want) for k, want in zip(groups, wants, strict=True)
    )


def _lend_to(site: Site, upk: UPK, ksm: KSM, want: np.ndarray) -> int:
    """Lend to the members of one group who ask (``want``); return the loans made."""
    p = site.p
    waited = site.steps - ksm.formed_month - p.ksm_savings_months
    if not readiness.everyone(site, waited):  # (else ``ready`` is all True)
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
    u = site.rng.random(rows.size)
    elite = h.elite[rows] > 0
    if elite.any():  # (without elites numpy's where returns u itself: skip the power)
        c = capture.strength(site)
        u = np.where(elite, u ** (1.0 / (1.0 + LENDING.elite_lean * c)), u)
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
    """Open the loans and start the businesses they finance.

    The business fails (capital lost) or earns its known return times this loan's luck.
    The draws and the luck's ``exp`` stay in numpy (its vectorised ``exp`` need not round
    as the C library's does); the columns are written in one compiled pass
    (:func:`_open_loans`), with numpy's arithmetic (float32 where numpy's is).
    """
    p = site.p
    h = site.households
    rng = site.rng
    total = int(amount.sum())
    upk.fund_cash -= total
    upk.outstanding += total
    upk.disbursed += total
    upk.loans_made += rows.size
    u = rng.random(rows.size)
    sd = p.business_return_sd * np.sqrt(1.0 - p.business_return_known)
    luck = np.exp(sd * rng.standard_normal(rows.size) - 0.5 * sd * sd)
    _open_loans(
        rows,
        amount,
        u,
        luck,
        (h.loan_size, h.loan_balance),
        (h.loan_months_left, h.months_overdue),
        (h.clean_cycle, h.got_loan, h.handover, h.business_failed, h.business_owner),
        (h.capacity, h.business_skill, h.business_return),
        (
            np.float32(1.0 - p.business_success),
            np.float32(LENDING.failure_base),
            np.float32(p.business_return),
        ),
        (int(p.loan_term), float(p.new_business_factor)),
    )
    site.effort.add(primary=LENDING.loan_effort * rows.size)


@njit(cache=True)
def _open_loans(  # noqa: PLR0917 - a numba kernel takes its arguments by position
    rows: np.ndarray,
    amount: np.ndarray,
    u: np.ndarray,
    luck: np.ndarray,
    money: tuple[np.ndarray, np.ndarray],
    months: tuple[np.ndarray, np.ndarray],
    flags: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    business: tuple[np.ndarray, np.ndarray, np.ndarray],
    f32: tuple[np.float32, np.float32, np.float32],
    terms: tuple[int, float],
) -> None:
    """Write the new loans of ``rows`` and their businesses into the columns.

    As numpy computed them: the failure chance ``(1 - business_success) (1.5 -
    capacity)`` in float32, compared in float64 with the draw ``u``; a surviving
    business's return ``business_return x skill`` in float32, then times its scale
    (1, or ``new_business_factor`` for a new business) and its luck in float64, stored
    as float32 (see :func:`failure_chance`, :func:`_known_return`).
    """
    loan_size, loan_balance = money
    loan_months_left, months_overdue = months
    clean_cycle, got_loan, handover, business_failed, business_owner = flags
    capacity, business_skill, business_return = business
    keep_fail, failure_base, mean_return = f32
    term, new_factor = terms
    for j in range(rows.size):
        r = rows[j]
        loan_size[r] = amount[j]
        loan_balance[r] = amount[j]
        loan_months_left[r] = term
        months_overdue[r] = 0
        clean_cycle[r] = True
        got_loan[r] = True
        handover[r] = True  # resources handed over (the rule was asked in _lend_to)
        chance = keep_fail * (failure_base - capacity[r])  # float32, as numpy's
        failed = u[j] < np.float64(chance)
        business_failed[r] = failed
        if failed:
            business_return[r] = 0.0
        else:
            scale = 1.0 if business_owner[r] else new_factor
            known = np.float64(mean_return * business_skill[r]) * scale
            business_return[r] = known * luck[j]

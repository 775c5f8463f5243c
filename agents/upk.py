"""The BKM's units and money: BLM tranches, the PJM plan, works, social aid, the UPK fund.

Owned by the :class:`~berdaya.agents.bkm.BKM` agent (``bkm.upk``); not an agent of its own.
All money is kept in whole rupiah (Python ints and int64 arrays), so the ledger balances
exactly::

    grant received + interest earned - written off
        = unspent grant (UPL, UPS) + spent on works + spent on social aid
          + fund cash + loans outstanding

Loans go to members of eligible economic KSMs; repayment is decided per borrower each month
as one vectorised draw. The loop over KSMs (to allocate scarce cash by the board's
priorities) is the only loop; nothing loops over households.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from berdaya.agents.household import Elite, Stage, hand_over_roles
from berdaya.agents.ksm import (
    KSM,
    KSMStatus,
    KSMType,
    plan_type_shares,
)

if TYPE_CHECKING:
    from berdaya.model.site import Site

TRANCHE_SHARES = (0.2, 0.5, 0.3)  # assumption: P2KP tranches I, II, III
TRANCHE_SPACING = 3  # planned months between tranches
LOAN_STEP = 500_000  # a good cycle raises the next loan by this much (guideline steps)
LOAN_ROUNDING = 50_000
AID_PER_HOUSEHOLD = 100_000  # one month of social aid to a household
WORKS_PROJECT_SHARE = 0.1  # one works project costs this share of the BLM total
AID_MONTHS = 6  # the social budget of a tranche is spread over this many months


class _CollectTerms(NamedTuple):
    """The scenario's loan terms and repayment rates, the form :func:`_collect` takes.

    ``capacity_threshold`` is float32, as the capacity column it is compared with; the
    other rates stay float64.
    """

    loan_term: int
    loan_interest: float
    default_hazard: float
    capacity_threshold: np.float32
    forced_multiplier: float
    default_contagion: float
    joint_liability: bool
    jl_pressure: float
    jl_freeride: float
    writeoff_months: int
    graduation_cycles: int


@njit(cache=True)
def _collect(  # noqa: PLR0917 - numba takes the columns one by one
    rows: np.ndarray,
    u: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    weight: np.ndarray,
    ksm: np.ndarray,
    capacity: np.ndarray,
    forced: np.ndarray,
    trust_bkm: np.ndarray,
    loan_size: np.ndarray,
    loan_balance: np.ndarray,
    arrears: np.ndarray,
    loan_months_left: np.ndarray,
    months_overdue: np.ndarray,
    loan_cycles: np.ndarray,
    clean_cycle: np.ndarray,
    graduated: np.ndarray,
    defaulted: np.ndarray,
    business_failed: np.ndarray,
    t: _CollectTerms,
) -> tuple[int, int, int, int, int]:
    """One month of repayment by the borrowers ``rows``, updating their loan columns.

    Args:
        rows: Rows with a loan balance, in order.
        u: One uniform draw per row of ``rows``: it misses when below its chance.
        indptr: CSR row pointers of the row-normalised tie matrix.
        indices: CSR column indices of the tie matrix.
        weight: CSR values of the tie matrix (float32).
        ksm: The households' KSM column.
        capacity: The households' capacity column.
        forced: The households' forced column.
        trust_bkm: The households' trust in the BKM.
        loan_size: The households' loan size column.
        loan_balance: The households' loan balance column (updated).
        arrears: The households' arrears column (updated).
        loan_months_left: Months left in each loan's term (updated).
        months_overdue: Months past the term with a balance (updated).
        loan_cycles: Loans repaid (updated).
        clean_cycle: Whether the current loan has never been missed (updated).
        graduated: Whether the household graduated from the fund (updated).
        defaulted: Whether a loan of the household was written off (updated).
        business_failed: Whether the business the loan finances failed (updated).
        t: Loan terms and rates.

    Returns:
        Principal fallen due, principal paid, principal and interest collected, and
        principal written off, in rupiah.
    """
    zero = np.float32(0.0)
    one = np.float32(1.0)
    # who is in arrears is read as at the start of the month, before anyone pays: the
    # shares of ties and (under joint liability) of KSM-mates in arrears come first
    ties_late = np.zeros(rows.size)
    for i in range(rows.size):
        r = rows[i]
        for e in range(indptr[r], indptr[r + 1]):
            late = one if arrears[indices[e]] > 0 else zero
            ties_late[i] += weight[e] * late
    mates_late = np.zeros(rows.size)
    if t.joint_liability:
        # counted only over the ids of the borrowers' groups
        low, high = np.iinfo(np.int64).max, -1
        for r in rows:
            if ksm[r] >= 0:
                low, high = min(low, ksm[r]), max(high, ksm[r])
        size = np.zeros(max(high - low + 1, 0), dtype=np.int64)
        late_count = np.zeros(size.size, dtype=np.int64)
        for j in range(ksm.size):
            if low <= ksm[j] <= high:
                size[ksm[j] - low] += 1
                late_count[ksm[j] - low] += arrears[j] > 0
        for i in range(rows.size):
            k = ksm[rows[i]]
            if k >= 0:
                mates_late[i] = late_count[k - low] / size[k - low]
    due = paid = principal_in = interest_in = lost = 0
    for i in range(rows.size):
        r = rows[i]
        bal = loan_balance[r]
        owed = arrears[r]
        scheduled = 0
        if loan_months_left[r] > 0:
            scheduled = min(bal - owed, -(-loan_size[r] // t.loan_term))
        scheduled = max(scheduled, 0)
        interest = np.int64(np.rint(bal * t.loan_interest))
        # chance of missing (float32 where the columns are, as numpy computes it)
        hazard = t.default_hazard
        hazard *= 2.0 if business_failed[r] else 1.0
        gap = t.capacity_threshold - capacity[r]
        gap = max(gap, zero)
        hazard *= one + np.float32(2.0) * gap
        hazard *= t.forced_multiplier if forced[r] else 1.0
        hazard *= np.float32(1.5) - trust_bkm[r]
        hazard *= 1.0 + t.default_contagion * ties_late[i]
        if t.joint_liability:
            hazard *= (1.0 - t.jl_pressure) * (1.0 + t.jl_freeride * mates_late[i])
        miss = u[i] < hazard and u[i] < 0.95  # below min(hazard, 0.95); NaN: no miss
        # a payer pays the scheduled principal, any arrears and interest on the balance;
        # a misser adds the scheduled principal to arrears
        due += scheduled
        if miss:
            arrears[r] = owed + scheduled
            clean_cycle[r] = False
        else:
            paid += scheduled + owed
            principal_in += scheduled + owed
            interest_in += interest
            loan_balance[r] = bal - scheduled - owed
            arrears[r] = 0
        loan_months_left[r] = max(loan_months_left[r] - 1, 0)
        if loan_months_left[r] == 0 and loan_balance[r] > 0:
            months_overdue[r] += 1
        else:
            months_overdue[r] = 0
        # write-offs
        if months_overdue[r] > t.writeoff_months:
            lost += loan_balance[r]
            loan_balance[r] = 0
            arrears[r] = 0
            defaulted[r] = True
        # finished loans: a cycle done; graduation after enough cycles
        if loan_balance[r] == 0 and not defaulted[r]:
            loan_cycles[r] += 1
            business_failed[r] = False
            graduated[r] |= loan_cycles[r] >= t.graduation_cycles
    return due, paid, principal_in, interest_in, lost


@njit(cache=True)
def _nonpoor_shares(
    ids: np.ndarray, ksm: np.ndarray, welfare: np.ndarray, poverty_line: np.float32
) -> np.ndarray:
    """Share of non-poor members of each KSM in ``ids``, in one pass over the table.

    The same values as ``member_means(site, ksms, ~h.poor)``: members are the households
    whose KSM column names the group; a group without any has share 0.

    Args:
        ids: Unique ids of the KSMs.
        ksm: The households' KSM column.
        welfare: The households' welfare (float32).
        poverty_line: Welfare below which a household is poor (float32, as the table).

    Returns:
        One share per KSM of ``ids``.
    """
    # groups by their id's offset from the smallest id, so the lookup stays short
    low, high = ids.min(), ids.max()
    position = np.full(high - low + 1, -1, dtype=np.int64)
    for i in range(ids.size):
        position[ids[i] - low] = i
    size = np.zeros(ids.size, dtype=np.int64)
    nonpoor = np.zeros(ids.size, dtype=np.int64)
    for j in range(ksm.size):
        if low <= ksm[j] <= high and position[ksm[j] - low] >= 0:
            size[position[ksm[j] - low]] += 1
            nonpoor[position[ksm[j] - low]] += not welfare[j] < poverty_line
    share = np.zeros(ids.size)
    for i in range(ids.size):
        if size[i] > 0:
            share[i] = nonpoor[i] / size[i]
    return share


@njit(cache=True)
def _loan_amounts(  # noqa: PLR0917 - numba takes the columns one by one
    want: np.ndarray,
    u: np.ndarray,
    loan_size: np.ndarray,
    loan_cycles: np.ndarray,
    clean_cycle: np.ndarray,
    floor: int,
    span: int,
    ceiling: int,
    cash: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Loan of each member in ``want`` and whether it fits the cash left, in order.

    Args:
        want: Rows asking for a loan, in the order they are served.
        u: One uniform draw per row, already leaning as the board leans (first loans).
        loan_size: The households' last loan.
        loan_cycles: The households' loans repaid.
        clean_cycle: Whether the last loan was never missed.
        floor: Smallest first loan.
        span: Steps of ``LOAN_ROUNDING`` from the floor to the largest first loan.
        ceiling: Largest loan.
        cash: Fund cash.

    Returns:
        The amounts, and whether each fits (the running total stays within ``cash``).
    """
    amount = np.empty(want.size, dtype=np.int64)
    fits = np.empty(want.size, dtype=np.bool_)
    total = 0
    for i in range(want.size):
        r = want[i]
        if loan_cycles[r] > 0:
            # later loans: a step up after a clean cycle
            size = loan_size[r] + LOAN_STEP if clean_cycle[r] else loan_size[r]
        else:
            # first loans: uniform in [floor, first max]
            step = np.int64(np.floor(u[i] * (span + 1)))
            size = floor + min(max(step, 0), span) * LOAN_ROUNDING
        amount[i] = min(size, ceiling)
        total += amount[i]
        fits[i] = total <= cash
    return amount, fits


@njit(cache=True)
def _lend_out(  # noqa: PLR0917 - numba takes the columns one by one
    rows: np.ndarray,
    amount: np.ndarray,
    u: np.ndarray,
    capacity: np.ndarray,
    loan_size: np.ndarray,
    loan_balance: np.ndarray,
    loan_months_left: np.ndarray,
    months_overdue: np.ndarray,
    clean_cycle: np.ndarray,
    handover: np.ndarray,
    business_failed: np.ndarray,
    welfare_base: np.ndarray,
    loan_term: int,
    business_success: np.float32,
    business_return: float,
    poverty_line_rp: int,
) -> None:
    """Open the loans ``amount`` of ``rows`` and start the businesses they finance.

    Args:
        rows: Borrowers.
        amount: Their loans, in rupiah.
        u: One uniform draw per borrower: the business works when below its chance.
        capacity: The households' capacity.
        loan_size: The households' loan size (updated).
        loan_balance: The households' loan balance (updated).
        loan_months_left: Months left in each loan's term (updated).
        months_overdue: Months past the term with a balance (updated).
        clean_cycle: Whether the current loan has never been missed (updated).
        handover: Whether resources were handed over this month (updated).
        business_failed: Whether the business failed (updated).
        welfare_base: The households' welfare before shocks (updated, every row).
        loan_term: Months of a loan.
        business_success: Chance of success at capacity 0.5 (float32, as capacity).
        business_return: Welfare change per rupiah lent, in poverty lines.
        poverty_line_rp: The poverty line in rupiah.
    """
    for i in range(rows.size):
        r = rows[i]
        loan_size[r] = amount[i]
        loan_balance[r] = amount[i]
        loan_months_left[r] = loan_term
        months_overdue[r] = 0
        clean_cycle[r] = True
        handover[r] = True
        # the business the loan finances: success more likely with capacity
        p_ok = min(business_success * (np.float32(0.5) + capacity[r]), np.float32(0.95))
        ok = u[i] < p_ok
        business_failed[r] = not ok
        change = business_return * amount[i] / poverty_line_rp
        welfare_base[r] += np.float32(change if ok else -change)
    for j in range(welfare_base.size):
        welfare_base[j] = max(welfare_base[j], np.float32(0.05))


def lowest(values: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` smallest values, in position order.

    The same positions as the first ``n`` of a stable argsort (of tied values, the
    earliest), found by a partition instead of a full sort.

    Args:
        values: The values (1-d).
        n: How many to take (0 <= n <= ``values.size``).

    Returns:
        Sorted positions.
    """
    if n <= 0 or n >= values.size:
        return np.arange(min(max(n, 0), values.size))
    cut = np.partition(values, n - 1)[n - 1]
    if np.isnan(cut):  # NaN sorts last: let the sort say which NaNs come first
        return np.sort(np.argsort(values, kind="stable")[:n])
    take = values < cut
    take[np.flatnonzero(values == cut)[: n - int(np.count_nonzero(take))]] = True
    return np.flatnonzero(take)


def grade_par(par: float) -> str:
    """Guideline grade of portfolio at risk: <=10% good, 10-20% minimum, else inadequate."""
    return "good" if par <= 0.10 else "minimum" if par <= 0.20 else "inadequate"


def grade_repayment(rate: float) -> str:
    """Guideline grade of repayment: >=90% good, 80-90% minimum, else inadequate."""
    return "good" if rate >= 0.90 else "minimum" if rate >= 0.80 else "inadequate"


class UPK:
    """Money of the BKM: tranches, plan, units' cash, revolving fund and loans.

    Attributes:
        tranches: Tranche amounts received, in order.
        tranche_months: Month each tranche was received.
        tranche_planned: Planned month of each tranche (None until tranche I).
        lpj_progress: Progress of the accountability report on the last tranche (1 = done).
        lpj_done: Reports completed.
        grant_received: Rupiah received in total.
        upl_cash: Environmental budget not yet spent (UPL, environment unit).
        ups_cash: Social budget not yet spent (UPS, social unit).
        spent_works: Rupiah spent on environmental works.
        spent_social: Rupiah spent on social aid.
        fund_cash: Revolving fund cash (UPK, finance unit).
        outstanding: Loan principal outstanding (equals the households' balances).
        interest_earned: Interest collected.
        written_off: Principal written off.
        disbursed: Rupiah lent in total; ``disbursed_poor`` of it to poor households.
        principal_due: Scheduled principal fallen due; ``principal_paid`` of it paid.
        frozen: Whether new lending is stopped (portfolio at risk above ``par_freeze``).
        loan_log: The rule checks of every KSM at each month it was lent to.
    """

    def __init__(self, site: Site) -> None:
        """Open empty accounts.

        Args:
            site: The kelurahan whose BKM holds the money.
        """
        self.site = site
        self.tranches: list[int] = []
        self.tranche_months: list[int] = []
        self.tranche_planned: list[int] = []
        self.lpj_progress = 0.0
        self.lpj_done = 0
        self.grant_received = 0
        self.upl_cash = 0
        self.ups_cash = 0
        self.ups_monthly = 0
        self.spent_works = 0
        self.spent_social = 0
        self.spent_by_type = np.zeros(3, dtype=np.int64)
        self.fund_cash = 0
        self.outstanding = 0
        self.interest_earned = 0
        self.written_off = 0
        self.disbursed = 0
        self.disbursed_poor = 0
        self.disbursed_elite = 0
        self.loans_made = 0
        self.works_poor = 0.0
        self.works_elite = 0.0
        self.aid_poor = 0
        self.principal_due = 0
        self.principal_paid = 0
        self.frozen = False
        self.loan_log: list[dict[str, object]] = []

    # --- accounts ----------------------------------------------------------------------
    @property
    def ledger_gap(self) -> int:
        """Sources minus uses, in rupiah: zero when the books balance."""
        sources = self.grant_received + self.interest_earned - self.written_off
        uses = (
            self.upl_cash
            + self.ups_cash
            + self.spent_works
            + self.spent_social
            + self.fund_cash
            + self.outstanding
        )
        return sources - uses

    @property
    def repayment_rate(self) -> float:
        """Principal paid over principal due so far (1 before anything fell due)."""
        return self.principal_paid / self.principal_due if self.principal_due else 1.0

    @property
    def par(self) -> float:
        """Portfolio at risk: outstanding of loans in arrears over all outstanding."""
        h = self.site.households
        if self.outstanding <= 0:
            return 0.0
        at_risk = int(h.loan_balance[h.arrears > 0].sum())
        return at_risk / self.outstanding

    # --- the grant ----------------------------------------------------------------------
    def release_due_tranche(self) -> None:
        """Release the next tranche once the last one's LPJ is done (tranche I at once)."""
        m = self.site
        p = m.p
        k = len(self.tranches)
        if k >= len(TRANCHE_SHARES):
            return
        if k == 0:
            start = m.steps
            self.tranche_planned = [start + i * TRANCHE_SPACING for i in range(3)]
        elif self.lpj_done < k:
            return
        first_two = [int(p.blm_total * s) for s in TRANCHE_SHARES[:2]]
        amount = first_two[k] if k < 2 else p.blm_total - sum(first_two)
        self.tranches.append(amount)
        m.effort.add(primary=2.0)  # a tranche is a transfer of resources
        self.tranche_months.append(m.steps)
        self.grant_received += amount
        self.lpj_progress = 0.0
        shares = plan_type_shares(m)
        econ = int(amount * shares[KSMType.ECONOMIC])
        social = int(amount * shares[KSMType.SOCIAL])
        env = amount - econ - social
        self.fund_cash += econ
        self.ups_cash += social
        self.upl_cash += env
        self.ups_monthly = max(self.ups_cash // AID_MONTHS, AID_PER_HOUSEHOLD)

    def work_on_lpj(self) -> None:
        """The board writes the accountability report on the last tranche."""
        if len(self.tranches) == self.lpj_done:
            return
        effort = self.site.p.lpj_effort
        self.lpj_progress += self.site.bkm.capacity / effort if effort > 0 else 1.0
        if self.lpj_progress >= 1.0:
            self.lpj_done += 1

    @property
    def tranche_delays(self) -> list[int]:
        """Months each tranche is late (received, or overdue while waiting for an LPJ).

        A received tranche counts against its planned month (0 if it came early); one not
        yet received counts by how far past its planned month it is now, also after the
        programme ended without releasing it.
        """
        now = self.site.steps
        got = self.tranche_months
        return [
            max(0, (got[k] if k < len(got) else now) - plan)
            for k, plan in enumerate(self.tranche_planned)
        ]

    # --- spending -----------------------------------------------------------------------
    def _capture(self) -> float:
        """How far the board's choices lean to elites: elite_plan_tilt x elite share, <= 1."""
        return min(1.0, self.site.p.elite_plan_tilt * self.site.bkm.elite_share)

    def spend_works(self) -> None:
        """Spend on one environmental works project in an RT chosen by the board.

        RTs are weighted by their share of poor households, leaning towards RTs with
        elites as far as the board is elite-heavy. Works lift the welfare of the whole RT
        and give the RT's environmental KSM (if any) a project role.
        """
        m = self.site
        p = m.p
        h = m.households
        if self.upl_cash <= 0:
            return
        size = max(int(p.blm_total * WORKS_PROJECT_SHARE), 1)
        cost = min(self.upl_cash, size)
        n_rt = int(h.rt.max()) + 1
        count = np.bincount(h.rt, minlength=n_rt).astype(float)
        poor = np.bincount(h.rt, weights=h.poor, minlength=n_rt)
        elite = np.bincount(h.rt, weights=h.elite != Elite.ORDINARY, minlength=n_rt)
        c = self._capture()
        some = count > 0  # an RT number with no households gets no weight
        poor_share = np.divide(poor, count, out=np.zeros(n_rt), where=some)
        elite_share = np.divide(elite, count, out=np.zeros(n_rt), where=some)
        w = (1 - c) * poor_share + c * elite_share
        w = w + 1e-9
        rt = int(m.rng.choice(n_rt, p=w / w.sum()))
        members = np.flatnonzero(h.rt == rt)
        self.upl_cash -= cost
        self.spent_works += cost
        self.spent_by_type[KSMType.ENVIRONMENTAL] += cost
        per_household = cost / members.size
        h.welfare_base[members] += np.float32(
            p.works_return * per_household / p.poverty_line_rp
        )
        is_poor = h.welfare[members] < h.poverty_line  # h.poor, on these rows only
        self.works_poor += per_household * float(is_poor.sum())
        self.works_elite += per_household * float((h.elite[members] > 0).sum())
        for ksm in m.ksms:
            if (
                ksm.kind == KSMType.ENVIRONMENTAL
                and ksm.rt == rt
                and ksm.status != KSMStatus.DISSOLVED
            ):
                hand_over_roles(m, ksm.members)
                m.effort.add(primary=0.5)
                break

    def spend_social(self) -> None:
        """Give a month of social aid to the poorest PS-2-listed households.

        Social KSMs deliver it (their members get a project role).
        """
        m = self.site
        p = m.p
        h = m.households
        budget = min(self.ups_cash, self.ups_monthly)
        n = budget // AID_PER_HOUSEHOLD
        if n <= 0:
            return
        pool = np.flatnonzero(h.on_ps2) if h.on_ps2.any() else np.arange(h.n)
        n = min(n, pool.size)
        chosen = pool[lowest(h.welfare[pool], n)]
        cost = n * AID_PER_HOUSEHOLD
        self.ups_cash -= cost
        self.spent_social += cost
        self.spent_by_type[KSMType.SOCIAL] += cost
        poor = h.welfare[chosen] < h.poverty_line  # h.poor, on these rows only
        self.aid_poor += AID_PER_HOUSEHOLD * int(poor.sum())
        h.transfer[chosen] += np.float32(AID_PER_HOUSEHOLD / p.poverty_line_rp)
        deliverers = [
            k
            for k in m.ksms
            if k.kind == KSMType.SOCIAL and k.status != KSMStatus.DISSOLVED
        ]
        if deliverers:
            hand_over_roles(m, deliverers[m.steps % len(deliverers)].members)
        m.effort.add(primary=0.5)

    # --- the revolving fund -----------------------------------------------------------------
    def lend(self) -> int:
        """Lend to members of eligible economic KSMs, as far as cash allows.

        Members must also be ready as the progression policy asks (:meth:`_ready`). KSMs
        are served in the board's order of priority: a random draw leaning, as far as
        the board is elite-heavy, towards groups with non-poor members. Every member without
        a loan (not graduated, not written off) gets one: a first loan between
        ``loan_floor`` and ``loan_first_max`` (leaning to the top for non-poor members as
        far as the board is elite-heavy), later ones ``LOAN_STEP`` more after a clean
        cycle, up to ``loan_ceiling``. Nothing is lent while the fund is frozen.

        Returns:
            Number of loans made.
        """
        m = self.site
        p = m.p
        h = m.households
        rng = m.rng
        self.frozen = self.par > p.par_freeze
        if self.frozen or self.fund_cash < p.loan_floor:
            return 0
        ksms = [k for k in m.ksms if k.kind == KSMType.ECONOMIC]
        if not ksms:
            return 0
        c = self._capture()
        nonpoor = _nonpoor_shares(
            np.array([k.unique_id for k in ksms], dtype=np.int64),
            h.ksm,
            h.welfare,
            np.float32(h.poverty_line),
        )
        priority = rng.gumbel(size=len(ksms)) + 3.0 * c * nonpoor
        made = 0
        for i in np.argsort(-priority).tolist():
            ksm = ksms[i]
            # members holding a loan are dropped first: in most groups that lent, all
            # of them, and then the group is done without asking its rules
            mem = ksm.members
            mem = mem[h.loan_balance[mem] == 0]
            if mem.size == 0 or not ksm.eligible:
                continue
            want = mem[
                ~h.graduated[mem]
                & ~h.defaulted[mem]
                & (h.ksm[mem] == ksm.unique_id)
                & self._ready(ksm, mem)
            ]
            if want.size == 0:
                continue
            want = rng.permutation(
                want
            )  # who in the group is served first when cash is short
            # first loans: uniform in [floor, first max]; an elite-heavy board gives the
            # non-poor members larger ones
            u = rng.random(want.size)
            poor = h.welfare[want] < h.poverty_line
            u = np.where(poor, u, u ** (1.0 / (1.0 + 3.0 * c)))
            amount, fits = _loan_amounts(
                want,
                u,
                h.loan_size,
                h.loan_cycles,
                h.clean_cycle,
                p.loan_floor,
                (p.loan_first_max - p.loan_floor) // LOAN_ROUNDING,
                p.loan_ceiling,
                self.fund_cash,
            )
            want, amount = want[fits], amount[fits]
            if want.size == 0:
                break
            # the rules read nothing lending changes: checked now, as when eligible
            checks = ksm.rule_checks()
            self._disburse(want, amount)
            if ksm.first_loan_month is None:
                ksm.first_loan_month = m.steps
            self.loan_log.append({"month": m.steps, "ksm": ksm.unique_id, **checks})
            made += want.size
        return made

    def _ready(self, ksm: KSM, members: np.ndarray) -> np.ndarray:
        """Which members the progression policy lets borrow now.

        Under ``schedule`` every member of an eligible KSM borrows (the timetable decides).
        Under ``readiness`` only members who went through pengkapasitasan and reached
        ``capacity_threshold``: resources handed over in line with capacity. Under
        ``hybrid`` the same, until the KSM has waited ``hybrid_max_wait`` months past its
        savings period; then everyone.
        """
        p = self.site.p
        h = self.site.households
        everyone = np.ones(members.size, dtype=bool)
        if p.progression == "schedule":
            return everyone
        if p.progression == "hybrid":
            waited = self.site.steps - ksm.formed_month - p.ksm_savings_months
            if waited >= p.hybrid_max_wait:
                return everyone
        return (h.capacity[members] >= p.capacity_threshold) & (
            h.stage[members] >= Stage.PENGKAPASITASAN
        )

    def _disburse(self, rows: np.ndarray, amount: np.ndarray) -> None:
        m = self.site
        p = m.p
        h = m.households
        total = int(amount.sum())
        self.fund_cash -= total
        self.outstanding += total
        self.disbursed += total
        self.spent_by_type[KSMType.ECONOMIC] += total
        poor = h.welfare[rows] < h.poverty_line
        self.disbursed_poor += int(amount[poor].sum())
        self.disbursed_elite += int(amount[h.elite[rows] > 0].sum())
        self.loans_made += rows.size
        _lend_out(
            rows,
            amount,
            m.rng.random(rows.size),  # does each business work
            h.capacity,
            h.loan_size,
            h.loan_balance,
            h.loan_months_left,
            h.months_overdue,
            h.clean_cycle,
            h.handover,
            h.business_failed,
            h.welfare_base,
            p.loan_term,
            np.float32(p.business_success),
            p.business_return,
            p.poverty_line_rp,
        )
        m.effort.add(primary=0.05 * rows.size)

    def collect(self) -> None:
        """Collect this month's instalments from every borrower (see :func:`_collect`).

        The chance of missing rises with a failed business, a capacity gap, a forced
        stage and low trust in the BKM, and with the share of ties and (under joint
        liability, free-riding) of KSM-mates in arrears; joint liability's peer pressure
        lowers it. A payer pays the scheduled principal, any arrears and interest on the
        balance; a misser adds the scheduled principal to arrears. Loans overdue
        ``writeoff_months`` past their term are written off.
        """
        m = self.site
        p = m.p
        h = m.households
        rows = np.flatnonzero(h.loan_balance > 0)
        if rows.size == 0:
            return
        a = m.adjacency_norm
        due, paid, principal_in, interest_in, lost = _collect(
            rows,
            m.rng.random(rows.size),  # one draw per borrower: does it miss this month
            a.indptr,
            a.indices,
            a.data,
            h.ksm,
            h.capacity,
            h.forced,
            h.trust_bkm,
            h.loan_size,
            h.loan_balance,
            h.arrears,
            h.loan_months_left,
            h.months_overdue,
            h.loan_cycles,
            h.clean_cycle,
            h.graduated,
            h.defaulted,
            h.business_failed,
            _CollectTerms(
                loan_term=p.loan_term,
                loan_interest=p.loan_interest,
                default_hazard=p.default_hazard,
                capacity_threshold=np.float32(p.capacity_threshold),
                forced_multiplier=p.forced_multiplier,
                default_contagion=p.default_contagion,
                joint_liability=bool(p.joint_liability),
                jl_pressure=p.jl_pressure,
                jl_freeride=p.jl_freeride,
                writeoff_months=p.writeoff_months,
                graduation_cycles=p.graduation_cycles,
            ),
        )
        self.principal_due += int(due)
        self.principal_paid += int(paid)
        self.fund_cash += int(principal_in + interest_in)
        self.interest_earned += int(interest_in)
        self.outstanding -= int(principal_in)
        self.written_off += int(lost)
        self.outstanding -= int(lost)

    def step(self) -> None:
        """A month of the BKM's money: LPJ, tranches, works, aid, collection, lending."""
        m = self.site
        cycle = m.cycle
        if cycle.reached("blm") and cycle.active:
            self.work_on_lpj()
            self.release_due_tranche()
        if cycle.reached("blm"):
            self.spend_works()
            self.spend_social()
        self.collect()
        if cycle.reached("upk") and m.bkm.formed:
            self.lend()


__all__ = ["KSM", "UPK", "grade_par", "grade_repayment"]

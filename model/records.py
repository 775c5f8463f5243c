"""What the model records each month: one pass to fill the records of the registry.

Each record is defined once in :mod:`berdaya.model.registry` (:class:`Record`: name, unit,
meaning, and how it aggregates across kelurahan). The model, the city aggregation, the
national totals, ``berdaya outcomes``, the docs' record table and the app read it. Household
records come from compiled passes over the table (:func:`_tally`); a month's records are
kept as one row of a preallocated array (:class:`MonthlyTable`), turned into a DataFrame (or
a Mesa ``DataCollector``) only when asked for, so recording costs one pass however many
records there are.
Household-level snapshots are opt-in (``record_households``) and kept as compact arrays.

Aggregation across kelurahan (a city): ``households`` records are computed over all
households at once (shares weighted by the households they are shares of), ``sum`` records
are added, ``mean`` records averaged over kelurahan, and ``ratio`` records recomputed from
summed numerators and denominators (:data:`RATIOS`). The one ``latest`` record,
``exit_month``, is the model's own: -1 while any kelurahan's programme runs, then the
month the last one ended (what the run's follow-up counts from).
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
from numba import njit

from berdaya.agents.bkm import gini_sorted
from berdaya.agents.ksm import KSMStatus, KSMType
from berdaya.agents.upk import accounts
from berdaya.model.cycle import PHASES
from berdaya.model.registry import (
    GROUPS,
    KSM_COUNTS,
    KSM_KEY,
    MEAN_OVER_KELURAHAN,
    RECORD_NAMES,
    RECORDS,
    STAGE_NAMES,
    Aggregate,
    Record,
)
from berdaya.model.site import Effort

if TYPE_CHECKING:
    from berdaya.agents.household import HouseholdTable
    from berdaya.agents.upk.accounts import UPK
    from berdaya.model.cycle import ProgrammeCycle
    from berdaya.model.model import P2KPModel
    from berdaya.model.site import Site

SNAPSHOT_COLUMNS = ("stage", "forced", "awareness", "capacity", "participating")
MONTHLY_TABLE = "monthly"
# the KSM count keys in the order of the cells kind x statuses + status (the enums'
# values 0, 1, ...; a gap fails here, at import), then those not dissolved
_KSM_CELL_KEYS = (
    *(
        KSM_KEY[KSMType(t), KSMStatus(s)]
        for t in range(len(KSMType))
        for s in range(len(KSMStatus))
    ),
    "ksm_active",
)


class TallyColumns(NamedTuple):
    """The household columns the records read."""

    welfare: np.ndarray
    initially_poor: np.ndarray
    stage: np.ndarray
    woman: np.ndarray
    elite: np.ndarray
    forced: np.ndarray
    participating: np.ndarray
    awareness: np.ndarray
    capacity: np.ndarray
    agency: np.ndarray
    trust_bkm: np.ndarray
    trust_gov: np.ndarray
    relawan: np.ndarray
    on_ps2: np.ndarray
    ksm: np.ndarray
    loan_balance: np.ndarray
    defaulted: np.ndarray
    graduated: np.ndarray
    got_loan: np.ndarray
    got_works: np.ndarray
    got_aid: np.ndarray


# What :func:`_tally` adds up, in the order of its result (after the stage cells and the
# benefit cells).
_TALLIES = (
    "n_poor",
    "n_init_poor",
    "n_elite",
    "n_women",
    "forced",
    "forced_poor",
    "pendayaan",
    "genuine_poor",
    "participating",
    "participating_poor",
    "awareness",
    "awareness_poor",
    "capacity",
    "capacity_poor",
    "agency",
    "welfare",
    "trust_bkm",
    "trust_gov",
    "relawan",
    "listed",
    "listed_poor",
    "members",
    "members_poor",
    "borrowers",
    "defaulted",
    "graduated",
    "gap",
    "gap_init_poor",
    "welfare_init_poor",
    "poor_init_poor",
)
# the tallies that count households, and those that add up floats (positions in _TALLIES)
_COUNTED = (*range(10), *range(18, 26), 29)
_SUMMED = (*range(10, 18), 26, 27, 28)
_STAGE_CELLS = 12  # the stages of all households, the poor, women
_BENEFIT_CELLS = 16  # 4 benefits (loan, works, aid, any) x 4 groups (GROUPS)


@njit(cache=True)
def _tally(c: TallyColumns) -> np.ndarray:
    """Counts and sums over households: stage cells, benefit cells, tallies.

    Three compiled passes, each keeping its running totals in local variables (a total
    kept in the result array is stored and reloaded for every household): the counts
    (the stage cells and the tallies that count), the benefit cells, and the sums of
    floats, each in row order.
    """
    out = np.zeros(_STAGE_CELLS + _BENEFIT_CELLS + 30)
    t = out[_STAGE_CELLS + _BENEFIT_CELLS :]
    _tally_counts(c, out, t)
    _tally_benefits(c, out)
    _tally_sums(c, t)
    return out


@njit(cache=True)
def _tally_benefits(c: TallyColumns, out: np.ndarray) -> None:
    """Benefit cells: loan, works, aid, any x the groups (poor, nonpoor, elite, women)."""
    for i in range(c.stage.size):
        got = (c.got_loan[i], c.got_works[i], c.got_aid[i], True)
        if not (got[0] or got[1] or got[2]):
            continue
        # written out here: a helper taking ``c`` counted references to its columns
        for b in range(4):
            if got[b]:
                base = _STAGE_CELLS + 4 * b
                out[base] += c.initially_poor[i]
                out[base + 1] += not c.initially_poor[i]
                out[base + 2] += c.elite[i] != 0
                out[base + 3] += c.woman[i]


@njit(cache=True)
def _tally_counts(c: TallyColumns, out: np.ndarray, t: np.ndarray) -> None:
    """The stage cells (all, poor, women) and the tallies that count households.

    One pass for both (they read the same columns); the sums are left.
    """
    a1 = a2 = a3 = p0 = p1 = p2 = p3 = w0 = w1 = w2 = w3 = 0
    n0 = n1 = n2 = n3 = n4 = n5 = n6 = n7 = n8 = n9 = 0
    n18 = n19 = n20 = n21 = n22 = n23 = n24 = n25 = n29 = 0
    for i in range(c.stage.size):
        st = c.stage[i]
        poor = c.welfare[i] < 1.0
        init = c.initially_poor[i]
        woman = c.woman[i]
        a1, a2, a3 = a1 + (st == 1), a2 + (st == 2), a3 + (st == 3)
        p0, p1 = p0 + (poor and st == 0), p1 + (poor and st == 1)
        p2, p3 = p2 + (poor and st == 2), p3 + (poor and st == 3)
        w0, w1 = w0 + (woman and st == 0), w1 + (woman and st == 1)
        w2, w3 = w2 + (woman and st == 2), w3 + (woman and st == 3)
        n0 += poor
        n1 += init
        n2 += c.elite[i] != 0
        n3 += woman
        if c.forced[i]:
            n4 += 1
            n5 += poor
        elif st == 3:
            n7 += poor
        n6 += st == 3
        if c.participating[i]:
            n8 += 1
            n9 += poor
        n18 += c.relawan[i]
        if c.on_ps2[i]:
            n19 += 1
            n20 += poor
        if c.ksm[i] >= 0:
            n21 += 1
            n22 += poor
        n23 += c.loan_balance[i] != 0
        n24 += c.defaulted[i]
        n25 += c.graduated[i]
        n29 += init and poor
    # [all, poor, women] x stage; the count at stage 0 of all by difference
    cells = (c.stage.size - a1 - a2 - a3, a1, a2, a3, p0, p1, p2, p3, w0, w1, w2, w3)
    for j in range(_STAGE_CELLS):
        out[j] = cells[j]
    counts = (n0, n1, n2, n3, n4, n5, n6, n7, n8, n9, n18, n19, n20, n21, n22)
    counts = (*counts, n23, n24, n25, n29)
    for j in range(len(_COUNTED)):
        t[_COUNTED[j]] = counts[j]


@njit(cache=True)
def _tally_sums(c: TallyColumns, t: np.ndarray) -> None:
    """The tallies that add up floats, in row order and in float64."""
    awareness = awareness_poor = capacity = capacity_poor = agency = 0.0
    welfare = trust_bkm = trust_gov = gap_all = gap_init = welfare_init = 0.0
    zero = np.float32(0.0)
    for i in range(c.stage.size):
        w = c.welfare[i]
        poor, init = w < 1.0, c.initially_poor[i]
        awareness += c.awareness[i]
        capacity += c.capacity[i]
        # adding 0.0 to a sum of non-negative terms leaves it as it is: no branches
        awareness_poor += c.awareness[i] if poor else zero
        capacity_poor += c.capacity[i] if poor else zero
        agency += c.agency[i]
        welfare += w
        trust_bkm += c.trust_bkm[i]
        trust_gov += c.trust_gov[i]
        gap = max(1.0 - w, 0.0)
        gap_all += gap
        gap_init += gap if init else 0.0
        welfare_init += w if init else zero
    sums = (awareness, awareness_poor, capacity, capacity_poor, agency, welfare)
    sums = (*sums, trust_bkm, trust_gov, gap_all, gap_init, welfare_init)
    for j in range(len(_SUMMED)):
        t[_SUMMED[j]] = sums[j]


# record names of the stage shares (all, poor, women) and of the benefit rates by group
_STAGE_KEYS = tuple(
    tuple(f"{s}_{group}" for s in STAGE_NAMES) for group in ("all", "poor", "women")
)
_RATE_KEYS = tuple(
    tuple(f"{name}_rate_{group}" for group in GROUPS)
    for name in ("loan", "works", "aid", "benefit")
)


def _div(a: float, b: float) -> float:
    return a / b if b else 0.0


# The household records, in the order :func:`_household_values` computes them.
_PEOPLE_KEYS = (
    "forced_count",
    "forced_poor_count",
    "forced_share_all",
    "pendayaan_genuine_poor",
    "forced_share_of_pendayaan",
    "participation_all",
    "participation_poor",
    "participation_nonpoor",
    "awareness_mean",
    "awareness_poor",
    "capacity_mean",
    "capacity_poor",
    "agency_mean",
    "poverty_rate",
    "poverty_gap",
    "poverty_gap_initially_poor",
    "welfare_initially_poor",
    "poverty_rate_initially_poor",
    "mean_welfare",
    "trust_bkm",
    "trust_gov",
    "relawan",
)
_LIST_KEYS = (
    "ps2_listed",
    "ps2_poor_covered",
    "ps2_poor_share",
    "ps2_inclusion_error",
    "ps2_exclusion_error",
    "ksm_members",
    "ksm_members_poor_share",
    "ksm_poor_joined",
    "borrowers",
    "defaulted",
    "graduated",
)
_BENEFIT_KEYS = (
    *(key for keys in _RATE_KEYS for key in keys),
    "loan_poor_share",
    "works_poor_share",
    "aid_poor_share",
    "elite_benefit_gap",
    "elite_capture_index",
    "loan_takeup",
)
HOUSEHOLD_KEYS = (
    *(key for keys in _STAGE_KEYS for key in keys),
    *_PEOPLE_KEYS,
    *_LIST_KEYS,
    "gini",
    *_BENEFIT_KEYS,
)
_N_HOUSEHOLD_KEYS = len(HOUSEHOLD_KEYS)
# the benefit groups as _household_values reads them (a change of GROUPS fails here)
if GROUPS != ("poor", "nonpoor", "elite", "women"):
    raise RuntimeError(f"_benefit_values reads the groups in another order: {GROUPS}")


def household_stats(h: HouseholdTable) -> dict[str, float]:
    """Records computed from household rows, from one compiled pass (:func:`_tally`).

    The records are computed from the tallies in one compiled function
    (:func:`_household_values`): the same float64 divisions and subtractions Python
    made, in the same order, without a dictionary and a call per record.

    Args:
        h: The table (or a view of one kelurahan's rows) to measure.

    Returns:
        Mapping from record name to value (:data:`HOUSEHOLD_KEYS`, in order).
    """
    return _household_records(h, h.kernel(_tally).call(h.as_tuple(TallyColumns)))


def _household_records(h: HouseholdTable, raw: np.ndarray) -> dict[str, float]:
    """The household records of ``h`` from its tallies (``raw``, :func:`_tally`'s)."""
    # gini and the values through the table's kernels: dispatched once a run
    g = h.kernel(gini_sorted).call(np.sort(h.welfare)) if h.n else 0.0
    values = h.kernel(_household_values).call(raw, float(h.n), g)
    return dict(zip(HOUSEHOLD_KEYS, values.tolist(), strict=True))


def _city_households(h: HouseholdTable, raws: list[np.ndarray]) -> dict[str, float]:
    """The household records of a city (``h``) from its kelurahan's tallies (``raws``).

    The kelurahan are consecutive blocks of the city's table, so the city's counts are
    the sums of theirs (whole numbers: exact in any order); its sums of floats are
    added up again over the whole table in row order (:func:`_tally_sums`), as one
    pass over it adds them. The same records as :func:`household_stats` of the city.
    """
    raw = raws[0].copy()
    for other in raws[1:]:
        raw += other
    h.kernel(_tally_sums).call(
        h.as_tuple(TallyColumns), raw[_STAGE_CELLS + _BENEFIT_CELLS :]
    )
    return _household_records(h, raw)


@njit(cache=True, inline="always")
def _d(a: float, b: float) -> float:
    """``a / b``, 0 when ``b`` is 0 (the records' division)."""
    return a / b if b != 0.0 else 0.0


@njit(cache=True)
def _household_values(raw: np.ndarray, n: float, gini_value: float) -> np.ndarray:
    """The household records (:data:`HOUSEHOLD_KEYS`) from the tally's result.

    Stage shares (all, poor, women); stages, participation, latent states, welfare and
    poverty; the PS-2 list, KSM members and borrowers; Gini; who got loans, works and
    aid (rates by group, poor shares, capture, take-up).
    """
    out = np.empty(_N_HOUSEHOLD_KEYS)
    k = _stage_shares(raw, out)
    t = raw[_STAGE_CELLS + _BENEFIT_CELLS :]
    k = _people_values(t, n, out, k)
    k = _list_values(t, out, k)
    out[k] = gini_value
    _benefit_values(raw[_STAGE_CELLS : _STAGE_CELLS + _BENEFIT_CELLS], t, n, out, k + 1)
    return out


@njit(cache=True, inline="always")
def _stage_shares(raw: np.ndarray, out: np.ndarray) -> int:
    """Each group's share at each stage: the cells over their sum.

    The cells are counts (whole numbers), so adding them in order gives the sum
    Python's compensated ``sum`` gave.
    """
    k = 0
    for g in range(3):
        total = 0.0
        for s in range(4):
            total += raw[4 * g + s]
        for s in range(4):
            out[k] = _d(raw[4 * g + s], total)
            k += 1
    return k


@njit(cache=True, inline="always")
def _people_values(t: np.ndarray, n: float, out: np.ndarray, k: int) -> int:
    """Stages, participation, latent states, welfare and poverty (``_PEOPLE_KEYS``)."""
    # the tallies by position in _TALLIES
    n_poor, n_init, forced, pendayaan = t[0], t[1], t[4], t[6]
    part, part_poor = t[8], t[9]
    values = (
        forced,
        t[5],
        _d(forced, n),
        _d(t[7], n_poor),
        _d(forced, pendayaan),
        _d(part, n),
        _d(part_poor, n_poor),
        _d(part - part_poor, n - n_poor),
        _d(t[10], n),
        _d(t[11], n_poor),
        _d(t[12], n),
        _d(t[13], n_poor),
        _d(t[14], n),
        _d(n_poor, n),
        _d(t[26], n),
        _d(t[27], n_init),
        _d(t[28], n_init),
        _d(t[29], n_init),
        _d(t[15], n),
        _d(t[16], n),
        _d(t[17], n),
        t[18],
    )
    for v in values:
        out[k] = v
        k += 1
    return k


@njit(cache=True, inline="always")
def _list_values(t: np.ndarray, out: np.ndarray, k: int) -> int:
    """The PS-2 list, the KSM members and the borrowers (``_LIST_KEYS``)."""
    n_poor, listed, listed_poor = t[0], t[19], t[20]
    members, members_poor = t[21], t[22]
    values = (
        listed,
        _d(listed_poor, n_poor),
        _d(listed_poor, listed),
        _d(listed - listed_poor, listed),
        _d(n_poor - listed_poor, n_poor) if listed != 0.0 else 0.0,
        members,
        _d(members_poor, members),
        _d(members_poor, n_poor),
        t[23],
        t[24],
        t[25],
    )
    for v in values:
        out[k] = v
        k += 1
    return k


@njit(cache=True, inline="always")
def _benefit_values(
    benefit: np.ndarray, t: np.ndarray, n: float, out: np.ndarray, k: int
) -> None:
    """Who got loans, works and aid (``_BENEFIT_KEYS``), from the benefit cells.

    ``benefit`` is loan, works, aid, any x the groups of ``GROUPS`` (poor, nonpoor,
    elite, women).
    """
    n_init, n_elite = t[1], t[2]
    sizes = (n_init, n - n_init, n_elite, t[3])
    first = k
    for b in range(4):
        for g in range(4):
            out[k] = _d(benefit[4 * b + g], sizes[g])
            k += 1
    for b in range(3):
        poor, other = benefit[4 * b], benefit[4 * b + 1]
        out[k] = _d(poor, poor + other)
        k += 1
    # benefit rate (any) of the elite less that of the poor
    out[k] = out[first + 14] - out[first + 12]
    beneficiaries = benefit[12] + benefit[13]
    out[k + 1] = _d(_d(benefit[14], beneficiaries), _d(n_elite, n))
    out[k + 2] = _d(benefit[0] + benefit[1], t[19])


# Ratio records: (numerator, denominator) of each, summed across kelurahan in a city.
RATIOS = {
    "repayment_rate": ("principal_paid", "principal_due"),
    "portfolio_at_risk": ("at_risk", "outstanding"),
    "leakage_share": ("leaked", "paid_out"),
}


def _money(site: Site) -> dict[str, float]:
    """Numerators and denominators of the money's ratios, for one kelurahan."""
    upk = site.bkm.upk
    h = site.households
    at_risk = (
        float(h.kernel(accounts.at_risk).call(h.loan_balance, h.arrears))
        if upk.outstanding
        else 0
    )
    return {
        "principal_paid": upk.principal_paid,
        "principal_due": upk.principal_due,
        "at_risk": at_risk,
        "outstanding": upk.outstanding,
        "leaked": upk.leaked,
        "paid_out": upk.leaked + upk.spent_works + upk.spent_social,
    }


def _ratios(money: dict[str, float], effort: Effort) -> dict[str, float]:
    out = {name: _div(money[a], money[b]) for name, (a, b) in RATIOS.items()}
    if not money["principal_due"]:
        out["repayment_rate"] = 1.0
    out["tendency_index"] = effort.month_index
    out["tendency_cumulative"] = effort.cumulative_index
    return out


def institution_stats(site: Site) -> dict[str, float]:
    """Records of one kelurahan's institutions: BKM, government, KSMs, money, cycle.

    Args:
        site: The kelurahan to measure.

    Returns:
        Mapping from record name to value; money in rupiah.
    """
    bkm = site.bkm
    upk = bkm.upk
    out: dict[str, float] = {
        "bkm_formed": float(bkm.formed),
        "bkm_capacity": bkm.capacity,
        "bkm_legitimacy": bkm.legitimacy,
        "bkm_stage": float(bkm.stage),
        "bkm_stage_reason": float(bkm.stage_reason),
        "bkm_active": float(bkm.active),
        "bkm_activity": bkm.activity,
        "bkm_locus": bkm.locus,
        "bkm_women_share": bkm.women_share,
        "bkm_elite_share": bkm.elite_share,
        "gov_support": site.kelurahan.support,
    }
    out |= _ksm_records(site)
    out |= _money_records(upk)
    out |= _cycle_records(site)
    return out


def _ksm_records(site: Site) -> dict[str, float]:
    """KSMs by type and status, and those not dissolved (counted in the KSM table)."""
    t = site.ksm_table
    cells = site.households.kernel(_ksm_cells).call(
        t.n, t.kind, t.status, len(KSMStatus), len(_KSM_CELL_KEYS)
    )
    return dict(zip(_KSM_CELL_KEYS, cells.tolist(), strict=True))


@njit(cache=True)
def _ksm_cells(
    n: int, kind: np.ndarray, status: np.ndarray, statuses: int, cells: int
) -> np.ndarray:
    """Counts of the first ``n`` groups by kind and status, then those not dissolved.

    Whole numbers in float64 (exact), as the records keep them.
    """
    out = np.zeros(cells)
    for i in range(n):
        out[kind[i] * statuses + status[i]] += 1.0
        out[cells - 1] += status[i] != 3  # not dissolved
    return out


def _money_records(upk: UPK) -> dict[str, float]:
    """The UPK's books: grant, fund, loans, works, aid, leakage (rupiah or counts)."""
    return {
        "loans_made": float(upk.loans_made),
        "lending_frozen": float(upk.frozen),
        "grant_received": float(upk.grant_received),
        "tranches_received": float(len(upk.tranches)),
        "lpj_done": float(upk.lpj_done),
        "tranche_delay_months": float(sum(upk.tranche_delays)),
        "fund_cash": float(upk.fund_cash),
        "loans_outstanding": float(upk.outstanding),
        "interest_earned": float(upk.interest_earned),
        "written_off": float(upk.written_off),
        "refused_demand": float(upk.refused),
        "unspent_grant": float(upk.upl_cash + upk.ups_cash),
        "spent_works": float(upk.spent_works),
        "spent_social": float(upk.spent_social),
        "leaked": float(upk.leaked),
        "works_built": float(upk.works_built),
        "lent_total": float(upk.disbursed),
        "principal_due": float(upk.principal_due),
        "ledger_gap": float(upk.ledger_gap),
    }


def _cycle_records(site: Site) -> dict[str, float]:
    """Where the programme cycle is, how it ended, and its phases' gates."""
    cycle = site.cycle
    exit_month = cycle.exit_month
    statuses = [r.status for r in cycle.records]  # counted without two generators
    return {
        "phase": float(cycle.index),
        "programme_active": float(cycle.active),
        "months_since_exit": float(
            -1 if exit_month is None else site.steps - exit_month
        ),
        "exit_month": float(_exit_month(cycle)),
        "cycle_completed": float(cycle.finished),
        "cycle_withdrawn": float(cycle.halted),
        "phases_forced": float(statuses.count("forced")),
        "phases_met": float(statuses.count("met")),
        "rkm_attendance": cycle.rkm_attendance,
    }


def _exit_month(cycle: ProgrammeCycle) -> int:
    """Month the cycle completed or withdrew: -1 while it runs, its plan when never run.

    Without the programme the run's follow-up counts from the month the cycle would have
    ended on the timetable (as ``P2KPModel.exit_month``), so that is its end.
    """
    if cycle.off:
        return sum(cycle.planned(phase) for phase in PHASES)
    return -1 if cycle.exit_month is None else cycle.exit_month


def site_stats(site: Site) -> dict[str, float]:
    """Compute one kelurahan's records for this month."""
    return _with_institutions(
        site,
        household_stats(site.households),  # a new dict: merged into in place
        institution_stats(site),
        _money(site),
    )


def _with_institutions(
    site: Site,
    out: dict[str, float],
    institutions: dict[str, float],
    money: dict[str, float],
) -> dict[str, float]:
    """A kelurahan's records: its household records ``out``, then the rest, in place."""
    out |= institutions
    out |= _ratios(money, site.effort)
    out["faskel_replacements"] = float(sum(f.replacements for f in site.faskels))
    return out


def city_stats(model: P2KPModel) -> tuple[list[dict[str, float]], dict[str, float]]:
    """This month's records of each kelurahan and of the city, each part made once.

    What :func:`site_stats` of every kelurahan and :func:`monthly_stats` give, with
    each kelurahan's institutions and money measured once for both (they only read).

    Returns:
        The kelurahan's records, in order, and the city's.
    """
    sites = model.sites
    institutions = [institution_stats(s) for s in sites]
    monies = [_money(s) for s in sites]
    raws = [
        s.households.kernel(_tally).call(s.households.as_tuple(TallyColumns))
        for s in sites
    ]
    per_site = []
    for site, raw, inst, money in zip(sites, raws, institutions, monies, strict=True):
        out = _household_records(site.households, raw)
        per_site.append(_with_institutions(site, out, inst, money))
    city = _city_households(model.households, raws)
    return per_site, _city_stats(model, institutions, monies, city)


def monthly_stats(model: P2KPModel) -> dict[str, float]:
    """Compute this month's model-level records (of the whole city when there are many).

    With one kelurahan these are its records. With several, each record aggregates as
    its :class:`Record` says.

    Args:
        model: The model to measure.

    Returns:
        Mapping from record name to value (floats; phase as its index).
    """
    sites = model.sites
    if len(sites) == 1:
        return site_stats(sites[0])
    return _city_stats(
        model, [institution_stats(s) for s in sites], [_money(s) for s in sites]
    )


def _city_stats(
    model: P2KPModel,
    inst: list[dict[str, float]],
    monies: list[dict[str, float]],
    households: dict[str, float] | None = None,
) -> dict[str, float]:
    """The city's records from its households and its kelurahan's institutions and money.

    ``households``: the city's household records, if made already.
    """
    sites = model.sites
    out = household_stats(model.households) if households is None else households
    for k in inst[0]:
        values = [i[k] for i in inst]
        out[k] = float(_combine(RECORDS[k].aggregate, values))
    money = {k: sum(m[k] for m in monies) for k in monies[0]}
    out |= _ratios(money, Effort.combined([s.effort for s in sites]))
    out["faskel_replacements"] = float(sum(f.replacements for f in model.faskels))
    return out


def _combine(aggregate: Aggregate, values: list[float]) -> float:
    """A city's value of an institutional record from its kelurahan's values."""
    if aggregate == "mean":
        return float(np.mean(values))
    if aggregate == "latest":
        return -1.0 if min(values) < 0 else max(values)
    return float(sum(values))


class MonthlyTable:
    """The model-level records, a row a month, in a preallocated float array.

    A month's records go in as one row (:meth:`add`); the table grows when a model is
    stepped past its planned months. A DataFrame is built from the array only when
    asked for (:meth:`frame`), so recording costs one row a month.

    Attributes:
        names: Column names (the records, in order).
        values: The rows kept so far, then unused rows.
        rows: Rows kept so far.
    """

    def __init__(self, names: list[str], months: int) -> None:
        """Allocate rows for month 0 to ``months``.

        Args:
            names: Column names.
            months: Months the model is planned to run.
        """
        self.names = names
        self.values = np.empty((months + 1, len(names)))
        self.rows = 0
        self._row = operator.itemgetter(*names)  # a row's values from a month's dict

    def add(self, stats: dict[str, float]) -> None:
        """Keep one month's records (every name must be in ``stats``)."""
        if self.rows == self.values.shape[0]:
            self.values = np.concatenate([self.values, np.empty_like(self.values)])
        self.values[self.rows] = self._row(stats)
        self.rows += 1

    def frame(self) -> pd.DataFrame:
        """Return the rows kept as a DataFrame, a float64 column per record."""
        return pd.DataFrame(self.values[: self.rows].copy(), columns=self.names)


def phase_name(index: float) -> str:
    """Key of the phase at a recorded index ("exit" past the last)."""
    i = int(index)
    return PHASES[i].key if i < len(PHASES) else "exit"


__all__ = [
    "GROUPS",
    "KSM_COUNTS",
    "MEAN_OVER_KELURAHAN",
    "RECORDS",
    "RECORD_NAMES",
    "STAGE_NAMES",
    "Record",
]

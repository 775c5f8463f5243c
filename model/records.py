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

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
from numba import njit

from berdaya.agents.bkm import gini
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
# the KSM count keys by the enums' values (0, 1, ...; a gap fails here, at import)
_KSM_KEY_BY_INDEX = [
    [KSM_KEY[KSMType(t), KSMStatus(s)] for s in range(len(KSMStatus))]
    for t in range(len(KSMType))
]


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
    kept in the result array is stored and reloaded for every household): the cells,
    the counts of the tallies, and their sums of floats, each in row order.
    """
    out = np.zeros(_STAGE_CELLS + _BENEFIT_CELLS + 30)
    _tally_cells(c, out)
    t = out[_STAGE_CELLS + _BENEFIT_CELLS :]
    _tally_counts(c, t)
    _tally_sums(c, t)
    return out


@njit(cache=True)
def _tally_cells(c: TallyColumns, out: np.ndarray) -> None:
    """Stage cells (all, poor, women) and benefit cells (loan, works, aid, any)."""
    n = c.stage.size
    # [all, poor, women] x stage; the count at stage 0 of all by difference
    cells = np.zeros((3, 4), np.int64)
    a1 = a2 = a3 = p0 = p1 = p2 = p3 = w0 = w1 = w2 = w3 = 0
    for i in range(n):
        st = c.stage[i]
        poor = c.welfare[i] < 1.0
        woman = c.woman[i]
        a1, a2, a3 = a1 + (st == 1), a2 + (st == 2), a3 + (st == 3)
        p0, p1 = p0 + (poor and st == 0), p1 + (poor and st == 1)
        p2, p3 = p2 + (poor and st == 2), p3 + (poor and st == 3)
        w0, w1 = w0 + (woman and st == 0), w1 + (woman and st == 1)
        w2, w3 = w2 + (woman and st == 2), w3 + (woman and st == 3)
    for i in range(n):
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
    cells[0] = (n - a1 - a2 - a3, a1, a2, a3)
    cells[1] = (p0, p1, p2, p3)
    cells[2] = (w0, w1, w2, w3)
    out[:_STAGE_CELLS] = cells.ravel()


@njit(cache=True)
def _tally_counts(c: TallyColumns, t: np.ndarray) -> None:
    """The tallies that count households (see ``_TALLIES``); the sums are left."""
    n0 = n1 = n2 = n3 = n4 = n5 = n6 = n7 = n8 = n9 = 0
    n18 = n19 = n20 = n21 = n22 = n23 = n24 = n25 = n29 = 0
    for i in range(c.stage.size):
        poor = c.welfare[i] < 1.0
        init = c.initially_poor[i]
        n0 += poor
        n1 += init
        n2 += c.elite[i] != 0
        n3 += c.woman[i]
        if c.forced[i]:
            n4 += 1
            n5 += poor
        elif c.stage[i] == 3:
            n7 += poor
        n6 += c.stage[i] == 3
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


def household_stats(h: HouseholdTable) -> dict[str, float]:
    """Records computed from household rows, from one compiled pass (:func:`_tally`).

    Args:
        h: The table (or a view of one kelurahan's rows) to measure.

    Returns:
        Mapping from record name to value.
    """
    n = h.n
    raw = _tally(TallyColumns(*(getattr(h, f) for f in TallyColumns._fields)))
    cells = raw[:_STAGE_CELLS].tolist()
    benefit = raw[_STAGE_CELLS : _STAGE_CELLS + _BENEFIT_CELLS].tolist()
    t = dict(zip(_TALLIES, raw[_STAGE_CELLS + _BENEFIT_CELLS :].tolist(), strict=True))
    out: dict[str, float] = {}
    for g, keys in enumerate(_STAGE_KEYS):
        c = cells[g * 4 : g * 4 + 4]
        total = sum(c)
        for key, k in zip(keys, c, strict=True):
            out[key] = _div(k, total)
    out |= _people_records(t, n)
    out |= _list_records(t)
    out["gini"] = gini(h.welfare)
    out |= _benefit_records(benefit, t, n, listed=t["listed"])
    return out


def _people_records(t: dict[str, float], n: int) -> dict[str, float]:
    """Stages, participation, latent states, welfare and poverty, from the tallies."""
    n_poor, n_init = t["n_poor"], t["n_init_poor"]
    return {
        "forced_count": t["forced"],
        "forced_poor_count": t["forced_poor"],
        "forced_share_all": _div(t["forced"], n),
        "pendayaan_genuine_poor": _div(t["genuine_poor"], n_poor),
        "forced_share_of_pendayaan": _div(t["forced"], t["pendayaan"]),
        "participation_all": _div(t["participating"], n),
        "participation_poor": _div(t["participating_poor"], n_poor),
        "participation_nonpoor": _div(
            t["participating"] - t["participating_poor"], n - n_poor
        ),
        "awareness_mean": _div(t["awareness"], n),
        "awareness_poor": _div(t["awareness_poor"], n_poor),
        "capacity_mean": _div(t["capacity"], n),
        "capacity_poor": _div(t["capacity_poor"], n_poor),
        "agency_mean": _div(t["agency"], n),
        "poverty_rate": _div(n_poor, n),
        "poverty_gap": _div(t["gap"], n),
        "poverty_gap_initially_poor": _div(t["gap_init_poor"], n_init),
        "welfare_initially_poor": _div(t["welfare_init_poor"], n_init),
        "poverty_rate_initially_poor": _div(t["poor_init_poor"], n_init),
        "mean_welfare": _div(t["welfare"], n),
        "trust_bkm": _div(t["trust_bkm"], n),
        "trust_gov": _div(t["trust_gov"], n),
        "relawan": t["relawan"],
    }


def _list_records(t: dict[str, float]) -> dict[str, float]:
    """The PS-2 list, the KSM members and the borrowers, from the tallies."""
    n_poor, listed = t["n_poor"], t["listed"]
    return {
        "ps2_listed": listed,
        "ps2_poor_covered": _div(t["listed_poor"], n_poor),
        "ps2_poor_share": _div(t["listed_poor"], listed),
        "ps2_inclusion_error": _div(listed - t["listed_poor"], listed),
        "ps2_exclusion_error": _div(n_poor - t["listed_poor"], n_poor)
        if listed
        else 0.0,
        "ksm_members": t["members"],
        "ksm_members_poor_share": _div(t["members_poor"], t["members"]),
        "ksm_poor_joined": _div(t["members_poor"], n_poor),
        "borrowers": t["borrowers"],
        "defaulted": t["defaulted"],
        "graduated": t["graduated"],
    }


def _benefit_records(
    benefit: list[float], t: dict[str, float], n: int, *, listed: float
) -> dict[str, float]:
    """Who got loans, works and aid: rates by group, shares, capture, take-up."""
    n_init = t["n_init_poor"]
    sizes = (n_init, n - n_init, t["n_elite"], t["n_women"])
    out: dict[str, float] = {}
    for b, keys in enumerate(_RATE_KEYS):
        for g, key in enumerate(keys):
            out[key] = _div(benefit[4 * b + g], sizes[g])
    got = {
        name: benefit[4 * b : 4 * b + 4]
        for b, name in enumerate(("loan", "works", "aid", "any"))
    }
    for name in ("loan", "works", "aid"):
        poor, other = got[name][0], got[name][1]
        out[f"{name}_poor_share"] = _div(poor, poor + other)
    out["elite_benefit_gap"] = out["benefit_rate_elite"] - out["benefit_rate_poor"]
    beneficiaries = got["any"][0] + got["any"][1]
    out["elite_capture_index"] = _div(
        _div(got["any"][2], beneficiaries), _div(t["n_elite"], n)
    )
    out["loan_takeup"] = _div(got["loan"][0] + got["loan"][1], listed)
    return out


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
        float(accounts.at_risk(h.loan_balance, h.arrears)) if upk.outstanding else 0
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
    """KSMs by type and status, and those not dissolved."""
    counts = dict.fromkeys(KSM_COUNTS, 0.0)
    key = _KSM_KEY_BY_INDEX  # indexed by the enums' values: no hashing of enums
    dissolved = KSMStatus.DISSOLVED
    active = 0.0
    for k in site.ksms:
        counts[key[k.kind][k.status]] += 1.0
        active += k.status != dissolved
    counts["ksm_active"] = active
    return counts


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
    return {
        "phase": float(cycle.index),
        "programme_active": float(cycle.active),
        "months_since_exit": float(
            -1 if exit_month is None else site.steps - exit_month
        ),
        "exit_month": float(_exit_month(cycle)),
        "cycle_completed": float(cycle.finished),
        "cycle_withdrawn": float(cycle.halted),
        "phases_forced": float(sum(r.status == "forced" for r in cycle.records)),
        "phases_met": float(sum(r.status == "met" for r in cycle.records)),
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
    out = household_stats(site.households) | institution_stats(site)
    out |= _ratios(_money(site), site.effort)
    out["faskel_replacements"] = float(sum(f.replacements for f in site.faskels))
    return out


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
    inst = [institution_stats(s) for s in sites]
    out = household_stats(model.households)
    for k in inst[0]:
        values = [i[k] for i in inst]
        out[k] = float(_combine(RECORDS[k].aggregate, values))
    monies = [_money(s) for s in sites]
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

    def add(self, stats: dict[str, float]) -> None:
        """Keep one month's records (every name must be in ``stats``)."""
        if self.rows == self.values.shape[0]:
            self.values = np.concatenate([self.values, np.empty_like(self.values)])
        self.values[self.rows] = [stats[k] for k in self.names]
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

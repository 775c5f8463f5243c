"""What the model records each month (MODEL.md section 7), as one vectorised pass.

:func:`monthly_stats` computes every model-level quantity from the arrays at once; the Mesa
``DataCollector`` keeps them as a row of its one table, so recording costs one pass per
month however many records there are. Household-level snapshots are opt-in
(``record_households``) and kept as compact numpy arrays, not as Mesa agent reporters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import DataCollector
from numba import njit

from berdaya.agents.bkm import gini
from berdaya.agents.household import Stage
from berdaya.agents.ksm import KSMStatus, KSMType
from berdaya.model.cycle import PHASES
from berdaya.model.site import Effort

if TYPE_CHECKING:
    from berdaya.agents.household import HouseholdTable
    from berdaya.model.model import P2KPModel
    from berdaya.model.site import Site

STAGE_NAMES = [s.name.lower() for s in Stage]
SNAPSHOT_COLUMNS = ("stage", "forced", "awareness", "capacity", "participating")


# What :func:`_tally` adds up, in the order of its result (after the stage counts).
_TALLIES = (
    "n_poor",
    "forced",
    "forced_poor",
    "pendayaan",
    "pendayaan_genuine_poor",
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
    "ps2_listed",
    "ps2_listed_poor",
    "ksm_members",
    "ksm_members_poor",
    "borrowers",
    "defaulted",
    "graduated",
    "elite",
)
_STAGE_CELLS = 3 * len(Stage)  # the stages of all households, the poor, women
_STAGE_KEYS = tuple(
    tuple(f"{name}_{group}" for name in STAGE_NAMES)
    for group in ("all", "poor", "women")
)


@njit(cache=True)
def _tally(  # noqa: PLR0917 - numba takes the columns one by one
    poverty_line: np.float32,
    welfare: np.ndarray,
    stage: np.ndarray,
    woman: np.ndarray,
    forced: np.ndarray,
    participating: np.ndarray,
    awareness: np.ndarray,
    capacity: np.ndarray,
    agency: np.ndarray,
    trust_bkm: np.ndarray,
    trust_gov: np.ndarray,
    relawan: np.ndarray,
    on_ps2: np.ndarray,
    ksm: np.ndarray,
    loan_balance: np.ndarray,
    defaulted: np.ndarray,
    graduated: np.ndarray,
    elite: np.ndarray,
) -> np.ndarray:
    """Counts and sums over households in one pass: stage counts, then _TALLIES."""
    cells = np.zeros(12, np.int64)  # stage of all households, of the poor, of women
    # counts too are float64 accumulators (exact to 2**53), so the result is one tuple
    n_poor = n_forced = forced_poor = pendayaan = genuine = 0.0
    part = part_poor = relawan_n = listed = listed_poor = members = members_poor = 0.0
    borrowers = n_defaulted = n_graduated = n_elite = 0.0
    aw = aw_poor = cap = cap_poor = ag = wf = tb = tg = 0.0
    for i in range(stage.size):
        poor = welfare[i] < poverty_line
        st = stage[i]
        cells[st] += 1  # the stage cells without branches: a flag adds 0 or 1
        cells[4 + st] += poor
        cells[8 + st] += woman[i]
        n_poor += poor
        if forced[i]:
            n_forced += 1
            forced_poor += poor
        elif st == 3:
            genuine += poor
        pendayaan += st == 3
        if participating[i]:
            part += 1
            part_poor += poor
        aw += awareness[i]
        cap += capacity[i]
        if poor:
            aw_poor += awareness[i]
            cap_poor += capacity[i]
        ag += agency[i]
        wf += welfare[i]
        tb += trust_bkm[i]
        tg += trust_gov[i]
        relawan_n += relawan[i]
        if on_ps2[i]:
            listed += 1
            listed_poor += poor
        if ksm[i] >= 0:
            members += 1
            members_poor += poor
        borrowers += loan_balance[i] != 0
        n_defaulted += defaulted[i]
        n_graduated += graduated[i]
        n_elite += elite[i] != 0
    out = np.empty(12 + 24)
    out[:12] = cells
    out[12:] = np.array(
        (
            n_poor,
            n_forced,
            forced_poor,
            pendayaan,
            genuine,
            part,
            part_poor,
            aw,
            aw_poor,
            cap,
            cap_poor,
            ag,
            wf,
            tb,
            tg,
            relawan_n,
            listed,
            listed_poor,
            members,
            members_poor,
            borrowers,
            n_defaulted,
            n_graduated,
            n_elite,
        )
    )
    return out


def household_stats(h: HouseholdTable) -> dict[str, float]:
    """Records computed from household rows: stages, participation, latent states, welfare.

    One compiled pass (:func:`_tally`) counts the stages of all households, the poor and
    women, and adds up everything else the records need; the Gini coefficient sorts the
    welfare column. Nothing copies a masked subset of the table.

    Args:
        h: The table (or a view of one kelurahan's rows) to measure.

    Returns:
        Mapping from record name to value.
    """
    n = h.n
    tally = _tally(
        np.float32(h.poverty_line),
        h.welfare,
        h.stage,
        h.woman,
        h.forced,
        h.participating,
        h.awareness,
        h.capacity,
        h.agency,
        h.trust_bkm,
        h.trust_gov,
        h.relawan,
        h.on_ps2,
        h.ksm,
        h.loan_balance,
        h.defaulted,
        h.graduated,
        h.elite,
    )
    counts = tally[:_STAGE_CELLS].tolist()
    t = dict(zip(_TALLIES, tally[_STAGE_CELLS:].tolist(), strict=True))
    out: dict[str, float] = {}
    for g, keys in enumerate(_STAGE_KEYS):
        c = counts[g * 4 : g * 4 + 4]
        size = sum(c)
        for key, k in zip(keys, c, strict=True):
            out[key] = k / size if size else 0.0

    def share(part: str, whole: float) -> float:
        return t[part] / whole if whole else 0.0

    n_poor = t["n_poor"]
    out["forced_count"] = t["forced"]
    out["forced_poor_count"] = t["forced_poor"]
    out["forced_share_all"] = share("forced", n)
    out["pendayaan_genuine_poor"] = share("pendayaan_genuine_poor", n_poor)
    out["forced_share_of_pendayaan"] = share("forced", t["pendayaan"])
    out["participation_all"] = share("participating", n)
    out["participation_poor"] = share("participating_poor", n_poor)
    out["participation_nonpoor"] = (
        (t["participating"] - t["participating_poor"]) / (n - n_poor)
        if n > n_poor
        else 0.0
    )
    out["awareness_mean"] = share("awareness", n)
    out["awareness_poor"] = share("awareness_poor", n_poor)
    out["capacity_mean"] = share("capacity", n)
    out["capacity_poor"] = share("capacity_poor", n_poor)
    out["agency_mean"] = share("agency", n)
    out["poverty_rate"] = n_poor / n
    out["mean_welfare"] = share("welfare", n)
    out["gini"] = gini(h.welfare)
    out["trust_bkm"] = share("trust_bkm", n)
    out["trust_gov"] = share("trust_gov", n)
    out["relawan"] = t["relawan"]
    out["ps2_listed"] = t["ps2_listed"]
    out["ps2_poor_covered"] = share("ps2_listed_poor", n_poor)
    out["ps2_poor_share"] = share("ps2_listed_poor", t["ps2_listed"])
    out["ksm_members"] = t["ksm_members"]
    out["ksm_members_poor_share"] = share("ksm_members_poor", t["ksm_members"])
    out["ksm_poor_joined"] = share("ksm_members_poor", n_poor)
    out["borrowers"] = t["borrowers"]
    out["defaulted"] = t["defaulted"]
    out["graduated"] = t["graduated"]
    out["elite_share"] = t["elite"] / n
    return out


# Institutional records of a city: the mean over its kelurahan (shares of kelurahan, mean
# stage, mean capacity...) or the sum (counts and rupiah); the ratios are recomputed from
# summed numerators and denominators (those of :func:`_money`).
MEAN_OVER_KELURAHAN = (
    "bkm_formed",
    "bkm_capacity",
    "bkm_legitimacy",
    "bkm_stage",
    "bkm_locus",
    "bkm_women_share",
    "bkm_elite_share",
    "gov_support",
    "lending_frozen",
    "tranches_received",
    "lpj_done",
    "tranche_delay_months",
    "phase",
    "programme_active",
    "phases_forced",
    "phases_met",
    "rkm_attendance",
)


def _money(site: Site) -> dict[str, float]:
    """Numerators and denominators of the economy's ratios, for one kelurahan."""
    upk = site.bkm.upk
    h = site.households
    at_risk = (
        int(np.sum(h.loan_balance, where=h.arrears > 0)) if upk.outstanding > 0 else 0
    )
    return {
        "disbursed": upk.disbursed,
        "disbursed_poor": upk.disbursed_poor,
        "disbursed_elite": upk.disbursed_elite,
        "works": upk.spent_works,
        "works_poor": upk.works_poor,
        "works_elite": upk.works_elite,
        "social": upk.spent_social,
        "aid_poor": upk.aid_poor,
        "principal_due": upk.principal_due,
        "principal_paid": upk.principal_paid,
        "at_risk": at_risk,
        "outstanding": upk.outstanding,
    }


def _ratios(money: dict[str, float], elite_pop: float) -> dict[str, float]:
    """The economy's ratios from (summed) numerators and denominators."""
    m = money
    benefits = m["disbursed"] + m["works"]
    elite_benefit = m["disbursed_elite"] + m["works_elite"]
    return {
        "loan_poor_share": m["disbursed_poor"] / m["disbursed"]
        if m["disbursed"]
        else 0.0,
        "works_poor_share": m["works_poor"] / m["works"] if m["works"] else 0.0,
        "aid_poor_share": m["aid_poor"] / m["social"] if m["social"] else 0.0,
        "elite_capture_index": (
            (elite_benefit / benefits) / elite_pop
            if benefits and elite_pop > 0
            else 0.0
        ),
        "repayment_rate": (
            m["principal_paid"] / m["principal_due"] if m["principal_due"] else 1.0
        ),
        "portfolio_at_risk": (
            m["at_risk"] / m["outstanding"] if m["outstanding"] > 0 else 0.0
        ),
    }


def institution_stats(site: Site) -> dict[str, float]:
    """Records of one kelurahan's institutions: BKM, government, KSMs, money, cycle.

    Args:
        site: The kelurahan to measure.

    Returns:
        Mapping from record name to value; money in rupiah.
    """
    bkm = site.bkm
    upk = bkm.upk
    cycle = site.cycle
    out: dict[str, float] = {
        "bkm_formed": float(bkm.formed),
        "bkm_capacity": bkm.capacity,
        "bkm_legitimacy": bkm.legitimacy,
        "bkm_stage": float(bkm.stage),
        "bkm_locus": bkm.locus,
        "bkm_women_share": bkm.women_share,
        "bkm_elite_share": bkm.elite_share,
        "gov_support": site.kelurahan.support,
    }
    counts = dict.fromkeys(KSM_COUNTS, 0.0)
    for k in site.ksms:
        counts[_KSM_KEY[k.kind, k.status]] += 1.0
    out.update(counts)
    out["loans_made"] = float(upk.loans_made)
    out["lending_frozen"] = float(upk.frozen)
    out["grant_received"] = float(upk.grant_received)
    out["tranches_received"] = float(len(upk.tranches))
    out["lpj_done"] = float(upk.lpj_done)
    out["tranche_delay_months"] = float(sum(upk.tranche_delays))
    out["fund_cash"] = float(upk.fund_cash)
    out["loans_outstanding"] = float(upk.outstanding)
    out["interest_earned"] = float(upk.interest_earned)
    out["written_off"] = float(upk.written_off)
    out["unspent_grant"] = float(upk.upl_cash + upk.ups_cash)
    out["spent_works"] = float(upk.spent_works)
    out["spent_social"] = float(upk.spent_social)
    out["lent_total"] = float(upk.disbursed)
    out["principal_due"] = float(upk.principal_due)
    out["ledger_gap"] = float(upk.ledger_gap)
    out["phase"] = float(cycle.index)
    out["programme_active"] = float(cycle.active)
    out["phases_forced"] = float(sum(r.status == "forced" for r in cycle.records))
    out["phases_met"] = float(sum(r.status == "met" for r in cycle.records))
    out["rkm_attendance"] = cycle.rkm_attendance
    return out


def _combine(
    households: dict[str, float],
    institutions: dict[str, float],
    money: dict[str, float],
    effort: Effort,
    faskel_replacements: float,
) -> dict[str, float]:
    """Put the parts of a month's records together (:data:`RECORD_NAMES` is their order).

    The parts are merged as they come (the DataCollector's table puts the columns in
    order); ``elite_share`` is kept beside the records, as the ratios' denominator.
    """
    out = households | institutions
    out |= _ratios(money, households["elite_share"])
    out["tendency_index"] = effort.month_index
    out["tendency_cumulative"] = effort.cumulative_index
    out["faskel_replacements"] = faskel_replacements
    return out


def site_stats(site: Site) -> dict[str, float]:
    """Compute one kelurahan's records for this month.

    Args:
        site: The kelurahan to measure.

    Returns:
        Mapping from record name to value (floats; phase as its index).
    """
    replacements = float(sum(f.replacements for f in site.faskels))
    return _combine(
        household_stats(site.households),
        institution_stats(site),
        _money(site),
        site.effort,
        replacements,
    )


def monthly_stats(
    model: P2KPModel, per_site: list[dict[str, float]] | None = None
) -> dict[str, float]:
    """Compute this month's model-level records (of the whole city when there are many).

    With one kelurahan these are its records. With several, household records are
    computed over all households; BKM, government and cycle records are means over
    kelurahan (:data:`MEAN_OVER_KELURAHAN`), counts and rupiah are sums, and ratios are
    recomputed from summed numerators and denominators.

    Args:
        model: The model to measure.
        per_site: The kelurahan records of this month, if already computed.

    Returns:
        Mapping from record name to value (floats; phase as its index).
    """
    sites = model.sites
    if len(sites) == 1:
        return per_site[0] if per_site else site_stats(sites[0])
    inst = [institution_stats(s) for s in sites]
    institutions = {
        k: (
            float(np.mean([i[k] for i in inst]))
            if k in MEAN_OVER_KELURAHAN
            else float(sum(i[k] for i in inst))
        )
        for k in inst[0]
    }
    monies = [_money(s) for s in sites]
    money = {k: sum(m[k] for m in monies) for k in monies[0]}
    return _combine(
        household_stats(model.households),
        institutions,
        money,
        Effort.combined([s.effort for s in sites]),
        float(sum(f.replacements for f in model.faskels)),
    )


HOUSEHOLD_FIRST = (
    *(f"{s}_{g}" for g in ("all", "poor", "women") for s in STAGE_NAMES),
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
    "mean_welfare",
    "gini",
    "trust_bkm",
    "trust_gov",
    "relawan",
    "ps2_listed",
    "ps2_poor_covered",
    "ps2_poor_share",
)
INSTITUTION_FIRST = (
    "bkm_formed",
    "bkm_capacity",
    "bkm_legitimacy",
    "bkm_stage",
    "bkm_locus",
    "bkm_women_share",
    "bkm_elite_share",
    "gov_support",
)
_KSM_KEY = {
    (t, s): f"ksm_{t.name.lower()}_{s.name.lower()}" for t in KSMType for s in KSMStatus
}
KSM_COUNTS = tuple(_KSM_KEY.values())
HOUSEHOLD_ECONOMY = (
    "ksm_members",
    "ksm_members_poor_share",
    "ksm_poor_joined",
    "borrowers",
)
RATIOS_FIRST = ("loan_poor_share", "works_poor_share", "aid_poor_share")
RATIOS_SECOND = ("elite_capture_index", "repayment_rate", "portfolio_at_risk")
INSTITUTION_MONEY = (
    "lending_frozen",
    "grant_received",
    "tranches_received",
    "lpj_done",
    "tranche_delay_months",
    "fund_cash",
    "loans_outstanding",
    "interest_earned",
    "written_off",
    "unspent_grant",
    "spent_works",
    "spent_social",
    "lent_total",
    "principal_due",
    "ledger_gap",
)
INSTITUTION_LAST = (
    "phase",
    "programme_active",
    "phases_forced",
    "phases_met",
    "rkm_attendance",
)
# Every record, in the published order of the monthly table.
RECORD_NAMES = (
    *HOUSEHOLD_FIRST,
    *INSTITUTION_FIRST,
    "tendency_index",
    "tendency_cumulative",
    *KSM_COUNTS,
    *HOUSEHOLD_ECONOMY,
    "loans_made",
    *RATIOS_FIRST,
    *RATIOS_SECOND,
    *INSTITUTION_MONEY,
    "defaulted",
    "graduated",
    *INSTITUTION_LAST,
    "faskel_replacements",
)


MONTHLY_TABLE = "monthly"


def make_datacollector(model: P2KPModel) -> DataCollector:
    """Build the Mesa ``DataCollector`` that keeps the records, a table row a month.

    The records are one Mesa table (:data:`MONTHLY_TABLE`) whose columns are the model's
    ``record_names``; each month adds :func:`monthly_stats`'s row with
    ``add_table_row``, so recording costs one pass however many records there are (a
    model reporter per record would call and copy each value in turn).

    Args:
        model: The model (its ``record_names`` are the columns).

    Returns:
        A ``DataCollector`` with the one table.
    """
    return DataCollector(tables={MONTHLY_TABLE: list(model.record_names)})


def phase_name(index: float) -> str:
    """Key of the phase at a recorded index ("exit" past the last)."""
    i = int(index)
    return PHASES[i].key if i < len(PHASES) else "exit"

"""What the model records each month (MODEL.md section 7), as one vectorised pass.

:func:`monthly_stats` computes every model-level quantity from the arrays at once; the Mesa
``DataCollector`` then reads them by name, so recording costs one pass per month however
many reporters there are. Household-level snapshots are opt-in (``record_households``) and
kept as compact numpy arrays, not as Mesa agent reporters.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np
from mesa import DataCollector

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


def household_stats(h: HouseholdTable) -> dict[str, float]:
    """Records computed from household rows: stages, participation, latent states, welfare.

    One pass of counts: the stage shares of all households, the poor and women come from a
    single ``np.bincount``; the means over the poor are dot products with the poor flag.
    Nothing copies a masked subset of the table.

    Args:
        h: The table (or a view of one kelurahan's rows) to measure.

    Returns:
        Mapping from record name to value.
    """
    n = h.n
    poor = h.poor
    n_poor = np.count_nonzero(poor)
    poor_f = poor.astype(np.float32)
    stage = h.stage
    code = stage.astype(np.uint8)
    code |= poor.view(np.uint8) << 2
    code |= h.woman.view(np.uint8) << 3
    counts = np.bincount(code, minlength=16).reshape(2, 2, len(Stage))  # woman, poor
    out: dict[str, float] = {}
    for label, c in (
        ("all", counts.sum(axis=(0, 1))),
        ("poor", counts[:, 1].sum(axis=0)),
        ("women", counts[1].sum(axis=0)),
    ):
        size = int(c.sum())
        for name, k in zip(STAGE_NAMES, c.tolist(), strict=True):
            out[f"{name}_{label}"] = k / size if size else 0.0
    forced = h.forced
    n_forced = np.count_nonzero(forced)
    stage3 = np.count_nonzero(stage == Stage.PENDAYAAN)
    genuine_poor = np.count_nonzero((stage == Stage.PENDAYAAN) & ~forced & poor)
    out["forced_count"] = float(n_forced)
    out["forced_poor_count"] = float(np.count_nonzero(forced & poor))
    out["forced_share_all"] = n_forced / n
    out["pendayaan_genuine_poor"] = genuine_poor / n_poor if n_poor else 0.0
    out["forced_share_of_pendayaan"] = n_forced / stage3 if stage3 else 0.0
    part = h.participating
    n_part = np.count_nonzero(part)
    part_poor = np.count_nonzero(part & poor)
    out["participation_all"] = n_part / n
    out["participation_poor"] = part_poor / n_poor if n_poor else 0.0
    out["participation_nonpoor"] = (
        (n_part - part_poor) / (n - n_poor) if n > n_poor else 0.0
    )

    def mean_poor(x: np.ndarray) -> float:
        return float(np.dot(x, poor_f)) / n_poor if n_poor else 0.0

    out["awareness_mean"] = float(h.awareness.mean())
    out["awareness_poor"] = mean_poor(h.awareness)
    out["capacity_mean"] = float(h.capacity.mean())
    out["capacity_poor"] = mean_poor(h.capacity)
    out["agency_mean"] = float(h.agency.mean())
    out["poverty_rate"] = n_poor / n
    out["mean_welfare"] = float(h.welfare.mean())
    out["gini"] = gini(h.welfare)
    out["trust_bkm"] = float(h.trust_bkm.mean())
    out["trust_gov"] = float(h.trust_gov.mean())
    out["relawan"] = float(np.count_nonzero(h.relawan))
    listed = h.on_ps2
    n_listed = np.count_nonzero(listed)
    listed_poor = np.count_nonzero(listed & poor)
    out["ps2_listed"] = float(n_listed)
    out["ps2_poor_covered"] = listed_poor / n_poor if n_poor else 0.0
    out["ps2_poor_share"] = listed_poor / n_listed if n_listed else 0.0
    members = h.ksm >= 0
    n_members = np.count_nonzero(members)
    members_poor = np.count_nonzero(members & poor)
    out["ksm_members"] = float(n_members)
    out["ksm_members_poor_share"] = members_poor / n_members if n_members else 0.0
    out["ksm_poor_joined"] = members_poor / n_poor if n_poor else 0.0
    out["borrowers"] = float(np.count_nonzero(h.loan_balance))
    out["defaulted"] = float(np.count_nonzero(h.defaulted))
    out["graduated"] = float(np.count_nonzero(h.graduated))
    out["elite_share"] = np.count_nonzero(h.elite) / n
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
    counts = np.zeros((len(KSMType), len(KSMStatus)), dtype=int)
    for k in site.ksms:
        counts[k.kind, k.status] += 1
    for t in KSMType:
        for s in KSMStatus:
            out[f"ksm_{t.name.lower()}_{s.name.lower()}"] = float(counts[t, s])
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
    """Put the parts of a month's records together, in the published order."""
    out = {k: households[k] for k in HOUSEHOLD_FIRST}
    out.update({k: institutions[k] for k in INSTITUTION_FIRST})
    out["tendency_index"] = effort.month_index
    out["tendency_cumulative"] = effort.cumulative_index
    out.update({k: institutions[k] for k in KSM_COUNTS})
    out.update({k: households[k] for k in HOUSEHOLD_ECONOMY})
    out["loans_made"] = institutions["loans_made"]
    ratios = _ratios(money, households["elite_share"])
    out.update({k: ratios[k] for k in RATIOS_FIRST})
    out.update({k: ratios[k] for k in RATIOS_SECOND})
    out.update({k: institutions[k] for k in INSTITUTION_MONEY})
    out["defaulted"] = households["defaulted"]
    out["graduated"] = households["graduated"]
    out.update({k: institutions[k] for k in INSTITUTION_LAST})
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
KSM_COUNTS = tuple(
    f"ksm_{t.name.lower()}_{s.name.lower()}" for t in KSMType for s in KSMStatus
)
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


def _read(name: str, model: P2KPModel) -> float:
    return model.stats[name]


def make_datacollector(model: P2KPModel) -> DataCollector:
    """Build the Mesa ``DataCollector`` whose model reporters read :func:`monthly_stats`.

    Args:
        model: The model (its ``record_names`` are the reporters).

    Returns:
        A ``DataCollector`` with one model reporter per record.
    """
    return DataCollector(
        model_reporters={k: partial(_read, k) for k in model.record_names}
    )


def phase_name(index: float) -> str:
    """Key of the phase at a recorded index ("exit" past the last)."""
    i = int(index)
    return PHASES[i].key if i < len(PHASES) else "exit"

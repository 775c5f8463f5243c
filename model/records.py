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

if TYPE_CHECKING:
    from berdaya.model.model import P2KPModel

STAGE_NAMES = [s.name.lower() for s in Stage]
SNAPSHOT_COLUMNS = ("stage", "forced", "awareness", "capacity", "participating")


def _shares(stage: np.ndarray) -> np.ndarray:
    if stage.size == 0:
        return np.zeros(len(Stage))
    return np.bincount(stage, minlength=len(Stage)) / stage.size


def monthly_stats(model: P2KPModel) -> dict[str, float]:
    """Compute this month's model-level records.

    Args:
        model: The model to measure.

    Returns:
        Mapping from record name to value (floats; phase as its index).
    """
    h = model.households
    poor = h.poor
    women = h.woman
    stage = h.stage
    out: dict[str, float] = {}
    for label, mask in (("all", None), ("poor", poor), ("women", women)):
        sel = stage if mask is None else stage[mask]
        for name, share in zip(STAGE_NAMES, _shares(sel), strict=True):
            out[f"{name}_{label}"] = float(share)
    stage3 = stage == Stage.PENDAYAAN
    out["forced_count"] = float(h.forced.sum())
    out["forced_poor_count"] = float((h.forced & poor).sum())
    out["forced_share_all"] = float(h.forced.mean())
    genuine = stage3 & ~h.forced
    out["pendayaan_genuine_poor"] = float(genuine[poor].mean()) if poor.any() else 0.0
    out["forced_share_of_pendayaan"] = (
        float(h.forced.sum() / stage3.sum()) if stage3.any() else 0.0
    )
    out["participation_all"] = float(h.participating.mean())
    out["participation_poor"] = (
        float(h.participating[poor].mean()) if poor.any() else 0.0
    )
    out["participation_nonpoor"] = (
        float(h.participating[~poor].mean()) if (~poor).any() else 0.0
    )
    out["awareness_mean"] = float(h.awareness.mean())
    out["awareness_poor"] = float(h.awareness[poor].mean()) if poor.any() else 0.0
    out["capacity_mean"] = float(h.capacity.mean())
    out["capacity_poor"] = float(h.capacity[poor].mean()) if poor.any() else 0.0
    out["agency_mean"] = float(h.agency.mean())
    out["poverty_rate"] = float(poor.mean())
    out["mean_welfare"] = float(h.welfare.mean())
    out["gini"] = gini(h.welfare)
    out["trust_bkm"] = float(h.trust_bkm.mean())
    out["trust_gov"] = float(h.trust_gov.mean())
    out["relawan"] = float(h.relawan.sum())
    listed = h.on_ps2
    out["ps2_listed"] = float(listed.sum())
    out["ps2_poor_covered"] = float(listed[poor].mean()) if poor.any() else 0.0
    out["ps2_poor_share"] = float(poor[listed].mean()) if listed.any() else 0.0
    bkm = model.bkm
    out["bkm_formed"] = float(bkm.formed)
    out["bkm_capacity"] = bkm.capacity
    out["bkm_legitimacy"] = bkm.legitimacy
    out["bkm_stage"] = float(bkm.stage)
    out["bkm_locus"] = bkm.locus
    out["bkm_women_share"] = bkm.women_share
    out["bkm_elite_share"] = bkm.elite_share
    out["gov_support"] = model.kelurahan.support
    out["tendency_index"] = model.effort.month_index
    out["tendency_cumulative"] = model.effort.cumulative_index
    out.update(economy_stats(model))
    cycle = model.cycle
    out["phase"] = float(cycle.index)
    out["programme_active"] = float(cycle.active)
    out["phases_forced"] = float(sum(r.status == "forced" for r in cycle.records))
    out["phases_met"] = float(sum(r.status == "met" for r in cycle.records))
    out["rkm_attendance"] = cycle.rkm_attendance
    out["faskel_replacements"] = float(sum(f.replacements for f in model.faskels))
    return out


def economy_stats(model: P2KPModel) -> dict[str, float]:
    """Records of the KSMs, the grant, the revolving fund, targeting and capture.

    Args:
        model: The model to measure.

    Returns:
        Mapping from record name to value; money in rupiah.
    """
    h = model.households
    upk = model.bkm.upk
    out: dict[str, float] = {}
    counts = np.zeros((len(KSMType), len(KSMStatus)), dtype=int)
    for k in model.ksms:
        counts[k.kind, k.status] += 1
    for t in KSMType:
        for s in KSMStatus:
            out[f"ksm_{t.name.lower()}_{s.name.lower()}"] = float(counts[t, s])
    members = h.ksm >= 0
    poor = h.poor
    out["ksm_members"] = float(members.sum())
    out["ksm_members_poor_share"] = (
        float(poor[members].mean()) if members.any() else 0.0
    )
    out["ksm_poor_joined"] = float(members[poor].mean()) if poor.any() else 0.0
    borrowers = h.has_loan
    out["borrowers"] = float(borrowers.sum())
    out["loans_made"] = float(upk.loans_made)
    out["loan_poor_share"] = (
        upk.disbursed_poor / upk.disbursed if upk.disbursed else 0.0
    )
    total_works = upk.spent_works
    out["works_poor_share"] = upk.works_poor / total_works if total_works else 0.0
    out["aid_poor_share"] = upk.aid_poor / upk.spent_social if upk.spent_social else 0.0
    elite_pop = float((h.elite > 0).mean())
    benefits = upk.disbursed + total_works
    elite_benefit = upk.disbursed_elite + upk.works_elite
    out["elite_capture_index"] = (
        (elite_benefit / benefits) / elite_pop if benefits and elite_pop > 0 else 0.0
    )
    out["repayment_rate"] = upk.repayment_rate
    out["portfolio_at_risk"] = upk.par
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
    out["ledger_gap"] = float(upk.ledger_gap)
    out["defaulted"] = float(h.defaulted.sum())
    out["graduated"] = float(h.graduated.sum())
    return out


def _read(name: str, model: P2KPModel) -> float:
    return model.stats[name]


def make_datacollector(model: P2KPModel) -> DataCollector:
    """Build the Mesa ``DataCollector`` whose model reporters read :func:`monthly_stats`.

    Args:
        model: The model (its first stats are computed to learn the record names).

    Returns:
        A ``DataCollector`` with one model reporter per record.
    """
    names = list(monthly_stats(model))
    return DataCollector(model_reporters={k: partial(_read, k) for k in names})


def phase_name(index: float) -> str:
    """Key of the phase at a recorded index ("exit" past the last)."""
    i = int(index)
    return PHASES[i].key if i < len(PHASES) else "exit"

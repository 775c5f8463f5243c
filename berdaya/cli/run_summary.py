"""The summary ``berdaya run`` prints: stages, the cycle, the BKM, the money.

What it shows of each record is the registry's (:mod:`berdaya.model.registry`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from berdaya.experiments.run import RunResult

INSTITUTIONAL = ("inisiasi", "partisipatoris", "emansipatoris")


def _fmt_shares(row, label: str) -> str:
    from berdaya.model.registry import STAGE_NAMES

    return "  ".join(f"{s} {row[f'{s}_{label}']:6.1%}" for s in STAGE_NAMES)


def summary(result: RunResult) -> str:
    """Readable summary of a run: stages, forced counts, gates, the BKM.

    Args:
        result: A finished run.

    Returns:
        Multi-line text.
    """
    from berdaya.model.cycle import PHASES

    r = result.final
    city = result.kelurahan is not None
    size = f", {len(result.kelurahan.kelurahan.unique())} kelurahan" if city else ""
    lines = [
        f"berdaya run: scenario {result.scenario}, seed {result.seed}, "
        f"{int(r['month'])} months{size}",
        programme_line(result),
        "",
        "Household empowerment stage at the end",
        f"  all households  {_fmt_shares(r, 'all')}",
        f"  poor households {_fmt_shares(r, 'poor')}",
        f"  women           {_fmt_shares(r, 'women')}",
        f"  forced pendayaan: {int(r['forced_count'])} households "
        f"({int(r['forced_poor_count'])} poor), "
        f"{r['forced_share_of_pendayaan']:.0%} of those in pendayaan",
        f"  participation: poor {r['participation_poor']:.1%}, "
        f"non-poor {r['participation_nonpoor']:.1%}",
        "",
    ]
    if city:
        return "\n".join(lines + city_lines(result) + economy_summary(result))
    lines.append("Programme cycle (gate: measured / target)")
    done = set()
    for ph in result.phases.itertuples():
        done.add(ph.phase)
        gate = (
            f"{ph.gate_value:.2f} / {ph.gate_target:.2f}"
            if ph.gate_value == ph.gate_value
            else "-"
        )
        end = "" if ph.end is None or ph.end != ph.end else f"-{int(ph.end)}"
        lines.append(
            f"  {ph.title:<34} months {int(ph.start)}{end:<4} {ph.status:<13} {gate}"
        )
    lines += [f"  {p.title:<34} not reached" for p in PHASES if p.key not in done]
    lines += [
        "",
        f"BKM: {'formed' if r['bkm_formed'] else 'not formed'}, stage "
        f"{INSTITUTIONAL[int(r['bkm_stage'])]}, locus of initiative {r['bkm_locus']:.2f}, "
        f"capacity {r['bkm_capacity']:.2f}, legitimacy {r['bkm_legitimacy']:.2f}, "
        f"women {r['bkm_women_share']:.0%}, elites {r['bkm_elite_share']:.0%}",
        f"Government support {r['gov_support']:.2f}; tendency index (primary share of "
        f"effort) {r['tendency_cumulative']:.2f}",
        "",
        *economy_summary(result),
    ]
    return "\n".join(lines)


def programme_line(result: RunResult) -> str:
    """When the programme ended and how long the run followed it (v2 stops after that)."""
    import numpy as np

    rec = result.records
    r = result.final
    p = result.params
    if not p.get("programme", True):
        return (
            "Programme: not run (programme = false): the same kelurahan and welfare "
            "shocks without P2KP"
        )
    active = rec.programme_active.to_numpy()
    off = np.flatnonzero(active[1:] == 0)
    if not off.size:
        return f"Programme: still running at month {int(r['month'])} (the months cap)"
    end = int(off[0]) + 1
    after = int(r["month"]) - end
    if result.kelurahan is None:
        status = result.phases.status.tolist()
        how = "withdrew (a gate not met in time)" if "waiting" in status else "finished"
        return f"Programme: {how} in month {end}; followed up for {after} months"
    return (
        f"Programme: ended in every kelurahan by month {end}; followed up for "
        f"{after} months"
    )


def city_lines(result: RunResult) -> list[str]:
    """Lines on a city's kelurahan: how their cycles ended, their BKMs, their spread."""
    from berdaya.model.cycle import PHASES

    k = result.kelurahan
    last = k[k.month == k.month.max()]
    n = len(last)
    phases = result.phases
    lines = [f"Programme cycle, phase by phase, in the {n} kelurahan"]
    for phase in PHASES:
        status = phases.loc[phases.phase == phase.key, "status"].value_counts()
        started = int(status.sum())
        parts = [f"{int(status.get(s, 0))} {s}" for s in ("met", "forced", "waiting")]
        parts.append(f"{n - started} not reached")
        lines.append(f"  {phase.title:<34} " + ", ".join(parts))
    stage = last.bkm_stage.round().astype(int)
    by_stage = ", ".join(
        f"{int((stage == i).sum())} {name}" for i, name in enumerate(INSTITUTIONAL)
    )
    r = result.final
    spread = last.pendayaan_poor
    lines += [
        "",
        f"BKMs: formed in {int(last.bkm_formed.sum())} of {n}; stage: {by_stage}; "
        f"mean locus of initiative {r['bkm_locus']:.2f}, capacity "
        f"{r['bkm_capacity']:.2f}, elites {r['bkm_elite_share']:.0%}",
        f"Government support {r['gov_support']:.2f}; tendency index (primary share of "
        f"effort) {r['tendency_cumulative']:.2f}",
        f"Poor households in pendayaan, across kelurahan: min {spread.min():.1%}, "
        f"median {spread.median():.1%}, max {spread.max():.1%}; lending frozen in "
        f"{int(last.lending_frozen.sum())} kelurahan",
        "",
    ]
    return lines


def _rp(x: float) -> str:
    return f"Rp {x / 1e6:,.1f} million"


def economy_summary(result: RunResult) -> list[str]:
    """Lines on KSMs, the grant, the revolving fund, targeting, capture and poverty."""
    from berdaya.agents.ksm import KSMStatus, KSMType
    from berdaya.model.registry import GROUPS

    r = result.final
    first = result.records.iloc[0]
    ksm = []
    for t in KSMType:
        parts = [
            f"{int(r[f'ksm_{t.name.lower()}_{s.name.lower()}'])} {s.name.lower().replace('_', ' ')}"
            for s in KSMStatus
        ]
        ksm.append(f"  {t.name.lower():<14} " + ", ".join(parts))
    if result.kelurahan is None:
        blm = (
            f"BLM: {int(r['tranches_received'])} of 3 tranches, "
            f"{_rp(r['grant_received'])}, {int(r['tranche_delay_months'])} months of "
            "delay waiting for LPJs"
        )
    else:
        blm = (
            f"BLM: {r['tranches_received']:.1f} of 3 tranches a kelurahan on average, "
            f"{_rp(r['grant_received'])} in all, {r['tranche_delay_months']:.1f} months "
            "of delay a kelurahan waiting for LPJs"
        )
    rates = "; ".join(
        f"{what} " + "/".join(f"{r[f'{b}_rate_{g}']:.0%}" for g in GROUPS)
        for b, what in (("loan", "loans"), ("works", "works"), ("aid", "aid"))
    )
    return [
        f"Poverty rate {first['poverty_rate']:.1%} at the start, "
        f"{r['poverty_rate']:.1%} at the end",
        f"  households poor at the start: mean welfare "
        f"{first['welfare_initially_poor']:.2f} -> {r['welfare_initially_poor']:.2f} "
        f"poverty lines, gap {first['poverty_gap_initially_poor']:.3f} -> "
        f"{r['poverty_gap_initially_poor']:.3f}, still poor "
        f"{r['poverty_rate_initially_poor']:.0%}",
        f"Beneficiaries ever (initially poor/non-poor/elite/women): {rates}",
        "KSMs by type and status",
        *ksm,
        f"  members {int(r['ksm_members'])}, of them poor {r['ksm_members_poor_share']:.0%}; "
        f"poor households in a KSM {r['ksm_poor_joined']:.0%}",
        blm,
        *_money_lines(r),
    ]


def _money_lines(r: pd.Series) -> list[str]:
    """Lines on the UPK's loans, targeting, and where the money went."""
    from berdaya.agents.upk import grade_par, grade_repayment

    gap = int(r["ledger_gap"])
    ledger = "balanced to the rupiah" if gap == 0 else f"OFF BY Rp {gap:,}"
    leaked = r["leaked"]
    paid_out = leaked + r["spent_works"] + r["spent_social"]
    return [
        f"UPK: {int(r['loans_made'])} loans, {_rp(r['lent_total'])} lent; repayment "
        f"{r['repayment_rate']:.0%} ({grade_repayment(r['repayment_rate'])}), portfolio "
        f"at risk {r['portfolio_at_risk']:.0%} ({grade_par(r['portfolio_at_risk'])})"
        + (", lending frozen" if r["lending_frozen"] == 1 else ""),
        f"  loans refused for want of cash {_rp(r['refused_demand'])}; borrowers "
        f"{r['loan_takeup']:.0%} of the households on the PS-2 list",
        f"Targeting: initially poor share of borrowers {r['loan_poor_share']:.0%}, of "
        f"works beneficiaries {r['works_poor_share']:.0%}, of aid recipients "
        f"{r['aid_poor_share']:.0%}; elite capture index "
        f"{r['elite_capture_index']:.2f} (1 = elites get their population share); "
        f"PS-2 list: {r['ps2_exclusion_error']:.0%} of the poor missing, "
        f"{r['ps2_inclusion_error']:.0%} of the listed not poor",
        f"Money: works {_rp(r['spent_works'])} ({int(r['works_built'])} built), "
        f"social aid {_rp(r['spent_social'])}, leaked {_rp(leaked)} "
        f"({leaked / paid_out if paid_out else 0.0:.0%} of works and aid), "
        f"outstanding {_rp(r['loans_outstanding'])}, fund cash {_rp(r['fund_cash'])}, "
        f"unspent {_rp(r['unspent_grant'])}, interest {_rp(r['interest_earned'])}, "
        f"written off {_rp(r['written_off'])}; ledger {ledger}",
    ]
